// SPDX-License-Identifier: MIT
/*
 * libFuzzer target for virtio-net queue processing (src/virtio/virtio_net.c
 * over virtq.c): the guest RAM image, the negotiated features, the queue
 * sizes and the frames arriving from the backend all come from the input.
 * Transmit, receive (incl. mergeable spills and parked frames), control
 * commands, link and announce run on it; nothing may crash or leak, and
 * the device's record then loads as is and saves the same bytes again,
 * on the device itself and on a freshly reset one (a migration
 * destination), which must show the guest the same (fuzz_vnet.h).
 *
 * Input: 4 header bytes (features, queue sizes, frame count, flags), then
 * up to 3 frame lengths (2 bytes each), then the RAM image.  Rings sit at
 * fixed addresses; their contents (indices, descriptors) are the fuzzer's.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <linux/virtio_net.h>
#include <linux/virtio_pci.h>

#include "fuzz_device_state.h"
#include "fuzz_vnet.h"

#include "core/evloop.h"
#include "core/util.h"
#include "core/vm.h"
#include "net/net.h"
#include "pci/pci.h"
#include "virtio/virtio_net.h"

#define RAM		(1 * MiB)
#define IMAGE		(64 * 1024)
#define F(b)		(1ULL << (b))

static struct vm vm, dst_vm;
static struct virtio_net *n, *dst;
static int peer, dst_peer;

static void init_once(void)
{
	n = fuzz_vnet_init(&vm, RAM, &peer);
	dst = fuzz_vnet_init(&dst_vm, RAM, &dst_peer);
	pci_cfg_write(&n->vp.pci, PCI_COMMAND, PCI_COMMAND_MEMORY |
		      PCI_COMMAND_MASTER, 2);
}

static void w(unsigned off, uint64_t v, unsigned size)
{
	virtio_pci_bar_write(&n->vp, off, v, size);
}

static void setup_queue(unsigned q, uint16_t size, uint64_t base)
{
	w(VIRTIO_PCI_COMMON_Q_SELECT, q, 2);
	w(VIRTIO_PCI_COMMON_Q_SIZE, size, 2);
	w(VIRTIO_PCI_COMMON_Q_MSIX, q, 2);
	w(VIRTIO_PCI_COMMON_Q_DESCLO, base, 4);
	w(VIRTIO_PCI_COMMON_Q_AVAILLO, base + 0x1000, 4);
	w(VIRTIO_PCI_COMMON_Q_USEDLO, base + 0x1800, 4);
	w(VIRTIO_PCI_COMMON_Q_ENABLE, 1, 2);
}

static uint64_t features(uint8_t b)
{
	static const unsigned bits[8] = {
		VIRTIO_NET_F_MRG_RXBUF, VIRTIO_NET_F_CTRL_RX,
		VIRTIO_FEAT_EVENT_IDX, VIRTIO_FEAT_INDIRECT_DESC,
		VIRTIO_NET_F_GUEST_ANNOUNCE, VIRTIO_NET_F_CSUM,
		VIRTIO_NET_F_GUEST_CSUM, VIRTIO_NET_F_STANDBY,
	};
	uint64_t f = F(VIRTIO_F_VERSION_1) | F(VIRTIO_NET_F_MAC) |
		     F(VIRTIO_NET_F_STATUS) | F(VIRTIO_NET_F_CTRL_VQ) |
		     F(VIRTIO_NET_F_CTRL_MAC_ADDR);

	for (unsigned i = 0; i < 8; i++)
		if (b & (1u << i))
			f |= F(bits[i]);
	if ((b & 0x20) && (b & 0x40))
		f |= F(VIRTIO_NET_F_HOST_TSO4) | F(VIRTIO_NET_F_GUEST_TSO4);
	return f;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t frame[VNET_HDR_LEN + 9000];
	const uint8_t *p = data + 10;
	size_t left;
	unsigned nframes;

	if (!n)
		init_once();
	if (size < 10)
		return 0;
	left = size - 10;
	memset(vm.mem.base, 0, RAM);
	memcpy(vm.mem.base, p, MIN(left, (size_t)IMAGE));

	w(VIRTIO_PCI_COMMON_STATUS, 0, 1);
	w(VIRTIO_PCI_COMMON_GFSELECT, 0, 4);
	w(VIRTIO_PCI_COMMON_GF, (uint32_t)features(data[0]), 4);
	w(VIRTIO_PCI_COMMON_GFSELECT, 1, 4);
	w(VIRTIO_PCI_COMMON_GF, features(data[0]) >> 32, 4);
	w(VIRTIO_PCI_COMMON_STATUS, VIRTIO_STAT_ACKNOWLEDGE |
	  VIRTIO_STAT_DRIVER | VIRTIO_STAT_FEATURES_OK, 1);
	setup_queue(VNET_RXQ, 1u << (data[1] & 7), 0x0000);
	setup_queue(VNET_TXQ, 1u << ((data[1] >> 3) & 7), 0x2000);
	setup_queue(VNET_CTRLQ, 1u << ((data[1] >> 6) & 3), 0x4000);
	w(VIRTIO_PCI_COMMON_STATUS, 0xf, 1);

	/* Frames from the "network": lengths from the header, bytes from RAM. */
	nframes = data[2] % 4;
	for (unsigned i = 0; i < nframes; i++) {
		size_t len = VNET_HDR_LEN + le_read(data + 4 + 2 * i, 2) % 9000;

		memcpy(frame, vm.mem.base + 0x8000 + 0x1000 * i, MIN(len, 0x1000));
		if (send(peer, frame, len, MSG_DONTWAIT) < 0)
			break;
	}
	for (unsigned round = 0; round < 2; round++) {
		virtio_pci_run_queue(&n->vp, VNET_CTRLQ);
		virtio_pci_run_queue(&n->vp, VNET_TXQ);
		virtio_pci_run_queue(&n->vp, VNET_RXQ);
		if (data[3] & (1u << round))
			virtio_net_set_link(&vm, "net0", round);
		if (data[3] & 4)
			virtio_net_announce(&vm, "net0", data[0] & 1);
	}
	fuzz_vnet_reload(n);
	fuzz_vnet_migrate(n, dst);
	virtio_net_set_link(&vm, "net0", true);
	fuzz_vnet_drain(peer);
	fuzz_vnet_drain(n->nd->fd);
	return 0;
}
