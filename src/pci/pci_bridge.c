// SPDX-License-Identifier: MIT
/*
 * PCI-to-PCI bridge configuration header (type 1): bus numbers, windows,
 * forwarding decisions for the function behind the bridge.
 */
#include <string.h>

#include "core/util.h"
#include "pci/pci_bridge.h"

/* Secondary status: the error bits are write-1-to-clear. */
#define SEC_STATUS_W1C	0xf900
/* Parity and SERR response, master abort mode, secondary bus reset. */
#define BCTL_WMASK	(PCI_BRIDGE_CTL_PARITY | PCI_BRIDGE_CTL_SERR |	\
			 PCI_BRIDGE_CTL_MASTER_ABORT | PCI_BRIDGE_CTL_BUS_RESET)

void pci_bridge_init(struct pci_bridge *br, struct pci_dev *pd)
{
	memset(br, 0, sizeof(*br));
	br->pd = pd;
	pd->bridge = br;
	pci_set_reg(pd, PCI_HEADER_TYPE, 1, PCI_HEADER_TYPE_BRIDGE, 0, 0);
	pci_set_reg(pd, PCI_PRIMARY_BUS, 1, 0, 0xff, 0);
	pci_set_reg(pd, PCI_SECONDARY_BUS, 1, 0, 0xff, 0);
	pci_set_reg(pd, PCI_SUBORDINATE_BUS, 1, 0, 0xff, 0);
	pci_set_reg(pd, PCI_SEC_LATENCY_TIMER, 1, 0, 0xff, 0);
	/* 16-bit I/O decoding: the low nibbles (and upper 16 bits) are 0. */
	pci_set_reg(pd, PCI_IO_BASE, 1, 0, PCI_IO_RANGE_MASK & 0xff, 0);
	pci_set_reg(pd, PCI_IO_LIMIT, 1, 0, PCI_IO_RANGE_MASK & 0xff, 0);
	pci_set_reg(pd, PCI_SEC_STATUS, 2, 0, 0, SEC_STATUS_W1C);
	pci_set_reg(pd, PCI_MEMORY_BASE, 2, 0, PCI_MEMORY_RANGE_MASK & 0xffff,
		    0);
	pci_set_reg(pd, PCI_MEMORY_LIMIT, 2, 0, PCI_MEMORY_RANGE_MASK & 0xffff,
		    0);
	/* The prefetchable window decodes 64-bit addresses. */
	pci_set_reg(pd, PCI_PREF_MEMORY_BASE, 2, PCI_PREF_RANGE_TYPE_64,
		    PCI_PREF_RANGE_MASK & 0xffff, 0);
	pci_set_reg(pd, PCI_PREF_MEMORY_LIMIT, 2, PCI_PREF_RANGE_TYPE_64,
		    PCI_PREF_RANGE_MASK & 0xffff, 0);
	pci_set_reg(pd, PCI_PREF_BASE_UPPER32, 4, 0, ~0U, 0);
	pci_set_reg(pd, PCI_PREF_LIMIT_UPPER32, 4, 0, ~0U, 0);
	pci_set_reg(pd, PCI_BRIDGE_CONTROL, 2, 0, BCTL_WMASK, 0);
	/* Everything closed until firmware (fvmm) or the guest opens it. */
	pci_bridge_set_io(br, 0, 0);
	pci_bridge_set_mem(br, 0, 0);
	pci_bridge_set_pref(br, 0, 0);
}

void pci_bridge_set_buses(struct pci_bridge *br, unsigned primary,
			  unsigned secondary, unsigned subordinate)
{
	struct pci_dev *pd = br->pd;

	pd->cfg[PCI_PRIMARY_BUS] = primary;
	pd->cfg[PCI_SECONDARY_BUS] = secondary;
	pd->cfg[PCI_SUBORDINATE_BUS] = subordinate;
}

/* Closed windows are written base = all ones, limit = 0, as firmware does. */
void pci_bridge_set_io(struct pci_bridge *br, uint64_t base, uint64_t size)
{
	uint8_t *cfg = br->pd->cfg;

	if (!size) {
		cfg[PCI_IO_BASE] = 0xf0;
		cfg[PCI_IO_LIMIT] = 0;
		return;
	}
	cfg[PCI_IO_BASE] = (base >> 8) & 0xf0;
	cfg[PCI_IO_LIMIT] = ((base + size - 1) >> 8) & 0xf0;
}

void pci_bridge_set_mem(struct pci_bridge *br, uint64_t base, uint64_t size)
{
	uint8_t *cfg = br->pd->cfg;

	if (!size) {
		le_write(&cfg[PCI_MEMORY_BASE], 2, 0xfff0);
		le_write(&cfg[PCI_MEMORY_LIMIT], 2, 0);
		return;
	}
	le_write(&cfg[PCI_MEMORY_BASE], 2, (base >> 16) & 0xfff0);
	le_write(&cfg[PCI_MEMORY_LIMIT], 2, ((base + size - 1) >> 16) & 0xfff0);
}

void pci_bridge_set_pref(struct pci_bridge *br, uint64_t base, uint64_t size)
{
	uint8_t *cfg = br->pd->cfg;
	uint64_t limit = base + size - 1;

	if (!size) {
		le_write(&cfg[PCI_PREF_MEMORY_BASE], 2,
			 0xfff0 | PCI_PREF_RANGE_TYPE_64);
		le_write(&cfg[PCI_PREF_MEMORY_LIMIT], 2, PCI_PREF_RANGE_TYPE_64);
		le_write(&cfg[PCI_PREF_BASE_UPPER32], 4, 0);
		le_write(&cfg[PCI_PREF_LIMIT_UPPER32], 4, 0);
		return;
	}
	le_write(&cfg[PCI_PREF_MEMORY_BASE], 2,
		 ((base >> 16) & 0xfff0) | PCI_PREF_RANGE_TYPE_64);
	le_write(&cfg[PCI_PREF_MEMORY_LIMIT], 2,
		 ((limit >> 16) & 0xfff0) | PCI_PREF_RANGE_TYPE_64);
	le_write(&cfg[PCI_PREF_BASE_UPPER32], 4, base >> 32);
	le_write(&cfg[PCI_PREF_LIMIT_UPPER32], 4, limit >> 32);
}

static bool window_open(struct pci_window *w, uint64_t base, uint64_t limit)
{
	w->base = base;
	w->limit = limit;
	return base <= limit;
}

bool pci_bridge_io_window(const struct pci_bridge *br, struct pci_window *w)
{
	const uint8_t *cfg = br->pd->cfg;

	return window_open(w, (uint64_t)(cfg[PCI_IO_BASE] & 0xf0) << 8,
			   ((uint64_t)(cfg[PCI_IO_LIMIT] & 0xf0) << 8) | 0xfff);
}

bool pci_bridge_mem_window(const struct pci_bridge *br, struct pci_window *w)
{
	const uint8_t *cfg = br->pd->cfg;
	uint64_t base = le_read(&cfg[PCI_MEMORY_BASE], 2) & 0xfff0;
	uint64_t limit = le_read(&cfg[PCI_MEMORY_LIMIT], 2) & 0xfff0;

	return window_open(w, base << 16, (limit << 16) | 0xfffff);
}

bool pci_bridge_pref_window(const struct pci_bridge *br, struct pci_window *w)
{
	const uint8_t *cfg = br->pd->cfg;
	uint64_t base = le_read(&cfg[PCI_PREF_MEMORY_BASE], 2) & 0xfff0;
	uint64_t limit = le_read(&cfg[PCI_PREF_MEMORY_LIMIT], 2) & 0xfff0;

	base = base << 16 | le_read(&cfg[PCI_PREF_BASE_UPPER32], 4) << 32;
	limit = limit << 16 | 0xfffff |
		le_read(&cfg[PCI_PREF_LIMIT_UPPER32], 4) << 32;
	return window_open(w, base, limit);
}

unsigned pci_bridge_secondary(const struct pci_bridge *br)
{
	return br->pd->cfg[PCI_SECONDARY_BUS];
}

unsigned pci_bridge_subordinate(const struct pci_bridge *br)
{
	return br->pd->cfg[PCI_SUBORDINATE_BUS];
}

uint16_t pci_bridge_control(const struct pci_bridge *br)
{
	return le_read(&br->pd->cfg[PCI_BRIDGE_CONTROL], 2);
}

bool pci_bridge_route(const struct pci_bridge *br, unsigned bus,
		      unsigned devfn, struct pci_dev **out)
{
	unsigned sec = pci_bridge_secondary(br);
	unsigned sub = pci_bridge_subordinate(br);

	*out = NULL;
	/* Secondary 0 is an unconfigured bridge: it forwards nothing. */
	if (!sec || bus < sec || bus > sub)
		return false;
	/* A downstream port has one device: only device 0 answers. */
	if (bus == sec && devfn == 0 && br->child_on)
		*out = br->child;
	return true;
}

static bool window_has(const struct pci_window *w, uint64_t addr,
		       uint64_t size)
{
	return w->base <= w->limit && addr >= w->base && addr <= w->limit &&
	       size - 1 <= w->limit - addr;
}

bool pci_bridge_forwards(const struct pci_bridge *br,
			 const struct pci_dev *child, enum pci_bar_type type,
			 uint64_t addr, uint64_t size)
{
	uint16_t cmd = le_read(&br->pd->cfg[PCI_COMMAND], 2);
	struct pci_window w;

	if (__atomic_load_n(&br->child, __ATOMIC_ACQUIRE) != child ||
	    !__atomic_load_n(&br->child_on, __ATOMIC_ACQUIRE) || !size)
		return false;
	if (type == PCI_BAR_IO)
		return (cmd & PCI_COMMAND_IO) &&
		       pci_bridge_io_window(br, &w) && window_has(&w, addr, size);
	if (!(cmd & PCI_COMMAND_MEMORY))
		return false;
	/* A bridge forwards by address, whatever the BAR's prefetch bit. */
	if (pci_bridge_mem_window(br, &w) && window_has(&w, addr, size))
		return true;
	return pci_bridge_pref_window(br, &w) && window_has(&w, addr, size);
}

void pci_bridge_set_child(struct pci_bridge *br, struct pci_dev *pd, bool on)
{
	struct pci_dev *old = br->child;

	__atomic_store_n(&br->child_on, on && pd, __ATOMIC_RELEASE);
	__atomic_store_n(&br->child, pd, __ATOMIC_RELEASE);
	if (old && old != pd) {
		pci_update_bars(old);	/* unreachable now: unmaps */
		pci_intx_resync(old);
	}
	if (pd) {
		pci_update_bars(pd);
		pci_intx_resync(pd);
	}
}

void pci_bridge_set_child_on(struct pci_bridge *br, bool on)
{
	__atomic_store_n(&br->child_on, on && br->child, __ATOMIC_RELEASE);
	if (br->child) {
		pci_update_bars(br->child);
		pci_intx_resync(br->child);
	}
}

bool pci_bridge_config_write(struct pci_bridge *br, unsigned off,
			     unsigned size)
{
	uint16_t bctl = pci_bridge_control(br), old_bctl = br->bctl_seen;

	br->bctl_seen = bctl;
	/* Command, bus numbers and windows: 0x04-0x05 and 0x18-0x33. */
	if (br->child && (pci_cfg_touches(off, size, PCI_COMMAND, 2) ||
			  pci_cfg_touches(off, size, PCI_PRIMARY_BUS,
					  PCI_CAPABILITY_LIST - PCI_PRIMARY_BUS)))
		pci_update_bars(br->child);
	return !(old_bctl & PCI_BRIDGE_CTL_BUS_RESET) &&
	       (bctl & PCI_BRIDGE_CTL_BUS_RESET);
}
