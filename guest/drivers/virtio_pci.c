/*
 * virtio 1.x modern PCI transport, driver side (virtio 4.1).  Nothing is
 * assumed about the BAR layout: the common, notify, ISR and device
 * structures are located through the vendor capabilities.  A device that
 * also offers an I/O-space notify capability gets its kicks there: a port
 * write is a cheaper VM exit than an MMIO write that must be decoded.
 */

#include <errno.h>
#include <io.h>
#include <printk.h>
#include <time.h>
#include <virtio.h>

/* Capability layout (virtio 4.1.4). */
#define VCAP_CFG_TYPE		3
#define VCAP_BAR		4
#define VCAP_OFFSET		8
#define VCAP_LENGTH		12
#define VCAP_NOTIFY_MULT	16

#define VCAP_COMMON		1
#define VCAP_NOTIFY		2
#define VCAP_ISR		3
#define VCAP_DEVICE		4

/* Common configuration structure offsets. */
#define VC_DFSELECT		0x00
#define VC_DF			0x04
#define VC_GFSELECT		0x08
#define VC_GF			0x0c
#define VC_MSIX			0x10
#define VC_NUMQ			0x12
#define VC_STATUS		0x14
#define VC_CFGGEN		0x15
#define VC_Q_SELECT		0x16
#define VC_Q_SIZE		0x18
#define VC_Q_MSIX		0x1a
#define VC_Q_ENABLE		0x1c
#define VC_Q_NOFF		0x1e
#define VC_Q_DESC		0x20
#define VC_Q_DRIVER		0x28
#define VC_Q_DEVICE		0x30
#define VC_LEN			0x38

#define RESET_TIMEOUT_US	1000000

static inline u8 rd8(u64 a)
{
	return *(volatile u8 *)a;
}

static inline u16 rd16(u64 a)
{
	return *(volatile u16 *)a;
}

static inline void wr8(u64 a, u8 v)
{
	*(volatile u8 *)a = v;
}

static inline void wr16(u64 a, u16 v)
{
	*(volatile u16 *)a = v;
}

/* 64-bit registers as two dwords, low first (any device takes that). */
static void wr64(u64 a, u64 v)
{
	mmio_write32(a, (u32)v);
	mmio_write32(a + 4, (u32)(v >> 32));
}

static void note_notify(struct virtio_pci *vp, const struct pci_bar *b,
			u64 mmio, u32 off, u32 len, u32 mult)
{
	if (b->type == PCI_BAR_IO) {
		if (!vp->notify_port && b->base && off < b->size &&
		    len <= b->size - off) {
			vp->notify_port = b->base + off;
			vp->notify_port_len = len;
			vp->notify_port_mult = mult;
		}
		return;
	}
	if (!vp->notify && mmio) {
		vp->notify = mmio;
		vp->notify_len = len;
		vp->notify_mult = mult;
	}
}

static void parse_cap(struct virtio_pci *vp, u8 cap)
{
	const struct pci_dev *pd = vp->pd;
	u8 type = pci_read8(pd, cap + VCAP_CFG_TYPE);
	u8 bar = pci_read8(pd, cap + VCAP_BAR);
	u32 off = pci_read32(pd, cap + VCAP_OFFSET);
	u32 len = pci_read32(pd, cap + VCAP_LENGTH);
	u64 mmio;

	if (bar >= PCI_NR_BARS)
		return;		/* e.g. the PCI-config window: not used */
	mmio = pci_bar_mmio(pd, bar, off, len);
	switch (type) {
	case VCAP_COMMON:
		if (!vp->common && len >= VC_LEN)
			vp->common = mmio;
		break;
	case VCAP_NOTIFY:
		note_notify(vp, &pd->bar[bar], mmio, off, len,
			    pci_read32(pd, cap + VCAP_NOTIFY_MULT));
		break;
	case VCAP_ISR:
		if (!vp->isr && len >= 1)
			vp->isr = mmio;
		break;
	case VCAP_DEVICE:
		if (!vp->device && mmio) {
			vp->device = mmio;
			vp->device_len = len;
		}
		break;
	}
}

int vp_probe(struct virtio_pci *vp, const struct pci_dev *pd)
{
	u8 cap;

	vp->pd = pd;
	for (cap = pci_find_cap(pd, PCI_CAP_ID_VNDR, 0); cap;
	     cap = pci_find_cap(pd, PCI_CAP_ID_VNDR, cap))
		parse_cap(vp, cap);
	if (!vp->common || !vp->isr || (!vp->notify && !vp->notify_port))
		return -ENODEV;
	return 0;
}

u8 vp_get_status(struct virtio_pci *vp)
{
	return rd8(vp->common + VC_STATUS);
}

void vp_add_status(struct virtio_pci *vp, u8 bits)
{
	wr8(vp->common + VC_STATUS, vp_get_status(vp) | bits);
}

int vp_reset(struct virtio_pci *vp)
{
	u64 waited = 0;

	wr8(vp->common + VC_STATUS, 0);
	/* virtio 4.1.4.3.2: reset is done when status reads back 0. */
	while (vp_get_status(vp)) {
		if (waited >= RESET_TIMEOUT_US)
			return -ETIMEDOUT;
		udelay(10);
		waited += 10;
	}
	return 0;
}

u64 vp_get_features(struct virtio_pci *vp)
{
	u64 f;

	mmio_write32(vp->common + VC_DFSELECT, 0);
	f = mmio_read32(vp->common + VC_DF);
	mmio_write32(vp->common + VC_DFSELECT, 1);
	return f | (u64)mmio_read32(vp->common + VC_DF) << 32;
}

int vp_set_features(struct virtio_pci *vp, u64 features)
{
	mmio_write32(vp->common + VC_GFSELECT, 0);
	mmio_write32(vp->common + VC_GF, (u32)features);
	mmio_write32(vp->common + VC_GFSELECT, 1);
	mmio_write32(vp->common + VC_GF, (u32)(features >> 32));
	vp_add_status(vp, VIRTIO_S_FEATURES_OK);
	/* The device clears FEATURES_OK when it refuses the set. */
	return vp_get_status(vp) & VIRTIO_S_FEATURES_OK ? 0 : -EINVAL;
}

void vp_set_config_vector(struct virtio_pci *vp, u16 entry)
{
	wr16(vp->common + VC_MSIX, entry);
}

u16 vp_config_generation(struct virtio_pci *vp)
{
	return rd8(vp->common + VC_CFGGEN);
}

u8 vp_cfg_read8(struct virtio_pci *vp, u32 off)
{
	return off < vp->device_len ? rd8(vp->device + off) : 0;
}

u16 vp_cfg_read16(struct virtio_pci *vp, u32 off)
{
	return off + 2 <= vp->device_len ? rd16(vp->device + off) : 0;
}

/*
 * Where this queue's kicks can go: the I/O slot and the MMIO slot, each
 * only if it lies inside its area.  The port is used by default (cheaper
 * exit); ring-3 code, which may not do port I/O, switches to MMIO.
 */
static int queue_notify_target(struct virtio_pci *vp, struct virtq *vq)
{
	u32 noff = rd16(vp->common + VC_Q_NOFF);
	u64 at;

	vq->notify_port = 0;
	vq->notify_addr = 0;
	if (vp->notify_port) {
		at = (u64)noff * vp->notify_port_mult;
		if (at + 2 <= vp->notify_port_len)
			vq->notify_port = vp->notify_port + at;
	}
	if (vp->notify) {
		at = (u64)noff * vp->notify_mult;
		if (at + 2 <= vp->notify_len)
			vq->notify_addr = vp->notify + at;
	}
	vq->notify_pio = vq->notify_port != 0;
	return vq->notify_port || vq->notify_addr ? 0 : -ENODEV;
}

int vp_setup_queue(struct virtio_pci *vp, struct virtq *vq, u16 index,
		   u16 max, u16 msix_entry, bool event_idx)
{
	u64 c = vp->common;
	u16 size;
	int ret;

	wr16(c + VC_Q_SELECT, index);
	size = rd16(c + VC_Q_SIZE);
	if (!size || (size & (size - 1)))
		return -ENODEV;
	while (size > max)
		size >>= 1;
	wr16(c + VC_Q_SIZE, size);
	vq->index = index;
	vq->size = size;
	vq->event_idx = event_idx;
	ret = virtq_alloc(vq);
	if (ret)
		return ret;
	wr16(c + VC_Q_MSIX, msix_entry);
	/* The device answers NO_VECTOR when it could not take the entry. */
	if (msix_entry != VIRTIO_NO_VECTOR &&
	    rd16(c + VC_Q_MSIX) != msix_entry)
		return -EIO;
	wr64(c + VC_Q_DESC, (u64)vq->desc);
	wr64(c + VC_Q_DRIVER, (u64)vq->avail);
	wr64(c + VC_Q_DEVICE, (u64)vq->used_hdr);
	ret = queue_notify_target(vp, vq);
	if (ret)
		return ret;
	wr16(c + VC_Q_ENABLE, 1);
	return 0;
}
