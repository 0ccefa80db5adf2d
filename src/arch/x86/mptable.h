/* SPDX-License-Identifier: MIT */
#ifndef FVMM_ARCH_X86_MPTABLE_H
#define FVMM_ARCH_X86_MPTABLE_H

#include <stddef.h>
#include <stdint.h>

/*
 * Intel MultiProcessor Specification 1.4 tables, which fvmm uses instead of
 * ACPI to describe CPUs, the IOAPIC and interrupt routing.
 *
 * PCI INTx of every bus-0 slot is listed up front (hot-plugged root ports
 * need no table change): device D pin P (0 = INTA) reaches IOAPIC pin
 * MP_PCI_GSI(D, P), level-triggered, active low.  ISA IRQ n is pin n, edge.
 */
#define MP_IOAPIC_ADDR		0xFEC00000U
#define MP_LAPIC_ADDR		0xFEE00000U
#define MP_PCI_BUS		0
/*
 * ISA's MP bus id sits above every PCI bus number fvmm hands out (root port k
 * has secondary bus k + 1), so no PCI bus is ever typed ISA.
 */
#define MP_ISA_BUS		32
#define MP_PCI_GSI(dev, pin)	(16 + (((dev) + (pin)) & 3))

/*
 * Build the floating pointer + configuration table into buf, which will be
 * placed at guest physical address gpa.  Returns the bytes used, or -ENOSPC.
 */
int mptable_build(uint8_t *buf, size_t size, uint32_t gpa, unsigned nr_cpus);

/* Byte checksum helper: sum of bytes, for tests and the builder. */
uint8_t mp_checksum(const uint8_t *p, size_t len);

#endif
