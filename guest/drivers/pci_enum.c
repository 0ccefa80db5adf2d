/*
 * PCI enumeration: every function on bus 0 (and behind bridges the firmware
 * numbered), with its BARs sized.  The VMM or the firmware has already
 * placed the BARs and turned decoding on, so the addresses are used as
 * found; sizing only tells a driver how far it may reach into each one.
 */

#include <errno.h>
#include <pci.h>
#include <pci_dev.h>
#include <printk.h>

#define PCI_HDR_MULTIFN		0x80
#define PCI_HDR_TYPE_MASK	0x7f
#define PCI_HDR_NORMAL		0
#define PCI_HDR_BRIDGE		1
#define PCI_BAR_IO_BIT		0x1
#define PCI_BAR_MEM_TYPE	0x6
#define PCI_BAR_MEM_64		0x4
#define PCI_BAR_MEM_PREFETCH	0x8
#define PCI_CAP_GUARD		48	/* caps are >= 4 bytes in 192 */
#define MMIO_LIMIT		(4 * GiB)	/* identity-mapped uncached */

static struct pci_dev devs[PCI_MAX_DEVS];
static unsigned int nr_devs;
static bool enumerated;

u32 pci_read32(const struct pci_dev *d, u8 off)
{
	return pci_conf_read32(d->bus, d->dev, d->fn, off);
}

u16 pci_read16(const struct pci_dev *d, u8 off)
{
	return pci_read32(d, off) >> (8 * (off & 2));
}

u8 pci_read8(const struct pci_dev *d, u8 off)
{
	return pci_read32(d, off) >> (8 * (off & 3));
}

void pci_write32(const struct pci_dev *d, u8 off, u32 v)
{
	pci_conf_write32(d->bus, d->dev, d->fn, off, v);
}

void pci_write16(const struct pci_dev *d, u8 off, u16 v)
{
	pci_conf_write16(d->bus, d->dev, d->fn, off, v);
}

unsigned int pci_nr_devs(void)
{
	return nr_devs;
}

struct pci_dev *pci_dev_get(unsigned int i)
{
	return i < nr_devs ? &devs[i] : NULL;
}

u8 pci_find_cap(const struct pci_dev *d, u8 id, u8 from)
{
	unsigned int guard = PCI_CAP_GUARD;
	u8 off;

	if (!(pci_read16(d, PCI_STATUS) & PCI_STATUS_CAP_LIST))
		return 0;
	off = from ? pci_read8(d, from + 1) : pci_read8(d, PCI_CAP_PTR);
	/* The low two bits are reserved; a list below 0x40 is broken. */
	while ((off &= 0xfc) >= 0x40 && guard--) {
		if (pci_read8(d, off) == id)
			return off;
		off = pci_read8(d, off + 1);
	}
	return 0;
}

void pci_enable_device(const struct pci_dev *d)
{
	u16 cmd = pci_read16(d, PCI_COMMAND);
	unsigned int i;

	for (i = 0; i < PCI_NR_BARS; i++) {
		if (d->bar[i].type == PCI_BAR_IO)
			cmd |= PCI_CMD_IO;
		else if (d->bar[i].type != PCI_BAR_NONE)
			cmd |= PCI_CMD_MEMORY;
	}
	/* Without bus mastering a device may not touch its rings at all. */
	pci_write16(d, PCI_COMMAND, cmd | PCI_CMD_MASTER);
}

u64 pci_bar_mmio(const struct pci_dev *d, unsigned int bar, u64 off, u64 len)
{
	const struct pci_bar *b;

	if (bar >= PCI_NR_BARS)
		return 0;
	b = &d->bar[bar];
	if (b->type != PCI_BAR_MEM32 && b->type != PCI_BAR_MEM64)
		return 0;
	if (!b->base || off > b->size || len > b->size - off)
		return 0;
	if (b->base + b->size > MMIO_LIMIT) {
		pr_err("pci %02x:%02x.%u: BAR%u at %#llx is above the 4 GiB map\n",
		       d->bus, d->dev, d->fn, bar, b->base);
		return 0;
	}
	return b->base + off;
}

/*
 * Size one BAR by writing all-ones and reading the mask back.  Decoding
 * is off meanwhile (the caller's job), so the probe address never decodes.
 * Returns how many BAR slots it used (2 for a 64-bit BAR).
 */
static unsigned int size_bar(struct pci_dev *d, unsigned int i)
{
	u8 off = PCI_BAR0 + 4 * i;
	u32 lo = pci_read32(d, off), mlo, hi = 0, mhi = 0;
	struct pci_bar *b = &d->bar[i];
	u64 mask;

	pci_write32(d, off, ~0u);
	mlo = pci_read32(d, off);
	pci_write32(d, off, lo);
	if (lo & PCI_BAR_IO_BIT) {
		mask = (mlo & ~3u) | 0xffff0000u;	/* 16-bit port space */
		if (mlo & ~3u) {
			b->type = PCI_BAR_IO;
			b->base = lo & ~3u;
			b->size = (u32)~mask + 1;
		}
		return 1;
	}
	if ((lo & PCI_BAR_MEM_TYPE) == PCI_BAR_MEM_64 && i + 1 < PCI_NR_BARS) {
		hi = pci_read32(d, off + 4);
		pci_write32(d, off + 4, ~0u);
		mhi = pci_read32(d, off + 4);
		pci_write32(d, off + 4, hi);
	}
	mask = (u64)mhi << 32 | (mlo & ~0xfu);
	if ((lo & PCI_BAR_MEM_TYPE) != PCI_BAR_MEM_64)
		mask |= 0xffffffff00000000ull;
	if (mask & 0xfffffff0u || mhi) {
		b->type = (lo & PCI_BAR_MEM_TYPE) == PCI_BAR_MEM_64 ?
			  PCI_BAR_MEM64 : PCI_BAR_MEM32;
		b->prefetch = lo & PCI_BAR_MEM_PREFETCH;
		b->base = (u64)hi << 32 | (lo & ~0xfu);
		b->size = ~mask + 1;
	}
	return (lo & PCI_BAR_MEM_TYPE) == PCI_BAR_MEM_64 ? 2 : 1;
}

static void size_bars(struct pci_dev *d)
{
	unsigned int i, nbars = d->hdr_type == PCI_HDR_NORMAL ? 6 :
				d->hdr_type == PCI_HDR_BRIDGE ? 2 : 0;
	u16 cmd;

	if (!nbars)
		return;
	cmd = pci_read16(d, PCI_COMMAND);
	pci_write16(d, PCI_COMMAND, cmd & ~(PCI_CMD_IO | PCI_CMD_MEMORY));
	for (i = 0; i < nbars; )
		i += size_bar(d, i);
	pci_write16(d, PCI_COMMAND, cmd);
}

static void scan_bus(u8 bus, unsigned int depth);

/* Records one function; returns its raw header type, or -ENODEV. */
static int add_function(u8 bus, u8 dev, u8 fn, unsigned int depth)
{
	u32 id = pci_conf_read32(bus, dev, fn, PCI_VENDOR_ID);
	struct pci_dev *d;
	u8 hdr, sec;

	if ((id & 0xffff) == 0xffff || (id & 0xffff) == 0)
		return -ENODEV;
	hdr = pci_conf_read32(bus, dev, fn, PCI_HEADER_TYPE & ~3) >> 16;
	if (nr_devs == PCI_MAX_DEVS) {
		pr_warn("pci: more than %u functions, ignoring %02x:%02x.%u\n",
			PCI_MAX_DEVS, bus, dev, fn);
		return hdr;
	}
	d = &devs[nr_devs++];
	d->bus = bus;
	d->dev = dev;
	d->fn = fn;
	d->hdr_type = hdr & PCI_HDR_TYPE_MASK;
	d->vendor = id & 0xffff;
	d->device = id >> 16;
	d->class_rev = pci_read32(d, PCI_CLASS_REVISION);
	size_bars(d);
	if (d->hdr_type == PCI_HDR_BRIDGE) {
		sec = pci_read8(d, PCI_SECONDARY_BUS);
		/* Only buses the firmware numbered, and never backwards. */
		if (sec > bus && depth < 8)
			scan_bus(sec, depth + 1);
	}
	return hdr;
}

static void scan_bus(u8 bus, unsigned int depth)
{
	int hdr;
	u8 dev, fn;

	for (dev = 0; dev < 32; dev++) {
		hdr = add_function(bus, dev, 0, depth);
		if (hdr < 0 || !(hdr & PCI_HDR_MULTIFN))
			continue;
		for (fn = 1; fn < 8; fn++)
			add_function(bus, dev, fn, depth);
	}
}

unsigned int pci_enumerate(void)
{
	if (!enumerated) {
		enumerated = true;
		scan_bus(0, 0);
	}
	return nr_devs;
}

static const char *bar_kind(const struct pci_bar *b)
{
	switch (b->type) {
	case PCI_BAR_IO:
		return "io";
	case PCI_BAR_MEM32:
		return b->prefetch ? "mem32 pref" : "mem32";
	case PCI_BAR_MEM64:
		return b->prefetch ? "mem64 pref" : "mem64";
	}
	return "?";
}

static void dump_one(const struct pci_dev *d)
{
	unsigned int i;

	printf("  %02x:%02x.%u %04x:%04x class %02x:%02x:%02x rev %02x%s%s\n",
	       d->bus, d->dev, d->fn, d->vendor, d->device, d->class_rev >> 24,
	       (d->class_rev >> 16) & 0xff, (d->class_rev >> 8) & 0xff,
	       d->class_rev & 0xff, d->owner ? " -> " : "",
	       d->owner ? d->owner : "");
	for (i = 0; i < PCI_NR_BARS; i++) {
		const struct pci_bar *b = &d->bar[i];

		if (b->type == PCI_BAR_NONE)
			continue;
		printf("      BAR%u %-10s %#010llx size %#llx%s\n", i,
		       bar_kind(b), b->base, b->size,
		       b->base ? "" : " (unassigned)");
	}
}

void pci_dump(void)
{
	unsigned int i;

	pci_enumerate();
	if (!nr_devs) {
		printf("no PCI devices\n");
		return;
	}
	for (i = 0; i < nr_devs; i++)
		dump_one(&devs[i]);
}
