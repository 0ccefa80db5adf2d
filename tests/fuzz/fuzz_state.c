// SPDX-License-Identifier: MIT
/*
 * libFuzzer target: device state records are untrusted migration input.
 * state_load() of a fixed descriptor (every field kind, fields added in
 * later versions) must refuse anything malformed cleanly (never read past
 * the input, never write past the object), and what it accepts must be
 * consistent: a record accepted at the current version re-encodes to
 * exactly the bytes it consumed (no field is lost or reinterpreted).
 * Each device's own checks on top are fuzzed with the device (fuzz_uart,
 * fuzz_virtio_pci, fuzz_e1000, ...).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/state.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct sample {
	uint8_t a;
	uint16_t b;
	uint32_t c;
	uint64_t d;
	uint32_t arr[3];
	uint8_t bytes[5];
	uint16_t v2;
	uint64_t v3;
};

static const struct state_field sample_fields[] = {
	STATE_INT(struct sample, a),
	STATE_INT(struct sample, b),
	STATE_INT(struct sample, c),
	STATE_INT(struct sample, d),
	STATE_INT_ARRAY(struct sample, arr),
	STATE_BYTES(struct sample, bytes),
	{ .name = "v2", .offset = offsetof(struct sample, v2), .elem_size = 2,
	  .kind = STATE_INT, .count = 1, .since_version = 2 },
	{ .name = "v3", .offset = offsetof(struct sample, v3), .elem_size = 8,
	  .kind = STATE_INT, .count = 1, .since_version = 3 },
};

static const struct state_desc sample_desc = {
	.name = "sample", .version = 3, .min_version = 1,
	.fields = sample_fields,
	.nr_fields = sizeof(sample_fields) / sizeof(sample_fields[0]),
};

static void fuzz_sample(const uint8_t *data, size_t size)
{
	struct sreader r = { .p = data, .len = size };
	struct sample *obj = malloc(sizeof(*obj));
	struct sbuf out = { 0 };
	char err[128];

	if (!obj)
		return;
	memset(obj, 0, sizeof(*obj));
	err[0] = '\0';
	if (state_load(&sample_desc, obj, &r, err, sizeof(err)) == 0) {
		if (r.off > size)
			abort();
		/* An accepted record is named "sample": its version at 8. */
		if (data[8] == 3 && !data[9] && !data[10] && !data[11]) {
			if (state_save(&sample_desc, obj, &out) ||
			    out.len != r.off || memcmp(out.data, data, r.off))
				abort();
		}
	} else if (!err[0]) {
		abort();
	}
	sbuf_free(&out);
	free(obj);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* Exact-size copy so ASan sees reads past the end of the input. */
	uint8_t *copy = malloc(size ? size : 1);

	if (!copy)
		return 0;
	memcpy(copy, data, size);
	fuzz_sample(copy, size);
	free(copy);
	return 0;
}
