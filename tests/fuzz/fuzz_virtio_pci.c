// SPDX-License-Identifier: MIT
/*
 * libFuzzer target for the virtio-pci transport as a guest and a migration
 * stream drive it (src/virtio/virtio_pci*.c, src/pci/msix.c, under a
 * virtio-net device): register accesses in any order and width to the
 * common/ISR/device-config/notify windows, the MSI-X table and PBA, PCI
 * configuration space (MSI-X enable and function mask, the pci-cfg access
 * window), queue runs on whatever the registers now say, frames from the
 * backend, function resets, link changes, and device state records taken
 * from the input.  fuzz_virtq_net covers the rings behind a well-behaved
 * set-up; this one covers the set-up itself.
 *
 * Properties checked after every step:
 *  - the accepted feature set (after FEATURES_OK) is a subset of the offer;
 *  - an enabled queue's size is a power of two no larger than its maximum;
 *  - save -> load -> save of a paused device gives the same bytes, and
 *    the device shows the guest the same INTx line, BAR mappings and ring
 *    modes and sends no MSI-X message (fuzz_vnet_reload);
 *  - a second, freshly reset device (a migration destination) takes the
 *    record, saves the same bytes and shows the same (fuzz_vnet_migrate);
 * and nothing may crash, leak or touch memory outside guest RAM.
 *
 * Input: a sequence of 8-byte operations  op, a, b, c, value[4]
 *   op % 12: 0-2 BAR write, 3 BAR read (offset a|b<<8, size 1/2/4/8 by c,
 *   aligned and limited to what the region takes, as the bus does),
 *   4 MSI-X BAR write, 5 MSI-X BAR read, 6 config write, 7 config read,
 *   8 run queue a%3, 9 a frame of value bytes from the backend,
 *   10 function reset / link (c), 11 load a record: the next value[0..1]
 *   bytes of the input, on a paused device, then resume.
 * Guest RAM holds the rest of the input from offset 0x8000 on, so the
 * rings that registers point into have fuzzer-chosen contents.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fuzz_device_state.h"
#include "fuzz_vnet.h"

#include "core/evloop.h"
#include "core/state.h"
#include "core/util.h"
#include "core/vm.h"
#include "net/net.h"
#include "pci/msix.h"
#include "pci/pci.h"
#include "virtio/virtio_net.h"

#define RAM		(1 * MiB)
#define RAM_IMAGE	0x8000
#define OP_LEN		8
#define MAX_OPS		256

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct vm vm, dst_vm;
static struct virtio_net *n, *dst;
static int peer, dst_peer;

static void init_once(void)
{
	n = fuzz_vnet_init(&vm, RAM, &peer);
	dst = fuzz_vnet_init(&dst_vm, RAM, &dst_peer);
}

static void check_invariants(void)
{
	struct virtio_pci *vp = &n->vp;

	if ((vp->status & VIRTIO_STAT_FEATURES_OK) &&
	    (vp->features & ~virtio_pci_offered(vp)))
		abort();
	for (unsigned q = 0; q < vp->nr_queues; q++) {
		uint16_t sz = vp->queues[q].vq.size;

		if (vp->queues[q].vq.ready && (!sz || sz & (sz - 1) ||
					       sz > vp->queues[q].max_size))
			abort();
	}
}

/* Untrusted record bytes: refused cleanly or loaded into a usable device. */
static void load(const uint8_t *p, size_t len)
{
	struct sreader r = { .p = p, .len = len };
	char err[256];

	n->dev.ops->pause(&n->dev);
	if (n->dev.ops->load(&n->dev, &r, err, sizeof(err)) == 0 &&
	    r.off > len)
		abort();
	n->dev.ops->resume(&n->dev);
}

/*
 * What the bus hands a region: naturally aligned accesses of a size in
 * [min, max], wholly inside the region (src/core/bus.c splits the rest).
 */
static unsigned bus_access(const uint8_t *op, unsigned region, unsigned min,
		       unsigned max, unsigned *size)
{
	unsigned s = 1u << (op[3] & 3), off = (op[1] | op[2] << 8) % region;

	*size = s < min ? min : s > max ? max : s;
	return off & ~(*size - 1);
}

static void send_frame(unsigned len)
{
	static uint8_t frame[VNET_HDR_LEN + 9000];

	len = VNET_HDR_LEN + len % 9000;
	memcpy(frame, (uint8_t *)vm.mem.base + RAM_IMAGE, len);
	if (send(peer, frame, len, MSG_DONTWAIT) < 0)
		fuzz_vnet_drain(peer);
}

static void step(const uint8_t *op, const uint8_t *rest, size_t rest_len)
{
	uint32_t val = le_read(op + 4, 4);
	struct virtio_pci *vp = &n->vp;
	unsigned off, sz;

	switch (op[0] % 12) {
	case 0: case 1: case 2:
		off = bus_access(op, VIRTIO_PCI_BAR_SIZE, 1, 4, &sz);
		virtio_pci_bar_write(vp, off, val, sz);
		break;
	case 3:
		off = bus_access(op, VIRTIO_PCI_BAR_SIZE, 1, 4, &sz);
		virtio_pci_bar_read(vp, off, sz);
		break;
	case 4:
		off = bus_access(op, MSIX_BAR_SIZE, 4, 8, &sz);
		msix_bar_write(&vp->msix, off, (uint64_t)val * 0x100000001ULL,
			       sz);
		break;
	case 5:
		off = bus_access(op, MSIX_BAR_SIZE, 4, 8, &sz);
		msix_bar_read(&vp->msix, off, sz);
		break;
	case 6:
		off = bus_access(op, vp->pci.cfg_size, 1, 4, &sz);
		pci_cfg_write(&vp->pci, off, val, sz);
		break;
	case 7:
		off = bus_access(op, vp->pci.cfg_size, 1, 4, &sz);
		pci_cfg_read(&vp->pci, off, sz);
		break;
	case 8:
		virtio_pci_run_queue(vp, op[1] % 3);
		break;
	case 9:
		send_frame(val);
		virtio_pci_run_queue(vp, VNET_RXQ);
		break;
	case 10:
		if (op[3] & 1)
			n->dev.ops->reset(&n->dev);
		else
			virtio_net_set_link(&vm, "net0", op[3] & 2);
		break;
	case 11:
		load(rest, MIN(rest_len, (size_t)(val & 0xffff)));
		break;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t nops = MIN(size / OP_LEN, (size_t)MAX_OPS);

	if (!n)
		init_once();
	n->dev.ops->reset(&n->dev);
	virtio_net_set_link(&vm, "net0", true);
	memset(vm.mem.base, 0, RAM);
	memcpy((uint8_t *)vm.mem.base + RAM_IMAGE, data,
	       MIN(size, (size_t)RAM - RAM_IMAGE));
	for (size_t i = 0; i < nops; i++) {
		const uint8_t *op = data + i * OP_LEN;

		step(op, op + OP_LEN, size - (i + 1) * OP_LEN);
		check_invariants();
	}
	fuzz_vnet_reload(n);
	fuzz_vnet_migrate(n, dst);
	check_invariants();
	fuzz_vnet_drain(peer);
	fuzz_vnet_drain(n->nd->fd);
	return 0;
}
