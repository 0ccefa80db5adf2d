/* SPDX-License-Identifier: MIT */
#ifndef FVMM_VIRTIO_VIRTIO_NET_H
#define FVMM_VIRTIO_VIRTIO_NET_H

#include <stdbool.h>
#include <stdint.h>

#include "core/device.h"
#include "virtio/virtio_pci.h"

/*
 * virtio-net (virtio 1.x, 5.1) on the modern PCI transport, backed by a
 * --netdev (tap).  Queues: 0 receive, 1 transmit, 2 control.
 *
 * Both data queues are processed on the event loop: transmit when the
 * driver kicks, receive when the tap is readable, reading frames straight
 * into guest buffers (MRG_RXBUF spreads one frame over several).  Every
 * frame carries the 12-byte virtio 1.x header, which is also the tap's
 * vnet header, so offloads pass through unchanged.
 */

struct vm;
struct opts;
struct netdev;

#define VNET_RXQ		0
#define VNET_TXQ		1
#define VNET_CTRLQ		2
#define VNET_NR_QUEUES		3
#define VNET_QUEUE_SIZE		256
#define VNET_HDR_LEN		12
#define VNET_CONFIG_SIZE	10	/* mac, status, max_virtqueue_pairs */
#define VNET_MAC_TABLE		64	/* filter entries (unicast + multicast) */
#define VNET_RX_IOV		1024
#define VNET_TX_IOV		1024
#define VNET_MAX_FRAME		(65535 + 14 + 4)	/* GSO frame + eth + vlan */
#define VNET_SMALL_FRAME	(1500 + 14 + 4)

/* The virtio 1.x header (virtio_net_hdr_mrg_rxbuf layout). */
struct vnet_hdr {
	uint8_t flags;
	uint8_t gso_type;
	uint16_t hdr_len;
	uint16_t gso_size;
	uint16_t csum_start;
	uint16_t csum_offset;
	uint16_t num_buffers;
} __attribute__((packed));

struct virtio_net;
typedef void (*virtio_net_standby_fn)(struct virtio_net *n, bool negotiated,
				      void *opaque);

struct virtio_net {
	struct device dev;
	struct virtio_pci vp;
	struct netdev *nd;
	uint8_t perm_mac[6];		/* from mac= (or generated) */
	bool failover;
	int slot;

	/* Device state (under vp.lock). */
	uint8_t mac[6];			/* current, CTRL_MAC_ADDR may change it */
	uint16_t status;		/* VIRTIO_NET_S_* */
	bool link_up;
	bool standby_negotiated;
	bool promisc, allmulti;
	bool uc_overflow, mc_overflow;
	unsigned uc_count, mc_count;	/* entries in mac_table: uc then mc */
	uint8_t mac_table[VNET_MAC_TABLE][6];

	/* Receive: chains gathered for one frame, and the bounce buffer. */
	struct vq_elem rx_elems[VNET_QUEUE_SIZE];
	struct iovec rx_iov[VNET_RX_IOV];
	uint64_t rx_gpa[VNET_RX_IOV];
	uint8_t *bounce;
	size_t bounce_len;		/* frame waiting in bounce, 0 = none */
	bool rx_polling;

	/* Transmit. */
	struct iovec tx_iov[VNET_TX_IOV];
	uint64_t tx_gpa[VNET_TX_IOV];
	bool tx_waiting;		/* backend full: wait for EPOLLOUT */

	/* Counters (loop thread). */
	uint64_t rx_packets, rx_bytes, rx_dropped, rx_filtered;
	uint64_t tx_packets, tx_bytes, tx_dropped;

	virtio_net_standby_fn standby_cb;
	void *standby_opaque;
};

/* ---- options and lifetime ---- */

/*
 * --device virtio-net-pci,netdev=ID,id=ID,mac=MAC[,failover=on][,addr=SLOT]
 * Creates the NIC, puts it on the PCI bus and adds it to the VM.
 */
int virtio_net_create(struct vm *vm, struct opts *o);
/* Build a NIC on backend nd without options or a PCI host (unit tests). */
int virtio_net_new(struct vm *vm, const char *id, struct netdev *nd,
		   const uint8_t mac[6], bool failover, struct virtio_net **out);
void virtio_net_free(struct virtio_net *n);
struct virtio_net *virtio_net_find(struct vm *vm, const char *id);

/* ---- host-side controls ---- */

/* Link down/up as the guest sees it (STATUS + config interrupt). -ENOENT. */
int virtio_net_set_link(struct vm *vm, const char *id, bool up);
/*
 * Make the network learn where this NIC is now: GUEST_ANNOUNCE when the
 * driver negotiated it, otherwise (or when host is set: at once, not
 * after the guest reacts) a RARP sent by fvmm on the backend.
 */
int virtio_net_announce(struct vm *vm, const char *id, bool host);
/* Did the guest's last accepted feature set include STANDBY?  -ENOENT. */
int virtio_net_standby_negotiated(struct vm *vm, const char *id);
/* Called (under the device lock) whenever FEATURES_OK is accepted. */
int virtio_net_set_standby_cb(struct vm *vm, const char *id,
			      virtio_net_standby_fn fn, void *opaque);

/* ---- pure helpers (virtio_net_hdr.c), unit-tested ---- */

uint64_t vnet_offered_features(bool has_mac, bool failover,
			       unsigned offload_caps);
/* Feature dependencies of virtio 5.1.3.1; false refuses FEATURES_OK. */
bool vnet_features_valid(uint64_t f);
/* TUN_F_* offloads the guest can take, given its features. */
unsigned vnet_guest_offloads(uint64_t f);
/* 0, or -EINVAL for a transmit header the features do not allow. */
int vnet_hdr_check_tx(const struct vnet_hdr *h, uint64_t f, size_t frame_len);
/* Header the driver sees on receive (from the backend's). */
void vnet_hdr_fix_rx(struct vnet_hdr *h, uint64_t f, uint16_t num_buffers);
/* Receive filter (CTRL_RX state). */
bool vnet_rx_accept(const struct virtio_net *n, const uint8_t dst[6]);
/* Control queue command; returns VIRTIO_NET_OK / VIRTIO_NET_ERR. */
uint8_t vnet_ctrl_cmd(struct virtio_net *n, uint8_t cls, uint8_t cmd,
		      const struct iovec *iov, unsigned cnt, size_t off,
		      size_t len);
/* 60-byte RARP announcing mac (ethernet frame, no vnet header). */
void vnet_build_rarp(uint8_t frame[60], const uint8_t mac[6]);
/* Filter and control state back to reset values. */
void vnet_filter_reset(struct virtio_net *n);

#endif
