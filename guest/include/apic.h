/* Local APIC (xAPIC MMIO mode) and IOAPIC. */
#ifndef GUEST_APIC_H
#define GUEST_APIC_H

#include <types.h>

#define LAPIC_DEFAULT_BASE	0xfee00000u

/* Vector plan: 0x00-0x1f exceptions, 0x20-0x2f the (masked) 8259s. */
#define VEC_PIC_BASE		0x20
#define VEC_ISA_BASE		0x30
#define VEC_TIMER		0xf0
#define VEC_KICK		0xf1	/* IPI: wake a CPU from hlt (user.c) */
#define VEC_LAPIC_ERROR		0xfe
#define VEC_SPURIOUS		0xff

#define LAPIC_TIMER_DIVISOR	16

int lapic_init_bsp(u32 base);
void lapic_init_ap(void);
u32 lapic_id(void);
void lapic_eoi(void);
int lapic_send_init(u32 apic_id);
int lapic_send_sipi(u32 apic_id, u8 vector);
int lapic_send_fixed(u32 apic_id, u8 vector);
void lapic_timer_start(u32 count, u8 vector, bool periodic, bool masked);
u32 lapic_timer_current(void);

int ioapic_route_isa_irq(unsigned int irq, u8 vector, u32 dest_apic_id);
int ioapic_route_gsi(unsigned int gsi, u8 vector, u32 dest_apic_id,
		     bool level, bool active_low);
void ioapic_mask_gsi(unsigned int gsi);

void pic_disable(void);

#endif
