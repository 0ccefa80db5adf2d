/* SPDX-License-Identifier: MIT */
#ifndef FVMM_NET_NET_H
#define FVMM_NET_NET_H

#include <net/if.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>

/*
 * Network backends (--netdev), shared by the NIC models (virtio-net, e1000).
 *
 * A backend is a packet fd with an optional virtio-net header in front of
 * every frame (tap with IFF_VNET_HDR).  Frontends pull: the backend calls
 * rx_ready on the event loop when frames are waiting and the frontend reads
 * them with netdev_recv() straight into guest buffers; netdev_send() writes
 * one frame from an iovec.  Both are single readv/writev calls on a
 * non-blocking fd, so no copies and no allocations per packet.
 */

struct vm;
struct netdev;

struct netdev_client_ops {
	/* Loop thread: frames are waiting (while rx is enabled). */
	void (*rx_ready)(void *opaque);
	/* Loop thread: room to send again after -EAGAIN (while waiting). */
	void (*tx_ready)(void *opaque);
};

struct netdev {
	char id[64];
	char ifname[IF_NAMESIZE];
	const char *type;		/* "tap", "fd" */
	bool is_tap;
	struct vm *vm;
	int fd;
	unsigned vnet_hdr_len;		/* bytes before each frame, 0 = none */
	unsigned offload_caps;		/* TUN_F_* the backend accepts */
	unsigned offloads;		/* TUN_F_* currently set */
	bool link_up;

	/* The frontend attached to it, if any. */
	const char *user;
	const struct netdev_client_ops *client;
	void *client_opaque;
	bool registered;		/* fd is on the event loop */
	uint32_t events;		/* EPOLLIN / EPOLLOUT wanted */

	struct netdev *next;
};

/* Open tap device ifname ("" lets the kernel name it). */
int netdev_tap_open(struct vm *vm, const char *id, const char *ifname,
		    struct netdev **out);
/*
 * Wrap an existing packet fd (a SOCK_SEQPACKET end in unit tests) whose
 * frames carry a vnet header of hdr_len bytes.  Takes ownership of fd.
 */
int netdev_fd_open(struct vm *vm, const char *id, int fd, unsigned hdr_len,
		   unsigned offload_caps, struct netdev **out);
void netdev_close(struct netdev *nd);

/* 10 or 12 (virtio 1.x, with num_buffers); tap only.  -errno. */
int netdev_set_vnet_hdr_len(struct netdev *nd, unsigned len);
/* TUN_F_* the guest can take (what the backend may hand us).  -errno. */
int netdev_set_offload(struct netdev *nd, unsigned flags);
/* Host-side carrier (tap: TUNSETCARRIER where the kernel has it). */
int netdev_set_link(struct netdev *nd, bool up);

/*
 * One frame each.  Returns bytes or -errno: -EAGAIN when the backend is
 * full (send) or empty (recv).  A receive larger than the iovec is
 * truncated by the kernel and reported as its full length.
 */
ssize_t netdev_send(struct netdev *nd, const struct iovec *iov, int cnt);
ssize_t netdev_recv(struct netdev *nd, const struct iovec *iov, int cnt);

/* Claim the backend for a frontend; -EBUSY if another has it. */
int netdev_attach(struct netdev *nd, const char *user,
		  const struct netdev_client_ops *ops, void *opaque);
void netdev_detach(struct netdev *nd);
/* Callbacks on/off (cheap when unchanged). */
void netdev_rx_enable(struct netdev *nd, bool on);
void netdev_tx_wait(struct netdev *nd, bool on);

/* ---- registry: the VM's --netdev list ---- */

/* Parse and open every vm->cfg.netdev_opts entry.  -EINVAL after pr_err. */
int netdev_init_all(struct vm *vm);
void netdev_close_all(struct vm *vm);
struct netdev *netdev_find(struct vm *vm, const char *id);
/* Add an already opened backend (tests, netdev_init_all). -EEXIST. */
int netdev_register(struct netdev *nd);

#endif
