/*
 * UDP (RFC 768) receive, and the echo service (RFC 862) on port 7: the
 * payload goes back unchanged to the sender's address and port.  This is
 * the path fvmm-probe measures: run in the receive interrupt, one copy,
 * no checksum work, no allocation.
 */

#include <net.h>
#include <string.h>

#define UDP_SPORT	0
#define UDP_DPORT	2
#define UDP_LEN		4
#define UDP_CSUM	6

static u16 udp_csum(u32 src, u32 dst, const u8 *udp, u16 len)
{
	u16 c = csum_fold(csum_partial(udp, len,
				       csum_pseudo(src, dst, IP_PROTO_UDP, len)));

	/* 0 on the wire means "no checksum": a computed 0 is sent as ~0. */
	return c ? c : 0xffff;
}

/*
 * Ports swapped, payload unchanged: with the addresses also swapped the
 * checksum stays valid as it is (the sum does not depend on the order), so
 * it is neither checked nor recomputed.  A corrupted request comes back
 * with a checksum its sender rejects; nothing here uses the payload.
 */
static void udp_echo(struct pkt *pkt, u16 ulen)
{
	const u8 *in = pkt->l4;
	u8 *frame, *out;
	size_t len;

	out = ipv4_reply(pkt, ulen, &frame, &len);
	if (!out)
		return;
	memcpy(out + UDP_SPORT, in + UDP_DPORT, 2);
	memcpy(out + UDP_DPORT, in + UDP_SPORT, 2);
	if (pkt->ip_len != IP_HLEN + (u32)ulen || pkt->ip_hlen != IP_HLEN) {
		/* Rebuilt header (options or IP padding): fresh checksum. */
		put_be16(out + UDP_CSUM, 0);
		put_be16(out + UDP_CSUM, udp_csum(pkt->nif->ip, pkt->src, out,
						  ulen));
	}
	netif_tx_send(pkt->nif, frame, len);
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
	if (ulen < UDP_HLEN || ulen > pkt->l4_len) {
		pkt->nif->st.rx_errors++;
		return;
	}
	if (get_be16(udp + UDP_DPORT) == UDP_PORT_ECHO)
		udp_echo(pkt, ulen);
	else
		pkt->nif->st.rx_dropped++;	/* no other listeners */
}
