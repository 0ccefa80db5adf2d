/*
 * Intel 82540EM (e1000) driver.
 *
 * Legacy descriptor rings with one fixed 2 KiB buffer per descriptor, so
 * the data path never allocates.  Rings and buffers are allocated on the
 * first bind of a slot and kept for reuse: the early allocator never frees,
 * and a card that comes and goes would otherwise leak them.
 *
 * Interrupts: INTx, level triggered.  The handler reads ICR (which clears
 * it and drops the line), then handles link changes, received frames and
 * transmit completions, all in ring 0 with the interface lock held.
 *
 * Polled (net/poll.c, with a poller on an AP of its own): the receive ->
 * stack -> transmit path runs in ring 3 on the poller's CPU, natively
 * where ring 0 is emulated, as for virtio-net.  The line then goes to the
 * poller's CPU, edge triggered, at a bare wake-up entry (user.c): a level
 * line there would interrupt again at every EOI until someone read ICR.
 * The poller reads ICR (which drops the line) before its last look at the
 * ring and going to sleep, so the next cause raises the line again: an
 * edge, a wake-up.  A link change it finds there goes to ring 0 on its
 * own CPU (kwork).  Why not the ring-0 handler on the boot CPU waking the
 * poller, as before: every received burst then waited for that CPU, whose
 * ring 0 is emulated and which handles hot-plug events with interrupts
 * off for tens of milliseconds; replies were held 5-8 ms at the start of
 * a burst and through every event.  Transmit completions never interrupt
 * (slots are reclaimed when the ring runs full).  Two bound e1000s on one
 * GSI are refused (e1000_bind): a GSI has one handler in either mode, and
 * on a shared edge-triggered line one card could keep it high while the
 * other raises it, so no edge, no wake-up.
 */

#include <apic.h>
#include <e1000.h>
#include <errno.h>
#include <io.h>
#include <mm.h>
#include <msix.h>
#include <net.h>
#include <printk.h>
#include <smp.h>
#include <string.h>
#include <time.h>
#include <user.h>
#include <x86.h>

/* Registers (byte offsets in BAR0). */
#define REG_CTRL	0x00000
#define REG_STATUS	0x00008
#define REG_EERD	0x00014
#define REG_ICR		0x000c0
#define REG_IMS		0x000d0
#define REG_IMC		0x000d8
#define REG_RCTL	0x00100
#define REG_TCTL	0x00400
#define REG_TIPG	0x00410
#define REG_RDBAL	0x02800
#define REG_RDBAH	0x02804
#define REG_RDLEN	0x02808
#define REG_RDH		0x02810
#define REG_RDT		0x02818
#define REG_TDBAL	0x03800
#define REG_TDBAH	0x03804
#define REG_TDLEN	0x03808
#define REG_TDH		0x03810
#define REG_TDT		0x03818
#define REG_RAL0	0x05400
#define REG_RAH0	0x05404

#define CTRL_SLU	(1u << 6)
#define CTRL_RST	(1u << 26)
#define STATUS_LU	(1u << 1)
#define EERD_START	(1u << 0)
#define EERD_DONE	(1u << 4)
#define EERD_ADDR_SHIFT	8
#define EERD_DATA_SHIFT	16
#define RAH_AV		(1u << 31)

#define ICR_TXDW	(1u << 0)
#define ICR_LSC		(1u << 2)
#define ICR_RXDMT0	(1u << 4)
#define ICR_RXO		(1u << 6)
#define ICR_RXT0	(1u << 7)
#define ICR_RX_ANY	(ICR_RXT0 | ICR_RXO | ICR_RXDMT0)
#define IMS_WANTED	(ICR_RXT0 | ICR_RXO | ICR_TXDW | ICR_LSC)
#define IMS_POLLED	(ICR_RX_ANY | ICR_LSC)
/* A busy poller still reads ICR this often, for link changes. */
#define ICR_LOOK_US	10000

#define RCTL_EN		(1u << 1)
#define RCTL_BAM	(1u << 15)
#define RCTL_SECRC	(1u << 26)	/* BSIZE 00: 2048-byte buffers */
#define TCTL_EN		(1u << 1)
#define TCTL_PSP	(1u << 3)
#define TCTL_CT		(0x0fu << 4)
#define TCTL_COLD	(0x40u << 12)	/* full duplex */
#define TIPG_DEFAULT	(10u | 8u << 10 | 6u << 20)

#define TX_CMD_EOP	0x01
#define TX_CMD_IFCS	0x02
#define TX_CMD_RS	0x08
#define DESC_DD		0x01
#define RX_EOP		0x02

#define E1000_MAX	4
#define RX_RING		128		/* multiples of 8 descriptors */
#define TX_RING		64
#define BUF_SIZE	2048
#define RESET_WAIT_US	10000
/* Orderly release of a failover primary: receive until this long passes
 * without a frame (the fabric has learned the standby's port), at most
 * DRAIN_MAX_US. */
#define DRAIN_QUIET_US	5000
#define DRAIN_MAX_US	100000

struct rx_desc {
	u64 addr;
	u16 len, csum;
	u8 status, errors;
	u16 special;
} __attribute__((packed));

struct tx_desc {
	u64 addr;
	u16 len;
	u8 cso, cmd, status, css;
	u16 special;
} __attribute__((packed));

struct e1000 {
	struct netif nif;
	struct pci_dev *pd;
	u64 mmio;
	unsigned int key, gsi;
	int vec;
	bool used, registered, bound;
	bool polled;		/* a ring-3 poller owns the data path */
	unsigned int poll_cpu;
	u64 icr_look;		/* TSC of the poller's last ICR read */
	struct kwork link_work;	/* a link change the poller found */
	struct rx_desc *rx;
	struct tx_desc *tx;
	u8 *rx_bufs, *tx_bufs;
	u16 rx_next;		/* next descriptor the device fills */
	u16 tx_tail;		/* next descriptor we fill */
	u16 tx_clean;		/* oldest descriptor not yet reclaimed */
	u64 irqs, binds, links;
};

static struct e1000 nics[E1000_MAX];

static u32 rd(const struct e1000 *e, u32 reg)
{
	return mmio_read32(e->mmio + reg);
}

static void wr(const struct e1000 *e, u32 reg, u32 v)
{
	mmio_write32(e->mmio + reg, v);
}

/* ---- transmit ---- */

static void tx_reclaim(struct e1000 *e)
{
	while (e->tx_clean != e->tx_tail &&
	       (e->tx[e->tx_clean].status & DESC_DD))
		e->tx_clean = (e->tx_clean + 1) % TX_RING;
}

/* The buffer of tx_tail: the same one until tx_send consumes it. */
static u8 *e1000_tx_alloc(struct netif *nif)
{
	struct e1000 *e = nif->priv;
	u16 next = (e->tx_tail + 1) % TX_RING;

	if (next == e->tx_clean)
		tx_reclaim(e);
	if (next == e->tx_clean)
		return NULL;
	return e->tx_bufs + (size_t)e->tx_tail * BUF_SIZE;
}

static void e1000_tx_send(struct netif *nif, u8 *frame, size_t len)
{
	struct e1000 *e = nif->priv;
	struct tx_desc *d = &e->tx[e->tx_tail];

	if (len > BUF_SIZE)
		return;
	/* Pad here: the device would send stale buffer bytes otherwise. */
	if (len < ETH_ZLEN) {
		memset(frame + len, 0, ETH_ZLEN - len);
		len = ETH_ZLEN;
	}
	d->len = len;
	d->cso = 0;
	d->css = 0;
	d->special = 0;
	d->status = 0;
	d->cmd = TX_CMD_EOP | TX_CMD_IFCS | TX_CMD_RS;
	e->tx_tail = (e->tx_tail + 1) % TX_RING;
}

static void e1000_tx_flush(struct netif *nif)
{
	struct e1000 *e = nif->priv;

	/* Descriptors must be in memory before the device sees the tail. */
	__atomic_thread_fence(__ATOMIC_RELEASE);
	wr(e, REG_TDT, e->tx_tail);
}

/* ---- receive ---- */

/* Frames handled (good or not); a frame fo0 could not take yet stays in
 * the ring, its descriptor still done, for the next pass. */
static int rx_batch(struct e1000 *e)
{
	u16 last = RX_RING;
	int n = 0;
	struct rx_desc *d;

	for (;;) {
		d = &e->rx[e->rx_next];
		if (!(d->status & DESC_DD))
			break;
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		/* One buffer holds any 1514-byte frame: no chains expected. */
		if (!(d->status & RX_EOP) || d->errors || d->len < ETH_HLEN ||
		    d->len > BUF_SIZE)
			e->nif.st.rx_errors++;
		else if (netif_rx(&e->nif, e->rx_bufs + (size_t)e->rx_next * BUF_SIZE,
				  d->len))
			break;
		d->status = 0;
		n++;
		last = e->rx_next;
		e->rx_next = (e->rx_next + 1) % RX_RING;
	}
	/* The descriptor just handled becomes the new tail: back to the NIC. */
	if (last != RX_RING)
		wr(e, REG_RDT, last);
	return n;
}

/* ---- polling (net/poll.c calls these in ring 3) ---- */

/*
 * [ring 3, locked] All ones from ICR: the card has left (surprise
 * removal).  Stop sending through it now, without the console line ring 3
 * cannot print: a failover primary's traffic moves to the standby within
 * a fraction of a millisecond instead of when pciehp, on the boot CPU,
 * gets to unbind it (a few milliseconds later; it prints the lines).
 */
static void card_gone(struct e1000 *e)
{
	if (!e->nif.carrier)
		return;
	e->nif.carrier = false;
	failover_event(&e->nif);
}

/*
 * [ring 3, locked] Read ICR, which clears it and drops the line, so that
 * the next cause is an edge that wakes the poller.  A link change found
 * there is left to ring 0 on this CPU (e1000_link_work).
 */
static void icr_look(struct e1000 *e)
{
	u32 icr = rd(e, REG_ICR);

	e->icr_look = rdtsc();
	if (icr == ~0u) {
		card_gone(e);
		return;
	}
	/*
	 * Ring 0 only for a real change: the bind's own LSC finds the carrier
	 * already set, and its kwork would wait, with the poller, for the
	 * lock the binding boot CPU holds while it prints (milliseconds).
	 */
	if ((icr & ICR_LSC) &&
	    !!(rd(e, REG_STATUS) & STATUS_LU) != e->nif.carrier)
		kwork_queue(e->poll_cpu, &e->link_work);
}

static int e1000_poll(struct netif *nif)
{
	struct e1000 *e = nif->priv;
	int done = 0;

	/* Unlocked peek: an idle ring costs one memory read, no lock. */
	if (!(READ_ONCE(e->rx[e->rx_next].status) & DESC_DD))
		return 0;
	/* Busy: ring 0 (bind, link, release) has it, maybe printing for
	 * milliseconds; serve the other interfaces meanwhile. */
	if (!spin_trylock(&nif->lock))
		return 1;
	if (e->bound && !nif->broken) {
		done = rx_batch(e);
		netif_tx_flush(nif);
		/* A poller that never sleeps must still see link changes. */
		if (rdtsc() - e->icr_look > ICR_LOOK_US * tsc_khz() / 1000)
			icr_look(e);
	}
	spin_unlock(&nif->lock);
	return done;
}

/* Line low, so a frame from now on wakes us; false if one is waiting. */
static bool e1000_arm(struct netif *nif)
{
	struct e1000 *e = nif->priv;
	bool quiet = true;

	if (!spin_trylock(&nif->lock))
		return false;
	if (e->bound && !nif->broken) {
		icr_look(e);
		/* After the read: a frame before it raised no new edge. */
		quiet = !(READ_ONCE(e->rx[e->rx_next].status) & DESC_DD);
	}
	spin_unlock(&nif->lock);
	return quiet;
}

/*
 * The INTx line's route: level to the ring-0 handler on this (the boot)
 * CPU, or, polled, edge to the poller's wake-up entry (see the top).
 */
static int route_irq(struct e1000 *e)
{
	int ret;

	if (!e->polled)
		return ioapic_route_gsi(e->gsi, e->vec, lapic_id(), true, true);
	ret = user_wake_vector(e->vec);
	if (!ret)
		ret = ioapic_route_gsi(e->gsi, e->vec, cpus[e->poll_cpu].apic_id,
				       false, true);
	return ret;
}

/* Ring 0, before the bind enables interrupts (IMS). */
static int e1000_set_poller(struct netif *nif, unsigned int cpu)
{
	struct e1000 *e = nif->priv;

	e->poll_cpu = cpu;
	e->polled = true;
	e->icr_look = rdtsc();
	return route_irq(e);
}

/* ---- link and interrupts ---- */

static void e1000_check(struct netif *nif)
{
	struct e1000 *e = nif->priv;
	u32 status;

	if (!e->bound || nif->broken)
		return;
	status = rd(e, REG_STATUS);
	/* All ones: the card has left; pciehp unbinds it. */
	netif_set_carrier(nif, status != ~0u && (status & STATUS_LU));
}

/* Ring 0 on the poller's CPU, interrupts on (kwork): a link change. */
static void e1000_link_work(struct kwork *w)
{
	struct e1000 *e = (struct e1000 *)((u8 *)w -
					   offsetof(struct e1000, link_work));
	u64 flags = netif_lock(&e->nif);

	e->links++;
	e1000_check(&e->nif);
	netif_unlock(&e->nif, flags);
}

static void e1000_irq(void *ctx)
{
	struct e1000 *e = ctx;
	u32 icr;

	spin_lock(&e->nif.lock);
	if (!e->bound || e->nif.broken)
		goto out;
	icr = rd(e, REG_ICR);
	if (!icr)
		goto out;		/* a shared line: someone else's */
	e->irqs++;
	if (icr & ICR_LSC)
		e1000_check(&e->nif);
	if (icr & ICR_RX_ANY)
		rx_batch(e);
	if (icr & ICR_TXDW)
		tx_reclaim(e);
	netif_tx_flush(&e->nif);
out:
	spin_unlock(&e->nif.lock);
	console_flush_deferred();
}

static void e1000_show(struct netif *nif)
{
	struct e1000 *e = nif->priv;
	const struct pci_dev *pd = e->pd;

	printf("    pci %02x:%02x.%u %04x:%04x, mmio %#llx, intx gsi %u vector %#x, %s\n",
	       pd->bus, pd->dev, pd->fn, pd->vendor, pd->device, e->mmio,
	       e->gsi, e->vec, e->bound ? "bound" : "unbound");
	printf("    rings rx %u (next %u) tx %u (tail %u clean %u); irqs %llu, link changes polled %llu; binds %llu; %s\n",
	       RX_RING, e->rx_next, TX_RING, e->tx_tail, e->tx_clean, e->irqs,
	       e->links, e->binds,
	       e->polled ? "polled in ring 3" : "interrupt driven");
}

static const struct netif_ops e1000_ops = {
	.tx_alloc = e1000_tx_alloc,
	.tx_send = e1000_tx_send,
	.tx_flush = e1000_tx_flush,
	.check = e1000_check,
	.show = e1000_show,
	.poll = e1000_poll,
	.arm = e1000_arm,
	.set_poller = e1000_set_poller,
};

/* ---- bring-up ---- */

static int e1000_reset(struct e1000 *e)
{
	u64 start = uptime_us();

	wr(e, REG_IMC, ~0u);
	wr(e, REG_CTRL, rd(e, REG_CTRL) | CTRL_RST);
	while (rd(e, REG_CTRL) & CTRL_RST) {
		if (uptime_us() - start > RESET_WAIT_US)
			return -ETIMEDOUT;
		cpu_relax();
	}
	wr(e, REG_IMC, ~0u);
	rd(e, REG_ICR);
	return 0;
}

static int eeprom_read(struct e1000 *e, u8 word, u16 *val)
{
	u64 start = uptime_us();
	u32 v;

	wr(e, REG_EERD, EERD_START | (u32)word << EERD_ADDR_SHIFT);
	while (!((v = rd(e, REG_EERD)) & EERD_DONE)) {
		if (uptime_us() - start > RESET_WAIT_US)
			return -ETIMEDOUT;
		cpu_relax();
	}
	*val = v >> EERD_DATA_SHIFT;
	return 0;
}

/* Receive address 0 holds the EEPROM MAC after reset; else ask the EEPROM. */
static int read_mac(struct e1000 *e)
{
	u32 lo = rd(e, REG_RAL0), hi = rd(e, REG_RAH0);
	u16 w[3];
	int i, ret;

	if (hi & RAH_AV) {
		for (i = 0; i < 4; i++)
			e->nif.mac[i] = lo >> (8 * i);
		e->nif.mac[4] = hi;
		e->nif.mac[5] = hi >> 8;
		return 0;
	}
	for (i = 0; i < 3; i++) {
		ret = eeprom_read(e, i, &w[i]);
		if (ret)
			return ret;
		e->nif.mac[2 * i] = w[i];
		e->nif.mac[2 * i + 1] = w[i] >> 8;
	}
	wr(e, REG_RAL0, w[0] | (u32)w[1] << 16);
	wr(e, REG_RAH0, w[2] | RAH_AV);
	return 0;
}

static int alloc_rings(struct e1000 *e)
{
	if (e->rx)
		return 0;
	e->rx = early_alloc(RX_RING * sizeof(*e->rx), PAGE_SIZE);
	e->tx = early_alloc(TX_RING * sizeof(*e->tx), PAGE_SIZE);
	e->rx_bufs = early_alloc_nozero((size_t)RX_RING * BUF_SIZE, PAGE_SIZE);
	e->tx_bufs = early_alloc_nozero((size_t)TX_RING * BUF_SIZE, PAGE_SIZE);
	if (!e->rx || !e->tx || !e->rx_bufs || !e->tx_bufs) {
		e->rx = NULL;
		return -ENOMEM;
	}
	return 0;
}

static void setup_rx(struct e1000 *e)
{
	unsigned int i;

	for (i = 0; i < RX_RING; i++)
		e->rx[i] = (struct rx_desc){
			.addr = (u64)(e->rx_bufs + (size_t)i * BUF_SIZE) };
	e->rx_next = 0;
	wr(e, REG_RDBAL, (u32)(u64)e->rx);
	wr(e, REG_RDBAH, (u64)e->rx >> 32);
	wr(e, REG_RDLEN, RX_RING * sizeof(*e->rx));
	wr(e, REG_RDH, 0);
	/* All but one descriptor: head == tail would mean "none". */
	wr(e, REG_RDT, RX_RING - 1);
	wr(e, REG_RCTL, RCTL_EN | RCTL_BAM | RCTL_SECRC);
}

static void setup_tx(struct e1000 *e)
{
	unsigned int i;

	for (i = 0; i < TX_RING; i++)
		e->tx[i] = (struct tx_desc){
			.addr = (u64)(e->tx_bufs + (size_t)i * BUF_SIZE),
			.status = DESC_DD };
	e->tx_tail = e->tx_clean = 0;
	wr(e, REG_TDBAL, (u32)(u64)e->tx);
	wr(e, REG_TDBAH, (u64)e->tx >> 32);
	wr(e, REG_TDLEN, TX_RING * sizeof(*e->tx));
	wr(e, REG_TDH, 0);
	wr(e, REG_TDT, 0);
	wr(e, REG_TIPG, TIPG_DEFAULT);
	wr(e, REG_TCTL, TCTL_EN | TCTL_PSP | TCTL_CT | TCTL_COLD);
}

static int e1000_setup(struct e1000 *e)
{
	int ret;

	ret = e1000_reset(e);
	if (!ret)
		ret = read_mac(e);
	if (!ret)
		ret = alloc_rings(e);
	if (ret)
		return ret;
	/*
	 * Reset leaves the multicast table as it was, and Linux clears it;
	 * we do not: a stale entry only lets a multicast frame in, which
	 * eth_input drops (it takes our MAC and broadcast), while clearing
	 * is 128 register writes, each a VM exit in emulated ring 0, in the
	 * middle of a hot-add.
	 */
	wr(e, REG_CTRL, rd(e, REG_CTRL) | CTRL_SLU);
	setup_rx(e);
	setup_tx(e);
	return 0;
}

static struct e1000 *slot_nic(unsigned int key, bool create)
{
	unsigned int i;

	for (i = 0; i < E1000_MAX; i++) {
		if (nics[i].used && nics[i].key == key)
			return &nics[i];
	}
	if (!create)
		return NULL;
	for (i = 0; i < E1000_MAX; i++) {
		if (!nics[i].used) {
			nics[i].used = true;
			nics[i].key = key;
			nics[i].vec = -1;
			nics[i].link_work.fn = e1000_link_work;
			return &nics[i];
		}
	}
	return NULL;
}

/* Stop DMA and interrupts of a present device (lock held or not bound). */
static void quiesce(struct e1000 *e)
{
	wr(e, REG_IMC, ~0u);
	wr(e, REG_RCTL, 0);
	wr(e, REG_TCTL, 0);
	rd(e, REG_ICR);
	pci_write16(e->pd, PCI_COMMAND,
		    pci_read16(e->pd, PCI_COMMAND) & ~PCI_CMD_MASTER);
}

static int e1000_start(struct e1000 *e)
{
	int ret;

	e->mmio = pci_bar_mmio(e->pd, 0, 0, 0x20000);
	if (!e->mmio)
		return -ENODEV;
	ret = e1000_setup(e);
	if (ret)
		return ret;
	if (e->vec < 0) {
		e->vec = irq_vector_alloc(e1000_irq, e);
		if (e->vec < 0)
			return e->vec;
	}
	ret = route_irq(e);
	if (ret)
		return ret;
	e->nif.kind = "e1000";
	e->nif.ops = &e1000_ops;
	e->nif.priv = e;
	if (!e->registered) {
		ret = netif_register(&e->nif);
		if (ret)
			return ret;
		e->registered = true;
	}
	return 0;
}

/* Another bound e1000 on this GSI (see the top); NULL if none. */
static const struct e1000 *gsi_user(const struct e1000 *e, unsigned int gsi)
{
	unsigned int i;

	for (i = 0; i < E1000_MAX; i++) {
		if (&nics[i] != e && nics[i].bound && nics[i].gsi == gsi)
			return &nics[i];
	}
	return NULL;
}

int e1000_bind(struct pci_dev *pd, unsigned int key, unsigned int gsi,
	       const char **ifname)
{
	struct e1000 *e = slot_nic(key, true);
	const struct e1000 *other;
	u64 flags;
	int ret;

	if (!e)
		return -ENOSPC;
	if (e->bound)
		return -EBUSY;
	other = gsi_user(e, gsi);
	if (other) {
		pr_err("e1000: INTx GSI %u is %s's already; a second card on one line is not supported\n",
		       gsi, other->nif.name);
		return -EBUSY;
	}
	e->pd = pd;
	e->gsi = gsi;
	flags = irq_save();
	ret = e1000_start(e);
	if (ret) {
		if (e->mmio)
			quiesce(e);
		irq_restore(flags);
		return ret;
	}
	/* A rebind reuses the interface: it works again, link from scratch. */
	e->nif.broken = false;
	e->nif.releasing = false;
	e->nif.carrier = false;
	e->nif.tx_pending = false;
	e->bound = true;
	e->binds++;
	pd->owner = e->nif.name;
	net_poll_attach(&e->nif);
	wr(e, REG_IMS, e->polled ? IMS_POLLED : IMS_WANTED);
	irq_restore(flags);
	*ifname = e->nif.name;
	/* Link may already be up: LSC fired before IMS was set. */
	flags = netif_lock(&e->nif);
	/* Pair first (a failover primary), then the carrier may switch. */
	netif_bound(&e->nif);
	e1000_check(&e->nif);
	netif_unlock(&e->nif, flags);
	return 0;
}

/*
 * Make before break, for a failover primary that leaves in order: fo0
 * moves transmit to the standby first (with its gratuitous ARP) while
 * this card still receives, so frames the fabric sends here meanwhile
 * are delivered instead of dying with the card.  Ring 0, interrupts off
 * (the hot-plug handler): without a poller, receive is done here.
 */
static void e1000_drain(struct e1000 *e)
{
	u64 start, last, now, seen;
	u64 flags;

	flags = netif_lock(&e->nif);
	netif_set_releasing(&e->nif);
	seen = e->nif.st.rx_packets;
	netif_unlock(&e->nif, flags);
	/* After the switch and its console line (milliseconds): the quiet
	 * spell counts from here. */
	start = last = now = uptime_us();
	while (now - last < DRAIN_QUIET_US && now - start < DRAIN_MAX_US) {
		if (!e->polled) {
			flags = netif_lock(&e->nif);
			rx_batch(e);
			netif_tx_flush(&e->nif);
			netif_unlock(&e->nif, flags);
		}
		/* Quiet means nothing received and nothing waiting: a poller
		 * the host preempted must not pass for a quiet fabric. */
		if (READ_ONCE(e->nif.st.rx_packets) != seen ||
		    (READ_ONCE(e->rx[e->rx_next].status) & DESC_DD)) {
			seen = READ_ONCE(e->nif.st.rx_packets);
			last = now;
		}
		cpu_relax();
		now = uptime_us();
	}
}

void e1000_unbind(unsigned int key, bool present)
{
	struct e1000 *e = slot_nic(key, false);
	u64 flags;

	if (!e || !e->bound)
		return;
	if (present && !e->nif.broken && e->nif.master)
		e1000_drain(e);
	flags = netif_lock(&e->nif);
	/* Orderly: what the card already received is not lost with it. */
	if (present && !e->nif.broken) {
		rx_batch(e);
		netif_tx_flush(&e->nif);
	}
	e->bound = false;
	/* First, so a failover device moves its traffic at once. */
	netif_set_broken(&e->nif, present ? "unbound" : "device gone");
	if (present)
		quiesce(e);
	ioapic_mask_gsi(e->gsi);
	e->pd->owner = NULL;
	netif_unlock(&e->nif, flags);
}
