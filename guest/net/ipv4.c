/*
 * IPv4 receive (RFC 791): header checks, no fragments, no options used,
 * delivery to ICMP and UDP; and the reply path both of them share.
 */

#include <net.h>
#include <string.h>

#define IP_VER_IHL	0
#define IP_TOT_LEN	2
#define IP_ID		4
#define IP_FRAG		6
#define IP_TTL		8
#define IP_PROTO	9
#define IP_CSUM		10
#define IP_SRC		12
#define IP_DST		16

#define IP_FRAG_MF	0x2000
#define IP_FRAG_OFF	0x1fff
#define IP_DEF_TTL	64

static u16 ip_id;

void ipv4_build(u8 *ip, u32 src, u32 dst, u8 proto, u32 payload_len)
{
	ip[IP_VER_IHL] = 0x45;
	ip[1] = 0;
	put_be16(ip + IP_TOT_LEN, IP_HLEN + payload_len);
	put_be16(ip + IP_ID, ip_id++);
	put_be16(ip + IP_FRAG, 0x4000);		/* DF: we never fragment */
	ip[IP_TTL] = IP_DEF_TTL;
	ip[IP_PROTO] = proto;
	put_be16(ip + IP_CSUM, 0);
	put_be32(ip + IP_SRC, src);
	put_be32(ip + IP_DST, dst);
	put_be16(ip + IP_CSUM, csum_fold(csum_partial(ip, IP_HLEN, 0)));
}

/*
 * The common case, a reply as long as the request with a plain 20-byte
 * header, is the request turned around: one copy, then the addresses
 * swapped (which leaves every checksum as it was) and a fresh TTL (one
 * incremental fix).  Anything else gets a newly built header.
 */
u8 *ipv4_reply(const struct pkt *pkt, u32 l4_len, u8 **frame, size_t *len)
{
	struct netif *nif = pkt->nif;
	u8 *f, *ip;

	/* Never longer than the request, but a jumbo frame from a big-MTU
	 * peer must still not overrun a buffer. */
	if (IP_HLEN + l4_len > ETH_MTU) {
		nif->st.tx_dropped++;
		return NULL;
	}
	f = netif_tx_alloc(nif);
	if (!f)
		return NULL;
	ip = f + ETH_HLEN;
	*frame = f;
	*len = ETH_HLEN + IP_HLEN + l4_len;
	if (pkt->ip_hlen == IP_HLEN && pkt->ip_len == IP_HLEN + l4_len) {
		memcpy(f, pkt->eth, *len);
		memcpy(f, pkt->eth + ETH_ALEN, ETH_ALEN);
		memcpy(f + ETH_ALEN, nif->mac, ETH_ALEN);
		memcpy(ip + IP_SRC, pkt->ip + IP_DST, 4);
		memcpy(ip + IP_DST, pkt->ip + IP_SRC, 4);
		csum_replace16(ip + IP_CSUM, get_be16(ip + IP_TTL),
			       IP_DEF_TTL << 8 | ip[IP_PROTO]);
		ip[IP_TTL] = IP_DEF_TTL;
		return ip + IP_HLEN;
	}
	memcpy(f, pkt->eth + ETH_ALEN, ETH_ALEN);
	memcpy(f + ETH_ALEN, nif->mac, ETH_ALEN);
	put_be16(f + 12, ETH_P_IP);
	ipv4_build(ip, nif->ip, pkt->src, pkt->ip[IP_PROTO], l4_len);
	memcpy(ip + IP_HLEN, pkt->l4, l4_len);
	return ip + IP_HLEN;
}

/* Header sanity; NULL or the counter to bump. */
static u64 *ipv4_check(struct netif *nif, const u8 *p, size_t len,
		       u32 *hlen, u32 *tot)
{
	if (len < IP_HLEN || (p[IP_VER_IHL] >> 4) != 4)
		return &nif->st.rx_errors;
	*hlen = (p[IP_VER_IHL] & 0xf) * 4;
	*tot = get_be16(p + IP_TOT_LEN);
	if (*hlen < IP_HLEN || *tot < *hlen || *tot > len)
		return &nif->st.rx_errors;
	if (*hlen == IP_HLEN ? !csum_ip20_ok(p) :
	    csum_fold(csum_partial(p, *hlen, 0)) != 0)
		return &nif->st.rx_errors;
	/* Reassembly is not supported: any fragment is dropped. */
	if (get_be16(p + IP_FRAG) & (IP_FRAG_MF | IP_FRAG_OFF))
		return &nif->st.rx_dropped;
	return NULL;
}

void ipv4_input(struct netif *nif, const u8 *eth, const u8 *p, size_t len)
{
	struct pkt pkt;
	u32 hlen = 0, tot = 0;
	u64 *bad = ipv4_check(nif, p, len, &hlen, &tot);

	if (bad) {
		(*bad)++;
		return;
	}
	pkt = (struct pkt){
		.nif = nif, .eth = eth, .ip = p, .ip_hlen = hlen,
		.ip_len = tot, .l4 = p + hlen, .l4_len = tot - hlen,
		.src = get_be32(p + IP_SRC), .dst = get_be32(p + IP_DST),
	};
	/* Unicast to us only: no broadcast echo (as Linux by default). */
	if (!nif->ip || pkt.dst != nif->ip) {
		nif->st.rx_dropped++;
		return;
	}
	switch (p[IP_PROTO]) {
	case IP_PROTO_ICMP:
		icmp_input(&pkt);
		break;
	case IP_PROTO_UDP:
		udp_input(&pkt);
		break;
	default:
		nif->st.rx_dropped++;
		break;
	}
}
