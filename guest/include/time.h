/* Time: TSC for delays and uptime, LAPIC tick for coarse timeouts. */
#ifndef GUEST_TIME_H
#define GUEST_TIME_H

#include <types.h>

#define HZ	100

extern volatile u64 jiffies;

int time_init(void);
void timer_tick_start(void);
u64 tsc_khz(void);
u64 lapic_timer_khz(void);
u64 tsc_to_us(u64 cycles);
u64 uptime_us(void);
void udelay(u64 us);

void pit_ch2_start(u16 count);
bool pit_ch2_expired(void);
void pit_ch2_stop(void);

#endif
