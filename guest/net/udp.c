/*
 * UDP (RFC 768) receive, and the echo service (RFC 862) on port 7: the
 * payload goes back unchanged to the sender's address and port.  This is
 * the path fvmm-probe measures, so it is a copy and two checksums, run in
 * the receive interrupt, with no allocation.
 */

#include <net.h>

#define UDP_SPORT	0
#define UDP_DPORT	2
#define UDP_LEN		4
#define UDP_CSUM	6

static u16 udp_csum(u32 src, u32 dst, const u8 *udp, u16 len)
{
	u32 sum = csum_pseudo(src, dst, IP_PROTO_UDP, len);

	return csum_fold(csum_partial(udp, len, sum));
}

static void udp_echo(struct pkt *pkt, u16 ulen)
{
	const u8 *in = pkt->l4;
	u8 *frame, *out = ipv4_reply(pkt, ulen, &frame);
	u16 csum;

	if (!out)
		return;
	put_be16(out + UDP_SPORT, get_be16(in + UDP_DPORT));
	put_be16(out + UDP_DPORT, get_be16(in + UDP_SPORT));
	put_be16(out + UDP_CSUM, 0);
	csum = udp_csum(pkt->nif->ip, pkt->src, out, ulen);
	/* 0 on the wire means "no checksum": a computed 0 is sent as ~0. */
	put_be16(out + UDP_CSUM, csum ? csum : 0xffff);
	netif_tx_send(pkt->nif, frame, ETH_HLEN + IP_HLEN + ulen);
}

void udp_input(struct pkt *pkt)
{
	const u8 *udp = pkt->l4;
	u16 ulen;

	if (pkt->l4_len < UDP_HLEN) {
		pkt->nif->st.rx_errors++;
		return;
	}
	ulen = get_be16(udp + UDP_LEN);
	if (ulen < UDP_HLEN || ulen > pkt->l4_len ||
	    (get_be16(udp + UDP_CSUM) &&
	     udp_csum(pkt->src, pkt->dst, udp, ulen))) {
		pkt->nif->st.rx_errors++;
		return;
	}
	if (get_be16(udp + UDP_DPORT) == UDP_PORT_ECHO)
		udp_echo(pkt, ulen);
	else
		pkt->nif->st.rx_dropped++;	/* no other listeners */
}
