/*
 * PCI functions found at boot: identity, sized BARs and capabilities, for
 * drivers to bind to.  Configuration access goes through pci.c.
 */
#ifndef GUEST_PCI_DEV_H
#define GUEST_PCI_DEV_H

#include <types.h>

#define PCI_MAX_DEVS		64
#define PCI_NR_BARS		6

/* Standard configuration header offsets and bits. */
#define PCI_VENDOR_ID		0x00
#define PCI_COMMAND		0x04
#define PCI_STATUS		0x06
#define PCI_CLASS_REVISION	0x08
#define PCI_HEADER_TYPE		0x0e
#define PCI_BAR0		0x10
#define PCI_SECONDARY_BUS	0x19
#define PCI_CAP_PTR		0x34
#define PCI_INTERRUPT_PIN	0x3d

#define PCI_CMD_IO		0x0001
#define PCI_CMD_MEMORY		0x0002
#define PCI_CMD_MASTER		0x0004
#define PCI_CMD_INTX_DISABLE	0x0400
#define PCI_STATUS_CAP_LIST	0x0010

#define PCI_CAP_ID_MSIX		0x11
#define PCI_CAP_ID_VNDR		0x09

enum pci_bar_type {
	PCI_BAR_NONE,
	PCI_BAR_IO,
	PCI_BAR_MEM32,
	PCI_BAR_MEM64,
};

struct pci_bar {
	u64 base;
	u64 size;
	u8 type;		/* enum pci_bar_type */
	bool prefetch;
};

struct pci_dev {
	u8 bus, dev, fn;
	u8 hdr_type;		/* without the multi-function bit */
	u16 vendor, device;
	u32 class_rev;		/* class << 8 | revision */
	struct pci_bar bar[PCI_NR_BARS];
	const char *owner;	/* name of the bound driver instance, or NULL */
};

/* Scans the buses once (later calls return the cached count). */
unsigned int pci_enumerate(void);
unsigned int pci_nr_devs(void);
struct pci_dev *pci_dev_get(unsigned int i);

u32 pci_read32(const struct pci_dev *d, u8 off);
u16 pci_read16(const struct pci_dev *d, u8 off);
u8 pci_read8(const struct pci_dev *d, u8 off);
void pci_write32(const struct pci_dev *d, u8 off, u32 v);
void pci_write16(const struct pci_dev *d, u8 off, u16 v);

/* Next capability with this id after offset `from` (0: from the start). */
u8 pci_find_cap(const struct pci_dev *d, u8 id, u8 from);
/* Decoding of the BARs it has, plus bus mastering (DMA) for the driver. */
void pci_enable_device(const struct pci_dev *d);
/* The CPU address of BAR bar + off for len bytes, or 0 if not usable. */
u64 pci_bar_mmio(const struct pci_dev *d, unsigned int bar, u64 off, u64 len);

/* Shell: every function with ids, class and BARs. */
void pci_dump(void);

#endif
