/* Shared between trampoline.S and smp.c. */
#ifndef GUEST_TRAMPOLINE_H
#define GUEST_TRAMPOLINE_H

/* A page below 1 MiB that every PC memory map has as RAM. */
#define TRAMP_BASE	0x8000

#ifndef __ASSEMBLER__
#include <types.h>

/* Natural layout, as laid out at tramp_params in trampoline.S. */
struct tramp_params {
	u32 started;
	u32 cr3;
	u64 stack;
	u64 entry;
	u64 arg;
};

extern const char tramp_start[], tramp_end[], tramp_params[];
#endif

#endif
