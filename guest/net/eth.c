/* Ethernet: receive filter and dispatch, frame construction. */

#include <net.h>
#include <string.h>

static const u8 eth_bcast[ETH_ALEN] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

void eth_input(struct netif *nif, const u8 *frame, size_t len)
{
	const u8 *dst = frame;
	u16 type;

	if (len < ETH_HLEN) {
		nif->st.rx_errors++;
		return;
	}
	/* The device may deliver everything (promiscuous by default). */
	if (!mac_eq(dst, nif->mac) && !mac_is_bcast(dst)) {
		nif->st.rx_dropped++;
		return;
	}
	type = get_be16(frame + 12);
	switch (type) {
	case ETH_P_IP:
		ipv4_input(nif, frame, frame + ETH_HLEN, len - ETH_HLEN);
		break;
	case ETH_P_ARP:
		arp_input(nif, frame, frame + ETH_HLEN, len - ETH_HLEN);
		break;
	default:
		nif->st.rx_dropped++;	/* VLAN, IPv6, ...: not ours */
		break;
	}
}

u8 *eth_tx_begin(struct netif *nif, const u8 *dst, u16 type)
{
	u8 *f = netif_tx_alloc(nif);

	if (!f)
		return NULL;
	memcpy(f, dst ? dst : eth_bcast, ETH_ALEN);
	memcpy(f + ETH_ALEN, nif->mac, ETH_ALEN);
	put_be16(f + 12, type);
	return f + ETH_HLEN;
}

void eth_tx_end(struct netif *nif, u8 *payload, size_t len)
{
	netif_tx_send(nif, payload - ETH_HLEN, ETH_HLEN + len);
}
