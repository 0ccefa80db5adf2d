/* SPDX-License-Identifier: MIT */
#ifndef FVMM_VIRTIO_VIRTIO_PCI_H
#define FVMM_VIRTIO_VIRTIO_PCI_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/ioeventfd.h"
#include "pci/msix.h"
#include "pci/pci.h"
#include "virtio/virtq.h"

/*
 * virtio 1.x modern PCI transport (virtio spec 4.1), modern only.
 *
 * BAR layout:
 *   BAR1  MSI-X table and PBA
 *   BAR2  I/O, 4 bytes: a second notify area (write the queue index), which
 *         is cheaper than MMIO for a guest that looks for it
 *   BAR4  64-bit memory, 16 KiB: common config at 0x0000, ISR at 0x1000,
 *         device config at 0x2000, notify at 0x3000 (4 bytes per queue)
 *
 * Kicks: each queue has an eventfd, bound to both notify addresses with
 * KVM ioeventfds when possible; the bus handlers signal the same eventfd
 * when a write still exits to us, so queue processing always runs on the
 * event loop thread, never on a vCPU.  Interrupts: MSI-X through irqfd
 * routes, or INTx with the ISR register when MSI-X is off.
 *
 * vp->lock serialises register accesses (vCPU threads) with queue
 * processing (loop thread); every virtio_dev_ops hook runs with it held.
 */

#define VIRTIO_PCI_MAX_QUEUES	8
#define VIRTIO_PCI_VENDOR	0x1af4
#define VIRTIO_PCI_DEVICE_BASE	0x1040	/* + virtio device id: modern-only */

#define VIRTIO_PCI_MSIX_BAR	1
#define VIRTIO_PCI_PIO_BAR	2
#define VIRTIO_PCI_BAR		4

#define VIRTIO_PCI_COMMON_OFF	0x0000
#define VIRTIO_PCI_COMMON_LEN	0x38
#define VIRTIO_PCI_ISR_OFF	0x1000
#define VIRTIO_PCI_DEVCFG_OFF	0x2000
#define VIRTIO_PCI_DEVCFG_MAX	0x1000
#define VIRTIO_PCI_NOTIFY_OFF	0x3000
#define VIRTIO_PCI_NOTIFY_MULT	4
#define VIRTIO_PCI_BAR_SIZE	0x4000

/* Device status bits (virtio 2.1). */
#define VIRTIO_STAT_ACKNOWLEDGE	1
#define VIRTIO_STAT_DRIVER	2
#define VIRTIO_STAT_DRIVER_OK	4
#define VIRTIO_STAT_FEATURES_OK	8
#define VIRTIO_STAT_NEEDS_RESET	0x40
#define VIRTIO_STAT_FAILED	0x80
#define VIRTIO_STAT_KNOWN	(VIRTIO_STAT_ACKNOWLEDGE | VIRTIO_STAT_DRIVER | \
				 VIRTIO_STAT_DRIVER_OK |		     \
				 VIRTIO_STAT_FEATURES_OK |		     \
				 VIRTIO_STAT_NEEDS_RESET | VIRTIO_STAT_FAILED)

/* Transport feature bits this implementation offers. */
#define VIRTIO_BIT(b)			(1ULL << (b))
#define VIRTIO_FEAT_INDIRECT_DESC	28
#define VIRTIO_FEAT_EVENT_IDX		29
#define VIRTIO_FEAT_VERSION_1		32
#define VIRTIO_PCI_TRANSPORT_FEATURES (VIRTIO_BIT(VIRTIO_FEAT_INDIRECT_DESC) | \
				       VIRTIO_BIT(VIRTIO_FEAT_EVENT_IDX) |      \
				       VIRTIO_BIT(VIRTIO_FEAT_VERSION_1))

struct virtio_pci;

struct virtio_dev_ops {
	uint16_t device_id;		/* virtio device type (1 = net) */
	uint32_t class_code;		/* PCI class, 24 bits */
	unsigned config_size;
	/* Device feature bits offered; the transport adds its own. */
	uint64_t (*get_features)(struct virtio_pci *vp);
	/* At FEATURES_OK: false refuses the set (dependency rules). */
	bool (*validate_features)(struct virtio_pci *vp, uint64_t features);
	/* The set was accepted. */
	void (*set_features)(struct virtio_pci *vp, uint64_t features);
	void (*config_read)(struct virtio_pci *vp, unsigned off, void *buf,
			    unsigned len);
	void (*config_write)(struct virtio_pci *vp, unsigned off,
			     const void *buf, unsigned len);
	/* Queue q was kicked (loop thread; the device is live). */
	void (*queue_notify)(struct virtio_pci *vp, unsigned q);
	/* DRIVER_OK was set. */
	void (*driver_ok)(struct virtio_pci *vp);
	/* Device reset (status 0 written, or function reset). */
	void (*reset)(struct virtio_pci *vp);
};

struct virtio_pci_queue {
	struct virtio_pci *vp;
	unsigned index;
	struct virtq vq;
	uint16_t max_size;
	uint16_t vector;
	int kick_fd;
	struct ioeventfd mmio_ev;
	struct ioeventfd pio_ev;
};

struct virtio_pci {
	struct pci_dev pci;
	struct msix msix;
	const struct virtio_dev_ops *ops;
	void *opaque;			/* the device model */
	struct vm *vm;
	pthread_mutex_t lock;
	char name[64];
	unsigned nr_queues;
	struct virtio_pci_queue queues[VIRTIO_PCI_MAX_QUEUES];
	unsigned cfg_cap;		/* VIRTIO_PCI_CAP_PCI_CFG offset */

	/* Registers. */
	uint32_t dev_feature_sel;
	uint32_t drv_feature_sel;
	uint64_t driver_features;	/* as written */
	uint64_t features;		/* accepted at FEATURES_OK */
	uint16_t config_vector;
	uint16_t queue_sel;
	uint8_t status;
	uint8_t config_generation;
	uint8_t isr;
	bool paused;
	bool kicks_registered;
};

/*
 * Build the PCI function (not yet on a bus: pci_host_add(&vp->pci) next).
 * max_size: queue size offered for every queue.
 */
int virtio_pci_init(struct virtio_pci *vp, struct vm *vm,
		    const struct virtio_dev_ops *ops, void *opaque,
		    const char *name, unsigned nr_queues, uint16_t max_size);
/* Register the kick eventfds with vm->loop (needs a running or idle loop). */
int virtio_pci_start(struct virtio_pci *vp);
void virtio_pci_destroy(struct virtio_pci *vp);

/*
 * The device may process queues: DRIVER_OK, not broken, not paused, and
 * bus mastering enabled in the PCI command register.
 */
bool virtio_pci_live(struct virtio_pci *vp);
bool virtio_pci_has_feature(struct virtio_pci *vp, unsigned bit);
/* Set vq's EVENT_IDX and INDIRECT_DESC use from the accepted features. */
void virtio_pci_queue_modes(struct virtio_pci *vp, struct virtq *vq);
struct virtq *virtio_pci_vq(struct virtio_pci *vp, unsigned q);

/* Interrupts (lock held). */
void virtio_pci_notify(struct virtio_pci *vp, unsigned q);
/* Flush q's used ring and interrupt if the driver wants it (lock held). */
void virtio_pci_flush(struct virtio_pci *vp, unsigned q);
/* Device config changed: bump generation, config interrupt (lock held). */
void virtio_pci_config_changed(struct virtio_pci *vp);
/*
 * Mark the device DEVICE_NEEDS_RESET with one log line and stop it until
 * the driver resets it (lock held).
 */
void virtio_pci_set_broken(struct virtio_pci *vp, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Broken because queue q's ring is malformed (uses vq->err). */
void virtio_pci_queue_broken(struct virtio_pci *vp, unsigned q);

/* Ask the loop to run queue q soon (any thread, lock not needed). */
void virtio_pci_kick(struct virtio_pci *vp, unsigned q);
/* What a kick runs: lock, check liveness, ops->queue_notify.  For tests. */
void virtio_pci_run_queue(struct virtio_pci *vp, unsigned q);

/* device_ops helpers. */
void virtio_pci_reset(struct virtio_pci *vp);	/* function-level reset */
void virtio_pci_pause(struct virtio_pci *vp);
void virtio_pci_resume(struct virtio_pci *vp);
/* Records "pci-dev", "msix", "virtio-pci". */
int virtio_pci_save(struct virtio_pci *vp, struct sbuf *out);
int virtio_pci_load(struct virtio_pci *vp, struct sreader *in, char *err,
		    size_t errlen);

/* Feature bits offered (device's and the transport's). */
uint64_t virtio_pci_offered(struct virtio_pci *vp);
/* v if the driver may use it as an MSI-X vector, else NO_VECTOR. */
uint16_t virtio_pci_vector(struct virtio_pci *vp, uint32_t v);

/* Register handlers of BAR4 and BAR2; exposed for tests. */
uint64_t virtio_pci_bar_read(void *opaque, uint64_t off, unsigned size);
void virtio_pci_bar_write(void *opaque, uint64_t off, uint64_t val,
			  unsigned size);
void virtio_pci_pio_write(void *opaque, uint64_t off, uint64_t val,
			  unsigned size);

#endif
