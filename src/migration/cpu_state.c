// SPDX-License-Identifier: MIT
/*
 * KVM-held guest state across a migration: each vCPU's registers, FPU,
 * MSRs, LAPIC, pending events and MP state, and the VM's in-kernel PIC,
 * IOAPIC, PIT and kvmclock.  Capture/restore talk to KVM; encode/decode are
 * pure and bounds-checked, for the untrusted stream and the fuzzer.
 *
 * Restore order (cpu_snapshot_put), each step for a reason KVM has:
 *   1. sregs        carries EFER and the APIC base: the LAPIC must be
 *                   enabled (and in the right mode) before its registers
 *                   are written, and EFER decides which MSRs are valid;
 *   2. regs, xsave, xcrs
 *                   plain state; XCR0 after XSAVE so the restored
 *                   components are the enabled ones;
 *   3. MSRs but the TSC deadline
 *                   IA32_TSC written from the host is matched by KVM's TSC
 *                   synchronization across vCPUs written within a second;
 *                   kvmclock MSRs point the guest's pvclock page;
 *   4. MP state     before the LAPIC and events: setting it may reset
 *                   pending INIT/SIPI handling;
 *   5. LAPIC        KVM_SET_LAPIC resets the LAPIC timer, so...
 *   6. TSC deadline ...the deadline MSR is written after it, or it is lost;
 *   7. vCPU events  pending exceptions, interrupts, NMI, SIPI: last, so
 *                   nothing above clears them;
 *   8. debug registers.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "core/util.h"
#include "migration/cpu_state.h"

#define CPU_SNAP_VERSION	1
#define KSNAP_VERSION		1
#define XSAVE_LEGACY_SIZE	4096	/* fvmm enables no dynamic XSAVE feature */
#define MSR_TSC_DEADLINE	0x6e0

/* Architectural and paravirtual MSRs whose value the guest relies on. */
static const uint32_t wanted_msrs[] = {
	0x10,				/* IA32_TSC */
	0x3b,				/* IA32_TSC_ADJUST */
	0x48,				/* IA32_SPEC_CTRL */
	0x174, 0x175, 0x176,		/* SYSENTER_CS/ESP/EIP */
	0x1a0,				/* IA32_MISC_ENABLE */
	0x277,				/* IA32_PAT */
	0x2ff,				/* MTRR default type */
	0x200, 0x201, 0x202, 0x203, 0x204, 0x205, 0x206, 0x207,
	0x208, 0x209, 0x20a, 0x20b, 0x20c, 0x20d, 0x20e, 0x20f,
	0x250, 0x258, 0x259,		/* fixed MTRRs */
	0x268, 0x269, 0x26a, 0x26b, 0x26c, 0x26d, 0x26e, 0x26f,
	0xc0000081, 0xc0000082, 0xc0000083, 0xc0000084, /* STAR..FMASK */
	0xc0000102,			/* KERNEL_GS_BASE */
	0xc0000103,			/* TSC_AUX */
	0x11, 0x12,			/* kvmclock (old) */
	0x4b564d00, 0x4b564d01,		/* kvmclock */
	0x4b564d02,			/* async page fault */
	0x4b564d03,			/* steal time */
	0x4b564d04,			/* PV EOI */
	0x4b564d05,			/* poll control */
	0x4b564d06,			/* async PF interrupt */
	MSR_TSC_DEADLINE,
};

static uint32_t msr_list[CPU_SNAP_MAX_MSRS];
static unsigned nr_msr_list;

int cpu_msr_list_init(int kvm_fd)
{
	struct kvm_msr_list *l;
	unsigned n = 1024;
	int ret = 0;

	l = calloc(1, sizeof(*l) + n * sizeof(l->indices[0]));
	if (!l)
		return -ENOMEM;
	l->nmsrs = n;
	if (ioctl(kvm_fd, KVM_GET_MSR_INDEX_LIST, l) < 0) {
		ret = -errno;
		goto free_list;
	}
	nr_msr_list = 0;
	for (size_t i = 0; i < ARRAY_SIZE(wanted_msrs); i++)
		for (unsigned k = 0; k < l->nmsrs; k++)
			if (l->indices[k] == wanted_msrs[i] &&
			    nr_msr_list < CPU_SNAP_MAX_MSRS)
				msr_list[nr_msr_list++] = wanted_msrs[i];
free_list:
	free(l);
	return ret;
}

static int get_msrs(int fd, struct cpu_snapshot *s)
{
	struct {
		struct kvm_msrs h;
		struct kvm_msr_entry e[CPU_SNAP_MAX_MSRS];
	} m;
	int n;

	memset(&m, 0, sizeof(m));
	m.h.nmsrs = nr_msr_list;
	for (unsigned i = 0; i < nr_msr_list; i++)
		m.e[i].index = msr_list[i];
	n = ioctl(fd, KVM_GET_MSRS, &m);
	if (n < 0)
		return -errno;
	if ((unsigned)n != nr_msr_list)
		return -EIO;
	s->nr_msrs = n;
	memcpy(s->msrs, m.e, n * sizeof(m.e[0]));
	return 0;
}

int cpu_snapshot_get(int fd, uint32_t index, struct cpu_snapshot *s)
{
	struct kvm_xsave *x = (struct kvm_xsave *)s->xsave;

	memset(s, 0, sizeof(*s));
	s->index = index;
	s->xsave_len = XSAVE_LEGACY_SIZE;
	if (ioctl(fd, KVM_GET_REGS, &s->regs) < 0 ||
	    ioctl(fd, KVM_GET_SREGS, &s->sregs) < 0 ||
	    ioctl(fd, KVM_GET_XSAVE, x) < 0 ||
	    ioctl(fd, KVM_GET_XCRS, &s->xcrs) < 0 ||
	    ioctl(fd, KVM_GET_LAPIC, &s->lapic) < 0 ||
	    ioctl(fd, KVM_GET_VCPU_EVENTS, &s->events) < 0 ||
	    ioctl(fd, KVM_GET_MP_STATE, &s->mp_state) < 0 ||
	    ioctl(fd, KVM_GET_DEBUGREGS, &s->debugregs) < 0)
		return -errno;
	return get_msrs(fd, s);
}

/* MSRs with (deadline false) or only (true) the TSC deadline. */
static int put_msrs(int fd, const struct cpu_snapshot *s, bool deadline)
{
	struct {
		struct kvm_msrs h;
		struct kvm_msr_entry e[CPU_SNAP_MAX_MSRS];
	} m;
	int n;

	memset(&m, 0, sizeof(m));
	for (unsigned i = 0; i < s->nr_msrs; i++)
		if ((s->msrs[i].index == MSR_TSC_DEADLINE) == deadline)
			m.e[m.h.nmsrs++] = s->msrs[i];
	if (!m.h.nmsrs)
		return 0;
	n = ioctl(fd, KVM_SET_MSRS, &m);
	if (n < 0)
		return -errno;
	/* KVM stops at the first MSR it refuses and returns how many it took. */
	return (unsigned)n == m.h.nmsrs ? 0 : -(int)(1000 + n);
}

static int put_fail(char *err, size_t errlen, unsigned index, const char *what,
		    int ret)
{
	snprintf(err, errlen, "vCPU %u: %s: %s", index, what, strerror(-ret));
	return ret;
}

#define PUT(req, arg) do {						\
		if (ioctl(fd, req, arg) < 0)				\
			return put_fail(err, errlen, s->index, #req, -errno); \
	} while (0)

int cpu_snapshot_put(int fd, const struct cpu_snapshot *s, char *err,
		     size_t errlen)
{
	int ret;

	PUT(KVM_SET_SREGS, &s->sregs);
	PUT(KVM_SET_REGS, &s->regs);
	PUT(KVM_SET_XSAVE, (struct kvm_xsave *)s->xsave);
	PUT(KVM_SET_XCRS, &s->xcrs);
	ret = put_msrs(fd, s, false);
	if (ret < -1000) {
		snprintf(err, errlen, "vCPU %u: KVM_SET_MSRS refused MSR 0x%x",
			 s->index, s->msrs[-ret - 1000].index);
		return -EINVAL;
	}
	if (ret)
		return put_fail(err, errlen, s->index, "KVM_SET_MSRS", ret);
	PUT(KVM_SET_MP_STATE, &s->mp_state);
	PUT(KVM_SET_LAPIC, &s->lapic);
	ret = put_msrs(fd, s, true);
	if (ret)
		return put_fail(err, errlen, s->index, "TSC deadline",
				ret < -1000 ? -EINVAL : ret);
	PUT(KVM_SET_VCPU_EVENTS, &s->events);
	PUT(KVM_SET_DEBUGREGS, &s->debugregs);
	return 0;
}
#undef PUT

/* ---- encoding ---- */

struct part {
	uint16_t tag;
	size_t off;
	size_t len;
};

enum {
	TAG_REGS = 1, TAG_SREGS, TAG_XSAVE, TAG_XCRS, TAG_MSRS, TAG_LAPIC,
	TAG_EVENTS, TAG_MP_STATE, TAG_DEBUGREGS, TAG_CPU_MAX,
};

#define PART(t, type, m) { t, offsetof(type, m), sizeof(((type *)0)->m) }
static const struct part cpu_parts[] = {
	PART(TAG_REGS, struct cpu_snapshot, regs),
	PART(TAG_SREGS, struct cpu_snapshot, sregs),
	{ TAG_XSAVE, offsetof(struct cpu_snapshot, xsave), XSAVE_LEGACY_SIZE },
	PART(TAG_XCRS, struct cpu_snapshot, xcrs),
	PART(TAG_LAPIC, struct cpu_snapshot, lapic),
	PART(TAG_EVENTS, struct cpu_snapshot, events),
	PART(TAG_MP_STATE, struct cpu_snapshot, mp_state),
	PART(TAG_DEBUGREGS, struct cpu_snapshot, debugregs),
};

static void put_part(struct sbuf *out, uint16_t tag, const void *p,
		     size_t len)
{
	sbuf_put_le(out, tag, 2);
	sbuf_put_le(out, len, 4);
	sbuf_put(out, p, len);
}

int cpu_snapshot_encode(const struct cpu_snapshot *s, struct sbuf *out)
{
	sbuf_put_le(out, CPU_SNAP_VERSION, 4);
	sbuf_put_le(out, s->index, 4);
	for (size_t i = 0; i < ARRAY_SIZE(cpu_parts); i++)
		put_part(out, cpu_parts[i].tag,
			 (const uint8_t *)s + cpu_parts[i].off,
			 cpu_parts[i].len);
	sbuf_put_le(out, TAG_MSRS, 2);
	sbuf_put_le(out, 4 + s->nr_msrs * 12, 4);
	sbuf_put_le(out, s->nr_msrs, 4);
	for (unsigned i = 0; i < s->nr_msrs; i++) {
		sbuf_put_le(out, s->msrs[i].index, 4);
		sbuf_put_le(out, s->msrs[i].data, 8);
	}
	return out->err;
}

static int decode_msrs(struct sreader *in, uint32_t len, struct cpu_snapshot *s,
		       char *err, size_t errlen)
{
	uint64_t n, idx, data;

	if (len < 4 || sread_le(in, &n, 4) || n > CPU_SNAP_MAX_MSRS ||
	    len != 4 + n * 12) {
		snprintf(err, errlen, "vCPU %u: bad MSR list", s->index);
		return -EBADMSG;
	}
	for (unsigned i = 0; i < n; i++) {
		if (sread_le(in, &idx, 4) || sread_le(in, &data, 8))
			return -EBADMSG;
		s->msrs[i] = (struct kvm_msr_entry){ .index = idx,
						     .data = data };
	}
	s->nr_msrs = n;
	return 0;
}

static const struct part *find_part(const struct part *parts, size_t n,
				    uint16_t tag)
{
	for (size_t i = 0; i < n; i++)
		if (parts[i].tag == tag)
			return &parts[i];
	return NULL;
}

/* The tagged parts after the version; seen has one bit per tag. */
static int decode_parts(struct sreader *in, const struct part *parts,
			size_t nparts, void *obj, uint32_t all_tags,
			struct cpu_snapshot *cpu, const char *who, char *err,
			size_t errlen)
{
	uint32_t seen = 0;
	uint64_t tag, len;

	while (in->off < in->len) {
		const struct part *p;

		if (sread_le(in, &tag, 2) || sread_le(in, &len, 4) ||
		    len > in->len - in->off) {
			snprintf(err, errlen, "%s: truncated", who);
			return -EBADMSG;
		}
		if (tag >= 32 || !(all_tags & (1u << tag)) ||
		    (seen & (1u << tag))) {
			snprintf(err, errlen, "%s: unknown or repeated part %llu",
				 who, (unsigned long long)tag);
			return -EBADMSG;
		}
		seen |= 1u << tag;
		if (cpu && tag == TAG_MSRS) {
			if (decode_msrs(in, len, cpu, err, errlen))
				return -EBADMSG;
			continue;
		}
		p = find_part(parts, nparts, tag);
		if (len != p->len) {
			snprintf(err, errlen, "%s: part %llu is %llu bytes, expected %zu",
				 who, (unsigned long long)tag,
				 (unsigned long long)len, p->len);
			return -EBADMSG;
		}
		sread(in, (uint8_t *)obj + p->off, len);
	}
	if (seen != all_tags) {
		snprintf(err, errlen, "%s: parts missing (0x%x of 0x%x)", who,
			 seen, all_tags);
		return -EBADMSG;
	}
	return 0;
}

static int check_cpu(const struct cpu_snapshot *s, char *err, size_t errlen)
{
	if (s->mp_state.mp_state > KVM_MP_STATE_AP_RESET_HOLD) {
		snprintf(err, errlen, "vCPU %u: bad MP state %u", s->index,
			 s->mp_state.mp_state);
		return -EBADMSG;
	}
	if (s->xcrs.nr_xcrs > KVM_MAX_XCRS) {
		snprintf(err, errlen, "vCPU %u: %u XCRs", s->index,
			 s->xcrs.nr_xcrs);
		return -EBADMSG;
	}
	return 0;
}

int cpu_snapshot_decode(struct sreader *in, struct cpu_snapshot *s, char *err,
			size_t errlen)
{
	uint64_t version, index;
	char who[32];
	int ret;

	memset(s, 0, sizeof(*s));
	if (sread_le(in, &version, 4) || sread_le(in, &index, 4)) {
		snprintf(err, errlen, "vCPU record truncated");
		return -EBADMSG;
	}
	if (version != CPU_SNAP_VERSION) {
		snprintf(err, errlen, "vCPU record version %llu not supported (this fvmm: %d)",
			 (unsigned long long)version, CPU_SNAP_VERSION);
		return -EBADMSG;
	}
	s->index = index;
	s->xsave_len = XSAVE_LEGACY_SIZE;
	snprintf(who, sizeof(who), "vCPU %u", s->index);
	ret = decode_parts(in, cpu_parts, ARRAY_SIZE(cpu_parts), s,
			   ((1u << TAG_CPU_MAX) - 1) & ~1u, s, who, err, errlen);
	return ret ? ret : check_cpu(s, err, errlen);
}

/* ---- VM-wide in-kernel state ---- */

enum {
	KTAG_PIC_MASTER = 1, KTAG_PIC_SLAVE, KTAG_IOAPIC, KTAG_PIT, KTAG_CLOCK,
	KTAG_MAX,
};

static const struct part vm_parts[] = {
	PART(KTAG_PIC_MASTER, struct vm_ksnapshot, pic_master),
	PART(KTAG_PIC_SLAVE, struct vm_ksnapshot, pic_slave),
	PART(KTAG_IOAPIC, struct vm_ksnapshot, ioapic),
	PART(KTAG_PIT, struct vm_ksnapshot, pit),
	PART(KTAG_CLOCK, struct vm_ksnapshot, clock),
};

int vm_ksnapshot_get(int vm_fd, struct vm_ksnapshot *s)
{
	memset(s, 0, sizeof(*s));
	s->pic_master.chip_id = KVM_IRQCHIP_PIC_MASTER;
	s->pic_slave.chip_id = KVM_IRQCHIP_PIC_SLAVE;
	s->ioapic.chip_id = KVM_IRQCHIP_IOAPIC;
	if (ioctl(vm_fd, KVM_GET_IRQCHIP, &s->pic_master) < 0 ||
	    ioctl(vm_fd, KVM_GET_IRQCHIP, &s->pic_slave) < 0 ||
	    ioctl(vm_fd, KVM_GET_IRQCHIP, &s->ioapic) < 0 ||
	    ioctl(vm_fd, KVM_GET_PIT2, &s->pit) < 0 ||
	    ioctl(vm_fd, KVM_GET_CLOCK, &s->clock) < 0)
		return -errno;
	return 0;
}

int vm_ksnapshot_put(int vm_fd, const struct vm_ksnapshot *s, char *err,
		     size_t errlen)
{
	/*
	 * Only the clock value: the guest's kvmclock continues from where
	 * the source stopped it, so guest time neither jumps by the
	 * downtime nor goes backwards.
	 */
	struct kvm_clock_data clock = { .clock = s->clock.clock };
	const char *what = NULL;

	if (ioctl(vm_fd, KVM_SET_IRQCHIP, &s->pic_master) < 0 ||
	    ioctl(vm_fd, KVM_SET_IRQCHIP, &s->pic_slave) < 0 ||
	    ioctl(vm_fd, KVM_SET_IRQCHIP, &s->ioapic) < 0)
		what = "KVM_SET_IRQCHIP";
	else if (ioctl(vm_fd, KVM_SET_PIT2, &s->pit) < 0)
		what = "KVM_SET_PIT2";
	else if (ioctl(vm_fd, KVM_SET_CLOCK, &clock) < 0)
		what = "KVM_SET_CLOCK";
	if (!what)
		return 0;
	snprintf(err, errlen, "in-kernel state: %s: %s", what, strerror(errno));
	return -EINVAL;
}

int vm_ksnapshot_encode(const struct vm_ksnapshot *s, struct sbuf *out)
{
	sbuf_put_le(out, KSNAP_VERSION, 4);
	for (size_t i = 0; i < ARRAY_SIZE(vm_parts); i++)
		put_part(out, vm_parts[i].tag,
			 (const uint8_t *)s + vm_parts[i].off, vm_parts[i].len);
	return out->err;
}

int vm_ksnapshot_decode(struct sreader *in, struct vm_ksnapshot *s, char *err,
			size_t errlen)
{
	uint64_t version;
	int ret;

	memset(s, 0, sizeof(*s));
	if (sread_le(in, &version, 4) || version != KSNAP_VERSION) {
		snprintf(err, errlen, "in-kernel state record: bad version");
		return -EBADMSG;
	}
	ret = decode_parts(in, vm_parts, ARRAY_SIZE(vm_parts), s,
			   ((1u << KTAG_MAX) - 1) & ~1u, NULL, "in-kernel state",
			   err, errlen);
	if (ret)
		return ret;
	if (s->pic_master.chip_id != KVM_IRQCHIP_PIC_MASTER ||
	    s->pic_slave.chip_id != KVM_IRQCHIP_PIC_SLAVE ||
	    s->ioapic.chip_id != KVM_IRQCHIP_IOAPIC) {
		snprintf(err, errlen, "in-kernel state: irqchip ids out of place");
		return -EBADMSG;
	}
	return 0;
}
