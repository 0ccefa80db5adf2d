/*
 * ACPI MADT, read only for what the MP table cannot say.  QEMU's SeaBIOS
 * lists one MP processor entry per package (the MP spec's view of
 * hyper-threading), so with several cores per socket only the MADT names
 * every CPU.  Used for the CPU list when it lists more CPUs than the MP
 * table, and for everything when there is no MP table.
 *
 * The RSDP comes from the boot loader; the BIOS area scan is only done when
 * there is no MP table either, because every probe of it is slow here.
 */

#include <apic.h>
#include <checksum.h>
#include <errno.h>
#include <platform.h>
#include <printk.h>
#include <string.h>

#define ACPI_MADT_LAPIC		0
#define ACPI_MADT_IOAPIC	1
#define ACPI_MADT_OVERRIDE	2
#define ACPI_LAPIC_ENABLED	0x1
#define BOOTSTRAP_LIMIT		(4ULL << 30)

struct acpi_rsdp {
	char signature[8];
	u8 checksum;
	char oem[6];
	u8 revision;
	u32 rsdt;
	/* revision >= 2 */
	u32 length;
	u64 xsdt;
	u8 ext_checksum;
	u8 reserved[3];
} __attribute__((packed));

struct acpi_header {
	char signature[4];
	u32 length;
	u8 revision;
	u8 checksum;
	char oem[6];
	char oem_table[8];
	u32 oem_revision;
	u32 creator;
	u32 creator_revision;
} __attribute__((packed));

struct acpi_madt {
	struct acpi_header h;
	u32 lapic;
	u32 flags;
} __attribute__((packed));

struct madt_lapic {
	u8 type, length;
	u8 acpi_id;
	u8 apic_id;
	u32 flags;
} __attribute__((packed));

struct madt_ioapic {
	u8 type, length;
	u8 id;
	u8 reserved;
	u32 addr;
	u32 gsi_base;
} __attribute__((packed));

struct madt_override {
	u8 type, length;
	u8 bus;
	u8 irq;
	u32 gsi;
	u16 flags;		/* MPS INTI flags, as in the MP table */
} __attribute__((packed));

static bool rsdp_valid(const struct acpi_rsdp *r)
{
	if (memcmp(r->signature, "RSD PTR ", 8) || byte_sum(r, 20))
		return false;
	return r->revision < 2 || (r->length >= sizeof(*r) && r->length < 4096 &&
				   !byte_sum(r, r->length));
}

static u64 scan_rsdp(void)
{
	u64 p;

	for (p = 0xe0000; p < 0x100000; p += 16) {
		/* One 8-byte compare per slot before the full check. */
		if (*(const u64 *)p == *(const u64 *)"RSD PTR " &&
		    rsdp_valid((const struct acpi_rsdp *)p))
			return p;
	}
	return 0;
}

static const struct acpi_header *table_at(u64 pa, const char *sig)
{
	const struct acpi_header *h = (const struct acpi_header *)pa;

	if (!pa || pa + sizeof(*h) > BOOTSTRAP_LIMIT ||
	    memcmp(h->signature, sig, 4) || h->length < sizeof(*h) ||
	    pa + h->length > BOOTSTRAP_LIMIT || byte_sum(h, h->length))
		return NULL;
	return h;
}

/* Walks the XSDT (8-byte entries) or RSDT (4-byte entries) for the MADT. */
static const struct acpi_madt *find_madt(const struct acpi_rsdp *r)
{
	const struct acpi_header *root, *t;
	size_t esize = 4, n, i;
	const u8 *ent;

	root = r->revision >= 2 ? table_at(r->xsdt, "XSDT") : NULL;
	if (root)
		esize = 8;
	else
		root = table_at(r->rsdt, "RSDT");
	if (!root)
		return NULL;
	ent = (const u8 *)(root + 1);
	n = (root->length - sizeof(*root)) / esize;
	for (i = 0; i < n; i++) {
		u64 pa = esize == 8 ? *(const u64 *)(ent + 8 * i) :
				      *(const u32 *)(ent + 4 * i);

		t = table_at(pa, "APIC");
		if (t && t->length >= sizeof(struct acpi_madt))
			return (const struct acpi_madt *)t;
	}
	return NULL;
}

static void madt_lapic(struct platform *p, const struct madt_lapic *l)
{
	/* Online-capable but disabled CPUs are for hotplug: not ours to start. */
	if (!(l->flags & ACPI_LAPIC_ENABLED) || p->nr_cpus == MAX_CPUS)
		return;
	p->cpus[p->nr_cpus].apic_id = l->apic_id;
	p->nr_cpus++;
}

static void madt_ioapic(struct platform *p, const struct madt_ioapic *a)
{
	if (p->nr_ioapics == MAX_IOAPICS)
		return;
	p->ioapics[p->nr_ioapics].id = a->id;
	p->ioapics[p->nr_ioapics].addr = a->addr;
	p->ioapics[p->nr_ioapics].gsi_base = a->gsi_base;
	p->nr_ioapics++;
}

/* The IOAPIC serving a GSI: the one with the highest base not above it. */
static int gsi_to_pin(const struct platform *p, u32 gsi, u8 *ioapic, u8 *pin)
{
	unsigned int i;
	int best = -1;

	for (i = 0; i < p->nr_ioapics; i++) {
		if (p->ioapics[i].gsi_base <= gsi &&
		    (best < 0 || p->ioapics[i].gsi_base > p->ioapics[best].gsi_base))
			best = i;
	}
	if (best < 0 || gsi - p->ioapics[best].gsi_base > 255)
		return -ENOENT;
	*ioapic = best;
	*pin = gsi - p->ioapics[best].gsi_base;
	return 0;
}

/* ISA IRQs are identity-mapped to GSIs unless an override says otherwise. */
static void madt_isa_routes(struct platform *p, const struct acpi_madt *m)
{
	const u8 *e = (const u8 *)(m + 1), *end = (const u8 *)m + m->h.length;
	unsigned int irq;

	for (irq = 0; irq < ISA_IRQS; irq++) {
		struct isa_irq_route *r = &p->isa[irq];

		r->valid = !gsi_to_pin(p, irq, &r->ioapic, &r->pin);
	}
	for (; e + 2 <= end && e[1] >= 2 && e + e[1] <= end; e += e[1]) {
		const struct madt_override *o = (const struct madt_override *)e;
		struct isa_irq_route *r;

		if (e[0] != ACPI_MADT_OVERRIDE || e[1] < sizeof(*o) || o->bus ||
		    o->irq >= ISA_IRQS)
			continue;
		r = &p->isa[o->irq];
		r->valid = !gsi_to_pin(p, o->gsi, &r->ioapic, &r->pin);
		r->active_low = (o->flags & 0x3) == 0x3;
		r->level = (o->flags & 0xc) == 0xc;
	}
}

int acpi_madt_probe(struct platform *p, u64 rsdp, bool scan)
{
	const struct acpi_madt *m;
	const u8 *e, *end;

	if (!rsdp && scan)
		rsdp = scan_rsdp();
	if (!rsdp || rsdp + sizeof(struct acpi_rsdp) > BOOTSTRAP_LIMIT ||
	    !rsdp_valid((const struct acpi_rsdp *)rsdp))
		return -ENOENT;
	m = find_madt((const struct acpi_rsdp *)rsdp);
	if (!m)
		return -ENOENT;
	memset(p, 0, sizeof(*p));
	p->source = "acpi";
	p->lapic_addr = m->lapic ? m->lapic : LAPIC_DEFAULT_BASE;
	e = (const u8 *)(m + 1);
	end = (const u8 *)m + m->h.length;
	for (; e + 2 <= end && e[1] >= 2 && e + e[1] <= end; e += e[1]) {
		if (e[0] == ACPI_MADT_LAPIC && e[1] >= sizeof(struct madt_lapic))
			madt_lapic(p, (const struct madt_lapic *)e);
		else if (e[0] == ACPI_MADT_IOAPIC && e[1] >= sizeof(struct madt_ioapic))
			madt_ioapic(p, (const struct madt_ioapic *)e);
	}
	madt_isa_routes(p, m);
	return p->nr_cpus ? 0 : -ENODEV;
}
