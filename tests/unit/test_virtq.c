// SPDX-License-Identifier: MIT
/* Split virtqueue chain walking, used ring, notifications (src/virtio/virtq.c). */
#include <stdlib.h>

#include "helpers.h"

#include "core/guest_mem.h"
#include "core/util.h"
#include "virtio/virtq.h"

#define RAM		(1 * MiB)
#define QSZ		8
#define DESC		0x1000
#define AVAIL		0x2000
#define USED		0x3000
#define BUF		0x10000
#define MAXSEG		16

struct fixture {
	struct guest_mem gm;
	struct virtq vq;
	struct iovec iov[MAXSEG];
	uint64_t gpa[MAXSEG];
	struct vq_elem e;
	uint16_t avail_idx;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	assert_int_equal(gm_init(&f->gm, RAM), 0);
	f->vq.gm = &f->gm;
	f->vq.size = QSZ;
	f->vq.desc_gpa = DESC;
	f->vq.avail_gpa = AVAIL;
	f->vq.used_gpa = USED;
	f->vq.indirect = true;
	assert_int_equal(virtq_enable(&f->vq), 0);
	f->e = (struct vq_elem){ .iov = f->iov, .gpa = f->gpa, .max = MAXSEG };
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	gm_destroy(&f->gm);
	free(f);
	return 0;
}

static void put_desc_at(struct fixture *f, uint64_t table, unsigned i,
			uint64_t addr, uint32_t len, uint16_t flags,
			uint16_t next)
{
	struct vq_desc d = { addr, len, flags, next };

	assert_int_equal(gm_write(&f->gm, table + 16 * i, &d, sizeof(d)), 0);
}

static void put_desc(struct fixture *f, unsigned i, uint64_t addr,
		     uint32_t len, uint16_t flags, uint16_t next)
{
	put_desc_at(f, DESC, i, addr, len, flags, next);
}

/* Make head available. */
static void offer(struct fixture *f, uint16_t head)
{
	uint16_t idx;

	gm_write(&f->gm, AVAIL + 4 + 2 * (f->avail_idx % QSZ), &head, 2);
	idx = ++f->avail_idx;
	gm_write(&f->gm, AVAIL + 2, &idx, 2);
}

static uint16_t used_idx(struct fixture *f)
{
	uint16_t v;

	gm_read(&f->gm, USED + 2, &v, 2);
	return v;
}

static struct vq_used_elem used_elem(struct fixture *f, unsigned i)
{
	struct vq_used_elem u;

	gm_read(&f->gm, USED + 4 + 8 * (i % QSZ), &u, sizeof(u));
	return u;
}

/* Expect the next pop to fail with a reason containing what. */
static void expect_broken(struct fixture *f, const char *what)
{
	assert_int_equal(virtq_pop(&f->vq, &f->e), -EIO);
	assert_true(f->vq.broken);
	if (!strstr(f->vq.err, what))
		fail_msg("reason '%s' lacks '%s'", f->vq.err, what);
	/* A broken queue is inert. */
	assert_int_equal(virtq_avail(&f->vq), 0);
	assert_int_equal(virtq_pop(&f->vq, &f->e), 0);
}

/* ---- enabling ---- */

static void test_enable_checks(void **state)
{
	struct fixture *f = *state;
	struct virtq vq = { .gm = &f->gm, .size = 6, .desc_gpa = DESC,
			    .avail_gpa = AVAIL, .used_gpa = USED };

	assert_int_equal(virtq_enable(&vq), -EINVAL);
	assert_non_null(strstr(vq.err, "power of two"));
	vq = (struct virtq){ .gm = &f->gm, .size = 8, .desc_gpa = DESC + 8,
			     .avail_gpa = AVAIL, .used_gpa = USED };
	assert_int_equal(virtq_enable(&vq), -EINVAL);
	assert_non_null(strstr(vq.err, "misaligned"));
	vq = (struct virtq){ .gm = &f->gm, .size = 8, .desc_gpa = DESC,
			     .avail_gpa = AVAIL, .used_gpa = RAM - 16 };
	assert_int_equal(virtq_enable(&vq), -EINVAL);
	assert_non_null(strstr(vq.err, "outside guest RAM"));
	vq = (struct virtq){ .gm = &f->gm, .size = 2048, .desc_gpa = DESC,
			     .avail_gpa = AVAIL, .used_gpa = USED };
	assert_int_equal(virtq_enable(&vq), -EINVAL);
	vq = (struct virtq){ .gm = &f->gm, .size = 0 };
	assert_int_equal(virtq_enable(&vq), -EINVAL);
	assert_false(vq.ready);
}

/* ---- well-formed chains ---- */

static void test_simple_chain(void **state)
{
	struct fixture *f = *state;
	unsigned long dirty[RAM / GM_PAGE_SIZE / 64 + 1] = { 0 };
	struct vq_used_elem u;

	gm_write(&f->gm, BUF, "hello", 5);
	put_desc(f, 3, BUF, 5, VQ_DESC_F_NEXT, 5);
	put_desc(f, 5, BUF + 0x100, 10, VQ_DESC_F_NEXT, 1);
	put_desc(f, 1, BUF + 0x5000, 100, VQ_DESC_F_WRITE, 0);
	assert_int_equal(virtq_pop(&f->vq, &f->e), 0);
	offer(f, 3);
	assert_int_equal(virtq_avail(&f->vq), 1);
	assert_int_equal(virtq_pop(&f->vq, &f->e), 1);
	assert_int_equal(f->e.head, 3);
	assert_int_equal(f->e.out_num, 2);
	assert_int_equal(f->e.in_num, 1);
	assert_int_equal(f->e.out_len, 15);
	assert_int_equal(f->e.in_len, 100);
	assert_memory_equal(f->e.iov[0].iov_base, "hello", 5);
	assert_ptr_equal(f->e.iov[2].iov_base, gm_ptr(&f->gm, BUF + 0x5000, 1));
	assert_int_equal(f->e.gpa[2], BUF + 0x5000);
	assert_int_equal(virtq_pop(&f->vq, &f->e), 0);

	/* Push: visible only after flush; written pages marked dirty. */
	gm_dirty_fetch_or(&f->gm, 0, dirty);
	memset(dirty, 0, sizeof(dirty));
	virtq_push(&f->vq, &f->e, 42);
	assert_int_equal(used_idx(f), 0);
	virtq_flush(&f->vq);
	assert_int_equal(used_idx(f), 1);
	u = used_elem(f, 0);
	assert_int_equal(u.id, 3);
	assert_int_equal(u.len, 42);
	gm_dirty_fetch_or(&f->gm, 0, dirty);
	assert_true(dirty[0] & (1UL << ((BUF + 0x5000) >> 12)));
	assert_true(dirty[0] & (1UL << (USED >> 12)));
	assert_false(dirty[0] & (1UL << (BUF >> 12)));	/* only read */
}

static void test_indirect_chain(void **state)
{
	struct fixture *f = *state;
	uint64_t table = 0x8000;

	put_desc_at(f, table, 0, BUF, 12, VQ_DESC_F_NEXT, 2);
	put_desc_at(f, table, 2, BUF + 0x40, 30, VQ_DESC_F_NEXT, 1);
	put_desc_at(f, table, 1, BUF + 0x80, 64, VQ_DESC_F_WRITE, 0);
	/* A direct descriptor first, then the table (allowed by 2.7.5.3). */
	put_desc(f, 0, BUF + 0x200, 4, VQ_DESC_F_NEXT, 4);
	put_desc(f, 4, table, 3 * 16, VQ_DESC_F_INDIRECT, 0);
	offer(f, 0);
	assert_int_equal(virtq_pop(&f->vq, &f->e), 1);
	assert_int_equal(f->e.out_num, 3);
	assert_int_equal(f->e.in_num, 1);
	assert_int_equal(f->e.out_len, 46);
	assert_int_equal(f->e.gpa[3], BUF + 0x80);
}

static void test_zero_length_skipped(void **state)
{
	struct fixture *f = *state;

	put_desc(f, 0, 0xdeadbeef000ULL, 0, VQ_DESC_F_NEXT, 1);
	put_desc(f, 1, BUF, 8, 0, 0);
	offer(f, 0);
	assert_int_equal(virtq_pop(&f->vq, &f->e), 1);
	assert_int_equal(f->e.out_num, 1);
	assert_int_equal(f->e.gpa[0], BUF);
}

static void test_unpop_and_wrap(void **state)
{
	struct fixture *f = *state;

	put_desc(f, 0, BUF, 8, 0, 0);
	for (unsigned round = 0; round < 3 * QSZ; round++) {
		offer(f, 0);
		assert_int_equal(virtq_pop(&f->vq, &f->e), 1);
		virtq_unpop(&f->vq, 1);
		assert_int_equal(virtq_pop(&f->vq, &f->e), 1);
		virtq_push(&f->vq, &f->e, 0);
		virtq_flush(&f->vq);
	}
	assert_int_equal(used_idx(f), 3 * QSZ);
	assert_int_equal(f->vq.last_avail, 3 * QSZ);
}

/* ---- malformed rings: each breaks the queue with a reason ---- */

static void test_bad_outside_ram(void **state)
{
	struct fixture *f = *state;

	put_desc(f, 0, RAM - 4, 8, 0, 0);
	offer(f, 0);
	expect_broken(f, "outside guest RAM");
}

static void test_bad_huge_addr(void **state)
{
	struct fixture *f = *state;

	put_desc(f, 0, ~0ULL - 2, 0xffffffff, 0, 0);
	offer(f, 0);
	expect_broken(f, "outside guest RAM");
}

static void test_bad_loop(void **state)
{
	struct fixture *f = *state;

	put_desc(f, 0, BUF, 8, VQ_DESC_F_NEXT, 1);
	put_desc(f, 1, BUF, 8, VQ_DESC_F_NEXT, 0);
	offer(f, 0);
	expect_broken(f, "loop");
}

static void test_bad_self_loop(void **state)
{
	struct fixture *f = *state;

	put_desc(f, 2, BUF, 8, VQ_DESC_F_NEXT, 2);
	offer(f, 2);
	expect_broken(f, "loop");
}

static void test_bad_next_range(void **state)
{
	struct fixture *f = *state;

	put_desc(f, 0, BUF, 8, VQ_DESC_F_NEXT, QSZ);
	offer(f, 0);
	expect_broken(f, "out of range");
}

static void test_bad_head(void **state)
{
	struct fixture *f = *state;

	offer(f, QSZ + 3);
	expect_broken(f, "head");
}

static void test_bad_avail_jump(void **state)
{
	struct fixture *f = *state;
	uint16_t idx = QSZ + 1;

	gm_write(&f->gm, AVAIL + 2, &idx, 2);
	expect_broken(f, "avail index");
}

static void test_bad_direction(void **state)
{
	struct fixture *f = *state;

	put_desc(f, 0, BUF, 8, VQ_DESC_F_WRITE | VQ_DESC_F_NEXT, 1);
	put_desc(f, 1, BUF, 8, 0, 0);
	offer(f, 0);
	expect_broken(f, "device-readable after device-writable");
}

static void test_bad_too_many_segments(void **state)
{
	struct fixture *f = *state;

	f->e.max = 2;
	put_desc(f, 0, BUF, 8, VQ_DESC_F_NEXT, 1);
	put_desc(f, 1, BUF, 8, VQ_DESC_F_NEXT, 2);
	put_desc(f, 2, BUF, 8, 0, 0);
	offer(f, 0);
	expect_broken(f, "more than 2 buffers");
}

static void test_bad_indirect_not_negotiated(void **state)
{
	struct fixture *f = *state;

	f->vq.indirect = false;
	put_desc_at(f, 0x8000, 0, BUF, 8, 0, 0);
	put_desc(f, 0, 0x8000, 16, VQ_DESC_F_INDIRECT, 0);
	offer(f, 0);
	expect_broken(f, "not negotiated");
}

static void test_bad_indirect_nested(void **state)
{
	struct fixture *f = *state;

	put_desc_at(f, 0x8000, 0, 0x9000, 16, VQ_DESC_F_INDIRECT, 0);
	put_desc_at(f, 0x9000, 0, BUF, 8, 0, 0);
	put_desc(f, 0, 0x8000, 16, VQ_DESC_F_INDIRECT, 0);
	offer(f, 0);
	expect_broken(f, "inside an indirect table");
}

static void test_bad_indirect_with_next(void **state)
{
	struct fixture *f = *state;

	put_desc_at(f, 0x8000, 0, BUF, 8, 0, 0);
	put_desc(f, 0, 0x8000, 16, VQ_DESC_F_INDIRECT | VQ_DESC_F_NEXT, 1);
	put_desc(f, 1, BUF, 8, 0, 0);
	offer(f, 0);
	expect_broken(f, "INDIRECT together with NEXT");
}

static void test_bad_indirect_len(void **state)
{
	struct fixture *f = *state;

	put_desc(f, 0, 0x8000, 24, VQ_DESC_F_INDIRECT, 0);
	offer(f, 0);
	expect_broken(f, "indirect table length 24");
}

static void test_bad_indirect_empty(void **state)
{
	struct fixture *f = *state;

	put_desc(f, 0, 0x8000, 0, VQ_DESC_F_INDIRECT, 0);
	offer(f, 0);
	expect_broken(f, "indirect table length 0");
}

static void test_bad_indirect_too_long(void **state)
{
	struct fixture *f = *state;

	put_desc(f, 0, 0x8000, 16 * (VQ_MAX_INDIRECT + 1), VQ_DESC_F_INDIRECT, 0);
	offer(f, 0);
	expect_broken(f, "indirect table length");
}

static void test_bad_indirect_outside(void **state)
{
	struct fixture *f = *state;

	put_desc(f, 0, RAM - 16, 32, VQ_DESC_F_INDIRECT, 0);
	offer(f, 0);
	expect_broken(f, "indirect table");
}

static void test_bad_indirect_loop(void **state)
{
	struct fixture *f = *state;

	put_desc_at(f, 0x8000, 0, BUF, 8, VQ_DESC_F_NEXT, 1);
	put_desc_at(f, 0x8000, 1, BUF, 8, VQ_DESC_F_NEXT, 0);
	put_desc(f, 0, 0x8000, 32, VQ_DESC_F_INDIRECT, 0);
	offer(f, 0);
	expect_broken(f, "indirect table");
}

static void test_bad_indirect_next_range(void **state)
{
	struct fixture *f = *state;

	put_desc_at(f, 0x8000, 0, BUF, 8, VQ_DESC_F_NEXT, 2);
	put_desc(f, 0, 0x8000, 32, VQ_DESC_F_INDIRECT, 0);
	offer(f, 0);
	expect_broken(f, "out of range 2");
}

/* ---- notifications ---- */

static void test_notify_no_event_idx(void **state)
{
	struct fixture *f = *state;
	uint16_t flags = VQ_AVAIL_F_NO_INTERRUPT, uf;

	assert_true(virtq_should_notify(&f->vq));
	gm_write(&f->gm, AVAIL, &flags, 2);
	assert_false(virtq_should_notify(&f->vq));
	/* Device side: NO_NOTIFY in used->flags. */
	assert_false(virtq_set_notify(&f->vq, false));
	gm_read(&f->gm, USED, &uf, 2);
	assert_int_equal(uf, VQ_USED_F_NO_NOTIFY);
	assert_false(virtq_set_notify(&f->vq, true));
	gm_read(&f->gm, USED, &uf, 2);
	assert_int_equal(uf, 0);
	put_desc(f, 0, BUF, 8, 0, 0);
	offer(f, 0);
	assert_true(virtq_set_notify(&f->vq, true));
}

static void test_notify_event_idx(void **state)
{
	struct fixture *f = *state;
	uint16_t used_event, avail_event;

	f->vq.event_idx = true;
	put_desc(f, 0, BUF, 8, 0, 0);
	/* The first notification after enable is always sent. */
	virtq_push_head(&f->vq, 0, 0);
	virtq_flush(&f->vq);
	assert_true(virtq_should_notify(&f->vq));
	/* Driver wants an interrupt when used idx passes 3. */
	used_event = 3;
	gm_write(&f->gm, AVAIL + 4 + 2 * QSZ, &used_event, 2);
	virtq_push_head(&f->vq, 0, 0);		/* used 2 */
	virtq_flush(&f->vq);
	assert_false(virtq_should_notify(&f->vq));
	virtq_push_head(&f->vq, 0, 0);		/* used 3 */
	virtq_push_head(&f->vq, 0, 0);		/* used 4: crosses 3 */
	virtq_flush(&f->vq);
	assert_true(virtq_should_notify(&f->vq));
	/* Nothing new since: no interrupt. */
	assert_false(virtq_should_notify(&f->vq));

	/* Kick requests go to avail_event: the index not yet seen. */
	offer(f, 0);
	offer(f, 0);
	assert_int_equal(virtq_pop(&f->vq, &f->e), 1);
	assert_false(virtq_set_notify(&f->vq, true));
	gm_read(&f->gm, USED + 4 + 8 * QSZ, &avail_event, 2);
	assert_int_equal(avail_event, 2);
	offer(f, 0);
	assert_true(virtq_set_notify(&f->vq, true));
	gm_read(&f->gm, USED + 4 + 8 * QSZ, &avail_event, 2);
	assert_int_equal(avail_event, 2);
}

/* ---- state ---- */

static void test_state(void **state)
{
	struct fixture *f = *state;
	struct virtq_state s;
	struct virtq vq = { .gm = &f->gm };

	put_desc(f, 0, BUF, 8, 0, 0);
	offer(f, 0);
	offer(f, 0);
	assert_int_equal(virtq_pop(&f->vq, &f->e), 1);
	virtq_push(&f->vq, &f->e, 0);
	virtq_get_state(&f->vq, &s);
	assert_int_equal(virtq_set_state(&vq, &s), 0);
	assert_true(vq.ready);
	assert_int_equal(vq.last_avail, 1);
	assert_int_equal(vq.used_idx, 1);
	assert_int_equal(virtq_pop(&vq, &f->e), 1);
	assert_int_equal(virtq_pop(&vq, &f->e), 0);
	/* Rings that are not RAM on this side are refused. */
	s.used_gpa = RAM;
	assert_int_equal(virtq_set_state(&vq, &s), -EINVAL);
	assert_false(vq.ready);
	s.used_gpa = USED;
	s.ready = 7;
	assert_int_equal(virtq_set_state(&vq, &s), -EINVAL);
	/* Not ready: rings are not looked at. */
	s = (struct virtq_state){ .size = 3, .used_gpa = ~0ULL };
	assert_int_equal(virtq_set_state(&vq, &s), 0);
	assert_false(vq.ready);
}

static void test_iov_helpers(void **state)
{
	char a[4], b[3], c[5], out[12];
	struct iovec iov[3] = { { a, 4 }, { b, 3 }, { c, 5 } };

	assert_int_equal(iov_from_buf(iov, 3, 2, "0123456789", 10), 10);
	assert_memory_equal(a + 2, "01", 2);
	assert_memory_equal(b, "234", 3);
	assert_memory_equal(c, "56789", 5);
	assert_int_equal(iov_to_buf(iov, 3, 5, out, 12), 7);
	assert_memory_equal(out, "3456789", 7);
	assert_int_equal(iov_to_buf(iov, 3, 12, out, 1), 0);
	assert_int_equal(iov_from_buf(iov, 3, 11, "xy", 2), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
		T(test_enable_checks),
		T(test_simple_chain),
		T(test_indirect_chain),
		T(test_zero_length_skipped),
		T(test_unpop_and_wrap),
		T(test_bad_outside_ram),
		T(test_bad_huge_addr),
		T(test_bad_loop),
		T(test_bad_self_loop),
		T(test_bad_next_range),
		T(test_bad_head),
		T(test_bad_avail_jump),
		T(test_bad_direction),
		T(test_bad_too_many_segments),
		T(test_bad_indirect_not_negotiated),
		T(test_bad_indirect_nested),
		T(test_bad_indirect_with_next),
		T(test_bad_indirect_len),
		T(test_bad_indirect_empty),
		T(test_bad_indirect_too_long),
		T(test_bad_indirect_outside),
		T(test_bad_indirect_loop),
		T(test_bad_indirect_next_range),
		T(test_notify_no_event_idx),
		T(test_notify_event_idx),
		T(test_state),
		T(test_iov_helpers),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
