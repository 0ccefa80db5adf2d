// SPDX-License-Identifier: MIT
/* MSI-X capability, table, masks and pending bits (src/pci/msix.c). */
#include <stdlib.h>

#include "helpers.h"

#include "core/util.h"
#include "pci/msix.h"
#include "pci/pci.h"

#define NVEC	5

struct fixture {
	struct vm vm;
	struct pci_dev pd;
	struct msix m;
	struct { unsigned vec; uint64_t addr; uint32_t data; } sent[32];
	unsigned nsent;
};

static struct fixture *g;

static void record(struct msix *m, unsigned vec, uint64_t addr, uint32_t data)
{
	assert_true(g->nsent < ARRAY_SIZE(g->sent));
	g->sent[g->nsent].vec = vec;
	g->sent[g->nsent].addr = addr;
	g->sent[g->nsent].data = data;
	g->nsent++;
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	fake_vm_init(&f->vm);
	pci_dev_init(&f->pd, &f->vm, "msix-test", 1, 2, 0x020000, 0);
	assert_int_equal(msix_init(&f->m, &f->pd, NVEC, 1), 0);
	f->m.deliver = record;
	g = f;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	pci_unmap_bars(&f->pd);
	msix_destroy(&f->m);
	fake_vm_destroy(&f->vm);
	free(f);
	return 0;
}

static unsigned cap(struct fixture *f)
{
	return pci_cap_find(&f->pd, PCI_CAP_ID_MSIX);
}

static void set_ctl(struct fixture *f, uint16_t bits)
{
	pci_cfg_write(&f->pd, cap(f) + PCI_MSIX_FLAGS, bits, 2);
}

static void program(struct fixture *f, unsigned vec, uint64_t addr,
		    uint32_t data, bool masked)
{
	uint64_t e = vec * MSIX_ENTRY_SIZE;

	msix_bar_write(&f->m, e, (uint32_t)addr, 4);
	msix_bar_write(&f->m, e + 4, addr >> 32, 4);
	msix_bar_write(&f->m, e + 8, data, 4);
	msix_bar_write(&f->m, e + 12, masked, 4);
}

static void test_capability(void **state)
{
	struct fixture *f = *state;
	unsigned c = cap(f);

	assert_int_not_equal(c, 0);
	assert_int_equal(pci_cfg_read(&f->pd, c + PCI_MSIX_FLAGS, 2), NVEC - 1);
	assert_int_equal(pci_cfg_read(&f->pd, c + PCI_MSIX_TABLE, 4), 1);
	assert_int_equal(pci_cfg_read(&f->pd, c + PCI_MSIX_PBA, 4),
			 MSIX_PBA_OFFSET | 1);
	/* Only enable and function mask are writable. */
	set_ctl(f, 0xffff);
	assert_int_equal(pci_cfg_read(&f->pd, c + PCI_MSIX_FLAGS, 2),
			 (NVEC - 1) | PCI_MSIX_FLAGS_ENABLE |
			 PCI_MSIX_FLAGS_MASKALL);
	pci_cfg_write(&f->pd, c + PCI_MSIX_TABLE, 0xffffffff, 4);
	assert_int_equal(pci_cfg_read(&f->pd, c + PCI_MSIX_TABLE, 4), 1);
	assert_int_equal(f->pd.bars[1].type, PCI_BAR_MEM32);
	assert_int_equal(f->pd.bars[1].size, MSIX_BAR_SIZE);
}

static void test_reset_state(void **state)
{
	struct fixture *f = *state;

	for (unsigned v = 0; v < NVEC; v++) {
		assert_int_equal(msix_bar_read(&f->m, v * 16 + 12, 4), 1);
		assert_true(msix_is_masked(&f->m, v));
		assert_false(msix_is_pending(&f->m, v));
	}
	assert_false(msix_enabled(&f->m));
	/* Disabled: notify does nothing at all. */
	msix_notify(&f->m, 0);
	assert_int_equal(f->nsent, 0);
	assert_false(msix_is_pending(&f->m, 0));
}

static void test_table_access(void **state)
{
	struct fixture *f = *state;

	program(f, 2, 0xfee01000, 0x4041, false);
	assert_int_equal(msix_bar_read(&f->m, 2 * 16, 4), 0xfee01000);
	assert_int_equal(msix_bar_read(&f->m, 2 * 16 + 8, 8), 0x4041);
	msix_bar_write(&f->m, 3 * 16, 0x00000001fee02000ULL, 8);
	assert_int_equal(msix_bar_read(&f->m, 3 * 16 + 4, 4), 1);
	/* Beyond the table and the PBA: reads 0, writes go nowhere. */
	msix_bar_write(&f->m, NVEC * 16, 0xdead, 4);
	assert_int_equal(msix_bar_read(&f->m, NVEC * 16, 4), 0);
	assert_int_equal(msix_bar_read(&f->m, 0xc00, 4), 0);
	/* The PBA is read-only. */
	msix_bar_write(&f->m, MSIX_PBA_OFFSET, 0xff, 8);
	assert_int_equal(msix_bar_read(&f->m, MSIX_PBA_OFFSET, 8), 0);
}

static void test_deliver_and_masks(void **state)
{
	struct fixture *f = *state;

	program(f, 1, 0xfee00000, 0x31, true);
	set_ctl(f, PCI_MSIX_FLAGS_ENABLE);
	assert_true(msix_enabled(&f->m));

	/* Vector masked: pending, nothing sent, PBA shows it. */
	msix_notify(&f->m, 1);
	assert_int_equal(f->nsent, 0);
	assert_true(msix_is_pending(&f->m, 1));
	assert_int_equal(msix_bar_read(&f->m, MSIX_PBA_OFFSET, 8), 1 << 1);

	/* Unmasking delivers the pending message once. */
	msix_bar_write(&f->m, 16 + 12, 0, 4);
	assert_int_equal(f->nsent, 1);
	assert_int_equal(f->sent[0].vec, 1);
	assert_int_equal(f->sent[0].addr, 0xfee00000);
	assert_int_equal(f->sent[0].data, 0x31);
	assert_false(msix_is_pending(&f->m, 1));

	/* Unmasked: direct. */
	msix_notify(&f->m, 1);
	assert_int_equal(f->nsent, 2);

	/* Function mask holds every vector; clearing it flushes. */
	set_ctl(f, PCI_MSIX_FLAGS_ENABLE | PCI_MSIX_FLAGS_MASKALL);
	msix_notify(&f->m, 1);
	msix_notify(&f->m, 1);		/* pending is one bit */
	assert_int_equal(f->nsent, 2);
	assert_true(msix_is_masked(&f->m, 1));
	assert_true(msix_is_pending(&f->m, 1));
	set_ctl(f, PCI_MSIX_FLAGS_ENABLE);
	assert_int_equal(f->nsent, 3);
	assert_false(msix_is_pending(&f->m, 1));

	/* Changing address/data while unmasked takes effect next time. */
	program(f, 1, 0xfee0f000, 0x99, false);
	msix_notify(&f->m, 1);
	assert_int_equal(f->sent[3].addr, 0xfee0f000);
	assert_int_equal(f->sent[3].data, 0x99);

	/* Vectors past the table are ignored. */
	msix_notify(&f->m, NVEC);
	msix_notify(&f->m, 1000);
	assert_int_equal(f->nsent, 4);
	assert_false(msix_is_pending(&f->m, NVEC));
}

static void test_pending_survives_disable(void **state)
{
	struct fixture *f = *state;

	program(f, 0, 0xfee00000, 1, true);
	set_ctl(f, PCI_MSIX_FLAGS_ENABLE);
	msix_notify(&f->m, 0);
	set_ctl(f, 0);
	msix_bar_write(&f->m, 12, 0, 4);	/* unmask while disabled */
	assert_int_equal(f->nsent, 0);
	assert_true(msix_is_pending(&f->m, 0));
	set_ctl(f, PCI_MSIX_FLAGS_ENABLE);
	assert_int_equal(f->nsent, 1);
	msix_reset(&f->m);
	assert_true(msix_is_masked(&f->m, 0));
	assert_false(msix_enabled(&f->m));
}

static void test_state_roundtrip(void **state)
{
	struct fixture *f = *state;
	struct sbuf sb = { 0 };
	struct sreader r;
	char err[160] = "";

	program(f, 0, 0xfee00000, 0x21, false);
	program(f, 4, 0xfee00000, 0x24, true);
	set_ctl(f, PCI_MSIX_FLAGS_ENABLE);
	msix_notify(&f->m, 4);
	assert_int_equal(msix_save(&f->m, &sb), 0);
	msix_reset(&f->m);
	set_ctl(f, 0);

	r = (struct sreader){ .p = sb.data, .len = sb.len };
	assert_int_equal(msix_load(&f->m, &r, err, sizeof(err)), 0);
	assert_int_equal(msix_bar_read(&f->m, 8, 4), 0x21);
	assert_true(msix_is_pending(&f->m, 4));
	assert_true(msix_is_masked(&f->m, 4));
	assert_false(msix_is_masked(&f->m, 0));

	/* A pending bit beyond the table is invalid. */
	sb.data[sb.len - 8] |= 1 << NVEC;
	r = (struct sreader){ .p = sb.data, .len = sb.len };
	assert_int_equal(msix_load(&f->m, &r, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "pending bit"));
	r = (struct sreader){ .p = sb.data, .len = 10 };
	assert_int_equal(msix_load(&f->m, &r, err, sizeof(err)), -EINVAL);
	sbuf_free(&sb);
}

static void test_init_errors(void **state)
{
	struct fixture *f = *state;
	struct pci_dev pd;
	struct msix m;

	pci_dev_init(&pd, &f->vm, "x", 1, 2, 0, 0);
	assert_int_equal(msix_init(&m, &pd, 0, 0), -EINVAL);
	assert_int_equal(msix_init(&m, &pd, MSIX_MAX_VECTORS + 1, 0), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
		T(test_capability),
		T(test_reset_state),
		T(test_table_access),
		T(test_deliver_and_masks),
		T(test_pending_survives_disable),
		T(test_state_roundtrip),
		T(test_init_errors),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
