// SPDX-License-Identifier: MIT
/* The guest's E820 memory map and initrd placement (src/arch/x86/memmap.c). */
#include "helpers.h"

#include "arch/x86/boot.h"
#include "core/util.h"

/* Common invariants: sorted, non-overlapping, non-empty, RAM only in slots. */
static uint64_t check_map(const struct guest_mem *gm,
			  const struct e820_entry *e, int n)
{
	uint64_t ram = 0;

	for (int i = 0; i < n; i++) {
		assert_true(e[i].size > 0);
		assert_true(e[i].type == E820_RAM || e[i].type == E820_RESERVED);
		if (i)
			assert_true(e[i].addr >= e[i - 1].addr + e[i - 1].size);
		if (e[i].type != E820_RAM)
			continue;
		ram += e[i].size;
		/* Every RAM byte is backed by a slot. */
		bool inside = false;

		for (int s = 0; s < gm->nr_slots; s++)
			if (e[i].addr >= gm->slots[s].gpa &&
			    e[i].addr + e[i].size <= gm->slots[s].gpa + gm->slots[s].size)
				inside = true;
		assert_true(inside);
	}
	return ram;
}

static void test_e820_256m(void **state)
{
	struct e820_entry e[E820_MAX];
	struct guest_mem gm;
	int n;

	assert_int_equal(gm_layout(&gm, 256 * MiB), 0);
	n = e820_build(&gm, e, E820_MAX);
	assert_int_equal(n, 3);
	/* Conventional memory up to the EBDA. */
	assert_int_equal(e[0].addr, 0);
	assert_int_equal(e[0].size, BOOT_EBDA_GPA);
	assert_int_equal(e[0].type, E820_RAM);
	/* EBDA, VGA and BIOS area (where the MP table lives) reserved. */
	assert_int_equal(e[1].addr, BOOT_EBDA_GPA);
	assert_int_equal(e[1].addr + e[1].size, 1 * MiB);
	assert_int_equal(e[1].type, E820_RESERVED);
	assert_true(BOOT_BIOS_GPA >= e[1].addr);
	/* Everything from 1 MiB to the end. */
	assert_int_equal(e[2].addr, 1 * MiB);
	assert_int_equal(e[2].addr + e[2].size, 256 * MiB);
	assert_int_equal(e[2].type, E820_RAM);
	assert_int_equal(check_map(&gm, e, n),
			 256 * MiB - (1 * MiB - BOOT_EBDA_GPA));
	/* The boot data the loaders write is in usable low RAM. */
	assert_true(BOOT_START_INFO_GPA >= 0x1000);
	assert_true(BOOT_CMDLINE_GPA + BOOT_CMDLINE_MAX <= BOOT_EBDA_GPA);
}

static void test_e820_5g(void **state)
{
	struct e820_entry e[E820_MAX];
	struct guest_mem gm;
	int n;

	assert_int_equal(gm_layout(&gm, 5 * GiB), 0);
	n = e820_build(&gm, e, E820_MAX);
	assert_int_equal(n, 4);
	assert_int_equal(e[2].addr, 1 * MiB);
	assert_int_equal(e[2].addr + e[2].size, 3 * GiB);
	assert_int_equal(e[3].addr, 4 * GiB);
	assert_int_equal(e[3].size, 2 * GiB);
	assert_int_equal(e[3].type, E820_RAM);
	/* Nothing is claimed as RAM in the MMIO hole. */
	for (int i = 0; i < n; i++)
		if (e[i].type == E820_RAM)
			assert_true(e[i].addr + e[i].size <= GM_MMIO_HOLE_START ||
				    e[i].addr >= GM_4G);
	/* More than 4096 MiB usable: what the KVM tier checks in the guest. */
	assert_int_equal(check_map(&gm, e, n), 5 * GiB - (1 * MiB - BOOT_EBDA_GPA));
	assert_true(check_map(&gm, e, n) > 4096 * MiB);
}

static void test_e820_exactly_1m_and_too_small(void **state)
{
	struct e820_entry e[E820_MAX];
	struct guest_mem gm;

	assert_int_equal(gm_layout(&gm, 1 * MiB), 0);
	assert_int_equal(e820_build(&gm, e, E820_MAX), 2);
	assert_int_equal(gm_layout(&gm, 512 * KiB), 0);
	assert_int_equal(e820_build(&gm, e, E820_MAX), -EINVAL);
	assert_int_equal(gm_layout(&gm, 5 * GiB), 0);
	assert_int_equal(e820_build(&gm, e, 3), -EINVAL);
}

static void test_initrd_addr(void **state)
{
	struct guest_mem gm;
	uint64_t a;

	assert_int_equal(gm_layout(&gm, 256 * MiB), 0);
	/* As high as possible, page aligned, within RAM. */
	a = boot_initrd_addr(&gm, 1 * MiB, 2 * MiB, GM_MMIO_HOLE_START);
	assert_int_equal(a, 255 * MiB);
	a = boot_initrd_addr(&gm, 1 * MiB + 1, 2 * MiB, GM_MMIO_HOLE_START);
	assert_int_equal(a % GM_PAGE_SIZE, 0);
	assert_true(a + 1 * MiB + 1 <= 256 * MiB);
	assert_true(a + 1 * MiB + 1 > 256 * MiB - GM_PAGE_SIZE);
	/* max_end below the end of RAM wins. */
	assert_int_equal(boot_initrd_addr(&gm, 4096, 0, 128 * MiB),
			 128 * MiB - 4096);
	/* Does not fit above min_start, or at all. */
	assert_int_equal(boot_initrd_addr(&gm, 200 * MiB, 100 * MiB,
					  GM_MMIO_HOLE_START), 0);
	assert_int_equal(boot_initrd_addr(&gm, 300 * MiB, 0, GM_MMIO_HOLE_START), 0);
	assert_int_equal(boot_initrd_addr(&gm, 0, 0, GM_MMIO_HOLE_START), 0);
	assert_int_equal(boot_initrd_addr(&gm, ~0ULL, 0, GM_MMIO_HOLE_START), 0);
	/* Never below 1 MiB, whatever min_start says. */
	assert_int_equal(boot_initrd_addr(&gm, 256 * MiB - 512 * KiB, 0,
					  GM_MMIO_HOLE_START), 0);
	/* Exactly fitting between min_start and the end. */
	assert_int_equal(boot_initrd_addr(&gm, 16 * MiB, 240 * MiB,
					  GM_MMIO_HOLE_START), 240 * MiB);

	/* With RAM above 4G, the initrd still goes below the hole. */
	assert_int_equal(gm_layout(&gm, 5 * GiB), 0);
	a = boot_initrd_addr(&gm, 8 * MiB, 2 * MiB, ~0ULL);
	assert_int_equal(a, 3 * GiB - 8 * MiB);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_e820_256m),
		cmocka_unit_test(test_e820_5g),
		cmocka_unit_test(test_e820_exactly_1m_and_too_small),
		cmocka_unit_test(test_initrd_addr),
	};

	return cmocka_run_group_tests_name("arch_memmap", tests, NULL, NULL);
}
