// SPDX-License-Identifier: MIT
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <linux/kvm.h>

#include "core/irq.h"
#include "core/log.h"
#include "core/vm.h"

#define IRQ_MAX_MSI_ROUTES	1024

struct irq_routing {
	pthread_mutex_t lock;
	struct kvm_irq_routing *table;	/* what KVM has, kept in sync */
	bool msi_used[IRQ_MAX_MSI_ROUTES];
	uint64_t msi_addr[IRQ_MAX_MSI_ROUTES];
	uint32_t msi_data[IRQ_MAX_MSI_ROUTES];
};

static int irq_push(struct vm *vm)
{
	struct irq_routing *r = vm->irq;
	struct kvm_irq_routing_entry *e;
	unsigned n = 0;

	/* KVM's defaults, which KVM_SET_GSI_ROUTING would otherwise drop. */
	e = r->table->entries;
	for (unsigned gsi = 0; gsi < IRQ_NR_IOAPIC_PINS; gsi++) {
		e[n++] = (struct kvm_irq_routing_entry){
			.gsi = gsi, .type = KVM_IRQ_ROUTING_IRQCHIP,
			.u.irqchip = { KVM_IRQCHIP_IOAPIC, gsi },
		};
		if (gsi < 16 && gsi != 2)
			e[n++] = (struct kvm_irq_routing_entry){
				.gsi = gsi, .type = KVM_IRQ_ROUTING_IRQCHIP,
				.u.irqchip = { gsi < 8 ? KVM_IRQCHIP_PIC_MASTER :
					       KVM_IRQCHIP_PIC_SLAVE, gsi % 8 },
			};
	}
	for (unsigned i = 0; i < IRQ_MAX_MSI_ROUTES; i++) {
		if (!r->msi_used[i])
			continue;
		e[n++] = (struct kvm_irq_routing_entry){
			.gsi = IRQ_MSI_GSI_BASE + i, .type = KVM_IRQ_ROUTING_MSI,
			.u.msi = { .address_lo = (uint32_t)r->msi_addr[i],
				   .address_hi = r->msi_addr[i] >> 32,
				   .data = r->msi_data[i] },
		};
	}
	r->table->nr = n;
	if (ioctl(vm->vm_fd, KVM_SET_GSI_ROUTING, r->table) < 0)
		return -errno;
	return 0;
}

int irq_init(struct vm *vm)
{
	struct irq_routing *r = calloc(1, sizeof(*r));
	size_t max = IRQ_NR_IOAPIC_PINS * 2 + IRQ_MAX_MSI_ROUTES;

	if (!r)
		return -ENOMEM;
	r->table = calloc(1, sizeof(*r->table) +
			  max * sizeof(struct kvm_irq_routing_entry));
	if (!r->table) {
		free(r);
		return -ENOMEM;
	}
	pthread_mutex_init(&r->lock, NULL);
	vm->irq = r;
	return 0;
}

void irq_destroy(struct vm *vm)
{
	if (!vm->irq)
		return;
	pthread_mutex_destroy(&vm->irq->lock);
	free(vm->irq->table);
	free(vm->irq);
	vm->irq = NULL;
}

int irq_line(struct vm *vm, unsigned gsi, int level)
{
	struct kvm_irq_level l = { .irq = gsi, .level = !!level };

	return ioctl(vm->vm_fd, KVM_IRQ_LINE, &l) < 0 ? -errno : 0;
}

int irq_msi(struct vm *vm, uint64_t addr, uint32_t data)
{
	struct kvm_msi msi = {
		.address_lo = (uint32_t)addr, .address_hi = addr >> 32,
		.data = data,
	};

	/* 0 means "blocked by the guest" (masked), not an error. */
	return ioctl(vm->vm_fd, KVM_SIGNAL_MSI, &msi) < 0 ? -errno : 0;
}

int irq_msi_route_alloc(struct vm *vm, uint64_t addr, uint32_t data)
{
	struct irq_routing *r = vm->irq;
	int ret = -ENOSPC;

	pthread_mutex_lock(&r->lock);
	for (unsigned i = 0; i < IRQ_MAX_MSI_ROUTES; i++) {
		if (r->msi_used[i])
			continue;
		r->msi_used[i] = true;
		r->msi_addr[i] = addr;
		r->msi_data[i] = data;
		ret = irq_push(vm);
		if (ret)
			r->msi_used[i] = false;
		else
			ret = IRQ_MSI_GSI_BASE + i;
		break;
	}
	pthread_mutex_unlock(&r->lock);
	return ret;
}

int irq_msi_route_update(struct vm *vm, unsigned gsi, uint64_t addr,
			 uint32_t data)
{
	struct irq_routing *r = vm->irq;
	unsigned i = gsi - IRQ_MSI_GSI_BASE;
	int ret = -EINVAL;

	if (gsi < IRQ_MSI_GSI_BASE || i >= IRQ_MAX_MSI_ROUTES)
		return -EINVAL;
	pthread_mutex_lock(&r->lock);
	if (r->msi_used[i]) {
		if (r->msi_addr[i] == addr && r->msi_data[i] == data) {
			ret = 0;	/* the common case: nothing changed */
		} else {
			r->msi_addr[i] = addr;
			r->msi_data[i] = data;
			ret = irq_push(vm);
		}
	}
	pthread_mutex_unlock(&r->lock);
	return ret;
}

void irq_msi_route_free(struct vm *vm, unsigned gsi)
{
	struct irq_routing *r = vm->irq;
	unsigned i = gsi - IRQ_MSI_GSI_BASE;

	if (gsi < IRQ_MSI_GSI_BASE || i >= IRQ_MAX_MSI_ROUTES)
		return;
	pthread_mutex_lock(&r->lock);
	if (r->msi_used[i]) {
		r->msi_used[i] = false;
		if (irq_push(vm))
			pr_warn("irq: could not drop MSI route %u", gsi);
	}
	pthread_mutex_unlock(&r->lock);
}

int irq_irqfd_assign(struct vm *vm, int fd, unsigned gsi, int resample_fd)
{
	struct kvm_irqfd f = { .fd = fd, .gsi = gsi };

	if (resample_fd >= 0) {
		f.flags = KVM_IRQFD_FLAG_RESAMPLE;
		f.resamplefd = resample_fd;
	}
	return ioctl(vm->vm_fd, KVM_IRQFD, &f) < 0 ? -errno : 0;
}

int irq_irqfd_deassign(struct vm *vm, int fd, unsigned gsi)
{
	struct kvm_irqfd f = { .fd = fd, .gsi = gsi,
			       .flags = KVM_IRQFD_FLAG_DEASSIGN };

	return ioctl(vm->vm_fd, KVM_IRQFD, &f) < 0 ? -errno : 0;
}
