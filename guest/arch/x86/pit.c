/*
 * PIT channel 2, used once as a stopwatch to calibrate the TSC and LAPIC
 * timer.  Channel 2's gate and output are visible in port 0x61, so it can be
 * polled without interrupts and without touching the speaker.
 */

#include <io.h>
#include <time.h>

#define PIT_CH2		0x42
#define PIT_CMD		0x43
#define PORT_B		0x61

#define PORTB_GATE2	0x01
#define PORTB_SPEAKER	0x02
#define PORTB_OUT2	0x20

/* Channel 2, lobyte/hibyte, mode 0 (interrupt on terminal count), binary. */
#define PIT_CMD_CH2_MODE0	0xb0

/* OUT2 goes high when `count` ticks of 1.193182 MHz have elapsed. */
void pit_ch2_start(u16 count)
{
	outb(PORT_B, (inb(PORT_B) & ~PORTB_SPEAKER) | PORTB_GATE2);
	outb(PIT_CMD, PIT_CMD_CH2_MODE0);
	outb(PIT_CH2, count & 0xff);
	outb(PIT_CH2, count >> 8);	/* counting starts here */
}

bool pit_ch2_expired(void)
{
	return inb(PORT_B) & PORTB_OUT2;
}

void pit_ch2_stop(void)
{
	outb(PORT_B, inb(PORT_B) & ~(PORTB_GATE2 | PORTB_SPEAKER));
}
