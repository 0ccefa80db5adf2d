/*
 * CPUs, IOAPICs and ISA interrupt routing as described by the firmware
 * tables (Intel MP table 1.4, or the ACPI MADT as a fallback).
 */
#ifndef GUEST_PLATFORM_H
#define GUEST_PLATFORM_H

#include <types.h>

#define MAX_CPUS	64
#define MAX_IOAPICS	8
#define ISA_IRQS	16

struct platform_cpu {
	u8 apic_id;
	bool bsp;
};

struct platform_ioapic {
	u8 id;
	u32 addr;
	u32 gsi_base;
};

struct isa_irq_route {
	bool valid;
	u8 ioapic;		/* index into platform.ioapics */
	u8 pin;
	bool active_low;
	bool level;
};

struct platform {
	const char *source;
	u32 lapic_addr;
	unsigned int nr_cpus;
	struct platform_cpu cpus[MAX_CPUS];
	unsigned int nr_ioapics;
	struct platform_ioapic ioapics[MAX_IOAPICS];
	struct isa_irq_route isa[ISA_IRQS];
};

extern struct platform platform;

int mptable_probe(struct platform *p);
int acpi_madt_probe(struct platform *p, u64 rsdp, bool scan);
int platform_isa_route(unsigned int irq, struct isa_irq_route *out);

#endif
