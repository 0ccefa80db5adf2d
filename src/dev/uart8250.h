/* SPDX-License-Identifier: MIT */
#ifndef FVMM_DEV_UART8250_H
#define FVMM_DEV_UART8250_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/device.h"

#define UART_COM1_BASE	0x3f8
#define UART_COM1_IRQ	4
#define UART_FIFO_SIZE	16

/*
 * 16550A register model.  The register state is a plain struct (the state
 * record); the host side (where bytes go, where they come from, how the
 * interrupt line is driven) is a small set of callbacks, so the model is
 * unit-tested without a VM.
 */
struct uart_regs {
	uint8_t ier, lcr, mcr, lsr, msr, scr, fcr, dll, dlm;
	uint8_t thr_ipending;		/* THRE interrupt latched */
	uint8_t rx[UART_FIFO_SIZE];
	uint8_t rx_head, rx_count;
};

struct uart_host {
	void (*tx)(void *opaque, uint8_t byte);
	void (*irq)(void *opaque, int level);
	/* The guest drained the RX FIFO: the host may feed more. */
	void (*rx_space)(void *opaque);
	void *opaque;
};

struct uart {
	struct device dev;
	pthread_mutex_t lock;
	struct uart_regs r;
	struct uart_host host;
	int irq_level;
	/* host backend (stdio, file, none) */
	int in_fd, out_fd;
	bool in_watched;
};

void uart_init_regs(struct uart *u, const struct uart_host *host);
uint8_t uart_reg_read(struct uart *u, unsigned off);
void uart_reg_write(struct uart *u, unsigned off, uint8_t val);
/* Feed received bytes; returns how many fit in the FIFO. */
unsigned uart_receive(struct uart *u, const uint8_t *buf, unsigned len);
unsigned uart_rx_space(struct uart *u);

int uart_save(struct device *dev, struct sbuf *out);
int uart_load(struct device *dev, struct sreader *in, char *err, size_t errlen);

struct vm;
int uart_create(struct vm *vm);

#endif
