#ifndef GUEST_SERIAL_H
#define GUEST_SERIAL_H

#include <types.h>

#define COM1_PORT	0x3f8
#define COM1_IRQ	4

void serial_init(void);
void serial_write(const char *s, size_t n);
int serial_enable_rx_irq(void);
int serial_getc(void);
int serial_getc_wait(void);
int serial_set_idle(void (*fn)(void));
bool serial_input_pending(void);

#endif
