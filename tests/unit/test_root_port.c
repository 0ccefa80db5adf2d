// SPDX-License-Identifier: MIT
/*
 * PCIe root port (src/pci/root_port.c, pci_bridge.c, msi.c) through real
 * configuration cycles on 0xCF8/0xCFC: the type 1 header, bus routing,
 * windows and BAR decoding behind the port, slot power, the hotplug MSI and
 * INTx, orderly and surprise removal as Linux's pciehp drives them, the
 * INTx swizzle, state round trip.  No KVM.
 */
#include <stdio.h>
#include <stdlib.h>

#include "helpers.h"

#include "core/util.h"
#include "pci/pci.h"
#include "pci/pci_host.h"
#include "pci/root_port.h"

#define EXP		0x40	/* where the PCIe capability lands */

struct bar_dev {
	unsigned reads, writes;
};

static uint64_t bar_read(void *opaque, uint64_t off, unsigned size)
{
	((struct bar_dev *)opaque)->reads++;
	return 0x11223344;
}

static void bar_write(void *opaque, uint64_t off, uint64_t val, unsigned size)
{
	((struct bar_dev *)opaque)->writes++;
}

static const struct bus_ops bar_ops = { .read = bar_read, .write = bar_write };

/* A card for the slot: I/O, 32-bit and 64-bit prefetchable BARs. */
struct kid {
	struct device dev;
	struct pci_dev pd;
	struct bar_dev io, mem, mem64;
	unsigned resets;
};

static void kid_reset(struct device *dev)
{
	struct kid *k = container_of(dev, struct kid, dev);

	k->resets++;
	pci_host_lock(k->pd.host);
	pci_dev_reset(&k->pd);
	pci_host_unlock(k->pd.host);
}

static void kid_nop(struct device *dev)
{
}

static const struct device_ops kid_ops = {
	.type = "kid", .reset = kid_reset, .destroy = kid_nop,
};

struct fixture {
	struct vm vm;
	struct pci_host *h;
	struct pci_root_port *rp;
	struct kid *kid;
	unsigned msis;
	uint64_t msi_addr;
	uint32_t msi_data;
	int rp_intx;
	struct device *ejected;
	unsigned ejects;
};

static struct fixture *g;

static void record_msi(struct pci_msi *m, uint64_t addr, uint32_t data)
{
	g->msis++;
	g->msi_addr = addr;
	g->msi_data = data;
}

static void record_intx(struct pci_dev *pd, bool level)
{
	g->rp_intx = level;
}

static void record_eject(struct pci_root_port *rp, struct device *dev,
			 void *opaque)
{
	g->ejected = dev;
	g->ejects++;
	assert_ptr_equal(opaque, g);
}

static struct kid *kid_new(void)
{
	struct kid *k = calloc(1, sizeof(*k));

	assert_non_null(k);
	k->dev.ops = &kid_ops;
	snprintf(k->dev.id, sizeof(k->dev.id), "kid");
	pci_dev_init(&k->pd, &g->vm, "kid", 0x8086, 0x100e, 0x020000, 3);
	pci_dev_set_intx_pin(&k->pd, 1);
	assert_int_equal(pci_bar_init(&k->pd, 0, PCI_BAR_MEM32, false, 0x20000,
				      &bar_ops, &k->mem, "mem"), 0);
	assert_int_equal(pci_bar_init(&k->pd, 1, PCI_BAR_IO, false, 64,
				      &bar_ops, &k->io, "io"), 0);
	assert_int_equal(pci_bar_init(&k->pd, 2, PCI_BAR_MEM64, true, 0x4000,
				      &bar_ops, &k->mem64, "mem64"), 0);
	return k;
}

/* ---- configuration mechanism #1 ---- */

static void cf8(unsigned bus, unsigned devfn, unsigned reg)
{
	uint32_t a = 0x80000000U | bus << 16 | devfn << 8 | (reg & 0xfc);

	assert_int_equal(pci_host_pio(g->h, 0xcf8, &a, 4, true), 0);
}

static uint32_t cfg_rd(unsigned bus, unsigned devfn, unsigned reg,
		       unsigned size)
{
	uint8_t buf[4] = { 0 };

	cf8(bus, devfn, reg);
	assert_int_equal(pci_host_pio(g->h, 0xcfc + (reg & 3), buf, size,
				      false), 0);
	return le_read(buf, size);
}

static void cfg_wr(unsigned bus, unsigned devfn, unsigned reg, uint32_t v,
		   unsigned size)
{
	uint8_t buf[4];

	le_write(buf, size, v);
	cf8(bus, devfn, reg);
	assert_int_equal(pci_host_pio(g->h, 0xcfc + (reg & 3), buf, size,
				      true), 0);
}

/* The root port's own registers, at its bus-0 devfn. */
static unsigned rpdf(void)
{
	return g->rp->pci.devfn;
}

static uint32_t rp_rd(unsigned reg, unsigned size)
{
	return cfg_rd(0, rpdf(), reg, size);
}

static void rp_wr(unsigned reg, uint32_t v, unsigned size)
{
	cfg_wr(0, rpdf(), reg, v, size);
}

static uint16_t sltsta(void)
{
	return rp_rd(EXP + PCI_EXP_SLTSTA, 2);
}

static uint16_t sltctl(void)
{
	return rp_rd(EXP + PCI_EXP_SLTCTL, 2);
}

/* pcie_write_cmd(): read-modify-write of Slot Control. */
static void write_cmd(uint16_t cmd, uint16_t mask)
{
	rp_wr(EXP + PCI_EXP_SLTCTL, (sltctl() & ~mask) | (cmd & mask), 2);
}

/* pciehp_isr() in MSI mode. */
static uint16_t isr(void)
{
	uint16_t seen = 0, st;

	while ((st = sltsta() & PCIE_SLOT_STA_EVENTS)) {
		seen |= st;
		rp_wr(EXP + PCI_EXP_SLTSTA, st, 2);
	}
	return seen;
}

static bool mapped(struct bus *bus, uint64_t addr)
{
	uint32_t v = 0;

	return bus_read(bus, addr, &v, 4) == 0;
}

static bool kid_visible(void)
{
	return cfg_rd(1, 0, PCI_VENDOR_ID, 4) == 0x100e8086;
}

/* Linux's probe + MSI setup: MSI on, notifications on, clean status. */
static void linux_port_setup(void)
{
	rp_wr(EXP + 0x3c + PCI_MSI_ADDRESS_LO, 0xfee00000, 4);
	rp_wr(EXP + 0x3c + PCI_MSI_ADDRESS_HI, 0, 4);
	rp_wr(EXP + 0x3c + PCI_MSI_DATA_64, 0x4041, 2);
	rp_wr(EXP + 0x3c + PCI_MSI_FLAGS, PCI_MSI_FLAGS_ENABLE, 2);
	rp_wr(EXP + PCI_EXP_SLTSTA, PCIE_SLOT_STA_EVENTS, 2);
	write_cmd(PCI_EXP_SLTCTL_DLLSCE | PCI_EXP_SLTCTL_ABPE |
		  PCI_EXP_SLTCTL_HPIE | PCI_EXP_SLTCTL_CCIE, 0x103f);
	isr();
	g->msis = 0;
}

static int setup(void **state)
{
	struct root_port_params p;

	g = calloc(1, sizeof(*g));
	assert_non_null(g);
	fake_vm_init(&g->vm);
	assert_int_equal(evloop_init(&g->vm.loop), 0);
	g->vm.loop_ready = true;
	assert_int_equal(pci_host_create(&g->vm), 0);
	g->h = g->vm.pci;
	root_port_params_default(&p, "rp1");
	p.slot = 3;
	assert_int_equal(root_port_new(&g->vm, &p, &g->rp), 0);
	g->rp->msi.deliver = record_msi;
	g->rp->pci.intx_hook = record_intx;
	g->kid = kid_new();
	*state = g;
	return 0;
}

static int teardown(void **state)
{
	if (g->kid->pd.host)
		pci_host_remove(g->h, &g->kid->pd);
	free(g->kid);
	fake_vm_destroy(&g->vm);
	pci_host_destroy(&g->vm);
	evloop_destroy(&g->vm.loop);
	free(g);
	return 0;
}

static void insert(bool hotplug)
{
	pci_host_lock(g->h);
	assert_int_equal(root_port_insert(g->rp, &g->kid->pd, &g->kid->dev,
					  hotplug, record_eject, g), 0);
	pci_host_unlock(g->h);
}

/* ---- header and capabilities ---- */

static void test_header(void **state)
{
	uint32_t w;

	assert_int_equal(rp_rd(PCI_VENDOR_ID, 4), 0x000c1b36);
	assert_int_equal(rp_rd(PCI_CLASS_REVISION, 4) >> 8, 0x060400);
	assert_int_equal(rp_rd(PCI_HEADER_TYPE, 1), PCI_HEADER_TYPE_BRIDGE);
	assert_int_equal(rp_rd(PCI_INTERRUPT_PIN, 1), 1);
	assert_int_equal(rp_rd(PCI_INTERRUPT_LINE, 1), PCI_INTX_GSI(3, 0));
	assert_int_equal(rp_rd(PCI_COMMAND, 2), PCI_COMMAND_IO |
			 PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
	assert_int_equal(rp_rd(PCI_PRIMARY_BUS, 4) & 0xffffff, 0x010100);
	/* Windows as firmware leaves them: I/O 0x1000-0x1fff, 2M + 2M. */
	assert_int_equal(rp_rd(PCI_IO_BASE, 2), 0x1010);
	w = rp_rd(PCI_MEMORY_BASE, 4);
	assert_int_equal(((w >> 16) - (w & 0xffff)) << 16, 0x100000);
	assert_int_equal(w & 0x1f, 0);
	w = rp_rd(PCI_PREF_MEMORY_BASE, 4);
	assert_int_equal(w & 0xf, PCI_PREF_RANGE_TYPE_64);
	assert_int_equal((((w >> 16) & 0xfff0) - (w & 0xfff0)) << 16,
			 0x100000);
	/* Read-only: BARs of the bridge, expansion ROM, low nibbles. */
	rp_wr(PCI_BASE_ADDRESS_0, 0xffffffff, 4);
	assert_int_equal(rp_rd(PCI_BASE_ADDRESS_0, 4), 0);
	rp_wr(PCI_ROM_ADDRESS1, 0xffffffff, 4);
	assert_int_equal(rp_rd(PCI_ROM_ADDRESS1, 4), 0);
	rp_wr(PCI_IO_BASE, 0xffff, 2);
	assert_int_equal(rp_rd(PCI_IO_BASE, 2), 0xf0f0);
	rp_wr(PCI_IO_BASE_UPPER16, 0xffffffff, 4);
	assert_int_equal(rp_rd(PCI_IO_BASE_UPPER16, 4), 0);
	/* Bridge control: parity, SERR, master abort, bus reset only. */
	rp_wr(PCI_BRIDGE_CONTROL, 0xffff, 2);
	assert_int_equal(rp_rd(PCI_BRIDGE_CONTROL, 2), 0x63);
	rp_wr(PCI_BRIDGE_CONTROL, 0, 2);
}

static void test_pcie_capability(void **state)
{
	uint32_t cap;

	assert_int_equal(rp_rd(PCI_CAPABILITY_LIST, 1), EXP);
	assert_int_equal(rp_rd(EXP, 1), PCI_CAP_ID_EXP);
	assert_int_equal(rp_rd(EXP + PCI_EXP_FLAGS, 2),
			 2 | PCI_EXP_TYPE_ROOT_PORT << 4 | PCI_EXP_FLAGS_SLOT);
	cap = rp_rd(EXP + PCI_EXP_SLTCAP, 4);
	assert_int_equal(cap & 0x7ffff, PCI_EXP_SLTCAP_ABP |
			 PCI_EXP_SLTCAP_PCP | PCI_EXP_SLTCAP_AIP |
			 PCI_EXP_SLTCAP_PIP | PCI_EXP_SLTCAP_HPS |
			 PCI_EXP_SLTCAP_HPC);
	assert_false(cap & (PCI_EXP_SLTCAP_MRLSP | PCI_EXP_SLTCAP_NCCS |
			    PCI_EXP_SLTCAP_EIP));
	assert_int_equal(cap >> 19, 1);		/* physical slot 1 */
	assert_true(rp_rd(EXP + PCI_EXP_LNKCAP, 4) & PCI_EXP_LNKCAP_DLLLARC);
	/* Empty slot: powered off, no presence, no link, width x1. */
	assert_true(sltctl() & PCI_EXP_SLTCTL_PCC);
	assert_false(sltsta() & PCI_EXP_SLTSTA_PDS);
	assert_false(rp_rd(EXP + PCI_EXP_LNKSTA, 2) & PCI_EXP_LNKSTA_DLLLA);
	assert_int_equal(rp_rd(EXP + PCI_EXP_LNKSTA, 2) & PCI_EXP_LNKSTA_NLW,
			 PCI_EXP_LNKSTA_NLW_X1);
	/* The MSI capability follows: 64-bit, one vector. */
	assert_int_equal(rp_rd(EXP + 1, 1), EXP + 0x3c);
	assert_int_equal(rp_rd(EXP + 0x3c, 1), PCI_CAP_ID_MSI);
	assert_int_equal(rp_rd(EXP + 0x3c + PCI_MSI_FLAGS, 2),
			 PCI_MSI_FLAGS_64BIT);
	/* Slot Control: only the defined bits stick. */
	rp_wr(EXP + PCI_EXP_SLTCTL, 0xffff, 2);
	assert_int_equal(sltctl(), PCIE_SLOT_CTL_WMASK);
}

/* ---- routing ---- */

static void test_routing(void **state)
{
	assert_int_equal(cfg_rd(1, 0, 0, 4), 0xffffffff);	/* empty */
	insert(false);
	assert_true(kid_visible());
	assert_int_equal(cfg_rd(1, PCI_DEVFN(1, 0), 0, 4), 0xffffffff);
	assert_int_equal(cfg_rd(1, PCI_DEVFN(0, 1), 0, 4), 0xffffffff);
	assert_int_equal(cfg_rd(2, 0, 0, 4), 0xffffffff);
	/* Writes reach it too. */
	cfg_wr(1, 0, PCI_INTERRUPT_LINE, 0x5a, 1);
	assert_int_equal(g->kid->pd.cfg[PCI_INTERRUPT_LINE], 0x5a);
	/* The guest renumbers: bus 5 now, bus 1 nothing. */
	rp_wr(PCI_SECONDARY_BUS, 0x0505, 2);
	assert_int_equal(cfg_rd(1, 0, 0, 4), 0xffffffff);
	assert_int_equal(cfg_rd(5, 0, 0, 4), 0x100e8086);
	/* Subordinate above secondary: claimed, nothing there. */
	rp_wr(PCI_SUBORDINATE_BUS, 9, 1);
	assert_int_equal(cfg_rd(7, 0, 0, 4), 0xffffffff);
	/* An unconfigured bridge (secondary 0) forwards nothing. */
	rp_wr(PCI_SECONDARY_BUS, 0, 1);
	assert_int_equal(cfg_rd(5, 0, 0, 4), 0xffffffff);
	assert_int_equal(rp_rd(PCI_VENDOR_ID, 2), 0x1b36);
}

static void test_two_ports(void **state)
{
	struct root_port_params p;
	struct pci_root_port *rp2;

	root_port_params_default(&p, "rp2");
	assert_int_equal(root_port_new(&g->vm, &p, &rp2), 0);
	assert_int_equal(rp2->pci.cfg[PCI_SECONDARY_BUS], 2);
	assert_int_equal(rp2->pci.cfg[PCI_IO_BASE], 0x20);
	assert_int_equal(rp2->psn, 2);
	assert_ptr_equal(root_port_find(&g->vm, "rp2"), rp2);
	assert_null(root_port_find(&g->vm, "nope"));
	/* No window of one overlaps the other's. */
	assert_int_not_equal(le_read(&rp2->pci.cfg[PCI_MEMORY_BASE], 2),
			     le_read(&g->rp->pci.cfg[PCI_MEMORY_BASE], 2));
}

/* ---- windows and decoding ---- */

static void test_cold_plug_bars_in_windows(void **state)
{
	struct pci_dev *pd = &g->kid->pd;
	struct pci_window io, mem, pref;
	uint64_t a;

	insert(false);
	assert_true(pci_bridge_io_window(&g->rp->br, &io));
	assert_true(pci_bridge_mem_window(&g->rp->br, &mem));
	assert_true(pci_bridge_pref_window(&g->rp->br, &pref));
	a = pci_bar_addr(pd, 0);
	assert_true(a >= mem.base && a + 0x20000 - 1 <= mem.limit);
	a = pci_bar_addr(pd, 1);
	assert_true(a >= io.base && a + 63 <= io.limit);
	a = pci_bar_addr(pd, 2);
	assert_true(a >= pref.base && a + 0x4000 - 1 <= pref.limit);
	/* Firmware left decoding on; INTx line swizzled. */
	assert_int_equal(pd->cfg[PCI_COMMAND] & 3, 3);
	assert_true(pd->bars[0].mapped && pd->bars[1].mapped &&
		    pd->bars[2].mapped);
	assert_true(mapped(&g->vm.mmio, pci_bar_addr(pd, 0)));
	assert_int_equal(pd->cfg[PCI_INTERRUPT_LINE], PCI_INTX_GSI(3, 0));
	assert_int_equal(pci_intx_gsi(pd, 2), PCI_INTX_GSI(3, 1));
	assert_true(pci_bus_master(pd) == false);	/* its own bit off */
}

static void test_window_changes_decoding(void **state)
{
	struct pci_dev *pd = &g->kid->pd;
	uint32_t memw;

	insert(false);
	memw = rp_rd(PCI_MEMORY_BASE, 4);
	/* Close the memory window: the 32-bit BAR goes dark. */
	rp_wr(PCI_MEMORY_BASE, 0x0000fff0, 4);
	assert_false(pd->bars[0].mapped);
	assert_true(pd->bars[2].mapped);	/* pref window still open */
	rp_wr(PCI_MEMORY_BASE, memw, 4);
	assert_true(pd->bars[0].mapped);
	/* The port stops decoding memory: all memory BARs go dark. */
	rp_wr(PCI_COMMAND, PCI_COMMAND_IO | PCI_COMMAND_MASTER, 2);
	assert_false(pd->bars[0].mapped || pd->bars[2].mapped);
	assert_true(pd->bars[1].mapped);
	rp_wr(PCI_COMMAND, PCI_COMMAND_IO | PCI_COMMAND_MEMORY |
	      PCI_COMMAND_MASTER, 2);
	assert_true(pd->bars[0].mapped && pd->bars[2].mapped);
	/* The guest moves a BAR outside every window: not decoded. */
	cfg_wr(1, 0, PCI_BASE_ADDRESS_0, 0xd0000000, 4);
	assert_false(pd->bars[0].mapped);
	/* I/O window closed: the I/O BAR goes dark. */
	rp_wr(PCI_IO_BASE, 0x00f0, 2);
	assert_false(pd->bars[1].mapped);
}

static void test_bus_master_through_port(void **state)
{
	struct pci_dev *pd = &g->kid->pd;

	insert(false);
	cfg_wr(1, 0, PCI_COMMAND, PCI_COMMAND_MASTER | PCI_COMMAND_MEMORY, 2);
	assert_true(pci_bus_master(pd));
	rp_wr(PCI_COMMAND, PCI_COMMAND_MEMORY, 2);
	assert_false(pci_bus_master(pd));
	rp_wr(PCI_COMMAND, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER, 2);
	assert_true(pci_bus_master(pd));
	assert_true(pci_dev_reachable(pd));
}

/* ---- hot plug ---- */

static void test_hot_add_powered_off_slot(void **state)
{
	struct pci_dev *pd = &g->kid->pd;

	linux_port_setup();
	insert(true);
	/* Present with link up, events raised, one message. */
	assert_int_equal(g->msis, 1);
	assert_int_equal(g->msi_addr, 0xfee00000);
	assert_int_equal(g->msi_data, 0x4041);
	assert_true(sltsta() & PCI_EXP_SLTSTA_PDS);
	assert_true(rp_rd(EXP + PCI_EXP_LNKSTA, 2) & PCI_EXP_LNKSTA_DLLLA);
	/* ...but unpowered: invisible, nothing mapped, no DMA. */
	assert_false(kid_visible());
	assert_false(pd->bars[0].mapped);
	assert_false(pci_bus_master(pd));
	assert_int_equal(isr(), PCI_EXP_SLTSTA_PDC | PCI_EXP_SLTSTA_DLLSC);
	/* Linux powers it on: visible, decoding off until enabled. */
	write_cmd(PCI_EXP_SLTCTL_PWR_ON, PCI_EXP_SLTCTL_PCC);
	assert_int_equal(g->msis, 2);	/* command completed */
	assert_true(kid_visible());
	assert_int_equal(cfg_rd(1, 0, PCI_COMMAND, 2), 0);
	assert_false(pd->bars[0].mapped);
	/* BARs are pre-assigned inside the windows: enabling maps them. */
	cfg_wr(1, 0, PCI_COMMAND, PCI_COMMAND_MEMORY | PCI_COMMAND_IO, 2);
	assert_true(pd->bars[0].mapped && pd->bars[1].mapped &&
		    pd->bars[2].mapped);
	assert_int_equal(isr(), PCI_EXP_SLTSTA_CC);
}

static void test_power_off_resets_card(void **state)
{
	struct pci_dev *pd = &g->kid->pd;

	insert(false);
	cfg_wr(1, 0, PCI_COMMAND, PCI_COMMAND_MASTER | PCI_COMMAND_MEMORY, 2);
	cfg_wr(1, 0, PCI_INTERRUPT_LINE, 0x33, 1);
	assert_true(pci_bus_master(pd));
	write_cmd(PCI_EXP_SLTCTL_PWR_OFF, PCI_EXP_SLTCTL_PCC);
	assert_int_equal(g->kid->resets, 1);
	assert_false(kid_visible());
	assert_false(pci_bus_master(pd));
	assert_false(pd->bars[0].mapped);
	assert_int_equal(g->ejects, 0);
	/* Back on: as built (firmware image), mapped again. */
	write_cmd(PCI_EXP_SLTCTL_PWR_ON, PCI_EXP_SLTCTL_PCC);
	assert_true(kid_visible());
	assert_int_not_equal(cfg_rd(1, 0, PCI_INTERRUPT_LINE, 1), 0x33);
	assert_true(pd->bars[0].mapped);
	assert_int_equal(g->kid->resets, 1);
}

static void test_link_disable_resets_card(void **state)
{
	insert(false);
	rp_wr(EXP + PCI_EXP_LNKCTL, PCI_EXP_LNKCTL_LD, 2);
	assert_false(rp_rd(EXP + PCI_EXP_LNKSTA, 2) & PCI_EXP_LNKSTA_DLLLA);
	assert_false(kid_visible());
	assert_int_equal(g->kid->resets, 1);
	/* Linux's pciehp_link_enable() at power-on: back again. */
	rp_wr(EXP + PCI_EXP_LNKCTL, 0, 2);
	assert_true(rp_rd(EXP + PCI_EXP_LNKSTA, 2) & PCI_EXP_LNKSTA_DLLLA);
	assert_true(kid_visible());
	assert_true(sltsta() & PCI_EXP_SLTSTA_DLLSC);
}

static void test_secondary_bus_reset(void **state)
{
	insert(false);
	rp_wr(PCI_BRIDGE_CONTROL, PCI_BRIDGE_CTL_BUS_RESET, 2);
	assert_int_equal(g->kid->resets, 1);
	rp_wr(PCI_BRIDGE_CONTROL, PCI_BRIDGE_CTL_BUS_RESET, 2);
	assert_int_equal(g->kid->resets, 1);	/* held, not a new edge */
	rp_wr(PCI_BRIDGE_CONTROL, 0, 2);
	rp_wr(PCI_BRIDGE_CONTROL, PCI_BRIDGE_CTL_BUS_RESET, 2);
	assert_int_equal(g->kid->resets, 2);
}

static void test_orderly_removal(void **state)
{
	insert(false);
	linux_port_setup();
	pci_host_lock(g->h);
	assert_int_equal(root_port_request_removal(g->rp), 0);
	assert_int_equal(root_port_request_removal(g->rp), -EBUSY);
	pci_host_unlock(g->h);
	assert_int_equal(g->msis, 1);
	assert_int_equal(isr(), PCI_EXP_SLTSTA_ABP);
	write_cmd(PCI_EXP_SLTCTL_PWR_IND_BLINK | PCI_EXP_SLTCTL_ATTN_IND_OFF,
		  PCI_EXP_SLTCTL_PIC | PCI_EXP_SLTCTL_AIC);
	isr();
	assert_int_equal(g->ejects, 0);
	assert_true(kid_visible());
	/* The guest powers off: the card leaves, the owner is told. */
	write_cmd(PCI_EXP_SLTCTL_PWR_OFF, PCI_EXP_SLTCTL_PCC);
	assert_int_equal(g->ejects, 1);
	assert_ptr_equal(g->ejected, &g->kid->dev);
	assert_int_equal(g->kid->resets, 0);
	assert_false(kid_visible());
	assert_false(g->kid->pd.bars[0].mapped);
	assert_false(pci_dev_reachable(&g->kid->pd));
	assert_false(root_port_occupied(g->rp));
	assert_null(g->rp->child_dev);
	assert_int_equal(isr(), PCI_EXP_SLTSTA_CC | PCI_EXP_SLTSTA_PDC |
			 PCI_EXP_SLTSTA_DLLSC);
	assert_false(rp_rd(EXP + PCI_EXP_LNKSTA, 2) & PCI_EXP_LNKSTA_DLLLA);
	/* The slot takes a new card. */
	insert(true);
	assert_true(root_port_occupied(g->rp));
}

static void test_surprise_removal(void **state)
{
	insert(false);
	linux_port_setup();
	pci_host_lock(g->h);
	assert_int_equal(root_port_eject(g->rp), 0);
	assert_int_equal(root_port_eject(g->rp), -ENODEV);
	pci_host_unlock(g->h);
	assert_int_equal(g->ejects, 1);
	assert_int_equal(g->msis, 1);
	assert_false(kid_visible());
	assert_int_equal(isr(), PCI_EXP_SLTSTA_PDC | PCI_EXP_SLTSTA_DLLSC);
	write_cmd(PCI_EXP_SLTCTL_PWR_OFF, PCI_EXP_SLTCTL_PCC);
	assert_int_equal(g->ejects, 1);
}

static void test_dword_write_clears_then_commands(void **state)
{
	linux_port_setup();
	write_cmd(0, 0);
	assert_true(sltsta() & PCI_EXP_SLTSTA_CC);
	/* One dword: Slot Control (a command) + W1C of the old CC. */
	rp_wr(EXP + PCI_EXP_SLTCTL, (uint32_t)PCI_EXP_SLTSTA_CC << 16 |
	      sltctl(), 4);
	/* The old CC was cleared, the new command set it again. */
	assert_true(sltsta() & PCI_EXP_SLTSTA_CC);
	/* Byte writes to Slot Control are commands too. */
	isr();
	rp_wr(EXP + PCI_EXP_SLTCTL + 1, sltctl() >> 8, 1);
	assert_true(sltsta() & PCI_EXP_SLTSTA_CC);
}

static void test_intx_when_msi_off(void **state)
{
	/* No MSI: the condition drives INTA, level-triggered. */
	write_cmd(PCI_EXP_SLTCTL_HPIE | PCI_EXP_SLTCTL_DLLSCE, 0x103f);
	assert_int_equal(g->rp_intx, 0);
	insert(true);
	assert_int_equal(g->rp_intx, 1);
	assert_int_equal(g->msis, 0);
	rp_wr(EXP + PCI_EXP_SLTSTA, PCI_EXP_SLTSTA_DLLSC, 2);
	assert_int_equal(g->rp_intx, 0);
	/* MSI enabled while a condition is true: a message, INTx quiet. */
	write_cmd(PCI_EXP_SLTCTL_PDCE, PCI_EXP_SLTCTL_PDCE);
	assert_int_equal(g->rp_intx, 1);
	rp_wr(EXP + 0x3c + PCI_MSI_FLAGS, PCI_MSI_FLAGS_ENABLE, 2);
	assert_int_equal(g->msis, 1);
	assert_int_equal(g->rp_intx, 0);
}

static int kid_line = -1;

static void kid_intx(struct pci_dev *pd, bool level)
{
	kid_line = level;
}

static void test_card_intx_follows_reach(void **state)
{
	struct pci_dev *pd = &g->kid->pd;

	pd->intx_hook = kid_intx;
	insert(true);			/* into the powered-off slot */
	pci_set_irq(pd, true);
	assert_int_equal(kid_line, -1);	/* out of reach: quiet */
	write_cmd(PCI_EXP_SLTCTL_PWR_ON, PCI_EXP_SLTCTL_PCC);
	assert_int_equal(kid_line, 1);
	/* Leaving the slot drops its line even if the model still asks. */
	pci_host_lock(g->h);
	assert_int_equal(root_port_eject(g->rp), 0);
	pci_host_unlock(g->h);
	assert_int_equal(kid_line, 0);
	assert_true(pd->intx_level);
	pci_set_irq(pd, true);
	assert_int_equal(kid_line, 0);
}

/* ---- state ---- */

static void test_state_round_trip(void **state)
{
	struct sbuf b = { 0 };
	struct sreader r;
	uint8_t cfg[PCI_CFG_SIZE];
	char err[160];

	linux_port_setup();
	insert(true);
	write_cmd(PCI_EXP_SLTCTL_PWR_ON, PCI_EXP_SLTCTL_PCC);
	memcpy(cfg, g->rp->pci.cfg, sizeof(cfg));
	assert_int_equal(g->rp->dev.ops->save(&g->rp->dev, &b), 0);
	/* Scramble, then load: back to the saved image. */
	isr();
	write_cmd(PCI_EXP_SLTCTL_PWR_OFF, PCI_EXP_SLTCTL_PCC);
	r = (struct sreader){ b.data, b.len, 0 };
	assert_int_equal(g->rp->dev.ops->load(&g->rp->dev, &r, err,
					      sizeof(err)), 0);
	assert_memory_equal(g->rp->pci.cfg, cfg, sizeof(cfg));
	assert_true(kid_visible());
	/* A stream whose slot is occupied does not fit an empty slot. */
	pci_host_lock(g->h);
	assert_int_equal(root_port_eject(g->rp), 0);
	pci_host_unlock(g->h);
	r = (struct sreader){ b.data, b.len, 0 };
	assert_int_equal(g->rp->dev.ops->load(&g->rp->dev, &r, err,
					      sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "occupied in the stream"));
	/* Truncated: refused. */
	r = (struct sreader){ b.data, b.len - 1, 0 };
	assert_int_not_equal(g->rp->dev.ops->load(&g->rp->dev, &r, err,
						  sizeof(err)), 0);
	sbuf_free(&b);
}

static void test_reset_keeps_card(void **state)
{
	insert(false);
	linux_port_setup();
	write_cmd(PCI_EXP_SLTCTL_PWR_OFF, PCI_EXP_SLTCTL_PCC);
	rp_wr(PCI_SECONDARY_BUS, 7, 1);
	g->rp->dev.ops->reset(&g->rp->dev);
	/* Firmware numbering, slot powered with its card, no events. */
	assert_int_equal(rp_rd(PCI_SECONDARY_BUS, 1), 1);
	assert_true(kid_visible());
	assert_int_equal(sltsta() & PCIE_SLOT_STA_EVENTS, 0);
	assert_false(sltctl() & PCI_EXP_SLTCTL_HPIE);
	/* A removal waiting for power-off completes on reset. */
	pci_host_lock(g->h);
	assert_int_equal(root_port_request_removal(g->rp), 0);
	pci_host_unlock(g->h);
	g->rp->dev.ops->reset(&g->rp->dev);
	assert_int_equal(g->ejects, 1);
	assert_false(root_port_occupied(g->rp));
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_header),
		T(test_pcie_capability),
		T(test_routing),
		T(test_two_ports),
		T(test_cold_plug_bars_in_windows),
		T(test_window_changes_decoding),
		T(test_bus_master_through_port),
		T(test_hot_add_powered_off_slot),
		T(test_power_off_resets_card),
		T(test_link_disable_resets_card),
		T(test_secondary_bus_reset),
		T(test_orderly_removal),
		T(test_surprise_removal),
		T(test_dword_write_clears_then_commands),
		T(test_intx_when_msi_off),
		T(test_card_intx_follows_reach),
		T(test_state_round_trip),
		T(test_reset_keeps_card),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
