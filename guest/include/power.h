#ifndef GUEST_POWER_H
#define GUEST_POWER_H

#include <compiler.h>

void __noreturn machine_poweroff(void);
void __noreturn machine_reboot(void);
void __noreturn machine_triple_fault(void);
void __noreturn machine_page_fault(void);

#endif
