// SPDX-License-Identifier: MIT
/*
 * PCI configuration space model: masks, capabilities, BARs and INTx.
 * Bus-independent; the host bridge (pci_host.c) routes cycles here.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/irq.h"
#include "core/log.h"
#include "core/util.h"
#include "core/vm.h"
#include "pci/msix.h"
#include "pci/pci.h"
#include "pci/pci_host.h"
#include "pci/pci_bridge.h"

/* Command bits a guest may change: I/O, memory, master, parity, SERR, INTx. */
#define PCI_CMD_WMASK	(PCI_COMMAND_IO | PCI_COMMAND_MEMORY |		\
			 PCI_COMMAND_MASTER | PCI_COMMAND_PARITY |	\
			 PCI_COMMAND_SERR | PCI_COMMAND_INTX_DISABLE)
/* Status error bits are write-1-to-clear. */
#define PCI_STATUS_W1C	(PCI_STATUS_PARITY | PCI_STATUS_SIG_TARGET_ABORT | \
			 PCI_STATUS_REC_TARGET_ABORT |			\
			 PCI_STATUS_REC_MASTER_ABORT |			\
			 PCI_STATUS_SIG_SYSTEM_ERROR |			\
			 PCI_STATUS_DETECTED_PARITY)

void pci_set_reg(struct pci_dev *pd, unsigned off, unsigned size,
		 uint32_t val, uint32_t wmask, uint32_t w1cmask)
{
	le_write(&pd->cfg[off], size, val);
	le_write(&pd->wmask[off], size, wmask);
	le_write(&pd->w1cmask[off], size, w1cmask);
}

uint32_t pci_get_reg(const struct pci_dev *pd, unsigned off, unsigned size)
{
	return le_read(&pd->cfg[off], size);
}

void pci_dev_init(struct pci_dev *pd, struct vm *vm, const char *name,
		  uint16_t vendor, uint16_t device, uint32_t class_code,
		  uint8_t revision)
{
	memset(pd, 0, sizeof(*pd));
	pd->vm = vm;
	snprintf(pd->name, sizeof(pd->name), "%s", name);
	pd->cfg_size = PCI_CFG_SPACE_SIZE;
	pd->cap_next = PCI_CAP_START;
	pthread_mutex_init(&pd->intx_lock, NULL);

	pci_set_reg(pd, PCI_VENDOR_ID, 2, vendor, 0, 0);
	pci_set_reg(pd, PCI_DEVICE_ID, 2, device, 0, 0);
	pci_set_reg(pd, PCI_COMMAND, 2, 0, PCI_CMD_WMASK, 0);
	pci_set_reg(pd, PCI_STATUS, 2, 0, 0, PCI_STATUS_W1C);
	pci_set_reg(pd, PCI_REVISION_ID, 1, revision, 0, 0);
	pci_set_reg(pd, PCI_CLASS_PROG, 3, class_code, 0, 0);
	pci_set_reg(pd, PCI_CACHE_LINE_SIZE, 1, 0, 0xff, 0);
	pci_set_reg(pd, PCI_LATENCY_TIMER, 1, 0, 0xff, 0);
	pci_set_reg(pd, PCI_HEADER_TYPE, 1, PCI_HEADER_TYPE_NORMAL, 0, 0);
	pci_set_reg(pd, PCI_INTERRUPT_LINE, 1, 0, 0xff, 0);
}

void pci_dev_set_subsystem(struct pci_dev *pd, uint16_t vendor, uint16_t id)
{
	pci_set_reg(pd, PCI_SUBSYSTEM_VENDOR_ID, 2, vendor, 0, 0);
	pci_set_reg(pd, PCI_SUBSYSTEM_ID, 2, id, 0, 0);
}

void pci_dev_set_intx_pin(struct pci_dev *pd, unsigned pin)
{
	pci_set_reg(pd, PCI_INTERRUPT_PIN, 1, pin, 0, 0);
}

static bool is_pow2(uint64_t v)
{
	return v && !(v & (v - 1));
}

int pci_bar_init(struct pci_dev *pd, int bar, enum pci_bar_type type,
		 bool prefetch, uint64_t size, const struct bus_ops *ops,
		 void *opaque, const char *name)
{
	unsigned off = PCI_BASE_ADDRESS_0 + 4 * bar;
	uint64_t mask = ~(size - 1);
	uint32_t flags;

	if (bar < 0 || bar >= PCI_NR_BARS || !is_pow2(size) ||
	    pd->bars[bar].type != PCI_BAR_UNUSED)
		return -EINVAL;
	switch (type) {
	case PCI_BAR_IO:
		if (size < 4 || size > 256)
			return -EINVAL;
		pci_set_reg(pd, off, 4, PCI_BASE_ADDRESS_SPACE_IO,
			    (uint32_t)mask & PCI_BASE_ADDRESS_IO_MASK, 0);
		break;
	case PCI_BAR_MEM32:
		if (size < 16 || size > 1ULL << 31)
			return -EINVAL;
		flags = prefetch ? PCI_BASE_ADDRESS_MEM_PREFETCH : 0;
		pci_set_reg(pd, off, 4, flags,
			    (uint32_t)mask & PCI_BASE_ADDRESS_MEM_MASK, 0);
		break;
	case PCI_BAR_MEM64:
		if (size < 16 || bar == PCI_NR_BARS - 1 ||
		    pd->bars[bar + 1].type != PCI_BAR_UNUSED)
			return -EINVAL;
		flags = PCI_BASE_ADDRESS_MEM_TYPE_64 |
			(prefetch ? PCI_BASE_ADDRESS_MEM_PREFETCH : 0);
		pci_set_reg(pd, off, 4, flags,
			    (uint32_t)mask & PCI_BASE_ADDRESS_MEM_MASK, 0);
		pci_set_reg(pd, off + 4, 4, 0, mask >> 32, 0);
		break;
	default:
		return -EINVAL;
	}
	pd->bars[bar] = (struct pci_bar){
		.type = type, .prefetch = prefetch, .size = size, .ops = ops,
		.opaque = opaque, .name = name,
	};
	return 0;
}

int pci_cap_add(struct pci_dev *pd, uint8_t id, unsigned len)
{
	unsigned off = ALIGN_UP(pd->cap_next, 4);

	if (len < 2 || off + len > PCI_CFG_SPACE_SIZE)
		return -ENOSPC;
	pci_set_reg(pd, off, 1, id, 0, 0);
	pci_set_reg(pd, off + 1, 1, 0, 0, 0);
	if (pd->cap_last)
		pd->cfg[pd->cap_last + 1] = off;
	else
		pd->cfg[PCI_CAPABILITY_LIST] = off;
	pd->cfg[PCI_STATUS] |= PCI_STATUS_CAP_LIST;
	pd->cap_last = off;
	pd->cap_next = off + len;
	return off;
}

unsigned pci_cap_find(const struct pci_dev *pd, uint8_t id)
{
	unsigned off = pd->cfg[PCI_CAPABILITY_LIST];
	int guard = 64;	/* the list is ours, but never trust a loop */

	while (off && guard--) {
		if (pd->cfg[off] == id)
			return off;
		off = pd->cfg[off + 1];
	}
	return 0;
}

/* ---- BARs ---- */

uint64_t pci_bar_addr(const struct pci_dev *pd, int bar)
{
	const struct pci_bar *b = &pd->bars[bar];
	unsigned off = PCI_BASE_ADDRESS_0 + 4 * bar;
	uint64_t lo = pci_get_reg(pd, off, 4);

	switch (b->type) {
	case PCI_BAR_IO:
		return lo & PCI_BASE_ADDRESS_IO_MASK;
	case PCI_BAR_MEM32:
		return lo & PCI_BASE_ADDRESS_MEM_MASK;
	case PCI_BAR_MEM64:
		return (lo & PCI_BASE_ADDRESS_MEM_MASK) |
		       (uint64_t)pci_get_reg(pd, off + 4, 4) << 32;
	default:
		return 0;
	}
}

/* Whether the BAR should decode, given the command register and address. */
static bool pci_bar_decodes(const struct pci_dev *pd, int bar, uint64_t addr)
{
	const struct pci_bar *b = &pd->bars[bar];
	uint16_t cmd = pci_get_reg(pd, PCI_COMMAND, 2);
	uint64_t limit;

	if (b->type == PCI_BAR_IO) {
		if (!(cmd & PCI_COMMAND_IO))
			return false;
		limit = PCI_IOPORT_END;
	} else {
		if (!(cmd & PCI_COMMAND_MEMORY))
			return false;
		limit = b->type == PCI_BAR_MEM32 ? GM_4G : 1ULL << 52;
	}
	/* Address 0 is "unassigned"; a BAR must not wrap past its space. */
	if (!addr || addr >= limit || b->size > limit - addr)
		return false;
	/* Behind a bridge: only inside its windows, only while powered. */
	return !pd->parent ||
	       pci_bridge_forwards(pd->parent->bridge, pd, b->type, addr,
				   b->size);
}

static struct bus *pci_bar_bus(struct pci_dev *pd, int bar)
{
	return pd->bars[bar].type == PCI_BAR_IO ? &pd->vm->pio : &pd->vm->mmio;
}

static void pci_bar_unmap(struct pci_dev *pd, int bar)
{
	struct pci_bar *b = &pd->bars[bar];

	if (!b->mapped)
		return;
	bus_unregister(pci_bar_bus(pd, bar), b->addr, b->opaque);
	b->mapped = false;
	if (pd->ops && pd->ops->bar_moved)
		pd->ops->bar_moved(pd, bar, false, 0);
}

static void pci_bar_map(struct pci_dev *pd, int bar, uint64_t addr)
{
	struct pci_bar *b = &pd->bars[bar];
	int ret;

	ret = bus_register(pci_bar_bus(pd, bar), addr, b->size, b->ops,
			   b->opaque, b->name ? b->name : pd->name);
	if (ret) {
		/* The guest put it on top of something: it stays dark. */
		pr_guest("pci %s: BAR%d at 0x%llx (size 0x%llx) not mapped: %s",
			 pd->name, bar, (unsigned long long)addr,
			 (unsigned long long)b->size, strerror(-ret));
		return;
	}
	b->mapped = true;
	b->addr = addr;
	if (pd->ops && pd->ops->bar_moved)
		pd->ops->bar_moved(pd, bar, true, addr);
}

/* Would BAR i, at addr[i], sit on a lower-numbered BAR of the device? */
static bool pci_bar_under_lower(const struct pci_dev *pd, int i,
				const bool *on, const uint64_t *addr)
{
	const struct pci_bar *b = &pd->bars[i];

	for (int j = 0; j < i; j++) {
		const struct pci_bar *o = &pd->bars[j];

		if (on[j] && (o->type == PCI_BAR_IO) == (b->type == PCI_BAR_IO) &&
		    addr[j] < addr[i] + b->size && addr[i] < addr[j] + o->size)
			return true;
	}
	return false;
}

void pci_dev_location(const struct pci_dev *pd, char *buf, size_t len)
{
	if (!pd->host)
		snprintf(buf, len, "unplugged");
	else if (pd->parent)
		snprintf(buf, len, "%s/%02x.%x", pd->parent->name,
			 PCI_SLOT(pd->devfn), PCI_FUNC(pd->devfn));
	else
		snprintf(buf, len, "00:%02x.%x", PCI_SLOT(pd->devfn),
			 PCI_FUNC(pd->devfn));
}

void pci_unmap_bars(struct pci_dev *pd)
{
	for (int i = 0; i < PCI_NR_BARS; i++)
		pci_bar_unmap(pd, i);
}

/*
 * What is mapped follows config space, not the order of the guest's
 * writes, so a migration destination that loads the same bytes maps the
 * same BARs: every unmap comes before any map (a BAR that moves away frees
 * its range for one waiting on it in the same pass), and of two BARs of
 * the device that the guest put on top of each other the lower-numbered
 * one answers.  Overlaps with other devices' BARs, guest errors too, stay
 * with whoever was there first.
 */
void pci_update_bars(struct pci_dev *pd)
{
	bool on[PCI_NR_BARS];
	uint64_t addr[PCI_NR_BARS];

	if (pd->host && pd->host->bars_deferred) {
		pci_unmap_bars(pd);	/* mapped by pci_host's load_end */
		return;
	}
	for (int i = 0; i < PCI_NR_BARS; i++) {
		on[i] = false;
		if (pd->bars[i].type == PCI_BAR_UNUSED)
			continue;
		addr[i] = pci_bar_addr(pd, i);
		on[i] = pci_bar_decodes(pd, i, addr[i]);
	}
	for (int i = 0; i < PCI_NR_BARS; i++) {
		struct pci_bar *b = &pd->bars[i];

		if (b->mapped && (!on[i] || b->addr != addr[i] ||
				  pci_bar_under_lower(pd, i, on, addr)))
			pci_bar_unmap(pd, i);
	}
	for (int i = 0; i < PCI_NR_BARS; i++)
		if (on[i] && !pd->bars[i].mapped)
			pci_bar_map(pd, i, addr[i]);
}

/* ---- INTx ---- */

/*
 * With pd->intx_lock held: push the effective line state out.  INTx is
 * silent while disabled in the command register, while MSI-X is on, and
 * while the device is out of reach (its slot powered off or left).
 */
static void pci_intx_sync(struct pci_dev *pd)
{
	uint16_t cmd = pci_get_reg(pd, PCI_COMMAND, 2);
	bool want = pd->intx_level && !(cmd & PCI_COMMAND_INTX_DISABLE) &&
		    !msix_enabled(pd->msix) && pci_dev_reachable(pd);

	if (want == pd->intx_asserted)
		return;
	pd->intx_asserted = want;
	if (pd->intx_hook)
		pd->intx_hook(pd, want);
	else if (pd->host)
		pci_host_intx_update(pd, want);
}

void pci_set_irq(struct pci_dev *pd, bool level)
{
	pthread_mutex_lock(&pd->intx_lock);
	pd->intx_level = level;
	/* Status bit 3 shows the device's request even when disabled. */
	if (level)
		__atomic_fetch_or(&pd->cfg[PCI_STATUS], PCI_STATUS_INTERRUPT,
				  __ATOMIC_RELAXED);
	else
		__atomic_fetch_and(&pd->cfg[PCI_STATUS],
				   (uint8_t)~PCI_STATUS_INTERRUPT,
				   __ATOMIC_RELAXED);
	pci_intx_sync(pd);
	pthread_mutex_unlock(&pd->intx_lock);
}

static bool pci_master_bit(const struct pci_dev *pd)
{
	return __atomic_load_n(&pd->cfg[PCI_COMMAND], __ATOMIC_RELAXED) &
	       PCI_COMMAND_MASTER;
}

bool pci_dev_reachable(const struct pci_dev *pd)
{
	const struct pci_bridge *br;

	for (; pd->parent; pd = pd->parent) {
		br = pd->parent->bridge;
		if (__atomic_load_n(&br->child, __ATOMIC_ACQUIRE) != pd ||
		    !__atomic_load_n(&br->child_on, __ATOMIC_ACQUIRE))
			return false;
	}
	return true;
}

void pci_intx_resync(struct pci_dev *pd)
{
	pthread_mutex_lock(&pd->intx_lock);
	pci_intx_sync(pd);
	pthread_mutex_unlock(&pd->intx_lock);
}

bool pci_bus_master(const struct pci_dev *pd)
{
	if (!pci_dev_reachable(pd))
		return false;
	/* DMA and MSI go upstream through every bridge on the way. */
	for (; pd; pd = pd->parent)
		if (!pci_master_bit(pd))
			return false;
	return true;
}

unsigned pci_intx_gsi(const struct pci_dev *pd, unsigned pin)
{
	unsigned p = pin - 1;

	/* PCI-to-PCI bridge spec: pin' = (pin + device number) mod 4. */
	for (; pd->parent; pd = pd->parent)
		p = (p + PCI_SLOT(pd->devfn)) & 3;
	return PCI_INTX_GSI(PCI_SLOT(pd->devfn), p);
}

/* ---- configuration cycles ---- */

uint32_t pci_cfg_read(struct pci_dev *pd, unsigned off, unsigned size)
{
	if (size > 4 || off >= pd->cfg_size || size > pd->cfg_size - off)
		return ~0U;
	if (pd->ops && pd->ops->config_read)
		pd->ops->config_read(pd, off, size);
	return le_read(&pd->cfg[off], size);
}

void pci_cfg_write(struct pci_dev *pd, unsigned off, uint32_t val,
		   unsigned size)
{
	unsigned msix_cap = pd->msix ? pci_cap_find(pd, PCI_CAP_ID_MSIX) : 0;

	if (size > 4 || off >= pd->cfg_size || size > pd->cfg_size - off)
		return;
	for (unsigned i = 0; i < size; i++) {
		unsigned o = off + i;
		uint8_t b = val >> (8 * i), wm = pd->wmask[o];
		uint8_t w1c = pd->w1cmask[o], v;

		/*
		 * Bytes with nothing writable are not stored back at all: the
		 * device may update them concurrently (interrupt status).
		 */
		if (!(wm | w1c))
			continue;
		v = __atomic_load_n(&pd->cfg[o], __ATOMIC_RELAXED);
		v = (v & ~wm) | (b & wm);
		v &= ~(b & w1c);
		__atomic_store_n(&pd->cfg[o], v, __ATOMIC_RELAXED);
	}
	if (pci_cfg_touches(off, size, PCI_COMMAND, 2) ||
	    pci_cfg_touches(off, size, PCI_BASE_ADDRESS_0, 4 * PCI_NR_BARS))
		pci_update_bars(pd);
	if (msix_cap && pci_cfg_touches(off, size, msix_cap, MSIX_CAP_LEN))
		msix_config_changed(pd->msix);
	if (pci_cfg_touches(off, size, PCI_COMMAND + 1, 1) ||
	    (msix_cap && pci_cfg_touches(off, size, msix_cap, MSIX_CAP_LEN))) {
		pthread_mutex_lock(&pd->intx_lock);
		pci_intx_sync(pd);
		pthread_mutex_unlock(&pd->intx_lock);
	}
	if (pd->ops && pd->ops->config_write)
		pd->ops->config_write(pd, off, size);
}

void pci_dev_reset(struct pci_dev *pd)
{
	memcpy(pd->cfg, pd->cfg_reset, sizeof(pd->cfg));
	pci_update_bars(pd);
	pci_set_irq(pd, false);
	if (pd->msix)
		msix_reset(pd->msix);
}

/* ---- state ---- */

struct pci_dev_state {
	uint8_t cfg[PCI_CFG_SIZE];
	uint8_t intx_level;
};

static const struct state_field pci_dev_fields[] = {
	STATE_BYTES(struct pci_dev_state, cfg),
	STATE_INT(struct pci_dev_state, intx_level),
};

static const struct state_desc pci_dev_desc =
	STATE_DESC("pci-dev", 1, pci_dev_fields);

int pci_dev_save(struct pci_dev *pd, struct sbuf *out)
{
	struct pci_dev_state *s = malloc(sizeof(*s));
	int ret;

	if (!s)
		return -ENOMEM;
	memcpy(s->cfg, pd->cfg, sizeof(s->cfg));
	s->intx_level = pd->intx_level;
	ret = state_save(&pci_dev_desc, s, out);
	free(s);
	return ret;
}

/* Only guest-writable bits (and interrupt status) may differ from reset. */
static int pci_dev_check(struct pci_dev *pd, const struct pci_dev_state *s,
			 char *err, size_t errlen)
{
	for (unsigned o = 0; o < PCI_CFG_SIZE; o++) {
		uint8_t ro = ~(pd->wmask[o] | pd->w1cmask[o]);

		if (o == PCI_STATUS)
			ro &= ~PCI_STATUS_INTERRUPT;
		if (pd->ops && pd->ops->dynamic_bits)
			ro &= ~pd->ops->dynamic_bits(pd, o);
		if ((s->cfg[o] ^ pd->cfg_reset[o]) & ro) {
			snprintf(err, errlen,
				 "pci-dev %s: read-only config byte 0x%x is 0x%02x, expected 0x%02x",
				 pd->name, o, s->cfg[o], pd->cfg_reset[o]);
			return -EINVAL;
		}
	}
	if (s->intx_level > 1) {
		snprintf(err, errlen, "pci-dev %s: bad INTx level %u", pd->name,
			 s->intx_level);
		return -EINVAL;
	}
	return 0;
}

int pci_dev_load(struct pci_dev *pd, struct sreader *in, char *err,
		 size_t errlen)
{
	struct pci_dev_state *s = calloc(1, sizeof(*s));
	char tmp[160];
	int ret;

	if (!err) {
		err = tmp;
		errlen = sizeof(tmp);
	}
	if (!s)
		return -ENOMEM;
	ret = state_load(&pci_dev_desc, s, in, err, errlen);
	if (!ret)
		ret = pci_dev_check(pd, s, err, errlen);
	if (!ret) {
		memcpy(pd->cfg, s->cfg, sizeof(pd->cfg));
		pci_update_bars(pd);
		if (pd->msix)
			msix_config_changed(pd->msix);
		pthread_mutex_lock(&pd->intx_lock);
		pd->intx_level = s->intx_level;
		pci_intx_sync(pd);
		pthread_mutex_unlock(&pd->intx_lock);
	}
	free(s);
	return ret;
}
