/*
 * virtio-net driver (virtio 1.x, 5.1) over the modern PCI transport.
 *
 * Queues: 0 receive, 1 transmit, 2 control (when CTRL_VQ is offered).
 * Every buffer is a fixed 2 KiB slot tied to its descriptor, so the data
 * path never allocates: a receive slot goes back to the ring as soon as
 * the stack is done with the frame, and a transmit slot is reused once the
 * device has put it in the used ring.
 *
 * Interrupts (MSI-X): entry 0 for configuration changes (link, announce,
 * DEVICE_NEEDS_RESET), always handled in ring 0 on the boot CPU; entry 1
 * for the queues.  Transmit completions normally do not interrupt: slots
 * are reclaimed when the free list runs dry.
 *
 * Two ways to run the data path:
 *  - polled (net/poll.c, when a CPU is free): the receive -> stack ->
 *    transmit path runs in ring 3 on the poller's CPU, natively even on
 *    kvm_pvm; the queue interrupt only wakes that CPU, kicks go through
 *    MMIO (no port I/O in ring 3), and a full transmit ring holds receive
 *    processing back instead of dropping replies;
 *  - interrupt driven: the same path in the queue interrupt handler, in
 *    ring 0, with one transmit kick per batch.
 *
 * Features: VERSION_1 (required), MAC, STATUS, CTRL_VQ, GUEST_ANNOUNCE,
 * EVENT_IDX, and STANDBY whenever offered.  No offloads (the stack makes
 * full checksums) and no MRG_RXBUF (a slot holds any 1500-MTU frame).
 */

#include <apic.h>
#include <errno.h>
#include <mm.h>
#include <net.h>
#include <printk.h>
#include <smp.h>
#include <string.h>
#include <user.h>
#include <virtio.h>
#include <x86.h>

#define VNET_DEV_TRANSITIONAL	0x1000
#define VNET_DEV_MODERN		0x1041
#define PCI_SUBSYS_ID		0x2e
#define VIRTIO_ID_NET		1

#define VNET_MAX		NETIF_MAX
#define VNET_HDR_LEN		12	/* virtio_net_hdr with num_buffers */
#define VNET_BUF_SIZE		2048
#define VNET_QSIZE_MAX		256
#define VNET_CTRL_QSIZE_MAX	16
#define VNET_RX_REFILL_BATCH	32

#define VNET_RXQ		0
#define VNET_TXQ		1
#define VNET_CTRLQ		2

/* Feature bits (virtio 5.1.3). */
#define VNET_F_MAC		5
#define VNET_F_MRG_RXBUF	15
#define VNET_F_STATUS		16
#define VNET_F_CTRL_VQ		17
#define VNET_F_GUEST_ANNOUNCE	21
#define VNET_F_STANDBY		62
#define BIT64(b)		(1ULL << (b))

#define VNET_WANTED	(BIT64(VIRTIO_F_VERSION_1) | BIT64(VIRTIO_F_EVENT_IDX) | \
			 BIT64(VNET_F_MAC) | BIT64(VNET_F_STATUS) |	       \
			 BIT64(VNET_F_CTRL_VQ) | BIT64(VNET_F_GUEST_ANNOUNCE) | \
			 BIT64(VNET_F_STANDBY))

/* Device configuration layout. */
#define VNET_CFG_MAC		0
#define VNET_CFG_STATUS		6
#define VNET_S_LINK_UP		1
#define VNET_S_ANNOUNCE		2

/* Control queue (virtio 5.1.6.5). */
#define VNET_CTRL_ANNOUNCE	3
#define VNET_CTRL_ANNOUNCE_ACK	0
#define VNET_CTRL_OK		0
#define VNET_CTRL_PENDING	0xff

#define MSIX_CFG_ENTRY		0
#define MSIX_QUEUE_ENTRY	1

/* Anything but RAM: the host must refuse it and mark the device broken. */
#define CORRUPT_ADDR		0xfffffffff000ULL

struct vnet {
	struct netif nif;
	struct virtio_pci vp;
	struct pci_dev *pd;
	struct virtq rxq, txq, ctlq;
	u8 *rx_bufs, *tx_bufs;
	u8 *ctl_buf;		/* [0] class, [1] command, [2] ack */
	u16 tx_free[VNET_QSIZE_MAX];
	u16 tx_nfree;
	int tx_reserved;	/* slot handed out by tx_alloc, or -1 */
	u64 offered, features;
	u16 cfg_entry, q_entry;
	int cfg_vec, q_vec;
	bool has_ctrl;
	bool ready;
	bool announce_busy;	/* ANNOUNCE_ACK in flight */
	bool polled;		/* a ring-3 poller owns the queues */
	bool tx_stalled;	/* polled, and the transmit ring is full */
	bool cfg_defer;		/* config interrupts hit the poller's CPU */
	unsigned int poll_cpu;
	u32 cfg_apic;		/* where configuration interrupts go */
	struct kwork cfg_work;
	u64 cfg_irqs, q_irqs, announces, announce_errors, tx_stalls;
};

static struct vnet vnets[VNET_MAX];
static unsigned int nr_vnets;

static bool has(const struct vnet *n, unsigned int bit)
{
	return n->features & BIT64(bit);
}

static u8 *slot(u8 *bufs, u32 id)
{
	return bufs + (size_t)id * VNET_BUF_SIZE;
}

/* ---- device configuration ---- */

/* A consistent snapshot of the status field (config generation). */
static u16 vnet_read_status(struct vnet *n)
{
	u16 gen, s;

	do {
		gen = vp_config_generation(&n->vp);
		s = vp_cfg_read16(&n->vp, VNET_CFG_STATUS);
	} while (gen != vp_config_generation(&n->vp));
	return s;
}

static void vnet_read_mac(struct vnet *n)
{
	const struct pci_dev *pd = n->pd;
	u16 gen;
	int i;

	if (!has(n, VNET_F_MAC)) {
		/* Locally administered, unique per slot. */
		u8 mac[ETH_ALEN] = { 0x02, 0x46, 0x56, pd->bus, pd->dev, pd->fn };

		memcpy(n->nif.mac, mac, ETH_ALEN);
		return;
	}
	do {
		gen = vp_config_generation(&n->vp);
		for (i = 0; i < ETH_ALEN; i++)
			n->nif.mac[i] = vp_cfg_read8(&n->vp, VNET_CFG_MAC + i);
	} while (gen != vp_config_generation(&n->vp));
}

/* ---- control queue ---- */

static int vnet_ctrl_send(struct vnet *n, u8 cls, u8 cmd)
{
	if (!n->has_ctrl || n->announce_busy)
		return -EBUSY;
	n->ctl_buf[0] = cls;
	n->ctl_buf[1] = cmd;
	n->ctl_buf[2] = VNET_CTRL_PENDING;
	virtq_post(&n->ctlq, 0);
	virtq_publish(&n->ctlq);
	virtq_kick(&n->ctlq);
	n->announce_busy = true;
	return 0;
}

/* Completed control commands; runs in ring 3 when polled: no printing. */
static unsigned int vnet_ctrl_reap(struct vnet *n)
{
	unsigned int done = 0;
	u32 id, len;

	while (virtq_get_used(&n->ctlq, &id, &len)) {
		done++;
		n->announce_busy = false;
		if (n->ctl_buf[2] != VNET_CTRL_OK)
			n->announce_errors++;
	}
	return done;
}

/* GUEST_ANNOUNCE: gratuitous ARP first, then tell the device it is done. */
static void vnet_announce(struct vnet *n)
{
	if (n->announce_busy)
		return;
	n->announces++;
	/* A failover slave has no address of its own: fo0 announces. */
	if (n->nif.master)
		failover_announce_soon();
	else
		arp_announce(&n->nif);
	netif_tx_flush(&n->nif);
	vnet_ctrl_send(n, VNET_CTRL_ANNOUNCE, VNET_CTRL_ANNOUNCE_ACK);
}

/* ---- state changes ---- */

static void vnet_stop(struct vnet *n, const char *why)
{
	netif_set_broken(&n->nif, why);
	/* No more interrupts from a device we no longer look at. */
	msix_mask(&n->vp.msix, MSIX_CFG_ENTRY, true);
	msix_mask(&n->vp.msix, MSIX_QUEUE_ENTRY, true);
}

/* Device status and configuration: failure, link, announce (lock held). */
static void vnet_check(struct netif *nif)
{
	struct vnet *n = nif->priv;
	u8 st;
	u16 s;

	if (!n->ready || nif->broken)
		return;
	st = vp_get_status(&n->vp);
	if (st == 0xff) {
		vnet_stop(n, "device gone");
		return;
	}
	if (st & (VIRTIO_S_NEEDS_RESET | VIRTIO_S_FAILED) ||
	    !(st & VIRTIO_S_DRIVER_OK)) {
		vnet_stop(n, "device needs reset");
		return;
	}
	if (!has(n, VNET_F_STATUS))
		return;
	s = vnet_read_status(n);
	netif_set_carrier(nif, s & VNET_S_LINK_UP);
	if ((s & VNET_S_ANNOUNCE) && has(n, VNET_F_GUEST_ANNOUNCE))
		vnet_announce(n);
}

/* ---- receive ---- */

static void vnet_tx_reclaim(struct vnet *n);

/*
 * A transmit slot for the reply a frame may cause (reclaiming if needed).
 * Without one the poller waits for the device to send: it may then sleep
 * until a transmit completion interrupts (vnet_arm), which leaves the CPU
 * to the host thread that has to do the sending.
 */
static bool vnet_tx_room(struct vnet *n)
{
	if (!n->tx_nfree)
		vnet_tx_reclaim(n);
	if (!n->tx_nfree) {
		if (!n->tx_stalled)
			n->tx_stalls++;
		n->tx_stalled = true;
		return false;
	}
	if (n->tx_stalled) {
		n->tx_stalled = false;
		virtq_quiet(&n->txq);
	}
	return true;
}

/*
 * Every frame the device has returned goes through the stack, and its slot
 * straight back to the ring.  Returns how many there were.  Ring-3 safe.
 *
 * With hold set (polled), a full transmit ring stops the batch: the rest
 * wait in the receive ring (and behind it the backend) until the device
 * has sent some replies, instead of their replies being dropped.  The
 * interrupt path cannot wait (transmit completions do not interrupt), so
 * there a reply without room is dropped and counted.
 */
static unsigned int vnet_rx_batch(struct vnet *n, bool hold)
{
	struct virtq *vq = &n->rxq;
	unsigned int done = 0;
	u32 id, len;

	for (;;) {
		if (hold && !vnet_tx_room(n))
			break;
		if (!virtq_get_used(vq, &id, &len))
			break;
		if (id >= vq->size) {
			n->nif.st.rx_errors++;	/* device bug: slot lost */
			continue;
		}
		if (len < VNET_HDR_LEN + ETH_HLEN || len > VNET_BUF_SIZE)
			n->nif.st.rx_errors++;
		else if (netif_rx(&n->nif, slot(n->rx_bufs, id) + VNET_HDR_LEN,
				  len - VNET_HDR_LEN)) {
			virtq_unget_used(vq);	/* fo0 busy: next pass */
			break;
		}
		virtq_post(vq, id);
		/* Give slots back (and send replies) during long bursts. */
		if (++done % VNET_RX_REFILL_BATCH == 0) {
			virtq_publish(vq);
			virtq_kick(vq);
			netif_tx_flush(&n->nif);
		}
	}
	if (done) {
		virtq_publish(vq);
		virtq_kick(vq);
	}
	return done;
}

/* ---- polling (net/poll.c calls these in ring 3) ---- */

static int vnet_poll(struct netif *nif)
{
	struct vnet *n = nif->priv;
	unsigned int done = 0;

	spin_lock(&nif->lock);
	if (n->ready && !nif->broken) {
		done = vnet_rx_batch(n, true);
		if (n->has_ctrl)
			done += vnet_ctrl_reap(n);
		netif_tx_flush(nif);
	}
	spin_unlock(&nif->lock);
	return done;
}

/* Interrupt on the next completion; false if one is already there. */
static bool vnet_arm(struct netif *nif)
{
	struct vnet *n = nif->priv;
	bool quiet = true;

	spin_lock(&nif->lock);
	if (n->ready && !nif->broken) {
		/* Stalled, frames are known to wait: wake for the slots. */
		if (n->tx_stalled)
			quiet = virtq_arm(&n->txq);
		else
			quiet = virtq_arm(&n->rxq);
		if (n->has_ctrl)
			quiet = virtq_arm(&n->ctlq) && quiet;
	}
	spin_unlock(&nif->lock);
	return quiet;
}

/*
 * Hand the queues to a poller on cpu: queue interrupts go there and only
 * wake it (a bare entry, no C handler: user.c), and kicks use MMIO, since
 * ring 3 may not do port I/O.  Configuration interrupts keep their ring-0
 * handler on the boot CPU; when that is the poller's CPU too, the handler
 * defers the work (vnet_config_irq).  One shared vector cannot be split.
 */
static int vnet_set_poller(struct netif *nif, unsigned int cpu)
{
	u32 apic_id = cpus[cpu].apic_id;
	struct vnet *n = nif->priv;
	struct virtq *qs[] = { &n->rxq, &n->txq, &n->ctlq };
	unsigned int i;
	u64 flags;
	int ret;

	if (n->q_entry == n->cfg_entry || !n->txq.notify_addr ||
	    !n->rxq.notify_addr || (n->has_ctrl && !n->ctlq.notify_addr))
		return -ENODEV;
	flags = netif_lock(nif);
	for (i = 0; i < ARRAY_SIZE(qs); i++)
		qs[i]->notify_pio = false;
	n->polled = true;
	n->poll_cpu = cpu;
	n->cfg_defer = apic_id == n->cfg_apic;
	ret = user_wake_vector(n->q_vec);
	if (!ret)
		ret = msix_route(&n->vp.msix, n->q_entry, n->q_vec, apic_id);
	netif_unlock(nif, flags);
	return ret;
}

/* ---- transmit ---- */

static void vnet_tx_reclaim(struct vnet *n)
{
	u32 id, len;

	while (virtq_get_used(&n->txq, &id, &len)) {
		if (id < n->txq.size && n->tx_nfree < n->txq.size)
			n->tx_free[n->tx_nfree++] = id;
		else
			n->nif.st.tx_errors++;
	}
}

static u8 *vnet_tx_alloc(struct netif *nif)
{
	struct vnet *n = nif->priv;

	if (n->tx_reserved >= 0)
		return slot(n->tx_bufs, n->tx_reserved) + VNET_HDR_LEN;
	if (!n->tx_nfree)
		vnet_tx_reclaim(n);
	if (!n->tx_nfree)
		return NULL;
	n->tx_reserved = n->tx_free[--n->tx_nfree];
	return slot(n->tx_bufs, n->tx_reserved) + VNET_HDR_LEN;
}

static void vnet_tx_send(struct netif *nif, u8 *frame, size_t len)
{
	struct vnet *n = nif->priv;
	u16 id = n->tx_reserved;

	if (n->tx_reserved < 0 || len > VNET_BUF_SIZE - VNET_HDR_LEN)
		return;
	n->tx_reserved = -1;
	/* Short frames are padded: no stale slot bytes on the wire. */
	if (len < ETH_ZLEN) {
		memset(frame + len, 0, ETH_ZLEN - len);
		len = ETH_ZLEN;
	}
	/* The header stays all-zero (no offloads): set once at init. */
	n->txq.desc[id].len = VNET_HDR_LEN + len;
	virtq_post(&n->txq, id);
	virtq_publish(&n->txq);
}

static void vnet_tx_flush(struct netif *nif)
{
	struct vnet *n = nif->priv;

	virtq_kick(&n->txq);
}

/*
 * corrupt_ring=: a transmit descriptor pointing far outside RAM, so the
 * device must declare itself broken (DEVICE_NEEDS_RESET).
 */
static int vnet_corrupt(struct netif *nif)
{
	struct vnet *n = nif->priv;
	u16 id;

	if (nif->broken)
		return -EIO;
	if (!vnet_tx_alloc(nif))
		return -ENOSPC;
	id = n->tx_reserved;
	n->tx_reserved = -1;
	n->txq.desc[id].addr = CORRUPT_ADDR;
	n->txq.desc[id].len = 64;
	virtq_post(&n->txq, id);
	virtq_publish(&n->txq);
	virtq_notify(&n->txq);
	return 0;
}

/* ---- interrupts ---- */

/* Interrupt mode: the whole receive path runs here, in ring 0. */
static void vnet_queue_irq(void *ctx)
{
	struct vnet *n = ctx;

	/* Polled: the interrupt only woke the poller's CPU. */
	if (n->polled)
		return;
	spin_lock(&n->nif.lock);
	n->q_irqs++;
	if (n->ready && !n->nif.broken) {
		do {
			vnet_rx_batch(n, false);
			if (n->has_ctrl)
				vnet_ctrl_reap(n);
			netif_tx_flush(&n->nif);
		} while (!virtq_arm(&n->rxq) ||
			 (n->has_ctrl && !virtq_arm(&n->ctlq)));
		/* One vector for everything: look at the config too. */
		if (n->q_entry == n->cfg_entry)
			vnet_check(&n->nif);
	}
	spin_unlock(&n->nif.lock);
	console_flush_deferred();
}

/* Deferred configuration work, in ring 0 with interrupts on (user.c). */
static void vnet_config_work(struct kwork *w)
{
	struct vnet *n = (struct vnet *)((u8 *)w - offsetof(struct vnet, cfg_work));
	u64 flags = netif_lock(&n->nif);

	vnet_check(&n->nif);
	netif_unlock(&n->nif, flags);
}

static void vnet_config_irq(void *ctx)
{
	struct vnet *n = ctx;

	n->cfg_irqs++;
	/*
	 * The poller runs in ring 3 on this very CPU and may hold the lock
	 * right now: leave the work to ring 0 when it next yields.
	 */
	if (n->cfg_defer) {
		kwork_queue(n->poll_cpu, &n->cfg_work);
		return;
	}
	spin_lock(&n->nif.lock);
	vnet_check(&n->nif);
	spin_unlock(&n->nif.lock);
	console_flush_deferred();
}

/* ---- console ---- */

static void vnet_show_features(const struct vnet *n)
{
	static const struct { unsigned int bit; const char *name; } names[] = {
		{ VIRTIO_F_VERSION_1, "VERSION_1" }, { VNET_F_MAC, "MAC" },
		{ VNET_F_STATUS, "STATUS" }, { VNET_F_CTRL_VQ, "CTRL_VQ" },
		{ VNET_F_GUEST_ANNOUNCE, "GUEST_ANNOUNCE" },
		{ VIRTIO_F_EVENT_IDX, "EVENT_IDX" },
		{ VNET_F_MRG_RXBUF, "MRG_RXBUF" }, { VNET_F_STANDBY, "STANDBY" },
	};
	unsigned int i;

	printf("    features offered %#llx accepted %#llx:", n->offered,
	       n->features);
	for (i = 0; i < ARRAY_SIZE(names); i++) {
		if (has(n, names[i].bit))
			printf(" %s", names[i].name);
	}
	printf("\n");
}

static void vnet_show(struct netif *nif)
{
	struct vnet *n = nif->priv;
	const struct pci_dev *pd = n->pd;

	printf("    pci %02x:%02x.%u %04x:%04x, status %#x, msix vectors %#x/%#x, notify %s, %s\n",
	       pd->bus, pd->dev, pd->fn, pd->vendor, pd->device,
	       n->ready ? vp_get_status(&n->vp) : 0, n->cfg_vec, n->q_vec,
	       n->txq.notify_pio ? "pio" : "mmio",
	       n->polled ? "polled in ring 3" : "interrupt driven");
	vnet_show_features(n);
	printf("    queues rx %u tx %u (%u free, %llu stalls) ctrl %u; irqs config %llu queue %llu; announces %llu (%llu refused)\n",
	       n->rxq.size, n->txq.size, n->tx_nfree, n->tx_stalls,
	       n->has_ctrl ? n->ctlq.size : 0, n->cfg_irqs, n->q_irqs,
	       n->announces, n->announce_errors);
}

static const struct netif_ops vnet_ops = {
	.tx_alloc = vnet_tx_alloc,
	.tx_send = vnet_tx_send,
	.tx_flush = vnet_tx_flush,
	.check = vnet_check,
	.show = vnet_show,
	.corrupt = vnet_corrupt,
	.poll = vnet_poll,
	.arm = vnet_arm,
	.set_poller = vnet_set_poller,
};

/* ---- bring-up (virtio 3.1.1) ---- */

static int vnet_setup_irqs(struct vnet *n)
{
	u32 apic = lapic_id();
	int ret;

	ret = msix_init(&n->vp.msix, n->pd);
	if (ret)
		return ret;
	n->cfg_entry = MSIX_CFG_ENTRY;
	n->q_entry = n->vp.msix.nr > 1 ? MSIX_QUEUE_ENTRY : MSIX_CFG_ENTRY;
	n->cfg_apic = apic;
	n->cfg_work.fn = vnet_config_work;
	n->q_vec = irq_vector_alloc(vnet_queue_irq, n);
	if (n->q_vec < 0)
		return n->q_vec;
	ret = msix_route(&n->vp.msix, n->q_entry, n->q_vec, apic);
	if (ret || n->q_entry == n->cfg_entry)
		return ret;
	n->cfg_vec = irq_vector_alloc(vnet_config_irq, n);
	if (n->cfg_vec < 0)
		return n->cfg_vec;
	return msix_route(&n->vp.msix, n->cfg_entry, n->cfg_vec, apic);
}

static int vnet_setup_queues(struct vnet *n)
{
	bool ev = has(n, VIRTIO_F_EVENT_IDX);
	int ret;

	ret = vp_setup_queue(&n->vp, &n->rxq, VNET_RXQ, VNET_QSIZE_MAX,
			     n->q_entry, ev);
	if (ret)
		return ret;
	/* Transmit completions are quiet, unless a stalled poller asks. */
	ret = vp_setup_queue(&n->vp, &n->txq, VNET_TXQ, VNET_QSIZE_MAX,
			     n->q_entry, ev);
	if (ret)
		return ret;
	if (!n->has_ctrl)
		return 0;
	return vp_setup_queue(&n->vp, &n->ctlq, VNET_CTRLQ,
			      VNET_CTRL_QSIZE_MAX, n->q_entry, ev);
}

/* Buffers for every slot; all receive slots are posted at once. */
static int vnet_setup_buffers(struct vnet *n)
{
	u16 i;

	n->rx_bufs = early_alloc((size_t)n->rxq.size * VNET_BUF_SIZE, PAGE_SIZE);
	n->tx_bufs = early_alloc((size_t)n->txq.size * VNET_BUF_SIZE, PAGE_SIZE);
	n->ctl_buf = early_alloc(64, 64);
	if (!n->rx_bufs || !n->tx_bufs || !n->ctl_buf)
		return -ENOMEM;
	for (i = 0; i < n->rxq.size; i++) {
		n->rxq.desc[i] = (struct vring_desc){
			.addr = (u64)slot(n->rx_bufs, i), .len = VNET_BUF_SIZE,
			.flags = VRING_DESC_F_WRITE,
		};
		virtq_post(&n->rxq, i);
	}
	virtq_publish(&n->rxq);
	for (i = 0; i < n->txq.size; i++) {
		n->txq.desc[i] = (struct vring_desc){
			.addr = (u64)slot(n->tx_bufs, i),
		};
		n->tx_free[i] = n->txq.size - 1 - i;
	}
	n->tx_nfree = n->txq.size;
	n->tx_reserved = -1;
	if (n->has_ctrl) {
		n->ctlq.desc[0] = (struct vring_desc){
			.addr = (u64)n->ctl_buf, .len = 2,
			.flags = VRING_DESC_F_NEXT, .next = 1,
		};
		n->ctlq.desc[1] = (struct vring_desc){
			.addr = (u64)n->ctl_buf + 2, .len = 1,
			.flags = VRING_DESC_F_WRITE,
		};
	}
	return 0;
}

static int vnet_negotiate(struct vnet *n)
{
	u64 want;
	int ret;

	ret = vp_reset(&n->vp);
	if (ret)
		return ret;
	vp_add_status(&n->vp, VIRTIO_S_ACKNOWLEDGE);
	vp_add_status(&n->vp, VIRTIO_S_DRIVER);
	n->offered = vp_get_features(&n->vp);
	if (!(n->offered & BIT64(VIRTIO_F_VERSION_1)))
		return -ENODEV;		/* legacy-only device */
	want = n->offered & VNET_WANTED;
	/* The announce ack travels on the control queue. */
	if (!(want & BIT64(VNET_F_CTRL_VQ)))
		want &= ~BIT64(VNET_F_GUEST_ANNOUNCE);
	/* STANDBY pairs by MAC: never without one. */
	if (!(want & BIT64(VNET_F_MAC)))
		want &= ~BIT64(VNET_F_STANDBY);
	n->features = want;
	n->has_ctrl = has(n, VNET_F_CTRL_VQ);
	return vp_set_features(&n->vp, want);
}

static int vnet_setup(struct vnet *n)
{
	int ret;

	ret = vnet_negotiate(n);
	if (ret)
		return ret;
	vnet_read_mac(n);
	ret = vnet_setup_irqs(n);
	if (ret)
		return ret;
	vp_set_config_vector(&n->vp, n->cfg_entry);
	ret = vnet_setup_queues(n);
	if (ret)
		return ret;
	ret = vnet_setup_buffers(n);
	if (ret)
		return ret;
	virtq_quiet(&n->txq);
	virtq_arm(&n->rxq);
	if (n->has_ctrl)
		virtq_arm(&n->ctlq);
	vp_add_status(&n->vp, VIRTIO_S_DRIVER_OK);
	virtq_notify(&n->rxq);
	n->nif.carrier = !has(n, VNET_F_STATUS) ||
			 (vnet_read_status(n) & VNET_S_LINK_UP);
	return 0;
}

static bool is_virtio_net(const struct pci_dev *pd)
{
	if (pd->vendor != VIRTIO_VENDOR)
		return false;
	if (pd->device == VNET_DEV_MODERN)
		return true;
	/* Transitional ids name the type in the subsystem id. */
	return pd->device == VNET_DEV_TRANSITIONAL &&
	       pci_read16(pd, PCI_SUBSYS_ID) == VIRTIO_ID_NET;
}

static void vnet_probe(struct pci_dev *pd)
{
	struct vnet *n = &vnets[nr_vnets];
	u64 flags;
	int ret;

	n->pd = pd;
	n->tx_reserved = -1;
	ret = vp_probe(&n->vp, pd);
	if (ret) {
		pr_err("virtio-net %02x:%02x.%u: no modern virtio capabilities\n",
		       pd->bus, pd->dev, pd->fn);
		return;
	}
	pci_enable_device(pd);
	n->nif.kind = "virtio-net";
	n->nif.ops = &vnet_ops;
	n->nif.priv = n;
	/* Nothing may interrupt a half-built device. */
	flags = irq_save();
	/* The slot stays taken even on failure: vectors may point at it. */
	nr_vnets++;
	ret = vnet_setup(n);
	if (!ret) {
		n->nif.standby = has(n, VNET_F_STANDBY);
		ret = netif_register(&n->nif);
	}
	if (ret) {
		/* Quiet the device: reset stops its DMA and interrupts. */
		vp_reset(&n->vp);
		vp_add_status(&n->vp, VIRTIO_S_FAILED);
		irq_restore(flags);
		pr_err("virtio-net %02x:%02x.%u: setup failed (%d)\n", pd->bus,
		       pd->dev, pd->fn, ret);
		return;
	}
	n->ready = true;
	pd->owner = n->nif.name;
	irq_restore(flags);
}

void virtio_net_probe_all(void)
{
	unsigned int i;

	for (i = 0; i < pci_nr_devs() && nr_vnets < VNET_MAX; i++) {
		struct pci_dev *pd = pci_dev_get(i);

		if (is_virtio_net(pd))
			vnet_probe(pd);
	}
}
