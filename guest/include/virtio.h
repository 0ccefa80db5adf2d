/*
 * virtio 1.x: the modern PCI transport (everything found through the
 * vendor capabilities) and split virtqueues, driver side.
 */
#ifndef GUEST_VIRTIO_H
#define GUEST_VIRTIO_H

#include <msix.h>
#include <pci_dev.h>

#define VIRTIO_VENDOR			0x1af4

/* Device status (virtio 2.1). */
#define VIRTIO_S_ACKNOWLEDGE		0x01
#define VIRTIO_S_DRIVER			0x02
#define VIRTIO_S_DRIVER_OK		0x04
#define VIRTIO_S_FEATURES_OK		0x08
#define VIRTIO_S_NEEDS_RESET		0x40
#define VIRTIO_S_FAILED			0x80

/* Transport feature bits. */
#define VIRTIO_F_INDIRECT_DESC		28
#define VIRTIO_F_EVENT_IDX		29
#define VIRTIO_F_VERSION_1		32

#define VIRTIO_NO_VECTOR		0xffff

struct virtio_pci {
	const struct pci_dev *pd;
	u64 common;		/* MMIO addresses of the structures */
	u64 isr;
	u64 device;
	u32 device_len;
	u64 notify;		/* MMIO notify area, 0 if none */
	u32 notify_len;
	u32 notify_mult;
	u16 notify_port;	/* I/O-space notify area (cheaper exit), or 0 */
	u32 notify_port_len;
	u32 notify_port_mult;
	struct msix msix;
	bool has_msix;
};

/* Split-ring layouts (virtio 2.7). */
struct vring_desc {
	u64 addr;
	u32 len;
	u16 flags;
	u16 next;
} __packed;

#define VRING_DESC_F_NEXT		1
#define VRING_DESC_F_WRITE		2
#define VRING_AVAIL_F_NO_INTERRUPT	1
#define VRING_USED_F_NO_NOTIFY		1

struct vring_used_elem {
	u32 id;
	u32 len;
} __packed;

struct virtq {
	u16 index;
	u16 size;
	bool event_idx;
	struct vring_desc *desc;
	volatile u16 *avail;		/* flags, idx, ring[size], used_event */
	volatile u16 *used_hdr;		/* flags, idx */
	volatile struct vring_used_elem *used_ring;
	volatile u16 *avail_event;	/* after used_ring[size] */
	u16 avail_idx;			/* next free avail slot (shadow) */
	u16 kicked_idx;			/* avail idx the device was last told of */
	u16 last_used;			/* next used entry to consume */
	u64 notify_addr;		/* MMIO, or 0 */
	u16 notify_port;		/* I/O port, or 0 */
	bool notify_pio;		/* kick through the port */
};

/* ---- transport (virtio_pci.c) ---- */

/* Map the capabilities; -ENODEV when the modern transport is missing. */
int vp_probe(struct virtio_pci *vp, const struct pci_dev *pd);
/* Write 0 and wait for the device to show 0. */
int vp_reset(struct virtio_pci *vp);
u8 vp_get_status(struct virtio_pci *vp);
void vp_add_status(struct virtio_pci *vp, u8 bits);
u64 vp_get_features(struct virtio_pci *vp);
/* Write the driver's set, FEATURES_OK, and check the device kept it. */
int vp_set_features(struct virtio_pci *vp, u64 features);
void vp_set_config_vector(struct virtio_pci *vp, u16 entry);
u16 vp_config_generation(struct virtio_pci *vp);
/* Device-config reads (offsets into the device structure). */
u8 vp_cfg_read8(struct virtio_pci *vp, u32 off);
u16 vp_cfg_read16(struct virtio_pci *vp, u32 off);
/* Size, rings and vector of queue index; enables it.  max caps the size. */
int vp_setup_queue(struct virtio_pci *vp, struct virtq *vq, u16 index,
		   u16 max, u16 msix_entry, bool event_idx);

/* ---- split ring (virtq.c) ---- */

/* Rings for vq->size entries from the early allocator. */
int virtq_alloc(struct virtq *vq);
/* Put a descriptor chain head in the avail ring (not yet visible). */
static inline void virtq_post(struct virtq *vq, u16 head)
{
	vq->avail[2 + (vq->avail_idx & (vq->size - 1))] = head;
	vq->avail_idx++;
}
/* Make posted heads visible to the device. */
void virtq_publish(struct virtq *vq);
/* Notify the device if it asked to be told about new buffers. */
void virtq_kick(struct virtq *vq);
/* Notify unconditionally. */
void virtq_notify(struct virtq *vq);
/* Next used entry: true and id/len filled, or false when none. */
bool virtq_get_used(struct virtq *vq, u32 *id, u32 *len);
void virtq_unget_used(struct virtq *vq);
/*
 * Ask for an interrupt at the next used entry; false when entries arrived
 * meanwhile (the caller must process them, or it would sleep on them).
 */
bool virtq_arm(struct virtq *vq);
/* No interrupts wanted for this queue (transmit completions). */
void virtq_quiet(struct virtq *vq);

#endif
