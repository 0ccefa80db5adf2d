// SPDX-License-Identifier: MIT
#include "arch/x86/cpuid.h"

#define CPUID_1_ECX_HYPERVISOR	(1U << 31)
#define CPUID_1_EDX_HTT		(1U << 28)
#define KVM_CPUID_SIGNATURE	0x40000000U
#define KVM_CPUID_FEATURES	0x40000001U
#define HV_CPUID_TIMING		0x40000010U
/* KVM's LAPIC timer counts at 1 GHz (one bus cycle a nanosecond). */
#define KVM_APIC_BUS_KHZ	1000000U

unsigned cpuid_bits_for(unsigned n)
{
	unsigned bits = 0;

	while ((1U << bits) < n)
		bits++;
	return bits;
}

static void adjust_leaf1(struct kvm_cpuid_entry2 *e, unsigned index,
			 unsigned nr)
{
	e->ebx &= 0x0000ffff;
	e->ebx |= index << 24;
	e->ebx |= (nr > 255 ? 255 : nr) << 16;
	if (nr > 1)
		e->edx |= CPUID_1_EDX_HTT;
	else
		e->edx &= ~CPUID_1_EDX_HTT;
	e->ecx |= CPUID_1_ECX_HYPERVISOR;
}

static void adjust_leaf4(struct kvm_cpuid_entry2 *e, unsigned nr)
{
	if (!(e->eax & 0x1f))	/* null cache type ends the list */
		return;
	e->eax &= 0x3fff;	/* cores and sharing: ours, not the host's */
	e->eax |= (nr - 1) << 26;
}

/* Extended topology: level 0 = SMT (1 thread), level 1 = core (nr). */
static void adjust_topology(struct kvm_cpuid_entry2 *e, unsigned index,
			    unsigned nr)
{
	unsigned level = e->index;

	e->edx = index;
	switch (level) {
	case 0:
		e->eax = 0;
		e->ebx = 1;
		e->ecx = 1 << 8 | level;
		break;
	case 1:
		e->eax = cpuid_bits_for(nr);
		e->ebx = nr;
		e->ecx = 2 << 8 | level;
		break;
	default:
		e->eax = 0;
		e->ebx = 0;
		e->ecx = level;
		break;
	}
}

void cpuid_adjust(struct kvm_cpuid2 *c, unsigned index, unsigned nr)
{
	for (unsigned i = 0; i < c->nent; i++) {
		struct kvm_cpuid_entry2 *e = &c->entries[i];

		switch (e->function) {
		case 1:
			adjust_leaf1(e, index, nr);
			break;
		case 4:
			adjust_leaf4(e, nr);
			break;
		case 0xb:
		case 0x1f:
			adjust_topology(e, index, nr);
			break;
		case KVM_CPUID_SIGNATURE:
			/* "KVMKVMKVM\0\0\0": guests look for it to use kvmclock. */
			e->eax = KVM_CPUID_FEATURES;
			e->ebx = 0x4b4d564b;
			e->ecx = 0x564b4d56;
			e->edx = 0x4d;
			break;
		default:
			break;
		}
	}
}

void cpuid_add_timing_leaf(struct kvm_cpuid2 *c, uint32_t tsc_khz)
{
	struct kvm_cpuid_entry2 *e;

	if (!tsc_khz)
		return;
	for (unsigned i = 0; i < c->nent; i++) {
		e = &c->entries[i];
		if (e->function == KVM_CPUID_SIGNATURE)
			e->eax = HV_CPUID_TIMING;
		if (e->function == HV_CPUID_TIMING)
			return;		/* already there: keep KVM's */
	}
	e = &c->entries[c->nent++];
	*e = (struct kvm_cpuid_entry2){
		.function = HV_CPUID_TIMING, .eax = tsc_khz,
		.ebx = KVM_APIC_BUS_KHZ,
	};
}
