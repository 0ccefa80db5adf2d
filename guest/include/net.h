/*
 * Network interfaces and the small IPv4 stack: Ethernet, ARP, IPv4 (no
 * fragments), ICMP echo, UDP with an echo service on port 7.
 *
 * Locking: each interface has one lock.  Whoever runs the data path
 * takes it and hands received frames to netif_rx(), which runs the whole
 * stack and queues replies on the same interface: the ring-3 poller
 * (net/poll.c, plain spin_lock) or, without one, the driver's interrupt
 * handler.  Anything else that transmits (shell, link events) takes it
 * too, in ring 0 with interrupts off (netif_lock).  Replies are queued
 * with netif_tx_send() and the device is told once per batch with
 * netif_tx_flush().
 */
#ifndef GUEST_NET_H
#define GUEST_NET_H

#include <printk.h>
#include <spinlock.h>
#include <types.h>

#define ETH_ALEN		6
#define ETH_HLEN		14
#define ETH_MTU			1500
#define ETH_FRAME_MAX		(ETH_HLEN + ETH_MTU)
#define ETH_ZLEN		60		/* minimum frame without FCS */
#define ETH_P_IP		0x0800
#define ETH_P_ARP		0x0806

#define IP_HLEN			20
#define IP_PROTO_ICMP		1
#define IP_PROTO_UDP		17
#define UDP_HLEN		8
#define UDP_PORT_ECHO		7

#define NETIF_MAX		8
#define ARP_CACHE_SIZE		16

struct netif;

struct netif_stats {
	u64 rx_packets, rx_bytes, rx_dropped, rx_errors;
	u64 tx_packets, tx_bytes, tx_dropped, tx_errors;
};

struct netif_ops {
	/* Room for one frame of ETH_FRAME_MAX bytes, or NULL (ring full). */
	u8 *(*tx_alloc)(struct netif *nif);
	/* Queue the frame built in the tx_alloc buffer (len >= ETH_HLEN). */
	void (*tx_send)(struct netif *nif, u8 *frame, size_t len);
	/* Tell the device about the frames queued since the last flush. */
	void (*tx_flush)(struct netif *nif);
	/* Re-read device state (link, broken) now. */
	void (*check)(struct netif *nif);
	/* Driver-specific lines for the `net` command. */
	void (*show)(struct netif *nif);
	/* Fault injection for tests (corrupt_ring=): make the device fail. */
	int (*corrupt)(struct netif *nif);
	/*
	 * Polling (optional; all three or none).  poll and arm run in ring 3
	 * on the poller's CPU: no port I/O, no cli/sti, no printing.
	 * poll: process what completed, send what it produced; returns the
	 * amount of work done.  arm: interrupt on the next completion; false
	 * if something completed meanwhile.  set_poller (ring 0): route the
	 * data-path interrupt to the poller's CPU (an index into cpus[]) and
	 * stop handling it here; interrupts that still need ring 0 and land
	 * on that CPU must use kwork, never the interface lock.
	 */
	int (*poll)(struct netif *nif);
	bool (*arm)(struct netif *nif);
	int (*set_poller)(struct netif *nif, unsigned int cpu);
};

struct arp_entry {
	u32 ip;			/* host byte order, 0 = free */
	u8 mac[ETH_ALEN];
	u64 stamp;		/* uptime_us of the last update */
};

struct netif {
	char name[8];
	const char *kind;	/* driver name */
	unsigned int index;
	u8 mac[ETH_ALEN];
	/* IPv4 address in host byte order; 0 = none. */
	u32 ip, mask;
	u8 prefix;
	bool carrier;
	bool broken;		/* the device failed: never touched again */
	const char *broken_why;
	bool standby;		/* virtio STANDBY negotiated (failover pair) */
	/* An orderly release is under way: a failover device moves its
	 * transmit path off this interface, which still receives. */
	bool releasing;
	struct netif *master;	/* failover device it is a slave of, or NULL */
	bool tx_pending;	/* frames queued since the last flush */
	struct netif_stats st;
	struct spinlock lock;
	const struct netif_ops *ops;
	void *priv;
	struct arp_entry arp[ARP_CACHE_SIZE];
};

/* Parsed packet, as the layers hand it up. */
struct pkt {
	struct netif *nif;
	const u8 *eth;		/* Ethernet header */
	const u8 *ip;		/* IPv4 header */
	u32 ip_hlen, ip_len;	/* header length, total length */
	const u8 *l4;		/* transport header */
	u32 l4_len;
	u32 src, dst;		/* host byte order */
};

/* ---- byte order (the wire is big-endian, fields may be unaligned) ---- */

static inline u16 get_be16(const u8 *p)
{
	return (u16)(p[0] << 8 | p[1]);
}

static inline u32 get_be32(const u8 *p)
{
	return (u32)p[0] << 24 | (u32)p[1] << 16 | (u32)p[2] << 8 | p[3];
}

static inline void put_be16(u8 *p, u16 v)
{
	p[0] = v >> 8;
	p[1] = v;
}

static inline void put_be32(u8 *p, u32 v)
{
	p[0] = v >> 24;
	p[1] = v >> 16;
	p[2] = v >> 8;
	p[3] = v;
}

/* Unaligned loads are fine on x86; the stack runs emulated on some hosts,
 * where every instruction counts, so compare MACs as two loads. */
static inline bool mac_eq(const u8 *a, const u8 *b)
{
	return *(const u32 *)a == *(const u32 *)b &&
	       *(const u16 *)(a + 4) == *(const u16 *)(b + 4);
}

static inline bool mac_is_bcast(const u8 *a)
{
	return *(const u32 *)a == 0xffffffffu && *(const u16 *)(a + 4) == 0xffff;
}

/* ---- checksums (net/csum.c) ---- */

/* Partial one's-complement sum of big-endian 16-bit words. */
u32 csum_partial(const void *data, size_t len, u32 sum);
/* Fold a partial sum into the 16-bit checksum (complemented). */
u16 csum_fold(u32 sum);
/* TCP/UDP pseudo-header sum. */
u32 csum_pseudo(u32 src, u32 dst, u8 proto, u16 len);
/* Is the 20-byte IPv4 header at p intact (its checksum verifies)? */
bool csum_ip20_ok(const u8 *p);
/* RFC 1624: fix the checksum at csum after a 16-bit word went old -> new. */
void csum_replace16(u8 *csum, u16 old, u16 new_word);

/* ---- interfaces (net/netif.c) ---- */

/* Name it ethN (N = registration order) and give it its ip= address. */
int netif_register(struct netif *nif);
/* Register under a fixed name, no ethN and no ip= (the failover device). */
int netif_register_named(struct netif *nif, const char *name);
/* Driver: the device was (re)bound and works (lock held). */
void netif_bound(struct netif *nif);
unsigned int netif_count(void);
unsigned int netif_eth_count(void);
struct netif *netif_get(unsigned int i);
struct netif *netif_by_name(const char *name);
/* The interface whose subnet holds ip (first match), or NULL. */
struct netif *netif_route(u32 ip);
/*
 * Driver: a frame arrived (lock held).  0: taken (handled or dropped and
 * counted); -EBUSY, only in ring 3 (the poller): the failover device is
 * busy, leave the frame where it is and offer it again on the next pass.
 */
int netif_rx(struct netif *nif, const u8 *frame, size_t len);
/* Driver: carrier changed (lock held); announces on link up. */
void netif_set_carrier(struct netif *nif, bool up);
/* Driver: an orderly release begins (lock held); see struct netif. */
void netif_set_releasing(struct netif *nif);
/* Driver: the device failed; stop using it (lock held). */
void netif_set_broken(struct netif *nif, const char *why);
/* Transmit helpers (lock held); they keep the counters. */
u8 *netif_tx_alloc(struct netif *nif);
void netif_tx_send(struct netif *nif, u8 *frame, size_t len);
void netif_tx_flush(struct netif *nif);

static inline u64 netif_lock(struct netif *nif)
{
	return spin_lock_irqsave(&nif->lock);
}

/* Ring 0 only (like netif_lock); prints the lines owed meanwhile. */
static inline void netif_unlock(struct netif *nif, u64 flags)
{
	spin_unlock_irqrestore(&nif->lock, flags);
	if (READ_ONCE(console_deferred))
		console_flush_deferred();
}

/* ---- failover device (net/failover.c) ---- */

/* netif_register: a STANDBY virtio-net creates fo0 and gives it its IP. */
void failover_create(struct netif *standby);
/* A slave's state changed: bound, carrier, broken (slave locked). */
void failover_event(struct netif *nif);
/* A slave's GUEST_ANNOUNCE: fo0 announces soon (failover.c). */
void failover_announce_soon(void);
/* A frame received on a slave (slave locked); see netif_rx(). */
int failover_rx(struct netif *slave, const u8 *frame, size_t len);
void failover_cmd(int argc, char **argv);
/* [ring 3] From the poller's loop: work events left to it (>0: some). */
int failover_poll(void);

/* ---- protocols ---- */

void eth_input(struct netif *nif, const u8 *frame, size_t len);
/* Frame with our source MAC; returns the payload area or NULL. */
u8 *eth_tx_begin(struct netif *nif, const u8 *dst, u16 type);
void eth_tx_end(struct netif *nif, u8 *payload, size_t len);

void arp_input(struct netif *nif, const u8 *eth, const u8 *p, size_t len);
/* Gratuitous ARP for our address (link up, GUEST_ANNOUNCE). */
int arp_announce(struct netif *nif);
/* 0 and mac filled, or -EAGAIN after sending a request. */
int arp_resolve(struct netif *nif, u32 ip, u8 *mac);
void arp_dump(struct netif *nif);

void ipv4_input(struct netif *nif, const u8 *eth, const u8 *p, size_t len);
/*
 * Start a reply to pkt: a transmit buffer holding Ethernet and IPv4
 * headers back to the sender and a copy of its l4_len transport bytes.
 * Returns the transport area, or NULL; *len is the frame length.  The
 * caller fixes the transport header and sends the frame.
 */
u8 *ipv4_reply(const struct pkt *pkt, u32 l4_len, u8 **frame, size_t *len);
/* Fill an IPv4 header (no options) and its checksum. */
void ipv4_build(u8 *ip, u32 src, u32 dst, u8 proto, u32 payload_len);

void icmp_input(struct pkt *pkt);
/* Echo request for the shell's ping; -EAGAIN while ARP resolves. */
int icmp_send_echo(struct netif *nif, u32 dst, u16 id, u16 seq, u32 size);
/* Called by icmp_input for echo replies (net/ping.c). */
void ping_reply(struct pkt *pkt, u16 id, u16 seq);

void udp_input(struct pkt *pkt);

/* ---- boot and console (net/net.c) ---- */

/* From ip=, ip1=, ... (net.c); applied as interfaces register. */
extern u32 net_cfg_ip[NETIF_MAX];
extern u8 net_cfg_prefix[NETIF_MAX];

/* Boot options: ip=ADDR/PREFIX, ip1=..., corrupt_ring=ethN, netpoll=. */
int net_opt_ip(const char *name, const char *val);
int net_opt_corrupt_ring(const char *name, const char *val);
int net_opt_netpoll(const char *name, const char *val);
/* netpoll.sleep_delay_us=N (test): see poll.c. */
int net_opt_sleep_delay(const char *name, const char *val);

/* The ring-3 poller (net/poll.c), started by net_init. */
void net_poll_start(void);
void net_poll_show(void);
/*
 * Ring 0: if a poller runs on an AP of its own, make it take a pass soon
 * (it may sleep) and return true; false: there is none to leave work to.
 */
bool net_poll_kick(void);
/* Ring 0: a poller runs on an AP other than this CPU. */
bool net_poll_elsewhere(void);
/* Driver (ring 0): a NIC bound after net_init; the poller may take it. */
void net_poll_attach(struct netif *nif);
/*
 * Ring 0 waiting for the network (ping, ARP) on the CPU whose idle time
 * is the poller: do one polling pass, since the poller is not running.
 */
void net_poll_service(void);
/* Wait up to us microseconds for *done, servicing the network. */
bool net_wait(volatile bool *done, u64 us);

/* Probe the NIC drivers and bring the interfaces up (before READY). */
void net_init(void);
/* Things that must happen after READY (fault injection for tests). */
void net_after_ready(void);

/* Shell commands. */
void net_cmd_net(int argc, char **argv);
void net_cmd_arp(int argc, char **argv);
void net_cmd_ping(int argc, char **argv);

/* Helpers. */
int ip_parse(const char *s, u32 *ip);
/* "a.b.c.d" into buf (16 bytes). */
char *ip_str(u32 ip, char *buf);
char *mac_str(const u8 *mac, char *buf);	/* 18 bytes */

/* NIC drivers. */
void virtio_net_probe_all(void);

#endif
