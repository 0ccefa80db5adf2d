// SPDX-License-Identifier: MIT
/*
 * What a destination makes of record payloads: vCPU and in-kernel state
 * records (src/migration/cpu_state.c) and RAM batches (src/migration/ram.c).
 */
#include <stdlib.h>

#include "helpers.h"

#include "core/guest_mem.h"
#include "core/state.h"
#include "migration/cpu_state.h"
#include "migration/ram.h"

static struct cpu_snapshot cpu_a, cpu_b;

static void sample_cpu(struct cpu_snapshot *s)
{
	memset(s, 0, sizeof(*s));
	s->index = 1;
	s->regs.rip = 0xffffffff81000000ULL;
	s->regs.rflags = 0x202;
	s->sregs.efer = 0xd01;
	s->sregs.apic_base = 0xfee00900;
	s->xsave_len = 4096;
	s->xsave[0] = 0x7f;
	s->xcrs.nr_xcrs = 1;
	s->xcrs.xcrs[0].value = 7;
	s->nr_msrs = 2;
	s->msrs[0] = (struct kvm_msr_entry){ .index = 0x10, .data = 123456789 };
	s->msrs[1] = (struct kvm_msr_entry){ .index = 0x4b564d01, .data = 0x9001 };
	s->lapic.regs[0x20] = 1;
	s->events.nmi.pending = 1;
	s->mp_state.mp_state = KVM_MP_STATE_HALTED;
	s->debugregs.dr7 = 0x400;
}

static int decode_cpu(const struct sbuf *b, struct cpu_snapshot *s, char *err)
{
	struct sreader in = { .p = b->data, .len = b->len };

	return cpu_snapshot_decode(&in, s, err, 160);
}

static void test_cpu_round_trip(void **state)
{
	struct sbuf b = { 0 };
	char err[160] = "";

	(void)state;
	sample_cpu(&cpu_a);
	assert_int_equal(cpu_snapshot_encode(&cpu_a, &b), 0);
	assert_int_equal(decode_cpu(&b, &cpu_b, err), 0);
	assert_int_equal(cpu_b.index, 1);
	assert_memory_equal(&cpu_b.regs, &cpu_a.regs, sizeof(cpu_a.regs));
	assert_memory_equal(&cpu_b.sregs, &cpu_a.sregs, sizeof(cpu_a.sregs));
	assert_memory_equal(cpu_b.xsave, cpu_a.xsave, 4096);
	assert_int_equal(cpu_b.nr_msrs, 2);
	assert_int_equal(cpu_b.msrs[0].data, 123456789);
	assert_int_equal(cpu_b.msrs[1].index, 0x4b564d01);
	assert_int_equal(cpu_b.mp_state.mp_state, KVM_MP_STATE_HALTED);
	assert_int_equal(cpu_b.events.nmi.pending, 1);
	assert_int_equal(cpu_b.debugregs.dr7, 0x400);
	sbuf_free(&b);
}

/* Offset of the first part tagged tag in an encoded vCPU record. */
static size_t part_offset(const struct sbuf *b, uint16_t tag)
{
	size_t off = 8;

	while (off + 6 <= b->len) {
		uint16_t t = b->data[off] | b->data[off + 1] << 8;
		uint32_t len;

		memcpy(&len, b->data + off + 2, 4);
		if (t == tag)
			return off;
		off += 6 + len;
	}
	fail_msg("no part %u", tag);
	return 0;
}

static void test_cpu_refusals(void **state)
{
	struct sbuf b = { 0 };
	char err[160];
	size_t off;

	(void)state;
	sample_cpu(&cpu_a);
	assert_int_equal(cpu_snapshot_encode(&cpu_a, &b), 0);

	/* Another format version. */
	b.data[0] = 2;
	err[0] = 0;
	assert_int_equal(decode_cpu(&b, &cpu_b, err), -EBADMSG);
	assert_non_null(strstr(err, "version 2 not supported"));
	b.data[0] = 1;

	/* Every truncation is refused with a reason. */
	for (size_t len = 0; len < b.len; len += 97) {
		struct sbuf t = b;

		t.len = len;
		err[0] = 0;
		assert_int_equal(decode_cpu(&t, &cpu_b, err), -EBADMSG);
		assert_true(err[0]);
	}

	/* A part of the wrong size (the regs part claims one byte less). */
	off = part_offset(&b, 1);
	b.data[off + 2]--;
	err[0] = 0;
	assert_int_equal(decode_cpu(&b, &cpu_b, err), -EBADMSG);
	assert_true(err[0]);
	b.data[off + 2]++;

	/* A repeated part: the regs tag written over the sregs one. */
	off = part_offset(&b, 2);
	b.data[off] = 1;
	err[0] = 0;
	assert_int_equal(decode_cpu(&b, &cpu_b, err), -EBADMSG);
	assert_non_null(strstr(err, "repeated part 1"));
	b.data[off] = 2;

	/* More MSRs than fvmm carries. */
	off = part_offset(&b, 5);
	b.data[off + 6] = 200;
	err[0] = 0;
	assert_int_equal(decode_cpu(&b, &cpu_b, err), -EBADMSG);
	assert_non_null(strstr(err, "bad MSR list"));
	b.data[off + 6] = 2;

	assert_int_equal(decode_cpu(&b, &cpu_b, err), 0);
	sbuf_free(&b);
}

static void test_cpu_bad_mp_state(void **state)
{
	struct sbuf b = { 0 };
	char err[160] = "";

	(void)state;
	sample_cpu(&cpu_a);
	cpu_a.mp_state.mp_state = 1000;
	assert_int_equal(cpu_snapshot_encode(&cpu_a, &b), 0);
	assert_int_equal(decode_cpu(&b, &cpu_b, err), -EBADMSG);
	assert_non_null(strstr(err, "bad MP state 1000"));
	sbuf_free(&b);
}

static void test_kstate_round_trip_and_ids(void **state)
{
	static struct vm_ksnapshot a, b;
	struct sbuf enc = { 0 };
	struct sreader in;
	char err[160] = "";

	(void)state;
	memset(&a, 0, sizeof(a));
	a.pic_master.chip_id = KVM_IRQCHIP_PIC_MASTER;
	a.pic_slave.chip_id = KVM_IRQCHIP_PIC_SLAVE;
	a.ioapic.chip_id = KVM_IRQCHIP_IOAPIC;
	a.ioapic.chip.ioapic.redirtbl[4].bits = 0x10031;
	a.pit.channels[0].count = 0x2e9b;
	a.clock.clock = 123456789000ULL;
	assert_int_equal(vm_ksnapshot_encode(&a, &enc), 0);
	in = (struct sreader){ .p = enc.data, .len = enc.len };
	assert_int_equal(vm_ksnapshot_decode(&in, &b, err, sizeof(err)), 0);
	assert_memory_equal(&a, &b, sizeof(a));
	sbuf_free(&enc);

	/* The IOAPIC's record in the PIC's place is refused. */
	a.pic_master.chip_id = KVM_IRQCHIP_IOAPIC;
	memset(&enc, 0, sizeof(enc));
	assert_int_equal(vm_ksnapshot_encode(&a, &enc), 0);
	in = (struct sreader){ .p = enc.data, .len = enc.len };
	assert_int_equal(vm_ksnapshot_decode(&in, &b, err, sizeof(err)), -EBADMSG);
	assert_non_null(strstr(err, "irqchip ids"));
	sbuf_free(&enc);
}

/* ---- RAM batches ---- */

#define RAM_SIZE	(2ULL << 20)

struct batch {
	uint8_t buf[8 + 4 * (8 + 4096)];
	size_t len;
	uint32_t count;
};

static void batch_start(struct batch *b)
{
	memset(b, 0, sizeof(*b));
	b->len = 8;
}

static void batch_add(struct batch *b, uint64_t ent, int fill)
{
	memcpy(b->buf + b->len, &ent, 8);
	b->len += 8;
	if (!(ent & MIG_RAM_F_ZERO)) {
		memset(b->buf + b->len, fill, 4096);
		b->len += 4096;
	}
	b->count++;
	memcpy(b->buf, &b->count, 4);
}

static int load(struct mig_ram_dest *d, const struct batch *b, char *err)
{
	struct mig_record rec = { .type = MIG_REC_RAM, .len = b->len,
				  .payload = b->buf };

	err[0] = 0;
	return mig_ram_load(d, &rec, err, 160);
}

struct ram_fixture {
	struct guest_mem gm;
	struct mig_ram_dest d;
};

static int ram_setup(void **state)
{
	struct ram_fixture *f = calloc(1, sizeof(*f));

	if (!f || gm_init(&f->gm, RAM_SIZE) || mig_ram_dest_init(&f->d, &f->gm))
		return -1;
	*state = f;
	return 0;
}

static int ram_teardown(void **state)
{
	struct ram_fixture *f = *state;

	mig_ram_dest_destroy(&f->d);
	gm_destroy(&f->gm);
	free(f);
	return 0;
}

static void test_ram_pages_land(void **state)
{
	struct ram_fixture *f = *state;
	static struct batch b;
	const uint8_t *p1 = gm_ptr(&f->gm, 0x1000, 4096);
	const uint8_t *p2 = gm_ptr(&f->gm, 0x3000, 4096);
	char err[160];

	batch_start(&b);
	batch_add(&b, 0x1000, 0xab);
	batch_add(&b, 0x3000, 0xcd);
	assert_int_equal(load(&f->d, &b, err), 0);
	assert_int_equal(p1[0], 0xab);
	assert_int_equal(p1[4095], 0xab);
	assert_int_equal(p2[17], 0xcd);

	/* A zero page over a page written earlier clears it... */
	batch_start(&b);
	batch_add(&b, 0x1000 | MIG_RAM_F_ZERO, 0);
	assert_int_equal(load(&f->d, &b, err), 0);
	assert_int_equal(p1[0], 0);
	assert_int_equal(p1[4095], 0);
	/* ...and the other page keeps its data. */
	assert_int_equal(p2[17], 0xcd);
}

static void test_ram_refusals(void **state)
{
	struct ram_fixture *f = *state;
	static struct batch b;
	char err[160];

	/* An empty batch. */
	batch_start(&b);
	assert_int_equal(load(&f->d, &b, err), -EBADMSG);
	assert_non_null(strstr(err, "bad batch header"));

	/* A page outside this VM's RAM. */
	batch_start(&b);
	batch_add(&b, RAM_SIZE + 0x10000, 1);
	assert_int_equal(load(&f->d, &b, err), -EBADMSG);
	assert_non_null(strstr(err, "not RAM here"));

	/* Unknown flag bits. */
	batch_start(&b);
	batch_add(&b, 0x2000 | 0x4, 1);
	assert_int_equal(load(&f->d, &b, err), -EBADMSG);
	assert_non_null(strstr(err, "unknown flags"));

	/* A batch that ends inside a page, and one with bytes after it. */
	batch_start(&b);
	batch_add(&b, 0x2000, 1);
	b.len -= 100;
	assert_int_equal(load(&f->d, &b, err), -EBADMSG);
	assert_non_null(strstr(err, "inside a page"));
	b.len += 100 + 3;
	assert_int_equal(load(&f->d, &b, err), -EBADMSG);
	assert_non_null(strstr(err, "stray bytes"));

	/* A count larger than the entries present. */
	batch_start(&b);
	batch_add(&b, 0x2000 | MIG_RAM_F_ZERO, 0);
	b.count = 5;
	memcpy(b.buf, &b.count, 4);
	assert_int_equal(load(&f->d, &b, err), -EBADMSG);
	assert_non_null(strstr(err, "ends after 1"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cpu_round_trip),
		cmocka_unit_test(test_cpu_refusals),
		cmocka_unit_test(test_cpu_bad_mp_state),
		cmocka_unit_test(test_kstate_round_trip_and_ids),
		cmocka_unit_test_setup_teardown(test_ram_pages_land, ram_setup,
						ram_teardown),
		cmocka_unit_test_setup_teardown(test_ram_refusals, ram_setup,
						ram_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
