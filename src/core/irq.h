/* SPDX-License-Identifier: MIT */
#ifndef FVMM_CORE_IRQ_H
#define FVMM_CORE_IRQ_H

#include <stdint.h>

struct vm;

/*
 * Interrupt plumbing on top of KVM's in-kernel irqchip.
 *
 * GSIs 0-23 are the IOAPIC pins (0-15 also reach the PIC), as KVM's default
 * routing has them; GSIs from IRQ_MSI_GSI_BASE on are allocated for MSI
 * routes so that irqfds can inject MSIs without a trip through the VMM.
 * KVM_SET_GSI_ROUTING replaces the whole table, so this module owns it.
 */
#define IRQ_NR_IOAPIC_PINS	24
#define IRQ_MSI_GSI_BASE	24

struct irq_routing;

int irq_init(struct vm *vm);
void irq_destroy(struct vm *vm);

/* Level or edge line on an IOAPIC pin (edge = set 1 then 0). */
int irq_line(struct vm *vm, unsigned gsi, int level);
/* One-off MSI from the VMM (KVM_SIGNAL_MSI). */
int irq_msi(struct vm *vm, uint64_t addr, uint32_t data);

/* MSI routes: allocate a GSI, point it at (addr, data), release it. */
int irq_msi_route_alloc(struct vm *vm, uint64_t addr, uint32_t data);
int irq_msi_route_update(struct vm *vm, unsigned gsi, uint64_t addr,
			 uint32_t data);
void irq_msi_route_free(struct vm *vm, unsigned gsi);

/* irqfd: writes to fd inject gsi.  resample_fd >= 0 makes it level. */
int irq_irqfd_assign(struct vm *vm, int fd, unsigned gsi, int resample_fd);
int irq_irqfd_deassign(struct vm *vm, int fd, unsigned gsi);

#endif
