/*
 * Power off, reset and the deliberate triple fault.
 *
 * Power off writes SLP_EN with SLP_TYP 0 to PM1a_CNT at 0x604, where q35
 * firmware (SeaBIOS) puts the ACPI PM block and where fvmm emulates it.
 * Reset pulses the reset line through the i8042 (command 0xfe).  The VMM
 * acts on these asynchronously, so wait a while before calling it a failure.
 */

#include <io.h>
#include <power.h>
#include <printk.h>
#include <time.h>
#include <x86.h>

#define PM1A_CNT	0x604
#define PM1_SLP_EN	0x2000
#define I8042_CMD	0x64
#define I8042_RESET	0xfe
#define GRACE_US	1000000

void machine_poweroff(void)
{
	irq_disable();
	outw(PM1A_CNT, PM1_SLP_EN);
	udelay(GRACE_US);
	pr_err("power off via port %#x failed, halting\n", PM1A_CNT);
	halt_forever();
}

void machine_reboot(void)
{
	irq_disable();
	outb(I8042_CMD, I8042_RESET);
	udelay(GRACE_US);
	pr_err("reset via i8042 port %#x failed, halting\n", I8042_CMD);
	halt_forever();
}

/* An empty IDT makes ud2 fault, that fault double-fault, and that shut
 * the CPU down: the VMM sees a triple fault with our registers intact.
 * Not int3: software-assisted KVM (kvm_pvm) cannot emulate int3 through
 * an empty IDT and reports an emulation failure instead. */
void machine_triple_fault(void)
{
	struct {
		u16 limit;
		u64 base;
	} __attribute__((packed)) empty = { 0, 0 };

	irq_disable();
	asm volatile("lidt %0\n\tud2" : : "m"(empty) : "memory");
	halt_forever();
}

/* Reads 512 GiB, beyond the identity map: exercises the exception report. */
void machine_page_fault(void)
{
	(void)*(volatile u64 *)(512ULL << 30);
	halt_forever();
}
