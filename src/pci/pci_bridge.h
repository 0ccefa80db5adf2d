/* SPDX-License-Identifier: MIT */
#ifndef FVMM_PCI_PCI_BRIDGE_H
#define FVMM_PCI_PCI_BRIDGE_H

#include <stdbool.h>
#include <stdint.h>

#include "pci/pci.h"

/*
 * The PCI-to-PCI bridge part of a function (type 1 configuration header):
 * bus numbers, the I/O, memory and prefetchable memory windows, secondary
 * status and bridge control, all guest-writable as on hardware.
 *
 * fvmm's bridges are PCIe downstream ports: their secondary bus holds at
 * most one function, device 0 function 0 (the "child").  A configuration
 * cycle to the secondary bus reaches the child; cycles to buses above it up
 * to the subordinate number are claimed and master-abort (nothing is
 * behind).  The child decodes a BAR only while it is powered (child_on),
 * the bridge's command register enables that space, and the BAR lies
 * wholly inside one of the bridge's open windows (I/O BARs in the I/O
 * window, memory BARs in the memory or the prefetchable window).
 *
 * All of this runs with the host lock held, except the lock-free readers
 * pci_bus_master() and pci_dev_reachable(), which load child and child_on
 * atomically.
 */

struct pci_bridge {
	struct pci_dev *pd;		/* the bridge function itself */
	struct pci_dev *child;		/* device 0.0 of the secondary bus */
	bool child_on;			/* powered: cycles and BARs reach it */
	uint16_t bctl_seen;		/* bridge control before the write */
};

/* An address window, both ends inclusive; closed when base > limit. */
struct pci_window {
	uint64_t base;
	uint64_t limit;
};

#define PCI_BRIDGE_IO_GRAN	0x1000ULL	/* I/O window granularity */
#define PCI_BRIDGE_MEM_GRAN	0x100000ULL	/* memory window granularity */

/*
 * Turn pd (after pci_dev_init() with a bridge class code) into a bridge:
 * header type 1, the registers and their masks, every window closed.
 */
void pci_bridge_init(struct pci_bridge *br, struct pci_dev *pd);

/* Firmware-style programming (construction; host lock for later calls). */
void pci_bridge_set_buses(struct pci_bridge *br, unsigned primary,
			  unsigned secondary, unsigned subordinate);
/* size 0 closes the window; base and size in the window's granularity. */
void pci_bridge_set_io(struct pci_bridge *br, uint64_t base, uint64_t size);
void pci_bridge_set_mem(struct pci_bridge *br, uint64_t base, uint64_t size);
void pci_bridge_set_pref(struct pci_bridge *br, uint64_t base, uint64_t size);

/* The windows as the guest programmed them; false when closed. */
bool pci_bridge_io_window(const struct pci_bridge *br, struct pci_window *w);
bool pci_bridge_mem_window(const struct pci_bridge *br, struct pci_window *w);
bool pci_bridge_pref_window(const struct pci_bridge *br, struct pci_window *w);
unsigned pci_bridge_secondary(const struct pci_bridge *br);
unsigned pci_bridge_subordinate(const struct pci_bridge *br);

/*
 * Route a configuration cycle to bus (> 0): true when this bridge claims
 * the bus, with *out the function reached (NULL: master abort).
 */
bool pci_bridge_route(const struct pci_bridge *br, unsigned bus,
		      unsigned devfn, struct pci_dev **out);

/* Whether the child's BAR at [addr, addr + size) decodes through br. */
bool pci_bridge_forwards(const struct pci_bridge *br,
			 const struct pci_dev *child, enum pci_bar_type type,
			 uint64_t addr, uint64_t size);

/*
 * Put pd (or NULL) in the slot / power it; re-evaluates the child's BAR
 * mappings.  Host lock held.
 */
void pci_bridge_set_child(struct pci_bridge *br, struct pci_dev *pd, bool on);
void pci_bridge_set_child_on(struct pci_bridge *br, bool on);

/*
 * After the generic config write on the bridge: windows, bus numbers or
 * the command register may have moved the child's BARs.  Returns true when
 * the write asserted Secondary Bus Reset (0 -> 1), so the owner resets the
 * child.
 */
bool pci_bridge_config_write(struct pci_bridge *br, unsigned off,
			     unsigned size);
uint16_t pci_bridge_control(const struct pci_bridge *br);

#endif
