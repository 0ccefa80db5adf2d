/* SPDX-License-Identifier: MIT */
#ifndef FVMM_CORE_GUEST_MEM_H
#define FVMM_CORE_GUEST_MEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Guest physical memory.
 *
 * RAM is one memfd (so a later migration or a second mapping can share it)
 * mapped once into the VMM and split into at most two KVM memslots around
 * the 32-bit MMIO hole: [0, low_end) and [4 GiB, 4 GiB + high_size).
 *
 * Devices must touch guest memory only through gm_read()/gm_write() or the
 * gm_ptr*() helpers below: they are bounds-checked against the slots (a guest
 * address that is not RAM, or a range that runs past a slot, is -EFAULT and
 * never a host access), and writes set bits in the VMM's own dirty bitmap,
 * because KVM's dirty log does not see stores made by the VMM.
 */

#define GM_PAGE_SHIFT	12
#define GM_PAGE_SIZE	(1ULL << GM_PAGE_SHIFT)
#define GM_MAX_SLOTS	2

/* Start of the 32-bit PCI/MMIO hole; RAM below it ends here at the most. */
#define GM_MMIO_HOLE_START	0xC0000000ULL
#define GM_4G			0x100000000ULL

struct gm_slot {
	uint64_t gpa;
	uint64_t size;
	uint8_t *hva;
	uint64_t memfd_off;
	unsigned long *dirty;	/* VMM-side dirty bitmap, one bit a page */
};

struct guest_mem {
	struct gm_slot slots[GM_MAX_SLOTS];
	int nr_slots;
	int memfd;
	uint8_t *base;		/* whole mapping of the memfd */
	uint64_t ram_size;
};

/*
 * Compute the slot layout for ram_size bytes without allocating anything
 * (unit-testable).  -EINVAL for a size that is zero or not page aligned.
 */
int gm_layout(struct guest_mem *gm, uint64_t ram_size);

/* gm_layout() + memfd + mmap.  -ENOMEM with no partial state left. */
int gm_init(struct guest_mem *gm, uint64_t ram_size);
void gm_destroy(struct guest_mem *gm);

/*
 * Host pointer for [gpa, gpa + len) when the whole range lies inside one
 * slot, else NULL.  gm_ptr() is for reading; gm_ptr_w() also marks the range
 * dirty, so use it only when about to write.
 */
void *gm_ptr(struct guest_mem *gm, uint64_t gpa, uint64_t len);
void *gm_ptr_w(struct guest_mem *gm, uint64_t gpa, uint64_t len);

int gm_read(struct guest_mem *gm, uint64_t gpa, void *buf, uint64_t len);
int gm_write(struct guest_mem *gm, uint64_t gpa, const void *buf, uint64_t len);
void gm_mark_dirty(struct guest_mem *gm, uint64_t gpa, uint64_t len);

/* True when [gpa, gpa + len) is RAM (inside one slot). */
bool gm_is_ram(struct guest_mem *gm, uint64_t gpa, uint64_t len);

/*
 * Atomically fetch and clear the VMM dirty bits of slot i into out (which
 * must hold slot.size / page / BITS_PER_LONG longs), OR-ing them in.
 */
void gm_dirty_fetch_or(struct guest_mem *gm, int i, unsigned long *out);

#endif
