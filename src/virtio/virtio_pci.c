// SPDX-License-Identifier: MIT
/*
 * virtio 1.x modern PCI transport: capabilities, common configuration,
 * ISR, notifications and device status semantics.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>
#include <linux/virtio_pci.h>

#include "core/evloop.h"
#include "core/log.h"
#include "core/util.h"
#include "core/vm.h"
#include "virtio/virtio_pci.h"

#define VIRTIO_PCI_CAP_LEN_STD	16
#define VIRTIO_PCI_CAP_LEN_EXT	20	/* notify and pci-cfg caps */
#define VIRTIO_PCI_CFG_DATA_OFF	16	/* pci-cfg cap: its data field */
#define VIRTIO_PCI_ISR_QUEUE	1

static struct virtio_pci_queue *vp_queue(struct virtio_pci *vp, unsigned q)
{
	return q < vp->nr_queues ? &vp->queues[q] : NULL;
}

uint64_t virtio_pci_offered(struct virtio_pci *vp)
{
	return vp->ops->get_features(vp) | VIRTIO_PCI_TRANSPORT_FEATURES;
}

bool virtio_pci_has_feature(struct virtio_pci *vp, unsigned bit)
{
	return bit < 64 && (vp->features & (1ULL << bit));
}

struct virtq *virtio_pci_vq(struct virtio_pci *vp, unsigned q)
{
	struct virtio_pci_queue *pq = vp_queue(vp, q);

	return pq ? &pq->vq : NULL;
}

/* Rings are DMA: no bus mastering, no guest memory access (as hardware). */
bool virtio_pci_live(struct virtio_pci *vp)
{
	return (vp->status & VIRTIO_STAT_DRIVER_OK) &&
	       !(vp->status & (VIRTIO_STAT_NEEDS_RESET | VIRTIO_STAT_FAILED)) &&
	       !vp->paused && pci_bus_master(&vp->pci);
}

/* ---- interrupts ---- */

static void vp_interrupt(struct virtio_pci *vp, uint8_t isr_bit,
			 uint16_t vector)
{
	vp->isr |= isr_bit;
	if (msix_enabled(&vp->msix)) {
		if (vector != VQ_NO_VECTOR)
			msix_notify(&vp->msix, vector);
		return;
	}
	pci_set_irq(&vp->pci, true);
}

void virtio_pci_notify(struct virtio_pci *vp, unsigned q)
{
	struct virtio_pci_queue *pq = vp_queue(vp, q);

	if (pq)
		vp_interrupt(vp, VIRTIO_PCI_ISR_QUEUE, pq->vector);
}

void virtio_pci_flush(struct virtio_pci *vp, unsigned q)
{
	struct virtq *vq = virtio_pci_vq(vp, q);

	/* No new used entries, no interrupt. */
	if (!vq || !virtq_flush(vq))
		return;
	if (virtq_should_notify(vq))
		virtio_pci_notify(vp, q);
}

void virtio_pci_config_changed(struct virtio_pci *vp)
{
	vp->config_generation++;
	if (vp->status & VIRTIO_STAT_DRIVER_OK)
		vp_interrupt(vp, VIRTIO_PCI_ISR_CONFIG, vp->config_vector);
}

void virtio_pci_set_broken(struct virtio_pci *vp, const char *fmt, ...)
{
	char why[200];
	va_list ap;

	if (vp->status & VIRTIO_STAT_NEEDS_RESET)
		return;
	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	vp->status |= VIRTIO_STAT_NEEDS_RESET;
	pr_guest("%s: %s; device needs reset", vp->name, why);
	/* virtio 2.1.2: with DRIVER_OK, tell the driver by a config change. */
	virtio_pci_config_changed(vp);
}

void virtio_pci_queue_broken(struct virtio_pci *vp, unsigned q)
{
	struct virtq *vq = virtio_pci_vq(vp, q);

	virtio_pci_set_broken(vp, "queue %u: %s", q, vq ? vq->err : "?");
}

/* ---- device status ---- */

static void vp_queue_reset(struct virtio_pci_queue *pq)
{
	virtq_reset(&pq->vq);
	pq->vq.size = pq->max_size;
	pq->vector = VQ_NO_VECTOR;
}

/* Device reset (virtio 2.4): back to the state before the driver came. */
static void vp_device_reset(struct virtio_pci *vp)
{
	vp->status = 0;
	vp->dev_feature_sel = vp->drv_feature_sel = 0;
	vp->driver_features = vp->features = 0;
	vp->config_vector = VQ_NO_VECTOR;
	vp->queue_sel = 0;
	vp->isr = 0;
	pci_set_irq(&vp->pci, false);
	for (unsigned q = 0; q < vp->nr_queues; q++)
		vp_queue_reset(&vp->queues[q]);
	if (vp->ops->reset)
		vp->ops->reset(vp);
}

static bool vp_features_ok(struct virtio_pci *vp, uint64_t f)
{
	uint64_t extra = f & ~virtio_pci_offered(vp);

	if (extra) {
		pr_guest("%s: driver accepted features 0x%llx it was not offered",
			 vp->name, (unsigned long long)extra);
		return false;
	}
	if (!(f & VIRTIO_BIT(VIRTIO_FEAT_VERSION_1))) {
		pr_guest("%s: driver did not accept VERSION_1 (modern only)",
			 vp->name);
		return false;
	}
	return !vp->ops->validate_features ||
	       vp->ops->validate_features(vp, f);
}

static void vp_set_status(struct virtio_pci *vp, uint8_t val)
{
	uint8_t old = vp->status, set;

	if (!val) {
		vp_device_reset(vp);
		return;
	}
	/* Drivers only add bits; NEEDS_RESET is the device's to set. */
	val = (val | old) & VIRTIO_STAT_KNOWN;
	val = (val & ~VIRTIO_STAT_NEEDS_RESET) | (old & VIRTIO_STAT_NEEDS_RESET);
	set = val & ~old;
	if (set & VIRTIO_STAT_FEATURES_OK) {
		if (vp_features_ok(vp, vp->driver_features)) {
			vp->features = vp->driver_features;
			for (unsigned q = 0; q < vp->nr_queues; q++)
				virtio_pci_queue_modes(vp, &vp->queues[q].vq);
			if (vp->ops->set_features)
				vp->ops->set_features(vp, vp->features);
		} else {
			/* The driver reads it back cleared (virtio 3.1.1). */
			val &= ~VIRTIO_STAT_FEATURES_OK;
			set &= ~VIRTIO_STAT_FEATURES_OK;
		}
	}
	vp->status = val;
	if (set & VIRTIO_STAT_DRIVER_OK) {
		if (!(val & VIRTIO_STAT_FEATURES_OK)) {
			virtio_pci_set_broken(vp, "DRIVER_OK without FEATURES_OK");
			return;
		}
		if (vp->ops->driver_ok)
			vp->ops->driver_ok(vp);
		/* Buffers may have been queued before DRIVER_OK. */
		for (unsigned q = 0; q < vp->nr_queues; q++)
			if (vp->queues[q].vq.ready)
				virtio_pci_kick(vp, q);
	}
}

/*
 * How a queue reads its ring follows the accepted features: set for every
 * queue when they are accepted (FEATURES_OK) or loaded, cleared by reset,
 * so a driver that enables queues before FEATURES_OK (out of the spec's
 * order) still gets the modes it negotiated, and a migration destination
 * the same modes as the source.
 */
void virtio_pci_queue_modes(struct virtio_pci *vp, struct virtq *vq)
{
	vq->event_idx = virtio_pci_has_feature(vp, VIRTIO_FEAT_EVENT_IDX);
	vq->indirect = virtio_pci_has_feature(vp, VIRTIO_FEAT_INDIRECT_DESC);
}

static void vp_queue_enable(struct virtio_pci *vp, struct virtio_pci_queue *pq)
{
	struct virtq *vq = &pq->vq;

	if (vq->ready)
		return;
	if (vq->size > pq->max_size) {
		virtio_pci_set_broken(vp, "queue %u: size %u above maximum %u",
				      pq->index, vq->size, pq->max_size);
		return;
	}
	if (virtq_enable(vq))
		virtio_pci_queue_broken(vp, pq->index);
}

/* ---- common configuration (virtio 4.1.4.3) ---- */

struct vp_field {
	uint8_t off;
	uint8_t size;
};

/* 64-bit registers are two 32-bit halves, as drivers access them. */
static const struct vp_field vp_fields[] = {
	{ VIRTIO_PCI_COMMON_DFSELECT, 4 }, { VIRTIO_PCI_COMMON_DF, 4 },
	{ VIRTIO_PCI_COMMON_GFSELECT, 4 }, { VIRTIO_PCI_COMMON_GF, 4 },
	{ VIRTIO_PCI_COMMON_MSIX, 2 }, { VIRTIO_PCI_COMMON_NUMQ, 2 },
	{ VIRTIO_PCI_COMMON_STATUS, 1 },
	{ VIRTIO_PCI_COMMON_CFGGENERATION, 1 },
	{ VIRTIO_PCI_COMMON_Q_SELECT, 2 }, { VIRTIO_PCI_COMMON_Q_SIZE, 2 },
	{ VIRTIO_PCI_COMMON_Q_MSIX, 2 }, { VIRTIO_PCI_COMMON_Q_ENABLE, 2 },
	{ VIRTIO_PCI_COMMON_Q_NOFF, 2 },
	{ VIRTIO_PCI_COMMON_Q_DESCLO, 4 }, { VIRTIO_PCI_COMMON_Q_DESCHI, 4 },
	{ VIRTIO_PCI_COMMON_Q_AVAILLO, 4 }, { VIRTIO_PCI_COMMON_Q_AVAILHI, 4 },
	{ VIRTIO_PCI_COMMON_Q_USEDLO, 4 }, { VIRTIO_PCI_COMMON_Q_USEDHI, 4 },
};

static uint32_t word_of(uint64_t v, uint32_t sel)
{
	return sel == 0 ? (uint32_t)v : sel == 1 ? (uint32_t)(v >> 32) : 0;
}

static uint64_t set_word(uint64_t v, uint32_t sel, uint32_t w)
{
	if (sel == 0)
		return (v & ~0xffffffffULL) | w;
	if (sel == 1)
		return (v & 0xffffffffULL) | (uint64_t)w << 32;
	return v;
}

static uint32_t vp_queue_get(struct virtio_pci *vp, unsigned off)
{
	struct virtio_pci_queue *pq = vp_queue(vp, vp->queue_sel);
	struct virtq *vq;

	if (!pq)	/* queue_size 0: no such queue */
		return off == VIRTIO_PCI_COMMON_Q_MSIX ? VQ_NO_VECTOR : 0;
	vq = &pq->vq;
	switch (off) {
	case VIRTIO_PCI_COMMON_Q_SIZE:		return vq->size;
	case VIRTIO_PCI_COMMON_Q_MSIX:		return pq->vector;
	case VIRTIO_PCI_COMMON_Q_ENABLE:	return vq->ready;
	case VIRTIO_PCI_COMMON_Q_NOFF:		return pq->index;
	case VIRTIO_PCI_COMMON_Q_DESCLO:	return vq->desc_gpa;
	case VIRTIO_PCI_COMMON_Q_DESCHI:	return vq->desc_gpa >> 32;
	case VIRTIO_PCI_COMMON_Q_AVAILLO:	return vq->avail_gpa;
	case VIRTIO_PCI_COMMON_Q_AVAILHI:	return vq->avail_gpa >> 32;
	case VIRTIO_PCI_COMMON_Q_USEDLO:	return vq->used_gpa;
	case VIRTIO_PCI_COMMON_Q_USEDHI:	return vq->used_gpa >> 32;
	}
	return 0;
}

static uint32_t vp_common_get(struct virtio_pci *vp, unsigned off)
{
	switch (off) {
	case VIRTIO_PCI_COMMON_DFSELECT:	return vp->dev_feature_sel;
	case VIRTIO_PCI_COMMON_DF:
		return word_of(virtio_pci_offered(vp), vp->dev_feature_sel);
	case VIRTIO_PCI_COMMON_GFSELECT:	return vp->drv_feature_sel;
	case VIRTIO_PCI_COMMON_GF:
		return word_of(vp->driver_features, vp->drv_feature_sel);
	case VIRTIO_PCI_COMMON_MSIX:		return vp->config_vector;
	case VIRTIO_PCI_COMMON_NUMQ:		return vp->nr_queues;
	case VIRTIO_PCI_COMMON_STATUS:		return vp->status;
	case VIRTIO_PCI_COMMON_CFGGENERATION:	return vp->config_generation;
	case VIRTIO_PCI_COMMON_Q_SELECT:	return vp->queue_sel;
	}
	return vp_queue_get(vp, off);
}

uint16_t virtio_pci_vector(struct virtio_pci *vp, uint32_t v)
{
	return v < vp->msix.nr ? v : VQ_NO_VECTOR;
}

static void set_gpa(uint64_t *gpa, bool hi, uint32_t v)
{
	*gpa = hi ? (*gpa & 0xffffffffULL) | (uint64_t)v << 32 :
		    (*gpa & ~0xffffffffULL) | v;
}

static void vp_queue_set(struct virtio_pci *vp, unsigned off, uint32_t v)
{
	struct virtio_pci_queue *pq = vp_queue(vp, vp->queue_sel);
	struct virtq *vq;

	if (!pq)
		return;
	vq = &pq->vq;
	if (off == VIRTIO_PCI_COMMON_Q_MSIX) {
		pq->vector = virtio_pci_vector(vp, v);
		return;
	}
	if (vq->ready) {
		/* Only reset reconfigures a live queue (no RING_RESET). */
		if (off != VIRTIO_PCI_COMMON_Q_ENABLE || v != 1)
			pr_guest("%s: write 0x%x to queue %u register 0x%x while enabled ignored",
				 vp->name, v, pq->index, off);
		return;
	}
	switch (off) {
	case VIRTIO_PCI_COMMON_Q_SIZE:
		vq->size = v;
		break;
	case VIRTIO_PCI_COMMON_Q_ENABLE:
		if (v == 1)
			vp_queue_enable(vp, pq);
		break;
	case VIRTIO_PCI_COMMON_Q_DESCLO:
	case VIRTIO_PCI_COMMON_Q_DESCHI:
		set_gpa(&vq->desc_gpa, off == VIRTIO_PCI_COMMON_Q_DESCHI, v);
		break;
	case VIRTIO_PCI_COMMON_Q_AVAILLO:
	case VIRTIO_PCI_COMMON_Q_AVAILHI:
		set_gpa(&vq->avail_gpa, off == VIRTIO_PCI_COMMON_Q_AVAILHI, v);
		break;
	case VIRTIO_PCI_COMMON_Q_USEDLO:
	case VIRTIO_PCI_COMMON_Q_USEDHI:
		set_gpa(&vq->used_gpa, off == VIRTIO_PCI_COMMON_Q_USEDHI, v);
		break;
	}
}

static void vp_common_set(struct virtio_pci *vp, unsigned off, uint32_t v)
{
	switch (off) {
	case VIRTIO_PCI_COMMON_DFSELECT:
		vp->dev_feature_sel = v;
		break;
	case VIRTIO_PCI_COMMON_GFSELECT:
		vp->drv_feature_sel = v;
		break;
	case VIRTIO_PCI_COMMON_GF:
		if (vp->status & VIRTIO_STAT_FEATURES_OK) {
			pr_guest("%s: feature write after FEATURES_OK ignored",
				 vp->name);
			break;
		}
		vp->driver_features = set_word(vp->driver_features,
					       vp->drv_feature_sel, v);
		break;
	case VIRTIO_PCI_COMMON_MSIX:
		vp->config_vector = virtio_pci_vector(vp, v);
		break;
	case VIRTIO_PCI_COMMON_STATUS:
		vp_set_status(vp, v);
		break;
	case VIRTIO_PCI_COMMON_Q_SELECT:
		vp->queue_sel = v;
		break;
	case VIRTIO_PCI_COMMON_DF:
	case VIRTIO_PCI_COMMON_NUMQ:
	case VIRTIO_PCI_COMMON_CFGGENERATION:
	case VIRTIO_PCI_COMMON_Q_NOFF:
		break;		/* read-only */
	default:
		vp_queue_set(vp, off, v);
		break;
	}
}

/*
 * Any access size at any offset: each register the access touches is read,
 * the touched bytes are merged, and (for writes) the register is set once.
 */
static uint64_t vp_common_read(struct virtio_pci *vp, unsigned off,
			       unsigned size)
{
	uint64_t v = 0;

	for (unsigned i = 0; i < ARRAY_SIZE(vp_fields); i++) {
		const struct vp_field *f = &vp_fields[i];
		uint32_t fv;

		if (off + size <= f->off || f->off + f->size <= off)
			continue;
		fv = vp_common_get(vp, f->off);
		for (unsigned b = 0; b < f->size; b++) {
			unsigned at = f->off + b;

			if (at >= off && at < off + size)
				v |= (uint64_t)((fv >> (8 * b)) & 0xff) <<
				     (8 * (at - off));
		}
	}
	return v;
}

static void vp_common_write(struct virtio_pci *vp, unsigned off,
			    uint64_t val, unsigned size)
{
	for (unsigned i = 0; i < ARRAY_SIZE(vp_fields); i++) {
		const struct vp_field *f = &vp_fields[i];
		uint32_t fv;

		if (off + size <= f->off || f->off + f->size <= off)
			continue;
		fv = f->size == 4 && off <= f->off && off + size >= f->off + 4u ?
		     0 : vp_common_get(vp, f->off);
		for (unsigned b = 0; b < f->size; b++) {
			unsigned at = f->off + b;

			if (at < off || at >= off + size)
				continue;
			fv &= ~(0xffU << (8 * b));
			fv |= ((val >> (8 * (at - off))) & 0xff) << (8 * b);
		}
		vp_common_set(vp, f->off, fv);
	}
}

/* ---- I/O handlers ---- */

static uint8_t vp_isr_read(struct virtio_pci *vp)
{
	uint8_t v = vp->isr;

	/* Reading ISR acknowledges the INTx interrupt (virtio 4.1.4.5). */
	vp->isr = 0;
	pci_set_irq(&vp->pci, false);
	return v;
}

void virtio_pci_kick(struct virtio_pci *vp, unsigned q)
{
	struct virtio_pci_queue *pq = vp_queue(vp, q);
	uint64_t one = 1;

	if (pq && write(pq->kick_fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		pr_warn("%s: kick: %s", vp->name, strerror(errno));
}

uint64_t virtio_pci_bar_read(void *opaque, uint64_t off, unsigned size)
{
	struct virtio_pci *vp = opaque;
	unsigned cfg = vp->ops->config_size;
	uint64_t v = 0;
	uint8_t buf[8] = { 0 };

	pthread_mutex_lock(&vp->lock);
	if (off < VIRTIO_PCI_COMMON_OFF + VIRTIO_PCI_COMMON_LEN) {
		v = vp_common_read(vp, off, size);
	} else if (off == VIRTIO_PCI_ISR_OFF) {
		v = vp_isr_read(vp);
	} else if (off >= VIRTIO_PCI_DEVCFG_OFF &&
		   off + size <= VIRTIO_PCI_DEVCFG_OFF + cfg) {
		vp->ops->config_read(vp, off - VIRTIO_PCI_DEVCFG_OFF, buf, size);
		v = le_read(buf, size);
	}
	pthread_mutex_unlock(&vp->lock);
	return v;
}

void virtio_pci_bar_write(void *opaque, uint64_t off, uint64_t val,
			  unsigned size)
{
	struct virtio_pci *vp = opaque;
	unsigned cfg = vp->ops->config_size;
	uint8_t buf[8];

	if (off >= VIRTIO_PCI_NOTIFY_OFF) {
		/* No lock: the loop thread does the work. */
		virtio_pci_kick(vp, (off - VIRTIO_PCI_NOTIFY_OFF) /
				    VIRTIO_PCI_NOTIFY_MULT);
		return;
	}
	pthread_mutex_lock(&vp->lock);
	if (off < VIRTIO_PCI_COMMON_OFF + VIRTIO_PCI_COMMON_LEN) {
		vp_common_write(vp, off, val, size);
	} else if (off >= VIRTIO_PCI_DEVCFG_OFF &&
		   off + size <= VIRTIO_PCI_DEVCFG_OFF + cfg &&
		   vp->ops->config_write) {
		le_write(buf, size, val);
		vp->ops->config_write(vp, off - VIRTIO_PCI_DEVCFG_OFF, buf, size);
	}
	pthread_mutex_unlock(&vp->lock);
}

void virtio_pci_pio_write(void *opaque, uint64_t off, uint64_t val,
			  unsigned size)
{
	if (off == 0 && size >= 2)
		virtio_pci_kick(opaque, val & 0xffff);
}

static uint64_t vp_pio_read(void *opaque, uint64_t off, unsigned size)
{
	return 0;
}

static const struct bus_ops vp_bar_ops = {
	.read = virtio_pci_bar_read, .write = virtio_pci_bar_write,
	.min_size = 1, .max_size = 4,
};

static const struct bus_ops vp_pio_ops = {
	.read = vp_pio_read, .write = virtio_pci_pio_write,
	.min_size = 1, .max_size = 4,
};

void virtio_pci_run_queue(struct virtio_pci *vp, unsigned q)
{
	struct virtio_pci_queue *pq = vp_queue(vp, q);

	if (!pq)
		return;
	pthread_mutex_lock(&vp->lock);
	if (virtio_pci_live(vp) && pq->vq.ready && !pq->vq.broken)
		vp->ops->queue_notify(vp, q);
	pthread_mutex_unlock(&vp->lock);
}

static void vp_kick_cb(void *opaque, uint32_t events)
{
	struct virtio_pci_queue *pq = opaque;
	uint64_t cnt;

	if (read(pq->kick_fd, &cnt, sizeof(cnt)) < 0 && errno != EAGAIN)
		return;
	virtio_pci_run_queue(pq->vp, pq->index);
}

/* ---- PCI glue: moving ioeventfds with the BARs, the pci-cfg window ---- */

static void vp_bar_moved(struct pci_dev *pd, int bar, bool mapped,
			 uint64_t addr)
{
	struct virtio_pci *vp = pd->opaque;
	static bool warned;

	if (bar != VIRTIO_PCI_BAR && bar != VIRTIO_PCI_PIO_BAR)
		return;
	for (unsigned q = 0; q < vp->nr_queues; q++) {
		struct virtio_pci_queue *pq = &vp->queues[q];
		struct ioeventfd *ev = bar == VIRTIO_PCI_BAR ? &pq->mmio_ev :
							       &pq->pio_ev;

		ioeventfd_deassign(vp->vm, ev);
		if (!mapped)
			continue;
		*ev = (struct ioeventfd){
			.fd = pq->kick_fd, .len = 2,
			.pio = bar == VIRTIO_PCI_PIO_BAR,
			.datamatch = bar == VIRTIO_PCI_PIO_BAR, .data = q,
			.addr = bar == VIRTIO_PCI_PIO_BAR ? addr :
				addr + VIRTIO_PCI_NOTIFY_OFF +
				q * VIRTIO_PCI_NOTIFY_MULT,
		};
		if (vp->vm->vm_fd >= 0 && ioeventfd_assign(vp->vm, ev) &&
		    !__atomic_exchange_n(&warned, true, __ATOMIC_RELAXED))
			pr_info("%s: no ioeventfd, kicks exit to fvmm", vp->name);
	}
}

/*
 * VIRTIO_PCI_CAP_PCI_CFG: a window into the BARs through config space.  True
 * when the access at off touches the window's data field and the cap names
 * a valid place in the BAR (boff, len).
 */
static bool vp_cfg_window(struct virtio_pci *vp, unsigned off, unsigned size,
			  uint64_t *boff, unsigned *len)
{
	struct pci_dev *pd = &vp->pci;
	unsigned c = vp->cfg_cap, data = c + VIRTIO_PCI_CFG_DATA_OFF;
	uint8_t bar = pd->cfg[c + VIRTIO_PCI_CAP_BAR];

	if (!pci_cfg_touches(off, size, data, 4))
		return false;
	*boff = pci_get_reg(pd, c + VIRTIO_PCI_CAP_OFFSET, 4);
	*len = pci_get_reg(pd, c + VIRTIO_PCI_CAP_LENGTH, 4);
	return bar == VIRTIO_PCI_BAR && (*len == 1 || *len == 2 || *len == 4) &&
	       IS_ALIGNED(*boff, *len) && *boff + *len <= VIRTIO_PCI_BAR_SIZE;
}

static void vp_config_read(struct pci_dev *pd, unsigned off, unsigned size)
{
	struct virtio_pci *vp = pd->opaque;
	unsigned data = vp->cfg_cap + VIRTIO_PCI_CFG_DATA_OFF, len;
	uint64_t boff;

	if (vp_cfg_window(vp, off, size, &boff, &len))
		le_write(&pd->cfg[data], 4, virtio_pci_bar_read(vp, boff, len));
}

static void vp_config_write(struct pci_dev *pd, unsigned off, unsigned size)
{
	struct virtio_pci *vp = pd->opaque;
	unsigned data = vp->cfg_cap + VIRTIO_PCI_CFG_DATA_OFF, len;
	uint64_t boff;

	if (vp_cfg_window(vp, off, size, &boff, &len))
		virtio_pci_bar_write(vp, boff, pci_get_reg(pd, data, len), len);
}

static const struct pci_dev_ops vp_pci_ops = {
	.config_read = vp_config_read,
	.config_write = vp_config_write,
	.bar_moved = vp_bar_moved,
};

static int vp_add_cap(struct virtio_pci *vp, uint8_t type, uint8_t bar,
		      uint32_t off, uint32_t len, unsigned cap_len)
{
	struct pci_dev *pd = &vp->pci;
	int c = pci_cap_add(pd, PCI_CAP_ID_VNDR, cap_len);

	if (c < 0)
		return c;
	pci_set_reg(pd, c + VIRTIO_PCI_CAP_LEN, 1, cap_len, 0, 0);
	pci_set_reg(pd, c + VIRTIO_PCI_CAP_CFG_TYPE, 1, type, 0, 0);
	pci_set_reg(pd, c + VIRTIO_PCI_CAP_BAR, 1, bar, 0, 0);
	pci_set_reg(pd, c + VIRTIO_PCI_CAP_OFFSET, 4, off, 0, 0);
	pci_set_reg(pd, c + VIRTIO_PCI_CAP_LENGTH, 4, len, 0, 0);
	return c;
}

static int vp_add_caps(struct virtio_pci *vp)
{
	struct pci_dev *pd = &vp->pci;
	unsigned notify_len = vp->nr_queues * VIRTIO_PCI_NOTIFY_MULT;
	int c;

	if (vp_add_cap(vp, VIRTIO_PCI_CAP_COMMON_CFG, VIRTIO_PCI_BAR,
		       VIRTIO_PCI_COMMON_OFF, VIRTIO_PCI_COMMON_LEN,
		       VIRTIO_PCI_CAP_LEN_STD) < 0)
		return -ENOSPC;
	c = vp_add_cap(vp, VIRTIO_PCI_CAP_NOTIFY_CFG, VIRTIO_PCI_BAR,
		       VIRTIO_PCI_NOTIFY_OFF, notify_len, VIRTIO_PCI_CAP_LEN_EXT);
	if (c < 0)
		return c;
	pci_set_reg(pd, c + 16, 4, VIRTIO_PCI_NOTIFY_MULT, 0, 0);
	if (vp_add_cap(vp, VIRTIO_PCI_CAP_ISR_CFG, VIRTIO_PCI_BAR,
		       VIRTIO_PCI_ISR_OFF, 1, VIRTIO_PCI_CAP_LEN_STD) < 0 ||
	    vp_add_cap(vp, VIRTIO_PCI_CAP_DEVICE_CFG, VIRTIO_PCI_BAR,
		       VIRTIO_PCI_DEVCFG_OFF, vp->ops->config_size,
		       VIRTIO_PCI_CAP_LEN_STD) < 0)
		return -ENOSPC;
	/* Listed after the MMIO one: Linux takes the first notify cap. */
	c = vp_add_cap(vp, VIRTIO_PCI_CAP_NOTIFY_CFG, VIRTIO_PCI_PIO_BAR, 0, 2,
		       VIRTIO_PCI_CAP_LEN_EXT);
	if (c < 0)
		return c;
	pci_set_reg(pd, c + 16, 4, 0, 0, 0);	/* every queue at port 0 */
	c = vp_add_cap(vp, VIRTIO_PCI_CAP_PCI_CFG, 0, 0, 0,
		       VIRTIO_PCI_CAP_LEN_EXT);
	if (c < 0)
		return c;
	vp->cfg_cap = c;
	pci_set_reg(pd, c + VIRTIO_PCI_CAP_BAR, 1, 0, 0xff, 0);
	pci_set_reg(pd, c + VIRTIO_PCI_CAP_OFFSET, 4, 0, ~0U, 0);
	pci_set_reg(pd, c + VIRTIO_PCI_CAP_LENGTH, 4, 0, ~0U, 0);
	pci_set_reg(pd, c + VIRTIO_PCI_CFG_DATA_OFF, 4, 0, ~0U, 0);
	return 0;
}

/* ---- construction ---- */

static int vp_pci_setup(struct virtio_pci *vp)
{
	struct pci_dev *pd = &vp->pci;
	int ret;

	pci_dev_init(pd, vp->vm, vp->name, VIRTIO_PCI_VENDOR,
		     VIRTIO_PCI_DEVICE_BASE + vp->ops->device_id,
		     vp->ops->class_code, 1);
	pd->ops = &vp_pci_ops;
	pd->opaque = vp;
	pci_dev_set_subsystem(pd, VIRTIO_PCI_VENDOR, 0x1100);
	pci_dev_set_intx_pin(pd, 1);
	ret = msix_init(&vp->msix, pd, vp->nr_queues + 1, VIRTIO_PCI_MSIX_BAR);
	if (ret)
		return ret;
	ret = pci_bar_init(pd, VIRTIO_PCI_PIO_BAR, PCI_BAR_IO, false, 4,
			   &vp_pio_ops, vp, "virtio-notify-pio");
	if (ret)
		return ret;
	ret = pci_bar_init(pd, VIRTIO_PCI_BAR, PCI_BAR_MEM64, true,
			   VIRTIO_PCI_BAR_SIZE, &vp_bar_ops, vp, "virtio");
	if (ret)
		return ret;
	return vp_add_caps(vp);
}

int virtio_pci_init(struct virtio_pci *vp, struct vm *vm,
		    const struct virtio_dev_ops *ops, void *opaque,
		    const char *name, unsigned nr_queues, uint16_t max_size)
{
	int ret;

	if (!nr_queues || nr_queues > VIRTIO_PCI_MAX_QUEUES ||
	    ops->config_size > VIRTIO_PCI_DEVCFG_MAX ||
	    !max_size || (max_size & (max_size - 1)) || max_size > VQ_MAX_SIZE)
		return -EINVAL;
	memset(vp, 0, sizeof(*vp));
	vp->vm = vm;
	vp->ops = ops;
	vp->opaque = opaque;
	vp->nr_queues = nr_queues;
	snprintf(vp->name, sizeof(vp->name), "%s", name);
	pthread_mutex_init(&vp->lock, NULL);
	for (unsigned q = 0; q < VIRTIO_PCI_MAX_QUEUES; q++) {
		struct virtio_pci_queue *pq = &vp->queues[q];

		pq->vp = vp;
		pq->index = q;
		pq->kick_fd = -1;
		pq->vq.gm = &vm->mem;
		pq->max_size = max_size;
	}
	for (unsigned q = 0; q < nr_queues; q++) {
		vp->queues[q].kick_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (vp->queues[q].kick_fd < 0) {
			ret = -errno;
			goto close_fds;
		}
	}
	ret = vp_pci_setup(vp);
	if (ret)
		goto close_fds;
	vp_device_reset(vp);
	return 0;

close_fds:
	for (unsigned q = 0; q < nr_queues; q++)
		if (vp->queues[q].kick_fd >= 0)
			close(vp->queues[q].kick_fd);
	return ret;
}

int virtio_pci_start(struct virtio_pci *vp)
{
	int ret;

	for (unsigned q = 0; q < vp->nr_queues; q++) {
		ret = evloop_add(&vp->vm->loop, vp->queues[q].kick_fd, EPOLLIN,
				 vp_kick_cb, &vp->queues[q]);
		if (ret) {
			while (q--)
				evloop_del(&vp->vm->loop, vp->queues[q].kick_fd);
			return ret;
		}
	}
	vp->kicks_registered = true;
	return 0;
}

void virtio_pci_destroy(struct virtio_pci *vp)
{
	for (unsigned q = 0; q < vp->nr_queues; q++) {
		struct virtio_pci_queue *pq = &vp->queues[q];

		if (vp->kicks_registered)
			evloop_del(&vp->vm->loop, pq->kick_fd);
		ioeventfd_deassign(vp->vm, &pq->mmio_ev);
		ioeventfd_deassign(vp->vm, &pq->pio_ev);
	}
	if (vp->pci.host)
		pci_host_remove(vp->pci.host, &vp->pci);
	else
		pci_unmap_bars(&vp->pci);
	for (unsigned q = 0; q < vp->nr_queues; q++)
		close(vp->queues[q].kick_fd);
	msix_destroy(&vp->msix);
	pthread_mutex_destroy(&vp->lock);
}

/* ---- device_ops helpers ---- */

void virtio_pci_reset(struct virtio_pci *vp)
{
	if (vp->pci.host)
		pci_host_lock(vp->pci.host);
	pci_dev_reset(&vp->pci);
	if (vp->pci.host)
		pci_host_unlock(vp->pci.host);
	pthread_mutex_lock(&vp->lock);
	vp_device_reset(vp);
	pthread_mutex_unlock(&vp->lock);
}

void virtio_pci_pause(struct virtio_pci *vp)
{
	pthread_mutex_lock(&vp->lock);
	vp->paused = true;
	pthread_mutex_unlock(&vp->lock);
}

void virtio_pci_resume(struct virtio_pci *vp)
{
	pthread_mutex_lock(&vp->lock);
	vp->paused = false;
	pthread_mutex_unlock(&vp->lock);
	for (unsigned q = 0; q < vp->nr_queues; q++)
		virtio_pci_kick(vp, q);
}
