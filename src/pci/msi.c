// SPDX-License-Identifier: MIT
/* MSI capability (one vector, 64-bit) and message delivery. */
#include "core/irq.h"
#include "core/log.h"
#include "core/util.h"
#include "core/vm.h"
#include "pci/msi.h"
#include "pci/pci.h"

int pci_msi_init(struct pci_msi *m, struct pci_dev *pd)
{
	int cap = pci_cap_add(pd, PCI_CAP_ID_MSI, PCI_MSI_CAP_LEN);

	if (cap < 0)
		return cap;
	m->pd = pd;
	m->cap = cap;
	m->sent = 0;
	/* One vector: Multiple Message Enable stays 0, read-only. */
	pci_set_reg(pd, cap + PCI_MSI_FLAGS, 2, PCI_MSI_FLAGS_64BIT,
		    PCI_MSI_FLAGS_ENABLE, 0);
	pci_set_reg(pd, cap + PCI_MSI_ADDRESS_LO, 4, 0, ~3U, 0);
	pci_set_reg(pd, cap + PCI_MSI_ADDRESS_HI, 4, 0, ~0U, 0);
	pci_set_reg(pd, cap + PCI_MSI_DATA_64, 2, 0, 0xffff, 0);
	return 0;
}

bool pci_msi_enabled(const struct pci_msi *m)
{
	return pci_get_reg(m->pd, m->cap + PCI_MSI_FLAGS, 2) &
	       PCI_MSI_FLAGS_ENABLE;
}

bool pci_msi_touched(const struct pci_msi *m, unsigned off, unsigned size)
{
	return off < m->cap + PCI_MSI_CAP_LEN && m->cap < off + size;
}

bool pci_msi_notify(struct pci_msi *m)
{
	struct pci_dev *pd = m->pd;
	uint64_t addr;
	uint32_t data;
	int ret;

	if (!pci_msi_enabled(m))
		return false;
	addr = pci_get_reg(pd, m->cap + PCI_MSI_ADDRESS_LO, 4) |
	       (uint64_t)pci_get_reg(pd, m->cap + PCI_MSI_ADDRESS_HI, 4) << 32;
	data = pci_get_reg(pd, m->cap + PCI_MSI_DATA_64, 2);
	m->sent++;
	if (m->deliver) {
		m->deliver(m, addr, data);
		return true;
	}
	if (!pd->vm || pd->vm->vm_fd < 0)
		return true;	/* no KVM: unit tests without a hook */
	ret = irq_msi(pd->vm, addr, data);
	if (ret < 0)
		pr_guest("pci %s: MSI to 0x%llx/0x%x failed: %d", pd->name,
			 (unsigned long long)addr, data, ret);
	return true;
}
