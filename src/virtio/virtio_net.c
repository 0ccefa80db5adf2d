// SPDX-License-Identifier: MIT
/*
 * virtio-net device: configuration space, queue processing, the backend
 * glue, state, and the --device option.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/virtio_ids.h>
#include <linux/virtio_net.h>

#include "core/log.h"
#include "core/util.h"
#include "core/vm.h"
#include "net/net.h"
#include "pci/opts.h"
#include "virtio/virtio_net.h"

#define VNET_RX_BATCH	64	/* frames between used-ring flushes */
#define VNET_TX_BATCH	256	/* chains per run before yielding the loop */
#define VNET_BOUNCE_LEN	(VNET_HDR_LEN + VNET_MAX_FRAME)

static const struct device_ops virtio_net_dev_ops;

static struct virtio_net *to_vnet(struct virtio_pci *vp)
{
	return vp->opaque;
}

static bool vnet_has(struct virtio_net *n, unsigned bit)
{
	return virtio_pci_has_feature(&n->vp, bit);
}

/* ---- registers: features and device configuration ---- */

static uint64_t vnet_get_features(struct virtio_pci *vp)
{
	struct virtio_net *n = to_vnet(vp);

	return vnet_offered_features(true, n->failover, n->nd->offload_caps);
}

static bool vnet_validate_features(struct virtio_pci *vp, uint64_t f)
{
	if (vnet_features_valid(f))
		return true;
	pr_guest("%s: feature set 0x%llx breaks virtio-net dependencies",
		 vp->name, (unsigned long long)f);
	return false;
}

static void vnet_set_features(struct virtio_pci *vp, uint64_t f)
{
	struct virtio_net *n = to_vnet(vp);
	int ret;

	ret = netdev_set_offload(n->nd, vnet_guest_offloads(f));
	if (ret)
		pr_guest("%s: cannot set backend offloads: %s", vp->name,
			 strerror(-ret));
	n->standby_negotiated = f & (1ULL << VIRTIO_NET_F_STANDBY);
	if (n->standby_cb)
		n->standby_cb(n, n->standby_negotiated, n->standby_opaque);
}

static void vnet_config_image(struct virtio_net *n, uint8_t *cfg)
{
	memcpy(cfg, n->mac, 6);
	le_write(cfg + 6, 2, n->status);
	le_write(cfg + 8, 2, 1);	/* max_virtqueue_pairs */
}

static void vnet_config_read(struct virtio_pci *vp, unsigned off, void *buf,
			     unsigned len)
{
	uint8_t cfg[VNET_CONFIG_SIZE];

	vnet_config_image(to_vnet(vp), cfg);
	memcpy(buf, cfg + off, len);	/* transport checked the range */
}

static void vnet_config_write(struct virtio_pci *vp, unsigned off,
			      const void *buf, unsigned len)
{
	/* The 1.x config is read-only; MAC changes go through CTRL_MAC. */
	pr_guest("%s: write to read-only config offset %u ignored", vp->name,
		 off);
}

/* ---- I/O handlers: receive ---- */

static void vnet_rx_poll(struct virtio_net *n, bool on)
{
	if (n->rx_polling == on)
		return;
	n->rx_polling = on;
	netdev_rx_enable(n->nd, on);
}

/*
 * Pop receive chains until they hold want bytes (a single chain without
 * MRG_RXBUF), appending to what is already gathered.  The chains' iovecs are
 * consecutive in n->rx_iov, with one slot kept free for the bounce tail.
 * -EIO when the ring is malformed.
 */
static int vnet_rx_gather(struct virtio_net *n, size_t want,
			  unsigned *nchains, size_t *cap, unsigned *niov)
{
	struct virtq *vq = virtio_pci_vq(&n->vp, VNET_RXQ);
	bool mrg = vnet_has(n, VIRTIO_NET_F_MRG_RXBUF);
	int r;

	while (*cap < want && *nchains < VNET_QUEUE_SIZE &&
	       (mrg || !*nchains) && VNET_RX_IOV - 1 - *niov >= 64) {
		struct vq_elem *e = &n->rx_elems[*nchains];

		e->iov = n->rx_iov + *niov;
		e->gpa = n->rx_gpa + *niov;
		e->max = VNET_RX_IOV - 1 - *niov;
		r = virtq_pop(vq, e);
		if (r < 0)
			return -EIO;
		if (!r)
			break;
		(*nchains)++;
		if (e->out_num) {
			virtio_pci_set_broken(&n->vp, "receive chain %u has device-readable buffers",
					      e->head);
			return -EIO;
		}
		if (e->in_len < VNET_HDR_LEN) {
			virtio_pci_set_broken(&n->vp, "receive buffer %u of %llu bytes cannot hold the header",
					      e->head, (unsigned long long)e->in_len);
			return -EIO;
		}
		*cap += e->in_len;
		*niov += e->in_num;
	}
	return 0;
}

/* Return len bytes in the gathered chains to the driver; unpop the rest. */
static void vnet_rx_complete(struct virtio_net *n, unsigned nchains,
			     unsigned niov, size_t len)
{
	struct virtq *vq = virtio_pci_vq(&n->vp, VNET_RXQ);
	struct vnet_hdr h;
	size_t left = len;
	unsigned used = 0;

	for (; left && used < nchains; used++)
		left -= MIN(left, n->rx_elems[used].in_len);
	iov_to_buf(n->rx_iov, niov, 0, &h, sizeof(h));
	vnet_hdr_fix_rx(&h, n->vp.features, used);
	iov_from_buf(n->rx_iov, niov, 0, &h, sizeof(h));
	left = len;
	for (unsigned i = 0; i < used; i++) {
		size_t take = MIN(left, n->rx_elems[i].in_len);

		virtq_push(vq, &n->rx_elems[i], take);
		left -= take;
	}
	virtq_unpop(vq, nchains - used);
	n->rx_packets++;
	n->rx_bytes += len - VNET_HDR_LEN;
}

/* Filter and deliver a frame that is in the chains.  Returns 1. */
static int vnet_rx_deliver(struct virtio_net *n, unsigned nchains,
			   unsigned niov, size_t len)
{
	struct virtq *vq = virtio_pci_vq(&n->vp, VNET_RXQ);
	uint8_t dst[6];

	if (iov_to_buf(n->rx_iov, niov, VNET_HDR_LEN, dst, 6) != 6 ||
	    !vnet_rx_accept(n, dst)) {
		virtq_unpop(vq, nchains);
		n->rx_filtered++;
		return 1;
	}
	vnet_rx_complete(n, nchains, niov, len);
	return 1;
}

/* A frame waits in the bounce buffer: deliver it once buffers suffice. */
static int vnet_rx_bounced(struct virtio_net *n)
{
	struct virtq *vq = virtio_pci_vq(&n->vp, VNET_RXQ);
	size_t len = n->bounce_len, cap = 0;
	unsigned nchains = 0, niov = 0;

	if (vnet_rx_gather(n, len, &nchains, &cap, &niov))
		return -EIO;
	if (cap < len) {
		virtq_unpop(vq, nchains);
		if (nchains && !vnet_has(n, VIRTIO_NET_F_MRG_RXBUF)) {
			n->bounce_len = 0;	/* never fits one buffer */
			n->rx_dropped++;
			return 1;
		}
		return 0;	/* wait for more buffers */
	}
	n->bounce_len = 0;
	iov_from_buf(n->rx_iov, niov, 0, n->bounce, len);
	return vnet_rx_deliver(n, nchains, niov, len);
}

/* Drop one frame (link down).  0 when the backend is empty. */
static int vnet_rx_discard(struct virtio_net *n)
{
	struct iovec iov = { n->bounce, VNET_BOUNCE_LEN };

	if (netdev_recv(n->nd, &iov, 1) < 0)
		return 0;
	n->rx_dropped++;
	return 1;
}

/*
 * The frame was longer than the chains: its tail landed in the bounce
 * buffer.  Take more chains for it, or park the whole frame in the bounce
 * buffer until the driver adds buffers.
 */
static int vnet_rx_spill(struct virtio_net *n, unsigned nchains, size_t cap,
			 unsigned niov, size_t len)
{
	struct virtq *vq = virtio_pci_vq(&n->vp, VNET_RXQ);
	size_t tail = len - cap, more_cap = cap;
	unsigned more_chains = nchains, more_iov = niov;

	if (!vnet_has(n, VIRTIO_NET_F_MRG_RXBUF)) {
		virtq_unpop(vq, nchains);
		n->rx_dropped++;
		return 1;
	}
	if (vnet_rx_gather(n, len, &more_chains, &more_cap, &more_iov))
		return -EIO;
	if (more_cap >= len) {
		iov_from_buf(n->rx_iov, more_iov, cap, n->bounce, tail);
		return vnet_rx_deliver(n, more_chains, more_iov, len);
	}
	memmove(n->bounce + cap, n->bounce, tail);
	iov_to_buf(n->rx_iov, niov, 0, n->bounce, cap);
	virtq_unpop(vq, more_chains);
	n->bounce_len = len;
	return 0;
}

/*
 * Receive one frame.  Returns 1 when one was handled, 0 to stop (backend
 * empty or too few guest buffers), -EIO when the ring is broken.
 *
 * The frame is read straight into the guest's buffers with the bounce
 * buffer appended behind them, so an ordinary frame costs one readv and no
 * copy, and a frame bigger than the buffers gathered is not lost.
 */
static int vnet_rx_one(struct virtio_net *n)
{
	struct virtq *vq = virtio_pci_vq(&n->vp, VNET_RXQ);
	unsigned nchains = 0, niov = 0;
	size_t cap = 0;
	ssize_t len;

	if (n->bounce_len)
		return vnet_rx_bounced(n);
	if (!n->link_up)
		return vnet_rx_discard(n);
	if (vnet_rx_gather(n, VNET_HDR_LEN + VNET_SMALL_FRAME, &nchains, &cap,
			   &niov))
		return -EIO;
	if (!nchains)
		return 0;
	n->rx_iov[niov] = (struct iovec){ n->bounce, VNET_BOUNCE_LEN };
	len = netdev_recv(n->nd, n->rx_iov, niov + 1);
	if (len < VNET_HDR_LEN + 6 || len > VNET_BOUNCE_LEN) {
		virtq_unpop(vq, nchains);
		if (len == -EAGAIN || len < 0)
			return 0;
		n->rx_dropped++;	/* runt or giant */
		return 1;
	}
	if ((size_t)len > cap)
		return vnet_rx_spill(n, nchains, cap, niov, len);
	return vnet_rx_deliver(n, nchains, niov, len);
}

/* Receive until the backend is empty, buffers run out, or a batch ends. */
static void vnet_rx(struct virtio_net *n)
{
	struct virtq *vq = virtio_pci_vq(&n->vp, VNET_RXQ);
	int r;

	if (!virtio_pci_live(&n->vp) || !vq->ready || vq->broken) {
		vnet_rx_poll(n, false);
		return;
	}
	for (;;) {
		r = 1;
		for (unsigned i = 0; i < VNET_RX_BATCH && r > 0; i++)
			r = vnet_rx_one(n);
		if (r < 0) {
			virtio_pci_queue_broken(&n->vp, VNET_RXQ);
			vnet_rx_poll(n, false);
			return;
		}
		virtio_pci_flush(&n->vp, VNET_RXQ);
		/* A full batch, or the backend is empty: its fd drives us. */
		if (r > 0 || !n->link_up || (!n->bounce_len && virtq_avail(vq)))
			break;
		/* Out of buffers: sleep until the driver adds some. */
		vnet_rx_poll(n, false);
		if (!virtq_set_notify(vq, true))
			return;
	}
	virtq_set_notify(vq, false);
	vnet_rx_poll(n, true);
}

/* ---- I/O handlers: transmit ---- */

/* Send one popped chain.  1 done, 0 backend full (chain unpopped), -EIO. */
static int vnet_tx_one(struct virtio_net *n, struct vq_elem *e)
{
	struct virtq *vq = virtio_pci_vq(&n->vp, VNET_TXQ);
	struct vnet_hdr h;
	ssize_t ret;

	if (e->in_num) {
		virtio_pci_set_broken(&n->vp, "transmit chain %u has device-writable buffers",
				      e->head);
		return -EIO;
	}
	if (e->out_len < VNET_HDR_LEN) {
		virtio_pci_set_broken(&n->vp, "transmit chain %u of %llu bytes is shorter than the header",
				      e->head, (unsigned long long)e->out_len);
		return -EIO;
	}
	iov_to_buf(e->iov, e->out_num, 0, &h, sizeof(h));
	if (!n->link_up || e->out_len > VNET_BOUNCE_LEN ||
	    vnet_hdr_check_tx(&h, n->vp.features, e->out_len - VNET_HDR_LEN)) {
		n->tx_dropped++;
		goto done;
	}
	ret = netdev_send(n->nd, e->iov, e->out_num);
	if (ret == -EAGAIN) {
		virtq_unpop(vq, 1);
		return 0;
	}
	if (ret < 0) {
		n->tx_dropped++;
		goto done;
	}
	n->tx_packets++;
	n->tx_bytes += e->out_len - VNET_HDR_LEN;
done:
	virtq_push(vq, e, 0);
	return 1;
}

static void vnet_tx(struct virtio_net *n)
{
	struct virtq *vq = virtio_pci_vq(&n->vp, VNET_TXQ);
	struct vq_elem e = { .iov = n->tx_iov, .gpa = n->tx_gpa,
			     .max = VNET_TX_IOV };
	unsigned budget = VNET_TX_BATCH;
	bool full = false;
	int r;

	if (n->tx_waiting)
		return;		/* EPOLLOUT will bring us back */
	virtq_set_notify(vq, false);
	for (;;) {
		while (budget && (r = virtq_pop(vq, &e)) > 0) {
			budget--;
			r = vnet_tx_one(n, &e);
			full = r == 0;
			if (r <= 0)
				break;
		}
		if (r < 0) {
			virtio_pci_queue_broken(&n->vp, VNET_TXQ);
			break;
		}
		if (full) {
			/* Backend full (chain given back): resume on EPOLLOUT. */
			n->tx_waiting = true;
			netdev_tx_wait(n->nd, true);
			break;
		}
		if (!budget) {
			/* Yield to the other fds; come back at once. */
			virtio_pci_kick(&n->vp, VNET_TXQ);
			break;
		}
		if (!virtq_set_notify(vq, true))
			break;
		virtq_set_notify(vq, false);
	}
	virtio_pci_flush(&n->vp, VNET_TXQ);
}

/* ---- I/O handlers: control queue ---- */

static void vnet_ctrl(struct virtio_net *n)
{
	struct virtq *vq = virtio_pci_vq(&n->vp, VNET_CTRLQ);
	struct iovec iov[64];
	uint64_t gpa[64];
	struct vq_elem e = { .iov = iov, .gpa = gpa, .max = 64 };
	uint8_t hdr[2], ack;
	int r;

	while ((r = virtq_pop(vq, &e)) > 0) {
		if (e.out_len < 2 || e.in_len < 1) {
			virtio_pci_set_broken(&n->vp, "control chain %u: %llu/%llu bytes, need 2 out and 1 in",
					      e.head, (unsigned long long)e.out_len,
					      (unsigned long long)e.in_len);
			return;
		}
		iov_to_buf(iov, e.out_num, 0, hdr, 2);
		ack = vnet_ctrl_cmd(n, hdr[0], hdr[1], iov, e.out_num, 2,
				    e.out_len - 2);
		iov_from_buf(iov + e.out_num, e.in_num, 0, &ack, 1);
		virtq_push(vq, &e, 1);
	}
	if (r < 0)
		virtio_pci_queue_broken(&n->vp, VNET_CTRLQ);
	virtio_pci_flush(&n->vp, VNET_CTRLQ);
}

static void vnet_queue_notify(struct virtio_pci *vp, unsigned q)
{
	struct virtio_net *n = to_vnet(vp);

	switch (q) {
	case VNET_RXQ:
		vnet_rx(n);	/* buffers arrived: also restarts polling */
		break;
	case VNET_TXQ:
		vnet_tx(n);
		break;
	case VNET_CTRLQ:
		vnet_ctrl(n);
		break;
	}
}

static void vnet_reset(struct virtio_pci *vp)
{
	struct virtio_net *n = to_vnet(vp);

	vnet_rx_poll(n, false);
	if (n->tx_waiting) {
		n->tx_waiting = false;
		netdev_tx_wait(n->nd, false);
	}
	n->bounce_len = 0;
	memcpy(n->mac, n->perm_mac, 6);
	n->status = n->link_up ? VIRTIO_NET_S_LINK_UP : 0;
	vnet_filter_reset(n);
	netdev_set_offload(n->nd, 0);
}

static const struct virtio_dev_ops vnet_virtio_ops = {
	.device_id = VIRTIO_ID_NET,
	.class_code = PCI_CLASS_NETWORK_ETHERNET << 8,
	.config_size = VNET_CONFIG_SIZE,
	.get_features = vnet_get_features,
	.validate_features = vnet_validate_features,
	.set_features = vnet_set_features,
	.config_read = vnet_config_read,
	.config_write = vnet_config_write,
	.queue_notify = vnet_queue_notify,
	/* No driver_ok hook: DRIVER_OK kicks every queue, RX starts there. */
	.reset = vnet_reset,
};

/* ---- backend ---- */

static void vnet_backend_rx(void *opaque)
{
	struct virtio_net *n = opaque;

	pthread_mutex_lock(&n->vp.lock);
	vnet_rx(n);
	pthread_mutex_unlock(&n->vp.lock);
}

static void vnet_backend_tx(void *opaque)
{
	struct virtio_net *n = opaque;

	pthread_mutex_lock(&n->vp.lock);
	if (n->tx_waiting) {
		n->tx_waiting = false;
		netdev_tx_wait(n->nd, false);
	}
	if (virtio_pci_live(&n->vp))
		vnet_tx(n);
	pthread_mutex_unlock(&n->vp.lock);
}

static const struct netdev_client_ops vnet_client_ops = {
	.rx_ready = vnet_backend_rx,
	.tx_ready = vnet_backend_tx,
};

/* ---- host-side controls ---- */

struct virtio_net *virtio_net_find(struct vm *vm, const char *id)
{
	struct device *dev = vm_find_device(vm, id);

	if (!dev || dev->ops != &virtio_net_dev_ops)
		return NULL;
	return container_of(dev, struct virtio_net, dev);
}

static int vnet_set_link(struct virtio_net *n, bool up)
{
	pthread_mutex_lock(&n->vp.lock);
	if (n->link_up != up) {
		n->link_up = up;
		if (up)
			n->status |= VIRTIO_NET_S_LINK_UP;
		else
			n->status &= ~VIRTIO_NET_S_LINK_UP;
		virtio_pci_config_changed(&n->vp);
		/* Receive drops while down; either way, look at the backend. */
		if (virtio_pci_live(&n->vp))
			vnet_rx_poll(n, true);
	}
	pthread_mutex_unlock(&n->vp.lock);
	return 0;
}

int virtio_net_set_link(struct vm *vm, const char *id, bool up)
{
	struct virtio_net *n = virtio_net_find(vm, id);

	return n ? vnet_set_link(n, up) : -ENOENT;
}

/* With n->vp.lock: a RARP from n's MAC on its backend. */
static int vnet_send_rarp(struct virtio_net *n)
{
	uint8_t frame[VNET_HDR_LEN + 60] = { 0 };
	struct iovec iov = { frame, sizeof(frame) };
	int ret;

	vnet_build_rarp(frame + VNET_HDR_LEN, n->mac);
	ret = netdev_send(n->nd, &iov, 1);
	return ret < 0 ? ret : 0;
}

int virtio_net_announce(struct vm *vm, const char *id, bool host)
{
	struct virtio_net *n = virtio_net_find(vm, id);
	int ret = 0;

	if (!n)
		return -ENOENT;
	pthread_mutex_lock(&n->vp.lock);
	if (!host && virtio_pci_live(&n->vp) &&
	    vnet_has(n, VIRTIO_NET_F_GUEST_ANNOUNCE)) {
		n->status |= VIRTIO_NET_S_ANNOUNCE;
		virtio_pci_config_changed(&n->vp);
	} else {
		ret = vnet_send_rarp(n);
	}
	pthread_mutex_unlock(&n->vp.lock);
	return ret;
}

int virtio_net_standby_negotiated(struct vm *vm, const char *id)
{
	struct virtio_net *n = virtio_net_find(vm, id);
	int ret;

	if (!n)
		return -ENOENT;
	pthread_mutex_lock(&n->vp.lock);
	ret = n->standby_negotiated;
	pthread_mutex_unlock(&n->vp.lock);
	return ret;
}

int virtio_net_set_standby_cb(struct vm *vm, const char *id,
			      virtio_net_standby_fn fn, void *opaque)
{
	struct virtio_net *n = virtio_net_find(vm, id);

	if (!n)
		return -ENOENT;
	pthread_mutex_lock(&n->vp.lock);
	n->standby_cb = fn;
	n->standby_opaque = opaque;
	pthread_mutex_unlock(&n->vp.lock);
	return 0;
}

/* ---- state ---- */

struct vnet_state {
	uint8_t mac[6];
	uint16_t status;
	uint8_t link_up, standby_negotiated;
	uint8_t promisc, allmulti, uc_overflow, mc_overflow;
	uint32_t uc_count, mc_count;
	uint8_t mac_table[VNET_MAC_TABLE * 6];
};

#define VNS_INT(m)	STATE_INT(struct vnet_state, m)

static const struct state_field vnet_state_fields[] = {
	STATE_BYTES(struct vnet_state, mac), VNS_INT(status),
	VNS_INT(link_up), VNS_INT(standby_negotiated),
	VNS_INT(promisc), VNS_INT(allmulti), VNS_INT(uc_overflow),
	VNS_INT(mc_overflow), VNS_INT(uc_count), VNS_INT(mc_count),
	STATE_BYTES(struct vnet_state, mac_table),
};

static const struct state_desc vnet_state_desc =
	STATE_DESC("virtio-net", 1, vnet_state_fields);

static int vnet_save(struct device *dev, struct sbuf *out)
{
	struct virtio_net *n = container_of(dev, struct virtio_net, dev);
	struct vnet_state s;
	int ret = virtio_pci_save(&n->vp, out);

	if (ret)
		return ret;
	pthread_mutex_lock(&n->vp.lock);
	s = (struct vnet_state){
		.status = n->status, .link_up = n->link_up,
		.standby_negotiated = n->standby_negotiated,
		.promisc = n->promisc, .allmulti = n->allmulti,
		.uc_overflow = n->uc_overflow, .mc_overflow = n->mc_overflow,
		.uc_count = n->uc_count, .mc_count = n->mc_count,
	};
	memcpy(s.mac, n->mac, 6);
	memcpy(s.mac_table, n->mac_table, sizeof(s.mac_table));
	pthread_mutex_unlock(&n->vp.lock);
	return state_save(&vnet_state_desc, &s, out);
}

static int vnet_check(struct virtio_net *n, const struct vnet_state *s,
		      char *err, size_t errlen)
{
	if ((s->status & ~(VIRTIO_NET_S_LINK_UP | VIRTIO_NET_S_ANNOUNCE)) ||
	    s->link_up > 1 || s->standby_negotiated > 1 || s->promisc > 1 ||
	    s->allmulti > 1 || s->uc_overflow > 1 || s->mc_overflow > 1 ||
	    s->uc_count > VNET_MAC_TABLE ||
	    s->mc_count > VNET_MAC_TABLE - s->uc_count || (s->mac[0] & 1)) {
		snprintf(err, errlen, "%s: invalid virtio-net state", n->dev.id);
		return -EINVAL;
	}
	if (s->standby_negotiated && !n->failover) {
		snprintf(err, errlen, "%s: STANDBY negotiated but failover is off here",
			 n->dev.id);
		return -EINVAL;
	}
	return 0;
}

static int vnet_load(struct device *dev, struct sreader *in, char *err,
		     size_t errlen)
{
	struct virtio_net *n = container_of(dev, struct virtio_net, dev);
	struct vnet_state s;
	char tmp[200];
	int ret;

	if (!err) {
		err = tmp;
		errlen = sizeof(tmp);
	}
	ret = virtio_pci_load(&n->vp, in, err, errlen);
	if (!ret)
		ret = state_load(&vnet_state_desc, &s, in, err, errlen);
	if (!ret)
		ret = vnet_check(n, &s, err, errlen);
	if (ret)
		return ret;
	pthread_mutex_lock(&n->vp.lock);
	memcpy(n->mac, s.mac, 6);
	n->status = s.status;
	n->link_up = s.link_up;
	n->standby_negotiated = s.standby_negotiated;
	n->promisc = s.promisc;
	n->allmulti = s.allmulti;
	n->uc_overflow = s.uc_overflow;
	n->mc_overflow = s.mc_overflow;
	n->uc_count = s.uc_count;
	n->mc_count = s.mc_count;
	memcpy(n->mac_table, s.mac_table, sizeof(n->mac_table));
	n->bounce_len = 0;
	netdev_set_offload(n->nd, vnet_guest_offloads(n->vp.features));
	pthread_mutex_unlock(&n->vp.lock);
	return 0;
}

/* ---- device ops ---- */

static void vnet_dev_reset(struct device *dev)
{
	virtio_pci_reset(&container_of(dev, struct virtio_net, dev)->vp);
}

static void vnet_dev_pause(struct device *dev)
{
	struct virtio_net *n = container_of(dev, struct virtio_net, dev);

	/* Taking the lock waits for a running queue pass to end. */
	virtio_pci_pause(&n->vp);
	pthread_mutex_lock(&n->vp.lock);
	vnet_rx_poll(n, false);
	pthread_mutex_unlock(&n->vp.lock);
}

static void vnet_dev_resume(struct device *dev)
{
	struct virtio_net *n = container_of(dev, struct virtio_net, dev);

	/* Kicks every queue; the RX kick restarts backend polling. */
	virtio_pci_resume(&n->vp);
}

void virtio_net_free(struct virtio_net *n)
{
	if (!n)
		return;
	if (n->nd)
		netdev_detach(n->nd);
	virtio_pci_destroy(&n->vp);
	free(n->bounce);
	free(n);
}

static int vnet_dev_set_link(struct device *dev, bool up)
{
	return vnet_set_link(container_of(dev, struct virtio_net, dev), up);
}

static int vnet_dev_announce(struct device *dev)
{
	return virtio_net_announce(dev->vm, dev->id, false);
}

static void vnet_dev_destroy(struct device *dev)
{
	virtio_net_free(container_of(dev, struct virtio_net, dev));
}

static void vnet_dev_location(struct device *dev, char *buf, size_t len)
{
	pci_dev_location(&container_of(dev, struct virtio_net, dev)->vp.pci,
			 buf, len);
}

static const struct device_ops virtio_net_dev_ops = {
	.type = "virtio-net-pci",
	.reset = vnet_dev_reset,
	.pause = vnet_dev_pause,
	.resume = vnet_dev_resume,
	.save = vnet_save,
	.load = vnet_load,
	.set_link = vnet_dev_set_link,
	.announce = vnet_dev_announce,
	.location = vnet_dev_location,
	.destroy = vnet_dev_destroy,
};

/* ---- construction and options ---- */

int virtio_net_new(struct vm *vm, const char *id, struct netdev *nd,
		   const uint8_t mac[6], bool failover, struct virtio_net **out)
{
	struct virtio_net *n = calloc(1, sizeof(*n));
	int ret;

	if (!n)
		return -ENOMEM;
	n->bounce = malloc(VNET_BOUNCE_LEN);
	if (!n->bounce) {
		ret = -ENOMEM;
		goto free_n;
	}
	snprintf(n->dev.id, sizeof(n->dev.id), "%s", id);
	n->dev.ops = &virtio_net_dev_ops;
	n->dev.vm = vm;
	n->nd = nd;
	n->failover = failover;
	n->link_up = true;
	n->slot = -1;
	memcpy(n->perm_mac, mac, 6);
	ret = netdev_set_vnet_hdr_len(nd, VNET_HDR_LEN);
	if (ret || nd->vnet_hdr_len != VNET_HDR_LEN) {
		pr_err("%s: netdev %s cannot carry the virtio-net header", id,
		       nd->id);
		ret = -EINVAL;
		goto free_bounce;
	}
	ret = virtio_pci_init(&n->vp, vm, &vnet_virtio_ops, n, id,
			      VNET_NR_QUEUES, VNET_QUEUE_SIZE);
	if (ret)
		goto free_bounce;
	ret = netdev_attach(nd, n->dev.id, &vnet_client_ops, n);
	if (ret) {
		pr_err("%s: netdev %s is already used by %s", id, nd->id,
		       nd->user);
		goto destroy_vp;
	}
	*out = n;
	return 0;

destroy_vp:
	n->nd = NULL;
	virtio_pci_destroy(&n->vp);
free_bounce:
	free(n->bounce);
free_n:
	free(n);
	return ret;
}

/* addr=SLOT as QEMU writes it: "5", "0x5", "05.0". */
static int vnet_parse_slot(const char *s, int *slot)
{
	char *end;
	long v;

	v = strtol(s, &end, 16);
	if (end == s || (*end && strcmp(end, ".0")) || v < 1 ||
	    v >= PCI_NR_SLOTS)
		return -EINVAL;
	*slot = v;
	return 0;
}

struct vnet_opts {
	const char *id, *netdev;
	uint8_t mac[6];
	bool failover;
	int slot;
};

static int vnet_parse(struct vm *vm, struct opts *o, struct vnet_opts *v)
{
	static unsigned nics;
	const char *mac = opts_get(o, "mac"), *addr = opts_get(o, "addr");

	v->id = opts_get(o, "id");
	v->netdev = opts_get(o, "netdev");
	v->slot = -1;
	if (opts_get_bool(o, "failover", false, &v->failover))
		return -EINVAL;
	if (opts_check_unused(o))
		return -EINVAL;
	if (!v->id || !*v->id) {
		pr_err("--device virtio-net-pci: missing id=");
		return -EINVAL;
	}
	if (!v->netdev) {
		pr_err("--device virtio-net-pci,id=%s: missing netdev=", v->id);
		return -EINVAL;
	}
	if (mac && (parse_mac(mac, v->mac) || (v->mac[0] & 1))) {
		pr_err("--device virtio-net-pci,id=%s: bad mac '%s' (need a unicast aa:bb:cc:dd:ee:ff)",
		       v->id, mac);
		return -EINVAL;
	}
	if (!mac)	/* QEMU's default range */
		memcpy(v->mac, (uint8_t[6]){ 0x52, 0x54, 0x00, 0x12, 0x34,
					     0x56 + nics }, 6);
	nics++;
	if (addr && vnet_parse_slot(addr, &v->slot)) {
		pr_err("--device virtio-net-pci,id=%s: bad addr '%s' (slot 1-31)",
		       v->id, addr);
		return -EINVAL;
	}
	if (vm_find_device(vm, v->id)) {
		pr_err("--device virtio-net-pci: duplicate id '%s'", v->id);
		return -EINVAL;
	}
	return 0;
}

int virtio_net_create(struct vm *vm, struct opts *o)
{
	struct virtio_net *n;
	struct vnet_opts v;
	struct netdev *nd;
	int ret;

	ret = vnet_parse(vm, o, &v);
	if (ret)
		return ret;
	nd = netdev_find(vm, v.netdev);
	if (!nd) {
		pr_err("--device virtio-net-pci,id=%s: no --netdev with id '%s'",
		       v.id, v.netdev);
		return -EINVAL;
	}
	if (nd->user) {
		pr_err("--device virtio-net-pci,id=%s: netdev '%s' is already used by '%s'",
		       v.id, v.netdev, nd->user);
		return -EINVAL;
	}
	ret = virtio_net_new(vm, v.id, nd, v.mac, v.failover, &n);
	if (ret)
		return ret;
	n->slot = v.slot;
	ret = pci_host_add(vm->pci, &n->vp.pci, v.slot);
	if (ret) {
		pr_err("--device virtio-net-pci,id=%s: cannot place on PCI bus%s: %s",
		       v.id, v.slot < 0 ? "" : " at that addr", strerror(-ret));
		virtio_net_free(n);
		return -EINVAL;
	}
	ret = virtio_pci_start(&n->vp);
	if (ret) {
		virtio_net_free(n);
		return ret;
	}
	vm_add_device(vm, &n->dev);
	return 0;
}
