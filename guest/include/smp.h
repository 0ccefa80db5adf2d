#ifndef GUEST_SMP_H
#define GUEST_SMP_H

#include <platform.h>

enum cpu_state {
	CPU_OFFLINE,
	CPU_STARTING,
	CPU_ONLINE,
	CPU_FAILED,
};

struct cpu {
	unsigned int idx;
	u8 apic_id;
	bool bsp;
	int state;
	u64 stack_top;
	u64 ist_top;
	u64 start_us;		/* SIPI to check-in, for the boot log */
};

extern struct cpu cpus[MAX_CPUS];
extern unsigned int nr_cpus;

void smp_early_bsp(void);
void smp_init_bsp(void);
unsigned int smp_boot_aps(void);
unsigned int smp_online(void);
int smp_this_cpu(void);

#endif
