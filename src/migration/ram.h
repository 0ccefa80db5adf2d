/* SPDX-License-Identifier: MIT */
#ifndef FVMM_MIGRATION_RAM_H
#define FVMM_MIGRATION_RAM_H

/*
 * Guest RAM across a migration.  The source tracks which pages changed
 * (KVM's dirty log for the vCPUs' stores, guest_mem's own bitmap for the
 * devices') and sends them in MIG_REC_RAM batches, pass after pass; the
 * destination applies batches into its own guest_mem.
 *
 * A MIG_REC_RAM payload: u32 count (1..MIG_RAM_BATCH), u32 reserved (0),
 * then count entries of u64 gpa|flags (gpa page aligned; flag bit 0: the
 * page is all zeroes and no data follows) and, for the others, 4096 bytes.
 */

#include <stdbool.h>
#include <stdint.h>

#include "core/guest_mem.h"
#include "migration/stream.h"

#define MIG_RAM_BATCH		256
#define MIG_RAM_F_ZERO		1ULL
#define MIG_RAM_F_MASK		(GM_PAGE_SIZE - 1)

struct mig_ram {
	struct guest_mem *gm;
	int vm_fd;
	bool logging;
	unsigned long *todo[GM_MAX_SLOTS];	/* pages still to send */
	unsigned long *kvm_log;			/* scratch for KVM_GET_DIRTY_LOG */
	uint64_t total_pages;
	uint64_t todo_pages;			/* bits set in todo */
	/* Sent so far, for query-migrate. */
	uint64_t zero_pages, normal_pages;
};

/*
 * Called between batches with the bytes just sent; a non-zero return
 * (-ECANCELED) stops the send.  Throttling to max-bandwidth lives there.
 */
typedef int (*mig_ram_batch_fn)(void *opaque, uint64_t bytes);

/* Turn dirty logging on and mark every page to be sent. */
int mig_ram_start(struct mig_ram *r, struct guest_mem *gm, int vm_fd);
/* Fold what was dirtied since the last call into todo; returns todo_pages. */
int64_t mig_ram_sync(struct mig_ram *r);
/* Send (and clear) every page in todo. */
int mig_ram_send(struct mig_ram *r, struct mig_writer *w,
		 mig_ram_batch_fn fn, void *opaque);
/* Turn dirty logging off (the VM keeps running on the source). */
void mig_ram_stop(struct mig_ram *r);

/*
 * The destination: apply one MIG_REC_RAM record.  loaded tracks pages
 * written with data so far, so that a zero page which was never written
 * costs nothing (a fresh memfd reads as zeroes).
 */
struct mig_ram_dest {
	struct guest_mem *gm;
	unsigned long *loaded[GM_MAX_SLOTS];
	uint64_t pages;
};

int mig_ram_dest_init(struct mig_ram_dest *d, struct guest_mem *gm);
void mig_ram_dest_destroy(struct mig_ram_dest *d);
int mig_ram_load(struct mig_ram_dest *d, const struct mig_record *rec,
		 char *err, size_t errlen);

/*
 * A digest of all of gm's RAM that does not depend on which pages are
 * populated, for tests comparing a paused source with a paused destination.
 */
uint64_t mig_ram_digest(const struct guest_mem *gm);

#endif
