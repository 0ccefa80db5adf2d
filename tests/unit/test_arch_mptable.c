// SPDX-License-Identifier: MIT
/*
 * MP table 1.4 contents (src/arch/x86/mptable.c), parsed here the way a guest
 * does: find the floating pointer, follow physptr, walk typed entries.  The
 * layouts below are from the Intel MultiProcessor Specification, not from
 * the implementation.
 */
#include <stdlib.h>

#include "helpers.h"

#include "arch/x86/boot.h"
#include "arch/x86/mptable.h"
#include "core/util.h"
#include "dev/uart8250.h"

#define GPA		((uint32_t)BOOT_BIOS_GPA)
#define BUF_SIZE	(BOOT_LOW_RESERVED_END - BOOT_BIOS_GPA)

struct spec_mpf {
	char sig[4];
	uint32_t physptr;
	uint8_t length, spec_rev, checksum;
	uint8_t feature[5];
} __attribute__((packed));

struct spec_hdr {
	char sig[4];
	uint16_t length;
	uint8_t spec_rev, checksum;
	char oem[8], product[12];
	uint32_t oem_ptr;
	uint16_t oem_size, count;
	uint32_t lapic;
	uint16_t ext_length;
	uint8_t ext_checksum, reserved;
} __attribute__((packed));

struct spec_cpu {
	uint8_t type, apic_id, apic_ver, flags;
	uint32_t signature, features, reserved[2];
} __attribute__((packed));

struct spec_bus {
	uint8_t type, id;
	char name[6];
} __attribute__((packed));

struct spec_ioapic {
	uint8_t type, id, ver, flags;
	uint32_t addr;
} __attribute__((packed));

struct spec_int {
	uint8_t type, irqtype;
	uint16_t flags;
	uint8_t src_bus, src_irq, dst_apic, dst_pin;
} __attribute__((packed));

/* What a guest learns from the table. */
struct parsed {
	struct spec_mpf mpf;
	struct spec_hdr hdr;
	struct spec_cpu cpu[256];
	unsigned ncpu;
	struct spec_bus bus[8];
	unsigned nbus;
	struct spec_ioapic ioapic[4];
	unsigned nioapic;
	struct spec_int intsrc[256];
	unsigned nint;
	struct spec_int lint[8];
	unsigned nlint;
};

static int sum8(const uint8_t *p, size_t n)
{
	uint8_t s = 0;

	while (n--)
		s += *p++;
	return s;
}

static void parse(const uint8_t *buf, int used, struct parsed *p)
{
	const uint8_t *e, *end;
	unsigned count = 0;

	memset(p, 0, sizeof(*p));
	assert_true(used >= (int)(sizeof(p->mpf) + sizeof(p->hdr)));
	assert_true(used <= (int)BUF_SIZE);
	/* Floating pointer: at a 16-byte boundary, 16 bytes, sums to 0. */
	memcpy(&p->mpf, buf, sizeof(p->mpf));
	assert_memory_equal(p->mpf.sig, "_MP_", 4);
	assert_int_equal(p->mpf.length, 1);
	assert_int_equal(p->mpf.spec_rev, 4);
	assert_int_equal(sum8(buf, 16), 0);
	assert_int_equal(p->mpf.feature[0], 0);	/* a table follows */
	assert_int_equal(GPA % 16, 0);
	assert_true(p->mpf.physptr >= GPA + 16);
	assert_true(p->mpf.physptr < GPA + (uint32_t)used);

	/* Configuration table header. */
	e = buf + (p->mpf.physptr - GPA);
	memcpy(&p->hdr, e, sizeof(p->hdr));
	assert_memory_equal(p->hdr.sig, "PCMP", 4);
	assert_int_equal(p->hdr.spec_rev, 4);
	assert_true(e + p->hdr.length <= buf + used);
	assert_int_equal(sum8(e, p->hdr.length), 0);
	assert_int_equal(p->hdr.lapic, 0xfee00000);
	assert_int_equal(p->hdr.ext_length, 0);

	/* Entries: exactly count of them fill exactly length bytes. */
	end = e + p->hdr.length;
	e += sizeof(p->hdr);
	while (e < end) {
		size_t len = *e == 0 ? 20 : 8;

		assert_true(*e <= 4);
		assert_true(e + len <= end);
		switch (*e) {
		case 0:
			memcpy(&p->cpu[p->ncpu++], e, len);
			break;
		case 1:
			memcpy(&p->bus[p->nbus++], e, len);
			break;
		case 2:
			memcpy(&p->ioapic[p->nioapic++], e, len);
			break;
		case 3:
			assert_true(p->nint < ARRAY_SIZE(p->intsrc));
			memcpy(&p->intsrc[p->nint++], e, len);
			break;
		case 4:
			memcpy(&p->lint[p->nlint++], e, len);
			break;
		}
		e += len;
		count++;
	}
	assert_ptr_equal(e, end);
	assert_int_equal(count, p->hdr.count);
	/* Spec order: processors first, then buses, then IOAPICs. */
	assert_int_equal(buf[p->mpf.physptr - GPA + sizeof(p->hdr)], 0);
}

static int build(uint8_t *buf, unsigned cpus, struct parsed *p)
{
	int used = mptable_build(buf, BUF_SIZE, GPA, cpus);

	assert_true(used > 0);
	parse(buf, used, p);
	return used;
}

static const struct spec_bus *find_bus(const struct parsed *p, const char *name)
{
	for (unsigned i = 0; i < p->nbus; i++)
		if (!memcmp(p->bus[i].name, name, strlen(name)))
			return &p->bus[i];
	return NULL;
}

static const struct spec_int *find_int(const struct parsed *p, uint8_t bus,
				       uint8_t irq)
{
	const struct spec_int *found = NULL;

	for (unsigned i = 0; i < p->nint; i++) {
		if (p->intsrc[i].src_bus != bus || p->intsrc[i].src_irq != irq)
			continue;
		assert_null(found);	/* one route per source */
		found = &p->intsrc[i];
	}
	return found;
}

static void check_cpus(unsigned n)
{
	uint8_t *buf = calloc(1, BUF_SIZE);
	struct parsed *p = calloc(1, sizeof(*p));
	int used;

	used = build(buf, n, p);
	assert_int_equal(p->ncpu, n);
	for (unsigned i = 0; i < n; i++) {
		assert_int_equal(p->cpu[i].apic_id, i);
		assert_true(p->cpu[i].flags & 1);		/* enabled */
		assert_int_equal(!!(p->cpu[i].flags & 2), i == 0);	/* BSP */
	}
	/* The IOAPIC id does not collide with a LAPIC id. */
	assert_int_equal(p->nioapic, 1);
	for (unsigned i = 0; i < n; i++)
		assert_int_not_equal(p->ioapic[0].id, p->cpu[i].apic_id);
	assert_int_equal(used, 16 + p->hdr.length);
	free(p);
	free(buf);
}

static void test_processors(void **state)
{
	check_cpus(1);
	check_cpus(2);
	check_cpus(5);
	check_cpus(VM_MAX_CPUS);
}

static void test_checksums_at_any_gpa(void **state)
{
	uint8_t *buf = calloc(1, BUF_SIZE);
	int used = mptable_build(buf, BUF_SIZE, 0x9fc00, 3);

	assert_true(used > 0);
	assert_int_equal(sum8(buf, 16), 0);
	assert_int_equal(le_read(buf + 4, 4), 0x9fc00 + 16);
	assert_int_equal(sum8(buf + 16, le_read(buf + 16 + 4, 2)), 0);
	/* mp_checksum is the plain byte sum. */
	assert_int_equal(mp_checksum((const uint8_t *)"\x01\x02\xfd", 3), 0);
	assert_int_equal(mp_checksum((const uint8_t *)"\x80\x81", 2), 1);
	free(buf);
}

static void test_buses_and_ioapic(void **state)
{
	uint8_t *buf = calloc(1, BUF_SIZE);
	struct parsed *p = calloc(1, sizeof(*p));
	const struct spec_bus *pci, *isa;

	build(buf, 2, p);
	pci = find_bus(p, "PCI   ");
	isa = find_bus(p, "ISA   ");
	assert_non_null(pci);
	assert_non_null(isa);
	assert_int_equal(pci->id, MP_PCI_BUS);
	assert_int_equal(isa->id, MP_ISA_BUS);
	assert_int_not_equal(pci->id, isa->id);
	assert_int_equal(p->nioapic, 1);
	assert_int_equal(p->ioapic[0].addr, 0xfec00000);
	assert_true(p->ioapic[0].flags & 1);
	assert_int_equal(p->ioapic[0].ver, 0x11);
	free(p);
	free(buf);
}

static void test_isa_routes(void **state)
{
	uint8_t *buf = calloc(1, BUF_SIZE);
	struct parsed *p = calloc(1, sizeof(*p));
	const struct spec_int *com1;

	build(buf, 2, p);
	/* COM1: ISA IRQ 4 -> IOAPIC pin 4, vectored interrupt. */
	com1 = find_int(p, MP_ISA_BUS, UART_COM1_IRQ);
	assert_non_null(com1);
	assert_int_equal(com1->irqtype, 0);
	assert_int_equal(com1->dst_apic, p->ioapic[0].id);
	assert_int_equal(com1->dst_pin, 4);
	/* ISA interrupts are edge / active high (or "conforms to bus"). */
	assert_true((com1->flags & 0xf) == 0 || (com1->flags & 0xf) == 0x5);
	/* Every other ISA IRQ but the cascade has a route to its own pin. */
	for (unsigned irq = 1; irq < 16; irq++) {
		const struct spec_int *r = find_int(p, MP_ISA_BUS, irq);

		if (irq == 2)
			continue;
		assert_non_null(r);
		assert_int_equal(r->dst_pin, irq);
	}
	/* LINT0 = ExtINT, LINT1 = NMI, to all local APICs. */
	assert_int_equal(p->nlint, 2);
	for (unsigned i = 0; i < p->nlint; i++) {
		assert_int_equal(p->lint[i].dst_apic, 0xff);
		if (p->lint[i].dst_pin == 0)
			assert_int_equal(p->lint[i].irqtype, 3);
		else
			assert_int_equal(p->lint[i].irqtype, 1);
	}
	free(p);
	free(buf);
}

static void test_pci_routes(void **state)
{
	uint8_t *buf = calloc(1, BUF_SIZE);
	struct parsed *p = calloc(1, sizeof(*p));
	unsigned npci = 0;

	build(buf, 4, p);
	for (unsigned dev = 0; dev < 32; dev++) {
		for (unsigned pin = 0; pin < 4; pin++) {
			/* PCI source irq encodes device << 2 | INTx pin. */
			const struct spec_int *r = find_int(p, MP_PCI_BUS,
							    dev << 2 | pin);

			assert_non_null(r);
			assert_int_equal(r->irqtype, 0);
			/* polarity bits 1:0 = 3 (low), trigger 3:2 = 3 (level) */
			assert_int_equal(r->flags & 0x3, 3);
			assert_int_equal((r->flags >> 2) & 0x3, 3);
			assert_int_equal(r->dst_pin, MP_PCI_GSI(dev, pin));
			assert_in_range(r->dst_pin, 16, 23);
			assert_int_equal(r->dst_apic, p->ioapic[0].id);
			npci++;
		}
	}
	assert_int_equal(npci, 128);
	/* The swizzle spreads INTA of neighbouring slots over the pins. */
	assert_int_not_equal(MP_PCI_GSI(1, 0), MP_PCI_GSI(2, 0));
	assert_int_equal(MP_PCI_GSI(0, 1), MP_PCI_GSI(1, 0));
	free(p);
	free(buf);
}

static void test_small_buffers(void **state)
{
	uint8_t *full = calloc(1, BUF_SIZE);
	int need = mptable_build(full, BUF_SIZE, GPA, 8);

	assert_true(need > 0);
	/* Every size short of what is needed fails, and never writes past it. */
	for (int size = 0; size < need; size++) {
		uint8_t *b = malloc(size ? size : 1);

		if (mptable_build(b, size, GPA, 8) != -ENOSPC)
			fail_msg("size %d of %d accepted", size, need);
		free(b);
	}
	/* Exactly enough is enough. */
	{
		uint8_t *b = malloc(need);

		assert_int_equal(mptable_build(b, need, GPA, 8), need);
		assert_memory_equal(b, full, need);
		free(b);
	}
	free(full);
}

static void test_bad_cpu_counts(void **state)
{
	uint8_t *buf = calloc(1, BUF_SIZE);

	assert_int_equal(mptable_build(buf, BUF_SIZE, GPA, 0), -EINVAL);
	assert_int_equal(mptable_build(buf, BUF_SIZE, GPA, 255), -EINVAL);
	assert_int_equal(mptable_build(buf, BUF_SIZE, GPA, 100000), -EINVAL);
	free(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_processors),
		cmocka_unit_test(test_checksums_at_any_gpa),
		cmocka_unit_test(test_buses_and_ioapic),
		cmocka_unit_test(test_isa_routes),
		cmocka_unit_test(test_pci_routes),
		cmocka_unit_test(test_small_buffers),
		cmocka_unit_test(test_bad_cpu_counts),
	};

	return cmocka_run_group_tests_name("arch_mptable", tests, NULL, NULL);
}
