// SPDX-License-Identifier: MIT
/*
 * The machine fvmm builds on the core (machine/pc.h): the one place that
 * knows which devices a VM gets and in what order.
 */
#include "dev/legacy.h"
#include "machine/pc.h"
#include "pci/pci.h"

static int pc_create(struct vm *vm)
{
	int ret = legacy_devices_create(vm);

	return ret ? ret : pci_machine_init(vm);
}

const struct vm_machine fvmm_pc_machine = {
	.create = pc_create,
	.destroy = pci_machine_destroy,
};
