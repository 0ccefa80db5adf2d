/*
 * pciehp-style hotplug driver for PCIe root ports (PCIe base spec 7.5.3,
 * Slot Capabilities/Control/Status).
 *
 * Each root port whose PCIe capability says Slot Implemented and
 * Hot-Plug Capable gets one slot.  Events arrive by MSI; the handler
 * drains Slot Status (writing back exactly the bits it read, so nothing
 * the port sets meanwhile is lost) and acts on the accumulated events
 * right there: the kernel has no deferred-work mechanism.
 *
 *  - presence or link up: power the slot on, enable the card, bind it;
 *  - attention button: unbind (the driver stops DMA), wait
 *    pciehp.delay_ms, power off - the host completes the removal;
 *  - presence and link gone while bound: surprise removal, unbind
 *    without touching the card, power off.
 *
 * The firmware (fvmm) numbered the buses and opened the bridge windows;
 * a hot-added card's BARs already sit inside them, so they are only read
 * and sized here, never moved.
 */

#include <apic.h>
#include <cmdline.h>
#include <e1000.h>
#include <errno.h>
#include <msix.h>
#include <pci.h>
#include <pci_dev.h>
#include <pciehp.h>
#include <printk.h>
#include <string.h>
#include <time.h>
#include <x86.h>

#define PCI_CAP_ID_MSI		0x05
#define PCI_CAP_ID_EXP		0x10
#define PCI_CLASS_BRIDGE_PCI	0x0604
#define PCI_INTERRUPT_PIN_REG	0x3d
#define PCI_BAR_IO_BIT		0x1
#define PCI_BAR_MEM_64		0x4

/* PCIe capability registers (offsets from the capability). */
#define EXP_FLAGS		0x02
#define EXP_FLAGS_TYPE(f)	(((f) >> 4) & 0xf)
#define EXP_TYPE_ROOT_PORT	4
#define EXP_FLAGS_SLOT		(1u << 8)
#define EXP_LNKSTA		0x12
#define EXP_LNKSTA_DLLLA	(1u << 13)
#define EXP_SLTCAP		0x14
#define EXP_SLTCTL		0x18
#define EXP_SLTSTA		0x1a

#define SLTCAP_HPC		(1u << 6)
#define SLTCAP_PSN(c)		((c) >> 19)

#define SLTCTL_ABPE		(1u << 0)
#define SLTCTL_PDCE		(1u << 3)
#define SLTCTL_HPIE		(1u << 5)
#define SLTCTL_AIC_MASK		(3u << 6)
#define SLTCTL_PIC_MASK		(3u << 8)
#define SLTCTL_PIC_ON		(1u << 8)
#define SLTCTL_PIC_OFF		(3u << 8)
#define SLTCTL_PCC_OFF		(1u << 10)
#define SLTCTL_DLLSCE		(1u << 12)
#define SLTCTL_EVENTS		(SLTCTL_HPIE | SLTCTL_DLLSCE | SLTCTL_ABPE | \
				 SLTCTL_PDCE)

#define SLTSTA_ABP		(1u << 0)
#define SLTSTA_PFD		(1u << 1)
#define SLTSTA_MRLSC		(1u << 2)
#define SLTSTA_PDC		(1u << 3)
#define SLTSTA_CC		(1u << 4)
#define SLTSTA_PDS		(1u << 6)
#define SLTSTA_DLLSC		(1u << 8)
#define SLTSTA_EVENTS		(SLTSTA_ABP | SLTSTA_PFD | SLTSTA_MRLSC | \
				 SLTSTA_PDC | SLTSTA_CC | SLTSTA_DLLSC)

/* MSI capability. */
#define MSI_FLAGS		0x02
#define MSI_FLAGS_ENABLE	(1u << 0)
#define MSI_FLAGS_64		(1u << 7)
#define MSI_ADDR_LO		0x04
#define MSI_ADDR_HI		0x08
#define MSI_DATA_32		0x08
#define MSI_DATA_64		0x0c
#define MSI_ADDR_BASE		0xfee00000u

#define PCIEHP_MAX_SLOTS	8
#define CARD_WAIT_US		100000	/* config space after power-on */
#define VIRTIO_VENDOR_ID	0x1af4
#define VIRTIO_NET_MODERN	0x1041

struct slot {
	struct pci_dev *port;
	struct pci_dev card;
	u8 exp;			/* PCIe capability offset */
	u8 bus;			/* secondary bus: where the card lives */
	u16 num;		/* physical slot number */
	int vec;
	bool powered;		/* we powered it on (and not off since) */
	bool present;		/* last seen presence or link */
	const char *driver;	/* bound driver, or NULL */
	const char *ifname;
	u64 events, irqs;
};

static struct slot slots[PCIEHP_MAX_SLOTS];
static unsigned int nr_slots;
static u32 delay_ms;
static bool ignore_button;

int pciehp_opt_delay(const char *name __unused, const char *val)
{
	u64 v;

	if (!val || kstrtou64(val, 10, &v) || v > 60000)
		return -EINVAL;
	delay_ms = v;
	return 0;
}

/* pciehp.button=ignore: refuse orderly removal, as a guest without a
 * hot-plug driver does; the host must cope (tests). */
int pciehp_opt_button(const char *name __unused, const char *val)
{
	if (!val || (strcmp(val, "ignore") && strcmp(val, "handle")))
		return -EINVAL;
	ignore_button = !strcmp(val, "ignore");
	return 0;
}

/* ---- slot registers ---- */

static u16 slot_status(const struct slot *s)
{
	return pci_read16(s->port, s->exp + EXP_SLTSTA);
}

static bool link_active(const struct slot *s)
{
	return pci_read16(s->port, s->exp + EXP_LNKSTA) & EXP_LNKSTA_DLLLA;
}

static bool card_there(const struct slot *s)
{
	return (slot_status(s) & SLTSTA_PDS) || link_active(s);
}

/* Command Completed is set at once (NCCS=0 here); clear it after each. */
static void slot_ctl(struct slot *s, u16 clear, u16 set)
{
	u16 v = pci_read16(s->port, s->exp + EXP_SLTCTL);

	pci_write16(s->port, s->exp + EXP_SLTCTL, (v & ~clear) | set);
	pci_write16(s->port, s->exp + EXP_SLTSTA, SLTSTA_CC);
}

static void slot_power(struct slot *s, bool on)
{
	if (on)
		slot_ctl(s, SLTCTL_PCC_OFF | SLTCTL_PIC_MASK, SLTCTL_PIC_ON);
	else
		slot_ctl(s, SLTCTL_PIC_MASK, SLTCTL_PCC_OFF | SLTCTL_PIC_OFF);
	s->powered = on;
}

/* ---- the card ---- */

/* BAR i's base and size (decoding is off); returns slots used. */
static unsigned int read_bar(struct pci_dev *d, unsigned int i)
{
	u8 off = PCI_BAR0 + 4 * i;
	u32 lo = pci_read32(d, off), mask, hi = 0;
	struct pci_bar *b = &d->bar[i];
	bool is64 = !(lo & PCI_BAR_IO_BIT) && (lo & 0x6) == PCI_BAR_MEM_64;

	memset(b, 0, sizeof(*b));
	pci_write32(d, off, ~0u);
	mask = pci_read32(d, off);
	pci_write32(d, off, lo);
	if (lo & PCI_BAR_IO_BIT) {
		mask &= ~3u;
		if (mask) {
			b->type = PCI_BAR_IO;
			b->base = lo & ~3u;
			b->size = (~(mask | 0xffff0000u) & 0xffff) + 1;
		}
		return 1;
	}
	mask &= ~0xfu;
	if (!mask)
		return 1;
	if (is64 && i + 1 < PCI_NR_BARS)
		hi = pci_read32(d, off + 4);
	/* Windows are below 4 GiB, so the low half gives the size. */
	b->type = is64 ? PCI_BAR_MEM64 : PCI_BAR_MEM32;
	b->prefetch = lo & 0x8;
	b->base = (u64)hi << 32 | (lo & ~0xfu);
	b->size = (u64)(~mask) + 1;
	return is64 ? 2 : 1;
}

/* Config space of the card at bus s->bus, 00.0, with its BARs. */
static int card_read(struct slot *s)
{
	struct pci_dev *d = &s->card;
	u64 start = uptime_us();
	unsigned int i;
	u32 id;

	while ((id = pci_conf_read32(s->bus, 0, 0, PCI_VENDOR_ID)) == ~0u) {
		if (uptime_us() - start > CARD_WAIT_US)
			return -ENODEV;
		udelay(1000);
	}
	memset(d, 0, sizeof(*d));
	d->bus = s->bus;
	d->vendor = id & 0xffff;
	d->device = id >> 16;
	d->class_rev = pci_read32(d, PCI_CLASS_REVISION);
	d->hdr_type = pci_read8(d, PCI_HEADER_TYPE) & 0x7f;
	if (d->hdr_type)
		return 0;		/* a bridge: nothing we bind */
	pci_write16(d, PCI_COMMAND, pci_read16(d, PCI_COMMAND) &
		    ~(PCI_CMD_IO | PCI_CMD_MEMORY | PCI_CMD_MASTER));
	for (i = 0; i < PCI_NR_BARS; )
		i += read_bar(d, i);
	return 0;
}

/*
 * IOAPIC input of the card's INTx: swizzled through the root port, then
 * the MP table's entry for the port's own bus-0 slot (fvmm: GSI 16-19).
 */
static unsigned int card_gsi(const struct slot *s)
{
	u8 pin = pci_read8(&s->card, PCI_INTERRUPT_PIN_REG);
	unsigned int swz = pin ? pin - 1 : 0;

	return 16 + ((s->port->dev + swz) & 3);
}

static void card_bind(struct slot *s)
{
	struct pci_dev *d = &s->card;
	int ret;

	if (d->vendor == E1000_VENDOR_ID && d->device == E1000_DEVICE_82540EM) {
		pci_enable_device(d);
		ret = e1000_bind(d, s->num, card_gsi(s), &s->ifname);
		if (ret) {
			pr_err("pciehp: slot %u: e1000 bind failed (%d)\n",
			       s->num, ret);
			return;
		}
		s->driver = "e1000";
		printf("pciehp: slot %u: e1000 bound as %s\n", s->num, s->ifname);
		return;
	}
	if (d->vendor == VIRTIO_VENDOR_ID && d->device == VIRTIO_NET_MODERN) {
		printf("pciehp: slot %u: virtio-net: no hot-plug support, left unbound\n",
		       s->num);
		return;
	}
	printf("pciehp: slot %u: %04x:%04x: no driver\n", s->num, d->vendor,
	       d->device);
}

static void card_unbind(struct slot *s, bool present)
{
	if (s->driver && !strcmp(s->driver, "e1000"))
		e1000_unbind(s->num, present);
	s->driver = NULL;
	s->ifname = NULL;
}

/* ---- events ---- */

static void hot_add(struct slot *s)
{
	int ret;

	printf("pciehp: slot %u: card present, powering on\n", s->num);
	slot_power(s, true);
	ret = card_read(s);
	if (ret) {
		pr_err("pciehp: slot %u: card does not answer, powering off\n",
		       s->num);
		slot_power(s, false);
		return;
	}
	card_bind(s);
}

static void button(struct slot *s)
{
	if (ignore_button) {
		printf("pciehp: slot %u: attention button ignored (pciehp.button=ignore)\n",
		       s->num);
		return;
	}
	if (!s->powered && !s->driver) {
		printf("pciehp: slot %u: attention button, slot already off\n",
		       s->num);
		return;
	}
	printf("pciehp: slot %u: attention button: unbinding, powering off\n",
	       s->num);
	card_unbind(s, true);
	/* Configurable grace period, like Linux's 5 s (default none). */
	if (delay_ms)
		udelay((u64)delay_ms * 1000);
	slot_power(s, false);
}

static void presence_changed(struct slot *s)
{
	bool there = card_there(s);

	if (there == s->present)
		return;
	s->present = there;
	if (there) {
		if (!s->powered && !s->driver)
			hot_add(s);
		return;
	}
	if (s->driver || s->powered) {
		/* The line after the unbind: traffic moves first. */
		card_unbind(s, false);
		slot_power(s, false);
		printf("pciehp: slot %u: surprise removal\n", s->num);
	}
}

/* Read, acknowledge exactly what was read, repeat until quiet. */
static u16 drain_events(struct slot *s)
{
	u16 all = 0, ev;

	while ((ev = slot_status(s) & SLTSTA_EVENTS)) {
		pci_write16(s->port, s->exp + EXP_SLTSTA, ev);
		all |= ev;
	}
	return all;
}

static void slot_irq(void *ctx)
{
	struct slot *s = ctx;
	u16 ev;

	s->irqs++;
	while ((ev = drain_events(s))) {
		s->events++;
		if (ev & SLTSTA_ABP)
			button(s);
		if (ev & (SLTSTA_PDC | SLTSTA_DLLSC))
			presence_changed(s);
	}
}

/* ---- bring-up ---- */

static int setup_msi(struct slot *s)
{
	const struct pci_dev *p = s->port;
	u8 msi = pci_find_cap(p, PCI_CAP_ID_MSI, 0);
	u16 flags;

	if (!msi)
		return -ENODEV;
	s->vec = irq_vector_alloc(slot_irq, s);
	if (s->vec < 0)
		return s->vec;
	flags = pci_read16(p, msi + MSI_FLAGS);
	pci_write32(p, msi + MSI_ADDR_LO, MSI_ADDR_BASE | lapic_id() << 12);
	if (flags & MSI_FLAGS_64) {
		pci_write32(p, msi + MSI_ADDR_HI, 0);
		pci_write16(p, msi + MSI_DATA_64, s->vec);
	} else {
		pci_write16(p, msi + MSI_DATA_32, s->vec);
	}
	/* One vector: Multiple Message Enable stays 0. */
	pci_write16(p, msi + MSI_FLAGS, (flags & ~0x70) | MSI_FLAGS_ENABLE);
	return 0;
}

static bool is_hotplug_port(const struct pci_dev *p, u8 *exp)
{
	u16 fl;

	if (p->class_rev >> 16 != PCI_CLASS_BRIDGE_PCI || p->hdr_type != 1)
		return false;
	*exp = pci_find_cap(p, PCI_CAP_ID_EXP, 0);
	if (!*exp)
		return false;
	fl = pci_read16(p, *exp + EXP_FLAGS);
	return EXP_FLAGS_TYPE(fl) == EXP_TYPE_ROOT_PORT &&
	       (fl & EXP_FLAGS_SLOT) &&
	       (pci_read32(p, *exp + EXP_SLTCAP) & SLTCAP_HPC);
}

static void slot_init(struct pci_dev *p, u8 exp)
{
	struct slot *s = &slots[nr_slots];
	int ret;

	s->port = p;
	s->exp = exp;
	s->bus = pci_read8(p, PCI_SECONDARY_BUS);
	s->num = SLTCAP_PSN(pci_read32(p, exp + EXP_SLTCAP));
	ret = setup_msi(s);
	if (ret) {
		pr_err("pciehp: port %02x:%02x.%u: no MSI (%d)\n", p->bus,
		       p->dev, p->fn, ret);
		return;
	}
	nr_slots++;
	p->owner = "pciehp";
	/* Stale events from before us mean nothing: state is read below. */
	pci_write16(p, exp + EXP_SLTSTA, SLTSTA_EVENTS);
	s->powered = !(pci_read16(p, exp + EXP_SLTCTL) & SLTCTL_PCC_OFF);
	slot_ctl(s, 0, SLTCTL_EVENTS);
	/* Already there (cold plug, or a failover primary): a hot-add. */
	s->present = card_there(s);
	if (s->present) {
		s->powered = false;
		hot_add(s);
	} else if (s->powered) {
		slot_power(s, false);
	}
}

void pciehp_init(void)
{
	unsigned int i;
	u64 flags;
	u8 exp;

	pci_enumerate();
	/* Events are handled only once every slot is set up. */
	flags = irq_save();
	for (i = 0; i < pci_nr_devs() && nr_slots < PCIEHP_MAX_SLOTS; i++) {
		struct pci_dev *p = pci_dev_get(i);

		if (is_hotplug_port(p, &exp))
			slot_init(p, exp);
	}
	irq_restore(flags);
	if (nr_slots)
		pr_info("pciehp: %u hot-plug slots\n", nr_slots);
}

void pciehp_cmd_slots(int argc __unused, char **argv __unused)
{
	unsigned int i;

	if (!nr_slots) {
		printf("no hot-plug slots\n");
		return;
	}
	for (i = 0; i < nr_slots; i++) {
		struct slot *s = &slots[i];
		u16 ctl = pci_read16(s->port, s->exp + EXP_SLTCTL);
		u16 sta = slot_status(s);

		printf("  slot %u (port %02x:%02x.%u, bus %02x): power %s, %s, link %s, driver %s%s%s; events %llu\n",
		       s->num, s->port->bus, s->port->dev, s->port->fn, s->bus,
		       ctl & SLTCTL_PCC_OFF ? "off" : "on",
		       sta & SLTSTA_PDS ? "card present" : "empty",
		       link_active(s) ? "up" : "down",
		       s->driver ? s->driver : "none", s->ifname ? " " : "",
		       s->ifname ? s->ifname : "", s->events);
	}
}
