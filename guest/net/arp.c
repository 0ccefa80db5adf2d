/*
 * ARP (RFC 826) for IPv4 over Ethernet: answer requests for our address,
 * keep a small per-interface cache, resolve before sending, and announce
 * ourselves with gratuitous ARP.
 */

#include <errno.h>
#include <net.h>
#include <printk.h>
#include <string.h>
#include <time.h>

#define ARP_LEN			28
#define ARP_HW_ETHER		1
#define ARP_OP_REQUEST		1
#define ARP_OP_REPLY		2

#define ARP_SHA			8
#define ARP_SPA			14
#define ARP_THA			18
#define ARP_TPA			24

static struct arp_entry *arp_find(struct netif *nif, u32 ip)
{
	unsigned int i;

	for (i = 0; i < ARP_CACHE_SIZE; i++) {
		if (nif->arp[i].ip == ip)
			return &nif->arp[i];
	}
	return NULL;
}

/* A free slot, else the least recently updated one. */
static struct arp_entry *arp_victim(struct netif *nif)
{
	struct arp_entry *e = &nif->arp[0];
	unsigned int i;

	for (i = 0; i < ARP_CACHE_SIZE; i++) {
		if (!nif->arp[i].ip)
			return &nif->arp[i];
		if (nif->arp[i].stamp < e->stamp)
			e = &nif->arp[i];
	}
	return e;
}

/*
 * RFC 826 merge: refresh an entry we have; create one only when the
 * packet was aimed at us (we are about to talk to that host anyway).
 */
static void arp_learn(struct netif *nif, u32 ip, const u8 *mac, bool create)
{
	struct arp_entry *e = arp_find(nif, ip);

	if (!e && !create)
		return;
	if (!e)
		e = arp_victim(nif);
	e->ip = ip;
	memcpy(e->mac, mac, ETH_ALEN);
	e->stamp = uptime_us();
}

static int arp_send(struct netif *nif, u16 op, const u8 *eth_dst,
		    const u8 *tha, u32 tpa)
{
	u8 *p = eth_tx_begin(nif, eth_dst, ETH_P_ARP);

	if (!p)
		return -ENOSPC;
	put_be16(p, ARP_HW_ETHER);
	put_be16(p + 2, ETH_P_IP);
	p[4] = ETH_ALEN;
	p[5] = 4;
	put_be16(p + 6, op);
	memcpy(p + ARP_SHA, nif->mac, ETH_ALEN);
	put_be32(p + ARP_SPA, nif->ip);
	if (tha)
		memcpy(p + ARP_THA, tha, ETH_ALEN);
	else
		memset(p + ARP_THA, 0, ETH_ALEN);
	put_be32(p + ARP_TPA, tpa);
	/* Pad to the minimum frame so nothing stale goes on the wire. */
	memset(p + ARP_LEN, 0, ETH_ZLEN - ETH_HLEN - ARP_LEN);
	eth_tx_end(nif, p, ETH_ZLEN - ETH_HLEN);
	return 0;
}

void arp_input(struct netif *nif, const u8 *eth __unused, const u8 *p,
	       size_t len)
{
	u32 spa, tpa;
	u16 op;
	bool for_us;

	if (len < ARP_LEN) {
		nif->st.rx_errors++;
		return;
	}
	if (get_be16(p) != ARP_HW_ETHER || get_be16(p + 2) != ETH_P_IP ||
	    p[4] != ETH_ALEN || p[5] != 4 || !nif->ip) {
		nif->st.rx_dropped++;
		return;
	}
	op = get_be16(p + 6);
	spa = get_be32(p + ARP_SPA);
	tpa = get_be32(p + ARP_TPA);
	for_us = tpa == nif->ip;
	if (spa && spa != nif->ip && !(p[ARP_SHA] & 1))
		arp_learn(nif, spa, p + ARP_SHA, for_us);
	if (op == ARP_OP_REQUEST && for_us && spa != nif->ip)
		arp_send(nif, ARP_OP_REPLY, p + ARP_SHA, p + ARP_SHA, spa);
	else if (!for_us)
		nif->st.rx_dropped++;
}

int arp_announce(struct netif *nif)
{
	if (!nif->ip)
		return -ENOENT;
	/* A request for our own address: updates every cache holding us. */
	return arp_send(nif, ARP_OP_REQUEST, NULL, NULL, nif->ip);
}

int arp_resolve(struct netif *nif, u32 ip, u8 *mac)
{
	struct arp_entry *e = arp_find(nif, ip);

	if (e && ip) {
		memcpy(mac, e->mac, ETH_ALEN);
		return 0;
	}
	arp_send(nif, ARP_OP_REQUEST, NULL, NULL, ip);
	return -EAGAIN;
}

void arp_dump(struct netif *nif)
{
	u64 now = uptime_us();
	char ip[16], mac[18];
	unsigned int i, n = 0;

	for (i = 0; i < ARP_CACHE_SIZE; i++) {
		const struct arp_entry *e = &nif->arp[i];

		if (!e->ip)
			continue;
		n++;
		printf("  %-15s %s %s (%llu s ago)\n", ip_str(e->ip, ip),
		       mac_str(e->mac, mac), nif->name,
		       (now - e->stamp) / 1000000);
	}
	if (!n)
		printf("  %s: no entries\n", nif->name);
}
