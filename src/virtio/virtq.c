// SPDX-License-Identifier: MIT
/*
 * Split virtqueue, device side: chain walking, used ring, notifications.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/util.h"
#include "virtio/virtq.h"

/* Offsets inside the avail ring (in uint16_t units) and used ring (bytes). */
#define AVAIL_FLAGS	0
#define AVAIL_IDX	1
#define AVAIL_RING	2
#define USED_FLAGS	0
#define USED_IDX	2
#define USED_RING	4

static int vq_fail(struct virtq *vq, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int vq_fail(struct virtq *vq, const char *fmt, ...)
{
	va_list ap;

	if (!vq->broken) {	/* keep the first reason */
		va_start(ap, fmt);
		vsnprintf(vq->err, sizeof(vq->err), fmt, ap);
		va_end(ap);
	}
	vq->broken = true;
	return -EIO;
}

/* ---- ring areas ---- */

static uint16_t *used_event_ptr(struct virtq *vq)
{
	return &vq->avail[AVAIL_RING + vq->size];
}

static uint16_t *avail_event_ptr(struct virtq *vq)
{
	return (uint16_t *)(vq->used + USED_RING + 8 * vq->size);
}

static uint16_t *used_idx_ptr(struct virtq *vq)
{
	return (uint16_t *)(vq->used + USED_IDX);
}

static void vq_used_dirty(struct virtq *vq, uint64_t off, uint64_t len)
{
	gm_mark_dirty(vq->gm, vq->used_gpa + off, len);
}

int virtq_enable(struct virtq *vq)
{
	uint16_t n = vq->size;

	vq->ready = false;
	if (!n || (n & (n - 1)) || n > VQ_MAX_SIZE) {
		vq_fail(vq, "queue size %u is not a power of two <= %u", n,
			VQ_MAX_SIZE);
		return -EINVAL;
	}
	/* virtio 1.x 2.6: descriptor table 16, avail 2, used 4 aligned. */
	if (!IS_ALIGNED(vq->desc_gpa, 16) || !IS_ALIGNED(vq->avail_gpa, 2) ||
	    !IS_ALIGNED(vq->used_gpa, 4)) {
		vq_fail(vq, "misaligned ring (desc 0x%llx avail 0x%llx used 0x%llx)",
			(unsigned long long)vq->desc_gpa,
			(unsigned long long)vq->avail_gpa,
			(unsigned long long)vq->used_gpa);
		return -EINVAL;
	}
	vq->desc = gm_ptr(vq->gm, vq->desc_gpa, VQ_DESC_BYTES(n));
	vq->avail = gm_ptr(vq->gm, vq->avail_gpa, VQ_AVAIL_BYTES(n));
	vq->used = gm_ptr(vq->gm, vq->used_gpa, VQ_USED_BYTES(n));
	if (!vq->desc || !vq->avail || !vq->used) {
		vq_fail(vq, "ring outside guest RAM (desc 0x%llx avail 0x%llx used 0x%llx, size %u)",
			(unsigned long long)vq->desc_gpa,
			(unsigned long long)vq->avail_gpa,
			(unsigned long long)vq->used_gpa, n);
		return -EINVAL;
	}
	vq->ready = true;
	return 0;
}

void virtq_reset(struct virtq *vq)
{
	struct guest_mem *gm = vq->gm;

	memset(vq, 0, sizeof(*vq));
	vq->gm = gm;
}

/* ---- chain walking ---- */

/*
 * Fetch descriptor i into d: one read, then only the copy is trusted.  The
 * empty asm makes d opaque, so the compiler cannot re-read guest memory in
 * place of the copy (the guest may change it between two reads).
 */
static void vq_read_desc(const struct vq_desc *table, unsigned i,
			 struct vq_desc *d)
{
	memcpy(d, &table[i], sizeof(*d));
	__asm__ volatile("" : "+m"(*d));
}

static int vq_add_seg(struct virtq *vq, struct vq_elem *e,
		      const struct vq_desc *d, unsigned idx)
{
	bool write = d->flags & VQ_DESC_F_WRITE;
	unsigned n = e->out_num + e->in_num;
	void *p;

	if (!write && e->in_num)
		return vq_fail(vq, "descriptor %u: device-readable after device-writable",
			       idx);
	if (!d->len)
		return 0;	/* harmless: nothing to transfer */
	if (n >= e->max)
		return vq_fail(vq, "chain at %u has more than %u buffers",
			       e->head, e->max);
	p = gm_ptr(vq->gm, d->addr, d->len);
	if (!p)
		return vq_fail(vq, "descriptor %u: buffer 0x%llx+0x%x outside guest RAM",
			       idx, (unsigned long long)d->addr, d->len);
	e->iov[n] = (struct iovec){ .iov_base = p, .iov_len = d->len };
	e->gpa[n] = d->addr;
	if (write) {
		e->in_num++;
		e->in_len += d->len;
	} else {
		e->out_num++;
		e->out_len += d->len;
	}
	return 0;
}

/* Switch the walk to the indirect table described by d. */
static int vq_enter_indirect(struct virtq *vq, const struct vq_desc *d,
			     unsigned idx, const struct vq_desc **table,
			     unsigned *n)
{
	if (!vq->indirect)
		return vq_fail(vq, "descriptor %u: INDIRECT not negotiated", idx);
	if (d->flags & VQ_DESC_F_NEXT)
		return vq_fail(vq, "descriptor %u: INDIRECT together with NEXT",
			       idx);
	if (!d->len || d->len % sizeof(struct vq_desc) ||
	    d->len / sizeof(struct vq_desc) > VQ_MAX_INDIRECT)
		return vq_fail(vq, "descriptor %u: bad indirect table length %u",
			       idx, d->len);
	*table = gm_ptr(vq->gm, d->addr, d->len);
	if (!*table)
		return vq_fail(vq, "descriptor %u: indirect table 0x%llx+0x%x outside guest RAM",
			       idx, (unsigned long long)d->addr, d->len);
	*n = d->len / sizeof(struct vq_desc);
	return 0;
}

/*
 * Walk the chain starting at head.  A chain visits at most size direct
 * descriptors and at most the table length inside an indirect table, which
 * bounds the walk and catches loops without a visited set.
 */
static int vq_walk(struct virtq *vq, struct vq_elem *e, uint16_t head)
{
	const struct vq_desc *table = vq->desc;
	unsigned n = vq->size, i = head, count = 0;
	bool in_indirect = false;
	struct vq_desc d;
	int ret;

	for (;;) {
		if (++count > n)
			return vq_fail(vq, "chain at %u: loop or longer than %s size %u",
				       head, in_indirect ? "indirect table" : "queue",
				       n);
		vq_read_desc(table, i, &d);
		if (d.flags & VQ_DESC_F_INDIRECT) {
			if (in_indirect)
				return vq_fail(vq, "chain at %u: indirect descriptor inside an indirect table",
					       head);
			ret = vq_enter_indirect(vq, &d, i, &table, &n);
			if (ret)
				return ret;
			in_indirect = true;
			i = 0;
			count = 0;
			continue;
		}
		ret = vq_add_seg(vq, e, &d, i);
		if (ret)
			return ret;
		if (!(d.flags & VQ_DESC_F_NEXT))
			return 0;
		if (d.next >= n)
			return vq_fail(vq, "descriptor %u: next %u out of range %u",
				       i, d.next, n);
		i = d.next;
	}
}

unsigned virtq_avail(struct virtq *vq)
{
	uint16_t idx;

	if (!vq->ready || vq->broken)
		return 0;
	idx = __atomic_load_n(&vq->avail[AVAIL_IDX], __ATOMIC_ACQUIRE);
	vq->avail_seen = idx;
	return (uint16_t)(idx - vq->last_avail);
}

int virtq_pop(struct virtq *vq, struct vq_elem *e)
{
	unsigned avail = virtq_avail(vq);
	uint16_t head;
	int ret;

	if (!avail)
		return 0;
	if (avail > vq->size)
		return vq_fail(vq, "avail index moved %u entries ahead of a %u-entry queue",
			       avail, vq->size);
	/* The acquire in virtq_avail() orders this read after idx. */
	head = __atomic_load_n(&vq->avail[AVAIL_RING + vq->last_avail % vq->size],
			       __ATOMIC_RELAXED);
	if (head >= vq->size)
		return vq_fail(vq, "avail ring entry %u: head %u out of range %u",
			       vq->last_avail % vq->size, head, vq->size);
	e->head = head;
	e->out_num = e->in_num = 0;
	e->out_len = e->in_len = 0;
	ret = vq_walk(vq, e, head);
	if (ret)
		return ret;
	vq->last_avail++;
	return 1;
}

void virtq_unpop(struct virtq *vq, unsigned n)
{
	vq->last_avail -= n;
}

/* ---- used ring ---- */

void virtq_push_head(struct virtq *vq, uint16_t head, uint32_t len)
{
	uint64_t off = USED_RING + 8ULL * (vq->used_idx % vq->size);
	struct vq_used_elem u = { .id = head, .len = len };

	if (!vq->ready)
		return;
	memcpy(vq->used + off, &u, sizeof(u));
	vq_used_dirty(vq, off, sizeof(u));
	vq->used_idx++;
}

void virtq_push(struct virtq *vq, const struct vq_elem *e, uint32_t len)
{
	uint64_t left = len;

	/* Mark what was written, after writing it (migration's dirty log). */
	for (unsigned i = e->out_num; i < e->out_num + e->in_num && left; i++) {
		uint64_t n = MIN(left, (uint64_t)e->iov[i].iov_len);

		gm_mark_dirty(vq->gm, e->gpa[i], n);
		left -= n;
	}
	virtq_push_head(vq, e->head, len);
}

bool virtq_flush(struct virtq *vq)
{
	if (!vq->ready || vq->published == vq->used_idx)
		return false;
	/* Release: the used entries are visible before the index. */
	__atomic_store_n(used_idx_ptr(vq), vq->used_idx, __ATOMIC_RELEASE);
	vq_used_dirty(vq, USED_IDX, 2);
	vq->published = vq->used_idx;
	return true;
}

/*
 * EVENT_IDX (2.7.10): interrupt when used_event lies in the window of
 * entries published since the last interrupt, [old, new).
 */
static bool vq_event_in_window(uint16_t event, uint16_t new_idx,
			       uint16_t old_idx)
{
	return (uint16_t)(new_idx - event - 1) < (uint16_t)(new_idx - old_idx);
}

bool virtq_should_notify(struct virtq *vq)
{
	uint16_t old = vq->signalled_used, event;
	bool valid = vq->signalled_valid;

	if (!vq->ready)
		return false;
	/* The driver's flags/event must be read after used->idx is seen. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (!vq->event_idx)
		return !(__atomic_load_n(&vq->avail[AVAIL_FLAGS],
					 __ATOMIC_RELAXED) &
			 VQ_AVAIL_F_NO_INTERRUPT);
	vq->signalled_used = vq->used_idx;
	vq->signalled_valid = true;
	if (!valid)
		return true;
	if (old == vq->used_idx)
		return false;
	event = __atomic_load_n(used_event_ptr(vq), __ATOMIC_RELAXED);
	return vq_event_in_window(event, vq->used_idx, old);
}

bool virtq_set_notify(struct virtq *vq, bool enable)
{
	uint16_t flags, seen = vq->avail_seen;

	if (!vq->ready || vq->broken)
		return false;
	if (vq->event_idx) {
		/*
		 * Kick me when entry 'seen' is published: the first one
		 * beyond what I know of (all of it may still be unused when
		 * it was too little, e.g. receive buffers for a big frame).
		 */
		if (enable) {
			__atomic_store_n(avail_event_ptr(vq), seen,
					 __ATOMIC_RELAXED);
			vq_used_dirty(vq, USED_RING + 8ULL * vq->size, 2);
		}
	} else {
		flags = enable ? 0 : VQ_USED_F_NO_NOTIFY;
		__atomic_store_n((uint16_t *)(vq->used + USED_FLAGS), flags,
				 __ATOMIC_RELAXED);
		vq_used_dirty(vq, USED_FLAGS, 2);
	}
	if (!enable)
		return false;
	/* Store the request, then look at avail->idx: no lost kick. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	virtq_avail(vq);
	return vq->avail_seen != seen;
}

/* ---- state ---- */

void virtq_get_state(const struct virtq *vq, struct virtq_state *s)
{
	*s = (struct virtq_state){
		.size = vq->size, .ready = vq->ready,
		.desc_gpa = vq->desc_gpa, .avail_gpa = vq->avail_gpa,
		.used_gpa = vq->used_gpa, .last_avail = vq->last_avail,
		.used_idx = vq->used_idx, .signalled_used = vq->signalled_used,
		.signalled_valid = vq->signalled_valid,
	};
}

int virtq_set_state(struct virtq *vq, const struct virtq_state *s)
{
	vq->size = s->size;
	vq->desc_gpa = s->desc_gpa;
	vq->avail_gpa = s->avail_gpa;
	vq->used_gpa = s->used_gpa;
	vq->last_avail = s->last_avail;
	vq->avail_seen = s->last_avail;
	vq->used_idx = s->used_idx;
	vq->published = s->used_idx;
	vq->signalled_used = s->signalled_used;
	vq->signalled_valid = !!s->signalled_valid;
	vq->broken = false;
	vq->ready = false;
	if (s->ready > 1) {
		vq_fail(vq, "bad ready flag %u", s->ready);
		return -EINVAL;
	}
	if (s->ready && virtq_enable(vq))
		return -EINVAL;
	return 0;
}

/* ---- iovec helpers ---- */

/* Copy between a flat buffer and the bytes of an iovec from off on. */
static size_t iov_copy(const struct iovec *iov, unsigned cnt, size_t off,
		       uint8_t *buf, size_t len, bool to_iov)
{
	size_t done = 0;

	for (unsigned i = 0; i < cnt && done < len; i++) {
		uint8_t *base = iov[i].iov_base;
		size_t n;

		if (off >= iov[i].iov_len) {
			off -= iov[i].iov_len;
			continue;
		}
		n = MIN(iov[i].iov_len - off, len - done);
		if (to_iov)
			memcpy(base + off, buf + done, n);
		else
			memcpy(buf + done, base + off, n);
		done += n;
		off = 0;
	}
	return done;
}

size_t iov_to_buf(const struct iovec *iov, unsigned cnt, size_t off,
		  void *buf, size_t len)
{
	return iov_copy(iov, cnt, off, buf, len, false);
}

size_t iov_from_buf(const struct iovec *iov, unsigned cnt, size_t off,
		    const void *buf, size_t len)
{
	/* Only read through buf: the cast serves the shared loop. */
	return iov_copy(iov, cnt, off, (uint8_t *)buf, len, true);
}
