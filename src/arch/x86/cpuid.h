/* SPDX-License-Identifier: MIT */
#ifndef FVMM_ARCH_X86_CPUID_H
#define FVMM_ARCH_X86_CPUID_H

#include <linux/kvm.h>

/*
 * Turn KVM_GET_SUPPORTED_CPUID's answer into what vCPU `index` of `nr`
 * should see: its APIC id, a topology of nr single-threaded cores in one
 * package (leaves 1, 4, 0xB, 0x1F), and the hypervisor bit and leaves.
 * Pure function over the entry array, so it is unit-tested without KVM.
 */
void cpuid_adjust(struct kvm_cpuid2 *c, unsigned index, unsigned nr);

/* Bits needed to hold n distinct values (0 for n <= 1). */
unsigned cpuid_bits_for(unsigned n);

#endif
