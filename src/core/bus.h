/* SPDX-License-Identifier: MIT */
#ifndef FVMM_CORE_BUS_H
#define FVMM_CORE_BUS_H

#include <pthread.h>
#include <stdint.h>

/*
 * An address space (port I/O or MMIO) that dispatches guest accesses to the
 * device region covering them.  A device only ever sees the offset inside its
 * region, so moving a BAR is a re-registration, not a device change.
 *
 * Regions may be added and removed while vCPUs run (BAR programming,
 * hotplug).  A dispatch holds the bus's read lock while the handler runs, so
 * once bus_unregister() returns no handler of that region is running or will
 * run, and the device may be freed.  The price is one rule: a handler called
 * through a bus must never register or unregister regions (on any bus).
 * PCI configuration space is therefore not a bus region: the vCPU loop hands
 * 0xCF8-0xCFF to the PCI host bridge directly, with no bus lock held, and BAR
 * and hotplug changes are made from there or from the event loop.
 */

struct bus_ops {
	/* size is 1, 2, 4 or 8; only sizes in [min_size, max_size] arrive. */
	uint64_t (*read)(void *opaque, uint64_t off, unsigned size);
	void (*write)(void *opaque, uint64_t off, uint64_t val, unsigned size);
	unsigned min_size;	/* 0 means 1 */
	unsigned max_size;	/* 0 means 8 */
};

struct bus_region {
	uint64_t base;
	uint64_t len;
	const struct bus_ops *ops;
	void *opaque;
	const char *name;
};

struct bus {
	const char *name;
	pthread_rwlock_t lock;
	struct bus_region *regions;	/* sorted by base, never overlapping */
	int nr, cap;
};

int bus_init(struct bus *bus, const char *name);
void bus_destroy(struct bus *bus);

/* -EEXIST when [base, base+len) overlaps a region; -EINVAL for len 0. */
int bus_register(struct bus *bus, uint64_t base, uint64_t len,
		 const struct bus_ops *ops, void *opaque, const char *name);
/* Remove the region starting at base owned by opaque; -ENOENT. */
int bus_unregister(struct bus *bus, uint64_t base, void *opaque);

/*
 * Dispatch an access.  Returns -ENOENT when nothing claims the address
 * (reads then see all ones, as on a real bus with nobody answering).
 * Accesses wider than a region allows are split into allowed pieces; ones
 * narrower than min_size are widened read-modify-write.
 */
int bus_read(struct bus *bus, uint64_t addr, void *data, unsigned size);
int bus_write(struct bus *bus, uint64_t addr, const void *data, unsigned size);

#endif
