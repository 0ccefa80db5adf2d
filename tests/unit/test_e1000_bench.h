/* SPDX-License-Identifier: MIT */
/*
 * For the e1000 tests: one 82540EM in slot 5 of a fake VM, its netdev a
 * SOCK_SEQPACKET pair whose other end the test holds (the wire), and
 * INTx recorded instead of raised.
 */
#ifndef FVMM_TESTS_UNIT_E1000_BENCH_H
#define FVMM_TESTS_UNIT_E1000_BENCH_H

#include <stdlib.h>
#include <sys/socket.h>

#include "helpers.h"

#include "core/util.h"
#include "dev/e1000.h"
#include "net/net.h"
#include "pci/pci.h"

#define RAM	(4 * MiB)

static const uint8_t our_mac[6] = { 0x52, 0x54, 0x00, 0xaa, 0xbb, 0xcc };

struct t {
	struct vm vm;
	struct e1000 *e;
	struct netdev *nd;
	int peer;
	int intx;		/* the INTx line's level */
	unsigned nintx;		/* times it was driven */
	unsigned hdr;		/* vnet header bytes on the backend */
};

static struct t *g;

static inline void record_intx(struct pci_dev *pd, bool level)
{
	g->intx = level;
	g->nintx++;
}

/* The bench with @hdr vnet header bytes on the backend, in *state. */
static inline struct t *e1000_bench_new(void **state, unsigned hdr)
{
	struct t *t = calloc(1, sizeof(*t));
	struct e1000_params p = { .id = "pri0", .netdev = "net0", .slot = 5 };
	int sv[2];

	assert_non_null(t);
	g = t;
	t->hdr = hdr;
	fake_vm_init(&t->vm);
	assert_int_equal(gm_init(&t->vm.mem, RAM), 0);
	assert_int_equal(evloop_init(&t->vm.loop), 0);
	t->vm.loop_ready = true;
	assert_int_equal(pci_host_create(&t->vm), 0);
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv), 0);
	t->peer = sv[1];
	assert_int_equal(netdev_fd_open(&t->vm, "net0", sv[0], hdr, 0,
					&t->nd), 0);
	memcpy(p.mac, our_mac, 6);
	assert_int_equal(e1000_new(&t->vm, &p, t->nd, &t->e), 0);
	assert_int_equal(pci_host_add(t->vm.pci, &t->e->pci, 5), 0);
	assert_int_equal(e1000_start(t->e), 0);
	t->e->pci.intx_hook = record_intx;
	*state = t;
	return t;
}

static inline int teardown(void **state)
{
	struct t *t = *state;

	e1000_destroy(t->e);
	netdev_close(t->nd);
	close(t->peer);
	pci_host_destroy(&t->vm);
	evloop_destroy(&t->vm.loop);
	gm_destroy(&t->vm.mem);
	fake_vm_destroy(&t->vm);
	free(t);
	return 0;
}

/* The driver's register accesses, 32 bits wide as Linux's. */
static inline void w(struct t *t, uint32_t reg, uint32_t val)
{
	e1000_mmio_write(t->e, reg, val, 4);
}

static inline uint32_t r(struct t *t, uint32_t reg)
{
	return e1000_mmio_read(t->e, reg, 4);
}

#endif
