/* SPDX-License-Identifier: MIT */
#ifndef FVMM_VIRTIO_VIRTQ_H
#define FVMM_VIRTIO_VIRTQ_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

#include "core/guest_mem.h"

/*
 * Split virtqueues (virtio 1.x, 2.7), device side.
 *
 * The rings live in guest RAM, which the guest may change at any moment, so
 * every descriptor is copied once and then validated from the copy.  Ring
 * areas are checked when the queue is enabled and then accessed through host
 * pointers; buffers are resolved to host pointers with gm_ptr() (bounds
 * checked), and device-writable ones are marked dirty in virtq_push(), after
 * the device has written them.
 *
 * A malformed chain makes virtq_pop() return -EIO, with vq->broken set and a
 * one-line reason in vq->err; the transport then marks the device
 * DEVICE_NEEDS_RESET.  Nothing the guest writes makes this code loop,
 * allocate, or touch memory outside guest RAM.
 */

#define VQ_MAX_SIZE		1024	/* largest queue we offer */
#define VQ_MAX_INDIRECT		1024	/* entries in one indirect table */
#define VQ_NO_VECTOR		0xffff

#define VQ_DESC_F_NEXT		1
#define VQ_DESC_F_WRITE		2
#define VQ_DESC_F_INDIRECT	4
#define VQ_USED_F_NO_NOTIFY	1
#define VQ_AVAIL_F_NO_INTERRUPT	1

struct vq_desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags;
	uint16_t next;
} __attribute__((packed));

struct vq_used_elem {
	uint32_t id;
	uint32_t len;
} __attribute__((packed));

/* Ring area sizes for a queue of n entries (with the event-idx words). */
#define VQ_DESC_BYTES(n)	(16ULL * (n))
#define VQ_AVAIL_BYTES(n)	(6ULL + 2ULL * (n))
#define VQ_USED_BYTES(n)	(6ULL + 8ULL * (n))

/*
 * One popped chain.  iov[0..out_num) are device-readable, followed by
 * iov[out_num..out_num+in_num) device-writable; gpa[] holds the guest address
 * of each.  The caller provides the arrays (max entries), so popping never
 * allocates.
 */
struct vq_elem {
	uint16_t head;
	unsigned out_num, in_num;
	uint64_t out_len, in_len;
	unsigned max;
	struct iovec *iov;
	uint64_t *gpa;
};

struct virtq {
	struct guest_mem *gm;
	/* Configured by the driver through the transport. */
	uint16_t size;
	uint64_t desc_gpa, avail_gpa, used_gpa;
	bool ready;
	/* Negotiated features that change ring behaviour. */
	bool event_idx;
	bool indirect;
	/* Device-side indices. */
	uint16_t last_avail;		/* next avail entry to consume */
	uint16_t avail_seen;		/* avail->idx when last read */
	uint16_t used_idx;		/* shadow of used->idx */
	uint16_t published;		/* used->idx as last flushed */
	uint16_t signalled_used;	/* used_idx at the last interrupt */
	bool signalled_valid;
	bool broken;
	char err[160];
	/* Host views of the ring areas, valid while ready. */
	struct vq_desc *desc;
	uint16_t *avail;		/* flags, idx, ring[size], used_event */
	uint8_t *used;			/* flags, idx, ring[size], avail_event */
};

/*
 * Check the ring areas (alignment, power-of-two size, inside RAM) and make
 * the queue ready.  -EINVAL with vq->err set otherwise.
 */
int virtq_enable(struct virtq *vq);
/* Back to the reset state, keeping gm. */
void virtq_reset(struct virtq *vq);

/* 1: a chain was popped, 0: ring empty, -EIO: malformed (vq->broken). */
int virtq_pop(struct virtq *vq, struct vq_elem *e);
/* Give back the last n popped chains, unused (e.g. the backend was full). */
void virtq_unpop(struct virtq *vq, unsigned n);
/* Entries available and not yet popped (0 if broken or not ready). */
unsigned virtq_avail(struct virtq *vq);

/*
 * Return a chain: the first len bytes of its writable part were written.
 * Not visible to the driver before virtq_flush().
 */
void virtq_push(struct virtq *vq, const struct vq_elem *e, uint32_t len);
/* Same for a chain identified by head only (nothing written). */
void virtq_push_head(struct virtq *vq, uint16_t head, uint32_t len);
/* Publish pushed entries; false when there was nothing new. */
bool virtq_flush(struct virtq *vq);
/* After a flush: does the driver want an interrupt (EVENT_IDX aware)? */
bool virtq_should_notify(struct virtq *vq);

/*
 * Ask the driver for (enable) or stop asking for kicks.  Enabling asks for
 * a kick once the driver makes more entries available than the device has
 * seen so far, and returns true when some arrived meanwhile, in which case
 * the caller must look again instead of sleeping (that kick may already
 * have been skipped).
 */
bool virtq_set_notify(struct virtq *vq, bool enable);

/* Host-side state for save/restore; rings are re-validated on load. */
struct virtq_state {
	uint16_t size;
	uint8_t ready;
	uint64_t desc_gpa, avail_gpa, used_gpa;
	uint16_t last_avail, used_idx, signalled_used;
	uint8_t signalled_valid;
};

void virtq_get_state(const struct virtq *vq, struct virtq_state *s);
/* -EINVAL (with vq->err) when the loaded rings are not valid. */
int virtq_set_state(struct virtq *vq, const struct virtq_state *s);

/* iovec helpers: copy between a flat buffer and an iovec at an offset. */
size_t iov_to_buf(const struct iovec *iov, unsigned cnt, size_t off,
		  void *buf, size_t len);
size_t iov_from_buf(const struct iovec *iov, unsigned cnt, size_t off,
		    const void *buf, size_t len);

#endif
