// SPDX-License-Identifier: MIT
/* Guest memory layout, bounds checks and VMM dirty bits (src/core/guest_mem.c). */
#include <stdlib.h>

#include "helpers.h"

#include "core/guest_mem.h"
#include "core/util.h"

#define BPL	(8 * sizeof(unsigned long))

static void test_layout_small(void **state)
{
	struct guest_mem gm;

	assert_int_equal(gm_layout(&gm, 256 * MiB), 0);
	assert_int_equal(gm.nr_slots, 1);
	assert_int_equal(gm.ram_size, 256 * MiB);
	assert_int_equal(gm.slots[0].gpa, 0);
	assert_int_equal(gm.slots[0].size, 256 * MiB);
	assert_int_equal(gm.slots[0].memfd_off, 0);
	assert_null(gm.slots[0].hva);	/* layout allocates nothing */
	assert_null(gm.base);
	assert_int_equal(gm.memfd, -1);
}

static void test_layout_exactly_3g(void **state)
{
	struct guest_mem gm;

	assert_int_equal(gm_layout(&gm, 3 * GiB), 0);
	assert_int_equal(gm.nr_slots, 1);
	assert_int_equal(gm.slots[0].gpa, 0);
	assert_int_equal(gm.slots[0].size, 3 * GiB);
	assert_int_equal(gm.slots[0].gpa + gm.slots[0].size, GM_MMIO_HOLE_START);
}

static void test_layout_above_hole(void **state)
{
	struct guest_mem gm;

	assert_int_equal(gm_layout(&gm, 5 * GiB), 0);
	assert_int_equal(gm.nr_slots, 2);
	assert_int_equal(gm.ram_size, 5 * GiB);
	assert_int_equal(gm.slots[0].gpa, 0);
	assert_int_equal(gm.slots[0].size, 3 * GiB);
	assert_int_equal(gm.slots[1].gpa, 4 * GiB);
	assert_int_equal(gm.slots[1].size, 2 * GiB);
	/* The high slot continues the memfd where the low one stopped. */
	assert_int_equal(gm.slots[1].memfd_off, 3 * GiB);

	/* One page over the hole start already spills above 4G. */
	assert_int_equal(gm_layout(&gm, 3 * GiB + GM_PAGE_SIZE), 0);
	assert_int_equal(gm.nr_slots, 2);
	assert_int_equal(gm.slots[1].gpa, GM_4G);
	assert_int_equal(gm.slots[1].size, GM_PAGE_SIZE);
}

static void test_layout_rejects(void **state)
{
	struct guest_mem gm;

	assert_int_equal(gm_layout(&gm, 0), -EINVAL);
	assert_int_equal(gm_layout(&gm, 4097), -EINVAL);
	assert_int_equal(gm_layout(&gm, 256 * MiB + 1), -EINVAL);
	assert_int_equal(gm_layout(&gm, 1ULL << 47), -ERANGE);
	assert_int_equal(gm_layout(&gm, ~0ULL & ~(GM_PAGE_SIZE - 1)), -ERANGE);
}

/* ---- bounds ---- */

static void test_rw_bounds_single_slot(void **state)
{
	const uint64_t size = 16 * MiB;
	struct guest_mem gm;
	uint8_t buf[16], b = 0x5a;

	assert_int_equal(gm_init(&gm, size), 0);

	/* Last byte is RAM; one past it is not. */
	assert_int_equal(gm_write(&gm, size - 1, &b, 1), 0);
	b = 0;
	assert_int_equal(gm_read(&gm, size - 1, &b, 1), 0);
	assert_int_equal(b, 0x5a);
	assert_int_equal(gm_read(&gm, size, &b, 1), -EFAULT);
	assert_int_equal(gm_write(&gm, size, &b, 1), -EFAULT);

	/* A range straddling the end is refused as a whole. */
	memset(buf, 0x11, sizeof(buf));
	assert_int_equal(gm_write(&gm, size - 8, buf, 16), -EFAULT);
	assert_int_equal(gm_read(&gm, size - 8, buf, 16), -EFAULT);
	assert_int_equal(gm_read(&gm, size - 8, buf, 8), 0);
	/* ... and did not write the part that was in range. */
	for (int i = 0; i < 7; i++)
		assert_int_equal(buf[i], 0);

	/* Hostile sizes and addresses that would wrap gpa + len. */
	assert_int_equal(gm_read(&gm, ~0ULL, buf, 1), -EFAULT);
	assert_int_equal(gm_read(&gm, ~0ULL - 7, buf, 16), -EFAULT);
	assert_int_equal(gm_read(&gm, 8, buf, ~0ULL), -EFAULT);
	assert_int_equal(gm_write(&gm, 8, buf, ~0ULL), -EFAULT);
	assert_int_equal(gm_read(&gm, 1 * MiB, buf, ~0ULL - 1 * MiB + 2), -EFAULT);
	assert_int_equal(gm_read(&gm, 0, buf, size + 1), -EFAULT);
	assert_null(gm_ptr(&gm, ~0ULL, 2));
	assert_null(gm_ptr_w(&gm, size, 1));
	assert_null(gm_ptr(&gm, 4096, ~0ULL));

	/* Whole RAM in one range is fine; so is an empty range. */
	assert_non_null(gm_ptr(&gm, 0, size));
	assert_int_equal(gm_read(&gm, 100, buf, 0), 0);
	assert_true(gm_is_ram(&gm, 0, size));
	assert_false(gm_is_ram(&gm, 1, size));
	assert_false(gm_is_ram(&gm, 3 * GiB, 1));
	gm_destroy(&gm);
}

static void test_rw_roundtrip(void **state)
{
	struct guest_mem gm;
	uint8_t in[300], out[300];

	assert_int_equal(gm_init(&gm, 16 * MiB), 0);
	for (unsigned i = 0; i < sizeof(in); i++)
		in[i] = i * 7 + 3;
	/* Crosses a page boundary. */
	assert_int_equal(gm_write(&gm, 2 * GM_PAGE_SIZE - 100, in, sizeof(in)), 0);
	assert_int_equal(gm_read(&gm, 2 * GM_PAGE_SIZE - 100, out, sizeof(out)), 0);
	assert_memory_equal(in, out, sizeof(in));
	/* gm_ptr sees the same bytes at the same place. */
	assert_memory_equal(gm_ptr(&gm, 2 * GM_PAGE_SIZE - 100, sizeof(in)), in,
			    sizeof(in));
	gm_destroy(&gm);
}

static void test_rw_bounds_two_slots(void **state)
{
	struct guest_mem gm;
	uint8_t b = 0xc3, buf[8];

	/* 5G of MAP_NORESERVE memfd: nothing is touched but a few pages. */
	assert_int_equal(gm_init(&gm, 5 * GiB), 0);
	assert_int_equal(gm.nr_slots, 2);

	/* Low slot end, the hole, and the high slot. */
	assert_int_equal(gm_write(&gm, 3 * GiB - 1, &b, 1), 0);
	assert_int_equal(gm_write(&gm, 3 * GiB, &b, 1), -EFAULT);
	assert_int_equal(gm_read(&gm, 3 * GiB + 12345, &b, 1), -EFAULT);
	assert_int_equal(gm_read(&gm, 4 * GiB - 1, &b, 1), -EFAULT);
	assert_int_equal(gm_write(&gm, 3 * GiB - 4, buf, 8), -EFAULT);
	assert_false(gm_is_ram(&gm, 3 * GiB, GiB));

	b = 0x77;
	assert_int_equal(gm_write(&gm, 4 * GiB, &b, 1), 0);
	/* High RAM is the memfd right after low RAM. */
	assert_int_equal(gm.base[3 * GiB], 0x77);
	assert_int_equal(gm.base[3 * GiB - 1], 0xc3);

	/* An access may not span the hole even though both ends are RAM. */
	assert_null(gm_ptr(&gm, 3 * GiB - 1, GiB + 2));

	assert_int_equal(gm_write(&gm, 6 * GiB - 1, &b, 1), 0);
	assert_int_equal(gm_read(&gm, 6 * GiB - 1, &b, 1), 0);
	assert_int_equal(gm_read(&gm, 6 * GiB, &b, 1), -EFAULT);
	assert_int_equal(gm_read(&gm, 6 * GiB - 4, buf, 8), -EFAULT);
	assert_int_equal(gm_read(&gm, 4 * GiB + 8, buf, ~0ULL - 4), -EFAULT);
	gm_destroy(&gm);
}

static void test_init_rejects(void **state)
{
	struct guest_mem gm;

	assert_int_equal(gm_init(&gm, 0), -EINVAL);
	assert_int_equal(gm_init(&gm, 12345), -EINVAL);
	/* Failed init leaves nothing to free; destroy is still safe. */
	gm_destroy(&gm);
}

/* ---- dirty tracking ---- */

static unsigned long *fetch(struct guest_mem *gm, int slot)
{
	size_t n = (gm->slots[slot].size / GM_PAGE_SIZE + BPL - 1) / BPL;
	unsigned long *bm = calloc(n, sizeof(*bm));

	assert_non_null(bm);
	gm_dirty_fetch_or(gm, slot, bm);
	return bm;
}

static bool bit(const unsigned long *bm, uint64_t page)
{
	return bm[page / BPL] >> (page % BPL) & 1;
}

static unsigned count_bits(const unsigned long *bm, uint64_t pages)
{
	unsigned n = 0;

	for (uint64_t p = 0; p < pages; p++)
		n += bit(bm, p);
	return n;
}

static void test_dirty_bits(void **state)
{
	const uint64_t size = 16 * MiB, pages = size / GM_PAGE_SIZE;
	struct guest_mem gm;
	uint8_t buf[2 * 4096] = { 1 };
	unsigned long *bm;

	assert_int_equal(gm_init(&gm, size), 0);
	bm = fetch(&gm, 0);
	assert_int_equal(count_bits(bm, pages), 0);
	free(bm);

	/* Reads and read pointers never dirty. */
	assert_int_equal(gm_read(&gm, 5 * GM_PAGE_SIZE, buf, 100), 0);
	assert_non_null(gm_ptr(&gm, 6 * GM_PAGE_SIZE, 4096));
	/* Failed writes do not either. */
	assert_int_equal(gm_write(&gm, size - 1, buf, 2), -EFAULT);
	assert_null(gm_ptr_w(&gm, size - 4096, 8192));
	bm = fetch(&gm, 0);
	assert_int_equal(count_bits(bm, pages), 0);
	free(bm);

	/* One byte dirties its page; a page-crossing write dirties both. */
	assert_int_equal(gm_write(&gm, 3 * GM_PAGE_SIZE + 17, buf, 1), 0);
	assert_int_equal(gm_write(&gm, 10 * GM_PAGE_SIZE - 1, buf, 2), 0);
	assert_non_null(gm_ptr_w(&gm, 70 * GM_PAGE_SIZE, 2 * GM_PAGE_SIZE));
	assert_int_equal(gm_write(&gm, size - 1, buf, 1), 0);
	gm_mark_dirty(&gm, 200 * GM_PAGE_SIZE, 1);
	bm = fetch(&gm, 0);
	assert_true(bit(bm, 3));
	assert_true(bit(bm, 9));
	assert_true(bit(bm, 10));
	assert_true(bit(bm, 70));
	assert_true(bit(bm, 71));
	assert_true(bit(bm, pages - 1));
	assert_true(bit(bm, 200));
	assert_int_equal(count_bits(bm, pages), 7);
	free(bm);

	/* Fetching cleared them. */
	bm = fetch(&gm, 0);
	assert_int_equal(count_bits(bm, pages), 0);

	/* Fetch ORs into the caller's bitmap: bits already there stay. */
	bm[0] = 1UL << 1;
	assert_int_equal(gm_write(&gm, 2 * GM_PAGE_SIZE, buf, 1), 0);
	gm_dirty_fetch_or(&gm, 0, bm);
	assert_true(bit(bm, 1));
	assert_true(bit(bm, 2));
	assert_int_equal(count_bits(bm, pages), 2);
	free(bm);
	gm_destroy(&gm);
}

static void test_dirty_high_slot(void **state)
{
	struct guest_mem gm;
	uint8_t b = 1;
	unsigned long *lo, *hi;

	assert_int_equal(gm_init(&gm, 3 * GiB + 64 * MiB), 0);
	assert_int_equal(gm.nr_slots, 2);
	assert_int_equal(gm_write(&gm, GM_4G + 130 * GM_PAGE_SIZE + 5, &b, 1), 0);
	lo = fetch(&gm, 0);
	hi = fetch(&gm, 1);
	/* Bits are per slot, counted from the slot's start. */
	assert_int_equal(count_bits(lo, gm.slots[0].size / GM_PAGE_SIZE), 0);
	assert_true(bit(hi, 130));
	assert_int_equal(count_bits(hi, gm.slots[1].size / GM_PAGE_SIZE), 1);
	free(lo);
	free(hi);
	gm_destroy(&gm);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_layout_small),
		cmocka_unit_test(test_layout_exactly_3g),
		cmocka_unit_test(test_layout_above_hole),
		cmocka_unit_test(test_layout_rejects),
		cmocka_unit_test(test_rw_bounds_single_slot),
		cmocka_unit_test(test_rw_roundtrip),
		cmocka_unit_test(test_rw_bounds_two_slots),
		cmocka_unit_test(test_init_rejects),
		cmocka_unit_test(test_dirty_bits),
		cmocka_unit_test(test_dirty_high_slot),
	};

	return cmocka_run_group_tests_name("core_guest_mem", tests, NULL, NULL);
}
