/*
 * GDT and per-CPU TSS.  Long mode needs only a code and a data descriptor
 * per privilege level; the user ones follow the order SYSRET wants (see
 * x86.h).  The TSS holds IST1, a known-good stack for #DF so a kernel stack
 * overflow still ends in a register dump instead of a silent triple fault,
 * and RSP0, the stack an interrupt taken in ring 3 switches to (user.c).
 */

#include <desc.h>
#include <platform.h>
#include <x86.h>

#define GDT_CODE64	0x00af9a000000ffffULL
#define GDT_DATA	0x00cf92000000ffffULL
#define GDT_USER_CODE64	0x00affa000000ffffULL	/* DPL 3 */
#define GDT_USER_DATA	0x00cff2000000ffffULL	/* DPL 3 */
#define GDT_FIRST_TSS	6
#define TSS_TYPE_AVAIL	0x9ULL
#define DESC_PRESENT	(1ULL << 47)

struct tss {
	u32 reserved0;
	u64 rsp[3];
	u64 reserved1;
	u64 ist[7];
	u64 reserved2;
	u16 reserved3;
	u16 iomap_base;
} __attribute__((packed));

struct desc_ptr {
	u16 limit;
	u64 base;
} __attribute__((packed));

static u64 gdt[GDT_FIRST_TSS + 2 * MAX_CPUS] __aligned(16) = {
	[KERNEL_CS / 8] = GDT_CODE64,
	[KERNEL_DS / 8] = GDT_DATA,
	[USER_DS / 8] = GDT_USER_DATA,
	[USER_CS / 8] = GDT_USER_CODE64,
};
static struct tss tss[MAX_CPUS] __aligned(16);

static void set_tss_desc(unsigned int slot, const struct tss *t)
{
	u64 base = (u64)t, limit = sizeof(*t) - 1;

	gdt[slot] = (limit & 0xffff) | ((base & 0xffffff) << 16) |
		    (TSS_TYPE_AVAIL << 40) | DESC_PRESENT |
		    ((limit >> 16 & 0xf) << 48) | ((base >> 24 & 0xff) << 56);
	gdt[slot + 1] = base >> 32;
}

/* Loads the GDT, reloads every segment register and this CPU's TSS. */
void gdt_load_cpu(unsigned int cpu, u64 ist_top)
{
	unsigned int slot = GDT_FIRST_TSS + 2 * cpu;
	struct desc_ptr gdtr = { sizeof(gdt) - 1, (u64)gdt };
	u64 tmp;

	tss[cpu].ist[0] = ist_top;
	tss[cpu].iomap_base = sizeof(struct tss);
	set_tss_desc(slot, &tss[cpu]);
	asm volatile("lgdt %[gdtr]\n\t"
		     "pushq %[cs]\n\t"
		     "leaq 1f(%%rip), %[tmp]\n\t"
		     "pushq %[tmp]\n\t"
		     "lretq\n"
		     "1:\n\t"
		     "movl %[ds], %k[tmp]\n\t"
		     "movl %k[tmp], %%ds\n\t"
		     "movl %k[tmp], %%es\n\t"
		     "movl %k[tmp], %%ss\n\t"
		     "xorl %k[tmp], %k[tmp]\n\t"
		     "movl %k[tmp], %%fs\n\t"
		     "movl %k[tmp], %%gs\n\t"
		     "ltr %w[tr]"
		     : [tmp] "=&r"(tmp)
		     : [gdtr] "m"(gdtr), [cs] "i"(KERNEL_CS), [ds] "i"(KERNEL_DS),
		       [tr] "r"((u16)(slot * 8))
		     : "memory");
}

/* RSP0: where the CPU switches stacks when an interrupt arrives in ring 3.
 * user_entry.S stores to it on every entry to ring 3.  Not 8-byte aligned
 * (the TSS layout puts it at offset 4), hence void *. */
void *tss_rsp0_slot(unsigned int cpu)
{
	return (u8 *)&tss[cpu] + __builtin_offsetof(struct tss, rsp);
}
