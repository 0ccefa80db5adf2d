#ifndef GUEST_SHELL_H
#define GUEST_SHELL_H

#include <compiler.h>

void __noreturn shell_run(void);

#endif
