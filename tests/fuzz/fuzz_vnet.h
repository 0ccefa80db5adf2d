/* SPDX-License-Identifier: MIT */
/*
 * For the virtio-net fuzz targets: a machine-less VM (RAM, buses, an idle
 * event loop, a PCI host) with one virtio-net device whose backend is a
 * socketpair, so frames can be fed in and drained without a tap.
 */
#ifndef FVMM_TESTS_FUZZ_VNET_H
#define FVMM_TESTS_FUZZ_VNET_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "fuzz_device_state.h"

#include "core/evloop.h"
#include "core/vm.h"
#include "net/net.h"
#include "pci/msix.h"
#include "pci/pci.h"
#include "virtio/virtio_net.h"

/* MSI-X messages the device sent (a reload must send none). */
static unsigned long fuzz_vnet_msis;

static inline void fuzz_vnet_count_msi(struct msix *m, unsigned vec,
				       uint64_t addr, uint32_t data)
{
	fuzz_vnet_msis++;
}

/* Aborts on failure: a target that cannot set up has nothing to fuzz. */
static inline struct virtio_net *fuzz_vnet_init(struct vm *vm, size_t ram,
						int *peer)
{
	static const uint8_t mac[6] = { 0x52, 0x54, 0, 1, 2, 3 };
	struct virtio_net *n;
	struct netdev *nd;
	int sv[2];

	memset(vm, 0, sizeof(*vm));
	vm->kvm_fd = vm->vm_fd = -1;
	pthread_mutex_init(&vm->lock, NULL);
	if (gm_init(&vm->mem, ram) || bus_init(&vm->pio, "pio") ||
	    bus_init(&vm->mmio, "mmio") || evloop_init(&vm->loop) ||
	    pci_host_create(vm) ||
	    socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK, 0, sv) ||
	    netdev_fd_open(vm, "fz", sv[0], VNET_HDR_LEN, 0xf, &nd) ||
	    netdev_register(nd) ||
	    virtio_net_new(vm, "net0", nd, mac, true, &n) ||
	    pci_host_add(vm->pci, &n->vp.pci, -1))
		abort();
	vm_add_device(vm, &n->dev);
	n->vp.msix.deliver = fuzz_vnet_count_msi;
	*peer = sv[1];
	return n;
}

/* Throw away what waits on one end of the backend socketpair. */
static inline void fuzz_vnet_drain(int fd)
{
	static uint8_t buf[70000];

	while (recv(fd, buf, sizeof(buf), MSG_DONTWAIT) >= 0)
		;
}

/* What a guest would notice besides the record's bytes. */
struct fuzz_vnet_view {
	struct fuzz_pci_view pci;
	unsigned ring_modes;	/* EVENT_IDX, INDIRECT per queue: derived */
};

static inline void fuzz_vnet_view_get(struct virtio_net *n,
				      struct fuzz_vnet_view *v)
{
	fuzz_pci_view_get(&n->vp.pci, &v->pci);
	v->ring_modes = 0;
	for (unsigned q = 0; q < n->vp.nr_queues; q++) {
		struct virtq *vq = virtio_pci_vq(&n->vp, q);

		v->ring_modes |= (vq->event_idx | vq->indirect << 1) << (2 * q);
	}
}

/* n shows what @was recorded (of this or another device), and no MSI-X
 * message went out since @msis was read. */
static inline void fuzz_vnet_view_expect(struct virtio_net *n,
					 const struct fuzz_vnet_view *was,
					 unsigned long msis)
{
	struct fuzz_vnet_view now;

	fuzz_pci_view_expect(&n->vp.pci, &was->pci);
	fuzz_vnet_view_get(n, &now);
	if (now.ring_modes != was->ring_modes) {
		fprintf(stderr, "%s: ring modes 0x%x, then 0x%x\n", n->dev.id,
			was->ring_modes, now.ring_modes);
		abort();
	}
	if (fuzz_vnet_msis != msis) {
		fprintf(stderr, "%s: a load sent an MSI-X message\n",
			n->dev.id);
		abort();
	}
}

/* Reload the device's own record: the same bytes and the same view. */
static inline void fuzz_vnet_reload(struct virtio_net *n)
{
	unsigned long msis = fuzz_vnet_msis;
	struct fuzz_vnet_view was;

	fuzz_vnet_view_get(n, &was);
	n->dev.ops->pause(&n->dev);
	fuzz_reload_own_state(&n->dev);
	fuzz_vnet_view_expect(n, &was, msis);
	n->dev.ops->resume(&n->dev);
}

/*
 * Migrate src's record into dst, a device of the same configuration on
 * another VM, reset first as a destination's is new: dst must take it,
 * save the same bytes and show the same view.  Unlike a reload, this sees
 * what a load takes from the device's past instead of from the record.
 */
static inline void fuzz_vnet_migrate(struct virtio_net *src,
				     struct virtio_net *dst)
{
	struct fuzz_vnet_view was;
	unsigned long msis;
	struct sbuf sb;

	fuzz_vnet_view_get(src, &was);
	src->dev.ops->pause(&src->dev);
	fuzz_save(&src->dev, &sb);
	dst->dev.ops->reset(&dst->dev);
	dst->dev.ops->pause(&dst->dev);
	msis = fuzz_vnet_msis;
	fuzz_load_expect_same(&dst->dev, &sb);
	fuzz_vnet_view_expect(dst, &was, msis);
	sbuf_free(&sb);
	src->dev.ops->resume(&src->dev);
	dst->dev.ops->resume(&dst->dev);
}

#endif
