/* SPDX-License-Identifier: MIT */
#ifndef FVMM_PCI_MSIX_H
#define FVMM_PCI_MSIX_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/bus.h"
#include "core/state.h"

/*
 * MSI-X: the capability in configuration space (enable and function mask
 * are guest-writable there) plus a BAR of its own holding the vector table
 * at 0 and the pending bit array at MSIX_PBA_OFFSET.
 *
 * msix_notify() may be called from any thread.  A vector that is masked
 * (function or per-vector mask) gets its pending bit set instead, and fires
 * once unmasked.  Delivery goes through a KVM MSI route and an irqfd per
 * vector, set up on first use and re-pointed lazily when the guest changes
 * the address or data; KVM_SIGNAL_MSI is the fallback if that fails.
 */

#define MSIX_MAX_VECTORS	64
#define MSIX_ENTRY_SIZE		16
#define MSIX_PBA_OFFSET		0x800
#define MSIX_BAR_SIZE		0x1000
#define MSIX_CAP_LEN		12

struct pci_dev;
struct msix;

struct msix_route {
	int gsi;		/* < 0: none yet */
	int fd;			/* irqfd */
	uint64_t addr;
	uint32_t data;
};

typedef void (*msix_deliver_fn)(struct msix *m, unsigned vec, uint64_t addr,
				uint32_t data);

struct msix {
	struct pci_dev *pd;
	pthread_mutex_t lock;
	unsigned nr;
	unsigned cap;			/* config-space offset */
	int bar;
	bool enabled, fmask;		/* cached from the capability */
	uint8_t table[MSIX_MAX_VECTORS * MSIX_ENTRY_SIZE];
	uint64_t pba[MSIX_MAX_VECTORS / 64];
	struct msix_route routes[MSIX_MAX_VECTORS];
	/* Unit tests: receive messages instead of KVM. */
	msix_deliver_fn deliver;
	unsigned long fired;		/* messages sent, for tests/stats */
};

/* Adds the capability and BAR bar (MEM32, MSIX_BAR_SIZE) to pd. */
int msix_init(struct msix *m, struct pci_dev *pd, unsigned nr, int bar);
void msix_destroy(struct msix *m);
/* Function-level reset: every vector masked, nothing pending. */
void msix_reset(struct msix *m);

bool msix_enabled(struct msix *m);
void msix_notify(struct msix *m, unsigned vec);
/* Config space changed under the capability (called by pci.c). */
void msix_config_changed(struct msix *m);

bool msix_is_masked(struct msix *m, unsigned vec);
bool msix_is_pending(struct msix *m, unsigned vec);

/* The table/PBA BAR; exposed for tests. */
uint64_t msix_bar_read(void *opaque, uint64_t off, unsigned size);
void msix_bar_write(void *opaque, uint64_t off, uint64_t val, unsigned size);

/* State record "msix": table and pending bits. */
int msix_save(struct msix *m, struct sbuf *out);
int msix_load(struct msix *m, struct sreader *in, char *err, size_t errlen);

#endif
