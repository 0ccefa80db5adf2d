/*
 * The shell's ping: ICMP echo requests to an on-link address, one at a
 * time, with the round-trip time measured by the TSC.  Replies arrive in
 * the receive interrupt and are matched here.
 */

#include <errno.h>
#include <net.h>
#include <printk.h>
#include <string.h>
#include <time.h>
#include <x86.h>

#define PING_ID			0x4676
#define PING_SIZE		56
#define PING_TIMEOUT_US		1000000
#define PING_GAP_US		100000
#define ARP_TRIES		4
#define ARP_WAIT_US		250000

static struct {
	volatile bool waiting;	/* a request is out */
	volatile bool done;	/* its reply came */
	volatile bool never;	/* for plain waits */
	u32 dst;
	u16 seq;
	u64 sent;
	volatile u64 rtt;	/* TSC cycles; valid once waiting is false */
} ping;

void ping_reply(struct pkt *pkt, u16 id, u16 seq)
{
	if (!ping.waiting || id != PING_ID || seq != ping.seq ||
	    pkt->src != ping.dst)
		return;
	ping.rtt = rdtsc() - ping.sent;
	WRITE_ONCE(ping.waiting, false);
	WRITE_ONCE(ping.done, true);
}

static int resolve(struct netif *nif, u32 dst)
{
	static volatile bool never;
	u8 mac[ETH_ALEN];
	unsigned int i;
	u64 flags;
	int ret = -EAGAIN;

	for (i = 0; i < ARP_TRIES && ret == -EAGAIN; i++) {
		flags = netif_lock(nif);
		ret = arp_resolve(nif, dst, mac);
		netif_tx_flush(nif);
		netif_unlock(nif, flags);
		if (ret == -EAGAIN)	/* the reply lands meanwhile */
			net_wait(&never, ARP_WAIT_US);
	}
	return ret;
}

/* One echo; returns 0 with the RTT in us, or -errno. */
static int ping_once(struct netif *nif, u32 dst, u16 seq, u64 *rtt_us)
{
	u64 flags;
	int ret;

	ping.dst = dst;
	ping.seq = seq;
	flags = netif_lock(nif);
	ping.sent = rdtsc();
	ping.done = false;
	WRITE_ONCE(ping.waiting, true);
	ret = icmp_send_echo(nif, dst, PING_ID, seq, PING_SIZE);
	netif_tx_flush(nif);
	netif_unlock(nif, flags);
	if (ret) {
		ping.waiting = false;
		return ret;
	}
	if (!net_wait(&ping.done, PING_TIMEOUT_US)) {
		ping.waiting = false;
		return -ETIMEDOUT;
	}
	*rtt_us = tsc_to_us(ping.rtt);
	return 0;
}

void net_cmd_ping(int argc, char **argv)
{
	unsigned int i, count = 4, got = 0;
	struct netif *nif;
	char buf[16];
	u64 n, rtt;
	u32 dst;
	int ret;

	if (argc < 2 || ip_parse(argv[1], &dst)) {
		printf("usage: ping A.B.C.D [COUNT]\n");
		return;
	}
	if (argc > 2 && !kstrtou64(argv[2], 10, &n) && n && n <= 1000)
		count = n;
	nif = netif_route(dst);
	if (!nif) {
		printf("ping: no interface on the subnet of %s\n",
		       ip_str(dst, buf));
		return;
	}
	if (resolve(nif, dst)) {
		printf("ping: %s: no ARP reply on %s\n", ip_str(dst, buf),
		       nif->name);
		return;
	}
	for (i = 1; i <= count; i++) {
		ret = ping_once(nif, dst, i, &rtt);
		if (!ret) {
			got++;
			printf("%u bytes from %s: icmp_seq=%u time=%llu.%03llu ms\n",
			       PING_SIZE + 8, ip_str(dst, buf), i,
			       rtt / 1000, rtt % 1000);
		} else {
			printf("icmp_seq=%u: %s\n", i,
			       ret == -ETIMEDOUT ? "timeout" : "send failed");
		}
		net_wait(&ping.never, PING_GAP_US);
	}
	printf("%u sent, %u received\n", count, got);
}
