// SPDX-License-Identifier: MIT
/* CPUID adjustment for topology and the hypervisor leaves (src/arch/x86/cpuid.c). */
#include <stdlib.h>

#include "helpers.h"

#include "arch/x86/cpuid.h"
#include "core/util.h"

#define NENT	16

/* What KVM_GET_SUPPORTED_CPUID might say on a big host. */
static const struct kvm_cpuid_entry2 host_entries[] = {
	{ .function = 0, .eax = 0x1f, .ebx = 0x756e6547 },
	{ .function = 1, .eax = 0x000906ea,
	  .ebx = 0x12345678,		/* host APIC id 0x12, 0x34 ids */
	  .ecx = 0x7ffafbff,		/* no hypervisor bit */
	  .edx = 0xbfebfbff },		/* HTT set */
	{ .function = 4, .index = 0, .eax = 0xfc004121 },	/* L1d */
	{ .function = 4, .index = 1, .eax = 0xfc004122 },	/* L1i */
	{ .function = 4, .index = 2, .eax = 0xfc01c143 },	/* L2 */
	{ .function = 4, .index = 3, .eax = 0xfc3fc163 },	/* L3 */
	{ .function = 4, .index = 4, .eax = 0 },		/* end */
	{ .function = 7, .ebx = 0x029c6fbf, .ecx = 0x40000000 },
	{ .function = 0xb, .index = 0, .eax = 1, .ebx = 2, .ecx = 0x100, .edx = 0x77 },
	{ .function = 0xb, .index = 1, .eax = 5, .ebx = 24, .ecx = 0x201, .edx = 0x77 },
	{ .function = 0xb, .index = 2, .eax = 0, .ebx = 0, .ecx = 2, .edx = 0x77 },
	{ .function = 0x1f, .index = 0, .eax = 1, .ebx = 2, .ecx = 0x100 },
	{ .function = 0x1f, .index = 1, .eax = 5, .ebx = 24, .ecx = 0x201 },
	{ .function = 0x40000000, .eax = 0x40000001 },
	{ .function = 0x40000001, .eax = 0x01007afb },
	{ .function = 0x80000001, .ecx = 0x121, .edx = 0x2c100800 },
};

static struct kvm_cpuid2 *make(void)
{
	struct kvm_cpuid2 *c = calloc(1, sizeof(*c) + NENT * sizeof(c->entries[0]));

	assert_non_null(c);
	_Static_assert(ARRAY_SIZE(host_entries) == NENT, "table size");
	c->nent = NENT;
	memcpy(c->entries, host_entries, sizeof(host_entries));
	return c;
}

static struct kvm_cpuid_entry2 *leaf(struct kvm_cpuid2 *c, uint32_t fn,
				     uint32_t idx)
{
	for (unsigned i = 0; i < c->nent; i++)
		if (c->entries[i].function == fn && c->entries[i].index == idx)
			return &c->entries[i];
	fail_msg("leaf %#x.%u missing", fn, idx);
	return NULL;
}

static void test_bits_for(void **state)
{
	static const unsigned want[][2] = {
		{ 0, 0 }, { 1, 0 }, { 2, 1 }, { 3, 2 }, { 4, 2 }, { 5, 3 },
		{ 8, 3 }, { 9, 4 }, { 63, 6 }, { 64, 6 }, { 65, 7 }, { 255, 8 },
		{ 256, 8 },
	};

	for (size_t i = 0; i < ARRAY_SIZE(want); i++)
		assert_int_equal(cpuid_bits_for(want[i][0]), want[i][1]);
}

static void test_leaf1(void **state)
{
	struct kvm_cpuid2 *c = make();
	struct kvm_cpuid_entry2 *e;

	cpuid_adjust(c, 3, 4);
	e = leaf(c, 1, 0);
	assert_int_equal(e->ebx >> 24, 3);		/* initial APIC id */
	assert_int_equal((e->ebx >> 16) & 0xff, 4);	/* logical CPU count */
	assert_int_equal(e->ebx & 0xffff, 0x5678);	/* CLFLUSH etc. kept */
	assert_true(e->edx & (1U << 28));		/* HTT: count is valid */
	assert_true(e->ecx & (1U << 31));		/* hypervisor present */
	/* Everything else is the host's. */
	assert_int_equal(e->ecx & ~(1U << 31), host_entries[1].ecx);
	assert_int_equal(e->edx, host_entries[1].edx);
	assert_int_equal(e->eax, host_entries[1].eax);
	free(c);

	/* One vCPU: no HTT, count 1, APIC id 0. */
	c = make();
	cpuid_adjust(c, 0, 1);
	e = leaf(c, 1, 0);
	assert_int_equal(e->ebx >> 24, 0);
	assert_int_equal((e->ebx >> 16) & 0xff, 1);
	assert_false(e->edx & (1U << 28));
	assert_true(e->ecx & (1U << 31));
	free(c);

	/* The last of 64. */
	c = make();
	cpuid_adjust(c, 63, 64);
	e = leaf(c, 1, 0);
	assert_int_equal(e->ebx >> 24, 63);
	assert_int_equal((e->ebx >> 16) & 0xff, 64);
	free(c);
}

static void test_leaf4(void **state)
{
	for (unsigned nr = 1; nr <= 64; nr *= 4) {
		struct kvm_cpuid2 *c = make();

		cpuid_adjust(c, 0, nr);
		for (unsigned sub = 0; sub < 4; sub++) {
			struct kvm_cpuid_entry2 *e = leaf(c, 4, sub);

			/* EAX[31:26] = cores per package - 1 */
			assert_int_equal(e->eax >> 26, nr - 1);
			/* EAX[25:14] = threads sharing - 1: never more than we have */
			assert_true(((e->eax >> 14) & 0xfff) <= nr - 1);
			/* Cache type/level/etc. are the host's. */
			assert_int_equal(e->eax & 0x3fff,
					 host_entries[2 + sub].eax & 0x3fff);
		}
		/* The terminating null subleaf stays null. */
		assert_int_equal(leaf(c, 4, 4)->eax, 0);
		free(c);
	}
}

static void check_topology(struct kvm_cpuid2 *c, uint32_t fn, unsigned index,
			   unsigned nr)
{
	struct kvm_cpuid_entry2 *smt = leaf(c, fn, 0), *core = leaf(c, fn, 1);

	/* Level 0: SMT, one thread per core. */
	assert_int_equal((smt->ecx >> 8) & 0xff, 1);
	assert_int_equal(smt->ecx & 0xff, 0);
	assert_int_equal(smt->ebx & 0xffff, 1);
	assert_int_equal(smt->eax & 0x1f, 0);
	assert_int_equal(smt->edx, index);		/* x2APIC id */
	/* Level 1: cores, all nr in one package. */
	assert_int_equal((core->ecx >> 8) & 0xff, 2);
	assert_int_equal(core->ecx & 0xff, 1);
	assert_int_equal(core->ebx & 0xffff, nr);
	assert_int_equal(core->edx, index);
	/* Shifting any of our APIC ids by EAX[4:0] gives package 0. */
	assert_int_equal((nr - 1) >> (core->eax & 0x1f), 0);
	if (nr > 1)
		assert_int_not_equal((nr - 1) >> ((core->eax & 0x1f) - 1), 0);
}

static void test_leaf_0xb_0x1f(void **state)
{
	static const unsigned cases[][2] = { { 0, 1 }, { 1, 2 }, { 2, 3 },
					     { 5, 8 }, { 63, 64 } };

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct kvm_cpuid2 *c = make();
		struct kvm_cpuid_entry2 *e;

		cpuid_adjust(c, cases[i][0], cases[i][1]);
		check_topology(c, 0xb, cases[i][0], cases[i][1]);
		check_topology(c, 0x1f, cases[i][0], cases[i][1]);
		/* Level 2 of 0xB is invalid: type 0, no processors. */
		e = leaf(c, 0xb, 2);
		assert_int_equal((e->ecx >> 8) & 0xff, 0);
		assert_int_equal(e->ecx & 0xff, 2);
		assert_int_equal(e->ebx & 0xffff, 0);
		assert_int_equal(e->edx, cases[i][0]);
		free(c);
	}
}

static void test_hypervisor_leaf(void **state)
{
	struct kvm_cpuid2 *c = make();
	struct kvm_cpuid_entry2 *e;
	char sig[13];

	cpuid_adjust(c, 1, 2);
	e = leaf(c, 0x40000000, 0);
	memcpy(sig, &e->ebx, 4);
	memcpy(sig + 4, &e->ecx, 4);
	memcpy(sig + 8, &e->edx, 4);
	sig[12] = '\0';
	assert_memory_equal(sig, "KVMKVMKVM\0\0\0", 12);
	assert_true(e->eax >= 0x40000001);	/* max hypervisor leaf */
	/* KVM's feature leaf is passed through as is. */
	assert_int_equal(leaf(c, 0x40000001, 0)->eax, host_entries[14].eax);
	free(c);
}

static void test_other_leaves_untouched(void **state)
{
	struct kvm_cpuid2 *c = make();

	cpuid_adjust(c, 2, 4);
	assert_memory_equal(leaf(c, 0, 0), &host_entries[0], sizeof(host_entries[0]));
	assert_memory_equal(leaf(c, 7, 0), &host_entries[7], sizeof(host_entries[0]));
	assert_memory_equal(leaf(c, 0x80000001, 0), &host_entries[15],
			    sizeof(host_entries[0]));
	free(c);
}

static void test_each_vcpu_differs_only_in_id(void **state)
{
	struct kvm_cpuid2 *a = make(), *b = make();

	cpuid_adjust(a, 0, 4);
	cpuid_adjust(b, 1, 4);
	assert_int_not_equal(leaf(a, 1, 0)->ebx, leaf(b, 1, 0)->ebx);
	assert_int_equal(leaf(a, 1, 0)->ebx & 0x00ffffff,
			 leaf(b, 1, 0)->ebx & 0x00ffffff);
	assert_memory_equal(leaf(a, 4, 2), leaf(b, 4, 2), sizeof(a->entries[0]));
	/* Adjusting twice is the same as once (the VMM copies per vCPU). */
	cpuid_adjust(b, 1, 4);
	cpuid_adjust(a, 1, 4);
	assert_memory_equal(a->entries, b->entries, NENT * sizeof(a->entries[0]));
	free(a);
	free(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bits_for),
		cmocka_unit_test(test_leaf1),
		cmocka_unit_test(test_leaf4),
		cmocka_unit_test(test_leaf_0xb_0x1f),
		cmocka_unit_test(test_hypervisor_leaf),
		cmocka_unit_test(test_other_leaves_untouched),
		cmocka_unit_test(test_each_vcpu_differs_only_in_id),
	};

	return cmocka_run_group_tests_name("arch_cpuid", tests, NULL, NULL);
}
