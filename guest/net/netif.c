/*
 * Interface registry and the driver-facing entry points: receive, carrier,
 * failure, and transmit with the per-interface counters.
 */

#include <errno.h>
#include <net.h>
#include <printk.h>
#include <string.h>

static struct netif *netifs[NETIF_MAX];
static unsigned int nr_netifs;
static unsigned int nr_eth;	/* ethN names: fo0 takes no N */

unsigned int netif_eth_count(void)
{
	return nr_eth;
}

unsigned int netif_count(void)
{
	return nr_netifs;
}

struct netif *netif_get(unsigned int i)
{
	return i < nr_netifs ? netifs[i] : NULL;
}

struct netif *netif_by_name(const char *name)
{
	unsigned int i;

	for (i = 0; i < nr_netifs; i++) {
		if (!strcmp(netifs[i]->name, name))
			return netifs[i];
	}
	return NULL;
}

struct netif *netif_route(u32 ip)
{
	unsigned int i;

	for (i = 0; i < nr_netifs; i++) {
		struct netif *nif = netifs[i];

		if (nif->ip && !nif->broken && (ip & nif->mask) ==
		    (nif->ip & nif->mask))
			return nif;
	}
	return NULL;
}

int netif_register_named(struct netif *nif, const char *name)
{
	if (nr_netifs == NETIF_MAX)
		return -ENOSPC;
	strlcpy(nif->name, name, sizeof(nif->name));
	nif->lock = (struct spinlock)SPINLOCK_INIT;
	netifs[nr_netifs++] = nif;
	return 0;
}

int netif_register(struct netif *nif)
{
	unsigned int i = nr_eth;
	char name[8];
	int ret;

	snprintf(name, sizeof(name), "eth%u", i);
	ret = netif_register_named(nif, name);
	if (ret)
		return ret;
	nr_eth++;
	nif->index = i;
	if (net_cfg_ip[i]) {
		nif->ip = net_cfg_ip[i];
		nif->prefix = net_cfg_prefix[i];
		nif->mask = nif->prefix ? ~0u << (32 - nif->prefix) : 0;
	}
	/* A standby hands its address over to the failover device. */
	if (nif->standby)
		failover_create(nif);
	return 0;
}

void netif_bound(struct netif *nif)
{
	failover_event(nif);
}

int netif_rx(struct netif *nif, const u8 *frame, size_t len)
{
	/* One look at master: failover_rx may unpair a broken primary. */
	if (!nif->master)
		eth_input(nif, frame, len);
	else if (failover_rx(nif, frame, len))
		return -EBUSY;
	nif->st.rx_packets++;
	nif->st.rx_bytes += len;
	return 0;
}

void netif_set_carrier(struct netif *nif, bool up)
{
	if (nif->carrier == up || nif->broken)
		return;
	nif->carrier = up;
	/* An event, not boot chatter: printed even when quiet, unlocked. */
	console_defer("%s: link %s\n", nif->name, up ? "up" : "down", NULL);
	/* Tell the segment where we are: switches and peers' caches. */
	if (up && nif->ip) {
		arp_announce(nif);
		netif_tx_flush(nif);
	}
	failover_event(nif);
}

void netif_set_releasing(struct netif *nif)
{
	nif->releasing = true;
	failover_event(nif);
}

void netif_set_broken(struct netif *nif, const char *why)
{
	if (nif->broken)
		return;
	nif->broken = true;
	nif->broken_why = why;
	nif->carrier = false;
	nif->tx_pending = false;
	/* Traffic moves to the standby before the slow console line. */
	failover_event(nif);
	console_defer("%s: %s\n", nif->name, why, NULL);
}

u8 *netif_tx_alloc(struct netif *nif)
{
	u8 *buf;

	if (nif->broken || !nif->carrier) {
		nif->st.tx_dropped++;
		return NULL;
	}
	buf = nif->ops->tx_alloc(nif);
	if (!buf)
		nif->st.tx_dropped++;
	return buf;
}

void netif_tx_send(struct netif *nif, u8 *frame, size_t len)
{
	if (nif->broken)
		return;
	nif->ops->tx_send(nif, frame, len);
	nif->st.tx_packets++;
	nif->st.tx_bytes += len;
	nif->tx_pending = true;
}

void netif_tx_flush(struct netif *nif)
{
	if (!nif->tx_pending || nif->broken)
		return;
	nif->tx_pending = false;
	nif->ops->tx_flush(nif);
}
