/*
 * PCI configuration mechanism #1 (ports 0xcf8/0xcfc).  Only what the shell
 * needs for now: list the functions present on bus 0.  A host without a PCI
 * host bridge returns all-ones, which reads as "no device".
 */

#include <io.h>
#include <pci.h>
#include <printk.h>
#include <spinlock.h>

#define PCI_CONFIG_ADDR	0xcf8
#define PCI_CONFIG_DATA	0xcfc
#define PCI_ENABLE	0x80000000u

#define PCI_ID		0x00
#define PCI_CLASS_REV	0x08
#define PCI_HDR		0x0c
#define PCI_HDR_MULTIFN	0x80

static struct spinlock pci_lock = SPINLOCK_INIT;

u32 pci_conf_read32(u8 bus, u8 dev, u8 fn, u8 off)
{
	u64 flags = spin_lock_irqsave(&pci_lock);
	u32 v;

	outl(PCI_CONFIG_ADDR, PCI_ENABLE | (u32)bus << 16 | (u32)dev << 11 |
			      (u32)fn << 8 | (off & 0xfc));
	v = inl(PCI_CONFIG_DATA);
	spin_unlock_irqrestore(&pci_lock, flags);
	return v;
}

/* Whole-dword writes: callers merge sub-fields themselves. */
void pci_conf_write32(u8 bus, u8 dev, u8 fn, u8 off, u32 v)
{
	u64 flags = spin_lock_irqsave(&pci_lock);

	outl(PCI_CONFIG_ADDR, PCI_ENABLE | (u32)bus << 16 | (u32)dev << 11 |
			      (u32)fn << 8 | (off & 0xfc));
	outl(PCI_CONFIG_DATA, v);
	spin_unlock_irqrestore(&pci_lock, flags);
}

/*
 * A 16-bit write touches only its own register: needed where the other
 * half of the dword has write-1-to-clear bits (command vs. status).
 */
void pci_conf_write16(u8 bus, u8 dev, u8 fn, u8 off, u16 v)
{
	u64 flags = spin_lock_irqsave(&pci_lock);

	outl(PCI_CONFIG_ADDR, PCI_ENABLE | (u32)bus << 16 | (u32)dev << 11 |
			      (u32)fn << 8 | (off & 0xfc));
	outw(PCI_CONFIG_DATA + (off & 2), v);
	spin_unlock_irqrestore(&pci_lock, flags);
}

static bool show_function(u8 dev, u8 fn)
{
	u32 id = pci_conf_read32(0, dev, fn, PCI_ID);
	u32 cls;

	if ((id & 0xffff) == 0xffff || (id & 0xffff) == 0)
		return false;
	cls = pci_conf_read32(0, dev, fn, PCI_CLASS_REV);
	printf("  00:%02x.%u %04x:%04x class %02x:%02x:%02x rev %02x\n", dev, fn,
	       id & 0xffff, id >> 16, cls >> 24, (cls >> 16) & 0xff,
	       (cls >> 8) & 0xff, cls & 0xff);
	return true;
}

/* Prints every function on bus 0; returns how many were found. */
unsigned int pci_list_bus0(void)
{
	unsigned int found = 0;
	u8 dev, fn, nfn;

	for (dev = 0; dev < 32; dev++) {
		if (!show_function(dev, 0))
			continue;
		found++;
		nfn = (pci_conf_read32(0, dev, 0, PCI_HDR) >> 16) & PCI_HDR_MULTIFN ?
		      8 : 1;
		for (fn = 1; fn < nfn; fn++)
			found += show_function(dev, fn);
	}
	if (!found)
		printf("no PCI devices\n");
	return found;
}
