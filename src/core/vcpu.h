/* SPDX-License-Identifier: MIT */
#ifndef FVMM_CORE_VCPU_H
#define FVMM_CORE_VCPU_H

#include <pthread.h>
#include <stdbool.h>
#include <linux/kvm.h>

struct vm;
struct boot_info;

struct vcpu {
	struct vm *vm;
	unsigned index;
	int fd;
	struct kvm_run *run;
	pthread_t thread;
	bool started;
	bool parked;		/* seen by vm_pause() */
};

int vcpu_create(struct vm *vm, struct vcpu *v, unsigned index,
		const struct kvm_cpuid2 *cpuid);
void vcpu_destroy(struct vcpu *v);
/* Boot vCPU state for the 32-bit entry both boot protocols use. */
int vcpu_setup_boot(struct vcpu *v, const struct boot_info *bi);
int vcpu_start(struct vcpu *v);
/* Make KVM_RUN return soon (pause, exit). */
void vcpu_kick(struct vcpu *v);
void vcpu_join(struct vcpu *v);
/* Print registers to stderr (crash reports). */
void vcpu_dump(struct vcpu *v);

/* Install the (empty) kick signal handler once per process. */
int vcpu_signals_init(void);

#endif
