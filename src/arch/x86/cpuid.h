/* SPDX-License-Identifier: MIT */
#ifndef FVMM_ARCH_X86_CPUID_H
#define FVMM_ARCH_X86_CPUID_H

#include <stdint.h>
#include <linux/kvm.h>

/*
 * Turn KVM_GET_SUPPORTED_CPUID's answer into what vCPU `index` of `nr`
 * should see: its APIC id, a topology of nr single-threaded cores in one
 * package (leaves 1, 4, 0xB, 0x1F), and the hypervisor bit and leaves.
 * Pure function over the entry array, so it is unit-tested without KVM.
 */
void cpuid_adjust(struct kvm_cpuid2 *c, unsigned index, unsigned nr);

/*
 * Add the hypervisor timing leaf 0x40000010 (EAX = TSC kHz, EBX = LAPIC
 * timer bus kHz), the convention VMware introduced and QEMU offers, so the
 * guest need not calibrate against the PIT: on a software-assisted KVM every
 * PIT poll is a slow exit and calibration is both slow and imprecise.  c must
 * have room for one more entry than c->nent.  No-op when tsc_khz is 0.
 */
void cpuid_add_timing_leaf(struct kvm_cpuid2 *c, uint32_t tsc_khz);

/* Bits needed to hold n distinct values (0 for n <= 1). */
unsigned cpuid_bits_for(unsigned n);

#endif
