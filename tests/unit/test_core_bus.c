// SPDX-License-Identifier: MIT
/* I/O bus registration and dispatch (src/core/bus.c). */
#include <stdlib.h>

#include "helpers.h"

#include "core/bus.h"
#include "core/util.h"

/* A device with 64 bytes of little-endian registers that logs each call. */
struct call {
	int is_write;
	uint64_t off;
	unsigned size;
	uint64_t val;
};

struct fake_dev {
	uint8_t regs[64];
	struct call calls[32];
	unsigned ncalls;
};

static uint64_t dev_read(void *opaque, uint64_t off, unsigned size)
{
	struct fake_dev *d = opaque;
	uint64_t v = off + size <= sizeof(d->regs) ? le_read(d->regs + off, size)
						  : 0xbad;

	assert_true(d->ncalls < ARRAY_SIZE(d->calls));
	d->calls[d->ncalls++] = (struct call){ 0, off, size, v };
	return v;
}

static void dev_write(void *opaque, uint64_t off, uint64_t val, unsigned size)
{
	struct fake_dev *d = opaque;

	assert_true(d->ncalls < ARRAY_SIZE(d->calls));
	d->calls[d->ncalls++] = (struct call){ 1, off, size, val };
	if (off + size <= sizeof(d->regs))
		le_write(d->regs + off, size, val);
}

static const struct bus_ops any_ops = { .read = dev_read, .write = dev_write };
static const struct bus_ops max4_ops = {
	.read = dev_read, .write = dev_write, .max_size = 4,
};
static const struct bus_ops byte_ops = {
	.read = dev_read, .write = dev_write, .max_size = 1,
};
static const struct bus_ops min4_ops = {
	.read = dev_read, .write = dev_write, .min_size = 4, .max_size = 4,
};
static const struct bus_ops exact8_ops = {
	.read = dev_read, .write = dev_write, .min_size = 8, .max_size = 8,
};

static void expect_call(const struct fake_dev *d, unsigned i, int is_write,
			uint64_t off, unsigned size, uint64_t val)
{
	assert_true(i < d->ncalls);
	assert_int_equal(d->calls[i].is_write, is_write);
	assert_int_equal(d->calls[i].off, off);
	assert_int_equal(d->calls[i].size, size);
	assert_int_equal(d->calls[i].val, val);
}

static int setup(void **state)
{
	struct bus *bus = calloc(1, sizeof(*bus));

	if (!bus || bus_init(bus, "test"))
		return -1;
	*state = bus;
	return 0;
}

static int teardown(void **state)
{
	bus_destroy(*state);
	free(*state);
	return 0;
}

static void test_register_overlap(void **state)
{
	struct bus *bus = *state;
	struct fake_dev a = { 0 }, b = { 0 };

	assert_int_equal(bus_register(bus, 0x100, 0x10, &any_ops, &a, "a"), 0);
	/* Every kind of overlap is refused. */
	assert_int_equal(bus_register(bus, 0x100, 0x10, &any_ops, &b, "b"), -EEXIST);
	assert_int_equal(bus_register(bus, 0x108, 0x10, &any_ops, &b, "b"), -EEXIST);
	assert_int_equal(bus_register(bus, 0xf8, 0x9, &any_ops, &b, "b"), -EEXIST);
	assert_int_equal(bus_register(bus, 0x104, 0x1, &any_ops, &b, "b"), -EEXIST);
	assert_int_equal(bus_register(bus, 0x10f, 0x1, &any_ops, &b, "b"), -EEXIST);
	assert_int_equal(bus_register(bus, 0x0, 0x1000, &any_ops, &b, "b"), -EEXIST);
	/* Adjacent on both sides is fine. */
	assert_int_equal(bus_register(bus, 0x110, 0x10, &any_ops, &b, "b"), 0);
	assert_int_equal(bus_register(bus, 0xf0, 0x10, &any_ops, &b, "c"), 0);
	/* Now a region spanning the gap-less three is refused too. */
	assert_int_equal(bus_register(bus, 0xef, 0x2, &any_ops, &b, "d"), -EEXIST);
	assert_int_equal(bus_register(bus, 0x11f, 0x2, &any_ops, &b, "d"), -EEXIST);
	assert_int_equal(bus_register(bus, 0x120, 0x2, &any_ops, &b, "d"), 0);
}

static void test_register_bad_ranges(void **state)
{
	struct bus *bus = *state;
	struct fake_dev a = { 0 };
	uint8_t v;

	assert_int_equal(bus_register(bus, 0x100, 0, &any_ops, &a, "a"), -EINVAL);
	assert_int_equal(bus_register(bus, ~0ULL - 2, 8, &any_ops, &a, "a"), -EINVAL);
	/* A region ending exactly at the top of the space is valid. */
	assert_int_equal(bus_register(bus, ~0ULL - 7, 8, &any_ops, &a, "top"), 0);
	a.regs[7] = 0x42;
	assert_int_equal(bus_read(bus, ~0ULL, &v, 1), 0);
	assert_int_equal(v, 0x42);
}

static void test_dispatch_offsets(void **state)
{
	struct bus *bus = *state;
	struct fake_dev d = { 0 };
	uint8_t v8 = 0x83;
	uint32_t v32;

	assert_int_equal(bus_register(bus, 0x3f8, 8, &any_ops, &d, "com1"), 0);
	assert_int_equal(bus_write(bus, 0x3fb, &v8, 1), 0);
	expect_call(&d, 0, 1, 3, 1, 0x83);
	assert_int_equal(d.regs[3], 0x83);

	memcpy(d.regs + 4, "\x11\x22\x33\x44", 4);
	assert_int_equal(bus_read(bus, 0x3fc, &v32, 4), 0);
	expect_call(&d, 1, 0, 4, 4, 0x44332211);
	assert_int_equal(v32, 0x44332211);
	assert_int_equal(d.ncalls, 2);
}

static void test_unclaimed(void **state)
{
	struct bus *bus = *state;
	struct fake_dev d = { 0 };
	uint64_t v = 0;
	uint8_t b[3] = { 0, 0, 0x5a };

	assert_int_equal(bus_read(bus, 0x1234, &v, 8), -ENOENT);
	assert_int_equal(v, ~0ULL);

	assert_int_equal(bus_register(bus, 0x1000, 0x100, &any_ops, &d, "d"), 0);
	v = 0;
	assert_int_equal(bus_read(bus, 0xfff, &v, 1), -ENOENT);
	assert_int_equal(v, 0xff);	/* only size bytes are filled */
	assert_int_equal(bus_read(bus, 0x1100, b, 2), -ENOENT);
	assert_int_equal(b[0], 0xff);
	assert_int_equal(b[1], 0xff);
	assert_int_equal(b[2], 0x5a);
	v = 0x1122;
	assert_int_equal(bus_write(bus, 0x1100, &v, 2), -ENOENT);
	assert_int_equal(bus_write(bus, 0, &v, 2), -ENOENT);
	assert_int_equal(d.ncalls, 0);
}

static void test_straddling_access_not_dispatched(void **state)
{
	struct bus *bus = *state;
	struct fake_dev d = { 0 }, e = { 0 };
	uint32_t v = 0;

	assert_int_equal(bus_register(bus, 0x100, 4, &any_ops, &d, "d"), 0);
	assert_int_equal(bus_register(bus, 0x104, 4, &any_ops, &e, "e"), 0);
	/* Crosses from d into e: neither device sees it. */
	assert_int_equal(bus_read(bus, 0x102, &v, 4), -ENOENT);
	assert_int_equal(v, 0xffffffff);
	assert_int_equal(bus_write(bus, 0x103, &v, 2), -ENOENT);
	/* Crosses d's end into nothing. */
	assert_int_equal(bus_register(bus, 0x200, 2, &any_ops, &d, "d2"), 0);
	assert_int_equal(bus_read(bus, 0x201, &v, 2), -ENOENT);
	assert_int_equal(bus_read(bus, 0x1ff, &v, 2), -ENOENT);
	assert_int_equal(d.ncalls, 0);
	assert_int_equal(e.ncalls, 0);
	/* The last bytes of a region are still reachable. */
	assert_int_equal(bus_read(bus, 0x102, &v, 2), 0);
	assert_int_equal(d.ncalls, 1);
}

static void test_max_size_split(void **state)
{
	struct bus *bus = *state;
	struct fake_dev d = { 0 };
	uint64_t v = 0x8877665544332211ULL;

	assert_int_equal(bus_register(bus, 0xfe000000, 0x40, &max4_ops, &d, "d"), 0);
	assert_int_equal(bus_write(bus, 0xfe000008, &v, 8), 0);
	assert_int_equal(d.ncalls, 2);
	expect_call(&d, 0, 1, 8, 4, 0x44332211);
	expect_call(&d, 1, 1, 12, 4, 0x88776655);

	d.ncalls = 0;
	v = 0;
	assert_int_equal(bus_read(bus, 0xfe000008, &v, 8), 0);
	assert_int_equal(d.ncalls, 2);
	expect_call(&d, 0, 0, 8, 4, 0x44332211);
	expect_call(&d, 1, 0, 12, 4, 0x88776655);
	assert_int_equal(v, 0x8877665544332211ULL);
}

static void test_byte_only_region(void **state)
{
	struct bus *bus = *state;
	struct fake_dev d = { 0 };
	uint16_t v = 0xbbaa;

	/* Like the UART: a 2-byte port write is two byte writes, in order. */
	assert_int_equal(bus_register(bus, 0x3f8, 8, &byte_ops, &d, "uart"), 0);
	assert_int_equal(bus_write(bus, 0x3f8, &v, 2), 0);
	assert_int_equal(d.ncalls, 2);
	expect_call(&d, 0, 1, 0, 1, 0xaa);
	expect_call(&d, 1, 1, 1, 1, 0xbb);
}

static void test_unaligned_split_assembles(void **state)
{
	struct bus *bus = *state;
	struct fake_dev d = { 0 };
	uint32_t v = 0;

	for (unsigned i = 0; i < sizeof(d.regs); i++)
		d.regs[i] = i;
	assert_int_equal(bus_register(bus, 0x1000, 0x40, &max4_ops, &d, "d"), 0);
	assert_int_equal(bus_read(bus, 0x1001, &v, 4), 0);
	assert_int_equal(v, 0x04030201);
	/* Every piece respects max_size and natural alignment. */
	for (unsigned i = 0; i < d.ncalls; i++) {
		assert_in_range(d.calls[i].size, 1, 4);
		assert_int_equal(d.calls[i].off % d.calls[i].size, 0);
	}
	d.ncalls = 0;
	v = 0xddccbbaa;
	assert_int_equal(bus_write(bus, 0x1003, &v, 4), 0);
	assert_memory_equal(d.regs + 2, "\x02\xaa\xbb\xcc\xdd\x07", 6);
}

static void test_min_size_widening(void **state)
{
	struct bus *bus = *state;
	struct fake_dev d = { 0 };
	uint8_t b = 0xaa;
	uint16_t w = 0xeedd;

	memcpy(d.regs, "\x11\x22\x33\x44\x55\x66\x77\x88", 8);
	assert_int_equal(bus_register(bus, 0x2000, 0x10, &min4_ops, &d, "d"), 0);

	/* 1-byte write at offset 1: read 4 at 0, write 4 at 0 with one byte new. */
	assert_int_equal(bus_write(bus, 0x2001, &b, 1), 0);
	assert_int_equal(d.ncalls, 2);
	expect_call(&d, 0, 0, 0, 4, 0x44332211);
	expect_call(&d, 1, 1, 0, 4, 0x4433aa11);

	/* 2-byte write at offset 6 in the second word. */
	d.ncalls = 0;
	assert_int_equal(bus_write(bus, 0x2006, &w, 2), 0);
	expect_call(&d, 0, 0, 4, 4, 0x88776655);
	expect_call(&d, 1, 1, 4, 4, 0xeedd6655);

	/* 1-byte read extracts the right byte from a 4-byte read. */
	d.ncalls = 0;
	b = 0;
	assert_int_equal(bus_read(bus, 0x2002, &b, 1), 0);
	assert_int_equal(d.ncalls, 1);
	expect_call(&d, 0, 0, 0, 4, 0x4433aa11);
	assert_int_equal(b, 0x33);
	w = 0;
	assert_int_equal(bus_read(bus, 0x2006, &w, 2), 0);
	assert_int_equal(w, 0xeedd);
}

static void test_min8_region(void **state)
{
	struct bus *bus = *state;
	struct fake_dev d = { 0 };
	uint32_t v = 0xcafef00d;

	assert_int_equal(bus_register(bus, 0x3000, 0x10, &exact8_ops, &d, "d"), 0);
	memcpy(d.regs + 8, "\x01\x02\x03\x04\x05\x06\x07\x08", 8);
	assert_int_equal(bus_write(bus, 0x300c, &v, 4), 0);
	expect_call(&d, 0, 0, 8, 8, 0x0807060504030201ULL);
	expect_call(&d, 1, 1, 8, 8, 0xcafef00d04030201ULL);
}

static void test_unregister(void **state)
{
	struct bus *bus = *state;
	struct fake_dev a = { 0 }, b = { 0 };
	uint8_t v;

	assert_int_equal(bus_register(bus, 0x60, 5, &any_ops, &a, "a"), 0);
	assert_int_equal(bus_register(bus, 0x70, 5, &any_ops, &b, "b"), 0);
	/* Wrong owner, or not the region's base: refused, region stays. */
	assert_int_equal(bus_unregister(bus, 0x60, &b), -ENOENT);
	assert_int_equal(bus_unregister(bus, 0x61, &a), -ENOENT);
	assert_int_equal(bus_unregister(bus, 0x50, &a), -ENOENT);
	assert_int_equal(bus_read(bus, 0x62, &v, 1), 0);
	assert_int_equal(a.ncalls, 1);

	assert_int_equal(bus_unregister(bus, 0x60, &a), 0);
	assert_int_equal(bus_read(bus, 0x62, &v, 1), -ENOENT);
	assert_int_equal(a.ncalls, 1);
	assert_int_equal(bus_unregister(bus, 0x60, &a), -ENOENT);
	/* The neighbour is untouched, and the range can be reused. */
	assert_int_equal(bus_read(bus, 0x70, &v, 1), 0);
	assert_int_equal(b.ncalls, 1);
	assert_int_equal(bus_register(bus, 0x60, 0x10, &any_ops, &b, "b2"), 0);
	assert_int_equal(bus_read(bus, 0x6f, &v, 1), 0);
	assert_int_equal(b.ncalls, 2);
	expect_call(&b, 1, 0, 0xf, 1, 0);
}

static void test_many_regions(void **state)
{
	enum { N = 100 };
	struct bus *bus = *state;
	struct fake_dev *devs = calloc(N, sizeof(*devs));
	uint8_t v;

	assert_non_null(devs);
	/* Register out of order so the sorted insert and growth are used. */
	for (unsigned k = 0; k < N; k++) {
		unsigned i = (k * 37) % N;

		devs[i].regs[i % 4] = i;
		assert_int_equal(bus_register(bus, 0x10000 + 8 * i, 4, &any_ops,
					      &devs[i], "r"), 0);
	}
	for (unsigned i = 0; i < N; i++) {
		assert_int_equal(bus_read(bus, 0x10000 + 8 * i + i % 4, &v, 1), 0);
		assert_int_equal(v, i);
		assert_int_equal(devs[i].ncalls, 1);
		expect_call(&devs[i], 0, 0, i % 4, 1, i);
		/* The gaps between regions are unclaimed. */
		assert_int_equal(bus_read(bus, 0x10000 + 8 * i + 5, &v, 1), -ENOENT);
	}
	for (unsigned i = 0; i < N; i += 2)
		assert_int_equal(bus_unregister(bus, 0x10000 + 8 * i, &devs[i]), 0);
	for (unsigned i = 0; i < N; i++)
		assert_int_equal(bus_read(bus, 0x10000 + 8 * i, &v, 1),
				 i % 2 ? 0 : -ENOENT);
	free(devs);
}

static void test_null_handlers(void **state)
{
	static const struct bus_ops wo_ops = { .write = dev_write };
	static const struct bus_ops ro_ops = { .read = dev_read };
	struct bus *bus = *state;
	struct fake_dev d = { 0 };
	uint32_t v = 0x12345678;

	assert_int_equal(bus_register(bus, 0x10, 4, &wo_ops, &d, "wo"), 0);
	assert_int_equal(bus_register(bus, 0x20, 4, &ro_ops, &d, "ro"), 0);
	/* No read handler: all ones, no crash.  No write handler: dropped. */
	assert_int_equal(bus_read(bus, 0x10, &v, 4), 0);
	assert_int_equal(v, 0xffffffff);
	assert_int_equal(bus_write(bus, 0x20, &v, 4), 0);
	assert_int_equal(d.ncalls, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_register_overlap, setup, teardown),
		cmocka_unit_test_setup_teardown(test_register_bad_ranges, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dispatch_offsets, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unclaimed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_straddling_access_not_dispatched,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_max_size_split, setup, teardown),
		cmocka_unit_test_setup_teardown(test_byte_only_region, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unaligned_split_assembles,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_min_size_widening, setup, teardown),
		cmocka_unit_test_setup_teardown(test_min8_region, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unregister, setup, teardown),
		cmocka_unit_test_setup_teardown(test_many_regions, setup, teardown),
		cmocka_unit_test_setup_teardown(test_null_handlers, setup, teardown),
	};

	return cmocka_run_group_tests_name("core_bus", tests, NULL, NULL);
}
