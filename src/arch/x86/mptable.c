// SPDX-License-Identifier: MIT
#include <errno.h>
#include <string.h>

#include "arch/x86/mptable.h"
#include "core/util.h"

struct mpf {			/* floating pointer structure */
	char sig[4];
	uint32_t physptr;
	uint8_t length;		/* in 16-byte units */
	uint8_t spec_rev;
	uint8_t checksum;
	uint8_t feature[5];
} __attribute__((packed));

struct mpc_header {
	char sig[4];
	uint16_t length;
	uint8_t spec_rev;
	uint8_t checksum;
	char oem[8];
	char product[12];
	uint32_t oem_ptr;
	uint16_t oem_size;
	uint16_t count;
	uint32_t lapic;
	uint16_t ext_length;
	uint8_t ext_checksum;
	uint8_t reserved;
} __attribute__((packed));

struct mpc_cpu {
	uint8_t type, apic_id, apic_ver, flags;
	uint32_t signature, features;
	uint32_t reserved[2];
} __attribute__((packed));

struct mpc_bus {
	uint8_t type, id;
	char name[6];
} __attribute__((packed));

struct mpc_ioapic {
	uint8_t type, id, ver, flags;
	uint32_t addr;
} __attribute__((packed));

struct mpc_intsrc {
	uint8_t type, irqtype;
	uint16_t flags;
	uint8_t src_bus, src_irq, dst_apic, dst_pin;
} __attribute__((packed));

enum { MP_CPU, MP_BUS, MP_IOAPIC, MP_INTSRC, MP_LINTSRC };
enum { MP_INT, MP_NMI, MP_SMI, MP_EXTINT };

#define MPC_CPU_EN		1
#define MPC_CPU_BP		2
#define MP_IRQ_LEVEL_LOW	0x0f	/* trigger level, polarity low */

uint8_t mp_checksum(const uint8_t *p, size_t len)
{
	uint8_t sum = 0;

	while (len--)
		sum += *p++;
	return sum;
}

struct mp_writer {
	uint8_t *buf;
	size_t size, off;
	uint16_t count;
};

static void *mp_add(struct mp_writer *w, size_t len)
{
	void *p;

	if (len > w->size - w->off)
		return NULL;
	p = w->buf + w->off;
	w->off += len;
	w->count++;
	return p;
}

static int mp_add_intsrc(struct mp_writer *w, uint8_t type, uint16_t flags,
			 uint8_t bus, uint8_t irq, uint8_t apic, uint8_t pin,
			 uint8_t entry)
{
	struct mpc_intsrc *s = mp_add(w, sizeof(*s));

	if (!s)
		return -ENOSPC;
	*s = (struct mpc_intsrc){ entry, type, flags, bus, irq, apic, pin };
	return 0;
}

static int mp_add_cpus(struct mp_writer *w, unsigned nr_cpus)
{
	for (unsigned i = 0; i < nr_cpus; i++) {
		struct mpc_cpu *c = mp_add(w, sizeof(*c));

		if (!c)
			return -ENOSPC;
		*c = (struct mpc_cpu){
			.type = MP_CPU, .apic_id = i, .apic_ver = 0x14,
			.flags = MPC_CPU_EN | (i == 0 ? MPC_CPU_BP : 0),
			.signature = 0x600, .features = 0x201,	/* FPU, APIC */
		};
	}
	return 0;
}

static int mp_add_buses_ioapic(struct mp_writer *w, uint8_t ioapic_id)
{
	struct mpc_bus *pci = mp_add(w, sizeof(*pci));
	struct mpc_bus *isa = mp_add(w, sizeof(*isa));
	struct mpc_ioapic *io = mp_add(w, sizeof(*io));

	if (!pci || !isa || !io)
		return -ENOSPC;
	*pci = (struct mpc_bus){ MP_BUS, MP_PCI_BUS, "PCI   " };
	*isa = (struct mpc_bus){ MP_BUS, MP_ISA_BUS, "ISA   " };
	*io = (struct mpc_ioapic){ MP_IOAPIC, ioapic_id, 0x11, 1,
				   MP_IOAPIC_ADDR };
	return 0;
}

static int mp_add_routes(struct mp_writer *w, uint8_t ioapic_id)
{
	int ret = 0;

	/* ISA IRQs to their own pins; IRQ 2 is the PIC cascade, not wired. */
	for (unsigned irq = 0; irq < 16 && !ret; irq++)
		if (irq != 2)
			ret = mp_add_intsrc(w, MP_INT, 0, MP_ISA_BUS, irq,
					    ioapic_id, irq, MP_INTSRC);
	for (unsigned dev = 0; dev < 32 && !ret; dev++)
		for (unsigned pin = 0; pin < 4 && !ret; pin++)
			ret = mp_add_intsrc(w, MP_INT, MP_IRQ_LEVEL_LOW,
					    MP_PCI_BUS, dev << 2 | pin,
					    ioapic_id, MP_PCI_GSI(dev, pin),
					    MP_INTSRC);
	/* LINT0 = ExtINT (PIC), LINT1 = NMI, to all LAPICs. */
	if (!ret)
		ret = mp_add_intsrc(w, MP_EXTINT, 0, MP_ISA_BUS, 0, 0xff, 0,
				    MP_LINTSRC);
	if (!ret)
		ret = mp_add_intsrc(w, MP_NMI, 0, MP_ISA_BUS, 0, 0xff, 1,
				    MP_LINTSRC);
	return ret;
}

int mptable_build(uint8_t *buf, size_t size, uint32_t gpa, unsigned nr_cpus)
{
	struct mp_writer w = { .buf = buf, .size = size };
	struct mpc_header *h;
	struct mpf *mpf;
	int ret;

	if (!nr_cpus || nr_cpus > 254)
		return -EINVAL;
	memset(buf, 0, size);
	mpf = mp_add(&w, sizeof(*mpf));
	h = mp_add(&w, sizeof(*h));
	if (!mpf || !h)
		return -ENOSPC;
	w.count = 0;
	ret = mp_add_cpus(&w, nr_cpus);
	if (!ret)
		ret = mp_add_buses_ioapic(&w, nr_cpus);
	if (!ret)
		ret = mp_add_routes(&w, nr_cpus);
	if (ret)
		return ret;

	memcpy(h->sig, "PCMP", 4);
	h->length = w.off - sizeof(*mpf);
	h->spec_rev = 4;
	memcpy(h->oem, "FVMM    ", 8);
	memcpy(h->product, "FVMM-KVM    ", 12);
	h->count = w.count;
	h->lapic = MP_LAPIC_ADDR;
	h->checksum = -mp_checksum((uint8_t *)h, h->length);

	memcpy(mpf->sig, "_MP_", 4);
	mpf->physptr = gpa + sizeof(*mpf);
	mpf->length = 1;
	mpf->spec_rev = 4;
	mpf->checksum = -mp_checksum((uint8_t *)mpf, sizeof(*mpf));
	return w.off;
}
