// SPDX-License-Identifier: MIT
/*
 * e1000 as a device: the backend glue, host-side controls, the state
 * record, device ops, and construction from --device options.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "core/log.h"
#include "core/util.h"
#include "core/vm.h"
#include "dev/e1000.h"
#include "net/net.h"
#include "pci/opts.h"

static const struct device_ops e1000_dev_ops;

/* ---- backend ---- */

static void e1000_backend_rx(void *opaque)
{
	struct e1000 *e = opaque;

	pthread_mutex_lock(&e->lock);
	e1000_rx_run(e);
	pthread_mutex_unlock(&e->lock);
}

static void e1000_backend_tx(void *opaque)
{
	struct e1000 *e = opaque;

	pthread_mutex_lock(&e->lock);
	if (e->tx_waiting) {
		e->tx_waiting = false;
		netdev_tx_wait(e->nd, false);
	}
	e1000_tx_run(e);
	pthread_mutex_unlock(&e->lock);
}

static const struct netdev_client_ops e1000_client_ops = {
	.rx_ready = e1000_backend_rx,
	.tx_ready = e1000_backend_tx,
};

static void e1000_kick_cb(void *opaque, uint32_t events)
{
	struct e1000 *e = opaque;
	uint64_t cnt;

	if (read(e->kick_fd, &cnt, sizeof(cnt)) < 0 && errno != EAGAIN)
		return;
	/* Cleared before the work: a kick from now on is seen again. */
	__atomic_store_n(&e->kick_pending, false, __ATOMIC_RELEASE);
	e1000_poll(e);
}

/* Bus mastering on or off changes what the datapath may do. */
static void e1000_config_write(struct pci_dev *pd, unsigned off,
			       unsigned size)
{
	if (off < PCI_COMMAND + 2 && off + size > PCI_COMMAND)
		e1000_kick(pd->opaque);
}

static const struct pci_dev_ops e1000_pci_ops = {
	.config_write = e1000_config_write,
};

static const struct bus_ops e1000_mmio_ops = {
	.read = e1000_mmio_read, .write = e1000_mmio_write,
	.min_size = 1, .max_size = 4,
};

static const struct bus_ops e1000_io_ops = {
	.read = e1000_io_read, .write = e1000_io_write,
	.min_size = 1, .max_size = 4,
};

/* ---- host-side controls ---- */

struct e1000 *e1000_from_device(struct device *dev)
{
	if (!dev || dev->ops != &e1000_dev_ops)
		return NULL;
	return container_of(dev, struct e1000, dev);
}

struct e1000 *e1000_find(struct vm *vm, const char *id)
{
	return e1000_from_device(vm_find_device(vm, id));
}

int e1000_set_link(struct e1000 *e, bool up)
{
	pthread_mutex_lock(&e->lock);
	e->link_host = up;
	e1000_link_update(e);
	pthread_mutex_unlock(&e->lock);
	return 0;
}

static void e1000_mac_locked(struct e1000 *e, uint8_t mac[6])
{
	if (e->ra[1] & E1000_RAH_AV) {
		le_write(mac, 4, e->ra[0]);
		le_write(mac + 4, 2, e->ra[1]);
	} else {
		for (int i = 0; i < 3; i++)
			le_write(mac + 2 * i, 2, e->eeprom[i]);
	}
}

void e1000_get_mac(struct e1000 *e, uint8_t mac[6])
{
	pthread_mutex_lock(&e->lock);
	e1000_mac_locked(e, mac);
	pthread_mutex_unlock(&e->lock);
}

void e1000_get_counters(struct e1000 *e, struct e1000_counters *c)
{
	pthread_mutex_lock(&e->lock);
	*c = e->cnt;
	pthread_mutex_unlock(&e->lock);
}

/* RARP "reverse request" from mac to everyone, as QEMU's announce. */
static void e1000_build_rarp(uint8_t f[60], const uint8_t mac[6])
{
	static const uint8_t hdr[8] = { 0, 1, 8, 0, 6, 4, 0, 3 };

	memset(f, 0, 60);
	memset(f, 0xff, 6);
	memcpy(f + 6, mac, 6);
	e1000_put_be16(f + 12, 0x8035);
	memcpy(f + 14, hdr, sizeof(hdr));
	memcpy(f + 22, mac, 6);		/* sender hardware address */
	memcpy(f + 32, mac, 6);		/* target hardware address */
}

int e1000_announce(struct e1000 *e)
{
	static const uint8_t zero_hdr[E1000_VNET_HDR_MAX];
	uint8_t frame[60], mac[6];
	struct iovec iov[2];
	int cnt = 0;
	ssize_t r;

	pthread_mutex_lock(&e->lock);
	e1000_mac_locked(e, mac);
	e1000_build_rarp(frame, mac);
	if (e->nd->vnet_hdr_len)
		iov[cnt++] = (struct iovec){ (void *)zero_hdr,
					     e->nd->vnet_hdr_len };
	iov[cnt++] = (struct iovec){ frame, sizeof(frame) };
	r = netdev_send(e->nd, iov, cnt);
	pthread_mutex_unlock(&e->lock);
	return r < 0 ? r : 0;
}

/* ---- state ---- */

struct e1000_state {
	uint32_t regs[E1000_NR_REGS];
	uint32_t mta[E1000_MTA_SIZE];
	uint32_t vfta[E1000_VFTA_SIZE];
	uint32_t ra[2 * E1000_RA_ENTRIES];
	uint32_t stats[E1000_NR_STATS];
	uint32_t ioaddr;
	uint16_t eeprom[E1000_EEPROM_WORDS];
	uint16_t phy[E1000_PHY_REGS];
	uint16_t mw_in;
	uint8_t mw_bits, mw_addr, mw_out, mw_reading, mw_do;
	uint8_t link_host;
	uint8_t ipcss, ipcso, tucss, tucso, tucmd, hdr_len;
	uint16_t ipcse, tucse, mss;
	uint32_t paylen;
};

#define ES_INT(m)	STATE_INT(struct e1000_state, m)
#define ES_ARRAY(m)	STATE_INT_ARRAY(struct e1000_state, m)

static const struct state_field e1000_state_fields[] = {
	ES_ARRAY(regs), ES_ARRAY(mta), ES_ARRAY(vfta), ES_ARRAY(ra),
	ES_ARRAY(stats), ES_INT(ioaddr), ES_ARRAY(eeprom), ES_ARRAY(phy),
	ES_INT(mw_in), ES_INT(mw_bits), ES_INT(mw_addr), ES_INT(mw_out),
	ES_INT(mw_reading), ES_INT(mw_do), ES_INT(link_host),
	ES_INT(ipcss), ES_INT(ipcso), ES_INT(tucss), ES_INT(tucso),
	ES_INT(tucmd), ES_INT(hdr_len), ES_INT(ipcse), ES_INT(tucse),
	ES_INT(mss), ES_INT(paylen),
};

static const struct state_desc e1000_state_desc =
	STATE_DESC("e1000", 1, e1000_state_fields);

static void e1000_state_get(struct e1000 *e, struct e1000_state *s)
{
	const struct e1000_tx_ctx *c = &e->tx_ctx;

	memcpy(s->regs, e->r, sizeof(s->regs));
	memcpy(s->mta, e->mta, sizeof(s->mta));
	memcpy(s->vfta, e->vfta, sizeof(s->vfta));
	memcpy(s->ra, e->ra, sizeof(s->ra));
	memcpy(s->stats, e->stats, sizeof(s->stats));
	memcpy(s->eeprom, e->eeprom, sizeof(s->eeprom));
	memcpy(s->phy, e->phy, sizeof(s->phy));
	s->ioaddr = e->ioaddr;
	s->mw_in = e->mw_in;
	s->mw_bits = e->mw_bits;
	s->mw_addr = e->mw_addr;
	s->mw_out = e->mw_out;
	s->mw_reading = e->mw_reading;
	s->mw_do = e->mw_do;
	s->link_host = e->link_host;
	s->ipcss = c->ipcss;
	s->ipcso = c->ipcso;
	s->tucss = c->tucss;
	s->tucso = c->tucso;
	s->tucmd = c->tucmd;
	s->hdr_len = c->hdr_len;
	s->ipcse = c->ipcse;
	s->tucse = c->tucse;
	s->mss = c->mss;
	s->paylen = c->paylen;
}

static void e1000_state_put(struct e1000 *e, const struct e1000_state *s)
{
	struct e1000_tx_ctx *c = &e->tx_ctx;

	memcpy(e->r, s->regs, sizeof(e->r));
	memcpy(e->mta, s->mta, sizeof(e->mta));
	memcpy(e->vfta, s->vfta, sizeof(e->vfta));
	memcpy(e->ra, s->ra, sizeof(e->ra));
	memcpy(e->stats, s->stats, sizeof(e->stats));
	memcpy(e->eeprom, s->eeprom, sizeof(e->eeprom));
	memcpy(e->phy, s->phy, sizeof(e->phy));
	e->ioaddr = s->ioaddr;
	e->mw_in = s->mw_in;
	e->mw_bits = s->mw_bits;
	e->mw_addr = s->mw_addr;
	e->mw_out = s->mw_out;
	e->mw_reading = s->mw_reading;
	e->mw_do = s->mw_do;
	e->link_host = s->link_host;
	*c = (struct e1000_tx_ctx){
		.ipcss = s->ipcss, .ipcso = s->ipcso, .tucss = s->tucss,
		.tucso = s->tucso, .tucmd = s->tucmd, .hdr_len = s->hdr_len,
		.ipcse = s->ipcse, .tucse = s->tucse, .mss = s->mss,
		.paylen = s->paylen,
	};
}

static int e1000_save(struct device *dev, struct sbuf *out)
{
	struct e1000 *e = container_of(dev, struct e1000, dev);
	struct e1000_state *s = malloc(sizeof(*s));
	int ret;

	if (!s)
		return -ENOMEM;
	ret = pci_dev_save(&e->pci, out);
	if (!ret) {
		pthread_mutex_lock(&e->lock);
		e1000_state_get(e, s);
		pthread_mutex_unlock(&e->lock);
		ret = state_save(&e1000_state_desc, s, out);
	}
	free(s);
	return ret;
}

/*
 * A ring as the registers would let the driver program it.  Head and tail
 * beyond the length are among those (the registers are written one by
 * one): the data path refuses such a ring each time it looks
 * (e1000_ring_ok), so the record carries it as is rather than making the
 * VM unmigratable.
 */
static bool e1000_ring_valid(const uint32_t *r, unsigned bal, unsigned len,
			     unsigned h, unsigned t)
{
	return !(r[bal] & ~E1000_DBAL_MASK) && !(r[len] & ~E1000_DLEN_MASK) &&
	       r[h] <= E1000_DH_MASK && r[t] <= E1000_DH_MASK;
}

static const char *e1000_state_bad(const struct e1000_state *s)
{
	const uint32_t *r = s->regs;
	uint16_t sum = 0;

	if (!e1000_ring_valid(r, R_RDBAL, R_RDLEN, R_RDH, R_RDT) ||
	    !e1000_ring_valid(r, R_TDBAL, R_TDLEN, R_TDH, R_TDT))
		return "descriptor ring registers out of range";
	if ((r[R_ICR] | r[R_IMS]) & ~E1000_ICR_MASK ||
	    r[R_EECD] & ~E1000_EECD_WMASK || r[R_CTRL] & E1000_CTRL_RST)
		return "interrupt or control registers out of range";
	for (int i = 0; i < E1000_EEPROM_WORDS; i++)
		sum += s->eeprom[i];
	if (sum != E1000_EEPROM_SUM)
		return "EEPROM checksum is wrong";
	if (s->phy[MII_PHYID1] != M88_PHYID1 ||
	    s->phy[MII_PHYID2] != M88_PHYID2)
		return "PHY identity differs";
	if (s->mw_bits > 3 + E1000_EEPROM_ADDR_BITS ||
	    s->mw_addr >= E1000_EEPROM_WORDS || s->mw_out >= 16 ||
	    s->mw_reading > 1 || s->mw_do > 1 || s->link_host > 1)
		return "EEPROM interface or link state out of range";
	return NULL;
}

static int e1000_load_record(struct e1000 *e, struct sreader *in, char *err,
			     size_t errlen)
{
	struct e1000_state *s = calloc(1, sizeof(*s));
	const char *bad;
	int ret;

	if (!s)
		return -ENOMEM;
	ret = state_load(&e1000_state_desc, s, in, err, errlen);
	if (!ret && (bad = e1000_state_bad(s))) {
		snprintf(err, errlen, "e1000 %s: %s", e->params.id, bad);
		ret = -EINVAL;
	}
	if (!ret) {
		pthread_mutex_lock(&e->lock);
		e1000_state_put(e, s);
		e1000_rx_reset(e);
		e->rx_blocked = false;
		e1000_link_update(e);	/* this host's view of STATUS.LU */
		e1000_update_irq(e);
		pthread_mutex_unlock(&e->lock);
		e1000_kick(e);
	}
	free(s);
	return ret;
}

static int e1000_load(struct device *dev, struct sreader *in, char *err,
		      size_t errlen)
{
	struct e1000 *e = container_of(dev, struct e1000, dev);
	char tmp[200];
	int ret;

	if (!err) {
		err = tmp;
		errlen = sizeof(tmp);
	}
	ret = pci_dev_load(&e->pci, in, err, errlen);
	return ret ? ret : e1000_load_record(e, in, err, errlen);
}

/* ---- device ops ---- */

static void e1000_dev_reset(struct device *dev)
{
	struct e1000 *e = container_of(dev, struct e1000, dev);

	if (e->pci.host)
		pci_host_lock(e->pci.host);
	pci_dev_reset(&e->pci);
	if (e->pci.host)
		pci_host_unlock(e->pci.host);
	pthread_mutex_lock(&e->lock);
	e1000_reset_regs(e);
	e1000_rx_reset(e);
	e1000_update_irq(e);
	pthread_mutex_unlock(&e->lock);
	e1000_kick(e);
}

static void e1000_dev_pause(struct device *dev)
{
	struct e1000 *e = container_of(dev, struct e1000, dev);

	/* Taking the lock waits for a datapath pass to end. */
	pthread_mutex_lock(&e->lock);
	e->paused = true;
	e1000_rx_poll(e, false);
	pthread_mutex_unlock(&e->lock);
}

static void e1000_dev_resume(struct device *dev)
{
	struct e1000 *e = container_of(dev, struct e1000, dev);

	pthread_mutex_lock(&e->lock);
	e->paused = false;
	pthread_mutex_unlock(&e->lock);
	e1000_kick(e);
}

static int e1000_dev_set_link(struct device *dev, bool up)
{
	return e1000_set_link(container_of(dev, struct e1000, dev), up);
}

static int e1000_dev_announce(struct device *dev)
{
	return e1000_announce(container_of(dev, struct e1000, dev));
}

static void e1000_dev_destroy(struct device *dev)
{
	e1000_destroy(container_of(dev, struct e1000, dev));
}

static void e1000_dev_location(struct device *dev, char *buf, size_t len)
{
	pci_dev_location(&container_of(dev, struct e1000, dev)->pci, buf, len);
}

static const struct device_ops e1000_dev_ops = {
	.type = "e1000",
	.reset = e1000_dev_reset,
	.pause = e1000_dev_pause,
	.resume = e1000_dev_resume,
	.save = e1000_save,
	.load = e1000_load,
	.set_link = e1000_dev_set_link,
	.announce = e1000_dev_announce,
	.location = e1000_dev_location,
	.destroy = e1000_dev_destroy,
};

/* ---- construction ---- */

static int e1000_pci_setup(struct e1000 *e, struct vm *vm)
{
	struct pci_dev *pd = &e->pci;
	int ret;

	pci_dev_init(pd, vm, e->params.id, E1000_VENDOR, E1000_DEVICE,
		     PCI_CLASS_NETWORK_ETHERNET << 8, E1000_REVISION);
	pd->ops = &e1000_pci_ops;
	pd->opaque = e;
	pci_dev_set_subsystem(pd, E1000_SUBSYS_VENDOR, E1000_SUBSYS);
	pci_dev_set_intx_pin(pd, 1);
	ret = pci_bar_init(pd, E1000_MMIO_BAR, PCI_BAR_MEM32, false,
			   E1000_MMIO_SIZE, &e1000_mmio_ops, e, "e1000-mmio");
	if (!ret)
		ret = pci_bar_init(pd, E1000_IO_BAR, PCI_BAR_IO, false,
				   E1000_IO_SIZE, &e1000_io_ops, e, "e1000-io");
	return ret;
}

static void e1000_free(struct e1000 *e)
{
	if (e->kick_fd >= 0)
		close(e->kick_fd);
	free(e->rx_buf);
	free(e->tx_buf);
	free(e->tx_seg);
	pthread_mutex_destroy(&e->lock);
	free(e);
}

static struct e1000 *e1000_alloc(struct vm *vm, const struct e1000_params *p)
{
	struct e1000 *e = calloc(1, sizeof(*e));

	if (!e)
		return NULL;
	pthread_mutex_init(&e->lock, NULL);
	e->params = *p;
	snprintf(e->dev.id, sizeof(e->dev.id), "%s", p->id);
	e->dev.ops = &e1000_dev_ops;
	e->dev.vm = vm;
	e->link_host = true;
	e->kick_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	/* Room to pad a short frame and append its CRC. */
	e->rx_buf = malloc(E1000_RX_MAX + 64);
	e->tx_buf = malloc(E1000_TX_MAX);
	e->tx_seg = malloc(256);	/* hdr_len is 8 bits */
	if (e->kick_fd < 0 || !e->rx_buf || !e->tx_buf || !e->tx_seg) {
		e1000_free(e);
		return NULL;
	}
	return e;
}

int e1000_new(struct vm *vm, const struct e1000_params *p, struct netdev *nd,
	      struct e1000 **out)
{
	struct e1000 *e;
	int ret;

	if (nd->vnet_hdr_len > E1000_VNET_HDR_MAX) {
		pr_err("%s: netdev %s has a %u-byte header", p->id, nd->id,
		       nd->vnet_hdr_len);
		return -EINVAL;
	}
	e = e1000_alloc(vm, p);
	if (!e)
		return -ENOMEM;
	ret = e1000_pci_setup(e, vm);
	if (ret)
		goto free_e;
	e1000_reset_regs(e);
	/* The 82540 takes and gives plain frames: no offloads on the tap. */
	if (netdev_set_offload(nd, 0))
		pr_warn("%s: cannot clear offloads of netdev %s", p->id,
			nd->id);
	ret = netdev_attach(nd, e->dev.id, &e1000_client_ops, e);
	if (ret) {
		pr_err("%s: netdev %s is already used by %s", p->id, nd->id,
		       nd->user ? nd->user : "another device");
		goto free_e;
	}
	e->nd = nd;
	*out = e;
	return 0;

free_e:
	e1000_free(e);
	return ret;
}

int e1000_start(struct e1000 *e)
{
	int ret = evloop_add(&e->dev.vm->loop, e->kick_fd, EPOLLIN,
			     e1000_kick_cb, e);

	if (ret)
		return ret;
	e->kick_registered = true;
	pthread_mutex_lock(&e->lock);
	e->started = true;
	pthread_mutex_unlock(&e->lock);
	e1000_kick(e);	/* drain the backend until the driver is up */
	return 0;
}

void e1000_destroy(struct e1000 *e)
{
	if (!e)
		return;
	/* No guest access after this; then no loop callback either. */
	if (e->pci.host)
		pci_host_remove(e->pci.host, &e->pci);
	else
		pci_unmap_bars(&e->pci);
	pthread_mutex_lock(&e->lock);
	e->started = false;
	pthread_mutex_unlock(&e->lock);
	if (e->kick_registered)
		evloop_del(&e->dev.vm->loop, e->kick_fd);
	if (e->nd)
		netdev_detach(e->nd);
	e1000_free(e);
}

/* ---- options ---- */

/* addr=SLOT as QEMU writes it: "5", "0x5", "05.0". */
static int e1000_parse_slot(const char *s, int *slot)
{
	char *end;
	long v = strtol(s, &end, 16);

	if (end == s || (*end && strcmp(end, ".0")) || v < 1 ||
	    v >= PCI_NR_SLOTS)
		return -EINVAL;
	*slot = v;
	return 0;
}

static int e1000_copy(char *dst, size_t size, const char *src,
		      const char *what, const char *id)
{
	if (strlen(src) >= size) {
		pr_err("--device e1000,id=%s: %s is too long", id, what);
		return -EINVAL;
	}
	strcpy(dst, src);
	return 0;
}

static int e1000_parse_mac(const char *mac, const char *id, uint8_t out[6])
{
	static unsigned nics;

	if (!mac) {	/* a default range of its own, apart from virtio's */
		memcpy(out, (uint8_t[6]){ 0x52, 0x54, 0x00, 0xe1, 0x00,
					  (uint8_t)nics++ }, 6);
		return 0;
	}
	if (parse_mac(mac, out) || (out[0] & 1)) {
		pr_err("--device e1000,id=%s: bad mac '%s' (need a unicast aa:bb:cc:dd:ee:ff)",
		       id, mac);
		return -EINVAL;
	}
	return 0;
}

int e1000_parse(struct vm *vm, struct opts *o, struct e1000_params *p)
{
	const char *id = opts_get(o, "id"), *nd = opts_get(o, "netdev");
	const char *pair = opts_get(o, "failover_pair_id");
	const char *bus = opts_get(o, "bus"), *addr = opts_get(o, "addr");
	const char *mac = opts_get(o, "mac");

	memset(p, 0, sizeof(*p));
	p->slot = -1;
	if (opts_check_unused(o))
		return -EINVAL;
	if (pair && (!id || !*id)) {
		pr_err("--device e1000: Device with failover_pair_id needs to have id");
		return -EINVAL;
	}
	if (!id || !*id) {
		pr_err("--device e1000: missing id=");
		return -EINVAL;
	}
	if (!nd || !*nd) {
		pr_err("--device e1000,id=%s: missing netdev=", id);
		return -EINVAL;
	}
	if (e1000_copy(p->id, sizeof(p->id), id, "id", id) ||
	    e1000_copy(p->netdev, sizeof(p->netdev), nd, "netdev", id) ||
	    e1000_copy(p->failover_pair_id, sizeof(p->failover_pair_id),
		       pair ? pair : "", "failover_pair_id", id) ||
	    e1000_copy(p->bus, sizeof(p->bus), bus ? bus : "", "bus", id) ||
	    e1000_parse_mac(mac, id, p->mac))
		return -EINVAL;
	if (addr && e1000_parse_slot(addr, &p->slot)) {
		pr_err("--device e1000,id=%s: bad addr '%s' (slot 1-31)", id,
		       addr);
		return -EINVAL;
	}
	if (vm_find_device(vm, id)) {
		pr_err("--device e1000: duplicate id '%s'", id);
		return -EINVAL;
	}
	return 0;
}

static struct netdev *e1000_backend(struct vm *vm,
				    const struct e1000_params *p)
{
	struct netdev *nd = netdev_find(vm, p->netdev);

	if (!nd) {
		pr_err("--device e1000,id=%s: no --netdev with id '%s'", p->id,
		       p->netdev);
		return NULL;
	}
	if (nd->user) {
		pr_err("--device e1000,id=%s: netdev '%s' is already used by '%s'",
		       p->id, p->netdev, nd->user);
		return NULL;
	}
	return nd;
}

int e1000_create(struct vm *vm, struct opts *o)
{
	struct e1000_params p;
	struct netdev *nd;
	struct e1000 *e;
	int ret;

	ret = e1000_parse(vm, o, &p);
	if (ret)
		return ret;
	if (p.bus[0] && strcmp(p.bus, "pci.0") && strcmp(p.bus, "pcie.0")) {
		pr_err("--device e1000,id=%s: Bus '%s' not found", p.id, p.bus);
		return -EINVAL;
	}
	if (p.failover_pair_id[0]) {	/* QEMU's refusal for bus 0 */
		pr_err("--device e1000,id=%s: failover primary device must be on PCIExpress bus",
		       p.id);
		return -EINVAL;
	}
	nd = e1000_backend(vm, &p);
	if (!nd)
		return -EINVAL;
	ret = e1000_new(vm, &p, nd, &e);
	if (ret)
		return ret;
	ret = pci_host_add(vm->pci, &e->pci, p.slot);
	if (ret) {
		pr_err("--device e1000,id=%s: cannot place on PCI bus%s: %s",
		       p.id, p.slot < 0 ? "" : " at that addr", strerror(-ret));
		e1000_destroy(e);
		return -EINVAL;
	}
	ret = e1000_start(e);
	if (ret) {
		e1000_destroy(e);
		return ret;
	}
	vm_add_device(vm, &e->dev);
	return 0;
}
