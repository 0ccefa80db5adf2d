/*
 * IDT, interrupt dispatch and the fatal exception report.  All 256 vectors
 * point at the uniform stubs in isr.S; exceptions are fatal and dump the
 * machine state, device vectors go to registered handlers and get an EOI.
 * The stubs work from ring 3 too: the CPU switches to the TSS RSP0 stack
 * (user.c) and iretq returns to ring 3.  An exception in ring 3 ends only
 * the ring-3 context (user_fault), not the machine.
 */

#include <apic.h>
#include <desc.h>
#include <errno.h>
#include <printk.h>
#include <user.h>
#include <x86.h>

#define IDT_ENTRIES	256
#define ISR_STUB_SIZE	16
#define GATE_INTR	0x8e	/* present, DPL 0, 64-bit interrupt gate */
#define GATE_DPL_SHIFT	5
#define VEC_DF		8
#define NR_EXCEPTIONS	32

struct idt_entry {
	u16 off_lo;
	u16 sel;
	u8 ist;
	u8 type;
	u16 off_mid;
	u32 off_hi;
	u32 reserved;
} __attribute__((packed));

struct desc_ptr {
	u16 limit;
	u64 base;
} __attribute__((packed));

extern const char isr_stubs[];

static struct idt_entry idt[IDT_ENTRIES] __aligned(16);
static irq_handler_t handlers[IDT_ENTRIES];
static u8 in_exception[256];		/* by APIC id: nested fault guard */
static bool warned_vector[IDT_ENTRIES];

/* Bumped by every interrupt (not exception), on any CPU, and by
 * user_wake_cpu(): see user_idle(). */
volatile u64 irq_seq;

void interrupt_dispatch(struct irq_regs *regs);

/* Two 64-bit stores per gate: this loop runs 256 times at boot. */
static void set_gate(unsigned int vec, u64 addr, u8 ist)
{
	u64 *e = (u64 *)&idt[vec];

	e[0] = (addr & 0xffff) | ((u64)KERNEL_CS << 16) | ((u64)ist << 32) |
	       ((u64)GATE_INTR << 40) | ((addr >> 16 & 0xffff) << 48);
	e[1] = addr >> 32;
}

/*
 * Points a vector at a bare entry of user.c (no isr_common frame); DPL 3
 * lets ring 3 raise it with int3.  One store of the low word, which holds
 * the type: other CPUs may take this vector right now.
 */
void idt_set_raw(u8 vec, void (*entry)(void), unsigned int dpl)
{
	u64 *e = (u64 *)&idt[vec], addr = (u64)entry;
	u64 type = GATE_INTR | (dpl & 3) << GATE_DPL_SHIFT;

	e[1] = addr >> 32;
	WRITE_ONCE(e[0], (addr & 0xffff) | ((u64)KERNEL_CS << 16) | (type << 40) |
			 ((addr >> 16 & 0xffff) << 48));
}

void idt_reset(u8 vec)
{
	set_gate(vec, (u64)isr_stubs + vec * ISR_STUB_SIZE, vec == VEC_DF ? 1 : 0);
}

void idt_load(void)
{
	struct desc_ptr idtr = { sizeof(idt) - 1, (u64)idt };

	asm volatile("lidt %0" : : "m"(idtr) : "memory");
}

void idt_init(void)
{
	unsigned int v;

	for (v = 0; v < IDT_ENTRIES; v++)
		set_gate(v, (u64)isr_stubs + v * ISR_STUB_SIZE, v == VEC_DF ? 1 : 0);
	idt_load();
}

int irq_register(u8 vector, irq_handler_t handler)
{
	if (vector < NR_EXCEPTIONS)
		return -EINVAL;
	if (handlers[vector] && handlers[vector] != handler)
		return -EBUSY;
	handlers[vector] = handler;
	return 0;
}

static const char *exception_name(u64 vec)
{
	static const char *const names[NR_EXCEPTIONS] = {
		"#DE divide error", "#DB debug", "NMI", "#BP breakpoint",
		"#OF overflow", "#BR bound range", "#UD invalid opcode",
		"#NM device not available", "#DF double fault",
		"coprocessor segment overrun", "#TS invalid TSS",
		"#NP segment not present", "#SS stack fault",
		"#GP general protection", "#PF page fault", "reserved",
		"#MF x87 error", "#AC alignment check", "#MC machine check",
		"#XM SIMD exception", "#VE virtualization exception",
		"#CP control protection",
	};

	if (vec < NR_EXCEPTIONS && names[vec])
		return names[vec];
	return "reserved";
}

static void dump_regs3(const char *n1, u64 v1, const char *n2, u64 v2,
		       const char *n3, u64 v3)
{
	printf("  %-3s %016llx  %-3s %016llx  %-3s %016llx\n",
	       n1, v1, n2, v2,
	       n3, v3);
}

void exception_fatal(struct irq_regs *r)
{
	u32 apic = cpuid_apic_id() & 0xff;

	irq_disable();
	if (in_exception[apic]++)
		halt_forever();		/* faulted while reporting: give up quietly */
	console_break_lock();
	printf("\nEXCEPTION vector %llu (%s) on apic %u, error code %#llx\n",
	       r->vector, exception_name(r->vector), apic,
	       r->error);
	dump_regs3("RIP", r->rip, "CS", r->cs, "RFL", r->rflags);
	dump_regs3("RSP", r->rsp, "SS", r->ss, "CR2", read_cr2());
	dump_regs3("CR0", read_cr0(), "CR3", read_cr3(), "CR4", read_cr4());
	dump_regs3("RAX", r->rax, "RBX", r->rbx, "RCX", r->rcx);
	dump_regs3("RDX", r->rdx, "RSI", r->rsi, "RDI", r->rdi);
	dump_regs3("RBP", r->rbp, "R8", r->r8, "R9", r->r9);
	dump_regs3("R10", r->r10, "R11", r->r11, "R12", r->r12);
	dump_regs3("R13", r->r13, "R14", r->r14, "R15", r->r15);
	printf("system halted\n");
	halt_forever();
}

void interrupt_dispatch(struct irq_regs *regs)
{
	u64 vec = regs->vector;

	if (vec < NR_EXCEPTIONS) {
		if ((regs->cs & 3) == 3)
			user_fault(regs);
		exception_fatal(regs);
	}
	__atomic_fetch_add(&irq_seq, 1, __ATOMIC_RELAXED);
	/* Spurious LAPIC and (masked, LINT0-disconnected) 8259 vectors take no EOI. */
	if (vec == VEC_SPURIOUS || (vec >= VEC_PIC_BASE && vec < VEC_PIC_BASE + 16))
		return;
	if (handlers[vec]) {
		handlers[vec](regs);
	} else if (!warned_vector[vec]) {
		warned_vector[vec] = true;
		pr_warn("unexpected interrupt vector %#llx\n",
			vec);
	}
	lapic_eoi();
}
