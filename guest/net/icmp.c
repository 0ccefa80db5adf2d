/* ICMP (RFC 792): answer echo requests, pass echo replies to ping. */

#include <errno.h>
#include <net.h>
#include <string.h>

#define ICMP_ECHO_REPLY		0
#define ICMP_ECHO_REQUEST	8
#define ICMP_HLEN		8
#define ICMP_MAX_PAYLOAD	(ETH_MTU - IP_HLEN - ICMP_HLEN)

static void icmp_echo(struct pkt *pkt)
{
	u8 *frame, *icmp;
	size_t len;

	icmp = ipv4_reply(pkt, pkt->l4_len, &frame, &len);
	if (!icmp)
		return;
	/* Only the type changes: the rest was verified and is copied. */
	csum_replace16(icmp + 2, get_be16(icmp), ICMP_ECHO_REPLY << 8 | icmp[1]);
	icmp[0] = ICMP_ECHO_REPLY;
	netif_tx_send(pkt->nif, frame, len);
}

void icmp_input(struct pkt *pkt)
{
	const u8 *icmp = pkt->l4;

	if (pkt->l4_len < ICMP_HLEN ||
	    csum_fold(csum_partial(icmp, pkt->l4_len, 0))) {
		pkt->nif->st.rx_errors++;
		return;
	}
	switch (icmp[0]) {
	case ICMP_ECHO_REQUEST:
		icmp_echo(pkt);
		break;
	case ICMP_ECHO_REPLY:
		ping_reply(pkt, get_be16(icmp + 4), get_be16(icmp + 6));
		break;
	default:
		pkt->nif->st.rx_dropped++;
		break;
	}
}

int icmp_send_echo(struct netif *nif, u32 dst, u16 id, u16 seq, u32 size)
{
	u8 mac[ETH_ALEN], *ip, *icmp;
	u32 i;
	int ret;

	if (size > ICMP_MAX_PAYLOAD)
		return -EINVAL;
	ret = arp_resolve(nif, dst, mac);
	if (ret)
		return ret;
	ip = eth_tx_begin(nif, mac, ETH_P_IP);
	if (!ip)
		return -ENOSPC;
	ipv4_build(ip, nif->ip, dst, IP_PROTO_ICMP, ICMP_HLEN + size);
	icmp = ip + IP_HLEN;
	icmp[0] = ICMP_ECHO_REQUEST;
	icmp[1] = 0;
	put_be16(icmp + 2, 0);
	put_be16(icmp + 4, id);
	put_be16(icmp + 6, seq);
	for (i = 0; i < size; i++)
		icmp[ICMP_HLEN + i] = i;
	put_be16(icmp + 2, csum_fold(csum_partial(icmp, ICMP_HLEN + size, 0)));
	eth_tx_end(nif, ip, IP_HLEN + ICMP_HLEN + size);
	return 0;
}
