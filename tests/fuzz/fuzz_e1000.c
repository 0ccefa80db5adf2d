// SPDX-License-Identifier: MIT
/*
 * libFuzzer target for the e1000 model (src/dev/e1000*.c): everything a
 * guest controls (registers through both BARs, descriptor rings and
 * buffers in RAM), frames from the backend, host link changes, resets,
 * pause/resume, and the migration record (untrusted too).
 *
 * Input: [number of operations, flags (bit 0: 12-byte vnet header)],
 * that many 8-byte operations [op, a, b(2), v(4)], then the initial image
 * of guest RAM.  Nothing may crash, hang or leak, and the
 * device must never touch memory outside RAM (ASan watches the mapping
 * edges, gm_* the rest).  Each input ends with a migration of the card's
 * record to a new card, which must take it as it is.
 */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fuzz_device_state.h"

#include "core/bus.h"
#include "core/guest_mem.h"
#include "core/util.h"
#include "core/vm.h"
#include "dev/e1000.h"
#include "net/net.h"
#include "pci/pci.h"

#define RAM		(256 * 1024)
#define HDR_SIZE	2
#define OP_SIZE		8

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct vm vm;
static struct netdev *nd;
static int peer = -1;

/* Registers worth hitting often; anything else by raw offset. */
static const uint32_t regs[] = {
	E1000_CTRL, E1000_STATUS, E1000_EECD, E1000_EERD, E1000_MDIC,
	E1000_ICR, E1000_ICS, E1000_IMS, E1000_IMC, E1000_RCTL, E1000_TCTL,
	E1000_RDBAL, E1000_RDBAH, E1000_RDLEN, E1000_RDH, E1000_RDT,
	E1000_TDBAL, E1000_TDBAH, E1000_TDLEN, E1000_TDH, E1000_TDT,
	E1000_RXCSUM, E1000_VET, E1000_MTA, E1000_RA, E1000_RA + 4,
	E1000_VFTA, E1000_PBA, E1000_STATS + E1000_GORCH,
	E1000_STATS + E1000_GPRC,
};

static int init_once(void)
{
	int sv[2];

	memset(&vm, 0, sizeof(vm));
	vm.kvm_fd = vm.vm_fd = -1;
	pthread_mutex_init(&vm.lock, NULL);
	pthread_cond_init(&vm.cond, NULL);
	if (gm_init(&vm.mem, RAM) || evloop_init(&vm.loop) ||
	    bus_init(&vm.pio, "pio") || bus_init(&vm.mmio, "mmio"))
		return -1;
	vm.loop_ready = true;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK, 0, sv))
		return -1;
	peer = sv[1];
	/* Alternate inputs use a 12-byte vnet header through hdr_len below. */
	return netdev_fd_open(&vm, "net0", sv[0], 0, 0, &nd);
}

/* Nothing of one input may reach the next. */
static void drain(int fd)
{
	uint8_t buf[256];

	while (recv(fd, buf, sizeof(buf), MSG_DONTWAIT) >= 0)
		;
}

static void inject(const uint8_t *p, size_t avail, unsigned len, bool hdr)
{
	uint8_t frame[2048 + 12] = { 0 };

	len = MIN(len % 2048, (unsigned)avail);
	memcpy(frame + (hdr ? 12 : 0), p, len);
	send(peer, frame, len + (hdr ? 12 : 0), MSG_DONTWAIT);
}

/*
 * Odd v: save, perturb the e1000 record with v, load: refused or
 * consistent.  Even v: the record loads as is and saves the same bytes.
 */
static void migrate(struct e1000 *e, uint32_t v, const uint8_t *p,
		    size_t avail)
{
	struct sbuf sb;
	struct sreader rd;
	char err[200];

	if (!(v & 1)) {
		fuzz_reload_pci_device(&e->dev, &e->pci);
		return;
	}
	fuzz_save(&e->dev, &sb);
	if (sb.len > 4200) {	/* past the pci-dev record */
		size_t off = 4200 + (v >> 8) % (sb.len - 4200);

		for (size_t i = 0; i < MIN(avail, (size_t)16) &&
				   off + i < sb.len; i++)
			sb.data[off + i] ^= p[i];
	}
	rd = (struct sreader){ .p = sb.data, .len = sb.len };
	e->dev.ops->load(&e->dev, &rd, err, sizeof(err));
	sbuf_free(&sb);
}

/* A new card, as a VM's start (or a migration destination's) makes it. */
static struct e1000 *new_card(void)
{
	struct e1000_params p = {
		.id = "pri0", .netdev = "net0", .slot = -1,
		.mac = { 0x52, 0x54, 0x00, 0xaa, 0xbb, 0xcc },
	};
	struct e1000 *e;

	if (e1000_new(&vm, &p, nd, &e))
		abort();
	/*
	 * Not placed on the host bridge: its BAR allocator never reclaims
	 * (256 placements exhaust the I/O window); the handlers are called
	 * directly anyway.  What a bus does once it placed a card: the
	 * reset image that loads are checked against.
	 */
	memcpy(e->pci.cfg_reset, e->pci.cfg, sizeof(e->pci.cfg));
	if (e1000_start(e))
		abort();
	return e;
}

/*
 * The end of every input: the card's record goes to a new card (on the
 * same backend, the old one gone, as on a destination), which must take
 * it, save the same bytes and show the same INTx line.
 */
static void migrate_to_new_card(struct e1000 *e)
{
	struct fuzz_pci_view was;
	struct sbuf sb;

	e->dev.ops->pause(&e->dev);
	fuzz_pci_view_get(&e->pci, &was);
	fuzz_save(&e->dev, &sb);
	e1000_destroy(e);
	e = new_card();
	e->dev.ops->pause(&e->dev);
	fuzz_load_expect_same(&e->dev, &sb);
	fuzz_pci_view_expect(&e->pci, &was);
	sbuf_free(&sb);
	e1000_destroy(e);
}

static void run_op(struct e1000 *e, const uint8_t *op, const uint8_t *rest,
		   size_t avail, bool hdr)
{
	unsigned a = op[1], b = le_read(op + 2, 2);
	uint32_t v = le_read(op + 4, 4);
	uint32_t reg = a & 0x80 ? (b << 2) % E1000_MMIO_SIZE :
				  regs[a % ARRAY_SIZE(regs)];

	switch (op[0] % 12) {
	case 0:
		/* Ring bases pointing into RAM more often than not. */
		if (!(a & 0x40) && (reg == E1000_RDBAL || reg == E1000_TDBAL))
			v %= RAM;
		e1000_mmio_write(e, reg, v, 4);
		break;
	case 1:
		e1000_mmio_read(e, reg + (a & 3), 1 << (b % 3));
		break;
	case 2:
		e1000_io_write(e, b % 16, v, 1 << (a % 3));
		break;
	case 3:
		e1000_io_read(e, b % 16, 1 << (a % 3));
		break;
	case 4:
	case 5:
		e1000_poll(e);
		break;
	case 6:
		inject(rest, avail, v, hdr);
		break;
	case 7:
		le_write(gm_ptr_w(&vm.mem, (b << 4) % RAM, 4), 4, v);
		break;
	case 8:
		e1000_set_link(e, v & 1);
		break;
	case 9:
		if (v & 1)
			e->dev.ops->pause(&e->dev);
		else
			e->dev.ops->resume(&e->dev);
		break;
	case 10:
		if (v & 1)
			e->dev.ops->reset(&e->dev);
		else if (nd->client && nd->client->tx_ready)
			nd->client->tx_ready(nd->client_opaque);
		break;
	case 11:
		migrate(e, v, rest, avail);
		break;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool ready;
	const uint8_t *ops = data + HDR_SIZE, *img;
	size_t nops, img_len;
	struct e1000 *e;
	bool hdr;

	if (!ready) {
		if (init_once())
			abort();
		ready = true;
	}
	if (size < HDR_SIZE)
		return 0;
	nops = MIN((size_t)data[0], (size - HDR_SIZE) / OP_SIZE);
	hdr = data[1] & 1;
	img = ops + nops * OP_SIZE;
	img_len = size - HDR_SIZE - nops * OP_SIZE;
	nd->vnet_hdr_len = hdr ? 12 : 0;
	memset(vm.mem.slots[0].hva, 0, RAM);
	memcpy(vm.mem.slots[0].hva, img, MIN(img_len, (size_t)RAM));
	e = new_card();
	pci_cfg_write(&e->pci, PCI_COMMAND, PCI_COMMAND_MEMORY |
		      PCI_COMMAND_IO | PCI_COMMAND_MASTER, 2);
	for (size_t i = 0; i < nops; i++) {
		const uint8_t *rest = ops + (i + 1) * OP_SIZE;

		run_op(e, ops + i * OP_SIZE, rest,
		       size - (size_t)(rest - data), hdr);
	}
	e1000_poll(e);
	migrate_to_new_card(e);
	drain(peer);
	drain(nd->fd);
	return 0;
}
