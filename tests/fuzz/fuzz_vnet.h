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

/* How a queue reads the ring: not in the record, derived on each side. */
static inline unsigned fuzz_vnet_ring_modes(struct virtio_net *n)
{
	unsigned modes = 0;

	for (unsigned q = 0; q < n->vp.nr_queues; q++) {
		struct virtq *vq = virtio_pci_vq(&n->vp, q);

		modes |= (vq->event_idx | vq->indirect << 1) << (2 * q);
	}
	return modes;
}

/*
 * Reload the paused device's own record: the same bytes, INTx line and
 * BARs, the same ring modes, and no MSI-X message sent.
 */
static inline void fuzz_vnet_reload(struct virtio_net *n)
{
	unsigned long msis = fuzz_vnet_msis;
	unsigned modes = fuzz_vnet_ring_modes(n);

	n->dev.ops->pause(&n->dev);
	fuzz_reload_pci_device(&n->dev, &n->vp.pci);
	if (fuzz_vnet_msis != msis) {
		fprintf(stderr, "%s: a reload sent an MSI-X message\n",
			n->dev.id);
		abort();
	}
	if (fuzz_vnet_ring_modes(n) != modes) {
		fprintf(stderr, "%s: ring modes 0x%x, then 0x%x after a reload\n",
			n->dev.id, modes, fuzz_vnet_ring_modes(n));
		abort();
	}
	n->dev.ops->resume(&n->dev);
}

#endif
