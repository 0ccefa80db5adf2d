/*
 * MSI-X: table programming, and the device-interrupt vector pool.
 *
 * Messages go to one CPU in physical destination mode, fixed delivery,
 * edge triggered: address 0xfee00000 | apic_id << 12, data = vector.
 * Device vectors come from 0x40-0xef, above the ISA range and below the
 * LAPIC timer, so every device interrupt has a lower priority than the tick.
 */

#include <apic.h>
#include <desc.h>
#include <errno.h>
#include <io.h>
#include <msix.h>
#include <printk.h>
#include <spinlock.h>

#define VEC_DEV_FIRST		0x40
#define VEC_DEV_LAST		0xef

#define MSIX_CTRL		2
#define MSIX_CTRL_SIZE		0x07ff
#define MSIX_CTRL_MASKALL	0x4000
#define MSIX_CTRL_ENABLE	0x8000
#define MSIX_TABLE		4
#define MSIX_BIR		0x7

#define MSIX_ENTRY_SIZE		16
#define MSIX_ADDR_LO		0
#define MSIX_ADDR_HI		4
#define MSIX_DATA		8
#define MSIX_VCTRL		12
#define MSIX_VCTRL_MASK		1

#define MSI_ADDR_BASE		0xfee00000u

struct dev_vector {
	dev_irq_fn fn;
	void *ctx;
};

static struct dev_vector dev_vectors[256];
static u8 next_vector = VEC_DEV_FIRST;
static struct spinlock vec_lock = SPINLOCK_INIT;

static void dev_irq_dispatch(struct irq_regs *regs)
{
	const struct dev_vector *v = &dev_vectors[regs->vector & 0xff];

	if (v->fn)
		v->fn(v->ctx);
}

int irq_vector_alloc(dev_irq_fn fn, void *ctx)
{
	u64 flags = spin_lock_irqsave(&vec_lock);
	int vec, ret;

	if (next_vector > VEC_DEV_LAST) {
		ret = -ENOSPC;
		goto unlock;
	}
	vec = next_vector;
	dev_vectors[vec] = (struct dev_vector){ fn, ctx };
	ret = irq_register(vec, dev_irq_dispatch);
	if (ret) {
		dev_vectors[vec].fn = NULL;
		goto unlock;
	}
	next_vector++;
	ret = vec;
unlock:
	spin_unlock_irqrestore(&vec_lock, flags);
	return ret;
}

static u64 entry_addr(const struct msix *m, unsigned int entry, u32 reg)
{
	return m->table + entry * MSIX_ENTRY_SIZE + reg;
}

void msix_mask(struct msix *m, unsigned int entry, bool masked)
{
	u64 a;

	if (entry >= m->nr)
		return;
	a = entry_addr(m, entry, MSIX_VCTRL);
	mmio_write32(a, masked ? MSIX_VCTRL_MASK : 0);
}

int msix_route(struct msix *m, unsigned int entry, u8 vector, u32 apic_id)
{
	if (entry >= m->nr || vector < VEC_DEV_FIRST || apic_id > 0xff)
		return -EINVAL;
	/* Masked while the message changes, so no half-written message fires. */
	msix_mask(m, entry, true);
	mmio_write32(entry_addr(m, entry, MSIX_ADDR_LO),
		     MSI_ADDR_BASE | apic_id << 12);
	mmio_write32(entry_addr(m, entry, MSIX_ADDR_HI), 0);
	mmio_write32(entry_addr(m, entry, MSIX_DATA), vector);
	msix_mask(m, entry, false);
	return 0;
}

int msix_init(struct msix *m, const struct pci_dev *pd)
{
	u8 cap = pci_find_cap(pd, PCI_CAP_ID_MSIX, 0);
	u32 table;
	u16 ctrl;
	unsigned int i;

	if (!cap)
		return -ENODEV;
	ctrl = pci_read16(pd, cap + MSIX_CTRL);
	table = pci_read32(pd, cap + MSIX_TABLE);
	m->pd = pd;
	m->cap = cap;
	m->nr = (ctrl & MSIX_CTRL_SIZE) + 1;
	m->table = pci_bar_mmio(pd, table & MSIX_BIR, table & ~MSIX_BIR,
				(u64)m->nr * MSIX_ENTRY_SIZE);
	if (!m->table) {
		pr_err("pci %02x:%02x.%u: MSI-X table (BAR%u + %#x) not usable\n",
		       pd->bus, pd->dev, pd->fn, table & MSIX_BIR,
		       table & ~MSIX_BIR);
		return -ENODEV;
	}
	/* Enable under the function mask, mask each entry, then open up. */
	pci_write16(pd, cap + MSIX_CTRL, MSIX_CTRL_ENABLE | MSIX_CTRL_MASKALL);
	for (i = 0; i < m->nr; i++)
		msix_mask(m, i, true);
	pci_write16(pd, cap + MSIX_CTRL, MSIX_CTRL_ENABLE);
	return 0;
}
