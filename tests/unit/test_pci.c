// SPDX-License-Identifier: MIT
/* PCI configuration space, BARs, host bridge and INTx (src/pci/pci*.c). */
#include <stdlib.h>

#include "helpers.h"

#include "arch/x86/mptable.h"
#include "core/util.h"
#include "pci/pci.h"

struct bar_dev {
	uint64_t last_off;
	uint64_t last_val;
	unsigned reads, writes;
};

static uint64_t bar_read(void *opaque, uint64_t off, unsigned size)
{
	struct bar_dev *b = opaque;

	b->reads++;
	b->last_off = off;
	return 0x5a5a5a5a5a5a5a5aULL;
}

static void bar_write(void *opaque, uint64_t off, uint64_t val, unsigned size)
{
	struct bar_dev *b = opaque;

	b->writes++;
	b->last_off = off;
	b->last_val = val;
}

static const struct bus_ops bar_ops = { .read = bar_read, .write = bar_write };

struct fixture {
	struct vm vm;
	struct pci_dev *a, *b;
	struct bar_dev io, mem, mem64;
	int intx[16];
	unsigned nintx;
};

static void record_intx(struct pci_dev *pd, bool level)
{
	struct fixture *f = pd->opaque;

	if (f->nintx < ARRAY_SIZE(f->intx))
		f->intx[f->nintx++] = level;
}

/* A device with an I/O, a 32-bit and a 64-bit prefetchable memory BAR. */
static struct pci_dev *make_dev(struct fixture *f, const char *name)
{
	struct pci_dev *pd = calloc(1, sizeof(*pd));

	assert_non_null(pd);
	pci_dev_init(pd, &f->vm, name, 0x1234, 0x5678, 0x020000, 3);
	pd->opaque = f;
	pci_dev_set_intx_pin(pd, 1);
	assert_int_equal(pci_bar_init(pd, 0, PCI_BAR_IO, false, 32, &bar_ops,
				      &f->io, "io"), 0);
	assert_int_equal(pci_bar_init(pd, 1, PCI_BAR_MEM32, false, 0x1000,
				      &bar_ops, &f->mem, "mem"), 0);
	assert_int_equal(pci_bar_init(pd, 2, PCI_BAR_MEM64, true, 0x4000,
				      &bar_ops, &f->mem64, "mem64"), 0);
	return pd;
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	fake_vm_init(&f->vm);
	assert_int_equal(pci_host_create(&f->vm), 0);
	f->a = make_dev(f, "a");
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	if (f->a->host)
		pci_host_remove(f->vm.pci, f->a);
	if (f->b && f->b->host)
		pci_host_remove(f->vm.pci, f->b);
	free(f->a);
	free(f->b);
	pci_host_destroy(&f->vm);
	fake_vm_destroy(&f->vm);
	free(f);
	return 0;
}

/* ---- config space masks ---- */

static void test_readonly_header(void **state)
{
	struct fixture *f = *state;
	struct pci_dev *pd = f->a;

	assert_int_equal(pci_cfg_read(pd, PCI_VENDOR_ID, 4), 0x56781234);
	pci_cfg_write(pd, PCI_VENDOR_ID, 0xffffffff, 4);
	assert_int_equal(pci_cfg_read(pd, PCI_VENDOR_ID, 4), 0x56781234);
	assert_int_equal(pci_cfg_read(pd, PCI_CLASS_REVISION, 4), 0x02000003);
	pci_cfg_write(pd, PCI_CLASS_REVISION, 0, 4);
	assert_int_equal(pci_cfg_read(pd, PCI_CLASS_REVISION, 4), 0x02000003);
	/* Pin is read-only, line is the OS's scratch register. */
	pci_cfg_write(pd, PCI_INTERRUPT_LINE, 0x0000ffff, 2);
	assert_int_equal(pci_cfg_read(pd, PCI_INTERRUPT_LINE, 1), 0xff);
	assert_int_equal(pci_cfg_read(pd, PCI_INTERRUPT_PIN, 1), 1);
	/* Outside the 256-byte space, or too wide: all ones, no effect. */
	assert_int_equal(pci_cfg_read(pd, 0x100, 4), 0xffffffff);
	assert_int_equal(pci_cfg_read(pd, 0xfe, 4), 0xffffffff);
	pci_cfg_write(pd, 0xfe, 0xffffffff, 4);
}

static void test_command_wmask(void **state)
{
	struct fixture *f = *state;
	struct pci_dev *pd = f->a;

	pci_cfg_write(pd, PCI_COMMAND, 0xffff, 2);
	assert_int_equal(pci_cfg_read(pd, PCI_COMMAND, 2),
			 PCI_COMMAND_IO | PCI_COMMAND_MEMORY |
			 PCI_COMMAND_MASTER | PCI_COMMAND_PARITY |
			 PCI_COMMAND_SERR | PCI_COMMAND_INTX_DISABLE);
	assert_true(pci_bus_master(pd));
	pci_cfg_write(pd, PCI_COMMAND, 0, 2);
	assert_int_equal(pci_cfg_read(pd, PCI_COMMAND, 2), 0);
	assert_false(pci_bus_master(pd));
}

static void test_status_w1c(void **state)
{
	struct fixture *f = *state;
	struct pci_dev *pd = f->a;
	uint16_t errs = PCI_STATUS_PARITY | PCI_STATUS_SIG_TARGET_ABORT |
			PCI_STATUS_DETECTED_PARITY;

	pd->cfg[PCI_STATUS] |= PCI_STATUS_INTERRUPT;
	le_write(&pd->cfg[PCI_STATUS], 2,
		 le_read(&pd->cfg[PCI_STATUS], 2) | errs);
	/* Writing 0 clears nothing; a 1 clears exactly that error bit. */
	pci_cfg_write(pd, PCI_STATUS, 0, 2);
	assert_int_equal(pci_cfg_read(pd, PCI_STATUS, 2) & errs, errs);
	pci_cfg_write(pd, PCI_STATUS, PCI_STATUS_PARITY, 2);
	assert_int_equal(pci_cfg_read(pd, PCI_STATUS, 2) & errs,
			 errs & ~PCI_STATUS_PARITY);
	/* Read-only bits (interrupt status) survive all-ones writes... */
	pci_cfg_write(pd, PCI_STATUS, 0xffff, 2);
	assert_int_equal(pci_cfg_read(pd, PCI_STATUS, 2) & errs, 0);
	assert_true(pci_cfg_read(pd, PCI_STATUS, 1) & PCI_STATUS_INTERRUPT);
	/* ...and a dword write to COMMAND+STATUS changes only COMMAND. */
	pci_cfg_write(pd, PCI_COMMAND, 0xffff0000 | PCI_COMMAND_MASTER, 4);
	assert_int_equal(pci_cfg_read(pd, PCI_COMMAND, 2), PCI_COMMAND_MASTER);
}

static void test_generic_masks(void **state)
{
	struct fixture *f = *state;
	struct pci_dev *pd = f->a;

	/* A made-up register: nibble writable, bit 7 write-1-to-clear. */
	pci_set_reg(pd, 0x80, 1, 0x80, 0x0f, 0x80);
	pci_cfg_write(pd, 0x80, 0x7f, 1);
	assert_int_equal(pci_cfg_read(pd, 0x80, 1), 0x8f);
	pci_cfg_write(pd, 0x80, 0x80, 1);
	assert_int_equal(pci_cfg_read(pd, 0x80, 1), 0x00);
	/* Unaligned multi-byte access spans registers bytewise. */
	pci_set_reg(pd, 0x84, 4, 0x11223344, 0xffff0000, 0);
	pci_cfg_write(pd, 0x85, 0xaabbcc, 3);
	assert_int_equal(pci_cfg_read(pd, 0x84, 4), 0xaabb3344);
	assert_int_equal(pci_cfg_read(pd, 0x86, 2), 0xaabb);
}

static void test_capabilities(void **state)
{
	struct fixture *f = *state;
	struct pci_dev *pd = f->a;
	int c1, c2;

	assert_false(pci_cfg_read(pd, PCI_STATUS, 2) & PCI_STATUS_CAP_LIST);
	c1 = pci_cap_add(pd, PCI_CAP_ID_VNDR, 6);
	c2 = pci_cap_add(pd, PCI_CAP_ID_MSIX, 12);
	assert_int_equal(c1, PCI_CAP_START);
	assert_int_equal(c2, ALIGN_UP(c1 + 6, 4));
	assert_true(pci_cfg_read(pd, PCI_STATUS, 2) & PCI_STATUS_CAP_LIST);
	assert_int_equal(pci_cfg_read(pd, PCI_CAPABILITY_LIST, 1), c1);
	assert_int_equal(pci_cfg_read(pd, c1, 2), PCI_CAP_ID_VNDR | c2 << 8);
	assert_int_equal(pci_cfg_read(pd, c2, 2), PCI_CAP_ID_MSIX);
	assert_int_equal(pci_cap_find(pd, PCI_CAP_ID_MSIX), c2);
	assert_int_equal(pci_cap_find(pd, PCI_CAP_ID_EXP), 0);
	/* The guest cannot relink the list. */
	pci_cfg_write(pd, c1, 0xffff, 2);
	assert_int_equal(pci_cfg_read(pd, c1 + 1, 1), c2);
	assert_int_equal(pci_cap_add(pd, 0x09, 0x200), -ENOSPC);
}

/* ---- BARs ---- */

static void test_bar_sizing(void **state)
{
	struct fixture *f = *state;
	struct pci_dev *pd = f->a;

	for (int i = 0; i < 6; i++)
		pci_cfg_write(pd, PCI_BASE_ADDRESS_0 + 4 * i, 0xffffffff, 4);
	pci_cfg_write(pd, PCI_ROM_ADDRESS, 0xffffffff, 4);
	assert_int_equal(pci_cfg_read(pd, PCI_BASE_ADDRESS_0, 4),
			 0xffffffe0 | PCI_BASE_ADDRESS_SPACE_IO);
	assert_int_equal(pci_cfg_read(pd, PCI_BASE_ADDRESS_1, 4), 0xfffff000);
	assert_int_equal(pci_cfg_read(pd, PCI_BASE_ADDRESS_2, 4),
			 0xffffc000 | PCI_BASE_ADDRESS_MEM_TYPE_64 |
			 PCI_BASE_ADDRESS_MEM_PREFETCH);
	assert_int_equal(pci_cfg_read(pd, PCI_BASE_ADDRESS_3, 4), 0xffffffff);
	assert_int_equal(pci_cfg_read(pd, PCI_BASE_ADDRESS_4, 4), 0);
	assert_int_equal(pci_cfg_read(pd, PCI_BASE_ADDRESS_5, 4), 0);
	assert_int_equal(pci_cfg_read(pd, PCI_ROM_ADDRESS, 4), 0);
	assert_int_equal(pci_bar_addr(pd, 2), 0xffffffffffffc000ULL);
}

static void test_bar_init_errors(void **state)
{
	struct fixture *f = *state;
	struct pci_dev pd;

	pci_dev_init(&pd, &f->vm, "x", 1, 2, 0, 0);
	assert_int_equal(pci_bar_init(&pd, 0, PCI_BAR_MEM32, 0, 0x1800, &bar_ops,
				      NULL, NULL), -EINVAL);
	assert_int_equal(pci_bar_init(&pd, 6, PCI_BAR_MEM32, 0, 0x1000, &bar_ops,
				      NULL, NULL), -EINVAL);
	assert_int_equal(pci_bar_init(&pd, 5, PCI_BAR_MEM64, 0, 0x1000, &bar_ops,
				      NULL, NULL), -EINVAL);
	assert_int_equal(pci_bar_init(&pd, 0, PCI_BAR_IO, 0, 512, &bar_ops,
				      NULL, NULL), -EINVAL);
	assert_int_equal(pci_bar_init(&pd, 0, PCI_BAR_MEM32, 0, 8, &bar_ops,
				      NULL, NULL), -EINVAL);
	assert_int_equal(pci_bar_init(&pd, 0, PCI_BAR_IO, 0, 16, &bar_ops,
				      NULL, NULL), 0);
	assert_int_equal(pci_bar_init(&pd, 0, PCI_BAR_IO, 0, 16, &bar_ops,
				      NULL, NULL), -EINVAL);
}

static void test_bar_assign_and_map(void **state)
{
	struct fixture *f = *state;
	struct pci_dev *pd = f->a;
	uint64_t io, mem, mem64;
	uint32_t v = 0;

	assert_int_equal(pci_host_add(f->vm.pci, pd, 3), 0);
	assert_int_equal(pd->devfn, PCI_DEVFN(3, 0));
	io = pci_bar_addr(pd, 0);
	mem = pci_bar_addr(pd, 1);
	mem64 = pci_bar_addr(pd, 2);
	assert_true(io >= PCI_IOPORT_BASE && io + 32 <= PCI_IOPORT_END);
	assert_true(IS_ALIGNED(io, 32));
	assert_true(mem >= PCI_MMIO_BASE && mem + 0x1000 <= PCI_MMIO_END);
	assert_true(mem64 >= PCI_MMIO_BASE && mem64 + 0x4000 <= PCI_MMIO_END);
	assert_true(IS_ALIGNED(mem64, 0x4000));
	assert_true(mem + 0x1000 <= mem64 || mem64 + 0x4000 <= mem);
	/* Firmware-style: decoding on, INTx line routed. */
	assert_int_equal(pci_cfg_read(pd, PCI_COMMAND, 2),
			 PCI_COMMAND_IO | PCI_COMMAND_MEMORY);
	assert_int_equal(pci_cfg_read(pd, PCI_INTERRUPT_LINE, 1),
			 PCI_INTX_GSI(3, 0));
	/* Mapped on the buses, at offsets. */
	assert_int_equal(bus_read(&f->vm.mmio, mem64 + 0x10, &v, 4), 0);
	assert_int_equal(f->mem64.last_off, 0x10);
	assert_int_equal(bus_write(&f->vm.pio, io + 4, &v, 2), 0);
	assert_int_equal(f->io.last_off, 4);
	/* Memory decode off: the memory BARs go dark, I/O stays. */
	pci_cfg_write(pd, PCI_COMMAND, PCI_COMMAND_IO, 2);
	assert_int_equal(bus_read(&f->vm.mmio, mem, &v, 4), -ENOENT);
	assert_int_equal(bus_read(&f->vm.mmio, mem64, &v, 4), -ENOENT);
	assert_int_equal(bus_read(&f->vm.pio, io, &v, 4), 0);
	/* Move the 32-bit BAR while off, then turn decoding back on. */
	pci_cfg_write(pd, PCI_BASE_ADDRESS_1, 0xd0000000, 4);
	pci_cfg_write(pd, PCI_COMMAND, PCI_COMMAND_IO | PCI_COMMAND_MEMORY, 2);
	assert_int_equal(bus_read(&f->vm.mmio, mem, &v, 4), -ENOENT);
	assert_int_equal(bus_read(&f->vm.mmio, 0xd0000008, &v, 4), 0);
	assert_int_equal(f->mem.last_off, 8);
	/* Moving while on remaps at once; a 64-bit BAR may go above 4G. */
	pci_cfg_write(pd, PCI_BASE_ADDRESS_3, 0x1, 4);
	assert_int_equal(bus_read(&f->vm.mmio, 0x100000000ULL + mem64 + 4, &v, 4), 0);
	assert_int_equal(f->mem64.last_off, 4);
	assert_int_equal(bus_read(&f->vm.mmio, mem64, &v, 4), -ENOENT);
	/* Address 0 means unassigned: not mapped. */
	pci_cfg_write(pd, PCI_BASE_ADDRESS_1, 0, 4);
	assert_false(pd->bars[1].mapped);
}

static void test_bar_overlap_stays_dark(void **state)
{
	struct fixture *f = *state;
	uint64_t mem_a;
	uint32_t v;

	f->b = make_dev(f, "b");
	assert_int_equal(pci_host_add(f->vm.pci, f->a, -1), 0);
	assert_int_equal(pci_host_add(f->vm.pci, f->b, -1), 0);
	assert_int_equal(PCI_SLOT(f->a->devfn), 1);
	assert_int_equal(PCI_SLOT(f->b->devfn), 2);
	mem_a = pci_bar_addr(f->a, 1);
	assert_true(pci_bar_addr(f->b, 1) != mem_a);
	/* b's BAR onto a's: refused by the bus, a keeps working. */
	pci_cfg_write(f->b, PCI_BASE_ADDRESS_1, mem_a, 4);
	assert_false(f->b->bars[1].mapped);
	assert_true(f->a->bars[1].mapped);
	f->mem.reads = 0;
	assert_int_equal(bus_read(&f->vm.mmio, mem_a, &v, 4), 0);
	assert_int_equal(f->mem.reads, 1);
	/* An I/O BAR beyond the 64K port space is not mapped. */
	pci_cfg_write(f->b, PCI_BASE_ADDRESS_0, 0x1ffe0, 4);
	assert_false(f->b->bars[0].mapped);
}

/* BAR1 (f->mem) answers at addr and BAR2 is dark. */
static void expect_bar1_over_bar2(struct fixture *f, uint64_t addr)
{
	uint32_t v;

	assert_true(f->a->bars[1].mapped);
	assert_false(f->a->bars[2].mapped);
	f->mem.reads = 0;
	assert_int_equal(bus_read(&f->vm.mmio, addr + 8, &v, 4), 0);
	assert_int_equal(f->mem.reads, 1);
}

/*
 * Two BARs of one device put on top of each other: the lower-numbered one
 * answers, whichever the guest wrote first, so a migration destination
 * loading the same config space maps the same; the other comes on as
 * soon as it moves to a free range.
 */
static void test_bar_overlap_within_device(void **state)
{
	struct fixture *f = *state;
	struct pci_dev *pd = f->a;
	const uint64_t x = 0xd0000000, y = 0xd0010000;

	assert_int_equal(pci_host_add(f->vm.pci, pd, 3), 0);
	pci_cfg_write(pd, PCI_BASE_ADDRESS_3, 0, 4);
	/* BAR2 first, then BAR1 onto it: BAR1 takes the range. */
	pci_cfg_write(pd, PCI_BASE_ADDRESS_2, x, 4);
	assert_true(pd->bars[2].mapped);
	pci_cfg_write(pd, PCI_BASE_ADDRESS_1, x, 4);
	expect_bar1_over_bar2(f, x);
	/* BAR2 moves off: it comes on there, BAR1 stays. */
	pci_cfg_write(pd, PCI_BASE_ADDRESS_2, y, 4);
	assert_true(pd->bars[2].mapped);
	assert_int_equal(pd->bars[2].addr, y);
	assert_true(pd->bars[1].mapped);
	/* The other order ends the same: BAR1 answers, BAR2 is dark. */
	pci_cfg_write(pd, PCI_BASE_ADDRESS_2, x, 4);
	expect_bar1_over_bar2(f, x);
}

static void test_slots(void **state)
{
	struct fixture *f = *state;

	f->b = make_dev(f, "b");
	assert_int_equal(pci_host_add(f->vm.pci, f->a, 0), -EBUSY);
	assert_int_equal(pci_host_add(f->vm.pci, f->a, 32), -ENOSPC);
	assert_int_equal(pci_host_add(f->vm.pci, f->a, 7), 0);
	assert_int_equal(pci_host_add(f->vm.pci, f->b, 7), -EBUSY);
	assert_null(f->b->host);
	assert_ptr_equal(pci_host_find(f->vm.pci, 0, PCI_DEVFN(7, 0)), f->a);
	assert_null(pci_host_find(f->vm.pci, 1, PCI_DEVFN(7, 0)));
	pci_host_remove(f->vm.pci, f->a);
	assert_null(pci_host_find(f->vm.pci, 0, PCI_DEVFN(7, 0)));
	assert_false(f->a->bars[1].mapped);
}

/* ---- configuration mechanism #1 ---- */

static uint32_t cfg_in(struct fixture *f, unsigned bus, unsigned devfn,
		       unsigned reg, unsigned size)
{
	uint32_t addr = 0x80000000 | bus << 16 | devfn << 8 | (reg & 0xfc);
	uint8_t buf[4] = { 0 };

	assert_int_equal(pci_host_pio(f->vm.pci, 0xcf8, &addr, 4, true), 0);
	assert_int_equal(pci_host_pio(f->vm.pci, 0xcfc + (reg & 3), buf, size,
				      false), 0);
	return le_read(buf, size);
}

static void cfg_out(struct fixture *f, unsigned devfn, unsigned reg,
		    uint32_t val, unsigned size)
{
	uint32_t addr = 0x80000000 | devfn << 8 | (reg & 0xfc);
	uint8_t buf[4];

	le_write(buf, size, val);
	assert_int_equal(pci_host_pio(f->vm.pci, 0xcf8, &addr, 4, true), 0);
	assert_int_equal(pci_host_pio(f->vm.pci, 0xcfc + (reg & 3), buf, size,
				      true), 0);
}

static void test_config_ports(void **state)
{
	struct fixture *f = *state;
	unsigned devfn;
	uint32_t v = 0x7fffffff;
	uint8_t b = 0;

	assert_int_equal(pci_host_add(f->vm.pci, f->a, 5), 0);
	devfn = PCI_DEVFN(5, 0);
	/* Host bridge at 00.0. */
	assert_int_equal(cfg_in(f, 0, 0, PCI_VENDOR_ID, 4),
			 PCI_HOST_DEVICE << 16 | PCI_HOST_VENDOR);
	assert_int_equal(cfg_in(f, 0, 0, PCI_CLASS_DEVICE, 2), 0x0600);
	assert_int_equal(cfg_in(f, 0, devfn, PCI_VENDOR_ID, 4), 0x56781234);
	assert_int_equal(cfg_in(f, 0, devfn, PCI_DEVICE_ID + 1, 1), 0x56);
	assert_int_equal(cfg_in(f, 0, devfn, PCI_CLASS_DEVICE, 2), 0x0200);
	/* Empty slot, other buses, other functions: master abort. */
	assert_int_equal(cfg_in(f, 0, PCI_DEVFN(9, 0), 0, 4), 0xffffffff);
	assert_int_equal(cfg_in(f, 0, PCI_DEVFN(5, 1), 0, 4), 0xffffffff);
	assert_int_equal(cfg_in(f, 1, devfn, 0, 4), 0xffffffff);
	/* Writes through the data port, byte by byte. */
	cfg_out(f, devfn, PCI_INTERRUPT_LINE, 0x42, 1);
	assert_int_equal(cfg_in(f, 0, devfn, PCI_INTERRUPT_LINE, 1), 0x42);
	/* The address register reads back without reserved bits. */
	assert_int_equal(pci_host_pio(f->vm.pci, 0xcf8, &v, 4, true), 0);
	assert_int_equal(pci_host_pio(f->vm.pci, 0xcf8, &v, 4, false), 0);
	assert_int_equal(v, 0x00fffffc);
	/* Enable bit clear: the data port reads all ones. */
	assert_int_equal(pci_host_pio(f->vm.pci, 0xcfc, &v, 4, false), 0);
	assert_int_equal(v, 0xffffffff);
	/* Not configuration cycles: 0xCF9 (reset control), straddling. */
	assert_int_equal(pci_host_pio(f->vm.pci, 0xcf9, &b, 1, true), -ENOENT);
	assert_int_equal(pci_host_pio(f->vm.pci, 0xcf8, &b, 1, false), -ENOENT);
	assert_int_equal(pci_host_pio(f->vm.pci, 0xcfe, &v, 4, false), -ENOENT);
	assert_int_equal(pci_host_pio(f->vm.pci, 0x80, &b, 1, false), -ENOENT);
}

static void test_bar_programming_via_ports(void **state)
{
	struct fixture *f = *state;
	unsigned devfn = PCI_DEVFN(4, 0);
	uint32_t v;

	assert_int_equal(pci_host_add(f->vm.pci, f->a, 4), 0);
	/* What an OS does: decode off, size, program, decode on. */
	cfg_out(f, devfn, PCI_COMMAND, 0, 2);
	cfg_out(f, devfn, PCI_BASE_ADDRESS_1, 0xffffffff, 4);
	assert_int_equal(cfg_in(f, 0, devfn, PCI_BASE_ADDRESS_1, 4), 0xfffff000);
	cfg_out(f, devfn, PCI_BASE_ADDRESS_1, 0xe0000000, 4);
	cfg_out(f, devfn, PCI_COMMAND, PCI_COMMAND_MEMORY, 2);
	assert_int_equal(bus_read(&f->vm.mmio, 0xe0000ffc, &v, 4), 0);
	assert_int_equal(f->mem.last_off, 0xffc);
}

/* ---- INTx ---- */

static void test_intx(void **state)
{
	struct fixture *f = *state;
	struct pci_dev *pd = f->a;

	pd->intx_hook = record_intx;
	pci_set_irq(pd, true);
	assert_int_equal(f->nintx, 1);
	assert_int_equal(f->intx[0], 1);
	assert_true(pci_cfg_read(pd, PCI_STATUS, 2) & PCI_STATUS_INTERRUPT);
	pci_set_irq(pd, true);			/* no change, no call */
	assert_int_equal(f->nintx, 1);
	/* INTx disable drops the line but keeps the status bit. */
	pci_cfg_write(pd, PCI_COMMAND, PCI_COMMAND_INTX_DISABLE, 2);
	assert_int_equal(f->nintx, 2);
	assert_int_equal(f->intx[1], 0);
	assert_true(pci_cfg_read(pd, PCI_STATUS, 2) & PCI_STATUS_INTERRUPT);
	pci_set_irq(pd, false);
	assert_int_equal(f->nintx, 2);
	assert_false(pci_cfg_read(pd, PCI_STATUS, 2) & PCI_STATUS_INTERRUPT);
	pci_set_irq(pd, true);
	assert_int_equal(f->nintx, 2);
	pci_cfg_write(pd, PCI_COMMAND, 0, 2);
	assert_int_equal(f->nintx, 3);
	assert_int_equal(f->intx[2], 1);
	pci_set_irq(pd, false);
}

static void test_intx_routes(void **state)
{
	struct fixture *f = *state;
	struct pci_intx_route r[8];
	int n;

	f->b = make_dev(f, "b");
	pci_dev_set_intx_pin(f->b, 2);
	assert_int_equal(pci_host_add(f->vm.pci, f->a, 3), 0);
	assert_int_equal(pci_host_add(f->vm.pci, f->b, 6), 0);
	n = pci_intx_routes(&f->vm, r, 8);
	assert_int_equal(n, 2);	/* the host bridge has no pin */
	assert_int_equal(r[0].bus, 0);
	assert_int_equal(r[0].dev, 3);
	assert_int_equal(r[0].pin, 0);
	assert_int_equal(r[0].ioapic_pin, 16 + 3);
	assert_int_equal(r[1].dev, 6);
	assert_int_equal(r[1].pin, 1);
	assert_int_equal(r[1].ioapic_pin, 16 + ((6 + 1) % 4));
	/* Same swizzle as the MP table lists for every slot. */
	for (int i = 0; i < n; i++)
		assert_int_equal(r[i].ioapic_pin, MP_PCI_GSI(r[i].dev, r[i].pin));
	assert_int_equal(pci_intx_routes(&f->vm, r, 1), 1);
	/* Shared lines are counted, never underflow. */
	pci_set_irq(f->a, true);
	pci_set_irq(f->b, true);
	pci_set_irq(f->a, false);
	pci_set_irq(f->a, false);
	pci_set_irq(f->b, false);
}

/* ---- state ---- */

static void test_state_roundtrip(void **state)
{
	struct fixture *f = *state;
	struct pci_dev *pd = f->a;
	struct sbuf sb = { 0 };
	struct sreader r;
	char err[160] = "";
	uint64_t mem;
	uint32_t v;

	assert_int_equal(pci_host_add(f->vm.pci, pd, 2), 0);
	pci_cfg_write(pd, PCI_BASE_ADDRESS_1, 0xd1000000, 4);
	pci_cfg_write(pd, PCI_COMMAND, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER, 2);
	pci_cfg_write(pd, PCI_INTERRUPT_LINE, 0x33, 1);
	assert_int_equal(pci_dev_save(pd, &sb), 0);

	/* Scramble, then restore. */
	pci_dev_reset(pd);
	mem = pci_bar_addr(pd, 1);
	assert_true(mem != 0xd1000000);
	r = (struct sreader){ .p = sb.data, .len = sb.len };
	assert_int_equal(pci_dev_load(pd, &r, err, sizeof(err)), 0);
	assert_int_equal(r.off, sb.len);
	assert_int_equal(pci_bar_addr(pd, 1), 0xd1000000);
	assert_int_equal(pci_cfg_read(pd, PCI_COMMAND, 2),
			 PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
	assert_int_equal(pci_cfg_read(pd, PCI_INTERRUPT_LINE, 1), 0x33);
	assert_int_equal(bus_read(&f->vm.mmio, 0xd1000000, &v, 4), 0);
	assert_int_equal(bus_read(&f->vm.mmio, mem, &v, 4), -ENOENT);
	assert_false(pd->bars[0].mapped);	/* I/O decode is off now */

	/* A record of another device model is refused. */
	sb.data[sb.len - 1 - PCI_CFG_SIZE + PCI_VENDOR_ID] ^= 1;
	r = (struct sreader){ .p = sb.data, .len = sb.len };
	assert_int_equal(pci_dev_load(pd, &r, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "read-only config byte 0x0"));
	/* Truncated. */
	r = (struct sreader){ .p = sb.data, .len = sb.len - 1 };
	assert_int_equal(pci_dev_load(pd, &r, err, sizeof(err)), -EINVAL);
	sbuf_free(&sb);
}

/*
 * A migration destination loads device records one by one while the
 * others still sit at their firmware addresses.  Here the source's guest
 * moved b's BAR away and a's onto b's old range; loaded a first, a would
 * find b still there.  Between the host's load_begin and load_end nothing
 * is mapped, and at the end every BAR is where the source had it.
 */
static void test_load_maps_bars_in_one_pass(void **state)
{
	struct fixture *f = *state;
	struct device *host = pci_host_device(f->vm.pci);
	struct sbuf sa = { 0 }, sb = { 0 };
	uint64_t fw_a, fw_b, moved_b = 0xd3000000;
	struct sreader r;
	char err[160] = "";
	uint32_t v;

	f->b = make_dev(f, "b");
	assert_int_equal(pci_host_add(f->vm.pci, f->a, -1), 0);
	assert_int_equal(pci_host_add(f->vm.pci, f->b, -1), 0);
	fw_a = pci_bar_addr(f->a, 1);
	fw_b = pci_bar_addr(f->b, 1);
	pci_cfg_write(f->b, PCI_BASE_ADDRESS_1, moved_b, 4);
	pci_cfg_write(f->a, PCI_BASE_ADDRESS_1, fw_b, 4);
	assert_true(f->a->bars[1].mapped && f->b->bars[1].mapped);
	assert_int_equal(pci_dev_save(f->a, &sa), 0);
	assert_int_equal(pci_dev_save(f->b, &sb), 0);

	/* The destination: both back at their firmware addresses. */
	pci_cfg_write(f->a, PCI_BASE_ADDRESS_1, fw_a, 4);
	pci_cfg_write(f->b, PCI_BASE_ADDRESS_1, fw_b, 4);
	assert_true(f->a->bars[1].mapped && f->b->bars[1].mapped);

	host->ops->load_begin(host);
	r = (struct sreader){ .p = sa.data, .len = sa.len };
	assert_int_equal(pci_dev_load(f->a, &r, err, sizeof(err)), 0);
	assert_false(f->a->bars[1].mapped);	/* deferred, not refused */
	r = (struct sreader){ .p = sb.data, .len = sb.len };
	assert_int_equal(pci_dev_load(f->b, &r, err, sizeof(err)), 0);
	host->ops->load_end(host);

	assert_true(f->a->bars[1].mapped);
	assert_true(f->b->bars[1].mapped);
	f->mem.reads = 0;
	assert_int_equal(bus_read(&f->vm.mmio, fw_b, &v, 4), 0);
	assert_int_equal(bus_read(&f->vm.mmio, moved_b, &v, 4), 0);
	assert_int_equal(f->mem.reads, 2);
	assert_int_equal(bus_read(&f->vm.mmio, fw_a, &v, 4), -ENOENT);
	sbuf_free(&sa);
	sbuf_free(&sb);
}

static void test_location(void **state)
{
	struct fixture *f = *state;
	char buf[32];

	pci_dev_location(f->a, buf, sizeof(buf));
	assert_string_equal(buf, "unplugged");
	assert_int_equal(pci_host_add(f->vm.pci, f->a, 5), 0);
	pci_dev_location(f->a, buf, sizeof(buf));
	assert_string_equal(buf, "00:05.0");
}

static void test_host_state(void **state)
{
	struct fixture *f = *state;
	struct device *dev = pci_host_device(f->vm.pci);
	uint32_t v = 0x80000810, out = 0;
	struct sbuf sb = { 0 };
	struct sreader r;
	char err[160];

	assert_int_equal(pci_host_pio(f->vm.pci, 0xcf8, &v, 4, true), 0);
	assert_int_equal(dev->ops->save(dev, &sb), 0);
	dev->ops->reset(dev);
	assert_int_equal(pci_host_pio(f->vm.pci, 0xcf8, &out, 4, false), 0);
	assert_int_equal(out, 0);
	r = (struct sreader){ .p = sb.data, .len = sb.len };
	assert_int_equal(dev->ops->load(dev, &r, err, sizeof(err)), 0);
	assert_int_equal(pci_host_pio(f->vm.pci, 0xcf8, &out, 4, false), 0);
	assert_int_equal(out, 0x80000810);
	sbuf_free(&sb);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
		T(test_readonly_header),
		T(test_command_wmask),
		T(test_status_w1c),
		T(test_generic_masks),
		T(test_capabilities),
		T(test_bar_sizing),
		T(test_bar_init_errors),
		T(test_bar_assign_and_map),
		T(test_bar_overlap_stays_dark),
		T(test_bar_overlap_within_device),
		T(test_load_maps_bars_in_one_pass),
		T(test_location),
		T(test_slots),
		T(test_config_ports),
		T(test_bar_programming_via_ports),
		T(test_intx),
		T(test_intx_routes),
		T(test_state_roundtrip),
		T(test_host_state),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
