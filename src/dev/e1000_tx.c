// SPDX-License-Identifier: MIT
/*
 * e1000 transmit: legacy descriptors, extended context + data descriptors,
 * checksum insertion and TCP segmentation (TSO) done in software.
 *
 * Runs on the event loop after the driver moved TDT.  The descriptors of
 * one packet are gathered into a host buffer; TDH moves past a packet and
 * its descriptors are written back only once it is sent (or dropped), so a
 * packet the backend cannot take yet (-EAGAIN) is simply gathered again
 * later and no half-sent packet ever lives outside guest memory.  Work per
 * pass is bounded by the ring size and E1000_TX_BUDGET frames (checked
 * between packets; one TSO packet is at most E1000_TSO_MAX_SEGS).
 */
#include <errno.h>
#include <string.h>
#include <sys/uio.h>

#include "core/guest_mem.h"
#include "core/log.h"
#include "core/util.h"
#include "core/vm.h"
#include "dev/e1000.h"
#include "net/net.h"

#define ETH_ALEN	6
#define ETH_HLEN	14
#define ETH_ZLEN	60
#define ETH_FCS_LEN	4
#define IPV4_MIN_HLEN	20
#define IPV6_HLEN	40
#define TCP_MIN_HLEN	20
#define UDP_HLEN	8
#define TCP_FIN		0x01
#define TCP_PSH		0x08

struct e1000_txd {
	uint64_t addr;
	uint32_t lower, upper;
};

/* The packet being gathered. */
struct e1000_txp {
	size_t len;
	bool started;		/* first data descriptor seen */
	bool bad;		/* dropped at EOP */
	bool legacy;
	bool tse;
	uint8_t popts;
	bool ic;		/* legacy checksum insertion */
	uint8_t css, cso;
	bool vle;
	uint16_t vlan;
};

/* ---- checksums ---- */

uint32_t e1000_csum_add(uint32_t sum, const uint8_t *p, size_t len)
{
	uint64_t s = sum;

	for (; len > 1; p += 2, len -= 2)
		s += p[0] << 8 | p[1];
	if (len)
		s += p[0] << 8;
	while (s >> 32)
		s = (s & 0xFFFFFFFF) + (s >> 32);
	return s;
}

uint16_t e1000_csum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xFFFF) + (sum >> 16);
	return sum;
}

static void e1000_put_be32(uint8_t *p, uint32_t v)
{
	e1000_put_be16(p, v >> 16);
	e1000_put_be16(p + 2, v);
}

static uint32_t e1000_be32(const uint8_t *p)
{
	return (uint32_t)e1000_be16(p) << 16 | e1000_be16(p + 2);
}

/*
 * Checksum [start, end] (end 0: to the end) into the 16 bits at off.  The
 * field's current value (the driver's pseudo-header seed) is part of the
 * sum, as the hardware does it.
 */
static void e1000_csum_insert(struct e1000 *e, uint8_t *buf, size_t len,
			      unsigned start, unsigned off, unsigned end,
			      bool udp)
{
	uint16_t c;

	if (!end || end >= len)
		end = len - 1;
	if (start >= len || off + 2 > len || end < start) {
		pr_guest("%s: checksum offsets %u/%u/%u outside a %zu-byte packet",
			 e->params.id, start, off, end, len);
		return;
	}
	c = ~e1000_csum_fold(e1000_csum_add(0, buf + start, end - start + 1));
	if (udp && !c)
		c = 0xFFFF;	/* 0 would mean "no checksum" */
	e1000_put_be16(buf + off, c);
}

/* ---- descriptors ---- */

static int e1000_tx_fetch(struct e1000 *e, uint32_t i, struct e1000_txd *d)
{
	uint64_t gpa = e1000_ring_base(e, true) + (uint64_t)i * E1000_DESC_SIZE;
	uint8_t raw[E1000_DESC_SIZE];

	if (gm_read(&e->dev.vm->mem, gpa, raw, sizeof(raw))) {
		pr_guest("%s: transmit descriptor at 0x%llx is not RAM",
			 e->params.id, (unsigned long long)gpa);
		return -EFAULT;
	}
	d->addr = le_read(raw, 8);
	d->lower = le_read(raw + 8, 4);
	d->upper = le_read(raw + 12, 4);
	return 0;
}

static uint8_t txd_cmd(const struct e1000_txd *d)
{
	return d->lower >> 24;
}

static bool txd_is_ctx(const struct e1000_txd *d)
{
	return (txd_cmd(d) & E1000_TXD_CMD_DEXT) &&
	       (d->lower >> 20 & 0xF) == E1000_TXD_DTYP_CTX;
}

static void e1000_tx_ctx_load(struct e1000 *e, const struct e1000_txd *d)
{
	struct e1000_tx_ctx *c = &e->tx_ctx;

	c->ipcss = d->addr;
	c->ipcso = d->addr >> 8;
	c->ipcse = d->addr >> 16;
	c->tucss = d->addr >> 32;
	c->tucso = d->addr >> 40;
	c->tucse = d->addr >> 48;
	c->paylen = d->lower & 0xFFFFF;
	c->tucmd = txd_cmd(d);
	c->hdr_len = d->upper >> 8;
	c->mss = d->upper >> 16;
}

/* Append a data or legacy descriptor's buffer to the packet. */
static void e1000_tx_gather(struct e1000 *e, struct e1000_txp *p,
			    const struct e1000_txd *d)
{
	uint8_t cmd = txd_cmd(d);
	bool dext = cmd & E1000_TXD_CMD_DEXT;
	size_t len = dext ? d->lower & 0xFFFFF : d->lower & 0xFFFF;

	if (!p->started) {	/* options come from the first descriptor */
		p->started = true;
		p->legacy = !dext;
		p->tse = dext && (cmd & E1000_TXD_CMD_TSE);
		p->popts = dext ? d->upper >> 8 : 0;
	}
	if (p->bad) {
		/* Already lost: only look for its end. */
	} else if (dext && (d->lower >> 20 & 0xF) != E1000_TXD_DTYP_DATA) {
		pr_guest("%s: transmit descriptor type %u", e->params.id,
			 d->lower >> 20 & 0xF);
		p->bad = true;
	} else if (len > E1000_TX_MAX - p->len) {
		pr_guest("%s: transmit packet over %u bytes dropped",
			 e->params.id, E1000_TX_MAX);
		p->bad = true;
	} else if (len && gm_read(&e->dev.vm->mem, d->addr,
				  e->tx_buf + p->len, len)) {
		pr_guest("%s: transmit buffer 0x%llx (+%zu) is not RAM",
			 e->params.id, (unsigned long long)d->addr, len);
		p->bad = true;
	} else {
		p->len += len;
	}
	if (cmd & E1000_TXD_CMD_EOP) {	/* and these from the last */
		p->ic = !dext && (cmd & E1000_TXD_CMD_IC);
		p->cso = d->lower >> 16;
		p->css = d->upper >> 8;
		p->vle = cmd & E1000_TXD_CMD_VLE;
		p->vlan = d->upper >> 16;
	}
}

/* DD into every descriptor of [start, end) that asked for it (RS). */
static unsigned e1000_tx_writeback(struct e1000 *e, uint32_t start,
				   uint32_t end, uint32_t n)
{
	struct guest_mem *gm = &e->dev.vm->mem;
	uint64_t base = e1000_ring_base(e, true);
	unsigned rs = 0;

	for (uint32_t j = start; j != end; j = (j + 1) % n) {
		uint64_t gpa = base + (uint64_t)j * E1000_DESC_SIZE;
		uint8_t *d = gm_ptr(gm, gpa, E1000_DESC_SIZE);
		uint8_t sta;

		if (!d || !(d[11] & E1000_TXD_CMD_RS))
			continue;
		sta = d[12] | E1000_TXD_STAT_DD;
		gm_write(gm, gpa + 12, &sta, 1);
		rs++;
	}
	return rs;
}

/* ---- sending ---- */

static void e1000_tx_stats(struct e1000 *e, const uint8_t *dst, size_t octets)
{
	static const size_t top[] = { 64, 127, 255, 511, 1023, 1522 };

	e1000_stat_add(e, E1000_GPTC, 1);
	e1000_stat_add(e, E1000_TPT, 1);
	e1000_stat_add(e, E1000_GOTCL, octets);
	e1000_stat_add(e, E1000_TOTL, octets);
	for (unsigned i = 0; i < ARRAY_SIZE(top); i++) {
		if (octets <= top[i]) {
			e1000_stat_add(e, E1000_PTC64 + 4 * i, 1);
			break;
		}
	}
	if (!memcmp(dst, "\xff\xff\xff\xff\xff\xff", ETH_ALEN))
		e1000_stat_add(e, E1000_BPTC, 1);
	else if (dst[0] & 1)
		e1000_stat_add(e, E1000_MPTC, 1);
}

/*
 * One frame: head (at least the Ethernet header) then tail, with the VLAN
 * tag inserted after the addresses when asked.  0 or -EAGAIN.
 */
static int e1000_tx_send(struct e1000 *e, const struct e1000_txp *p,
			 const uint8_t *head, size_t hlen,
			 const uint8_t *tail, size_t tlen)
{
	static const uint8_t zero_hdr[E1000_VNET_HDR_MAX];
	bool vlan = p->vle && (e->r[R_CTRL] & E1000_CTRL_VME);
	uint8_t tag[4];
	struct iovec iov[5];
	int cnt = 0;
	ssize_t r;

	if (e->nd->vnet_hdr_len)	/* no offloads: an all-zero header */
		iov[cnt++] = (struct iovec){ (void *)zero_hdr,
					     e->nd->vnet_hdr_len };
	if (vlan) {
		e1000_put_be16(tag, e->r[R_VET]);
		e1000_put_be16(tag + 2, p->vlan);
		iov[cnt++] = (struct iovec){ (void *)head, 2 * ETH_ALEN };
		iov[cnt++] = (struct iovec){ tag, sizeof(tag) };
		iov[cnt++] = (struct iovec){ (void *)(head + 2 * ETH_ALEN),
					     hlen - 2 * ETH_ALEN };
	} else {
		iov[cnt++] = (struct iovec){ (void *)head, hlen };
	}
	if (tlen)
		iov[cnt++] = (struct iovec){ (void *)tail, tlen };
	r = netdev_send(e->nd, iov, cnt);
	e->tx_frames++;
	if (r == -EAGAIN)
		return -EAGAIN;
	if (r < 0) {
		e->cnt.tx_errors++;
		return 0;
	}
	e1000_tx_stats(e, head, hlen + tlen + (vlan ? 4 : 0) + ETH_FCS_LEN);
	e->cnt.tx_packets++;
	e->cnt.tx_bytes += hlen + tlen + (vlan ? 4 : 0);
	return 0;
}

/* Header fields of TSO segment s (payload at off, plen bytes) in h. */
static void e1000_tso_fix(struct e1000 *e, const struct e1000_txp *p,
			  uint8_t *h, size_t off, size_t plen, bool last,
			  unsigned s)
{
	const struct e1000_tx_ctx *c = &e->tx_ctx;
	const uint8_t *pkt = e->tx_buf;
	unsigned hdr = c->hdr_len, l4len = hdr - c->tucss + plen;
	bool tcp = c->tucmd & E1000_TXD_TUCMD_TCP;
	unsigned ipcse = c->ipcse;
	uint32_t sum;

	if (c->tucmd & E1000_TXD_TUCMD_IP) {
		e1000_put_be16(h + c->ipcss + 2, hdr - c->ipcss + plen);
		e1000_put_be16(h + c->ipcss + 4,
			       e1000_be16(pkt + c->ipcss + 4) + s);
		if (!ipcse || ipcse < c->ipcss || ipcse >= hdr)
			ipcse = c->tucss - 1;
		if (p->popts & E1000_TXD_POPTS_IXSM) {
			e1000_put_be16(h + c->ipcso, 0);
			e1000_csum_insert(e, h, hdr, c->ipcss, c->ipcso, ipcse,
					  false);
		}
	} else {	/* IPv6: payload length */
		e1000_put_be16(h + c->ipcss + 4,
			       hdr - c->ipcss - IPV6_HLEN + plen);
	}
	if (tcp) {
		e1000_put_be32(h + c->tucss + 4,
			       e1000_be32(pkt + c->tucss + 4) + off);
		if (!last)
			h[c->tucss + 13] &= ~(TCP_FIN | TCP_PSH);
	} else {
		e1000_put_be16(h + c->tucss + 4, l4len);
	}
	if (!(p->popts & E1000_TXD_POPTS_TXSM))
		return;
	/* The driver seeded the pseudo header without length: add it. */
	sum = e1000_csum_add(l4len, h + c->tucss, hdr - c->tucss);
	sum = e1000_csum_add(sum, pkt + hdr + off, plen);
	sum = (uint16_t)~e1000_csum_fold(sum);
	e1000_put_be16(h + c->tucso, !tcp && !sum ? 0xFFFF : sum);
}

static bool e1000_tso_valid(struct e1000 *e, size_t len)
{
	const struct e1000_tx_ctx *c = &e->tx_ctx;
	unsigned ip = c->tucmd & E1000_TXD_TUCMD_IP ? IPV4_MIN_HLEN : IPV6_HLEN;
	unsigned l4 = c->tucmd & E1000_TXD_TUCMD_TCP ? TCP_MIN_HLEN : UDP_HLEN;
	size_t hdr = c->hdr_len;

	return hdr >= ETH_HLEN && hdr <= len && c->mss &&
	       c->ipcss + ip <= hdr && c->ipcss < c->tucss &&
	       c->tucss + l4 <= hdr && c->tucso + 2u <= hdr &&
	       c->ipcso + 2u <= hdr &&
	       (len - hdr + c->mss - 1) / c->mss <= E1000_TSO_MAX_SEGS;
}

/* Split the gathered packet into MSS-sized frames.  0 or -EAGAIN. */
static int e1000_tso(struct e1000 *e, const struct e1000_txp *p)
{
	const struct e1000_tx_ctx *c = &e->tx_ctx;
	size_t hdr = c->hdr_len, payload, off = 0;
	unsigned s = 0;
	int r;

	if (!e1000_tso_valid(e, p->len)) {
		pr_guest("%s: TSO context (hdr %u, mss %u, offsets %u/%u/%u) does not fit a %zu-byte packet",
			 e->params.id, c->hdr_len, c->mss, c->ipcss, c->tucss,
			 c->tucso, p->len);
		e1000_stat_add(e, E1000_TSCTFC, 1);
		e->cnt.tx_errors++;
		return 0;
	}
	e1000_stat_add(e, E1000_TSCTC, 1);
	payload = p->len - hdr;
	do {
		size_t plen = MIN((size_t)c->mss, payload - off);

		memcpy(e->tx_seg, e->tx_buf, hdr);
		e1000_tso_fix(e, p, e->tx_seg, off, plen, off + plen == payload,
			      s++);
		r = e1000_tx_send(e, p, e->tx_seg, hdr, e->tx_buf + hdr + off,
				  plen);
		if (r)
			return r;
		off += plen;
	} while (off < payload);
	return 0;
}

/* Offloads, then out.  0 when the packet is done with, or -EAGAIN. */
static int e1000_tx_packet(struct e1000 *e, struct e1000_txp *p)
{
	const struct e1000_tx_ctx *c = &e->tx_ctx;
	uint8_t *buf = e->tx_buf;

	if (p->bad || p->len < ETH_HLEN) {
		e->cnt.tx_errors++;
		return 0;
	}
	if (!(e->r[R_STATUS] & E1000_STATUS_LU)) {
		e->cnt.tx_dropped++;	/* no carrier */
		return 0;
	}
	if (p->tse)
		return e1000_tso(e, p);
	if (p->ic) {
		e1000_csum_insert(e, buf, p->len, p->css, p->cso, 0, false);
	} else if (!p->legacy) {
		if (p->popts & E1000_TXD_POPTS_IXSM)
			e1000_csum_insert(e, buf, p->len, c->ipcss, c->ipcso,
					  c->ipcse, false);
		if (p->popts & E1000_TXD_POPTS_TXSM)
			e1000_csum_insert(e, buf, p->len, c->tucss, c->tucso,
					  c->tucse,
					  !(c->tucmd & E1000_TXD_TUCMD_TCP));
	}
	if ((e->r[R_TCTL] & E1000_TCTL_PSP) && p->len < ETH_ZLEN) {
		memset(buf + p->len, 0, ETH_ZLEN - p->len);
		p->len = ETH_ZLEN;
	}
	return e1000_tx_send(e, p, buf, p->len, NULL, 0);
}

/* ---- the ring ---- */

static bool e1000_tx_live(struct e1000 *e)
{
	return e->started && !e->paused && !e->tx_waiting &&
	       (e->r[R_TCTL] & E1000_TCTL_EN) && pci_bus_master(&e->pci);
}

void e1000_tx_run(struct e1000 *e)
{
	uint64_t frames0 = e->tx_frames;
	struct e1000_txp p = { 0 };
	uint32_t n, i, start;
	struct e1000_txd d;
	bool moved = false;
	unsigned rs = 0;

	if (!e1000_tx_live(e) || !e1000_ring_ok(e, true, &n))
		return;
	start = i = e->r[R_TDH];
	/* At most n - 1 descriptors lie between head and tail. */
	while (i != e->r[R_TDT]) {
		if (e1000_tx_fetch(e, i, &d))
			break;
		i = (i + 1) % n;
		if (txd_is_ctx(&d)) {
			e1000_tx_ctx_load(e, &d);
			continue;
		}
		e1000_tx_gather(e, &p, &d);
		if (!(txd_cmd(&d) & E1000_TXD_CMD_EOP))
			continue;
		if (e1000_tx_packet(e, &p) == -EAGAIN) {
			e->tx_waiting = true;	/* tx_ready brings us back */
			netdev_tx_wait(e->nd, true);
			break;
		}
		rs += e1000_tx_writeback(e, start, i, n);
		e->r[R_TDH] = start = i;
		moved = true;
		p = (struct e1000_txp){ 0 };
		/* Frames, not packets: one TSO packet may be thousands. */
		if (e->tx_frames - frames0 >= E1000_TX_BUDGET) {
			e1000_kick(e);	/* let the other fds in, then go on */
			break;
		}
	}
	if (!moved)
		return;
	e1000_raise(e, (rs ? E1000_ICR_TXDW : 0) |
		       (e->r[R_TDH] == e->r[R_TDT] ? E1000_ICR_TXQE : 0));
}
