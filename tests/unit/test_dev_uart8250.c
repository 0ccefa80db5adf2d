// SPDX-License-Identifier: MIT
/*
 * 16550A register model (src/dev/uart8250.c), driven through its register
 * interface with a fake host that records transmitted bytes and IRQ levels,
 * plus the port-bus path and device ops through uart_create() on a
 * machine-less struct vm.
 */
#include <stdlib.h>

#include "helpers.h"

#include "core/state.h"
#include "core/util.h"
#include "dev/uart8250.h"

/* Register offsets and bits, from the 16550A data sheet. */
enum { RBR = 0, THR = 0, DLL = 0, IER = 1, DLM = 1, IIR = 2, FCR = 2, LCR = 3,
       MCR = 4, LSR = 5, MSR = 6, SCR = 7 };
#define IER_RDI		0x01
#define IER_THRI	0x02
#define IER_RLSI	0x04
#define IIR_NO_INT	0x01
#define IIR_ID(v)	((v) & 0x0f)
#define IIR_THRI	0x02
#define IIR_RDI		0x04
#define IIR_RLSI	0x06
#define IIR_FIFO_BITS	0xc0
#define LSR_DR		0x01
#define LSR_OE		0x02
#define LSR_THRE	0x20
#define LSR_TEMT	0x40
#define MCR_DTR		0x01
#define MCR_RTS		0x02
#define MCR_OUT1	0x04
#define MCR_OUT2	0x08
#define MCR_LOOP	0x10
#define MSR_CTS		0x10
#define MSR_DSR		0x20
#define MSR_RI		0x40
#define MSR_DCD		0x80

struct fixture {
	struct uart u;
	struct fake_host h;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct uart_host host = {
		.tx = fake_tx, .irq = fake_irq, .rx_space = fake_rx_space,
	};

	if (!f)
		return -1;
	host.opaque = &f->h;
	pthread_mutex_init(&f->u.lock, NULL);
	f->u.in_fd = f->u.out_fd = -1;
	uart_init_regs(&f->u, &host);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	pthread_mutex_destroy(&f->u.lock);
	free(f);
	return 0;
}

static uint8_t rd(struct fixture *f, unsigned off)
{
	return uart_reg_read(&f->u, off);
}

static void wr(struct fixture *f, unsigned off, uint8_t v)
{
	uart_reg_write(&f->u, off, v);
}

static void test_reset_state(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(rd(f, LSR), LSR_THRE | LSR_TEMT);
	assert_int_equal(rd(f, IIR), IIR_NO_INT);
	assert_int_equal(rd(f, IER), 0);
	assert_int_equal(rd(f, LCR), 0);
	/* Carrier, data set ready and clear to send: a cable is plugged in. */
	assert_int_equal(rd(f, MSR) & 0xf0, MSR_DCD | MSR_DSR | MSR_CTS);
	assert_int_equal(f->h.nirq, 0);
	assert_int_equal(f->h.ntx, 0);
	/* Offsets outside the 8 registers read as all ones. */
	assert_int_equal(rd(f, 8), 0xff);
}

static void test_thr_transmits(void **state)
{
	struct fixture *f = *state;
	const char *msg = "READY cpus=2\r\n";

	for (const char *p = msg; *p; p++)
		wr(f, THR, *p);
	assert_int_equal(f->h.ntx, strlen(msg));
	assert_memory_equal(f->h.tx, msg, strlen(msg));
	/* THR is empty again at once: software polling LSR never stalls. */
	assert_true(rd(f, LSR) & LSR_THRE);
	assert_true(rd(f, LSR) & LSR_TEMT);
}

static void test_dlab(void **state)
{
	struct fixture *f = *state;

	wr(f, IER, 0x05);			/* before DLAB: the real IER */
	wr(f, LCR, 0x80 | 0x03);		/* DLAB, 8N1 */
	wr(f, DLL, 0x01);			/* 115200 baud */
	wr(f, DLM, 0x00);
	assert_int_equal(f->h.ntx, 0);		/* DLL write is not a byte out */
	assert_int_equal(rd(f, DLL), 0x01);
	assert_int_equal(rd(f, DLM), 0x00);
	wr(f, DLM, 0x12);
	assert_int_equal(rd(f, DLM), 0x12);
	wr(f, LCR, 0x03);
	assert_int_equal(rd(f, LCR), 0x03);
	/* DLAB off: same offsets are THR/RBR and IER again. */
	assert_int_equal(rd(f, IER), 0x05);
	wr(f, THR, 'A');
	assert_int_equal(f->h.ntx, 1);
	assert_int_equal(f->h.tx[0], 'A');
	/* The divisor survived. */
	wr(f, LCR, 0x83);
	assert_int_equal(rd(f, DLL), 0x01);
	assert_int_equal(rd(f, DLM), 0x12);
}

static void test_thri(void **state)
{
	struct fixture *f = *state;

	/* Enabling THRI with THR empty raises the line at once. */
	wr(f, IER, IER_THRI);
	assert_int_equal(f->h.level, 1);
	assert_int_equal(f->h.nirq, 1);
	/* Reading IIR reports THRI and acknowledges it. */
	assert_int_equal(IIR_ID(rd(f, IIR)), IIR_THRI);
	assert_int_equal(f->h.level, 0);
	assert_int_equal(IIR_ID(rd(f, IIR)), IIR_NO_INT);
	/* Each transmitted byte empties THR again: another interrupt. */
	wr(f, THR, 'x');
	assert_int_equal(f->h.level, 1);
	assert_int_equal(IIR_ID(rd(f, IIR)), IIR_THRI);
	assert_int_equal(f->h.level, 0);
	/* Disabling THRI with one pending drops the line. */
	wr(f, THR, 'y');
	assert_int_equal(f->h.level, 1);
	wr(f, IER, 0);
	assert_int_equal(f->h.level, 0);
	assert_int_equal(IIR_ID(rd(f, IIR)), IIR_NO_INT);
	/* Never two calls with the same level in a row. */
	for (unsigned i = 1; i < f->h.nirq; i++)
		assert_int_not_equal(f->h.levels[i], f->h.levels[i - 1]);
}

static void test_rx_data(void **state)
{
	struct fixture *f = *state;

	/* Polled mode: DR without an interrupt. */
	assert_int_equal(uart_receive(&f->u, (const uint8_t *)"ab", 2), 2);
	assert_true(rd(f, LSR) & LSR_DR);
	assert_int_equal(IIR_ID(rd(f, IIR)), IIR_NO_INT);
	assert_int_equal(f->h.level, 0);

	/* Interrupt mode: RDI pending while data is there. */
	wr(f, IER, IER_RDI);
	assert_int_equal(f->h.level, 1);
	assert_int_equal(rd(f, IIR), IIR_RDI);		/* no FIFO bits yet */
	wr(f, FCR, 0x01);				/* FIFO on */
	assert_int_equal(rd(f, IIR), IIR_FIFO_BITS | IIR_RDI);
	/* Reading IIR does not acknowledge RDI: only draining does. */
	assert_int_equal(f->h.level, 1);
	assert_int_equal(rd(f, RBR), 'a');
	assert_int_equal(f->h.level, 1);
	assert_int_equal(rd(f, RBR), 'b');
	assert_int_equal(f->h.level, 0);
	assert_false(rd(f, LSR) & LSR_DR);
	assert_int_equal(rd(f, IIR), IIR_FIFO_BITS | IIR_NO_INT);
	/* An empty FIFO reads 0 and stays sane. */
	assert_int_equal(rd(f, RBR), 0);
	assert_false(rd(f, LSR) & LSR_DR);
}

static void test_rx_priority_over_thri(void **state)
{
	struct fixture *f = *state;

	wr(f, IER, IER_RDI | IER_THRI);
	uart_receive(&f->u, (const uint8_t *)"z", 1);
	assert_int_equal(IIR_ID(rd(f, IIR)), IIR_RDI);
	assert_int_equal(rd(f, RBR), 'z');
	/* THRI still latched underneath, reported once RX is done. */
	assert_int_equal(IIR_ID(rd(f, IIR)), IIR_THRI);
	assert_int_equal(IIR_ID(rd(f, IIR)), IIR_NO_INT);
	assert_int_equal(f->h.level, 0);
}

static void test_rx_fifo_backpressure(void **state)
{
	struct fixture *f = *state;
	uint8_t in[20];

	for (unsigned i = 0; i < sizeof(in); i++)
		in[i] = 'A' + i;
	/* The host is told how much fits; nothing is lost or overrun. */
	assert_int_equal(uart_rx_space(&f->u), UART_FIFO_SIZE);
	assert_int_equal(uart_receive(&f->u, in, sizeof(in)), UART_FIFO_SIZE);
	assert_int_equal(uart_rx_space(&f->u), 0);
	assert_int_equal(uart_receive(&f->u, in, 1), 0);
	assert_false(rd(f, LSR) & LSR_OE);
	for (unsigned i = 0; i < UART_FIFO_SIZE; i++)
		assert_int_equal(rd(f, RBR), 'A' + i);
	assert_int_equal(uart_rx_space(&f->u), UART_FIFO_SIZE);
	/* Wrap-around of the ring. */
	assert_int_equal(uart_receive(&f->u, in + 16, 4), 4);
	for (unsigned i = 16; i < 20; i++)
		assert_int_equal(rd(f, RBR), 'A' + i);
}

static void test_fcr_clears_rx(void **state)
{
	struct fixture *f = *state;

	uart_receive(&f->u, (const uint8_t *)"abc", 3);
	wr(f, FCR, 0x01 | 0x02);		/* enable + clear RX */
	assert_false(rd(f, LSR) & LSR_DR);
	assert_int_equal(uart_rx_space(&f->u), UART_FIFO_SIZE);
	uart_receive(&f->u, (const uint8_t *)"d", 1);
	assert_int_equal(rd(f, RBR), 'd');
}

static void test_loopback(void **state)
{
	struct fixture *f = *state;

	wr(f, MCR, MCR_LOOP);
	wr(f, THR, 0x55);
	/* Looped back, not sent. */
	assert_int_equal(f->h.ntx, 0);
	assert_true(rd(f, LSR) & LSR_DR);
	assert_int_equal(rd(f, RBR), 0x55);
	/* Outside input is ignored during the self-test. */
	assert_int_equal(uart_receive(&f->u, (const uint8_t *)"q", 1), 0);
	assert_false(rd(f, LSR) & LSR_DR);

	/* Modem inputs mirror outputs: RTS->CTS, DTR->DSR, OUT1->RI, OUT2->DCD. */
	wr(f, MCR, MCR_LOOP);
	assert_int_equal(rd(f, MSR) & 0xf0, 0);
	wr(f, MCR, MCR_LOOP | MCR_RTS);
	assert_int_equal(rd(f, MSR) & 0xf0, MSR_CTS);
	wr(f, MCR, MCR_LOOP | MCR_DTR);
	assert_int_equal(rd(f, MSR) & 0xf0, MSR_DSR);
	wr(f, MCR, MCR_LOOP | MCR_OUT1);
	assert_int_equal(rd(f, MSR) & 0xf0, MSR_RI);
	wr(f, MCR, MCR_LOOP | MCR_OUT2);
	assert_int_equal(rd(f, MSR) & 0xf0, MSR_DCD);
	wr(f, MCR, MCR_LOOP | 0x0f);
	assert_int_equal(rd(f, MSR) & 0xf0, 0xf0);
	assert_int_equal(rd(f, MCR), MCR_LOOP | 0x0f);
	/* Leaving loopback restores the real lines and real output. */
	wr(f, MCR, MCR_DTR | MCR_RTS | MCR_OUT2);
	assert_int_equal(rd(f, MSR) & 0xf0, MSR_DCD | MSR_DSR | MSR_CTS);
	wr(f, THR, 'o');
	assert_int_equal(f->h.ntx, 1);
	assert_false(rd(f, LSR) & LSR_DR);
}

static void test_overrun(void **state)
{
	struct fixture *f = *state;
	uint8_t lsr;

	/* Loopback is the guest-driven way to overrun the RX FIFO. */
	wr(f, MCR, MCR_LOOP);
	for (unsigned i = 0; i <= UART_FIFO_SIZE; i++)
		wr(f, THR, 0x30 + i);
	/* Overrun is reported as a line-status interrupt when enabled. */
	wr(f, IER, IER_RLSI | IER_RDI);
	assert_int_equal(IIR_ID(rd(f, IIR)), IIR_RLSI);
	assert_int_equal(f->h.level, 1);
	lsr = rd(f, LSR);
	assert_true(lsr & LSR_OE);
	assert_true(lsr & LSR_DR);
	/* Reading LSR clears the error; the data stays. */
	lsr = rd(f, LSR);
	assert_false(lsr & LSR_OE);
	assert_true(lsr & LSR_DR);
	assert_int_equal(IIR_ID(rd(f, IIR)), IIR_RDI);
	/* The first 16 bytes are kept, the 17th was dropped. */
	for (unsigned i = 0; i < UART_FIFO_SIZE; i++)
		assert_int_equal(rd(f, RBR), 0x30 + i);
	assert_false(rd(f, LSR) & LSR_DR);
	assert_int_equal(f->h.level, 0);
}

static void test_scratch_and_readonly(void **state)
{
	struct fixture *f = *state;

	wr(f, SCR, 0xa5);
	assert_int_equal(rd(f, SCR), 0xa5);
	/* LSR and MSR are read-only. */
	wr(f, LSR, 0x00);
	assert_true(rd(f, LSR) & LSR_THRE);
	wr(f, MSR, 0x00);
	assert_int_equal(rd(f, MSR) & 0xf0, MSR_DCD | MSR_DSR | MSR_CTS);
	/* IER keeps only its four defined bits. */
	wr(f, IER, 0xff);
	assert_int_equal(rd(f, IER), 0x0f);
}

/* ---- state record ---- */

static void save_uart(struct uart *u, struct sbuf *b)
{
	memset(b, 0, sizeof(*b));
	assert_int_equal(uart_save(&u->dev, b), 0);
	assert_true(b->len > 0);
}

static int load_uart(struct uart *u, const struct sbuf *b, char *err,
		     size_t errlen)
{
	struct sreader r = { .p = b->data, .len = b->len };

	return uart_load(&u->dev, &r, err, errlen);
}

static void test_save_load_round_trip(void **state)
{
	struct fixture *f = *state, *g;
	char err[128] = "";
	struct sbuf b;

	/* A busy state: divisor, modes, wrapped RX ring, pending THRI. */
	wr(f, LCR, 0x83);
	wr(f, DLL, 0x03);
	wr(f, DLM, 0x01);
	wr(f, LCR, 0x1b);
	wr(f, FCR, 0xc1);
	wr(f, MCR, MCR_DTR | MCR_RTS | MCR_OUT2);
	wr(f, SCR, 0x77);
	for (int i = 0; i < 10; i++)
		uart_receive(&f->u, (const uint8_t *)"0123456789" + i, 1);
	for (int i = 0; i < 10; i++)
		rd(f, RBR);
	uart_receive(&f->u, (const uint8_t *)"ABCDEFGHIJKL", 12);	/* wraps */
	wr(f, IER, IER_THRI | IER_RDI);
	save_uart(&f->u, &b);

	assert_int_equal(setup((void **)&g), 0);
	assert_int_equal(load_uart(&g->u, &b, err, sizeof(err)), 0);
	assert_memory_equal(&g->u.r, &f->u.r, sizeof(f->u.r));
	/* The restored device raises its line to match its state. */
	assert_int_equal(g->h.level, 1);
	/* And behaves the same: the same bytes come out in the same order. */
	for (int i = 0; i < 12; i++) {
		assert_int_equal(rd(g, RBR), "ABCDEFGHIJKL"[i]);
		assert_int_equal(rd(f, RBR), "ABCDEFGHIJKL"[i]);
	}
	assert_int_equal(rd(g, IIR), rd(f, IIR));
	assert_int_equal(rd(g, LCR), 0x1b);
	/* Saving the restored device gives the same bytes. */
	{
		struct sbuf b2;

		save_uart(&f->u, &b2);
		sbuf_free(&b);
		save_uart(&g->u, &b);
		assert_int_equal(b.len, b2.len);
		assert_memory_equal(b.data, b2.data, b.len);
		sbuf_free(&b2);
	}
	sbuf_free(&b);
	teardown((void **)&g);
}

static void test_load_rejects_bad_fifo_indices(void **state)
{
	struct fixture *f = *state, *g;
	struct uart_regs before;
	char err[128];
	struct sbuf b;

	uart_receive(&f->u, (const uint8_t *)"xy", 2);
	save_uart(&f->u, &b);
	assert_int_equal(setup((void **)&g), 0);
	uart_receive(&g->u, (const uint8_t *)"keep", 4);
	before = g->u.r;

	/* The record ends with rx_head, rx_count (one byte each). */
	assert_int_equal(b.data[b.len - 2], 0);
	assert_int_equal(b.data[b.len - 1], 2);

	static const uint8_t bad[][2] = {
		{ 16, 0 }, { 255, 1 }, { 0, 17 }, { 3, 255 },
	};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		b.data[b.len - 2] = bad[i][0];
		b.data[b.len - 1] = bad[i][1];
		err[0] = '\0';
		assert_int_equal(load_uart(&g->u, &b, err, sizeof(err)), -EINVAL);
		assert_true(strlen(err) > 0);
		/* A refused record leaves the device as it was. */
		assert_memory_equal(&g->u.r, &before, sizeof(before));
	}
	/* Boundary values are valid: head 15, count 16 (full, wrapped). */
	b.data[b.len - 2] = 15;
	b.data[b.len - 1] = 16;
	assert_int_equal(load_uart(&g->u, &b, err, sizeof(err)), 0);
	for (int i = 0; i < 16; i++)
		rd(g, RBR);
	assert_false(rd(g, LSR) & LSR_DR);

	/* Truncated records are refused too. */
	b.len--;
	assert_int_equal(load_uart(&g->u, &b, err, sizeof(err)), -EINVAL);
	sbuf_free(&b);
	teardown((void **)&g);
}

/*
 * IER, MCR and FCR keep only the bits a guest can write, and the THRE latch
 * is 0 or 1: a record with anything else did not come from a 16550.
 */
static void test_load_rejects_unwritable_bits(void **state)
{
	/* Payload offsets after the 18-byte header of a "uart8250" record. */
	enum { P_IER = 18, P_MCR = 20, P_FCR = 24, P_THR = 27 };
	static const struct { unsigned off; uint8_t bad, max; } regs[] = {
		{ P_IER, 0x10, 0x0f }, { P_MCR, 0x20, 0x1f },
		{ P_FCR, 0x02, 0xc9 }, { P_THR, 2, 1 },
	};
	struct fixture *f = *state;
	struct uart_regs before;
	char err[128];
	struct sbuf b;

	save_uart(&f->u, &b);
	assert_memory_equal(b.data + 2, "uart8250", 8);
	before = f->u.r;
	for (size_t i = 0; i < ARRAY_SIZE(regs); i++) {
		uint8_t was = b.data[regs[i].off];

		b.data[regs[i].off] = regs[i].bad;
		err[0] = '\0';
		assert_int_equal(load_uart(&f->u, &b, err, sizeof(err)), -EINVAL);
		assert_non_null(strstr(err, "out of range"));
		assert_memory_equal(&f->u.r, &before, sizeof(before));
		b.data[regs[i].off] = regs[i].max;
		assert_int_equal(load_uart(&f->u, &b, err, sizeof(err)), 0);
		b.data[regs[i].off] = was;
		assert_int_equal(load_uart(&f->u, &b, err, sizeof(err)), 0);
	}
	sbuf_free(&b);
}

static void test_load_rejects_other_records(void **state)
{
	static const struct state_field fields[] = {
		STATE_INT(struct uart_regs, ier),
	};
	static const struct state_desc other = STATE_DESC("pc-legacy", 1, fields);
	struct fixture *f = *state;
	struct sbuf b = { 0 };
	char err[128] = "";

	assert_int_equal(state_save(&other, &f->u.r, &b), 0);
	assert_int_equal(load_uart(&f->u, &b, err, sizeof(err)), -EINVAL);
	assert_true(strlen(err) > 0);
	sbuf_free(&b);
}

/* ---- through the port bus and device ops (uart_create) ---- */

static struct uart *create_on_fake_vm(struct vm *vm, struct fake_host *h)
{
	struct device *d;
	struct uart *u;

	fake_vm_init(vm);
	assert_int_equal(uart_create(vm), 0);
	d = vm_find_device(vm, "serial0");
	assert_non_null(d);
	assert_string_equal(d->ops->type, "uart8250");
	u = container_of(d, struct uart, dev);
	/* Swap in the recording host (no KVM irqchip here). */
	u->host = (struct uart_host){
		.tx = fake_tx, .irq = fake_irq, .rx_space = fake_rx_space,
		.opaque = h,
	};
	return u;
}

static void test_port_io(void **state)
{
	struct fake_host h = { 0 };
	struct vm vm;
	struct uart *u = create_on_fake_vm(&vm, &h);
	uint8_t v;
	uint16_t w;

	/* COM1 at 0x3f8-0x3ff. */
	v = 'k';
	assert_int_equal(bus_write(&vm.pio, 0x3f8, &v, 1), 0);
	assert_int_equal(h.ntx, 1);
	assert_int_equal(h.tx[0], 'k');
	assert_int_equal(bus_read(&vm.pio, 0x3fd, &v, 1), 0);
	assert_true(v & LSR_THRE);
	assert_int_equal(bus_read(&vm.pio, 0x400, &v, 1), -ENOENT);
	/* A 16-bit write is two byte writes: THR then IER. */
	w = IER_THRI << 8 | 'w';
	assert_int_equal(bus_write(&vm.pio, 0x3f8, &w, 2), 0);
	assert_int_equal(h.tx[1], 'w');
	assert_int_equal(uart_reg_read(u, IER), IER_THRI);
	assert_int_equal(h.level, 1);
	fake_vm_destroy(&vm);
}

static void test_port_read_asks_for_more_input(void **state)
{
	struct fake_host h = { 0 };
	struct vm vm;
	struct uart *u = create_on_fake_vm(&vm, &h);
	uint8_t v;

	/* Pretend a host input fd exists but is paused (FIFO was full). */
	u->in_fd = 1000;
	u->in_watched = false;
	uart_receive(u, (const uint8_t *)"ab", 2);
	assert_int_equal(bus_read(&vm.pio, 0x3f8, &v, 1), 0);
	assert_int_equal(v, 'a');
	assert_int_equal(h.rx_space_calls, 0);	/* not drained yet */
	assert_int_equal(bus_read(&vm.pio, 0x3f8, &v, 1), 0);
	assert_int_equal(v, 'b');
	assert_int_equal(h.rx_space_calls, 1);	/* drained: resume input */
	u->in_fd = -1;
	fake_vm_destroy(&vm);
}

static void test_device_save_load_ops(void **state)
{
	struct fake_host h = { 0 };
	struct vm vm;
	struct uart *u = create_on_fake_vm(&vm, &h);
	struct uart_regs saved;
	struct sreader r;
	struct sbuf b = { 0 };
	char err[128] = "";

	uart_reg_write(u, SCR, 0x42);
	uart_reg_write(u, LCR, 0x03);
	saved = u->r;
	assert_int_equal(u->dev.ops->save(&u->dev, &b), 0);
	u->dev.ops->reset(&u->dev);
	assert_int_equal(uart_reg_read(u, SCR), 0);
	r = (struct sreader){ .p = b.data, .len = b.len };
	assert_int_equal(u->dev.ops->load(&u->dev, &r, err, sizeof(err)), 0);
	assert_memory_equal(&u->r, &saved, sizeof(saved));
	sbuf_free(&b);
	fake_vm_destroy(&vm);
}

static void test_reset_lowers_irq(void **state)
{
	struct fake_host h = { 0 };
	struct vm vm;
	struct uart *u = create_on_fake_vm(&vm, &h);

	uart_reg_write(u, IER, IER_THRI);
	assert_int_equal(h.level, 1);
	u->dev.ops->reset(&u->dev);
	/*
	 * A reset UART has no interrupt pending, so the line it drives must
	 * be low.  If the model only forgets its level, the irqchip keeps
	 * seeing it high, and the next interrupt (an edge on ISA IRQ 4) after
	 * reset is lost.
	 */
	fake_vm_destroy(&vm);
	REGRESSION("uart_reset/uart_init_regs zero irq_level without lowering "
		  "the host IRQ line (src/dev/uart8250.c)");
	assert_int_equal(h.level, 0);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_reset_state),
		T(test_thr_transmits),
		T(test_dlab),
		T(test_thri),
		T(test_rx_data),
		T(test_rx_priority_over_thri),
		T(test_rx_fifo_backpressure),
		T(test_fcr_clears_rx),
		T(test_loopback),
		T(test_overrun),
		T(test_scratch_and_readonly),
		T(test_save_load_round_trip),
		T(test_load_rejects_bad_fifo_indices),
		T(test_load_rejects_unwritable_bits),
		T(test_load_rejects_other_records),
		cmocka_unit_test(test_port_io),
		cmocka_unit_test(test_port_read_asks_for_more_input),
		cmocka_unit_test(test_device_save_load_ops),
		cmocka_unit_test(test_reset_lowers_irq),
	};

	return cmocka_run_group_tests_name("dev_uart8250", tests, NULL, NULL);
}
