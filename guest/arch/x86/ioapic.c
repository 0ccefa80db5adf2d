/*
 * IOAPIC redirection.  Pins come out of reset masked and nothing before us
 * unmasks them, so only the pins we use are programmed (each register access
 * is two VM exits).
 */

#include <apic.h>
#include <errno.h>
#include <io.h>
#include <platform.h>
#include <printk.h>

#define IOREGSEL	0x00
#define IOWIN		0x10
#define IOAPIC_VER	0x01
#define IOAPIC_REDTBL(pin)	(0x10 + 2 * (pin))

#define RTE_ACTIVE_LOW	(1u << 13)
#define RTE_LEVEL	(1u << 15)
#define RTE_MASKED	(1u << 16)

static u32 ioapic_read(u64 base, u32 reg)
{
	mmio_write32(base + IOREGSEL, reg);
	return mmio_read32(base + IOWIN);
}

static void ioapic_write(u64 base, u32 reg, u32 v)
{
	mmio_write32(base + IOREGSEL, reg);
	mmio_write32(base + IOWIN, v);
}

int ioapic_route_isa_irq(unsigned int irq, u8 vector, u32 dest_apic_id)
{
	struct isa_irq_route r;
	unsigned int max_pin;
	u64 base;
	u32 lo;
	int ret;

	ret = platform_isa_route(irq, &r);
	if (ret) {
		pr_err("ioapic: no route for ISA IRQ %u\n", irq);
		return ret;
	}
	base = platform.ioapics[r.ioapic].addr;
	max_pin = (ioapic_read(base, IOAPIC_VER) >> 16) & 0xff;
	if (r.pin > max_pin) {
		pr_err("ioapic: ISA IRQ %u -> pin %u, but IOAPIC %u has %u pins\n",
		       irq, r.pin, platform.ioapics[r.ioapic].id, max_pin + 1);
		return -ERANGE;
	}
	lo = vector | (r.active_low ? RTE_ACTIVE_LOW : 0) |
	     (r.level ? RTE_LEVEL : 0);
	/* Destination first: the entry is live as soon as the mask clears. */
	ioapic_write(base, IOAPIC_REDTBL(r.pin) + 1, dest_apic_id << 24);
	ioapic_write(base, IOAPIC_REDTBL(r.pin), lo);
	return 0;
}

/* The IOAPIC holding global interrupt gsi, and its pin, or -ENOENT. */
static int gsi_to_pin(unsigned int gsi, u64 *base, unsigned int *pin)
{
	unsigned int i, max_pin;

	for (i = 0; i < platform.nr_ioapics; i++) {
		const struct platform_ioapic *io = &platform.ioapics[i];

		if (gsi < io->gsi_base)
			continue;
		max_pin = (ioapic_read(io->addr, IOAPIC_VER) >> 16) & 0xff;
		if (gsi - io->gsi_base > max_pin)
			continue;
		*base = io->addr;
		*pin = gsi - io->gsi_base;
		return 0;
	}
	return -ENOENT;
}

/* PCI INTx lines (MP table bus-0 entries): level or edge, either polarity. */
int ioapic_route_gsi(unsigned int gsi, u8 vector, u32 dest_apic_id,
		     bool level, bool active_low)
{
	unsigned int pin;
	u64 base;

	if (gsi_to_pin(gsi, &base, &pin)) {
		pr_err("ioapic: no IOAPIC has GSI %u\n", gsi);
		return -ENOENT;
	}
	ioapic_write(base, IOAPIC_REDTBL(pin) + 1, dest_apic_id << 24);
	ioapic_write(base, IOAPIC_REDTBL(pin), vector |
		     (active_low ? RTE_ACTIVE_LOW : 0) | (level ? RTE_LEVEL : 0));
	return 0;
}

/* A level line whose device is gone must not keep interrupting. */
void ioapic_mask_gsi(unsigned int gsi)
{
	unsigned int pin;
	u64 base;

	if (!gsi_to_pin(gsi, &base, &pin))
		ioapic_write(base, IOAPIC_REDTBL(pin), RTE_MASKED);
}
