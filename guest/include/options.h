#ifndef GUEST_OPTIONS_H
#define GUEST_OPTIONS_H

#include <types.h>

enum crash_mode {
	CRASH_NONE,
	CRASH_TRIPLE,
	CRASH_PAGEFAULT,
};

struct boot_options {
	bool poweroff;
	bool quiet;
	enum crash_mode crash;
};

extern struct boot_options opts;

int options_parse(const char *cmdline);
void options_help(void);

#endif
