/* SPDX-License-Identifier: MIT */
/*
 * A minimal virtio 1.x driver for unit tests: programs the modern PCI
 * transport through its BAR handlers and builds split rings in guest RAM,
 * the way a guest kernel would.  Used by test_virtio_pci.c and test_net.c.
 */
#ifndef FVMM_TESTS_UNIT_VIRTIO_DRIVER_H
#define FVMM_TESTS_UNIT_VIRTIO_DRIVER_H

#include <linux/virtio_pci.h>

#include "helpers.h"

#include "core/evloop.h"
#include "core/util.h"
#include "virtio/virtio_pci.h"

#define DRV_RAM		(4 * MiB)

struct drv_seg {
	uint64_t gpa;
	uint32_t len;
	bool write;
};

struct drv_queue {
	uint16_t size;
	uint64_t desc, avail, used;
	uint16_t avail_idx;
	uint16_t used_seen;
	uint16_t next_desc;
};

struct drv {
	struct virtio_pci *vp;
	struct guest_mem *gm;
	struct drv_queue q[VIRTIO_PCI_MAX_QUEUES];
	uint64_t brk;
};

/* A machine-less VM with RAM and an (idle) event loop. */
static inline void drv_vm_init(struct vm *vm)
{
	fake_vm_init(vm);
	assert_int_equal(gm_init(&vm->mem, DRV_RAM), 0);
	assert_int_equal(evloop_init(&vm->loop), 0);
	vm->loop_ready = true;
}

static inline void drv_vm_destroy(struct vm *vm)
{
	fake_vm_destroy(vm);
	evloop_destroy(&vm->loop);
	gm_destroy(&vm->mem);
}

static inline uint64_t drv_alloc(struct drv *d, uint64_t len, uint64_t align)
{
	uint64_t p = ALIGN_UP(d->brk, align);

	d->brk = p + len;
	assert_true(d->brk <= DRV_RAM);
	return p;
}

static inline void drv_w(struct drv *d, unsigned off, uint64_t v,
			 unsigned size)
{
	virtio_pci_bar_write(d->vp, off, v, size);
}

static inline uint64_t drv_r(struct drv *d, unsigned off, unsigned size)
{
	return virtio_pci_bar_read(d->vp, off, size);
}

static inline uint8_t drv_status(struct drv *d)
{
	return drv_r(d, VIRTIO_PCI_COMMON_STATUS, 1);
}

static inline uint64_t drv_device_features(struct drv *d)
{
	uint64_t f;

	drv_w(d, VIRTIO_PCI_COMMON_DFSELECT, 0, 4);
	f = drv_r(d, VIRTIO_PCI_COMMON_DF, 4);
	drv_w(d, VIRTIO_PCI_COMMON_DFSELECT, 1, 4);
	return f | drv_r(d, VIRTIO_PCI_COMMON_DF, 4) << 32;
}

static inline void drv_write_features(struct drv *d, uint64_t f)
{
	drv_w(d, VIRTIO_PCI_COMMON_GFSELECT, 0, 4);
	drv_w(d, VIRTIO_PCI_COMMON_GF, (uint32_t)f, 4);
	drv_w(d, VIRTIO_PCI_COMMON_GFSELECT, 1, 4);
	drv_w(d, VIRTIO_PCI_COMMON_GF, f >> 32, 4);
}

/* Reset, ACK, DRIVER, features, FEATURES_OK; returns the status read back. */
static inline uint8_t drv_negotiate(struct drv *d, uint64_t want)
{
	struct pci_dev *pd = &d->vp->pci;

	/* As a probe does: let the device master the bus (DMA, MSI). */
	pci_cfg_write(pd, PCI_COMMAND, pci_cfg_read(pd, PCI_COMMAND, 2) |
		      PCI_COMMAND_MASTER, 2);
	drv_w(d, VIRTIO_PCI_COMMON_STATUS, 0, 1);
	drv_w(d, VIRTIO_PCI_COMMON_STATUS, VIRTIO_STAT_ACKNOWLEDGE, 1);
	drv_w(d, VIRTIO_PCI_COMMON_STATUS,
	      VIRTIO_STAT_ACKNOWLEDGE | VIRTIO_STAT_DRIVER, 1);
	drv_write_features(d, want & drv_device_features(d));
	drv_w(d, VIRTIO_PCI_COMMON_STATUS, VIRTIO_STAT_ACKNOWLEDGE |
	      VIRTIO_STAT_DRIVER | VIRTIO_STAT_FEATURES_OK, 1);
	return drv_status(d);
}

static inline void drv_setup_queue(struct drv *d, unsigned q, uint16_t size,
				   uint16_t vector)
{
	struct drv_queue *dq = &d->q[q];

	*dq = (struct drv_queue){ .size = size };
	dq->desc = drv_alloc(d, 16 * size, 16);
	dq->avail = drv_alloc(d, 6 + 2 * size, 2);
	dq->used = drv_alloc(d, 6 + 8 * size, 4);
	drv_w(d, VIRTIO_PCI_COMMON_Q_SELECT, q, 2);
	drv_w(d, VIRTIO_PCI_COMMON_Q_SIZE, size, 2);
	drv_w(d, VIRTIO_PCI_COMMON_Q_MSIX, vector, 2);
	drv_w(d, VIRTIO_PCI_COMMON_Q_DESCLO, (uint32_t)dq->desc, 4);
	drv_w(d, VIRTIO_PCI_COMMON_Q_DESCHI, dq->desc >> 32, 4);
	drv_w(d, VIRTIO_PCI_COMMON_Q_AVAILLO, (uint32_t)dq->avail, 4);
	drv_w(d, VIRTIO_PCI_COMMON_Q_AVAILHI, 0, 4);
	drv_w(d, VIRTIO_PCI_COMMON_Q_USEDLO, (uint32_t)dq->used, 4);
	drv_w(d, VIRTIO_PCI_COMMON_Q_USEDHI, 0, 4);
	drv_w(d, VIRTIO_PCI_COMMON_Q_ENABLE, 1, 2);
}

static inline void drv_driver_ok(struct drv *d)
{
	drv_w(d, VIRTIO_PCI_COMMON_STATUS, drv_status(d) | VIRTIO_STAT_DRIVER_OK,
	      1);
}

static inline void drv_put_desc(struct drv *d, uint64_t table, unsigned i,
				uint64_t addr, uint32_t len, uint16_t flags,
				uint16_t next)
{
	struct vq_desc v = { addr, len, flags, next };

	assert_int_equal(gm_write(d->gm, table + 16 * i, &v, 16), 0);
}

static inline void drv_publish(struct drv *d, unsigned q, uint16_t head)
{
	struct drv_queue *dq = &d->q[q];
	uint16_t idx;

	gm_write(d->gm, dq->avail + 4 + 2 * (dq->avail_idx % dq->size), &head, 2);
	idx = ++dq->avail_idx;
	gm_write(d->gm, dq->avail + 2, &idx, 2);
}

/* Post a chain of direct descriptors; returns its head. */
static inline uint16_t drv_add(struct drv *d, unsigned q,
			       const struct drv_seg *s, unsigned n)
{
	struct drv_queue *dq = &d->q[q];
	uint16_t head = dq->next_desc;

	for (unsigned i = 0; i < n; i++) {
		uint16_t cur = dq->next_desc;
		uint16_t next = (cur + 1) % dq->size;

		drv_put_desc(d, dq->desc, cur, s[i].gpa, s[i].len,
			     (s[i].write ? VQ_DESC_F_WRITE : 0) |
			     (i + 1 < n ? VQ_DESC_F_NEXT : 0), next);
		dq->next_desc = next;
	}
	drv_publish(d, q, head);
	return head;
}

/* Next used entry, if any. */
static inline bool drv_used(struct drv *d, unsigned q, uint32_t *id,
			    uint32_t *len)
{
	struct drv_queue *dq = &d->q[q];
	struct vq_used_elem u;
	uint16_t idx;

	gm_read(d->gm, dq->used + 2, &idx, 2);
	if (idx == dq->used_seen)
		return false;
	gm_read(d->gm, dq->used + 4 + 8 * (dq->used_seen % dq->size), &u, 8);
	dq->used_seen++;
	/* Like Linux with callbacks on: interrupt me for the next one. */
	gm_write(d->gm, dq->avail + 4 + 2 * dq->size, &dq->used_seen, 2);
	if (id)
		*id = u.id;
	if (len)
		*len = u.len;
	return true;
}

/* MSI-X on with vectors 0..n-1 unmasked; messages go to the record hook. */
static inline void drv_enable_msix(struct drv *d, unsigned n,
				   msix_deliver_fn hook)
{
	struct pci_dev *pd = &d->vp->pci;
	unsigned cap = pci_cap_find(pd, PCI_CAP_ID_MSIX);

	d->vp->msix.deliver = hook;
	for (unsigned v = 0; v < n; v++) {
		msix_bar_write(&d->vp->msix, v * 16, 0xfee00000, 4);
		msix_bar_write(&d->vp->msix, v * 16 + 8, 0x40 + v, 4);
		msix_bar_write(&d->vp->msix, v * 16 + 12, 0, 4);
	}
	pci_cfg_write(pd, cap + PCI_MSIX_FLAGS, PCI_MSIX_FLAGS_ENABLE, 2);
}

#endif
