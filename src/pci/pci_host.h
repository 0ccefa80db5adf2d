/* SPDX-License-Identifier: MIT */
#ifndef FVMM_PCI_PCI_HOST_H
#define FVMM_PCI_PCI_HOST_H

/*
 * The host bridge's insides, shared by the files of src/pci (root ports,
 * hotplug) and nobody else: other code uses pci.h.
 */

#include <pthread.h>
#include <stdint.h>

#include "core/device.h"
#include "pci/pci.h"

#define PCI_MAX_ROOT_PORTS	31	/* one per bus-0 slot at the most */

/*
 * Root port I/O windows come from below the bus-0 I/O range: 4 KiB each
 * from 0x1000 up to PCI_IOPORT_BASE, as firmware hands them out, so up to
 * 11 ports get one.
 */
#define PCI_BRIDGE_IO_BASE	0x1000
#define PCI_BRIDGE_IO_END	PCI_IOPORT_BASE

struct pci_root_port;
struct pci_hotplug;

struct pci_host {
	struct vm *vm;
	struct device dev;		/* "pci-host": the address latch */
	pthread_mutex_t lock;		/* configuration cycles (recursive) */
	uint32_t cfg_addr;
	struct pci_dev bridge;
	struct pci_dev *devs[256];	/* bus 0, by devfn */
	uint64_t mmio_next;
	uint32_t io_next;
	uint32_t bridge_io_next;	/* next root port I/O window */
	pthread_mutex_t intx_lock;
	unsigned intx_count[4];		/* devices asserting GSI 16 + i */
	struct pci_root_port *ports[PCI_MAX_ROOT_PORTS];
	unsigned nr_ports;		/* also: next secondary bus - 1 */
	struct pci_hotplug *hp;		/* hotplug.c, created on first use */
	/* Migration load in progress: BARs stay unmapped until its end. */
	bool bars_deferred;
};

/* A bump allocator over [next, end) for firmware-style BAR placement. */
struct pci_space {
	uint64_t next;
	uint64_t end;
};

/*
 * Give BAR bar of pd an address from s (naturally aligned; memory BARs get
 * whole pages so that no two share one).  -ENOSPC leaves the BAR at 0.
 */
int pci_assign_bar(struct pci_dev *pd, int bar, struct pci_space *s);

/* Root port windows from the host's MMIO hole / bridge I/O range. */
int pci_host_alloc_mmio(struct pci_host *h, uint64_t size, uint64_t *base);
int pci_host_alloc_bridge_io(struct pci_host *h, uint64_t size,
			     uint64_t *base);
/* Register a created root port (for routing-free lookups and teardown). */
int pci_host_add_port(struct pci_host *h, struct pci_root_port *rp);

#endif
