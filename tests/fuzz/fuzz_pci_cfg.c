// SPDX-License-Identifier: MIT
/*
 * libFuzzer target for PCI configuration space as a guest drives it:
 * arbitrary reads and writes through 0xCF8/0xCFC (bus numbers, bridge
 * windows, bridge control, the PCIe capability with the hotplug slot, MSI,
 * the card behind the port), interleaved with host hotplug requests (insert,
 * orderly and surprise removal), port resets and state round trips.
 * Nothing may crash, a save/load reloads the port's own record and saves
 * the same bytes again (also on a new machine's port at the end of each
 * input, a migration), and after every step the slot's invariants hold:
 * config space mirrors the state machine, only a present and powered card
 * is reachable, and a reachable card's mapped BARs lie in open windows.
 *
 * Input: a sequence of 8-byte operations
 *   op, bus, devfn, reg, value[4]
 * op % 16: 0-5 write (size 1/2/4 by op), 6-8 read, 9 insert (hot),
 * 10 orderly removal, 11 surprise removal, 12 port reset, 13 save/load,
 * 14 insert (cold, only into a fresh port), 15 MSI enable toggle.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_device_state.h"

#include "core/util.h"
#include "core/vm.h"
#include "pci/pci.h"
#include "pci/pci_host.h"
#include "pci/root_port.h"

struct kid {
	struct device dev;
	struct pci_dev pd;
	bool in;
};

static struct vm vm;
static struct pci_root_port *rp;
static struct kid kid;

static uint64_t bar_read(void *opaque, uint64_t off, unsigned size)
{
	return 0;
}

static void bar_write(void *opaque, uint64_t off, uint64_t val, unsigned size)
{
}

static const struct bus_ops bar_ops = { .read = bar_read, .write = bar_write };

static void kid_reset(struct device *dev)
{
	pci_host_lock(vm.pci);
	pci_dev_reset(&kid.pd);
	pci_host_unlock(vm.pci);
}

static void kid_nop(struct device *dev)
{
}

static const struct device_ops kid_ops = {
	.type = "kid", .reset = kid_reset, .destroy = kid_nop,
};

static void no_msi(struct pci_msi *m, uint64_t addr, uint32_t data)
{
}

static void ejected(struct pci_root_port *p, struct device *dev, void *opaque)
{
	if (dev != &kid.dev)
		abort();
	kid.in = false;
}

static void build(void)
{
	struct root_port_params p;

	memset(&vm, 0, sizeof(vm));
	vm.kvm_fd = vm.vm_fd = -1;
	pthread_mutex_init(&vm.lock, NULL);
	if (bus_init(&vm.pio, "pio") || bus_init(&vm.mmio, "mmio") ||
	    pci_host_create(&vm))
		abort();
	root_port_params_default(&p, "rp1");
	if (root_port_new(&vm, &p, &rp))
		abort();
	rp->msi.deliver = no_msi;
	memset(&kid, 0, sizeof(kid));
	kid.dev.ops = &kid_ops;
	pci_dev_init(&kid.pd, &vm, "kid", 0x8086, 0x100e, 0x020000, 0);
	pci_dev_set_intx_pin(&kid.pd, 1);
	if (pci_bar_init(&kid.pd, 0, PCI_BAR_MEM32, false, 0x20000, &bar_ops,
			 &kid, "mem") ||
	    pci_bar_init(&kid.pd, 1, PCI_BAR_IO, false, 64, &bar_ops, &kid,
			 "io") ||
	    pci_bar_init(&kid.pd, 2, PCI_BAR_MEM64, true, 0x4000, &bar_ops,
			 &kid, "mem64"))
		abort();
}

static void teardown(void)
{
	if (kid.pd.host)
		pci_host_remove(vm.pci, &kid.pd);
	vm.devices = NULL;
	pci_host_destroy(&vm);
	bus_destroy(&vm.pio);
	bus_destroy(&vm.mmio);
	pthread_mutex_destroy(&vm.lock);
}

static void check_bar(const struct pci_dev *pd, int i)
{
	const struct pci_bar *b = &pd->bars[i];
	struct pci_window w;
	bool in = false;

	if (!b->mapped)
		return;
	if (b->type == PCI_BAR_IO) {
		in = pci_bridge_io_window(&rp->br, &w) && b->addr >= w.base &&
		     b->addr + b->size - 1 <= w.limit;
	} else {
		in = (pci_bridge_mem_window(&rp->br, &w) &&
		      b->addr >= w.base && b->addr + b->size - 1 <= w.limit) ||
		     (pci_bridge_pref_window(&rp->br, &w) &&
		      b->addr >= w.base && b->addr + b->size - 1 <= w.limit);
	}
	if (!in)
		abort();
}

static void check(void)
{
	const struct pcie_slot *s = &rp->slot;
	const uint8_t *cfg = rp->pci.cfg;
	uint16_t sta = le_read(&cfg[rp->exp + PCI_EXP_SLTSTA], 2);
	uint16_t ctl = le_read(&cfg[rp->exp + PCI_EXP_SLTCTL], 2);
	uint16_t lnk = le_read(&cfg[rp->exp + PCI_EXP_LNKSTA], 2);

	if (sta != s->sta || ctl != s->ctl ||
	    !!(lnk & PCI_EXP_LNKSTA_DLLLA) != s->link_active ||
	    !!(sta & PCI_EXP_SLTSTA_PDS) != s->occupied ||
	    s->occupied != (rp->br.child != NULL) ||
	    s->occupied != kid.in ||
	    rp->br.child_on != pcie_slot_device_on(s) ||
	    (s->unplug_pending && !s->occupied) ||
	    (ctl & ~PCIE_SLOT_CTL_WMASK))
		abort();
	if (kid.in) {
		for (int i = 0; i < 3; i++)
			check_bar(&kid.pd, i);
	} else if (kid.pd.bars[0].mapped || kid.pd.bars[1].mapped ||
		   kid.pd.bars[2].mapped || pci_bus_master(&kid.pd)) {
		abort();
	}
}

static void cfg_cycle(unsigned bus, unsigned devfn, unsigned reg,
		      uint32_t val, unsigned size, bool write)
{
	uint32_t a = 0x80000000U | bus << 16 | devfn << 8 | (reg & 0xfc);
	uint8_t buf[4];

	pci_host_pio(vm.pci, 0xcf8, &a, 4, true);
	reg = (reg & 3) & ~(size - 1);
	le_write(buf, 4, val);
	pci_host_pio(vm.pci, 0xcfc + reg, buf, size, write);
}

static void insert(bool hotplug)
{
	if (kid.in)
		return;
	pci_host_lock(vm.pci);
	if (!root_port_insert(rp, &kid.pd, &kid.dev, hotplug, ejected, NULL))
		kid.in = true;
	pci_host_unlock(vm.pci);
}

/* The port's reload also leaves the card behind it as it was. */
static void round_trip(void)
{
	struct fuzz_pci_view kid_before;

	fuzz_pci_view_get(&kid.pd, &kid_before);
	fuzz_reload_pci_device(&rp->dev, &rp->pci);
	fuzz_pci_view_expect(&kid.pd, &kid_before);
}

static void step(const uint8_t *o)
{
	static const unsigned sizes[3] = { 1, 2, 4 };
	unsigned op = o[0] % 16;
	/* Mostly the port (bus 0) and the card (its secondary bus). */
	unsigned bus = o[1] & 0x80 ? o[1] & 3 : (o[1] & 1 ? 1 : 0);
	unsigned devfn = o[2] & 0x80 ? o[2] : (bus ? 0 : rp->pci.devfn);
	uint32_t val = le_read(o + 4, 4);

	pci_host_lock(vm.pci);
	switch (op) {
	case 0 ... 5:
		cfg_cycle(bus, devfn, o[3], val, sizes[op % 3], true);
		break;
	case 6 ... 8:
		cfg_cycle(bus, devfn, o[3], 0, sizes[op - 6], false);
		break;
	case 9:
		insert(true);
		break;
	case 10:
		root_port_request_removal(rp);
		break;
	case 11:
		root_port_eject(rp);
		break;
	case 12:
		rp->dev.ops->reset(&rp->dev);
		break;
	case 13:
		round_trip();
		break;
	case 14:
		if (!(rp->slot.ctl & PCI_EXP_SLTCTL_HPIE))
			insert(false);
		break;
	case 15:
		cfg_cycle(0, rp->pci.devfn, rp->msi.cap + PCI_MSI_FLAGS,
			  val & PCI_MSI_FLAGS_ENABLE, 2, true);
		break;
	}
	pci_host_unlock(vm.pci);
	check();
}

/*
 * The port's record goes to a new machine's port, with the card plugged
 * in there from the start when it was in here (as a destination is
 * started): it must take it, save the same bytes and show the guest the
 * same INTx line and BAR mappings.  Ends with no machine built.
 */
static void migrate(void)
{
	struct fuzz_pci_view was;
	bool card = kid.in;
	struct sbuf sb;

	fuzz_pci_view_get(&rp->pci, &was);
	fuzz_save(&rp->dev, &sb);
	teardown();
	build();
	if (card)
		insert(false);
	fuzz_load_expect_same(&rp->dev, &sb);
	fuzz_pci_view_expect(&rp->pci, &was);
	check();
	sbuf_free(&sb);
	teardown();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	build();
	for (size_t off = 0; off + 8 <= size && off < 8 * 4096; off += 8)
		step(data + off);
	migrate();
	return 0;
}
