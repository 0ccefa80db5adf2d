// SPDX-License-Identifier: MIT
/*
 * tap backend and --netdev parsing (src/net/tap.c, src/net/netdev.c).
 * Opening a tap needs CAP_NET_ADMIN and /dev/net/tun: without them those
 * tests are skipped, the rest still run.
 */
#include <arpa/inet.h>
#include <linux/if_packet.h>
#include <linux/if_tun.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include "helpers.h"

#include "core/evloop.h"
#include "net/net.h"

struct fixture {
	struct vm vm;
	char ifname[IF_NAMESIZE];
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	fake_vm_init(&f->vm);
	assert_int_equal(evloop_init(&f->vm.loop), 0);
	snprintf(f->ifname, sizeof(f->ifname), "fvmmt%d", getpid() % 100000);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	netdev_close_all(&f->vm);
	evloop_destroy(&f->vm.loop);
	fake_vm_destroy(&f->vm);
	free(f);
	return 0;
}

/* Open a tap or skip the test when this environment cannot. */
static struct netdev *open_or_skip(struct fixture *f)
{
	struct netdev *nd;
	int ret;

	if (access("/dev/net/tun", R_OK | W_OK))
		skip();
	ret = netdev_tap_open(&f->vm, "t0", f->ifname, &nd);
	if (ret == -EPERM || ret == -EACCES || ret == -ENOENT)
		skip();
	assert_int_equal(ret, 0);
	return nd;
}

static void set_up(const char *ifname)
{
	struct ifreq ifr = { 0 };
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	assert_true(s >= 0);
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	assert_int_equal(ioctl(s, SIOCGIFFLAGS, &ifr), 0);
	ifr.ifr_flags |= IFF_UP;
	assert_int_equal(ioctl(s, SIOCSIFFLAGS, &ifr), 0);
	close(s);
}

static void test_open(void **state)
{
	struct fixture *f = *state;
	struct netdev *nd = open_or_skip(f);

	assert_string_equal(nd->ifname, f->ifname);
	assert_true(nd->is_tap);
	assert_int_equal(nd->vnet_hdr_len, 12);
	assert_true(nd->link_up);
	/* Any kernel this runs on does checksum offload on taps. */
	assert_true(nd->offload_caps & TUN_F_CSUM);
	assert_int_equal(netdev_set_offload(nd, nd->offload_caps), 0);
	assert_int_equal(nd->offloads, nd->offload_caps);
	assert_int_equal(netdev_set_offload(nd, 0), 0);
	assert_int_equal(netdev_set_vnet_hdr_len(nd, 10), 0);
	assert_int_equal(netdev_set_vnet_hdr_len(nd, 12), 0);
	assert_int_equal(netdev_set_link(nd, false), 0);
	assert_false(nd->link_up);
	assert_int_equal(netdev_set_link(nd, true), 0);
	/* Nothing queued yet. */
	assert_int_equal(netdev_recv(nd, &(struct iovec){ (char[64]){ 0 }, 64 }, 1),
			 -EAGAIN);
	netdev_close(nd);
}

static void test_frames_both_ways(void **state)
{
	struct fixture *f = *state;
	struct netdev *nd = open_or_skip(f);
	uint8_t frame[12 + 60] = { 0 }, got[2048];
	struct sockaddr_ll sll = { .sll_family = AF_PACKET };
	struct iovec iov = { got, sizeof(got) };
	int ps;
	ssize_t n = -EAGAIN;

	set_up(f->ifname);
	/* fvmm -> host: a frame written to the tap is seen on the interface. */
	ps = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(0x88b5));
	assert_true(ps >= 0);
	sll.sll_protocol = htons(0x88b5);	/* local experimental */
	sll.sll_ifindex = if_nametoindex(f->ifname);
	assert_int_equal(bind(ps, (struct sockaddr *)&sll, sizeof(sll)), 0);
	memset(frame + 12, 0xff, 6);
	frame[12 + 6] = 0x02;
	frame[12 + 12] = 0x88;
	frame[12 + 13] = 0xb5;
	memcpy(frame + 12 + 14, "fvmm-test", 9);
	assert_int_equal(netdev_send(nd, &(struct iovec){ frame, sizeof(frame) }, 1),
			 sizeof(frame));
	assert_true(wait_readable(ps, 2000));
	assert_int_equal(recv(ps, got, sizeof(got), 0), 60);
	assert_memory_equal(got + 14, "fvmm-test", 9);

	/* host -> fvmm: a frame sent on the interface comes out of the tap,
	 * behind a vnet header. */
	memcpy(got, frame + 12, 60);
	memcpy(got + 14, "to-guest!", 9);
	assert_int_equal(sendto(ps, got, 60, 0, (struct sockaddr *)&sll,
				sizeof(sll)), 60);
	for (int i = 0; i < 200; i++) {
		n = netdev_recv(nd, &iov, 1);
		if (n != -EAGAIN)
			break;
		wait_readable(nd->fd, 10);
	}
	/* Other traffic (IPv6 ND) may come first; find ours. */
	for (int i = 0; i < 20 && n > 0 && memcmp(got + 12 + 14, "to-guest!", 9);
	     i++) {
		wait_readable(nd->fd, 100);
		n = netdev_recv(nd, &iov, 1);
	}
	assert_int_equal(n, 12 + 60);
	assert_memory_equal(got + 12 + 14, "to-guest!", 9);
	close(ps);
	netdev_close(nd);
}

static void test_attach(void **state)
{
	struct fixture *f = *state;
	static const struct netdev_client_ops ops = { 0 };
	struct netdev *nd = open_or_skip(f);

	assert_int_equal(netdev_attach(nd, "a", &ops, NULL), 0);
	assert_int_equal(netdev_attach(nd, "b", &ops, NULL), -EBUSY);
	assert_string_equal(nd->user, "a");
	netdev_rx_enable(nd, true);
	netdev_tx_wait(nd, true);
	netdev_rx_enable(nd, false);
	netdev_detach(nd);
	assert_null(nd->user);
	assert_int_equal(netdev_attach(nd, "b", &ops, NULL), 0);
	netdev_close(nd);
}

static void test_netdev_options(void **state)
{
	struct fixture *f = *state;
	char opt[64], opt2[64];

	if (access("/dev/net/tun", R_OK | W_OK))
		skip();
	snprintf(opt, sizeof(opt), "tap,id=up0,ifname=%s,script=no,downscript=no",
		 f->ifname);
	f->vm.cfg.netdev_opts[0] = opt;
	f->vm.cfg.nr_netdev_opts = 1;
	if (netdev_init_all(&f->vm) == -EPERM)
		skip();
	assert_non_null(netdev_find(&f->vm, "up0"));
	assert_null(netdev_find(&f->vm, "up1"));
	netdev_close_all(&f->vm);
	assert_null(netdev_find(&f->vm, "up0"));

	/* Duplicate ids; the first one is closed again on failure. */
	snprintf(opt2, sizeof(opt2), "tap,id=up0,ifname=%sb", f->ifname);
	f->vm.cfg.netdev_opts[1] = opt2;
	f->vm.cfg.nr_netdev_opts = 2;
	assert_int_equal(netdev_init_all(&f->vm), -EINVAL);
	assert_null(netdev_find(&f->vm, "up0"));
}

static void test_bad_ifname(void **state)
{
	struct fixture *f = *state;
	struct netdev *nd;

	assert_int_equal(netdev_tap_open(&f->vm, "t", "a-name-that-is-too-long",
					 &nd), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
		T(test_open),
		T(test_frames_both_ways),
		T(test_attach),
		T(test_netdev_options),
		T(test_bad_ifname),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
