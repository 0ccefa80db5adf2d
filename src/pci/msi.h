/* SPDX-License-Identifier: MIT */
#ifndef FVMM_PCI_MSI_H
#define FVMM_PCI_MSI_H

#include <stdbool.h>
#include <stdint.h>

/*
 * Plain MSI with one vector, 64-bit address, no per-vector masking: what a
 * root port needs for its hotplug interrupt.  Messages go out through
 * KVM_SIGNAL_MSI (rare events: no route or irqfd is kept, so nothing to
 * release).  Configuration accesses arrive with the host lock held; so do
 * pci_msi_notify() callers.
 */

struct pci_dev;
struct pci_msi;

typedef void (*pci_msi_deliver_fn)(struct pci_msi *m, uint64_t addr,
				   uint32_t data);

struct pci_msi {
	struct pci_dev *pd;
	unsigned cap;			/* config-space offset */
	unsigned long sent;		/* messages, for tests and queries */
	/* Unit tests: receive messages instead of KVM. */
	pci_msi_deliver_fn deliver;
};

#define PCI_MSI_CAP_LEN		14	/* 64-bit, no mask bits */

/* Append the capability to pd.  -ENOSPC. */
int pci_msi_init(struct pci_msi *m, struct pci_dev *pd);
bool pci_msi_enabled(const struct pci_msi *m);
/* Does a config write at [off, off + size) touch the capability? */
bool pci_msi_touched(const struct pci_msi *m, unsigned off, unsigned size);
/* Send the message if MSI is enabled; false when it is not. */
bool pci_msi_notify(struct pci_msi *m);

#endif
