/* GDT, TSS, IDT and interrupt dispatch. */
#ifndef GUEST_DESC_H
#define GUEST_DESC_H

#include <types.h>

/* Layout pushed by isr.S: general registers, then vector/error, then the
 * hardware frame. */
struct irq_regs {
	u64 r15, r14, r13, r12, r11, r10, r9, r8;
	u64 rbp, rdi, rsi, rdx, rcx, rbx, rax;
	u64 vector, error;
	u64 rip, cs, rflags, rsp, ss;
};

typedef void (*irq_handler_t)(struct irq_regs *regs);

void gdt_load_cpu(unsigned int cpu, u64 ist_top);
void *tss_rsp0_slot(unsigned int cpu);
void idt_init(void);
void idt_load(void);
int irq_register(u8 vector, irq_handler_t handler);
void idt_set_raw(u8 vec, void (*entry)(void), unsigned int dpl);
void idt_reset(u8 vec);
void __attribute__((noreturn)) exception_fatal(struct irq_regs *regs);

#endif
