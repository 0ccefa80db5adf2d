// SPDX-License-Identifier: MIT
/*
 * Guest RAM pre-copy: dirty tracking on the source (KVM's dirty log plus
 * guest_mem's bitmap of the VMM's own stores), batching with zero-page
 * elision, and applying batches on the destination.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <linux/kvm.h>

#include "core/util.h"
#include "migration/ram.h"

#define BITS_PER_LONG	(8 * sizeof(unsigned long))

static size_t slot_pages(const struct gm_slot *s)
{
	return s->size >> GM_PAGE_SHIFT;
}

static size_t slot_longs(const struct gm_slot *s)
{
	return (slot_pages(s) + BITS_PER_LONG - 1) / BITS_PER_LONG;
}

static int set_logging(struct mig_ram *r, bool on)
{
	for (int i = 0; i < r->gm->nr_slots; i++) {
		struct gm_slot *s = &r->gm->slots[i];
		struct kvm_userspace_memory_region m = {
			.slot = i, .guest_phys_addr = s->gpa,
			.memory_size = s->size,
			.userspace_addr = (uintptr_t)s->hva,
			.flags = on ? KVM_MEM_LOG_DIRTY_PAGES : 0,
		};

		if (ioctl(r->vm_fd, KVM_SET_USER_MEMORY_REGION, &m) < 0)
			return -errno;
	}
	r->logging = on;
	return 0;
}

static void free_bitmaps(struct mig_ram *r)
{
	for (int i = 0; i < GM_MAX_SLOTS; i++) {
		free(r->todo[i]);
		r->todo[i] = NULL;
	}
	free(r->kvm_log);
	r->kvm_log = NULL;
}

int mig_ram_start(struct mig_ram *r, struct guest_mem *gm, int vm_fd)
{
	size_t most = 0;
	int ret;

	memset(r, 0, sizeof(*r));
	r->gm = gm;
	r->vm_fd = vm_fd;
	for (int i = 0; i < gm->nr_slots; i++) {
		struct gm_slot *s = &gm->slots[i];
		size_t n = slot_longs(s);

		r->todo[i] = malloc(n * sizeof(long));
		if (!r->todo[i]) {
			ret = -ENOMEM;
			goto free_bitmaps;
		}
		/* The first pass sends everything, so start all ones. */
		memset(r->todo[i], 0xff, n * sizeof(long));
		if (slot_pages(s) % BITS_PER_LONG)
			r->todo[i][n - 1] = (1UL << (slot_pages(s) %
						     BITS_PER_LONG)) - 1;
		r->total_pages += slot_pages(s);
		most = MAX(most, n);
	}
	r->todo_pages = r->total_pages;
	r->kvm_log = calloc(most ? most : 1, sizeof(long));
	if (!r->kvm_log) {
		ret = -ENOMEM;
		goto free_bitmaps;
	}
	ret = set_logging(r, true);
	if (ret)
		goto stop_logging;
	/* Older VMM stores are in todo already; start the VMM log afresh. */
	for (int i = 0; i < gm->nr_slots; i++) {
		memset(r->kvm_log, 0, slot_longs(&gm->slots[i]) * sizeof(long));
		gm_dirty_fetch_or(gm, i, r->kvm_log);
	}
	return 0;

stop_logging:
	set_logging(r, false);
free_bitmaps:
	free_bitmaps(r);
	return ret;
}

int64_t mig_ram_sync(struct mig_ram *r)
{
	uint64_t count = 0;

	for (int i = 0; i < r->gm->nr_slots; i++) {
		struct gm_slot *s = &r->gm->slots[i];
		size_t n = slot_longs(s);
		struct kvm_dirty_log log = { .slot = i,
					     .dirty_bitmap = r->kvm_log };

		memset(r->kvm_log, 0, n * sizeof(long));
		if (ioctl(r->vm_fd, KVM_GET_DIRTY_LOG, &log) < 0)
			return -errno;
		gm_dirty_fetch_or(r->gm, i, r->kvm_log);
		for (size_t k = 0; k < n; k++) {
			r->todo[i][k] |= r->kvm_log[k];
			count += __builtin_popcountl(r->todo[i][k]);
		}
	}
	r->todo_pages = count;
	return count;
}

static bool page_is_zero(const uint8_t *p)
{
	const uint64_t *q = (const uint64_t *)p;
	uint64_t acc = 0;

	for (size_t i = 0; i < GM_PAGE_SIZE / 8; i += 8)
		acc |= q[i] | q[i + 1] | q[i + 2] | q[i + 3] | q[i + 4] |
		       q[i + 5] | q[i + 6] | q[i + 7];
	return acc == 0;
}

struct ram_batch {
	struct sbuf buf;
	uint32_t count;
};

static void batch_reset(struct ram_batch *b)
{
	uint8_t hdr[8] = { 0 };

	b->buf.len = 0;
	b->count = 0;
	sbuf_put(&b->buf, hdr, sizeof(hdr));
}

/*
 * Pages in the memfd's holes (never written: most of an idle guest's RAM)
 * are zero pages without reading them.  Reading would fault each one in
 * and, memfd being shared memory, allocate it: a migration would cost the
 * source all of the guest's RAM, and the faults most of the pass.  Pages
 * are visited in increasing order, so one SEEK_DATA/SEEK_HOLE pair per
 * populated run is enough.  A page the guest writes after this look is
 * dirty and goes again in the next pass, as for a page read.
 */
struct hole_cursor {
	int fd;
	off_t from, data, hole;	/* [from, data) is a hole, [data, hole) data */
};

static bool page_in_hole(struct hole_cursor *c, off_t off)
{
	if (c->fd < 0)
		return false;
	if (off >= c->from && off < c->data)
		return true;
	if (off >= c->data && off < c->hole)
		return false;
	c->from = off;
	c->data = lseek(c->fd, off, SEEK_DATA);
	if (c->data < 0) {		/* ENXIO: nothing but holes after off */
		c->data = c->hole = (off_t)INT64_MAX;
		return true;
	}
	c->hole = c->data;		/* unknown until asked */
	if (c->data > off)
		return true;
	c->hole = lseek(c->fd, off, SEEK_HOLE);
	if (c->hole <= off)
		c->hole = off + GM_PAGE_SIZE;
	return false;
}

static void batch_add(struct mig_ram *r, struct ram_batch *b, uint64_t gpa,
		      const uint8_t *page, bool hole)
{
	if (hole || page_is_zero(page)) {
		sbuf_put_le(&b->buf, gpa | MIG_RAM_F_ZERO, 8);
		r->zero_pages++;
	} else {
		sbuf_put_le(&b->buf, gpa, 8);
		sbuf_put(&b->buf, page, GM_PAGE_SIZE);
		r->normal_pages++;
	}
	b->count++;
}

static int batch_flush(struct ram_batch *b, struct mig_writer *w,
		       mig_ram_batch_fn fn, void *opaque)
{
	uint64_t before = w->bytes;
	int ret;

	if (!b->count)
		return 0;
	if (b->buf.err)
		return b->buf.err;
	le_write(b->buf.data, 4, b->count);
	ret = mig_write_record(w, MIG_REC_RAM, b->buf.data, b->buf.len);
	batch_reset(b);
	if (!ret && fn)
		ret = fn(opaque, w->bytes - before);
	return ret;
}

static int send_slot(struct mig_ram *r, int i, struct ram_batch *b,
		     struct mig_writer *w, mig_ram_batch_fn fn, void *opaque)
{
	struct gm_slot *s = &r->gm->slots[i];
	struct hole_cursor hc = { .fd = r->gm->memfd, .from = -1, .data = -1,
				  .hole = -1 };
	size_t n = slot_longs(s);
	int ret;

	for (size_t k = 0; k < n; k++) {
		unsigned long bits = __atomic_exchange_n(&r->todo[i][k], 0,
							 __ATOMIC_RELAXED);

		while (bits) {
			size_t page = k * BITS_PER_LONG + __builtin_ctzl(bits);

			bits &= bits - 1;
			batch_add(r, b, s->gpa + (page << GM_PAGE_SHIFT),
				  s->hva + (page << GM_PAGE_SHIFT),
				  page_in_hole(&hc, s->memfd_off +
						    ((off_t)page << GM_PAGE_SHIFT)));
			r->todo_pages--;
			if (b->count < MIG_RAM_BATCH)
				continue;
			ret = batch_flush(b, w, fn, opaque);
			if (ret) {
				/* Not sent: put the rest back for later. */
				r->todo[i][k] |= bits;
				r->todo_pages += __builtin_popcountl(bits);
				return ret;
			}
		}
	}
	return 0;
}

int mig_ram_send(struct mig_ram *r, struct mig_writer *w,
		 mig_ram_batch_fn fn, void *opaque)
{
	struct ram_batch b = { 0 };
	int ret = 0;

	batch_reset(&b);
	for (int i = 0; i < r->gm->nr_slots && !ret; i++)
		ret = send_slot(r, i, &b, w, fn, opaque);
	if (!ret)
		ret = batch_flush(&b, w, fn, opaque);
	sbuf_free(&b.buf);
	return ret;
}

void mig_ram_stop(struct mig_ram *r)
{
	if (r->logging)
		set_logging(r, false);
	free_bitmaps(r);
}

/* ---- destination ---- */

int mig_ram_dest_init(struct mig_ram_dest *d, struct guest_mem *gm)
{
	memset(d, 0, sizeof(*d));
	d->gm = gm;
	for (int i = 0; i < gm->nr_slots; i++) {
		d->loaded[i] = calloc(slot_longs(&gm->slots[i]), sizeof(long));
		if (!d->loaded[i]) {
			mig_ram_dest_destroy(d);
			return -ENOMEM;
		}
	}
	return 0;
}

void mig_ram_dest_destroy(struct mig_ram_dest *d)
{
	for (int i = 0; i < GM_MAX_SLOTS; i++) {
		free(d->loaded[i]);
		d->loaded[i] = NULL;
	}
}

static int find_slot(struct guest_mem *gm, uint64_t gpa, size_t *page)
{
	for (int i = 0; i < gm->nr_slots; i++) {
		struct gm_slot *s = &gm->slots[i];

		if (gpa >= s->gpa && gpa - s->gpa < s->size) {
			*page = (gpa - s->gpa) >> GM_PAGE_SHIFT;
			return i;
		}
	}
	return -1;
}

static int load_page(struct mig_ram_dest *d, uint64_t ent,
		     struct sreader *in, char *err, size_t errlen)
{
	uint64_t gpa = ent & ~MIG_RAM_F_MASK;
	size_t page;
	int i = find_slot(d->gm, gpa, &page);
	unsigned long bit, *word;
	uint8_t *hva;

	if ((ent & MIG_RAM_F_MASK) & ~MIG_RAM_F_ZERO || i < 0) {
		snprintf(err, errlen, "ram: bad page entry 0x%llx (not RAM here, or unknown flags)",
			 (unsigned long long)ent);
		return -EBADMSG;
	}
	hva = d->gm->slots[i].hva + (page << GM_PAGE_SHIFT);
	word = &d->loaded[i][page / BITS_PER_LONG];
	bit = 1UL << (page % BITS_PER_LONG);
	if (ent & MIG_RAM_F_ZERO) {
		/* Never written here: a fresh memfd page reads as zeroes. */
		if (*word & bit)
			memset(hva, 0, GM_PAGE_SIZE);
		*word &= ~bit;
	} else {
		if (sread(in, hva, GM_PAGE_SIZE)) {
			snprintf(err, errlen, "ram: batch ends inside a page");
			return -EBADMSG;
		}
		*word |= bit;
	}
	d->pages++;
	return 0;
}

int mig_ram_load(struct mig_ram_dest *d, const struct mig_record *rec,
		 char *err, size_t errlen)
{
	struct sreader in = mig_record_reader(rec);
	uint64_t count, reserved, ent;
	int ret;

	if (sread_le(&in, &count, 4) || sread_le(&in, &reserved, 4) ||
	    count == 0 || count > MIG_RAM_BATCH || reserved) {
		snprintf(err, errlen, "ram: bad batch header");
		return -EBADMSG;
	}
	for (uint64_t k = 0; k < count; k++) {
		if (sread_le(&in, &ent, 8)) {
			snprintf(err, errlen, "ram: batch of %llu pages ends after %llu",
				 (unsigned long long)count,
				 (unsigned long long)k);
			return -EBADMSG;
		}
		ret = load_page(d, ent, &in, err, errlen);
		if (ret)
			return ret;
	}
	if (in.off != in.len) {
		snprintf(err, errlen, "ram: %zu stray bytes after a batch",
			 in.len - in.off);
		return -EBADMSG;
	}
	return 0;
}

/*
 * The RAM digest (QMP x-query-ram-digest): word-wise multiply-xor, not
 * cryptographic.  It goes page by page and takes the memfd's holes
 * (never-written pages, most of a destination's RAM) as zero pages without
 * reading them: touching each would cost a page fault, which in the
 * emulated box adds up to seconds.
 */
static uint64_t page_hash(const uint64_t *w)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (size_t k = 0; k < GM_PAGE_SIZE / 8; k++)
		h = (h ^ w[k]) * 0x100000001b3ULL;
	return h;
}

static uint64_t digest_mix(uint64_t h, uint64_t ph)
{
	return (h ^ ph) * 0x9e3779b97f4a7c15ULL + 1;
}

static uint64_t slot_digest(const struct guest_mem *gm, const struct gm_slot *s,
			    uint64_t h, uint64_t zero_ph)
{
	off_t off = s->memfd_off, end = s->memfd_off + s->size, data, hole;

	while (off < end) {
		data = lseek(gm->memfd, off, SEEK_DATA);
		if (data < 0 || data > end)
			data = end;
		for (; off < data; off += GM_PAGE_SIZE)
			h = digest_mix(h, zero_ph);
		if (off >= end)
			break;
		hole = lseek(gm->memfd, data, SEEK_HOLE);
		if (hole < 0 || hole > end)
			hole = end;
		for (; off < hole; off += GM_PAGE_SIZE)
			h = digest_mix(h, page_hash((const uint64_t *)
				(s->hva + (off - s->memfd_off))));
	}
	return h;
}

uint64_t mig_ram_digest(const struct guest_mem *gm)
{
	static const uint64_t zero[GM_PAGE_SIZE / 8];
	uint64_t h = 0x9e3779b97f4a7c15ULL, zero_ph = page_hash(zero);

	for (int i = 0; i < gm->nr_slots; i++)
		h = slot_digest(gm, &gm->slots[i], h, zero_ph);
	return h;
}
