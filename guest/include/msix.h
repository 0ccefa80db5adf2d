/*
 * MSI-X for PCI drivers, and the pool of IDT vectors device interrupts are
 * given (each with a handler and a context pointer).
 */
#ifndef GUEST_MSIX_H
#define GUEST_MSIX_H

#include <pci_dev.h>

#define MSIX_NO_ENTRY		0xffff

struct msix {
	const struct pci_dev *pd;
	u8 cap;
	u16 nr;			/* table entries */
	u64 table;		/* MMIO address of entry 0 */
};

typedef void (*dev_irq_fn)(void *ctx);

/* An IDT vector that calls fn(ctx) (EOI is done by the dispatcher). */
int irq_vector_alloc(dev_irq_fn fn, void *ctx);

/*
 * Find the capability, map the table and enable MSI-X with every entry
 * masked (INTx is off from then on).  -ENODEV without the capability.
 */
int msix_init(struct msix *m, const struct pci_dev *pd);
/* Point entry at vector on the CPU with apic_id and unmask it. */
int msix_route(struct msix *m, unsigned int entry, u8 vector, u32 apic_id);
void msix_mask(struct msix *m, unsigned int entry, bool masked);

#endif
