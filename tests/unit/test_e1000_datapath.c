// SPDX-License-Identifier: MIT
/*
 * e1000 datapath: receive into legacy descriptors (filter, VLAN, CRC,
 * backpressure), transmit of legacy and extended descriptors with checksum
 * offload and TSO, and what a hostile guest may put in rings.  The backend
 * is a SOCK_SEQPACKET pair; the test plays the wire on the other end and
 * runs the loop's work with e1000_poll().
 */
#include "test_e1000_bench.h"

#define RX_RING		0x10000
#define TX_RING		0x20000
#define RX_BUF		0x100000
#define RX_BUF_STRIDE	0x4000
#define TX_BUF		0x200000

static const uint8_t peer_mac[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x01 };
static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

static int setup_hdr(void **state, unsigned hdr)
{
	struct t *t = e1000_bench_new(state, hdr);

	pci_cfg_write(&t->e->pci, PCI_COMMAND, PCI_COMMAND_MEMORY |
		      PCI_COMMAND_IO | PCI_COMMAND_MASTER, 2);
	return 0;
}

static int setup(void **state)
{
	return setup_hdr(state, 0);
}

static int setup_vnet(void **state)
{
	return setup_hdr(state, 12);
}

/* ---- the driver side ---- */

static uint8_t *ram(struct t *t, uint64_t gpa, size_t len)
{
	uint8_t *p = gm_ptr(&t->vm.mem, gpa, len);

	assert_non_null(p);
	return p;
}

static void link_up(struct t *t)
{
	w(t, E1000_CTRL, r(t, E1000_CTRL) | E1000_CTRL_SLU);
}

/* n descriptors, all but one handed to the device (RDT = n - 1). */
static void rx_init(struct t *t, unsigned n, uint32_t rctl)
{
	for (unsigned i = 0; i < n; i++) {
		uint8_t *d = ram(t, RX_RING + 16 * i, 16);

		memset(d, 0, 16);
		le_write(d, 8, RX_BUF + (uint64_t)i * RX_BUF_STRIDE);
	}
	link_up(t);
	w(t, E1000_RDBAL, RX_RING);
	w(t, E1000_RDBAH, 0);
	w(t, E1000_RDLEN, n * 16);
	w(t, E1000_RDH, 0);
	w(t, E1000_RDT, n - 1);
	w(t, E1000_RCTL, rctl | E1000_RCTL_EN);
	w(t, E1000_IMS, E1000_ICR_RXT0);
	r(t, E1000_ICR);	/* the LSC of link_up() */
}

struct rxd {
	uint16_t len, csum, special;
	uint8_t status, errors;
};

static struct rxd rx_desc(struct t *t, unsigned i)
{
	uint8_t *d = ram(t, RX_RING + 16 * i, 16);

	return (struct rxd){ le_read(d + 8, 2), le_read(d + 10, 2),
			     le_read(d + 14, 2), d[12], d[13] };
}

static void tx_init(struct t *t, unsigned n)
{
	link_up(t);
	w(t, E1000_TDBAL, TX_RING);
	w(t, E1000_TDLEN, n * 16);
	w(t, E1000_TDH, 0);
	w(t, E1000_TDT, 0);
	w(t, E1000_TCTL, E1000_TCTL_EN | E1000_TCTL_PSP);
	w(t, E1000_IMS, E1000_ICR_TXDW);
	r(t, E1000_ICR);	/* the LSC of link_up() */
}

static void put_txd(struct t *t, unsigned i, uint64_t addr, uint32_t lower,
		    uint32_t upper)
{
	uint8_t *d = ram(t, TX_RING + 16 * i, 16);

	le_write(d, 8, addr);
	le_write(d + 8, 4, lower);
	le_write(d + 12, 4, upper);
}

static uint32_t legacy(size_t len, uint8_t cmd)
{
	return len | (uint32_t)cmd << 24;
}

static uint32_t data_d(size_t len, uint8_t cmd)
{
	return len | 1 << 20 | (uint32_t)(cmd | E1000_TXD_CMD_DEXT) << 24;
}

static uint8_t tx_status(struct t *t, unsigned i)
{
	return ram(t, TX_RING + 16 * i, 16)[12];
}

/* ---- the wire side ---- */

static size_t make_frame(uint8_t *f, const uint8_t *dst, size_t len)
{
	memcpy(f, dst, 6);
	memcpy(f + 6, peer_mac, 6);
	f[12] = 0x08;
	f[13] = 0x00;
	for (size_t i = 14; i < len; i++)
		f[i] = i * 7;
	return len;
}

static void peer_send(struct t *t, const uint8_t *f, size_t len)
{
	uint8_t buf[20000] = { 0 };

	assert_true(len + t->hdr <= sizeof(buf));
	memcpy(buf + t->hdr, f, len);
	assert_int_equal(send(t->peer, buf, len + t->hdr, 0), len + t->hdr);
}

/* One frame from the device, vnet header checked and removed; -1: none. */
static ssize_t peer_recv(struct t *t, uint8_t *f, size_t cap)
{
	uint8_t buf[70000];
	ssize_t n = recv(t->peer, buf, sizeof(buf), MSG_DONTWAIT);

	if (n < 0)
		return -1;
	assert_true((size_t)n >= t->hdr);
	for (unsigned i = 0; i < t->hdr; i++)
		assert_int_equal(buf[i], 0);
	n -= t->hdr;
	assert_true((size_t)n <= cap);
	memcpy(f, buf + t->hdr, n);
	return n;
}

/* ---- receive ---- */

static void test_crc_vector(void **state)
{
	assert_int_equal(e1000_crc32((const uint8_t *)"123456789", 9),
			 0xCBF43926);
}

static void test_rx_basic(void **state)
{
	struct t *t = *state;
	uint8_t f[1514];
	struct rxd d;

	rx_init(t, 8, E1000_RCTL_BAM);
	make_frame(f, our_mac, sizeof(f));
	peer_send(t, f, sizeof(f));
	e1000_poll(t->e);
	d = rx_desc(t, 0);
	assert_int_equal(d.status & (E1000_RXD_STAT_DD | E1000_RXD_STAT_EOP),
			 E1000_RXD_STAT_DD | E1000_RXD_STAT_EOP);
	assert_int_equal(d.errors, 0);
	/* The 82540 leaves the FCS in the buffer; Linux strips 4 bytes. */
	assert_int_equal(d.len, sizeof(f) + 4);
	assert_memory_equal(ram(t, RX_BUF, sizeof(f)), f, sizeof(f));
	assert_int_equal(le_read(ram(t, RX_BUF + sizeof(f), 4), 4),
			 e1000_crc32(f, sizeof(f)));
	assert_int_equal(r(t, E1000_RDH), 1);
	assert_int_equal(t->intx, 1);
	assert_true(r(t, E1000_ICR) & E1000_ICR_RXT0);
	assert_int_equal(r(t, E1000_STATS + E1000_GPRC), 1);
	assert_int_equal(r(t, E1000_STATS + E1000_GORCL), sizeof(f) + 4);
	assert_false(rx_desc(t, 1).status & E1000_RXD_STAT_DD);
}

static void test_rx_filter(void **state)
{
	struct t *t = *state;
	uint8_t f[100], mc[6] = { 0x01, 0x00, 0x5e, 0x00, 0x00, 0xfb };
	unsigned hash;

	rx_init(t, 16, 0);
	make_frame(f, peer_mac, sizeof(f));		/* not ours */
	peer_send(t, f, sizeof(f));
	make_frame(f, bcast, sizeof(f));		/* no BAM */
	peer_send(t, f, sizeof(f));
	make_frame(f, mc, sizeof(f));			/* not in the MTA */
	peer_send(t, f, sizeof(f));
	e1000_poll(t->e);
	assert_int_equal(r(t, E1000_RDH), 0);
	assert_int_equal(t->intx, 0);
	/* Broadcast with BAM; multicast by MTA hash (MO 0: bits 47:36). */
	w(t, E1000_RCTL, r(t, E1000_RCTL) | E1000_RCTL_BAM);
	hash = (mc[4] >> 4 | mc[5] << 4) & 0xFFF;
	w(t, E1000_MTA + 4 * (hash >> 5), 1U << (hash & 31));
	make_frame(f, bcast, sizeof(f));
	peer_send(t, f, sizeof(f));
	make_frame(f, mc, sizeof(f));
	peer_send(t, f, sizeof(f));
	/* A second exact address in RAR1; then promiscuous. */
	w(t, E1000_RA + 8, le_read(peer_mac, 4));
	w(t, E1000_RA + 12, le_read(peer_mac + 4, 2) | E1000_RAH_AV);
	make_frame(f, peer_mac, sizeof(f));
	peer_send(t, f, sizeof(f));
	e1000_poll(t->e);
	assert_int_equal(r(t, E1000_RDH), 3);
	f[5] = 0x77;
	peer_send(t, f, sizeof(f));
	e1000_poll(t->e);
	assert_int_equal(r(t, E1000_RDH), 3);
	w(t, E1000_RCTL, r(t, E1000_RCTL) | E1000_RCTL_UPE);
	peer_send(t, f, sizeof(f));
	e1000_poll(t->e);
	assert_int_equal(r(t, E1000_RDH), 4);
	assert_int_equal(r(t, E1000_STATS + E1000_BPRC), 1);
	assert_int_equal(r(t, E1000_STATS + E1000_MPRC), 1);
}

static void test_rx_backpressure(void **state)
{
	struct t *t = *state;
	uint8_t f[200];

	rx_init(t, 8, 0);
	w(t, E1000_RDT, 0);		/* no buffers yet, as after open */
	for (int i = 0; i < 3; i++) {
		make_frame(f, our_mac, sizeof(f));
		f[14] = i;
		peer_send(t, f, sizeof(f));
	}
	e1000_poll(t->e);
	assert_true(t->e->rx_blocked);
	assert_false(t->e->rx_polling);	/* the backend keeps the frames */
	assert_int_equal(r(t, E1000_STATS + E1000_RNBC), 1);
	/* Two buffers: two frames, then blocked again. */
	w(t, E1000_RDT, 2);
	e1000_poll(t->e);
	assert_int_equal(r(t, E1000_RDH), 2);
	assert_int_equal(ram(t, RX_BUF + RX_BUF_STRIDE, 20)[14], 1);
	assert_true(t->e->rx_blocked);
	w(t, E1000_RDT, 7);
	e1000_poll(t->e);
	assert_int_equal(r(t, E1000_RDH), 3);
	assert_int_equal(ram(t, RX_BUF + 2 * RX_BUF_STRIDE, 20)[14], 2);
	assert_false(t->e->rx_blocked);
	assert_true(t->e->rx_polling);
	/* Low on free descriptors (<= 1/2 of 8): RXDMT0. */
	assert_true(r(t, E1000_ICR) & E1000_ICR_RXT0);
	assert_int_equal(r(t, E1000_STATS + E1000_GPRC), 3);
}

static void test_rx_split_lpe(void **state)
{
	struct t *t = *state;
	uint8_t f[3000];
	size_t got = 0;

	/* 1024-byte buffers: a long frame spans three descriptors. */
	rx_init(t, 8, 1 << E1000_RCTL_BSIZE_SHIFT | E1000_RCTL_SECRC);
	make_frame(f, our_mac, sizeof(f));
	peer_send(t, f, sizeof(f));
	e1000_poll(t->e);
	assert_int_equal(r(t, E1000_RDH), 0);	/* too long without LPE */
	assert_int_equal(r(t, E1000_STATS + E1000_ROC), 1);
	w(t, E1000_RCTL, r(t, E1000_RCTL) | E1000_RCTL_LPE);
	peer_send(t, f, sizeof(f));
	e1000_poll(t->e);
	assert_int_equal(r(t, E1000_RDH), 3);
	for (unsigned i = 0; i < 3; i++) {
		struct rxd d = rx_desc(t, i);

		assert_true(d.status & E1000_RXD_STAT_DD);
		assert_int_equal(!!(d.status & E1000_RXD_STAT_EOP), i == 2);
		assert_memory_equal(ram(t, RX_BUF + i * RX_BUF_STRIDE, d.len),
				    f + got, d.len);
		got += d.len;
	}
	assert_int_equal(got, sizeof(f));	/* SECRC: no FCS */
}

static void test_rx_vlan(void **state)
{
	struct t *t = *state;
	uint8_t f[100], want[96];
	struct rxd d;

	rx_init(t, 8, E1000_RCTL_SECRC | E1000_RCTL_VFE);
	make_frame(f, our_mac, sizeof(f));
	f[12] = 0x81, f[13] = 0x00, f[14] = 0x20, f[15] = 0x05;	/* VID 5 */
	f[16] = 0x08, f[17] = 0x00;
	peer_send(t, f, sizeof(f));
	e1000_poll(t->e);
	assert_int_equal(r(t, E1000_RDH), 0);	/* VID 5 not in the VFTA */
	w(t, E1000_VFTA, 1 << 5);
	w(t, E1000_CTRL, r(t, E1000_CTRL) | E1000_CTRL_VME);
	peer_send(t, f, sizeof(f));
	e1000_poll(t->e);
	assert_int_equal(r(t, E1000_RDH), 1);
	d = rx_desc(t, 0);
	assert_true(d.status & E1000_RXD_STAT_VP);
	assert_int_equal(d.special, 0x2005);
	assert_int_equal(d.len, sizeof(want));
	memcpy(want, f, 12);
	memcpy(want + 12, f + 16, sizeof(f) - 16);
	assert_memory_equal(ram(t, RX_BUF, sizeof(want)), want, sizeof(want));
}

static void test_rx_short_and_disabled(void **state)
{
	struct t *t = *state;
	uint8_t f[42];

	/* Frames while the receiver is off are lost, as on the wire. */
	make_frame(f, our_mac, sizeof(f));
	peer_send(t, f, sizeof(f));
	e1000_poll(t->e);
	assert_true(t->e->rx_polling);
	rx_init(t, 8, E1000_RCTL_SECRC);
	e1000_poll(t->e);
	assert_int_equal(r(t, E1000_RDH), 0);
	/* A 42-byte ARP-sized frame arrives padded to 60. */
	peer_send(t, f, sizeof(f));
	e1000_poll(t->e);
	assert_int_equal(rx_desc(t, 0).len, 60);
	assert_memory_equal(ram(t, RX_BUF, 42), f, 42);
	for (unsigned i = 42; i < 60; i++)
		assert_int_equal(ram(t, RX_BUF, 60)[i], 0);
	/* Link down: dropped too. */
	e1000_set_link(t->e, false);
	peer_send(t, f, sizeof(f));
	e1000_poll(t->e);
	e1000_set_link(t->e, true);
	e1000_poll(t->e);
	assert_int_equal(r(t, E1000_RDH), 1);
}

static void test_rx_malformed(void **state)
{
	struct t *t = *state;
	uint8_t f[100];
	struct rxd d;

	rx_init(t, 8, 0);
	/* Buffer outside RAM: error descriptor, frame lost, ring moves. */
	le_write(ram(t, RX_RING, 8), 8, RAM - 10);
	make_frame(f, our_mac, sizeof(f));
	peer_send(t, f, sizeof(f));
	e1000_poll(t->e);
	d = rx_desc(t, 0);
	assert_int_equal(d.status & E1000_RXD_STAT_DD, E1000_RXD_STAT_DD);
	assert_int_equal(d.errors, E1000_RXD_ERR_RXE);
	assert_int_equal(r(t, E1000_RDH), 1);
	/* Ring outside RAM: nothing written, receive waits for a new ring. */
	w(t, E1000_RDBAL, 0xFFFFFF00);
	w(t, E1000_RDBAH, 0x7);
	w(t, E1000_RDH, 0);
	peer_send(t, f, sizeof(f));
	e1000_poll(t->e);
	assert_true(t->e->rx_blocked);
	/* Head beyond the ring. */
	w(t, E1000_RDBAL, RX_RING);
	w(t, E1000_RDBAH, 0);
	w(t, E1000_RDH, 9);
	e1000_poll(t->e);
	assert_true(t->e->rx_blocked);
	/* Repaired: works again. */
	w(t, E1000_RDH, 1);
	peer_send(t, f, sizeof(f));
	e1000_poll(t->e);
	assert_int_equal(r(t, E1000_RDH), 2);
	assert_int_equal(rx_desc(t, 1).errors, 0);
}

/* ---- transmit ---- */

static void test_tx_two_desc(void **state)
{
	struct t *t = *state;
	uint8_t f[300], got[400];

	tx_init(t, 8);
	make_frame(f, peer_mac, sizeof(f));
	memcpy(ram(t, TX_BUF, 100), f, 100);
	memcpy(ram(t, TX_BUF + 0x1000, 200), f + 100, 200);
	put_txd(t, 0, TX_BUF, legacy(100, E1000_TXD_CMD_IFCS), 0);
	put_txd(t, 1, TX_BUF + 0x1000, legacy(200, E1000_TXD_CMD_EOP |
					      E1000_TXD_CMD_IFCS |
					      E1000_TXD_CMD_RS), 0);
	w(t, E1000_TDT, 1);	/* first half only: nothing goes out */
	e1000_poll(t->e);
	assert_int_equal(peer_recv(t, got, sizeof(got)), -1);
	assert_int_equal(r(t, E1000_TDH), 0);
	w(t, E1000_TDT, 2);
	e1000_poll(t->e);
	assert_int_equal(peer_recv(t, got, sizeof(got)), sizeof(f));
	assert_memory_equal(got, f, sizeof(f));
	assert_int_equal(peer_recv(t, got, sizeof(got)), -1);
	assert_int_equal(tx_status(t, 1) & E1000_TXD_STAT_DD, 1);
	assert_int_equal(tx_status(t, 0) & E1000_TXD_STAT_DD, 0);	/* no RS */
	assert_int_equal(r(t, E1000_TDH), 2);
	assert_int_equal(t->intx, 1);
	assert_int_equal(r(t, E1000_ICR), E1000_ICR_TXDW | E1000_ICR_TXQE);
	assert_int_equal(r(t, E1000_STATS + E1000_GPTC), 1);
	assert_int_equal(r(t, E1000_STATS + E1000_GOTCL), sizeof(f) + 4);
	/* A short frame is padded (TCTL.PSP). */
	put_txd(t, 2, TX_BUF, legacy(20, E1000_TXD_CMD_EOP), 0);
	w(t, E1000_TDT, 3);
	e1000_poll(t->e);
	assert_int_equal(peer_recv(t, got, sizeof(got)), 60);
}

static uint32_t sum_words(const uint8_t *p, size_t len)
{
	return e1000_csum_add(0, p, len);
}

static uint8_t *ipv4(uint8_t *f, unsigned proto, unsigned tot_len)
{
	uint8_t *ip = f + 14;

	make_frame(f, peer_mac, 14);
	memset(ip, 0, 20);
	ip[0] = 0x45;
	e1000_put_be16(ip + 2, tot_len);
	e1000_put_be16(ip + 4, 0x1234);
	ip[6] = 0x40;
	ip[8] = 64;
	ip[9] = proto;
	memcpy(ip + 12, "\x0a\x00\x00\x01\x0a\x00\x00\x02", 8);
	return ip;
}

/* Ones' complement sum of the IPv4 pseudo header. */
static uint32_t pseudo(const uint8_t *ip, unsigned proto, unsigned len)
{
	return sum_words(ip + 12, 8) + proto + len;
}

static void test_tx_csum_offload(void **state)
{
	struct t *t = *state;
	uint8_t f[14 + 20 + 8 + 21], got[200], *ip, *udp;
	uint64_t ctx;

	tx_init(t, 8);
	ip = ipv4(f, 17, 20 + 8 + 21);
	udp = ip + 20;
	e1000_put_be16(udp, 1000);
	e1000_put_be16(udp + 2, 2000);
	e1000_put_be16(udp + 4, 8 + 21);
	for (unsigned i = 0; i < 21; i++)
		udp[8 + i] = 3 * i + 1;
	/* CHECKSUM_PARTIAL: the stack leaves the folded pseudo header. */
	e1000_put_be16(udp + 6, e1000_csum_fold(pseudo(ip, 17, 8 + 21)));
	memcpy(ram(t, TX_BUF, sizeof(f)), f, sizeof(f));
	/* Context: TUCSS 34, TUCSO 40, to the end; UDP (TCP bit clear). */
	ctx = 34ULL << 32 | 40ULL << 40;
	put_txd(t, 0, ctx, (uint32_t)E1000_TXD_CMD_DEXT << 24, 0);
	put_txd(t, 1, TX_BUF, data_d(sizeof(f), E1000_TXD_CMD_EOP |
				     E1000_TXD_CMD_RS),
		E1000_TXD_POPTS_TXSM << 8);
	w(t, E1000_TDT, 2);
	e1000_poll(t->e);
	assert_int_equal(peer_recv(t, got, sizeof(got)), sizeof(f));
	udp = got + 34;
	assert_int_not_equal(e1000_be16(udp + 6), 0);
	assert_int_equal(e1000_csum_fold(pseudo(got + 14, 17, 29) +
					 sum_words(udp, 29)), 0xFFFF);
	assert_memory_equal(got + 42, f + 42, 21);
	assert_int_equal(tx_status(t, 1) & E1000_TXD_STAT_DD, 1);
}

static void check_segment(const uint8_t *s, size_t len, unsigned i,
			  unsigned nseg, const uint8_t *payload)
{
	const uint8_t *ip = s + 14, *tcp = s + 34;
	size_t plen = len - 54;

	assert_int_equal(e1000_be16(ip + 2), 40 + plen);
	assert_int_equal(e1000_be16(ip + 4), 0x1234 + i);
	assert_int_equal(e1000_csum_fold(sum_words(ip, 20)), 0xFFFF);
	assert_int_equal(e1000_be16(tcp + 4) << 16 | e1000_be16(tcp + 6),
			 0x10000000 + 100 * i);
	/* FIN and PSH only on the last segment. */
	assert_int_equal(tcp[13], i == nseg - 1 ? 0x19 : 0x10);
	assert_int_equal(e1000_csum_fold(pseudo(ip, 6, 20 + plen) +
					 sum_words(tcp, 20 + plen)), 0xFFFF);
	assert_memory_equal(s + 54, payload + 100 * i, plen);
}

static void test_tso(void **state)
{
	struct t *t = *state;
	uint8_t f[54 + 250], got[200], *ip, *tcp;
	uint64_t ctx;
	ssize_t n;

	tx_init(t, 8);
	ip = ipv4(f, 6, 0);		/* Linux zeroes tot_len for TSO */
	tcp = ip + 20;
	memset(tcp, 0, 20);
	e1000_put_be16(tcp, 1000);
	e1000_put_be16(tcp + 2, 2000);
	e1000_put_be16(tcp + 4, 0x1000);
	e1000_put_be16(tcp + 6, 0x0000);
	tcp[12] = 5 << 4;
	tcp[13] = 0x19;			/* FIN PSH ACK */
	e1000_put_be16(tcp + 14, 0xFFFF);
	/* Pseudo header without the length: the hardware adds it. */
	e1000_put_be16(tcp + 16, e1000_csum_fold(pseudo(ip, 6, 0)));
	for (unsigned i = 0; i < 250; i++)
		f[54 + i] = i ^ 0x5a;
	memcpy(ram(t, TX_BUF, sizeof(f)), f, sizeof(f));
	ctx = 14 | 24 << 8 | 33 << 16 | 34ULL << 32 | 50ULL << 40;
	put_txd(t, 0, ctx, 250 | (uint32_t)(E1000_TXD_CMD_DEXT |
			E1000_TXD_TUCMD_TSE | E1000_TXD_TUCMD_TCP |
			E1000_TXD_TUCMD_IP) << 24, 54 << 8 | 100 << 16);
	/* Split over two data descriptors, as Linux's frags are. */
	put_txd(t, 1, TX_BUF, data_d(60, E1000_TXD_CMD_TSE),
		(E1000_TXD_POPTS_IXSM | E1000_TXD_POPTS_TXSM) << 8);
	put_txd(t, 2, TX_BUF + 60, data_d(sizeof(f) - 60, E1000_TXD_CMD_TSE |
					  E1000_TXD_CMD_EOP | E1000_TXD_CMD_RS),
		(E1000_TXD_POPTS_IXSM | E1000_TXD_POPTS_TXSM) << 8);
	w(t, E1000_TDT, 3);
	e1000_poll(t->e);
	for (unsigned i = 0; i < 3; i++) {
		n = peer_recv(t, got, sizeof(got));
		assert_int_equal(n, 54 + (i < 2 ? 100 : 50));
		check_segment(got, n, i, 3, f + 54);
	}
	assert_int_equal(peer_recv(t, got, sizeof(got)), -1);
	assert_int_equal(tx_status(t, 2) & E1000_TXD_STAT_DD, 1);
	assert_int_equal(r(t, E1000_STATS + E1000_TSCTC), 1);
	assert_int_equal(r(t, E1000_STATS + E1000_GPTC), 3);
	/* An MSS of 0 is refused without sending anything. */
	put_txd(t, 3, ctx, 250 | (uint32_t)(E1000_TXD_CMD_DEXT |
			E1000_TXD_TUCMD_TSE | E1000_TXD_TUCMD_TCP |
			E1000_TXD_TUCMD_IP) << 24, 54 << 8);
	put_txd(t, 4, TX_BUF, data_d(sizeof(f), E1000_TXD_CMD_TSE |
				     E1000_TXD_CMD_EOP | E1000_TXD_CMD_RS),
		E1000_TXD_POPTS_TXSM << 8);
	w(t, E1000_TDT, 5);
	e1000_poll(t->e);
	assert_int_equal(peer_recv(t, got, sizeof(got)), -1);
	assert_int_equal(tx_status(t, 4) & E1000_TXD_STAT_DD, 1);
	assert_int_equal(r(t, E1000_TDH), 5);
}

static void test_tx_vlan_insert(void **state)
{
	struct t *t = *state;
	uint8_t f[64], got[100];

	tx_init(t, 8);
	w(t, E1000_CTRL, r(t, E1000_CTRL) | E1000_CTRL_VME);
	make_frame(f, peer_mac, sizeof(f));
	memcpy(ram(t, TX_BUF, sizeof(f)), f, sizeof(f));
	put_txd(t, 0, TX_BUF, legacy(sizeof(f), E1000_TXD_CMD_EOP |
				     E1000_TXD_CMD_VLE), 0x0123U << 16);
	w(t, E1000_TDT, 1);
	e1000_poll(t->e);
	assert_int_equal(peer_recv(t, got, sizeof(got)), sizeof(f) + 4);
	assert_memory_equal(got, f, 12);
	assert_memory_equal(got + 12, "\x81\x00\x01\x23", 4);
	assert_memory_equal(got + 16, f + 12, sizeof(f) - 12);
}

static void test_tx_malformed(void **state)
{
	struct t *t = *state;
	uint8_t got[100];

	tx_init(t, 8);
	/* Buffer outside RAM: dropped, but the descriptor completes. */
	put_txd(t, 0, RAM - 8, legacy(64, E1000_TXD_CMD_EOP |
				      E1000_TXD_CMD_RS), 0);
	/* Unknown extended descriptor type. */
	put_txd(t, 1, TX_BUF, 64 | 7 << 20 | (uint32_t)(E1000_TXD_CMD_DEXT |
		E1000_TXD_CMD_EOP | E1000_TXD_CMD_RS) << 24, 0);
	w(t, E1000_TDT, 2);
	e1000_poll(t->e);
	assert_int_equal(peer_recv(t, got, sizeof(got)), -1);
	assert_int_equal(tx_status(t, 0) & E1000_TXD_STAT_DD, 1);
	assert_int_equal(tx_status(t, 1) & E1000_TXD_STAT_DD, 1);
	assert_int_equal(r(t, E1000_TDH), 2);
	assert_int_equal(t->e->cnt.tx_errors, 2);
	/* Tail beyond the ring: nothing happens. */
	w(t, E1000_TDT, 9);
	e1000_poll(t->e);
	assert_int_equal(r(t, E1000_TDH), 2);
	/* A chain that never ends: every descriptor without EOP. */
	for (unsigned i = 0; i < 8; i++)
		put_txd(t, i, TX_BUF, legacy(1000, 0), 0);
	w(t, E1000_TDT, 1);
	e1000_poll(t->e);
	assert_int_equal(r(t, E1000_TDH), 2);
	assert_int_equal(peer_recv(t, got, sizeof(got)), -1);
	/* Huge ring at the top of RAM: descriptors outside RAM. */
	w(t, E1000_TDLEN, 0xFFFFF);
	w(t, E1000_TDBAL, RAM - 0x1000);
	w(t, E1000_TDH, 300);
	w(t, E1000_TDT, 100);
	e1000_poll(t->e);
	assert_int_equal(r(t, E1000_TDH), 300);
	/* A packet over 64 KiB: dropped at EOP. */
	w(t, E1000_TDLEN, 128 * 16);
	w(t, E1000_TDBAL, TX_RING);
	w(t, E1000_TDH, 0);
	for (unsigned i = 0; i < 127; i++)
		put_txd(t, i, TX_BUF, data_d(0x10000, i == 126 ?
			E1000_TXD_CMD_EOP | E1000_TXD_CMD_RS : 0), 0);
	w(t, E1000_TDT, 127);
	e1000_poll(t->e);
	assert_int_equal(r(t, E1000_TDH), 127);
	assert_int_equal(peer_recv(t, got, sizeof(got)), -1);
	assert_int_equal(tx_status(t, 126) & E1000_TXD_STAT_DD, 1);
}

static void test_tx_eagain(void **state)
{
	struct t *t = *state;
	uint8_t f[1000], got[1000];
	int sent = 0, n = 64;

	/* A small socket buffer the transmit path can fill. */
	setsockopt(t->nd->fd, SOL_SOCKET, SO_SNDBUF, &(int){ 4096 },
		   sizeof(int));
	tx_init(t, n);
	make_frame(f, peer_mac, sizeof(f));
	memcpy(ram(t, TX_BUF, sizeof(f)), f, sizeof(f));
	for (int i = 0; i < n; i++)
		put_txd(t, i, TX_BUF, legacy(sizeof(f), E1000_TXD_CMD_EOP |
					     E1000_TXD_CMD_RS), 0);
	w(t, E1000_TDT, n - 1);
	e1000_poll(t->e);
	assert_true(t->e->tx_waiting);
	assert_true(r(t, E1000_TDH) < (uint32_t)n - 1);
	/* Not yet sent: not written back. */
	assert_int_equal(tx_status(t, r(t, E1000_TDH)) & E1000_TXD_STAT_DD, 0);
	while (peer_recv(t, got, sizeof(got)) == sizeof(f))
		sent++;
	/* The backend drained: EPOLLOUT would call this. */
	t->nd->client->tx_ready(t->nd->client_opaque);
	for (int i = 0; i < 100 && r(t, E1000_TDH) != (uint32_t)n - 1; i++) {
		while (peer_recv(t, got, sizeof(got)) == sizeof(f))
			sent++;
		t->nd->client->tx_ready(t->nd->client_opaque);
	}
	while (peer_recv(t, got, sizeof(got)) == sizeof(f))
		sent++;
	assert_int_equal(r(t, E1000_TDH), n - 1);
	assert_int_equal(sent, n - 1);	/* nothing lost, nothing twice */
}

static void test_pause(void **state)
{
	struct t *t = *state;
	uint8_t f[80], got[100];

	tx_init(t, 8);
	rx_init(t, 8, 0);
	make_frame(f, peer_mac, sizeof(f));
	memcpy(ram(t, TX_BUF, sizeof(f)), f, sizeof(f));
	put_txd(t, 0, TX_BUF, legacy(sizeof(f), E1000_TXD_CMD_EOP), 0);
	t->e->dev.ops->pause(&t->e->dev);
	w(t, E1000_TDT, 1);
	make_frame(f, our_mac, sizeof(f));
	peer_send(t, f, sizeof(f));
	e1000_poll(t->e);
	assert_int_equal(peer_recv(t, got, sizeof(got)), -1);
	assert_int_equal(r(t, E1000_RDH), 0);
	t->e->dev.ops->resume(&t->e->dev);
	e1000_poll(t->e);
	assert_int_equal(peer_recv(t, got, sizeof(got)), sizeof(f));
	assert_int_equal(r(t, E1000_RDH), 1);
}

/* The real thing: kicks and backend callbacks on the event loop thread. */
static void test_event_loop(void **state)
{
	struct t *t = *state;
	uint8_t f[200], got[300];
	int i;

	tx_init(t, 8);
	rx_init(t, 8, E1000_RCTL_SECRC);
	assert_int_equal(evloop_start(&t->vm.loop), 0);
	make_frame(f, peer_mac, sizeof(f));
	memcpy(ram(t, TX_BUF, sizeof(f)), f, sizeof(f));
	put_txd(t, 0, TX_BUF, legacy(sizeof(f), E1000_TXD_CMD_EOP |
				     E1000_TXD_CMD_RS), 0);
	w(t, E1000_TDT, 1);	/* from this (vCPU) thread: a kick */
	assert_true(wait_readable(t->peer, 2000));
	assert_int_equal(peer_recv(t, got, sizeof(got)), sizeof(f));
	make_frame(f, our_mac, sizeof(f));
	peer_send(t, f, sizeof(f));
	for (i = 0; i < 2000 && r(t, E1000_RDH) != 1; i++)
		usleep(1000);
	assert_int_equal(r(t, E1000_RDH), 1);
	assert_int_equal(rx_desc(t, 0).len, sizeof(f));
	for (i = 0; i < 2000 && !(tx_status(t, 0) & E1000_TXD_STAT_DD); i++)
		usleep(1000);
	assert_int_equal(tx_status(t, 0) & E1000_TXD_STAT_DD, 1);
	evloop_stop(&t->vm.loop);
}

/* With a 12-byte vnet header on the backend (a tap). */
static void test_vnet_header(void **state)
{
	struct t *t = *state;
	uint8_t f[100], got[100];

	rx_init(t, 8, E1000_RCTL_SECRC);
	tx_init(t, 8);
	make_frame(f, our_mac, sizeof(f));
	peer_send(t, f, sizeof(f));
	e1000_poll(t->e);
	assert_int_equal(rx_desc(t, 0).len, sizeof(f));
	assert_memory_equal(ram(t, RX_BUF, sizeof(f)), f, sizeof(f));
	memcpy(ram(t, TX_BUF, sizeof(f)), f, sizeof(f));
	put_txd(t, 0, TX_BUF, legacy(sizeof(f), E1000_TXD_CMD_EOP), 0);
	w(t, E1000_TDT, 1);
	e1000_poll(t->e);
	assert_int_equal(peer_recv(t, got, sizeof(got)), sizeof(f));
	assert_memory_equal(got, f, sizeof(f));
	/* RARP announce on the backend, from the current MAC. */
	assert_int_equal(e1000_announce(t->e), 0);
	assert_int_equal(peer_recv(t, got, sizeof(got)), 60);
	assert_memory_equal(got + 6, our_mac, 6);
	assert_int_equal(e1000_be16(got + 12), 0x8035);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_crc_vector),
		T(test_rx_basic),
		T(test_rx_filter),
		T(test_rx_backpressure),
		T(test_rx_split_lpe),
		T(test_rx_vlan),
		T(test_rx_short_and_disabled),
		T(test_rx_malformed),
		T(test_tx_two_desc),
		T(test_tx_csum_offload),
		T(test_tso),
		T(test_tx_vlan_insert),
		T(test_tx_malformed),
		T(test_tx_eagain),
		T(test_pause),
		T(test_event_loop),
		cmocka_unit_test_setup_teardown(test_vnet_header, setup_vnet,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
