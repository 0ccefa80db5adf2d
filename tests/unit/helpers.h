/* SPDX-License-Identifier: MIT */
/*
 * Shared helpers for the unit tests: bounded waits, a machine-less struct vm
 * for device models that register on the port bus, and a fake UART host.
 *
 * Everything here is static (each test is one translation unit) and works
 * without root or /dev/kvm.
 */
#ifndef FVMM_TESTS_UNIT_HELPERS_H
#define FVMM_TESTS_UNIT_HELPERS_H

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "core/vm.h"

/*
 * Known bugs: a test that is expected to fail until the code under test is
 * fixed prints this banner first, so a red run points at the report.
 */
#define REGRESSION(what)							\
	print_message("[ REGRESSION ] %s:%d: %s\n", __FILE__, __LINE__, what)

/* Wait until fd is readable; false after timeout_ms (never blocks longer). */
static inline bool wait_readable(int fd, int timeout_ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	int n;

	do {
		n = poll(&p, 1, timeout_ms);
	} while (n < 0 && errno == EINTR);
	return n == 1 && (p.revents & POLLIN);
}

/*
 * A struct vm with only what port-bus devices need: the PIO bus, the device
 * list lock, the exit pipe (vm_request_exit) and serial "none" so no backend
 * or event loop is touched.  No KVM fds (irq_line fails harmlessly).
 */
static inline void fake_vm_init(struct vm *vm)
{
	memset(vm, 0, sizeof(*vm));
	vm->kvm_fd = vm->vm_fd = -1;
	vm->mem.memfd = -1;
	vm->cfg.serial = SERIAL_NONE;
	vm->cfg.cpus = 1;
	pthread_mutex_init(&vm->lock, NULL);
	pthread_cond_init(&vm->cond, NULL);
	assert_int_equal(pipe2(vm->exit_pipe, O_CLOEXEC | O_NONBLOCK), 0);
	assert_int_equal(bus_init(&vm->pio, "pio"), 0);
	assert_int_equal(bus_init(&vm->mmio, "mmio"), 0);
}

static inline void fake_vm_destroy(struct vm *vm)
{
	struct device *d;

	while ((d = vm->devices)) {
		vm->devices = d->next;
		if (d->ops->destroy)
			d->ops->destroy(d);
	}
	bus_destroy(&vm->pio);
	bus_destroy(&vm->mmio);
	close(vm->exit_pipe[0]);
	close(vm->exit_pipe[1]);
	pthread_mutex_destroy(&vm->lock);
	pthread_cond_destroy(&vm->cond);
}

/* Records what a UART model does to its host. */
struct fake_host {
	uint8_t tx[512];
	unsigned ntx;
	int levels[512];	/* every irq() call, in order */
	unsigned nirq;
	int level;		/* current line level as the host sees it */
	unsigned rx_space_calls;
};

static inline void fake_tx(void *opaque, uint8_t byte)
{
	struct fake_host *h = opaque;

	if (h->ntx < sizeof(h->tx))
		h->tx[h->ntx++] = byte;
}

static inline void fake_irq(void *opaque, int level)
{
	struct fake_host *h = opaque;

	if (h->nirq < sizeof(h->levels) / sizeof(h->levels[0]))
		h->levels[h->nirq++] = level;
	h->level = level;
}

static inline void fake_rx_space(void *opaque)
{
	struct fake_host *h = opaque;

	h->rx_space_calls++;
}

#endif
