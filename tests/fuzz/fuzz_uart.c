// SPDX-License-Identifier: MIT
/*
 * libFuzzer target for the 16550A model (src/dev/uart8250.c) as a guest and
 * a migration stream drive it: register reads and writes in any order
 * (DLAB, loopback, FIFO clears, interrupt enables), bytes from the host,
 * resets, and state records taken from the input.
 *
 * Properties checked after every step:
 *  - the FIFO indices stay in range and IIR reads name a valid source;
 *  - the interrupt line the host was told about is the model's own level
 *    (no edge lost or invented);
 *  - a loaded record holds only what a guest can write (the masked
 *    registers), whatever the stream said;
 *  - save -> load -> save gives the same bytes and leaves the line as it
 *    was, on the device and on a new one (a destination raises no
 *    interrupt the source did not have).
 *
 * Input: a sequence of 3-byte operations  op, a, b
 *   op % 6: 0 write register a%8 = b, 1 read register a%8, 2 the host
 *   sends b%20 bytes, 3 reset, 4 load a record of the next (a%64) input
 *   bytes, 5 reload the device's own record.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_device_state.h"

#include "core/util.h"
#include "dev/uart8250.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct uart uart;
static int host_level;

static void host_tx(void *opaque, uint8_t byte)
{
}

static void host_irq(void *opaque, int level)
{
	/* Edges only: the model reports a change, never the same level. */
	if (level == host_level)
		abort();
	host_level = level;
}

static const struct device_ops uart_fuzz_ops = {
	.type = "uart8250", .save = uart_save, .load = uart_load,
};

static void check(void)
{
	struct uart_regs *r = &uart.r;

	if (r->rx_head >= UART_FIFO_SIZE || r->rx_count > UART_FIFO_SIZE ||
	    host_level != uart.irq_level)
		abort();
	if ((r->ier & ~0x0f) || (r->mcr & ~0x1f) || (r->fcr & ~0xc9) ||
	    r->thr_ipending > 1)
		abort();
}

/* IIR: no interrupt (1) or the ID of a source (0, 2, 4, 6); FIFO bits. */
static void check_iir(uint8_t v)
{
	if ((v & 0x30) || ((v & 0x0f) != 1 && (v & 0x09)))
		abort();
}

static void load(const uint8_t *p, size_t len)
{
	struct sreader rd = { .p = p, .len = len };
	char err[128] = "";

	if (uart_load(&uart.dev, &rd, err, sizeof(err)) && !err[0])
		abort();	/* a refusal says why */
}

static void reload(void)
{
	int level = uart.irq_level;

	fuzz_reload_own_state(&uart.dev);
	if (uart.irq_level != level)
		abort();
}

/* A destination's new UART takes the record and raises the same line. */
static void migrate(void)
{
	static struct uart dst;
	struct sbuf sb;

	if (!dst.dev.ops) {
		pthread_mutex_init(&dst.lock, NULL);
		dst.in_fd = dst.out_fd = -1;
		dst.dev.ops = &uart_fuzz_ops;
		strcpy(dst.dev.id, "com1-dst");
	}
	uart_init_regs(&dst, NULL);
	fuzz_save(&uart.dev, &sb);
	fuzz_load_expect_same(&dst.dev, &sb);
	if (dst.irq_level != uart.irq_level)
		abort();
	sbuf_free(&sb);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct uart_host host = {
		.tx = host_tx, .irq = host_irq,
	};
	static bool ready;
	size_t i = 0;

	if (!ready) {
		pthread_mutex_init(&uart.lock, NULL);
		uart.in_fd = uart.out_fd = -1;
		uart.dev.ops = &uart_fuzz_ops;
		strcpy(uart.dev.id, "com1");
		ready = true;
	}
	uart_init_regs(&uart, &host);
	host_level = 0;
	while (i + 3 <= size) {
		uint8_t op = data[i], a = data[i + 1], b = data[i + 2];
		uint8_t bytes[20];
		size_t n;

		i += 3;
		switch (op % 6) {
		case 0:
			uart_reg_write(&uart, a % 8, b);
			break;
		case 1:
			if (a % 8 == 2)
				check_iir(uart_reg_read(&uart, 2));
			else
				uart_reg_read(&uart, a % 8);
			break;
		case 2:
			for (n = 0; n < b % 20u; n++)
				bytes[n] = a + n;
			uart_receive(&uart, bytes, b % 20u);
			break;
		case 3:
			uart_init_regs(&uart, NULL);
			break;
		case 4:
			n = MIN((size_t)a % 64, size - i);
			load(data + i, n);
			i += n;
			break;
		case 5:
			reload();
			break;
		}
		check();
	}
	reload();
	migrate();
	return 0;
}
