// SPDX-License-Identifier: MIT
/*
 * libFuzzer target: what a destination does with the payloads of an
 * untrusted stream, after the framing (fuzz_migration_stream) accepted
 * them.  The first input byte picks the record type:
 *
 *   0  MIG_REC_CPU        cpu_snapshot_decode
 *   1  MIG_REC_VM_KSTATE  vm_ksnapshot_decode
 *   2  MIG_REC_RAM        mig_ram_load into a 2 MiB guest_mem
 *
 * Refusals must come with a reason.  What the decoders accept must survive
 * encode -> decode -> encode unchanged (the identity the device targets
 * check for their state records), and an accepted RAM batch must leave
 * exactly its pages in guest memory.
 */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/guest_mem.h"
#include "core/state.h"
#include "migration/cpu_state.h"
#include "migration/ram.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_RAM_SIZE	(2ULL << 20)

static void same_bytes(const struct sbuf *a, const struct sbuf *b)
{
	if (a->err || b->err || a->len != b->len ||
	    memcmp(a->data, b->data, a->len))
		abort();
}

static void fuzz_cpu(const uint8_t *p, size_t len)
{
	static struct cpu_snapshot s1, s2;
	struct sreader in = { .p = p, .len = len };
	struct sbuf e1 = { 0 }, e2 = { 0 };
	char err[160] = "";

	if (cpu_snapshot_decode(&in, &s1, err, sizeof(err))) {
		if (!err[0])
			abort();
		return;
	}
	if (cpu_snapshot_encode(&s1, &e1))
		abort();
	in = (struct sreader){ .p = e1.data, .len = e1.len };
	if (cpu_snapshot_decode(&in, &s2, err, sizeof(err)) ||
	    cpu_snapshot_encode(&s2, &e2))
		abort();
	same_bytes(&e1, &e2);
	sbuf_free(&e1);
	sbuf_free(&e2);
}

static void fuzz_kstate(const uint8_t *p, size_t len)
{
	static struct vm_ksnapshot s1, s2;
	struct sreader in = { .p = p, .len = len };
	struct sbuf e1 = { 0 }, e2 = { 0 };
	char err[160] = "";

	if (vm_ksnapshot_decode(&in, &s1, err, sizeof(err))) {
		if (!err[0])
			abort();
		return;
	}
	if (vm_ksnapshot_encode(&s1, &e1))
		abort();
	in = (struct sreader){ .p = e1.data, .len = e1.len };
	if (vm_ksnapshot_decode(&in, &s2, err, sizeof(err)) ||
	    vm_ksnapshot_encode(&s2, &e2))
		abort();
	same_bytes(&e1, &e2);
	sbuf_free(&e1);
	sbuf_free(&e2);
}

static struct guest_mem *fuzz_gm(void)
{
	static struct guest_mem gm;
	static bool ready;

	if (!ready) {
		if (gm_init(&gm, FUZZ_RAM_SIZE))
			abort();
		ready = true;
	}
	return &gm;
}

/* Every entry of an accepted batch is in guest memory now (last one wins). */
static void check_pages(struct guest_mem *gm, const uint8_t *p, size_t len)
{
	static const uint8_t zero[GM_PAGE_SIZE];
	uint32_t count = p[0] | p[1] << 8 | (uint32_t)p[2] << 16 |
			 (uint32_t)p[3] << 24;
	size_t off = 8;

	for (uint32_t k = 0; k < count; k++) {
		uint64_t ent = 0, gpa;
		const uint8_t *want = zero;
		bool overridden = false;
		size_t next;

		for (int b = 0; b < 8; b++)
			ent |= (uint64_t)p[off + b] << (8 * b);
		off += 8;
		gpa = ent & ~MIG_RAM_F_MASK;
		if (!(ent & MIG_RAM_F_ZERO)) {
			want = p + off;
			off += GM_PAGE_SIZE;
		}
		/* A later entry for the same page overrides this one. */
		next = off;
		for (uint32_t j = k + 1; j < count; j++) {
			uint64_t e2 = 0;

			for (int b = 0; b < 8; b++)
				e2 |= (uint64_t)p[next + b] << (8 * b);
			next += 8 + ((e2 & MIG_RAM_F_ZERO) ? 0 : GM_PAGE_SIZE);
			if ((e2 & ~MIG_RAM_F_MASK) == gpa)
				overridden = true;
		}
		if (!overridden && memcmp(gm_ptr(gm, gpa, GM_PAGE_SIZE), want,
				     GM_PAGE_SIZE))
			abort();
	}
	if (off != len)
		abort();
}

static void fuzz_ram(const uint8_t *p, size_t len)
{
	struct guest_mem *gm = fuzz_gm();
	struct mig_ram_dest d;
	struct mig_record rec = { .type = MIG_REC_RAM, .len = len, .payload = p };
	char err[160] = "";
	int ret;

	if (len > mig_record_cap(MIG_REC_RAM))
		return;		/* the framing never hands over more */
	/* A destination's RAM starts all zero (the zero-page elision relies
	 * on it); the previous input left pages behind. */
	memset(gm->base, 0, gm->ram_size);
	if (mig_ram_dest_init(&d, gm))
		abort();
	ret = mig_ram_load(&d, &rec, err, sizeof(err));
	if (ret && (ret != -EBADMSG || !err[0]))
		abort();
	if (!ret)
		check_pages(gm, p, len);
	mig_ram_dest_destroy(&d);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *copy;

	if (!size)
		return 0;
	/* Exact-size copy so ASan sees reads past the end of the input. */
	copy = malloc(size - 1 ? size - 1 : 1);
	if (!copy)
		return 0;
	memcpy(copy, data + 1, size - 1);
	switch (data[0] % 3) {
	case 0:
		fuzz_cpu(copy, size - 1);
		break;
	case 1:
		fuzz_kstate(copy, size - 1);
		break;
	default:
		fuzz_ram(copy, size - 1);
	}
	free(copy);
	return 0;
}
