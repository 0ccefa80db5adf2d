/* SPDX-License-Identifier: MIT */
#ifndef FVMM_MIGRATION_CPU_STATE_H
#define FVMM_MIGRATION_CPU_STATE_H

/*
 * What KVM holds for the guest and fvmm must carry across a migration:
 * each vCPU's architectural state, and the VM-wide in-kernel devices (PIC,
 * IOAPIC, PIT) and kvmclock.  Split in two so that the untrusted half can be
 * fuzzed without KVM:
 *
 *   snapshot_get/put: KVM ioctls <-> struct (needs a vCPU / VM fd; the
 *                     vCPU must not be inside KVM_RUN)
 *   snapshot_encode/decode: struct <-> bytes of a MIG_REC_CPU /
 *                     MIG_REC_VM_KSTATE record (pure, bounds-checked)
 *
 * The order of the put ioctls is the one KVM requires, written down in
 * docs/migration-stream.md.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/kvm.h>

#include "core/state.h"

#define CPU_SNAP_MAX_MSRS	64
#define CPU_SNAP_XSAVE_MAX	16384	/* bytes; KVM_GET_XSAVE2 may be larger than 4 KiB */

struct cpu_snapshot {
	uint32_t index;			/* vCPU index */
	struct kvm_regs regs;
	struct kvm_sregs sregs;
	uint32_t xsave_len;		/* bytes used in xsave */
	uint8_t xsave[CPU_SNAP_XSAVE_MAX];
	struct kvm_xcrs xcrs;
	uint32_t nr_msrs;
	struct kvm_msr_entry msrs[CPU_SNAP_MAX_MSRS];
	struct kvm_lapic_state lapic;
	struct kvm_vcpu_events events;
	struct kvm_mp_state mp_state;
	struct kvm_debugregs debugregs;
};

struct vm_ksnapshot {
	struct kvm_irqchip pic_master;
	struct kvm_irqchip pic_slave;
	struct kvm_irqchip ioapic;
	struct kvm_pit_state2 pit;
	struct kvm_clock_data clock;
};

/* The MSRs fvmm carries, filtered against KVM_GET_MSR_INDEX_LIST once. */
int cpu_msr_list_init(int kvm_fd);

int cpu_snapshot_get(int vcpu_fd, uint32_t index, struct cpu_snapshot *s);
int cpu_snapshot_put(int vcpu_fd, const struct cpu_snapshot *s, char *err,
		     size_t errlen);
int cpu_snapshot_encode(const struct cpu_snapshot *s, struct sbuf *out);
/* Untrusted input; err gets a one-line reason. */
int cpu_snapshot_decode(struct sreader *in, struct cpu_snapshot *s, char *err,
			size_t errlen);

int vm_ksnapshot_get(int vm_fd, struct vm_ksnapshot *s);
/* Sets the clock last, so guest time resumes where it stopped. */
int vm_ksnapshot_put(int vm_fd, const struct vm_ksnapshot *s, char *err,
		     size_t errlen);
int vm_ksnapshot_encode(const struct vm_ksnapshot *s, struct sbuf *out);
int vm_ksnapshot_decode(struct sreader *in, struct vm_ksnapshot *s, char *err,
			size_t errlen);

#endif
