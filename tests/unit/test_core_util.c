// SPDX-License-Identifier: MIT
/* Size, integer and MAC parsing (src/core/util.c). */
#include <stdlib.h>

#include "helpers.h"

#include "core/util.h"

static void size_ok(const char *s, uint64_t want)
{
	uint64_t v = 0xdeadbeef;
	int ret = parse_size(s, &v);

	if (ret || v != want)
		print_error("parse_size(\"%s\") = %d, %llu; want 0, %llu\n", s,
			    ret, (unsigned long long)v, (unsigned long long)want);
	assert_int_equal(ret, 0);
	assert_int_equal(v, want);
}

static void size_bad(const char *s, int want)
{
	uint64_t v = 0x1234;
	int ret = parse_size(s, &v);

	if (ret != want)
		print_error("parse_size(\"%s\") = %d, want %d\n", s, ret, want);
	assert_int_equal(ret, want);
	assert_int_equal(v, 0x1234);	/* untouched on error */
}

static void test_parse_size_suffixes(void **state)
{
	size_ok("512M", 512 * MiB);
	size_ok("512m", 512 * MiB);
	size_ok("5G", 5 * GiB);
	size_ok("5g", 5 * GiB);
	size_ok("64K", 64 * KiB);
	size_ok("64k", 64 * KiB);
	size_ok("1T", 1024 * GiB);
	size_ok("4096", 4096);
	size_ok("0", 0);
	size_ok("007", 7);
}

static void test_parse_size_ib_spellings(void **state)
{
	size_ok("512MiB", 512 * MiB);
	size_ok("512MB", 512 * MiB);
	size_ok("2GiB", 2 * GiB);
	size_ok("64KiB", 64 * KiB);
	/* "B"/"iB" only after a unit: a bare byte count takes no suffix. */
	size_bad("512B", -EINVAL);
	size_bad("512iB", -EINVAL);
	size_bad("512Mi", -EINVAL);
	size_bad("512MiBs", -EINVAL);
	size_bad("512MBB", -EINVAL);
}

static void test_parse_size_syntax_errors(void **state)
{
	size_bad("", -EINVAL);
	size_bad("M", -EINVAL);
	size_bad("512X", -EINVAL);
	size_bad("512MM", -EINVAL);
	size_bad("512 M", -EINVAL);
	size_bad(" 512M", -EINVAL);
	size_bad("-1", -EINVAL);
	size_bad("+1M", -EINVAL);
	size_bad("0x100", -EINVAL);
	size_bad("1.5G", -EINVAL);
	size_bad("5G ", -EINVAL);
	assert_int_equal(parse_size(NULL, &(uint64_t){ 0 }), -EINVAL);
}

static void test_parse_size_overflow(void **state)
{
	/* 2^64 in bytes: strtoull overflow. */
	size_bad("18446744073709551616", -ERANGE);
	size_bad("99999999999999999999999999M", -ERANGE);
	/* Fits as a number, overflows once multiplied. */
	size_bad("17179869184G", -ERANGE);	/* 2^34 * 2^30 = 2^64 */
	size_bad("16777216T", -ERANGE);		/* 2^24 * 2^40 */
	size_bad("18014398509481984K", -ERANGE);	/* 2^54 * 2^10 */
	/* Largest representable values still parse. */
	size_ok("18446744073709551615", UINT64_MAX);
	size_ok("17179869183G", 17179869183ULL * GiB);
	size_ok("16777215T", 16777215ULL * 1024 * GiB);
}

static void uint_ok(const char *s, unsigned long lo, unsigned long hi,
		    unsigned long want)
{
	unsigned long v = 777;

	assert_int_equal(parse_uint(s, lo, hi, &v), 0);
	assert_int_equal(v, want);
}

static void uint_bad(const char *s, unsigned long lo, unsigned long hi,
		     int want)
{
	unsigned long v = 777;
	int ret = parse_uint(s, lo, hi, &v);

	if (ret != want)
		print_error("parse_uint(\"%s\", %lu, %lu) = %d, want %d\n", s,
			    lo, hi, ret, want);
	assert_int_equal(ret, want);
	assert_int_equal(v, 777);
}

static void test_parse_uint_ranges(void **state)
{
	uint_ok("1", 1, 64, 1);
	uint_ok("64", 1, 64, 64);
	uint_ok("32", 1, 64, 32);
	uint_ok("0", 0, 0, 0);
	uint_bad("0", 1, 64, -ERANGE);
	uint_bad("65", 1, 64, -ERANGE);
	uint_bad("1000000", 1, 64, -ERANGE);
	uint_bad("99999999999999999999999999", 0, ~0UL, -ERANGE);
	uint_ok("18446744073709551615", 0, ~0UL, ~0UL);
}

static void test_parse_uint_syntax(void **state)
{
	uint_bad("", 0, 100, -EINVAL);
	uint_bad("abc", 0, 100, -EINVAL);
	uint_bad("12a", 0, 100, -EINVAL);
	uint_bad("-1", 0, 100, -EINVAL);
	uint_bad("+1", 0, 100, -EINVAL);
	uint_bad(" 1", 0, 100, -EINVAL);
	uint_bad("1 ", 0, 100, -EINVAL);
	uint_bad("0x10", 0, 100, -EINVAL);
	uint_bad("4M", 0, 100, -EINVAL);
	assert_int_equal(parse_uint(NULL, 0, 1, &(unsigned long){ 0 }), -EINVAL);
}

static void test_parse_mac_good(void **state)
{
	static const uint8_t want1[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };
	static const uint8_t want2[6] = { 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff };
	uint8_t mac[6];

	assert_int_equal(parse_mac("52:54:00:12:34:56", mac), 0);
	assert_memory_equal(mac, want1, 6);
	assert_int_equal(parse_mac("AA:BB:CC:DD:EE:FF", mac), 0);
	assert_memory_equal(mac, want2, 6);
	assert_int_equal(parse_mac("aa:Bb:cC:dd:EE:ff", mac), 0);
	assert_memory_equal(mac, want2, 6);
}

static void test_parse_mac_bad(void **state)
{
	static const char *const bad[] = {
		"",
		"5",
		"52:54:00:12:34",		/* 5 octets */
		"52:54:00:12:34:",
		"52:54:00:12:34:56:",		/* trailing separator */
		"52:54:00:12:34:56:78",		/* 7 octets */
		"52-54-00-12-34-56",
		"525400123456",
		"2:54:00:12:34:56",		/* one-digit octet */
		"52:54:00:12:34:5",
		"52:54:00:12:34:5g",
		"g2:54:00:12:34:56",
		"52:54:00:12:34:567",
		" 52:54:00:12:34:56",
		"52:54:00:12:34:56 ",
	};

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		/* Exact-size heap copy: ASan catches any read past the NUL. */
		char *s = strdup(bad[i]);
		uint8_t mac[6];

		if (parse_mac(s, mac) != -EINVAL)
			fail_msg("parse_mac accepted \"%s\"", bad[i]);
		free(s);
	}
}

static void test_le_helpers(void **state)
{
	uint8_t b[8] = { 0 };

	le_write(b, 4, 0x11223344aabbccddULL);
	assert_int_equal(b[0], 0xdd);
	assert_int_equal(b[3], 0xaa);
	assert_int_equal(b[4], 0);		/* only size bytes written */
	assert_int_equal(le_read(b, 4), 0xaabbccdd);
	assert_int_equal(le_read(b, 2), 0xccdd);
	le_write(b, 8, 0x0102030405060708ULL);
	assert_int_equal(le_read(b, 8), 0x0102030405060708ULL);
	assert_int_equal(b[7], 0x01);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_size_suffixes),
		cmocka_unit_test(test_parse_size_ib_spellings),
		cmocka_unit_test(test_parse_size_syntax_errors),
		cmocka_unit_test(test_parse_size_overflow),
		cmocka_unit_test(test_parse_uint_ranges),
		cmocka_unit_test(test_parse_uint_syntax),
		cmocka_unit_test(test_parse_mac_good),
		cmocka_unit_test(test_parse_mac_bad),
		cmocka_unit_test(test_le_helpers),
	};

	return cmocka_run_group_tests_name("core_util", tests, NULL, NULL);
}
