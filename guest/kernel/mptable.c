/*
 * Intel MultiProcessor Specification 1.4 tables: the CPUs, the IOAPICs and
 * how ISA IRQs reach IOAPIC pins.  Read once at boot (on the bootstrap map,
 * the tables are below 4 GiB by definition) into struct platform.
 */

#include <apic.h>
#include <checksum.h>
#include <errno.h>
#include <platform.h>
#include <printk.h>
#include <string.h>

#define MPF_SIGNATURE	"_MP_"
#define MPC_SIGNATURE	"PCMP"

#define MP_PROCESSOR	0
#define MP_BUS		1
#define MP_IOAPIC	2
#define MP_INTSRC	3
#define MP_LINTSRC	4

#define MP_CPU_ENABLED	0x01
#define MP_CPU_BSP	0x02
#define MP_IOAPIC_EN	0x01
#define MP_INT_TYPE_INT	0

/* Polarity (bits 1:0) and trigger mode (bits 3:2) of an interrupt entry. */
#define MP_POL_MASK	0x3
#define MP_POL_LOW	0x3
#define MP_TRIG_MASK	0xc
#define MP_TRIG_LEVEL	0xc

#define MP_ALL_IOAPICS	0xff

struct mpf {
	char signature[4];
	u32 physptr;
	u8 length;		/* in 16-byte units */
	u8 spec_rev;
	u8 checksum;
	u8 feature1;		/* nonzero: a default configuration, no table */
	u8 feature2;
	u8 reserved[3];
} __attribute__((packed));

struct mpc_header {
	char signature[4];
	u16 length;
	u8 spec_rev;
	u8 checksum;
	char oem[8];
	char product[12];
	u32 oem_ptr;
	u16 oem_size;
	u16 count;
	u32 lapic;
	u16 ext_length;
	u8 ext_checksum;
	u8 reserved;
} __attribute__((packed));

struct mpc_cpu {
	u8 type;
	u8 apic_id;
	u8 apic_ver;
	u8 flags;
	u32 signature;
	u32 features;
	u32 reserved[2];
} __attribute__((packed));

struct mpc_bus {
	u8 type;
	u8 bus_id;
	char bus_type[6];
} __attribute__((packed));

struct mpc_ioapic {
	u8 type;
	u8 id;
	u8 version;
	u8 flags;
	u32 addr;
} __attribute__((packed));

struct mpc_intsrc {
	u8 type;
	u8 irq_type;
	u16 flags;
	u8 src_bus;
	u8 src_irq;
	u8 dst_ioapic;
	u8 dst_pin;
} __attribute__((packed));

/* ISA interrupt entries name their IOAPIC by id; resolved after the walk. */
struct pending_isa {
	bool valid;
	u8 ioapic_id;
	u8 pin;
	u16 flags;
};

struct mp_walk {
	bool isa_bus[256];
	struct pending_isa isa[ISA_IRQS];
	unsigned int skipped_cpus;
};

struct platform platform;

static const struct mpf *scan_range(u64 base, u64 len)
{
	u64 p;

	u32 sig;

	memcpy(&sig, MPF_SIGNATURE, 4);
	/* One 4-byte compare per slot: this loop is the slow part of a scan. */
	for (p = ALIGN_UP(base, 16); p + sizeof(struct mpf) <= base + len; p += 16) {
		const struct mpf *f = (const struct mpf *)p;

		if (*(const u32 *)p == sig && f->length == 1 && !byte_sum(f, 16))
			return f;
	}
	return NULL;
}

static const struct mpf *find_mpf(void)
{
	u64 ebda = (u64)*(const volatile u16 *)0x40e << 4;
	const struct mpf *f = NULL;

	/* A zeroed BDA (no BIOS) gives segment 0: that is the IVT, skip it. */
	if (ebda >= 0x80000 && ebda < 0xa0000)
		f = scan_range(ebda, 1024);
	if (!f)
		f = scan_range(0x9fc00, 1024);
	if (!f)
		f = scan_range(0xf0000, 0x10000);
	return f;
}

static void add_cpu(struct platform *p, struct mp_walk *w,
		    const struct mpc_cpu *c)
{
	if (!(c->flags & MP_CPU_ENABLED))
		return;
	if (p->nr_cpus == MAX_CPUS) {
		w->skipped_cpus++;
		return;
	}
	p->cpus[p->nr_cpus].apic_id = c->apic_id;
	p->cpus[p->nr_cpus].bsp = c->flags & MP_CPU_BSP;
	p->nr_cpus++;
}

static void add_ioapic(struct platform *p, const struct mpc_ioapic *a)
{
	if (!(a->flags & MP_IOAPIC_EN))
		return;
	if (p->nr_ioapics == MAX_IOAPICS) {
		pr_warn("mptable: ignoring IOAPIC id %u (max %d)\n", a->id,
			MAX_IOAPICS);
		return;
	}
	p->ioapics[p->nr_ioapics].id = a->id;
	p->ioapics[p->nr_ioapics].addr = a->addr;
	p->nr_ioapics++;
}

static void add_intsrc(struct mp_walk *w, const struct mpc_intsrc *s)
{
	if (s->irq_type != MP_INT_TYPE_INT || !w->isa_bus[s->src_bus] ||
	    s->src_irq >= ISA_IRQS)
		return;
	w->isa[s->src_irq].valid = true;
	w->isa[s->src_irq].ioapic_id = s->dst_ioapic;
	w->isa[s->src_irq].pin = s->dst_pin;
	w->isa[s->src_irq].flags = s->flags;
}

/* Entry sizes are fixed by type; an unknown type ends the walk. */
static int walk_entries(struct platform *p, struct mp_walk *w,
			const struct mpc_header *h)
{
	const u8 *e = (const u8 *)(h + 1), *end = (const u8 *)h + h->length;
	unsigned int i;

	for (i = 0; i < h->count; i++) {
		size_t size = *e == MP_PROCESSOR ? sizeof(struct mpc_cpu) : 8;

		if (e + size > end)
			break;
		switch (*e) {
		case MP_PROCESSOR:
			add_cpu(p, w, (const struct mpc_cpu *)e);
			break;
		case MP_BUS:
			if (!memcmp(((const struct mpc_bus *)e)->bus_type, "ISA", 3))
				w->isa_bus[((const struct mpc_bus *)e)->bus_id] = true;
			break;
		case MP_IOAPIC:
			add_ioapic(p, (const struct mpc_ioapic *)e);
			break;
		case MP_INTSRC:
			add_intsrc(w, (const struct mpc_intsrc *)e);
			break;
		case MP_LINTSRC:
			break;
		default:
			pr_warn("mptable: unknown entry type %u, stopping\n", *e);
			return 0;
		}
		e += size;
	}
	return 0;
}

static int ioapic_index(const struct platform *p, u8 id)
{
	unsigned int i;

	if (id == MP_ALL_IOAPICS && p->nr_ioapics)
		return 0;
	for (i = 0; i < p->nr_ioapics; i++) {
		if (p->ioapics[i].id == id)
			return i;
	}
	return -ENOENT;
}

static void resolve_isa(struct platform *p, const struct mp_walk *w)
{
	unsigned int irq;

	for (irq = 0; irq < ISA_IRQS; irq++) {
		const struct pending_isa *s = &w->isa[irq];
		struct isa_irq_route *r = &p->isa[irq];
		int idx;

		if (!s->valid)
			continue;
		idx = ioapic_index(p, s->ioapic_id);
		if (idx < 0) {
			pr_warn("mptable: ISA IRQ %u routed to unknown IOAPIC %u\n",
				irq, s->ioapic_id);
			continue;
		}
		r->valid = true;
		r->ioapic = idx;
		r->pin = s->pin;
		/* "Conforms to bus" means ISA's edge/active-high. */
		r->active_low = (s->flags & MP_POL_MASK) == MP_POL_LOW;
		r->level = (s->flags & MP_TRIG_MASK) == MP_TRIG_LEVEL;
	}
}

static const struct mpc_header *check_mpc(const struct mpf *f)
{
	const struct mpc_header *h;

	if (f->feature1) {
		pr_err("mptable: default configuration %u is not supported\n",
		       f->feature1);
		return NULL;
	}
	if (!f->physptr) {
		pr_err("mptable: floating pointer without a config table\n");
		return NULL;
	}
	h = (const struct mpc_header *)(u64)f->physptr;
	if (memcmp(h->signature, MPC_SIGNATURE, 4) ||
	    h->length < sizeof(*h) || byte_sum(h, h->length)) {
		pr_err("mptable: bad config table at %#x\n", f->physptr);
		return NULL;
	}
	return h;
}

int mptable_probe(struct platform *p)
{
	static struct mp_walk walk;	/* 300+ bytes: keep it off the stack */
	const struct mpc_header *h;
	const struct mpf *f;

	f = find_mpf();
	if (!f)
		return -ENOENT;
	h = check_mpc(f);
	if (!h)
		return -EINVAL;
	memset(&walk, 0, sizeof(walk));
	memset(p, 0, sizeof(*p));
	p->source = "mptable";
	p->lapic_addr = h->lapic ? h->lapic : LAPIC_DEFAULT_BASE;
	walk_entries(p, &walk, h);
	resolve_isa(p, &walk);
	if (walk.skipped_cpus)
		pr_warn("mptable: %u CPUs beyond the first %d ignored\n",
			walk.skipped_cpus, MAX_CPUS);
	if (!p->nr_cpus) {
		pr_err("mptable: no enabled processors listed\n");
		return -ENODEV;
	}
	return 0;
}

/* Firmware route for an ISA IRQ, else the identity mapping on IOAPIC 0. */
int platform_isa_route(unsigned int irq, struct isa_irq_route *out)
{
	if (irq >= ISA_IRQS || !platform.nr_ioapics)
		return -ENODEV;
	if (platform.isa[irq].valid) {
		*out = platform.isa[irq];
		return 0;
	}
	memset(out, 0, sizeof(*out));
	out->valid = true;
	out->pin = irq;
	return 0;
}
