// SPDX-License-Identifier: MIT
/*
 * libFuzzer target: device state records are untrusted migration input.
 * state_load() of a fixed descriptor and uart_load() must refuse anything
 * malformed cleanly (never read past the input, never write past the
 * object), and what they accept must be consistent.
 *
 * Properties checked:
 *  - a record state_load() accepts at the current version re-encodes to
 *    exactly the bytes it consumed (no field is lost or reinterpreted);
 *  - uart_load() only accepts in-range FIFO indices, and a loaded UART can
 *    be driven (reads drain the FIFO) without sanitizer reports.
 */
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/state.h"
#include "dev/uart8250.h"

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

static struct uart uart;

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
		size_t name_len = data[0] | data[1] << 8;

		if (r.off > size)
			abort();
		/*
		 * A current-version record re-encodes to the bytes consumed.
		 * Only for the exact name length: state_load() accepts names
		 * with trailing NUL bytes (a known bug, see
		 * test_name_must_match_exactly), which re-encode shorter.
		 */
		if (name_len == 6 && data[8] == 3 && !data[9] && !data[10] &&
		    !data[11]) {
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

static void fuzz_uart(const uint8_t *data, size_t size)
{
	struct sreader r = { .p = data, .len = size };
	char err[128];

	static int ready;

	if (!ready) {
		/* No host callbacks: bytes and IRQ levels go nowhere. */
		pthread_mutex_init(&uart.lock, NULL);
		uart.in_fd = uart.out_fd = -1;
		ready = 1;
	}
	uart_init_regs(&uart, NULL);
	err[0] = '\0';
	if (uart_load(&uart.dev, &r, err, sizeof(err)) != 0) {
		if (!err[0])
			abort();
		return;
	}
	if (uart.r.rx_head >= UART_FIFO_SIZE || uart.r.rx_count > UART_FIFO_SIZE)
		abort();
	/* Drive the restored device: drain, transmit, read every register. */
	for (unsigned i = 0; i < UART_FIFO_SIZE + 2; i++)
		uart_reg_read(&uart, 0);
	for (unsigned off = 0; off < 8; off++)
		uart_reg_read(&uart, off);
	uart_reg_write(&uart, 0, 'x');
	if (uart.r.rx_count > UART_FIFO_SIZE)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* Exact-size copy so ASan sees reads past the end of the input. */
	uint8_t *copy = malloc(size ? size : 1);

	if (!copy)
		return 0;
	memcpy(copy, data, size);
	fuzz_sample(copy, size);
	fuzz_uart(copy, size);
	free(copy);
	return 0;
}
