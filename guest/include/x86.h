/* CPU registers, MSRs, CPUID and interrupt flag helpers. */
#ifndef GUEST_X86_H
#define GUEST_X86_H

#include <types.h>

#define MSR_APIC_BASE		0x0000001b
#define MSR_EFER		0xc0000080

#define X86_CR0_PE		(1u << 0)
#define X86_CR0_WP		(1u << 16)
#define X86_CR0_NW		(1u << 29)
#define X86_CR0_CD		(1u << 30)
#define X86_CR0_PG		(1u << 31)
#define X86_CR4_PAE		(1u << 5)
#define X86_EFER_LME		(1u << 8)

#define X86_EFLAGS_IF		(1u << 9)

/*
 * Selectors.  SYSRET loads CS = STAR[63:48] + 16 and SS = STAR[63:48] + 8,
 * so the user data descriptor sits right below the user code one, with an
 * unused (32-bit user code) slot at USER_STAR_BASE.  The RPL-3 forms are
 * USER_CS | 3 and USER_DS | 3.
 */
#define KERNEL_CS		0x08
#define KERNEL_DS		0x10
#define USER_STAR_BASE		0x18
#define USER_DS			0x20
#define USER_CS			0x28

static inline void cpuid(u32 leaf, u32 sub, u32 *a, u32 *b, u32 *c, u32 *d)
{
	asm volatile("cpuid"
		     : "=a"(*a), "=b"(*b), "=c"(*c), "=d"(*d)
		     : "a"(leaf), "c"(sub));
}

static inline u64 rdmsr(u32 msr)
{
	u32 lo, hi;

	asm volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
	return ((u64)hi << 32) | lo;
}

static inline void wrmsr(u32 msr, u64 v)
{
	asm volatile("wrmsr" : : "c"(msr), "a"((u32)v), "d"((u32)(v >> 32)));
}

static inline u64 rdtsc(void)
{
	u32 lo, hi;

	asm volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((u64)hi << 32) | lo;
}

static inline u64 read_cr0(void)
{
	u64 v;

	asm volatile("mov %%cr0, %0" : "=r"(v));
	return v;
}

static inline u64 read_cr2(void)
{
	u64 v;

	asm volatile("mov %%cr2, %0" : "=r"(v));
	return v;
}

static inline u64 read_cr3(void)
{
	u64 v;

	asm volatile("mov %%cr3, %0" : "=r"(v));
	return v;
}

static inline void write_cr3(u64 v)
{
	asm volatile("mov %0, %%cr3" : : "r"(v) : "memory");
}

static inline u64 read_cr4(void)
{
	u64 v;

	asm volatile("mov %%cr4, %0" : "=r"(v));
	return v;
}

/* The privilege level we run at (reading CS is allowed in ring 3). */
static inline unsigned int current_cpl(void)
{
	u16 cs;

	asm volatile("mov %%cs, %0" : "=r"(cs));
	return cs & 3;
}

static inline void cpu_relax(void)
{
	asm volatile("pause" ::: "memory");
}

static inline void irq_disable(void)
{
	asm volatile("cli" ::: "memory");
}

static inline void irq_enable(void)
{
	asm volatile("sti" ::: "memory");
}

/* sti takes effect after the next instruction, so no interrupt is lost. */
static inline void safe_halt(void)
{
	asm volatile("sti; hlt" ::: "memory");
}

static inline u64 irq_save(void)
{
	u64 flags;

	asm volatile("pushfq; popq %0; cli" : "=r"(flags) : : "memory");
	return flags;
}

static inline void irq_restore(u64 flags)
{
	if (flags & X86_EFLAGS_IF)
		irq_enable();
}

/* Initial APIC id from CPUID: usable before (and without) the LAPIC mapping. */
static inline u32 cpuid_apic_id(void)
{
	u32 a, b, c, d;

	cpuid(1, 0, &a, &b, &c, &d);
	return b >> 24;
}

static inline void __attribute__((noreturn)) halt_forever(void)
{
	for (;;)
		asm volatile("cli; hlt" ::: "memory");
}

#endif
