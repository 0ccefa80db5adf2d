// SPDX-License-Identifier: MIT
/*
 * e1000 receive: destination filter, VLAN filter and stripping, legacy
 * receive descriptors, RXT0/RXDMT0.
 *
 * A frame is read from the backend into one bounce buffer, filtered there
 * (so a rejected frame never touches guest memory), then copied into as
 * many descriptors' buffers as it needs.  When the ring has no free
 * descriptor the frame waits in the bounce buffer and the backend is no
 * longer polled: backpressure, not loss, until the driver moves RDT.
 */
#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <sys/uio.h>

#include "core/guest_mem.h"
#include "core/log.h"
#include "core/util.h"
#include "core/vm.h"
#include "dev/e1000.h"
#include "net/net.h"

#define ETH_HLEN	14
#define ETH_ZLEN	60	/* shortest frame on the wire, without CRC */
#define ETH_FCS_LEN	4
#define ETH_MAX_LEN	1518	/* with CRC, without a VLAN tag */
#define VLAN_HLEN	4

/* ---- CRC (the FCS the 82540 leaves in the buffer unless SECRC) ---- */

static uint32_t crc_table[256];
static pthread_once_t crc_once = PTHREAD_ONCE_INIT;

static void crc_init(void)
{
	for (uint32_t i = 0; i < 256; i++) {
		uint32_t c = i;

		for (int k = 0; k < 8; k++)
			c = c & 1 ? 0xEDB88320 ^ (c >> 1) : c >> 1;
		crc_table[i] = c;
	}
}

uint32_t e1000_crc32(const uint8_t *p, size_t len)
{
	uint32_t c = ~0U;

	pthread_once(&crc_once, crc_init);
	while (len--)
		c = crc_table[(c ^ *p++) & 0xFF] ^ (c >> 8);
	return ~c;
}

/* ---- filter ---- */

static bool e1000_ra_match(struct e1000 *e, const uint8_t *dst)
{
	for (unsigned i = 0; i < E1000_RA_ENTRIES; i++) {
		uint32_t ral = e->ra[2 * i], rah = e->ra[2 * i + 1];

		/* ASEL 0: match the destination address. */
		if (!(rah & E1000_RAH_AV) || (rah & E1000_RAH_ASEL_MASK))
			continue;
		if (le_read(dst, 4) == ral && le_read(dst + 4, 2) ==
					      (rah & 0xFFFF))
			return true;
	}
	return false;
}

/* 12 bits of the destination, chosen by RCTL.MO, index the MTA. */
static bool e1000_mta_match(struct e1000 *e, const uint8_t *dst)
{
	static const unsigned shift[4] = { 4, 3, 2, 0 };
	unsigned mo = (e->r[R_RCTL] & E1000_RCTL_MO_MASK) >>
		      E1000_RCTL_MO_SHIFT;
	unsigned hash = ((dst[4] >> shift[mo]) |
			 (dst[5] << (8 - shift[mo]))) & 0xFFF;

	return e->mta[hash >> 5] >> (hash & 31) & 1;
}

bool e1000_rx_accept(struct e1000 *e, const uint8_t *frame, size_t len)
{
	static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	uint32_t rctl = e->r[R_RCTL];

	if (len < ETH_HLEN)
		return false;
	if (!(frame[0] & 1))
		return (rctl & E1000_RCTL_UPE) || e1000_ra_match(e, frame);
	if ((rctl & E1000_RCTL_BAM) && !memcmp(frame, bcast, 6))
		return true;
	if (rctl & E1000_RCTL_MPE)
		return true;
	return e1000_ra_match(e, frame) || e1000_mta_match(e, frame);
}

static bool e1000_vlan_allowed(struct e1000 *e, uint16_t tci)
{
	unsigned vid = tci & 0xFFF;

	return e->vfta[vid >> 5] >> (vid & 31) & 1;
}

/* ---- backend reads ---- */

void e1000_rx_poll(struct e1000 *e, bool on)
{
	if (e->rx_polling == on)
		return;
	e->rx_polling = on;
	netdev_rx_enable(e->nd, on);
}

void e1000_rx_reset(struct e1000 *e)
{
	if (e->rx_len)
		e->cnt.rx_dropped++;
	e->rx_len = 0;
	e->rx_off = 0;
	if (e->rx_blocked)
		e1000_kick(e);	/* the new ring may have room */
}

/* One frame into rx_buf: its length, 0 dropped, -EAGAIN (or error) empty. */
static ssize_t e1000_rx_read(struct e1000 *e)
{
	uint8_t hdr[E1000_VNET_HDR_MAX];
	unsigned hl = e->nd->vnet_hdr_len;
	struct iovec iov[2] = {
		{ hdr, hl }, { e->rx_buf, E1000_RX_MAX + 1 },
	};
	ssize_t len = netdev_recv(e->nd, hl ? iov : iov + 1, hl ? 2 : 1);

	if (len < 0)
		return len;
	len -= hl;
	if (len < ETH_HLEN || len > E1000_RX_MAX) {
		e1000_stat_add(e, len < ETH_HLEN ? E1000_RUC : E1000_ROC, 1);
		e->cnt.rx_dropped++;
		return 0;
	}
	return len;
}

/* Receiver off, link down or no DMA: frames are lost as on the wire. */
static void e1000_rx_drain(struct e1000 *e)
{
	for (unsigned i = 0; i < E1000_RX_BUDGET; i++) {
		ssize_t len = e1000_rx_read(e);

		if (len < 0)
			break;
		if (len)
			e->cnt.rx_dropped++;
	}
	e1000_rx_poll(e, true);
}

/* ---- frame preparation ---- */

static unsigned e1000_size_bucket(size_t octets)
{
	static const size_t top[] = { 64, 127, 255, 511, 1023, 1522 };

	for (unsigned i = 0; i < ARRAY_SIZE(top); i++)
		if (octets <= top[i])
			return i;
	return ARRAY_SIZE(top);
}

static void e1000_rx_stats(struct e1000 *e, const uint8_t *dst, size_t octets)
{
	unsigned b = e1000_size_bucket(octets);

	e1000_stat_add(e, E1000_GPRC, 1);
	e1000_stat_add(e, E1000_TPR, 1);
	e1000_stat_add(e, E1000_GORCL, octets);
	e1000_stat_add(e, E1000_TORL, octets);
	if (b < 6)
		e1000_stat_add(e, E1000_PRC64 + 4 * b, 1);
	if (!memcmp(dst, "\xff\xff\xff\xff\xff\xff", 6))
		e1000_stat_add(e, E1000_BPRC, 1);
	else if (dst[0] & 1)
		e1000_stat_add(e, E1000_MPRC, 1);
}

/*
 * Packet checksum of the descriptor: ones' complement of the 16-bit sum
 * from RXCSUM.PCSS to the end (Linux's e1000 does not use it).
 */
static uint16_t e1000_rx_csum(struct e1000 *e, size_t len)
{
	size_t start = e->r[R_RXCSUM] & E1000_RXCSUM_PCSS_MASK;

	if (start >= len)
		return 0;
	return ~e1000_csum_fold(e1000_csum_add(0, e->rx_buf + start,
					       len - start));
}

/*
 * Filter the frame in rx_buf and shape it as the descriptors will hold it:
 * VLAN tag stripped into the special field, padded to the minimum, CRC
 * appended.  Sets rx_len; false when the frame is dropped.
 */
static bool e1000_rx_prepare(struct e1000 *e, size_t len)
{
	uint8_t *f = e->rx_buf;
	uint32_t rctl = e->r[R_RCTL];
	bool tagged = len >= ETH_HLEN + VLAN_HLEN &&
		      e1000_be16(f + 12) == (e->r[R_VET] & 0xFFFF);
	size_t max = rctl & E1000_RCTL_LPE ? E1000_RX_MAX :
		     ETH_MAX_LEN - ETH_FCS_LEN + (tagged ? VLAN_HLEN : 0);
	uint16_t tci = tagged ? e1000_be16(f + 14) : 0;

	if (len > max) {
		e1000_stat_add(e, E1000_ROC, 1);
		e->cnt.rx_dropped++;
		return false;
	}
	if (!e1000_rx_accept(e, f, len) ||
	    (tagged && (rctl & E1000_RCTL_VFE) && !e1000_vlan_allowed(e, tci))) {
		e->cnt.rx_filtered++;
		return false;
	}
	e1000_rx_stats(e, f, MAX(len, (size_t)ETH_ZLEN) + ETH_FCS_LEN);
	e->rx_status = 0;
	e->rx_special = 0;
	if (tagged && (e->r[R_CTRL] & E1000_CTRL_VME)) {
		memmove(f + 12, f + 16, len - 16);
		len -= VLAN_HLEN;
		e->rx_status = E1000_RXD_STAT_VP;
		e->rx_special = tci;
	}
	if (len < ETH_ZLEN) {	/* tap hands over unpadded frames */
		memset(f + len, 0, ETH_ZLEN - len);
		len = ETH_ZLEN;
	}
	e->rx_csum = e1000_rx_csum(e, len);
	if (!(rctl & E1000_RCTL_SECRC)) {
		le_write(f + len, 4, e1000_crc32(f, len));
		len += ETH_FCS_LEN;
	}
	e->rx_len = len;
	e->rx_off = 0;
	return true;
}

/* ---- descriptors ---- */

static size_t e1000_rx_bufsize(struct e1000 *e)
{
	static const uint16_t sz[2][4] = {
		{ 2048, 1024, 512, 256 }, { 2048, 16384, 8192, 4096 },
	};
	uint32_t rctl = e->r[R_RCTL];

	return sz[!!(rctl & E1000_RCTL_BSEX)]
		 [(rctl & E1000_RCTL_BSIZE_MASK) >> E1000_RCTL_BSIZE_SHIFT];
}

static uint32_t e1000_rx_free(struct e1000 *e, uint32_t n)
{
	return (e->r[R_RDT] + n - e->r[R_RDH]) % n;
}

/* Fill one descriptor with the next part of the pending frame. */
static int e1000_rx_desc(struct e1000 *e, uint64_t dgpa, size_t bufsize)
{
	struct guest_mem *gm = &e->dev.vm->mem;
	uint8_t *d = gm_ptr_w(gm, dgpa, E1000_DESC_SIZE);
	size_t chunk = MIN(bufsize, e->rx_len - e->rx_off);
	uint8_t status = E1000_RXD_STAT_DD | E1000_RXD_STAT_IXSM | e->rx_status;
	uint8_t errors = 0;
	uint64_t buf;

	if (!d) {
		pr_guest("%s: receive descriptor at 0x%llx is not RAM",
			 e->params.id, (unsigned long long)dgpa);
		return -EFAULT;
	}
	buf = le_read(d, 8);	/* once: the guest may change it meanwhile */
	if (gm_write(gm, buf, e->rx_buf + e->rx_off, chunk)) {
		/* A buffer outside RAM: the rest of the frame is lost. */
		pr_guest("%s: receive buffer 0x%llx (+%zu) is not RAM",
			 e->params.id, (unsigned long long)buf, chunk);
		errors = E1000_RXD_ERR_RXE;
		chunk = e->rx_len - e->rx_off;
		e->cnt.rx_dropped++;
	}
	e->rx_off += chunk;
	if (e->rx_off == e->rx_len)
		status |= E1000_RXD_STAT_EOP;
	le_write(d + 8, 2, errors ? 0 : chunk);
	le_write(d + 10, 2, status & E1000_RXD_STAT_EOP ? e->rx_csum : 0);
	d[13] = errors;
	le_write(d + 14, 2, e->rx_special);
	/* Status with DD last: the driver owns the descriptor from then. */
	__atomic_store_n(&d[12], status, __ATOMIC_RELEASE);
	return 0;
}

/*
 * Spread the pending frame over free descriptors.  1 when it is all
 * delivered, 0 when the ring ran out first, -EFAULT for a ring outside
 * RAM.  *wrote counts descriptors handed back.
 */
static int e1000_rx_deliver(struct e1000 *e, uint32_t n, unsigned *wrote)
{
	uint64_t base = e1000_ring_base(e, false);
	size_t bufsize = e1000_rx_bufsize(e);

	while (e->rx_off < e->rx_len) {
		if (!e1000_rx_free(e, n))
			return 0;
		if (e1000_rx_desc(e, base + (uint64_t)e->r[R_RDH] *
				      E1000_DESC_SIZE, bufsize))
			return -EFAULT;
		e->r[R_RDH] = (e->r[R_RDH] + 1) % n;
		(*wrote)++;
	}
	e->cnt.rx_packets++;
	e->cnt.rx_bytes += e->rx_len;
	e->rx_len = 0;
	e->rx_off = 0;
	return 1;
}

/* No descriptor for the next frame: stop reading the backend. */
static void e1000_rx_block(struct e1000 *e)
{
	if (!e->rx_blocked)
		e1000_stat_add(e, E1000_RNBC, 1);
	e->rx_blocked = true;
	e1000_rx_poll(e, false);
}

static bool e1000_rx_enabled(struct e1000 *e)
{
	return (e->r[R_RCTL] & E1000_RCTL_EN) &&
	       (e->r[R_STATUS] & E1000_STATUS_LU) && pci_bus_master(&e->pci);
}

static void e1000_rx_interrupt(struct e1000 *e, uint32_t n)
{
	unsigned rdmts = (e->r[R_RCTL] & E1000_RCTL_RDMTS_MASK) >>
			 E1000_RCTL_RDMTS_SHIFT;
	uint32_t cause = E1000_ICR_RXT0;

	/* Free descriptors down to 1/2, 1/4 or 1/8 of the ring. */
	if (e1000_rx_free(e, n) <= n >> (MIN(rdmts, 2U) + 1))
		cause |= E1000_ICR_RXDMT0;
	e1000_raise(e, cause);
}

/* Read (unless a frame waits) and deliver one frame: 1 go on, 0 stop. */
static int e1000_rx_one(struct e1000 *e, uint32_t n, unsigned *wrote)
{
	ssize_t len;
	int r;

	if (!e->rx_len) {
		if (!e1000_rx_free(e, n)) {
			e1000_rx_block(e);
			return 0;
		}
		len = e1000_rx_read(e);
		if (len < 0) {
			e1000_rx_poll(e, true);	/* empty: its fd wakes us */
			return 0;
		}
		if (!len || !e1000_rx_prepare(e, len))
			return 1;
	}
	r = e1000_rx_deliver(e, n, wrote);
	if (r > 0)
		return 1;
	if (r < 0)
		e1000_rx_reset(e);	/* unusable ring: the frame is lost */
	e1000_rx_block(e);
	return 0;
}

void e1000_rx_run(struct e1000 *e)
{
	unsigned wrote = 0, i;
	uint32_t n;

	if (!e->started || e->paused) {
		e1000_rx_poll(e, false);
		return;
	}
	e->rx_blocked = false;
	if (!e1000_rx_enabled(e)) {
		e1000_rx_reset(e);
		e1000_rx_drain(e);
		return;
	}
	if (!e1000_ring_ok(e, false, &n)) {
		e1000_rx_block(e);
		return;
	}
	for (i = 0; i < E1000_RX_BUDGET; i++)
		if (!e1000_rx_one(e, n, &wrote))
			break;
	if (i == E1000_RX_BUDGET)
		e1000_rx_poll(e, true);	/* more may wait: come back */
	if (wrote)
		e1000_rx_interrupt(e, n);
}
