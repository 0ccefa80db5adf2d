/*
 * Network boot options, bring-up, and the console commands (`net`,
 * `ifconfig`, `arp`; `ping` lives in ping.c).
 */

#include <errno.h>
#include <net.h>
#include <pci_dev.h>
#include <printk.h>
#include <string.h>

/* ip= for eth0, ip1= for eth1, ...; read by netif_register(). */
u32 net_cfg_ip[NETIF_MAX];
u8 net_cfg_prefix[NETIF_MAX];
static char corrupt_target[8];

#define DEFAULT_PREFIX	24

char *ip_str(u32 ip, char *buf)
{
	snprintf(buf, 16, "%u.%u.%u.%u", ip >> 24, (ip >> 16) & 0xff,
		 (ip >> 8) & 0xff, ip & 0xff);
	return buf;
}

char *mac_str(const u8 *m, char *buf)
{
	snprintf(buf, 18, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2],
		 m[3], m[4], m[5]);
	return buf;
}

/* Decimal 0-max, stopping at `end`; returns the text after it or NULL. */
static const char *parse_num(const char *s, char end, u32 max, u32 *out)
{
	u32 v = 0;
	int digits = 0;

	for (; *s >= '0' && *s <= '9' && digits < 4; s++, digits++)
		v = v * 10 + (*s - '0');
	if (!digits || v > max || *s != end)
		return NULL;
	*out = v;
	return end ? s + 1 : s;
}

int ip_parse(const char *s, u32 *ip)
{
	u32 v = 0, part;
	int i;

	for (i = 0; i < 4; i++) {
		s = parse_num(s, i < 3 ? '.' : '\0', 255, &part);
		if (!s)
			return -EINVAL;
		v = v << 8 | part;
	}
	*ip = v;
	return 0;
}

/* "ip" is eth0, "ipN" is ethN. */
static int opt_index(const char *name, const char *prefix, unsigned int *idx)
{
	size_t n = strlen(prefix);
	u64 v;

	if (strncmp(name, prefix, n))
		return -EINVAL;
	if (!name[n]) {
		*idx = 0;
		return 0;
	}
	if (kstrtou64(name + n, 10, &v) || v >= NETIF_MAX)
		return -EINVAL;
	*idx = v;
	return 0;
}

int net_opt_ip(const char *name, const char *val)
{
	char addr[16];
	const char *slash;
	unsigned int idx;
	u32 ip, prefix = DEFAULT_PREFIX;
	size_t len;

	if (!val || opt_index(name, "ip", &idx))
		return -EINVAL;
	slash = strchr(val, '/');
	len = slash ? (size_t)(slash - val) : strlen(val);
	if (len >= sizeof(addr))
		return -EINVAL;
	memcpy(addr, val, len);
	addr[len] = '\0';
	if (ip_parse(addr, &ip) || !ip)
		return -EINVAL;
	if (slash && (!parse_num(slash + 1, '\0', 32, &prefix) || !prefix))
		return -EINVAL;
	net_cfg_ip[idx] = ip;
	net_cfg_prefix[idx] = prefix;
	return 0;
}

int net_opt_corrupt_ring(const char *name __unused, const char *val)
{
	if (!val || strncmp(val, "eth", 3) || strlen(val) >= sizeof(corrupt_target))
		return -EINVAL;
	strlcpy(corrupt_target, val, sizeof(corrupt_target));
	return 0;
}

/* The one-line summary, as in the boot log and `net`. */
static void netif_line(struct netif *nif)
{
	char mac[18];

	printf("%s: %s %s link %s standby=%s%s%s%s\n", nif->name, nif->kind,
	       mac_str(nif->mac, mac),
	       nif->broken ? "broken" : nif->carrier ? "up" : "down",
	       nif->standby ? "yes" : "no", nif->broken ? " (" : "",
	       nif->broken ? nif->broken_why : "", nif->broken ? ")" : "");
}

/* The boot option that sets ethN's address: ip, ip1, ip2, ... */
static const char *ip_opt_name(unsigned int idx, char *buf)
{
	if (!idx)
		return "ip";
	snprintf(buf, 8, "ip%u", idx);
	return buf;
}

static void netif_addr_line(struct netif *nif)
{
	char ip[16], opt[8];

	if (nif->ip)
		printf("%s: inet %s/%u\n", nif->name, ip_str(nif->ip, ip),
		       nif->prefix);
	else
		printf("%s: no address (boot option %s=ADDR/PREFIX)\n",
		       nif->name, ip_opt_name(nif->index, opt));
}

void net_init(void)
{
	char opt[8];
	unsigned int i;
	u64 flags;

	pci_enumerate();
	virtio_net_probe_all();
	for (i = 0; i < netif_count(); i++) {
		struct netif *nif = netif_get(i);

		if (console_is_quiet())
			continue;
		netif_line(nif);
		netif_addr_line(nif);
	}
	for (i = netif_eth_count(); i < NETIF_MAX; i++) {
		if (net_cfg_ip[i])
			pr_warn("net: %s= given but there is no eth%u\n",
				ip_opt_name(i, opt), i);
	}
	net_poll_start();
	/* Announce ourselves on every link that came up with an address. */
	for (i = 0; i < netif_count(); i++) {
		struct netif *nif = netif_get(i);

		flags = netif_lock(nif);
		if (nif->carrier && nif->ip) {
			arp_announce(nif);
			netif_tx_flush(nif);
		}
		netif_unlock(nif, flags);
	}
}

void net_after_ready(void)
{
	struct netif *nif;
	u64 flags;
	int ret;

	if (!corrupt_target[0])
		return;
	nif = netif_by_name(corrupt_target);
	if (!nif || !nif->ops->corrupt) {
		pr_err("corrupt_ring=%s: no such interface\n", corrupt_target);
		return;
	}
	printf("%s: corrupting the transmit ring on purpose (corrupt_ring=)\n",
	       nif->name);
	flags = netif_lock(nif);
	ret = nif->ops->corrupt(nif);
	netif_unlock(nif, flags);
	if (ret)
		pr_err("%s: cannot corrupt the ring (%d)\n", nif->name, ret);
}

static void show_netif(struct netif *nif)
{
	const struct netif_stats *s = &nif->st;
	u64 flags;

	/* A status read also catches a failure whose interrupt was lost. */
	flags = netif_lock(nif);
	if (nif->ops->check)
		nif->ops->check(nif);
	netif_unlock(nif, flags);
	netif_line(nif);
	netif_addr_line(nif);
	printf("    rx packets %llu bytes %llu dropped %llu errors %llu\n",
	       s->rx_packets, s->rx_bytes, s->rx_dropped, s->rx_errors);
	printf("    tx packets %llu bytes %llu dropped %llu errors %llu\n",
	       s->tx_packets, s->tx_bytes, s->tx_dropped, s->tx_errors);
	if (nif->ops->show)
		nif->ops->show(nif);
}

/* net [ethN]: interfaces with address, link, standby, counters. */
void net_cmd_net(int argc, char **argv)
{
	struct netif *nif;
	unsigned int i;

	if (argc > 1) {
		nif = netif_by_name(argv[1]);
		if (!nif)
			printf("no interface %s\n", argv[1]);
		else
			show_netif(nif);
		return;
	}
	if (!netif_count())
		printf("no network interfaces\n");
	for (i = 0; i < netif_count(); i++)
		show_netif(netif_get(i));
	if (netif_count())
		net_poll_show();
}

void net_cmd_arp(int argc __unused, char **argv __unused)
{
	unsigned int i;

	if (!netif_count())
		printf("no network interfaces\n");
	for (i = 0; i < netif_count(); i++)
		arp_dump(netif_get(i));
}
