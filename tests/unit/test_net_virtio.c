// SPDX-License-Identifier: MIT
/*
 * virtio-net: feature rules, headers, filter, control queue (pure helpers),
 * and the whole device over a SOCK_SEQPACKET backend driven by a test
 * driver: transmit, receive (mergeable, spilled, parked), link, announce,
 * STANDBY, broken rings, state round trip, options.
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <linux/if_tun.h>
#include <linux/virtio_net.h>

#include "test_virtio_driver.h"

#include "net/net.h"
#include "pci/opts.h"
#include "pci/pci.h"
#include "virtio/virtio_net.h"

#define F(b)		(1ULL << (b))
#define CAPS		(TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6 | TUN_F_TSO_ECN)
#define BASIC		(F(VIRTIO_F_VERSION_1) | F(VIRTIO_NET_F_MAC) |	\
			 F(VIRTIO_NET_F_STATUS) | F(VIRTIO_NET_F_CTRL_VQ) |	\
			 F(VIRTIO_NET_F_CTRL_RX) | F(VIRTIO_FEAT_EVENT_IDX) | \
			 F(VIRTIO_FEAT_INDIRECT_DESC))
#define RXBUF		0x200000
#define TXBUF		0x300000

static const uint8_t MAC[6] = { 0x52, 0x54, 0x00, 0xaa, 0xbb, 0x01 };
static const uint8_t MAC2[6] = { 0x52, 0x54, 0x00, 0xaa, 0xbb, 0x02 };

struct nic {
	struct virtio_net *n;
	struct drv d;
	int peer;
};

struct fixture {
	struct vm vm;
	struct nic a, b;
	struct { unsigned vec; } msgs[256];
	unsigned nmsgs;
	unsigned standby_calls;
	bool standby_last;
};

static struct fixture *g;

static void record_msi(struct msix *m, unsigned vec, uint64_t addr,
		       uint32_t data)
{
	if (g->nmsgs < ARRAY_SIZE(g->msgs))
		g->msgs[g->nmsgs++].vec = vec;
}

static unsigned count_vec(unsigned vec)
{
	unsigned c = 0;

	for (unsigned i = 0; i < g->nmsgs && i < ARRAY_SIZE(g->msgs); i++)
		c += g->msgs[i].vec == vec;
	return c;
}

static void nic_create(struct fixture *f, struct nic *c, const char *id,
		       const uint8_t *mac, bool failover, uint64_t brk)
{
	struct netdev *nd;
	int sv[2];
	char ndid[32];

	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0,
				    sv), 0);
	snprintf(ndid, sizeof(ndid), "nd-%s", id);
	assert_int_equal(netdev_fd_open(&f->vm, ndid, sv[0], VNET_HDR_LEN, CAPS,
					&nd), 0);
	assert_int_equal(netdev_register(nd), 0);
	assert_int_equal(virtio_net_new(&f->vm, id, nd, mac, failover, &c->n), 0);
	assert_int_equal(pci_host_add(f->vm.pci, &c->n->vp.pci, -1), 0);
	vm_add_device(&f->vm, &c->n->dev);
	c->peer = sv[1];
	c->d = (struct drv){ .vp = &c->n->vp, .gm = &f->vm.mem, .brk = brk };
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	g = f;
	drv_vm_init(&f->vm);
	assert_int_equal(pci_host_create(&f->vm), 0);
	nic_create(f, &f->a, "net0", MAC, true, 0x100000);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	close(f->a.peer);
	if (f->b.n)
		close(f->b.peer);
	drv_vm_destroy(&f->vm);
	pci_machine_destroy(&f->vm);
	free(f);
	return 0;
}

/* DRIVER_OK with rx/tx/ctrl on vectors 1/2/3, config on 0. */
static void nic_up(struct nic *c, uint64_t features)
{
	struct drv *d = &c->d;

	assert_true(drv_negotiate(d, features) & VIRTIO_STAT_FEATURES_OK);
	drv_w(d, VIRTIO_PCI_COMMON_MSIX, 0, 2);
	drv_setup_queue(d, VNET_RXQ, 64, 1);
	drv_setup_queue(d, VNET_TXQ, 64, 2);
	drv_setup_queue(d, VNET_CTRLQ, 16, 3);
	drv_enable_msix(d, 4, record_msi);
	drv_driver_ok(d);
}

static void post_rx(struct nic *c, unsigned nbufs, uint32_t len)
{
	for (unsigned i = 0; i < nbufs; i++) {
		struct drv_seg s = { RXBUF + 0x10000 * (c->d.q[0].avail_idx % 64),
				     len, true };

		drv_add(&c->d, VNET_RXQ, &s, 1);
	}
}

static void peer_send(struct nic *c, const uint8_t *dst, size_t frame_len,
		      uint8_t fill)
{
	uint8_t buf[VNET_HDR_LEN + 9000] = { 0 };

	assert_true(frame_len <= 9000);
	memset(buf + VNET_HDR_LEN, fill, frame_len);
	memcpy(buf + VNET_HDR_LEN, dst, 6);
	memcpy(buf + VNET_HDR_LEN + 6, MAC2, 6);
	assert_int_equal(send(c->peer, buf, VNET_HDR_LEN + frame_len, 0),
			 (ssize_t)(VNET_HDR_LEN + frame_len));
}

static ssize_t peer_recv(struct nic *c, void *buf, size_t len)
{
	return recv(c->peer, buf, len, MSG_DONTWAIT);
}

/* Send a control command; returns the ack byte. */
static uint8_t ctrl(struct nic *c, uint8_t cls, uint8_t cmd, const void *data,
		    size_t len)
{
	uint64_t out = TXBUF + 0x80000, ack = out + 0x1000;
	uint8_t hdr[2] = { cls, cmd }, a = 0xee;
	struct drv_seg s[3] = {
		{ out, 2, false }, { out + 0x100, len, false }, { ack, 1, true },
	};
	uint32_t id, l;

	gm_write(c->d.gm, out, hdr, 2);
	gm_write(c->d.gm, ack, &a, 1);
	if (len) {
		gm_write(c->d.gm, out + 0x100, data, len);
		drv_add(&c->d, VNET_CTRLQ, s, 3);
	} else {
		s[1] = s[2];
		drv_add(&c->d, VNET_CTRLQ, s, 2);
	}
	virtio_pci_run_queue(&c->n->vp, VNET_CTRLQ);
	assert_true(drv_used(&c->d, VNET_CTRLQ, &id, &l));
	assert_int_equal(l, 1);
	gm_read(c->d.gm, ack, &a, 1);
	return a;
}

static uint16_t cfg_status(struct nic *c)
{
	return drv_r(&c->d, VIRTIO_PCI_DEVCFG_OFF + 6, 2);
}

/* ---- pure helpers ---- */

static void test_offered_features(void **state)
{
	uint64_t f;

	f = vnet_offered_features(true, true, CAPS);
	assert_true(f & F(VIRTIO_NET_F_STANDBY));
	assert_true(f & F(VIRTIO_NET_F_MAC));
	assert_true(f & F(VIRTIO_NET_F_GUEST_TSO4));
	assert_true(f & F(VIRTIO_NET_F_GUEST_ECN));
	assert_true(f & F(VIRTIO_NET_F_MRG_RXBUF));
	assert_true(f & F(VIRTIO_NET_F_GUEST_ANNOUNCE));
	assert_true(vnet_features_valid(f));
	/* STANDBY needs both a MAC and failover=on. */
	assert_false(vnet_offered_features(true, false, CAPS) &
		     F(VIRTIO_NET_F_STANDBY));
	assert_false(vnet_offered_features(false, true, CAPS) &
		     F(VIRTIO_NET_F_STANDBY));
	assert_false(vnet_offered_features(false, true, CAPS) &
		     F(VIRTIO_NET_F_MAC));
	/* Guest offloads only as far as the backend goes. */
	f = vnet_offered_features(true, false, 0);
	assert_false(f & (F(VIRTIO_NET_F_GUEST_CSUM) |
			  F(VIRTIO_NET_F_GUEST_TSO4)));
	assert_true(f & F(VIRTIO_NET_F_CSUM));
	f = vnet_offered_features(true, false, TUN_F_CSUM);
	assert_true(f & F(VIRTIO_NET_F_GUEST_CSUM));
	assert_false(f & (F(VIRTIO_NET_F_GUEST_TSO4) | F(VIRTIO_NET_F_GUEST_ECN)));
}

static void test_feature_dependencies(void **state)
{
	assert_true(vnet_features_valid(0));
	assert_false(vnet_features_valid(F(VIRTIO_NET_F_STANDBY)));
	assert_true(vnet_features_valid(F(VIRTIO_NET_F_STANDBY) |
					F(VIRTIO_NET_F_MAC)));
	assert_false(vnet_features_valid(F(VIRTIO_NET_F_GUEST_TSO4)));
	assert_false(vnet_features_valid(F(VIRTIO_NET_F_HOST_TSO6)));
	assert_false(vnet_features_valid(F(VIRTIO_NET_F_CTRL_RX)));
	assert_false(vnet_features_valid(F(VIRTIO_NET_F_GUEST_ANNOUNCE)));
	assert_false(vnet_features_valid(F(VIRTIO_NET_F_GUEST_ECN) |
					 F(VIRTIO_NET_F_GUEST_CSUM)));
	assert_true(vnet_features_valid(F(VIRTIO_NET_F_HOST_ECN) |
					F(VIRTIO_NET_F_HOST_TSO4) |
					F(VIRTIO_NET_F_CSUM)));
	assert_int_equal(vnet_guest_offloads(F(VIRTIO_NET_F_GUEST_TSO4)), 0);
	assert_int_equal(vnet_guest_offloads(F(VIRTIO_NET_F_GUEST_CSUM) |
					     F(VIRTIO_NET_F_GUEST_TSO6)),
			 TUN_F_CSUM | TUN_F_TSO6);
}

static void test_tx_header_check(void **state)
{
	uint64_t all = F(VIRTIO_NET_F_CSUM) | F(VIRTIO_NET_F_HOST_TSO4) |
		       F(VIRTIO_NET_F_HOST_TSO6) | F(VIRTIO_NET_F_HOST_ECN);
	struct vnet_hdr h = { 0 };

	assert_int_equal(vnet_hdr_check_tx(&h, 0, 60), 0);
	h.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
	h.csum_start = 34;
	h.csum_offset = 6;
	assert_int_equal(vnet_hdr_check_tx(&h, 0, 60), -EINVAL);
	assert_int_equal(vnet_hdr_check_tx(&h, all, 60), 0);
	assert_int_equal(vnet_hdr_check_tx(&h, all, 41), -EINVAL);
	h.gso_type = VIRTIO_NET_HDR_GSO_TCPV4;
	assert_int_equal(vnet_hdr_check_tx(&h, all, 60), -EINVAL);	/* no size */
	h.gso_size = 1448;
	assert_int_equal(vnet_hdr_check_tx(&h, all, 60), 0);
	assert_int_equal(vnet_hdr_check_tx(&h, F(VIRTIO_NET_F_CSUM), 60), -EINVAL);
	h.gso_type = VIRTIO_NET_HDR_GSO_TCPV6 | VIRTIO_NET_HDR_GSO_ECN;
	assert_int_equal(vnet_hdr_check_tx(&h, all, 60), 0);
	assert_int_equal(vnet_hdr_check_tx(&h, all & ~F(VIRTIO_NET_F_HOST_ECN),
					   60), -EINVAL);
	h.gso_type = VIRTIO_NET_HDR_GSO_UDP;
	assert_int_equal(vnet_hdr_check_tx(&h, all, 60), -EINVAL);
	h.gso_type = VIRTIO_NET_HDR_GSO_TCPV4;
	h.flags = 0;
	assert_int_equal(vnet_hdr_check_tx(&h, all, 60), -EINVAL);
	h = (struct vnet_hdr){ .flags = 0x80 };
	assert_int_equal(vnet_hdr_check_tx(&h, all, 60), -EINVAL);
	h = (struct vnet_hdr){ .gso_type = VIRTIO_NET_HDR_GSO_ECN };
	assert_int_equal(vnet_hdr_check_tx(&h, all, 60), -EINVAL);
}

static void test_rx_header_fix(void **state)
{
	struct vnet_hdr h = {
		.flags = VIRTIO_NET_HDR_F_DATA_VALID | 0x40,
		.gso_type = VIRTIO_NET_HDR_GSO_TCPV4, .gso_size = 1448,
		.num_buffers = 0xdead,
	};
	struct vnet_hdr k = h;

	vnet_hdr_fix_rx(&h, 0, 1);
	assert_int_equal(h.flags, 0);
	assert_int_equal(h.gso_type, 0);
	assert_int_equal(h.gso_size, 0);
	assert_int_equal(h.num_buffers, 1);
	vnet_hdr_fix_rx(&k, F(VIRTIO_NET_F_GUEST_CSUM) |
			F(VIRTIO_NET_F_GUEST_TSO4), 3);
	assert_int_equal(k.flags, VIRTIO_NET_HDR_F_DATA_VALID);
	assert_int_equal(k.gso_type, VIRTIO_NET_HDR_GSO_TCPV4);
	assert_int_equal(k.gso_size, 1448);
	assert_int_equal(k.num_buffers, 3);
	assert_int_equal(sizeof(struct vnet_hdr), VNET_HDR_LEN);
}

static uint8_t cmd_buf(struct virtio_net *n, uint8_t cls, uint8_t cmd,
		       const void *data, size_t len)
{
	uint8_t buf[2048];
	struct iovec iov[2] = { { buf, 2 + len / 2 }, { buf + 2 + len / 2,
							len - len / 2 } };

	buf[0] = cls;
	buf[1] = cmd;
	if (len)
		memcpy(buf + 2, data, len);
	return vnet_ctrl_cmd(n, cls, cmd, iov, 2, 2, len);
}

static void test_filter_and_ctrl_cmds(void **state)
{
	struct virtio_net *n = calloc(1, sizeof(*n));
	static const uint8_t bc[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	static const uint8_t mc1[6] = { 0x01, 0x00, 0x5e, 0, 0, 1 };
	static const uint8_t mc2[6] = { 0x33, 0x33, 0, 0, 0, 1 };
	static const uint8_t other[6] = { 0x02, 1, 2, 3, 4, 5 };
	uint8_t on = 0, table[4 + 12 + 4 + 6], big[4 + 65 * 6 + 4];

	assert_non_null(n);
	memcpy(n->mac, MAC, 6);
	vnet_filter_reset(n);
	assert_true(vnet_rx_accept(n, other));		/* promisc by default */
	/* Without CTRL_RX negotiated, RX commands fail. */
	assert_int_equal(cmd_buf(n, VIRTIO_NET_CTRL_RX,
				 VIRTIO_NET_CTRL_RX_PROMISC, &on, 1),
			 VIRTIO_NET_ERR);
	n->vp.features = F(VIRTIO_NET_F_CTRL_VQ) | F(VIRTIO_NET_F_CTRL_RX) |
			 F(VIRTIO_NET_F_CTRL_MAC_ADDR) |
			 F(VIRTIO_NET_F_GUEST_ANNOUNCE);
	assert_int_equal(cmd_buf(n, VIRTIO_NET_CTRL_RX,
				 VIRTIO_NET_CTRL_RX_PROMISC, &on, 1),
			 VIRTIO_NET_OK);
	assert_false(vnet_rx_accept(n, other));
	assert_true(vnet_rx_accept(n, MAC));
	assert_true(vnet_rx_accept(n, bc));
	assert_false(vnet_rx_accept(n, mc1));
	/* Wrong payload size; commands needing CTRL_RX_EXTRA. */
	assert_int_equal(cmd_buf(n, VIRTIO_NET_CTRL_RX,
				 VIRTIO_NET_CTRL_RX_PROMISC, table, 2),
			 VIRTIO_NET_ERR);
	assert_int_equal(cmd_buf(n, VIRTIO_NET_CTRL_RX,
				 VIRTIO_NET_CTRL_RX_NOBCAST, &on, 1),
			 VIRTIO_NET_ERR);

	/* MAC table: 2 unicast (other, MAC2), 1 multicast (mc1). */
	le_write(table, 4, 2);
	memcpy(table + 4, other, 6);
	memcpy(table + 10, MAC2, 6);
	le_write(table + 16, 4, 1);
	memcpy(table + 20, mc1, 6);
	assert_int_equal(cmd_buf(n, VIRTIO_NET_CTRL_MAC,
				 VIRTIO_NET_CTRL_MAC_TABLE_SET, table,
				 sizeof(table)), VIRTIO_NET_OK);
	assert_true(vnet_rx_accept(n, other));
	assert_true(vnet_rx_accept(n, mc1));
	assert_false(vnet_rx_accept(n, mc2));
	on = 1;
	cmd_buf(n, VIRTIO_NET_CTRL_RX, VIRTIO_NET_CTRL_RX_ALLMULTI, &on, 1);
	assert_true(vnet_rx_accept(n, mc2));
	/* Lengths that do not add up are refused; the table is unchanged. */
	le_write(table + 16, 4, 2);
	assert_int_equal(cmd_buf(n, VIRTIO_NET_CTRL_MAC,
				 VIRTIO_NET_CTRL_MAC_TABLE_SET, table,
				 sizeof(table)), VIRTIO_NET_ERR);
	le_write(table, 4, 0xffffffff);
	assert_int_equal(cmd_buf(n, VIRTIO_NET_CTRL_MAC,
				 VIRTIO_NET_CTRL_MAC_TABLE_SET, table,
				 sizeof(table)), VIRTIO_NET_ERR);
	assert_int_equal(cmd_buf(n, VIRTIO_NET_CTRL_MAC,
				 VIRTIO_NET_CTRL_MAC_TABLE_SET, table, 3),
			 VIRTIO_NET_ERR);
	assert_true(vnet_rx_accept(n, other));
	/* Too many unicast entries: overflow accepts all unicast. */
	memset(big, 0x02, sizeof(big));
	le_write(big, 4, 65);
	le_write(big + 4 + 65 * 6, 4, 0);
	assert_int_equal(cmd_buf(n, VIRTIO_NET_CTRL_MAC,
				 VIRTIO_NET_CTRL_MAC_TABLE_SET, big,
				 sizeof(big)), VIRTIO_NET_OK);
	assert_true(n->uc_overflow);
	assert_true(vnet_rx_accept(n, (uint8_t[6]){ 0x0a, 9, 9, 9, 9, 9 }));

	/* Address set: unicast only. */
	assert_int_equal(cmd_buf(n, VIRTIO_NET_CTRL_MAC,
				 VIRTIO_NET_CTRL_MAC_ADDR_SET, MAC2, 6),
			 VIRTIO_NET_OK);
	assert_memory_equal(n->mac, MAC2, 6);
	assert_int_equal(cmd_buf(n, VIRTIO_NET_CTRL_MAC,
				 VIRTIO_NET_CTRL_MAC_ADDR_SET, mc1, 6),
			 VIRTIO_NET_ERR);
	/* Announce ack clears the status bit; unknown classes fail. */
	n->status = VIRTIO_NET_S_LINK_UP | VIRTIO_NET_S_ANNOUNCE;
	assert_int_equal(cmd_buf(n, VIRTIO_NET_CTRL_ANNOUNCE,
				 VIRTIO_NET_CTRL_ANNOUNCE_ACK, NULL, 0),
			 VIRTIO_NET_OK);
	assert_int_equal(n->status, VIRTIO_NET_S_LINK_UP);
	assert_int_equal(cmd_buf(n, VIRTIO_NET_CTRL_VLAN, 0, NULL, 0),
			 VIRTIO_NET_ERR);
	assert_int_equal(cmd_buf(n, 200, 0, NULL, 0), VIRTIO_NET_ERR);
	free(n);
}

static void test_rarp(void **state)
{
	uint8_t fr[60];

	vnet_build_rarp(fr, MAC);
	assert_memory_equal(fr, "\xff\xff\xff\xff\xff\xff", 6);
	assert_memory_equal(fr + 6, MAC, 6);
	assert_int_equal(fr[12] << 8 | fr[13], 0x8035);
	assert_int_equal(fr[14 + 7], 3);
	assert_memory_equal(fr + 14 + 8, MAC, 6);
	assert_memory_equal(fr + 14 + 18, MAC, 6);
}

/* ---- the device ---- */

static void test_config_space(void **state)
{
	struct fixture *f = *state;
	struct nic *c = &f->a;
	uint8_t mac[6];

	for (int i = 0; i < 6; i++)
		mac[i] = drv_r(&c->d, VIRTIO_PCI_DEVCFG_OFF + i, 1);
	assert_memory_equal(mac, MAC, 6);
	assert_int_equal(cfg_status(c), VIRTIO_NET_S_LINK_UP);
	assert_int_equal(drv_r(&c->d, VIRTIO_PCI_DEVCFG_OFF + 8, 2), 1);
	drv_w(&c->d, VIRTIO_PCI_DEVCFG_OFF, 0xff, 1);	/* read-only */
	assert_int_equal(drv_r(&c->d, VIRTIO_PCI_DEVCFG_OFF, 1), MAC[0]);
	assert_int_equal(pci_cfg_read(&c->n->vp.pci, PCI_DEVICE_ID, 2), 0x1041);
	assert_int_equal(pci_cfg_read(&c->n->vp.pci, PCI_CLASS_DEVICE, 2), 0x0200);
}

static void test_tx(void **state)
{
	struct fixture *f = *state;
	struct nic *c = &f->a;
	uint8_t frame[60], got[200];
	struct vnet_hdr h = { 0 };
	struct drv_seg s[2] = { { TXBUF, 12, false }, { TXBUF + 64, 60, false } };
	uint32_t id, len;

	nic_up(c, BASIC);
	memset(frame, 0x5a, sizeof(frame));
	memcpy(frame, MAC2, 6);
	gm_write(c->d.gm, TXBUF, &h, 12);
	gm_write(c->d.gm, TXBUF + 64, frame, 60);
	drv_add(&c->d, VNET_TXQ, s, 2);
	f->nmsgs = 0;
	virtio_pci_run_queue(&c->n->vp, VNET_TXQ);
	assert_int_equal(peer_recv(c, got, sizeof(got)), 72);
	assert_memory_equal(got + 12, frame, 60);
	assert_true(drv_used(&c->d, VNET_TXQ, &id, &len));
	assert_int_equal(len, 0);
	assert_int_equal(count_vec(2), 1);
	assert_int_equal(c->n->tx_packets, 1);
	assert_int_equal(c->n->tx_bytes, 60);

	/* A header the features do not allow: dropped, chain returned. */
	h.gso_type = VIRTIO_NET_HDR_GSO_TCPV4;
	gm_write(c->d.gm, TXBUF, &h, 12);
	drv_add(&c->d, VNET_TXQ, s, 2);
	virtio_pci_run_queue(&c->n->vp, VNET_TXQ);
	assert_int_equal(peer_recv(c, got, sizeof(got)), -1);
	assert_true(drv_used(&c->d, VNET_TXQ, &id, &len));
	assert_int_equal(c->n->tx_dropped, 1);
}

static void test_tx_backend_full(void **state)
{
	struct fixture *f = *state;
	struct nic *c = &f->a;
	struct drv_seg s = { TXBUF, 12 + 1000, false };
	uint8_t got[2048];
	int sent = 0, used = 0, small = 4096;

	nic_up(c, BASIC);
	setsockopt(c->n->nd->fd, SOL_SOCKET, SO_SNDBUF, &small, sizeof(small));
	gm_write(c->d.gm, TXBUF, (uint8_t[12]){ 0 }, 12);
	for (int i = 0; i < 40; i++)
		drv_add(&c->d, VNET_TXQ, &s, 1);
	virtio_pci_run_queue(&c->n->vp, VNET_TXQ);
	/* The socket filled up: the rest waits, nothing is lost. */
	assert_true(c->n->tx_waiting);
	assert_true(c->n->nd->events & EPOLLOUT);
	while (drv_used(&c->d, VNET_TXQ, NULL, NULL))
		used++;
	assert_true(used > 0 && used < 40);
	virtio_pci_run_queue(&c->n->vp, VNET_TXQ);	/* a kick changes nothing */
	/* Room again: the backend's writable callback resumes. */
	for (int round = 0; round < 40 && sent < 40; round++) {
		while (peer_recv(c, got, sizeof(got)) == 12 + 1000)
			sent++;
		c->n->nd->client->tx_ready(c->n->nd->client_opaque);
	}
	assert_int_equal(sent, 40);
	while (drv_used(&c->d, VNET_TXQ, NULL, NULL))
		used++;
	assert_int_equal(used, 40);
	assert_false(c->n->tx_waiting);
	assert_int_equal(c->n->tx_dropped, 0);
}

static void test_rx_simple(void **state)
{
	struct fixture *f = *state;
	struct nic *c = &f->a;
	uint8_t got[200];
	struct vnet_hdr h;
	uint32_t id, len;

	nic_up(c, BASIC);
	post_rx(c, 4, 2048);
	virtio_pci_run_queue(&c->n->vp, VNET_RXQ);	/* starts polling */
	assert_true(c->n->rx_polling);
	peer_send(c, MAC, 100, 0x33);
	f->nmsgs = 0;
	virtio_pci_run_queue(&c->n->vp, VNET_RXQ);
	assert_true(drv_used(&c->d, VNET_RXQ, &id, &len));
	assert_int_equal(id, 0);
	assert_int_equal(len, 112);
	gm_read(c->d.gm, RXBUF, got, 112);
	memcpy(&h, got, 12);
	assert_int_equal(h.num_buffers, 1);
	assert_int_equal(h.flags, 0);
	assert_memory_equal(got + 12, MAC, 6);
	assert_int_equal(got + 111 - got, 111);
	assert_int_equal(got[111], 0x33);
	assert_int_equal(count_vec(1), 1);
	assert_false(drv_used(&c->d, VNET_RXQ, NULL, NULL));
	assert_int_equal(c->n->rx_packets, 1);
}

static void test_rx_mergeable(void **state)
{
	struct fixture *f = *state;
	struct nic *c = &f->a;
	uint8_t got[1536];
	struct vnet_hdr h;
	uint32_t id, len;

	nic_up(c, BASIC | F(VIRTIO_NET_F_MRG_RXBUF));
	post_rx(c, 8, 1536);
	peer_send(c, MAC, 4000, 0x44);
	virtio_pci_run_queue(&c->n->vp, VNET_RXQ);
	assert_true(drv_used(&c->d, VNET_RXQ, &id, &len));
	assert_int_equal(id, 0);
	assert_int_equal(len, 1536);
	gm_read(c->d.gm, RXBUF, &h, 12);
	assert_int_equal(h.num_buffers, 3);
	assert_true(drv_used(&c->d, VNET_RXQ, &id, &len));
	assert_int_equal(len, 1536);
	assert_true(drv_used(&c->d, VNET_RXQ, &id, &len));
	assert_int_equal(len, 4012 - 2 * 1536);
	gm_read(c->d.gm, RXBUF + 0x20000, got, len);
	assert_int_equal(got[len - 1], 0x44);
	assert_false(drv_used(&c->d, VNET_RXQ, NULL, NULL));
	/* The next frame uses the next free buffer (unused ones came back). */
	peer_send(c, MAC, 60, 0x45);
	virtio_pci_run_queue(&c->n->vp, VNET_RXQ);
	assert_true(drv_used(&c->d, VNET_RXQ, &id, &len));
	assert_int_equal(len, 72);
	gm_read(c->d.gm, RXBUF + 0x30000, got, 72);
	assert_int_equal(got[71], 0x45);
}

static void test_rx_waits_for_buffers(void **state)
{
	struct fixture *f = *state;
	struct nic *c = &f->a;
	uint8_t got[8];
	struct vnet_hdr h;
	uint32_t id, len;

	nic_up(c, BASIC | F(VIRTIO_NET_F_MRG_RXBUF));
	/* No buffers: nothing taken from the backend, polling stops. */
	peer_send(c, MAC, 100, 0x10);
	virtio_pci_run_queue(&c->n->vp, VNET_RXQ);
	assert_false(c->n->rx_polling);
	assert_false(drv_used(&c->d, VNET_RXQ, NULL, NULL));
	/* One small buffer for a big frame: parked, not lost. */
	peer_send(c, MAC, 3000, 0x11);
	post_rx(c, 1, 1536);
	virtio_pci_run_queue(&c->n->vp, VNET_RXQ);	/* the 100-byte one */
	assert_true(drv_used(&c->d, VNET_RXQ, &id, &len));
	assert_int_equal(len, 112);
	post_rx(c, 1, 1536);
	virtio_pci_run_queue(&c->n->vp, VNET_RXQ);	/* 3000 needs two */
	assert_false(drv_used(&c->d, VNET_RXQ, NULL, NULL));
	assert_int_equal(c->n->bounce_len, 3012);
	assert_false(c->n->rx_polling);
	post_rx(c, 1, 1536);
	virtio_pci_run_queue(&c->n->vp, VNET_RXQ);
	assert_true(drv_used(&c->d, VNET_RXQ, &id, &len));
	assert_int_equal(len, 1536);
	gm_read(c->d.gm, RXBUF + 0x10000, &h, 12);
	assert_int_equal(h.num_buffers, 2);
	gm_read(c->d.gm, RXBUF + 0x10000 + 12 + 12, got, 1);
	assert_int_equal(got[0], 0x11);
	assert_true(drv_used(&c->d, VNET_RXQ, &id, &len));
	assert_int_equal(len, 3012 - 1536);
	assert_int_equal(c->n->bounce_len, 0);
}

static void test_rx_without_mergeable_drops_giants(void **state)
{
	struct fixture *f = *state;
	struct nic *c = &f->a;
	uint32_t len;

	nic_up(c, BASIC);
	post_rx(c, 2, 1536);
	peer_send(c, MAC, 3000, 0x20);
	peer_send(c, MAC, 64, 0x21);
	virtio_pci_run_queue(&c->n->vp, VNET_RXQ);
	assert_int_equal(c->n->rx_dropped, 1);
	assert_true(drv_used(&c->d, VNET_RXQ, NULL, &len));
	assert_int_equal(len, 76);
}

static void test_rx_filter(void **state)
{
	struct fixture *f = *state;
	struct nic *c = &f->a;
	static const uint8_t bc[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	uint8_t off = 0;
	uint32_t len;

	nic_up(c, BASIC);
	assert_int_equal(ctrl(c, VIRTIO_NET_CTRL_RX, VIRTIO_NET_CTRL_RX_PROMISC,
			      &off, 1), VIRTIO_NET_OK);
	post_rx(c, 4, 2048);
	peer_send(c, MAC2, 60, 1);	/* not for us */
	peer_send(c, bc, 60, 2);
	virtio_pci_run_queue(&c->n->vp, VNET_RXQ);
	assert_int_equal(c->n->rx_filtered, 1);
	assert_true(drv_used(&c->d, VNET_RXQ, NULL, &len));
	assert_false(drv_used(&c->d, VNET_RXQ, NULL, NULL));
	/* Unknown control command: ERR, device fine. */
	assert_int_equal(ctrl(c, 99, 0, NULL, 0), VIRTIO_NET_ERR);
	assert_false(drv_status(&c->d) & VIRTIO_STAT_NEEDS_RESET);
}

static void test_link(void **state)
{
	struct fixture *f = *state;
	struct nic *c = &f->a;
	struct drv_seg s[1] = { { TXBUF, 72, false } };
	uint8_t got[100];

	nic_up(c, BASIC);
	post_rx(c, 4, 2048);
	f->nmsgs = 0;
	assert_int_equal(virtio_net_set_link(&f->vm, "net0", false), 0);
	assert_int_equal(cfg_status(c), 0);
	assert_int_equal(count_vec(0), 1);		/* config interrupt */
	assert_int_equal(virtio_net_set_link(&f->vm, "net0", false), 0);
	assert_int_equal(count_vec(0), 1);		/* no change, no irq */
	/* Down: transmit is dropped, receive is drained and dropped. */
	gm_write(c->d.gm, TXBUF, (uint8_t[12]){ 0 }, 12);
	drv_add(&c->d, VNET_TXQ, s, 1);
	virtio_pci_run_queue(&c->n->vp, VNET_TXQ);
	assert_int_equal(peer_recv(c, got, sizeof(got)), -1);
	assert_true(drv_used(&c->d, VNET_TXQ, NULL, NULL));
	peer_send(c, MAC, 60, 1);
	virtio_pci_run_queue(&c->n->vp, VNET_RXQ);
	assert_false(drv_used(&c->d, VNET_RXQ, NULL, NULL));
	assert_int_equal(c->n->rx_dropped, 1);
	/* Up again, through the device op the control socket uses. */
	assert_int_equal(c->n->dev.ops->set_link(&c->n->dev, true), 0);
	assert_int_equal(cfg_status(c), VIRTIO_NET_S_LINK_UP);
	assert_int_equal(count_vec(0), 2);
	peer_send(c, MAC, 60, 1);
	virtio_pci_run_queue(&c->n->vp, VNET_RXQ);
	assert_true(drv_used(&c->d, VNET_RXQ, NULL, NULL));
	assert_int_equal(virtio_net_set_link(&f->vm, "nope", false), -ENOENT);
}

static void standby_cb(struct virtio_net *n, bool negotiated, void *opaque)
{
	struct fixture *f = opaque;

	f->standby_calls++;
	f->standby_last = negotiated;
}

static void test_standby(void **state)
{
	struct fixture *f = *state;
	struct nic *c = &f->a;

	assert_true(drv_device_features(&c->d) & F(VIRTIO_NET_F_STANDBY));
	assert_int_equal(virtio_net_set_standby_cb(&f->vm, "net0", standby_cb, f), 0);
	assert_int_equal(virtio_net_standby_negotiated(&f->vm, "net0"), 0);
	nic_up(c, BASIC | F(VIRTIO_NET_F_STANDBY));
	assert_int_equal(virtio_net_standby_negotiated(&f->vm, "net0"), 1);
	assert_int_equal(f->standby_calls, 1);
	assert_true(f->standby_last);
	nic_up(c, BASIC);
	assert_int_equal(virtio_net_standby_negotiated(&f->vm, "net0"), 0);
	assert_false(f->standby_last);
	assert_int_equal(virtio_net_standby_negotiated(&f->vm, "x"), -ENOENT);

	/* failover=off: not offered, so a driver cannot take it. */
	nic_create(f, &f->b, "net1", MAC2, false, 0x180000);
	assert_false(drv_device_features(&f->b.d) & F(VIRTIO_NET_F_STANDBY));
	drv_w(&f->b.d, VIRTIO_PCI_COMMON_STATUS, 0, 1);
	drv_write_features(&f->b.d, BASIC | F(VIRTIO_NET_F_STANDBY));
	drv_w(&f->b.d, VIRTIO_PCI_COMMON_STATUS, VIRTIO_STAT_FEATURES_OK, 1);
	assert_false(drv_status(&f->b.d) & VIRTIO_STAT_FEATURES_OK);
	assert_int_equal(virtio_net_standby_negotiated(&f->vm, "net1"), 0);
}

static void test_announce(void **state)
{
	struct fixture *f = *state;
	struct nic *c = &f->a;
	uint8_t got[100];

	nic_up(c, BASIC | F(VIRTIO_NET_F_GUEST_ANNOUNCE));
	f->nmsgs = 0;
	assert_int_equal(virtio_net_announce(&f->vm, "net0", false), 0);
	assert_int_equal(cfg_status(c), VIRTIO_NET_S_LINK_UP | VIRTIO_NET_S_ANNOUNCE);
	assert_int_equal(count_vec(0), 1);
	assert_int_equal(ctrl(c, VIRTIO_NET_CTRL_ANNOUNCE,
			      VIRTIO_NET_CTRL_ANNOUNCE_ACK, NULL, 0),
			 VIRTIO_NET_OK);
	assert_int_equal(cfg_status(c), VIRTIO_NET_S_LINK_UP);
	assert_int_equal(peer_recv(c, got, sizeof(got)), -1);
	/* A driver without GUEST_ANNOUNCE: fvmm sends a RARP itself. */
	nic_up(c, BASIC);
	assert_int_equal(virtio_net_announce(&f->vm, "net0", false), 0);
	assert_int_equal(peer_recv(c, got, sizeof(got)), 72);
	assert_int_equal(got[12 + 12] << 8 | got[12 + 13], 0x8035);
	assert_memory_equal(got + 12 + 6, MAC, 6);
	/* host: the RARP, even though the driver could announce itself. */
	nic_up(c, BASIC | F(VIRTIO_NET_F_GUEST_ANNOUNCE));
	assert_int_equal(virtio_net_announce(&f->vm, "net0", true), 0);
	assert_int_equal(cfg_status(c), VIRTIO_NET_S_LINK_UP);
	assert_int_equal(peer_recv(c, got, sizeof(got)), 72);
	assert_memory_equal(got + 12 + 6, MAC, 6);
}

static void test_broken_ring_isolated(void **state)
{
	struct fixture *f = *state;
	struct nic *a = &f->a, *b = &f->b;
	struct drv_seg bad = { TXBUF, 72, true };	/* writable in TX */
	struct drv_seg ok = { TXBUF, 72, false };
	uint8_t got[100];

	nic_create(f, b, "net1", MAC2, false, 0x180000);
	nic_up(a, BASIC);
	nic_up(b, BASIC);
	f->nmsgs = 0;
	drv_add(&a->d, VNET_TXQ, &bad, 1);
	virtio_pci_run_queue(&a->n->vp, VNET_TXQ);
	assert_true(drv_status(&a->d) & VIRTIO_STAT_NEEDS_RESET);
	assert_int_equal(count_vec(0), 1);
	/* a stays stopped; b carries on. */
	drv_add(&a->d, VNET_TXQ, &ok, 1);
	virtio_pci_run_queue(&a->n->vp, VNET_TXQ);
	assert_int_equal(peer_recv(a, got, sizeof(got)), -1);
	gm_write(b->d.gm, TXBUF, (uint8_t[12]){ 0 }, 12);
	drv_add(&b->d, VNET_TXQ, &ok, 1);
	virtio_pci_run_queue(&b->n->vp, VNET_TXQ);
	assert_int_equal(peer_recv(b, got, sizeof(got)), 72);
	/* Reset brings a back. */
	nic_up(a, BASIC);
	assert_false(drv_status(&a->d) & VIRTIO_STAT_NEEDS_RESET);
	drv_add(&a->d, VNET_TXQ, &ok, 1);
	virtio_pci_run_queue(&a->n->vp, VNET_TXQ);
	assert_int_equal(peer_recv(a, got, sizeof(got)), 72);
}

static void test_broken_rx_chain(void **state)
{
	struct fixture *f = *state;
	struct nic *c = &f->a;
	struct drv_seg s = { RXBUF, 8, true };	/* shorter than the header */

	nic_up(c, BASIC);
	drv_add(&c->d, VNET_RXQ, &s, 1);
	peer_send(c, MAC, 60, 1);
	virtio_pci_run_queue(&c->n->vp, VNET_RXQ);
	assert_true(drv_status(&c->d) & VIRTIO_STAT_NEEDS_RESET);
	assert_false(c->n->rx_polling);
}

static void test_state_roundtrip(void **state)
{
	struct fixture *f = *state;
	struct nic *a = &f->a, *b = &f->b;
	struct sbuf sa = { 0 }, sb = { 0 };
	struct sreader r;
	char err[200] = "";
	uint8_t off = 0, table[4 + 6 + 4] = { 1, 0, 0, 0, 2, 1, 2, 3, 4, 5 };

	nic_up(a, BASIC | F(VIRTIO_NET_F_STANDBY) | F(VIRTIO_NET_F_MRG_RXBUF));
	ctrl(a, VIRTIO_NET_CTRL_RX, VIRTIO_NET_CTRL_RX_PROMISC, &off, 1);
	ctrl(a, VIRTIO_NET_CTRL_MAC, VIRTIO_NET_CTRL_MAC_TABLE_SET, table,
	     sizeof(table));
	post_rx(a, 3, 2048);
	virtio_net_set_link(&f->vm, "net0", false);
	assert_int_equal(a->n->dev.ops->save(&a->n->dev, &sa), 0);

	/* Same model elsewhere (failover=on too): load, then compare. */
	nic_create(f, b, "net1", MAC2, true, 0x180000);
	r = (struct sreader){ .p = sa.data, .len = sa.len };
	assert_int_equal(b->n->dev.ops->load(&b->n->dev, &r, err, sizeof(err)), 0);
	assert_int_equal(r.off, sa.len);
	assert_int_equal(b->n->dev.ops->save(&b->n->dev, &sb), 0);
	assert_int_equal(sa.len, sb.len);
	assert_memory_equal(sa.data, sb.data, sa.len);
	assert_memory_equal(b->n->mac, MAC, 6);
	assert_false(b->n->link_up);
	assert_true(b->n->standby_negotiated);
	assert_int_equal(b->n->uc_count, 1);
	assert_true(virtio_pci_live(&b->n->vp));
	assert_int_equal(virtq_avail(virtio_pci_vq(&b->n->vp, VNET_RXQ)), 3);
	sbuf_free(&sb);

	/* A record with STANDBY negotiated cannot land on failover=off. */
	b->n->failover = false;
	r = (struct sreader){ .p = sa.data, .len = sa.len };
	assert_int_equal(b->n->dev.ops->load(&b->n->dev, &r, err, sizeof(err)),
			 -EINVAL);
	sbuf_free(&sa);
}

static void test_pause_resume(void **state)
{
	struct fixture *f = *state;
	struct nic *c = &f->a;

	nic_up(c, BASIC);
	post_rx(c, 2, 2048);
	virtio_pci_run_queue(&c->n->vp, VNET_RXQ);
	assert_true(c->n->rx_polling);
	c->n->dev.ops->pause(&c->n->dev);
	assert_false(c->n->rx_polling);
	peer_send(c, MAC, 60, 1);
	virtio_pci_run_queue(&c->n->vp, VNET_RXQ);
	assert_false(drv_used(&c->d, VNET_RXQ, NULL, NULL));
	c->n->dev.ops->resume(&c->n->dev);
	virtio_pci_run_queue(&c->n->vp, VNET_RXQ);	/* what the kick runs */
	assert_true(drv_used(&c->d, VNET_RXQ, NULL, NULL));
}

/* ---- options ---- */

static int try_device(struct fixture *f, const char *s)
{
	struct opts o;

	if (opts_parse(&o, "--device", s))
		return -EINVAL;
	return virtio_net_create(&f->vm, &o);
}

static void test_options(void **state)
{
	struct fixture *f = *state;
	struct netdev *nd;
	int sv[2];

	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv), 0);
	assert_int_equal(netdev_fd_open(&f->vm, "h0", sv[0], 12, 0, &nd), 0);
	assert_int_equal(netdev_register(nd), 0);
	close(sv[1]);

	assert_int_equal(try_device(f, "virtio-net-pci,id=x"), -EINVAL);
	assert_int_equal(try_device(f, "virtio-net-pci,netdev=h0"), -EINVAL);
	assert_int_equal(try_device(f, "virtio-net-pci,netdev=zz,id=x"), -EINVAL);
	assert_int_equal(try_device(f, "virtio-net-pci,netdev=h0,id=x,mac=01:00:00:00:00:01"),
			 -EINVAL);
	assert_int_equal(try_device(f, "virtio-net-pci,netdev=h0,id=x,mac=52:54:00:00:00"),
			 -EINVAL);
	assert_int_equal(try_device(f, "virtio-net-pci,netdev=h0,id=x,speed=10"),
			 -EINVAL);
	assert_int_equal(try_device(f, "virtio-net-pci,netdev=h0,id=x,failover=maybe"),
			 -EINVAL);
	assert_int_equal(try_device(f, "virtio-net-pci,netdev=h0,id=x,addr=0"),
			 -EINVAL);
	assert_int_equal(try_device(f, "virtio-net-pci,netdev=h0,id=x,addr=33"),
			 -EINVAL);
	assert_int_equal(try_device(f, "virtio-net-pci,netdev=h0,id=net0"), -EINVAL);
	assert_int_equal(try_device(f, "virtio-net-pci,netdev=nd-net0,id=y"), -EINVAL);
	assert_int_equal(try_device(f, "virtio-net-pci,netdev=h0,id=x,id=y"), -EINVAL);
	/* And one that is right, at a fixed slot. */
	assert_int_equal(try_device(f, "virtio-net-pci,netdev=h0,id=x,mac=52:54:00:01:02:03,failover=on,addr=0x9"),
			 0);
	assert_non_null(virtio_net_find(&f->vm, "x"));
	assert_int_equal(PCI_SLOT(virtio_net_find(&f->vm, "x")->vp.pci.devfn), 9);
	assert_true(virtio_net_find(&f->vm, "x")->failover);
	/* Its netdev is taken now; the slot too. */
	assert_int_equal(try_device(f, "virtio-net-pci,netdev=h0,id=z"), -EINVAL);
}

static void test_machine_init_errors(void **state)
{
	struct vm vm;

	drv_vm_init(&vm);
	vm.cfg.device_opts[0] = "e1000x,id=a";
	vm.cfg.nr_device_opts = 1;
	assert_int_equal(pci_machine_init(&vm), -EINVAL);
	pci_machine_destroy(&vm);
	drv_vm_destroy(&vm);

	drv_vm_init(&vm);
	vm.cfg.netdev_opts[0] = "user,id=a";
	vm.cfg.nr_netdev_opts = 1;
	assert_int_equal(pci_machine_init(&vm), -EINVAL);
	vm.cfg.netdev_opts[0] = "tap,ifname=x";
	assert_int_equal(netdev_init_all(&vm), -EINVAL);
	vm.cfg.netdev_opts[0] = "tap,id=a,colour=blue";
	assert_int_equal(netdev_init_all(&vm), -EINVAL);
	vm.cfg.netdev_opts[0] = "tap,id=a,script=/etc/qemu-ifup";
	assert_int_equal(netdev_init_all(&vm), -EINVAL);
	pci_machine_destroy(&vm);
	drv_vm_destroy(&vm);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_offered_features),
		cmocka_unit_test(test_feature_dependencies),
		cmocka_unit_test(test_tx_header_check),
		cmocka_unit_test(test_rx_header_fix),
		cmocka_unit_test(test_filter_and_ctrl_cmds),
		cmocka_unit_test(test_rarp),
		cmocka_unit_test(test_machine_init_errors),
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
		T(test_config_space),
		T(test_tx),
		T(test_tx_backend_full),
		T(test_rx_simple),
		T(test_rx_mergeable),
		T(test_rx_waits_for_buffers),
		T(test_rx_without_mergeable_drops_giants),
		T(test_rx_filter),
		T(test_link),
		T(test_standby),
		T(test_announce),
		T(test_broken_ring_isolated),
		T(test_broken_rx_chain),
		T(test_state_roundtrip),
		T(test_pause_resume),
		T(test_options),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
