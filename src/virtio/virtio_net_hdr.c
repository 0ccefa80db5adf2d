// SPDX-License-Identifier: MIT
/*
 * virtio-net pieces without I/O: feature rules, header checks, the
 * receive filter and control queue commands.  All unit-tested.
 */
#include <errno.h>
#include <string.h>
#include <linux/if_tun.h>
#include <linux/virtio_net.h>

#include "core/util.h"
#include "virtio/virtio_net.h"
#include "virtio/virtq.h"

#define F(b)	(1ULL << (b))

/* ---- features ---- */

uint64_t vnet_offered_features(bool has_mac, bool failover,
			       unsigned offload_caps)
{
	uint64_t f = F(VIRTIO_NET_F_STATUS) | F(VIRTIO_NET_F_MRG_RXBUF) |
		     F(VIRTIO_NET_F_CTRL_VQ) | F(VIRTIO_NET_F_CTRL_RX) |
		     F(VIRTIO_NET_F_GUEST_ANNOUNCE) |
		     /* The tap takes partial checksums and GSO from us. */
		     F(VIRTIO_NET_F_CSUM) | F(VIRTIO_NET_F_HOST_TSO4) |
		     F(VIRTIO_NET_F_HOST_TSO6) | F(VIRTIO_NET_F_HOST_ECN);

	if (has_mac)
		f |= F(VIRTIO_NET_F_MAC) | F(VIRTIO_NET_F_CTRL_MAC_ADDR);
	/* Only what the backend can hand us may be offered to the guest. */
	if (offload_caps & TUN_F_CSUM) {
		f |= F(VIRTIO_NET_F_GUEST_CSUM);
		if (offload_caps & TUN_F_TSO4)
			f |= F(VIRTIO_NET_F_GUEST_TSO4);
		if (offload_caps & TUN_F_TSO6)
			f |= F(VIRTIO_NET_F_GUEST_TSO6);
		if ((offload_caps & TUN_F_TSO_ECN) &&
		    (offload_caps & (TUN_F_TSO4 | TUN_F_TSO6)))
			f |= F(VIRTIO_NET_F_GUEST_ECN);
	}
	/* STANDBY pairs by MAC: meaningless without one (virtio 5.1.3.1). */
	if (failover && has_mac)
		f |= F(VIRTIO_NET_F_STANDBY);
	return f;
}

static bool needs(uint64_t f, unsigned bit, uint64_t any_of)
{
	return !(f & F(bit)) || (f & any_of);
}

bool vnet_features_valid(uint64_t f)
{
	return needs(f, VIRTIO_NET_F_GUEST_TSO4, F(VIRTIO_NET_F_GUEST_CSUM)) &&
	       needs(f, VIRTIO_NET_F_GUEST_TSO6, F(VIRTIO_NET_F_GUEST_CSUM)) &&
	       needs(f, VIRTIO_NET_F_GUEST_ECN, F(VIRTIO_NET_F_GUEST_TSO4) |
						F(VIRTIO_NET_F_GUEST_TSO6)) &&
	       needs(f, VIRTIO_NET_F_HOST_TSO4, F(VIRTIO_NET_F_CSUM)) &&
	       needs(f, VIRTIO_NET_F_HOST_TSO6, F(VIRTIO_NET_F_CSUM)) &&
	       needs(f, VIRTIO_NET_F_HOST_ECN, F(VIRTIO_NET_F_HOST_TSO4) |
					       F(VIRTIO_NET_F_HOST_TSO6)) &&
	       needs(f, VIRTIO_NET_F_CTRL_RX, F(VIRTIO_NET_F_CTRL_VQ)) &&
	       needs(f, VIRTIO_NET_F_CTRL_MAC_ADDR, F(VIRTIO_NET_F_CTRL_VQ)) &&
	       needs(f, VIRTIO_NET_F_GUEST_ANNOUNCE, F(VIRTIO_NET_F_CTRL_VQ)) &&
	       needs(f, VIRTIO_NET_F_STANDBY, F(VIRTIO_NET_F_MAC));
}

unsigned vnet_guest_offloads(uint64_t f)
{
	unsigned t = 0;

	if (!(f & F(VIRTIO_NET_F_GUEST_CSUM)))
		return 0;
	t |= TUN_F_CSUM;
	if (f & F(VIRTIO_NET_F_GUEST_TSO4))
		t |= TUN_F_TSO4;
	if (f & F(VIRTIO_NET_F_GUEST_TSO6))
		t |= TUN_F_TSO6;
	if (f & F(VIRTIO_NET_F_GUEST_ECN))
		t |= TUN_F_TSO_ECN;
	return t;
}

/* ---- headers ---- */

int vnet_hdr_check_tx(const struct vnet_hdr *h, uint64_t f, size_t frame_len)
{
	uint8_t gso = h->gso_type & ~VIRTIO_NET_HDR_GSO_ECN;

	if (h->flags & ~VIRTIO_NET_HDR_F_NEEDS_CSUM)
		return -EINVAL;
	if (h->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) {
		if (!(f & F(VIRTIO_NET_F_CSUM)))
			return -EINVAL;
		if ((size_t)h->csum_start + h->csum_offset + 2 > frame_len)
			return -EINVAL;
	}
	if (h->gso_type & VIRTIO_NET_HDR_GSO_ECN &&
	    !(f & F(VIRTIO_NET_F_HOST_ECN)))
		return -EINVAL;
	switch (gso) {
	case VIRTIO_NET_HDR_GSO_NONE:
		return (h->gso_type & VIRTIO_NET_HDR_GSO_ECN) ? -EINVAL : 0;
	case VIRTIO_NET_HDR_GSO_TCPV4:
		if (!(f & F(VIRTIO_NET_F_HOST_TSO4)))
			return -EINVAL;
		break;
	case VIRTIO_NET_HDR_GSO_TCPV6:
		if (!(f & F(VIRTIO_NET_F_HOST_TSO6)))
			return -EINVAL;
		break;
	default:
		return -EINVAL;	/* UFO and others are never offered */
	}
	/* Segmentation needs a size and a partial checksum to fill in. */
	if (!h->gso_size || !(h->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM))
		return -EINVAL;
	return 0;
}

void vnet_hdr_fix_rx(struct vnet_hdr *h, uint64_t f, uint16_t num_buffers)
{
	/* virtio 5.1.6.4.1: no GUEST_CSUM means flags 0, full checksums. */
	if (!(f & F(VIRTIO_NET_F_GUEST_CSUM)))
		h->flags = 0;
	h->flags &= VIRTIO_NET_HDR_F_NEEDS_CSUM | VIRTIO_NET_HDR_F_DATA_VALID;
	if (!(f & (F(VIRTIO_NET_F_GUEST_TSO4) | F(VIRTIO_NET_F_GUEST_TSO6)))) {
		h->gso_type = VIRTIO_NET_HDR_GSO_NONE;
		h->gso_size = 0;
	}
	/* Always present in 1.x; 1 unless MRG_RXBUF spread the frame. */
	h->num_buffers = num_buffers;
}

/* ---- receive filter ---- */

static bool mac_in(const uint8_t (*table)[6], unsigned n, const uint8_t *mac)
{
	for (unsigned i = 0; i < n; i++)
		if (!memcmp(table[i], mac, 6))
			return true;
	return false;
}

bool vnet_rx_accept(const struct virtio_net *n, const uint8_t dst[6])
{
	static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

	if (n->promisc || !memcmp(dst, bcast, 6))
		return true;
	if (dst[0] & 1)
		return n->allmulti || n->mc_overflow ||
		       mac_in(n->mac_table + n->uc_count, n->mc_count, dst);
	return !memcmp(dst, n->mac, 6) || n->uc_overflow ||
	       mac_in(n->mac_table, n->uc_count, dst);
}

void vnet_filter_reset(struct virtio_net *n)
{
	/* Receive everything until the driver says otherwise. */
	n->promisc = true;
	n->allmulti = false;
	n->uc_overflow = n->mc_overflow = false;
	n->uc_count = n->mc_count = 0;
	memset(n->mac_table, 0, sizeof(n->mac_table));
}

/* ---- control queue (virtio 5.1.6.5) ---- */

static bool vnet_has(const struct virtio_net *n, unsigned bit)
{
	return n->vp.features & F(bit);
}

static uint8_t vnet_ctrl_rx(struct virtio_net *n, uint8_t cmd,
			    const struct iovec *iov, unsigned cnt, size_t off,
			    size_t len)
{
	uint8_t on;

	if (!vnet_has(n, VIRTIO_NET_F_CTRL_RX) || len != 1 ||
	    iov_to_buf(iov, cnt, off, &on, 1) != 1)
		return VIRTIO_NET_ERR;
	switch (cmd) {
	case VIRTIO_NET_CTRL_RX_PROMISC:
		n->promisc = on;
		return VIRTIO_NET_OK;
	case VIRTIO_NET_CTRL_RX_ALLMULTI:
		n->allmulti = on;
		return VIRTIO_NET_OK;
	}
	return VIRTIO_NET_ERR;	/* the rest needs CTRL_RX_EXTRA */
}

/* One table: le32 entries, then entries * 6 bytes.  Advances *off. */
static int vnet_read_table(const struct iovec *iov, unsigned cnt,
			   size_t *off, size_t end, uint8_t (*dst)[6],
			   unsigned room, unsigned *count, bool *overflow)
{
	uint8_t le[4];
	uint32_t entries;

	if (end - *off < 4 || iov_to_buf(iov, cnt, *off, le, 4) != 4)
		return -1;
	entries = le_read(le, 4);
	*off += 4;
	if (entries > (end - *off) / 6)
		return -1;
	*overflow = entries > room;
	*count = *overflow ? 0 : entries;
	if (*count && iov_to_buf(iov, cnt, *off, dst, 6 * *count) != 6 * *count)
		return -1;
	*off += 6 * (size_t)entries;
	return 0;
}

static uint8_t vnet_ctrl_mac(struct virtio_net *n, uint8_t cmd,
			     const struct iovec *iov, unsigned cnt, size_t off,
			     size_t len)
{
	uint8_t table[VNET_MAC_TABLE][6], mac[6];
	unsigned uc, mc;
	bool uc_of, mc_of;
	size_t end = off + len;

	if (cmd == VIRTIO_NET_CTRL_MAC_ADDR_SET) {
		if (!vnet_has(n, VIRTIO_NET_F_CTRL_MAC_ADDR) || len != 6 ||
		    iov_to_buf(iov, cnt, off, mac, 6) != 6 || (mac[0] & 1))
			return VIRTIO_NET_ERR;
		memcpy(n->mac, mac, 6);
		return VIRTIO_NET_OK;
	}
	if (cmd != VIRTIO_NET_CTRL_MAC_TABLE_SET ||
	    !vnet_has(n, VIRTIO_NET_F_CTRL_RX))
		return VIRTIO_NET_ERR;
	/* Parse both tables before changing anything. */
	if (vnet_read_table(iov, cnt, &off, end, table, VNET_MAC_TABLE, &uc,
			    &uc_of) ||
	    vnet_read_table(iov, cnt, &off, end, table + uc,
			    VNET_MAC_TABLE - uc, &mc, &mc_of) ||
	    off != end)
		return VIRTIO_NET_ERR;
	memcpy(n->mac_table, table, sizeof(table[0]) * (uc + mc));
	n->uc_count = uc;
	n->mc_count = mc;
	n->uc_overflow = uc_of;
	n->mc_overflow = mc_of;
	return VIRTIO_NET_OK;
}

uint8_t vnet_ctrl_cmd(struct virtio_net *n, uint8_t cls, uint8_t cmd,
		      const struct iovec *iov, unsigned cnt, size_t off,
		      size_t len)
{
	switch (cls) {
	case VIRTIO_NET_CTRL_RX:
		return vnet_ctrl_rx(n, cmd, iov, cnt, off, len);
	case VIRTIO_NET_CTRL_MAC:
		return vnet_ctrl_mac(n, cmd, iov, cnt, off, len);
	case VIRTIO_NET_CTRL_ANNOUNCE:
		if (cmd != VIRTIO_NET_CTRL_ANNOUNCE_ACK ||
		    !vnet_has(n, VIRTIO_NET_F_GUEST_ANNOUNCE))
			return VIRTIO_NET_ERR;
		n->status &= ~VIRTIO_NET_S_ANNOUNCE;
		return VIRTIO_NET_OK;
	}
	return VIRTIO_NET_ERR;
}

/* ---- RARP, for announcing a NIC whose driver cannot ---- */

void vnet_build_rarp(uint8_t frame[60], const uint8_t mac[6])
{
	uint8_t *p = frame;

	memset(frame, 0, 60);
	memset(p, 0xff, 6);		/* broadcast */
	memcpy(p + 6, mac, 6);
	p[12] = 0x80;			/* ethertype RARP 0x8035 */
	p[13] = 0x35;
	p += 14;
	p[1] = 1;			/* hardware: ethernet */
	p[2] = 0x08;			/* protocol: IPv4 */
	p[4] = 6;			/* hardware address length */
	p[5] = 4;			/* protocol address length */
	p[7] = 3;			/* reverse request */
	memcpy(p + 8, mac, 6);		/* sender hw; sender ip 0 */
	memcpy(p + 18, mac, 6);		/* target hw; target ip 0 */
}
