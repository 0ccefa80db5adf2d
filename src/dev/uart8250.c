// SPDX-License-Identifier: MIT
/*
 * 16550A UART on COM1.  Order: registers, I/O handlers, host backend,
 * state record.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <termios.h>
#include <unistd.h>

#include "core/irq.h"
#include "core/log.h"
#include "core/util.h"
#include "core/vm.h"
#include "dev/uart8250.h"

#define UART_RBR_THR	0
#define UART_IER	1
#define UART_IIR_FCR	2
#define UART_LCR	3
#define UART_MCR	4
#define UART_LSR	5
#define UART_MSR	6
#define UART_SCR	7

#define IER_RDI		0x01
#define IER_THRI	0x02
#define IER_RLSI	0x04
#define IER_MSI		0x08
#define IER_WRITABLE	0x0f

#define IIR_NONE	0x01
#define IIR_MSI		0x00
#define IIR_THRI	0x02
#define IIR_RDI		0x04
#define IIR_RLSI	0x06
#define IIR_FIFO	0xc0

#define FCR_ENABLE	0x01
#define FCR_CLEAR_RX	0x02
#define FCR_STORED	0xc9	/* enable, DMA mode, RX trigger level */

#define LCR_DLAB	0x80

#define MCR_DTR		0x01
#define MCR_RTS		0x02
#define MCR_OUT1	0x04
#define MCR_OUT2	0x08
#define MCR_LOOP	0x10
#define MCR_WRITABLE	0x1f

#define LSR_DR		0x01
#define LSR_OE		0x02
#define LSR_ERRORS	0x1e
#define LSR_THRE	0x20
#define LSR_TEMT	0x40

#define MSR_DELTAS	0x0f
#define MSR_CTS		0x10
#define MSR_DSR		0x20
#define MSR_RI		0x40
#define MSR_DCD		0x80

/* ---- registers ---- */

void uart_init_regs(struct uart *u, const struct uart_host *host)
{
	/* A line left high would swallow the next edge on IRQ 4. */
	if (u->irq_level && u->host.irq)
		u->host.irq(u->host.opaque, 0);
	memset(&u->r, 0, sizeof(u->r));
	u->r.lsr = LSR_THRE | LSR_TEMT;
	u->r.msr = MSR_DCD | MSR_DSR | MSR_CTS;
	u->r.dll = 0x0c;		/* 9600 baud, as after a BIOS */
	if (host)
		u->host = *host;
	u->irq_level = 0;
}

static uint8_t uart_iir(const struct uart_regs *r)
{
	uint8_t fifo = (r->fcr & FCR_ENABLE) ? IIR_FIFO : 0;

	if ((r->ier & IER_RLSI) && (r->lsr & LSR_ERRORS))
		return IIR_RLSI | fifo;
	if ((r->ier & IER_RDI) && r->rx_count)
		return IIR_RDI | fifo;
	if ((r->ier & IER_THRI) && r->thr_ipending)
		return IIR_THRI | fifo;
	if ((r->ier & IER_MSI) && (r->msr & MSR_DELTAS))
		return IIR_MSI | fifo;
	return IIR_NONE | fifo;
}

static void uart_update_irq(struct uart *u)
{
	int level = (uart_iir(&u->r) & 0x0f) != IIR_NONE;

	if (level != u->irq_level) {
		u->irq_level = level;
		if (u->host.irq)
			u->host.irq(u->host.opaque, level);
	}
}

static void uart_rx_push(struct uart_regs *r, uint8_t byte)
{
	if (r->rx_count == UART_FIFO_SIZE) {
		r->lsr |= LSR_OE;
		return;
	}
	r->rx[(r->rx_head + r->rx_count) % UART_FIFO_SIZE] = byte;
	r->rx_count++;
}

static uint8_t uart_rx_pop(struct uart_regs *r)
{
	uint8_t byte;

	if (!r->rx_count)
		return 0;
	byte = r->rx[r->rx_head];
	r->rx_head = (r->rx_head + 1) % UART_FIFO_SIZE;
	r->rx_count--;
	return byte;
}

/* In loopback the modem inputs mirror the modem outputs. */
static uint8_t uart_msr(const struct uart_regs *r)
{
	uint8_t m = r->msr & MSR_DELTAS;

	if (!(r->mcr & MCR_LOOP))
		return r->msr;
	if (r->mcr & MCR_RTS)
		m |= MSR_CTS;
	if (r->mcr & MCR_DTR)
		m |= MSR_DSR;
	if (r->mcr & MCR_OUT1)
		m |= MSR_RI;
	if (r->mcr & MCR_OUT2)
		m |= MSR_DCD;
	return m;
}

uint8_t uart_reg_read(struct uart *u, unsigned off)
{
	struct uart_regs *r = &u->r;
	uint8_t v = 0xff;

	switch (off) {
	case UART_RBR_THR:
		v = (r->lcr & LCR_DLAB) ? r->dll : uart_rx_pop(r);
		break;
	case UART_IER:
		v = (r->lcr & LCR_DLAB) ? r->dlm : r->ier;
		break;
	case UART_IIR_FCR:
		v = uart_iir(r);
		/* Reading IIR acknowledges a THRE interrupt it reports. */
		if ((v & 0x0f) == IIR_THRI)
			r->thr_ipending = 0;
		break;
	case UART_LCR:
		v = r->lcr;
		break;
	case UART_MCR:
		v = r->mcr;
		break;
	case UART_LSR:
		v = r->lsr | (r->rx_count ? LSR_DR : 0);
		r->lsr &= ~(LSR_ERRORS);
		break;
	case UART_MSR:
		v = uart_msr(r);
		r->msr &= ~MSR_DELTAS;
		break;
	case UART_SCR:
		v = r->scr;
		break;
	}
	uart_update_irq(u);
	return v;
}

static void uart_thr_write(struct uart *u, uint8_t val)
{
	if (u->r.mcr & MCR_LOOP)
		uart_rx_push(&u->r, val);
	else if (u->host.tx)
		u->host.tx(u->host.opaque, val);
	/* The byte leaves at once, so THR is empty again right away. */
	u->r.thr_ipending = 1;
}

void uart_reg_write(struct uart *u, unsigned off, uint8_t val)
{
	struct uart_regs *r = &u->r;

	switch (off) {
	case UART_RBR_THR:
		if (r->lcr & LCR_DLAB)
			r->dll = val;
		else
			uart_thr_write(u, val);
		break;
	case UART_IER:
		if (r->lcr & LCR_DLAB) {
			r->dlm = val;
			break;
		}
		/* Enabling THRI while THR is empty raises it, as on a 16550. */
		if ((val & IER_THRI) && !(r->ier & IER_THRI))
			r->thr_ipending = 1;
		r->ier = val & IER_WRITABLE;
		break;
	case UART_IIR_FCR:
		if (val & FCR_CLEAR_RX)
			r->rx_count = r->rx_head = 0;
		r->fcr = val & FCR_STORED;
		break;
	case UART_LCR:
		r->lcr = val;
		break;
	case UART_MCR:
		r->mcr = val & MCR_WRITABLE;
		break;
	case UART_SCR:
		r->scr = val;
		break;
	default:		/* LSR and MSR are read-only */
		break;
	}
	uart_update_irq(u);
}

unsigned uart_rx_space(struct uart *u)
{
	return UART_FIFO_SIZE - u->r.rx_count;
}

unsigned uart_receive(struct uart *u, const uint8_t *buf, unsigned len)
{
	unsigned n = 0;

	pthread_mutex_lock(&u->lock);
	/* A guest in loopback (self-test) does not take outside input. */
	if (!(u->r.mcr & MCR_LOOP))
		for (; n < len && uart_rx_space(u); n++)
			uart_rx_push(&u->r, buf[n]);
	uart_update_irq(u);
	pthread_mutex_unlock(&u->lock);
	return n;
}

/* ---- I/O handlers ---- */

static uint64_t uart_pio_read(void *opaque, uint64_t off, unsigned size)
{
	struct uart *u = opaque;
	bool resume;
	uint8_t v;

	pthread_mutex_lock(&u->lock);
	v = uart_reg_read(u, off);
	/* Input paused on a full FIFO resumes once the guest drains it. */
	resume = off == UART_RBR_THR && !u->in_watched && u->in_fd >= 0 &&
		 !u->r.rx_count;
	pthread_mutex_unlock(&u->lock);
	if (resume && u->host.rx_space)
		u->host.rx_space(u->host.opaque);
	return v;
}

static void uart_pio_write(void *opaque, uint64_t off, uint64_t val,
			   unsigned size)
{
	struct uart *u = opaque;

	pthread_mutex_lock(&u->lock);
	uart_reg_write(u, off, val);
	pthread_mutex_unlock(&u->lock);
}

static const struct bus_ops uart_bus_ops = {
	.read = uart_pio_read,
	.write = uart_pio_write,
	.max_size = 1,
};

/* ---- host backend: stdio, a file, or nothing ---- */

static struct termios saved_tio;
static bool tio_saved;

static void uart_restore_tty(void)
{
	if (tio_saved)
		tcsetattr(STDIN_FILENO, TCSANOW, &saved_tio);
}

/*
 * Raw-ish terminal so the guest sees keys as typed, but ISIG stays on:
 * Ctrl-C still ends fvmm, which is what an operator at a console expects.
 */
static void uart_setup_tty(void)
{
	struct termios tio;

	if (!isatty(STDIN_FILENO) || tcgetattr(STDIN_FILENO, &saved_tio))
		return;
	tio = saved_tio;
	tio.c_lflag &= ~(ICANON | ECHO | ECHONL | IEXTEN);
	tio.c_iflag &= ~(ICRNL | INLCR | IXON);
	tio.c_cc[VMIN] = 1;
	tio.c_cc[VTIME] = 0;
	if (!tcsetattr(STDIN_FILENO, TCSANOW, &tio)) {
		tio_saved = true;
		atexit(uart_restore_tty);
	}
}

static void uart_host_tx(void *opaque, uint8_t byte)
{
	struct uart *u = opaque;

	if (u->out_fd >= 0 && write(u->out_fd, &byte, 1) < 0 && errno != EAGAIN)
		u->out_fd = -1;	/* output gone (closed pipe): drop bytes */
}

static void uart_host_irq(void *opaque, int level)
{
	struct uart *u = opaque;

	irq_line(u->dev.vm, UART_COM1_IRQ, level);
}

static void uart_stdin_cb(void *opaque, uint32_t events);

/* Runs on the loop thread only, so watch changes never race. */
static void uart_resume_input(void *opaque)
{
	struct uart *u = opaque;

	pthread_mutex_lock(&u->lock);
	if (!u->in_watched && u->in_fd >= 0 &&
	    !evloop_add(&u->dev.vm->loop, u->in_fd, EPOLLIN, uart_stdin_cb, u))
		u->in_watched = true;
	pthread_mutex_unlock(&u->lock);
}

static void uart_host_rx_space(void *opaque)
{
	struct uart *u = opaque;

	evloop_call(&u->dev.vm->loop, uart_resume_input, u);
}

static void uart_stdin_cb(void *opaque, uint32_t events)
{
	struct uart *u = opaque;
	uint8_t buf[UART_FIFO_SIZE];
	unsigned space;
	ssize_t n;

	pthread_mutex_lock(&u->lock);
	space = uart_rx_space(u);
	if (!space) {
		evloop_del(&u->dev.vm->loop, u->in_fd);
		u->in_watched = false;
	}
	pthread_mutex_unlock(&u->lock);
	if (!space)
		return;
	n = read(u->in_fd, buf, space);
	if (n > 0) {
		uart_receive(u, buf, n);
		return;
	}
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	/* EOF or error: no more input, but the guest keeps running. */
	pthread_mutex_lock(&u->lock);
	evloop_del(&u->dev.vm->loop, u->in_fd);
	u->in_watched = false;
	u->in_fd = -1;
	pthread_mutex_unlock(&u->lock);
}

static int uart_open_backend(struct uart *u, const struct vm_config *cfg)
{
	u->in_fd = u->out_fd = -1;
	switch (cfg->serial) {
	case SERIAL_STDIO:
		u->out_fd = STDOUT_FILENO;
		u->in_fd = STDIN_FILENO;
		uart_setup_tty();
		break;
	case SERIAL_FILE:
		u->out_fd = open(cfg->serial_path,
				 O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (u->out_fd < 0) {
			pr_err("cannot open serial file '%s': %s",
			       cfg->serial_path, strerror(errno));
			return -errno;
		}
		break;
	case SERIAL_NONE:
		break;
	}
	return 0;
}

/* ---- device ops and state record ---- */

static const struct state_field uart_fields[] = {
	STATE_INT(struct uart_regs, ier),
	STATE_INT(struct uart_regs, lcr),
	STATE_INT(struct uart_regs, mcr),
	STATE_INT(struct uart_regs, lsr),
	STATE_INT(struct uart_regs, msr),
	STATE_INT(struct uart_regs, scr),
	STATE_INT(struct uart_regs, fcr),
	STATE_INT(struct uart_regs, dll),
	STATE_INT(struct uart_regs, dlm),
	STATE_INT(struct uart_regs, thr_ipending),
	STATE_BYTES(struct uart_regs, rx),
	STATE_INT(struct uart_regs, rx_head),
	STATE_INT(struct uart_regs, rx_count),
};

static const struct state_desc uart_desc = STATE_DESC("uart8250", 1, uart_fields);

int uart_save(struct device *dev, struct sbuf *out)
{
	struct uart *u = container_of(dev, struct uart, dev);
	int ret;

	pthread_mutex_lock(&u->lock);
	ret = state_save(&uart_desc, &u->r, out);
	pthread_mutex_unlock(&u->lock);
	return ret;
}

int uart_load(struct device *dev, struct sreader *in, char *err, size_t errlen)
{
	struct uart *u = container_of(dev, struct uart, dev);
	struct uart_regs r;
	int ret;

	ret = state_load(&uart_desc, &r, in, err, errlen);
	if (ret)
		return ret;
	if (r.rx_head >= UART_FIFO_SIZE || r.rx_count > UART_FIFO_SIZE) {
		if (err)
			snprintf(err, errlen, "uart8250: FIFO index out of range");
		return -EINVAL;
	}
	/* Bits no guest can write: a corrupt stream, not a 16550's state. */
	if ((r.ier & ~IER_WRITABLE) || (r.mcr & ~MCR_WRITABLE) ||
	    (r.fcr & ~FCR_STORED) || r.thr_ipending > 1) {
		if (err)
			snprintf(err, errlen,
				 "uart8250: IER 0x%02x, MCR 0x%02x, FCR 0x%02x or THRE latch %u out of range",
				 r.ier, r.mcr, r.fcr, r.thr_ipending);
		return -EINVAL;
	}
	pthread_mutex_lock(&u->lock);
	u->r = r;
	uart_update_irq(u);
	pthread_mutex_unlock(&u->lock);
	return 0;
}

static void uart_reset(struct device *dev)
{
	struct uart *u = container_of(dev, struct uart, dev);

	pthread_mutex_lock(&u->lock);
	uart_init_regs(u, NULL);
	pthread_mutex_unlock(&u->lock);
}

static void uart_destroy(struct device *dev)
{
	struct uart *u = container_of(dev, struct uart, dev);

	bus_unregister(&dev->vm->pio, UART_COM1_BASE, u);
	if (u->in_watched)
		evloop_del(&dev->vm->loop, u->in_fd);
	if (u->out_fd > STDERR_FILENO)
		close(u->out_fd);
	uart_restore_tty();
	pthread_mutex_destroy(&u->lock);
	free(u);
}

static const struct device_ops uart_ops = {
	.type = "uart8250",
	.reset = uart_reset,
	.save = uart_save,
	.load = uart_load,
	.destroy = uart_destroy,
};

int uart_create(struct vm *vm)
{
	const struct uart_host host = {
		.tx = uart_host_tx, .irq = uart_host_irq,
		.rx_space = uart_host_rx_space,
	};
	struct uart *u = calloc(1, sizeof(*u));
	int ret;

	if (!u)
		return -ENOMEM;
	pthread_mutex_init(&u->lock, NULL);
	uart_init_regs(u, &host);
	u->host.opaque = u;
	u->dev.ops = &uart_ops;
	snprintf(u->dev.id, sizeof(u->dev.id), "serial0");
	ret = uart_open_backend(u, &vm->cfg);
	if (ret)
		goto free_uart;
	ret = bus_register(&vm->pio, UART_COM1_BASE, 8, &uart_bus_ops, u, "com1");
	if (ret)
		goto free_uart;
	vm_add_device(vm, &u->dev);
	if (u->in_fd >= 0 &&
	    !evloop_add(&vm->loop, u->in_fd, EPOLLIN, uart_stdin_cb, u))
		u->in_watched = true;
	return 0;

free_uart:
	if (u->out_fd > STDERR_FILENO)
		close(u->out_fd);
	pthread_mutex_destroy(&u->lock);
	free(u);
	return ret;
}
