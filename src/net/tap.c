// SPDX-License-Identifier: MIT
/*
 * tap backend: IFF_TAP | IFF_NO_PI | IFF_VNET_HDR, offloads through
 * TUNSETOFFLOAD, carrier through TUNSETCARRIER.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>
#include <linux/if_tun.h>

#include "core/log.h"
#include "net/net.h"

#define TAP_VNET_HDR_LEN	12	/* virtio 1.x header, with num_buffers */
#define TAP_ALL_OFFLOADS	(TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6 | \
				 TUN_F_TSO_ECN)

static struct netdev *netdev_alloc(struct vm *vm, const char *id,
				   const char *type, int fd)
{
	struct netdev *nd = calloc(1, sizeof(*nd));

	if (!nd)
		return NULL;
	snprintf(nd->id, sizeof(nd->id), "%s", id);
	nd->type = type;
	nd->vm = vm;
	nd->fd = fd;
	nd->link_up = true;
	return nd;
}

/*
 * What the tap accepts: the full set if the kernel takes it, else checksum
 * offload alone, else nothing.  Left at "none" until a guest asks.
 */
static unsigned tap_probe_offloads(int fd)
{
	static const unsigned tries[] = { TAP_ALL_OFFLOADS, TUN_F_CSUM };
	unsigned caps = 0;

	for (unsigned i = 0; i < sizeof(tries) / sizeof(tries[0]); i++) {
		if (ioctl(fd, TUNSETOFFLOAD, tries[i]) == 0) {
			caps = tries[i];
			break;
		}
	}
	ioctl(fd, TUNSETOFFLOAD, 0);
	return caps;
}

static int tap_setup(int fd, const char *id, char *ifname)
{
	struct ifreq ifr = { .ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR };
	unsigned features = 0;
	int len = TAP_VNET_HDR_LEN;

	if (ioctl(fd, TUNGETFEATURES, &features) == 0 &&
	    !(features & IFF_VNET_HDR)) {
		pr_err("netdev %s: tap without IFF_VNET_HDR support", id);
		return -EOPNOTSUPP;
	}
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
		pr_err("netdev %s: cannot attach to tap '%s': %s", id, ifname,
		       strerror(errno));
		return -errno;
	}
	snprintf(ifname, IF_NAMESIZE, "%s", ifr.ifr_name);
	if (ioctl(fd, TUNSETVNETHDRSZ, &len) < 0) {
		pr_err("netdev %s: TUNSETVNETHDRSZ: %s", id, strerror(errno));
		return -errno;
	}
	return 0;
}

int netdev_tap_open(struct vm *vm, const char *id, const char *ifname,
		    struct netdev **out)
{
	char name[IF_NAMESIZE];
	struct netdev *nd;
	int fd, ret;

	if (strlen(ifname) >= IF_NAMESIZE) {
		pr_err("netdev %s: ifname '%s' is too long", id, ifname);
		return -EINVAL;
	}
	snprintf(name, sizeof(name), "%s", ifname);
	fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		ret = -errno;
		pr_err("netdev %s: /dev/net/tun: %s", id, strerror(errno));
		return ret;
	}
	ret = tap_setup(fd, id, name);
	if (ret)
		goto close_fd;
	nd = netdev_alloc(vm, id, "tap", fd);
	if (!nd) {
		ret = -ENOMEM;
		goto close_fd;
	}
	snprintf(nd->ifname, sizeof(nd->ifname), "%s", name);
	nd->is_tap = true;
	nd->vnet_hdr_len = TAP_VNET_HDR_LEN;
	nd->offload_caps = tap_probe_offloads(fd);
	*out = nd;
	return 0;

close_fd:
	close(fd);
	return ret;
}

int netdev_fd_open(struct vm *vm, const char *id, int fd, unsigned hdr_len,
		   unsigned offload_caps, struct netdev **out)
{
	struct netdev *nd = netdev_alloc(vm, id, "fd", fd);

	if (!nd)
		return -ENOMEM;
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	nd->vnet_hdr_len = hdr_len;
	nd->offload_caps = offload_caps;
	*out = nd;
	return 0;
}

int netdev_set_vnet_hdr_len(struct netdev *nd, unsigned len)
{
	int l = len;

	if (len == nd->vnet_hdr_len)
		return 0;
	if (!nd->is_tap)
		return -EOPNOTSUPP;
	if (ioctl(nd->fd, TUNSETVNETHDRSZ, &l) < 0)
		return -errno;
	nd->vnet_hdr_len = len;
	return 0;
}

int netdev_set_offload(struct netdev *nd, unsigned flags)
{
	flags &= nd->offload_caps;
	if (flags == nd->offloads)
		return 0;
	if (nd->is_tap && ioctl(nd->fd, TUNSETOFFLOAD, flags) < 0)
		return -errno;
	nd->offloads = flags;
	return 0;
}

int netdev_set_link(struct netdev *nd, bool up)
{
	int on = up;

	nd->link_up = up;
	if (!nd->is_tap)
		return 0;
	/* Older kernels lack TUNSETCARRIER; the frontend's link still moves. */
	if (ioctl(nd->fd, TUNSETCARRIER, &on) < 0 && errno != EINVAL &&
	    errno != ENOTTY)
		return -errno;
	return 0;
}

ssize_t netdev_send(struct netdev *nd, const struct iovec *iov, int cnt)
{
	ssize_t n = writev(nd->fd, iov, cnt);

	return n < 0 ? -errno : n;
}

ssize_t netdev_recv(struct netdev *nd, const struct iovec *iov, int cnt)
{
	struct msghdr msg = { .msg_iov = (struct iovec *)iov, .msg_iovlen = cnt };
	ssize_t n;

	/*
	 * tap reports a frame longer than the buffer with its full length;
	 * MSG_TRUNC makes packet sockets do the same.
	 */
	if (nd->is_tap)
		n = readv(nd->fd, iov, cnt);
	else
		n = recvmsg(nd->fd, &msg, MSG_TRUNC | MSG_DONTWAIT);
	return n < 0 ? -errno : n;
}
