/*
 * Time keeping.
 *
 * The TSC frequency comes from the first source that has it:
 *  1. CPUID 0x40000010 (hypervisor timing leaf: TSC and APIC bus kHz),
 *  2. kvmclock's TSC-to-nanoseconds scale (exact, and no waiting),
 *  3. a PIT channel 2 stopwatch of CAL_PIT_MS.
 * The LAPIC timer is then measured against the TSC over CAL_LAPIC_US.  Each
 * of those reads is a VM exit of unknown length, so every sample is taken as
 * the midpoint of the TSC reads around it.
 *
 * Uptime and delays use the TSC; the BSP's LAPIC tick (HZ) drives jiffies
 * for coarse timeouts.
 */

#include <apic.h>
#include <boot.h>
#include <desc.h>
#include <errno.h>
#include <printk.h>
#include <string.h>
#include <time.h>
#include <x86.h>

#define PIT_HZ			1193182ULL
#define CAL_PIT_MS		10
#define CAL_PIT_COUNT		((u16)(PIT_HZ * CAL_PIT_MS / 1000))
#define CAL_LAPIC_US		2000
/* Give up on a PIT that never expires: 0.5 s even at 20 GHz. */
#define CAL_TSC_LIMIT		10000000000ULL

#define HV_LEAF_BASE		0x40000000
#define HV_LEAF_TIMING		0x40000010
#define KVM_LEAF_FEATURES	0x40000001
#define KVM_FEATURE_CLOCKSOURCE	(1u << 0)
#define KVM_FEATURE_CLOCKSOURCE2 (1u << 3)
#define MSR_KVM_SYSTEM_TIME	0x12
#define MSR_KVM_SYSTEM_TIME_NEW	0x4b564d01

/* Used if every source fails: a guess, so timeouts stay finite. */
#define FALLBACK_TSC_KHZ	2000000ULL
#define FALLBACK_LAPIC_KHZ	(1000000ULL / LAPIC_TIMER_DIVISOR)

struct pvclock_time_info {
	u32 version;
	u32 pad0;
	u64 tsc_timestamp;
	u64 system_time;
	u32 tsc_to_system_mul;
	s8 tsc_shift;
	u8 flags;
	u8 pad[2];
} __attribute__((packed));

volatile u64 jiffies;
static u64 tsc_khz_val = FALLBACK_TSC_KHZ;
static u64 lapic_khz_val = FALLBACK_LAPIC_KHZ;

u64 tsc_khz(void)
{
	return tsc_khz_val;
}

u64 lapic_timer_khz(void)
{
	return lapic_khz_val;
}

u64 tsc_to_us(u64 cycles)
{
	u64 khz = tsc_khz_val;

	/* Split to avoid overflowing cycles * 1000. */
	return cycles / khz * 1000 + cycles % khz * 1000 / khz;
}

u64 uptime_us(void)
{
	return tsc_to_us(rdtsc() - boot_info.entry_tsc);
}

void udelay(u64 us)
{
	u64 start = rdtsc(), cycles = us * tsc_khz_val / 1000;

	while (rdtsc() - start < cycles)
		cpu_relax();
}

static bool on_hypervisor(void)
{
	u32 a, b, c, d;

	cpuid(1, 0, &a, &b, &c, &d);
	return c & (1u << 31);
}

static bool hv_timing_leaf(u64 *tsc, u64 *lapic)
{
	u32 a, b, c, d;

	cpuid(HV_LEAF_BASE, 0, &a, &b, &c, &d);
	if (a < HV_LEAF_TIMING)
		return false;
	cpuid(HV_LEAF_TIMING, 0, &a, &b, &c, &d);
	if (!a || !b)
		return false;
	*tsc = a;
	*lapic = b / LAPIC_TIMER_DIVISOR;
	return true;
}

static u32 kvm_clock_msr(void)
{
	u32 a, sig[3], f, unused;

	cpuid(HV_LEAF_BASE, 0, &a, &sig[0], &sig[1], &sig[2]);
	if (memcmp(sig, "KVMKVMKVM\0\0\0", 12) || a < KVM_LEAF_FEATURES)
		return 0;
	cpuid(KVM_LEAF_FEATURES, 0, &f, &unused, &unused, &unused);
	if (f & KVM_FEATURE_CLOCKSOURCE2)
		return MSR_KVM_SYSTEM_TIME_NEW;
	if (f & KVM_FEATURE_CLOCKSOURCE)
		return MSR_KVM_SYSTEM_TIME;
	return 0;
}

/* ns = (tsc << shift) * mul >> 32, so kHz = 10^6 * 2^32 / mul / 2^shift. */
static bool kvmclock_tsc(u64 *tsc)
{
	static struct pvclock_time_info pv __aligned(64);
	u32 msr = kvm_clock_msr(), version, mul;
	s8 shift;
	u64 khz;

	if (!msr)
		return false;
	wrmsr(msr, (u64)&pv | 1);
	do {
		version = READ_ONCE(pv.version);
		barrier();
		mul = pv.tsc_to_system_mul;
		shift = pv.tsc_shift;
		barrier();
	} while ((version & 1) || version != READ_ONCE(pv.version));
	/* Stop the host writing here: nothing else uses kvmclock. */
	wrmsr(msr, 0);
	if (!mul)
		return false;
	khz = (1000000ULL << 32) / mul;
	khz = shift < 0 ? khz << -shift : khz >> shift;
	*tsc = khz;
	return khz != 0;
}

static int pit_calibrate_tsc(u64 *tsc)
{
	u64 t0, before, after;

	pit_ch2_start(CAL_PIT_COUNT);
	t0 = rdtsc();
	for (;;) {
		before = rdtsc();
		if (pit_ch2_expired())
			break;
		if (before - t0 > CAL_TSC_LIMIT) {
			pit_ch2_stop();
			return -ETIMEDOUT;
		}
	}
	after = rdtsc();
	pit_ch2_stop();
	/* Expired at once (e.g. port 0x61 reads all-ones): there is no PIT. */
	if (after - t0 < 1000)
		return -ENODEV;
	*tsc = ((before + after) / 2 - t0) / CAL_PIT_MS;
	return 0;
}

static u64 lapic_calibrate(u64 tsc)
{
	u64 a0, a1, b0, b1, cycles;
	u32 l0, l1;

	lapic_timer_start(~0u, VEC_TIMER, false, true);
	a0 = rdtsc();
	l0 = lapic_timer_current();
	a1 = rdtsc();
	while (rdtsc() - a0 < tsc * CAL_LAPIC_US / 1000)
		cpu_relax();
	b0 = rdtsc();
	l1 = lapic_timer_current();
	b1 = rdtsc();
	lapic_timer_start(0, VEC_TIMER, false, true);
	cycles = (b0 + b1) / 2 - (a0 + a1) / 2;
	if (l1 >= l0 || !cycles)
		return 0;
	return (u64)(l0 - l1) * tsc / cycles;
}

int time_init(void)
{
	const char *source = "PIT";
	u64 tsc = 0, lapic = 0;
	int ret = 0;

	if (on_hypervisor() && hv_timing_leaf(&tsc, &lapic))
		source = "cpuid";
	else if (on_hypervisor() && kvmclock_tsc(&tsc))
		source = "kvmclock";
	else
		ret = pit_calibrate_tsc(&tsc);
	if (ret) {
		pr_err("time: PIT calibration failed (%d), assuming TSC %llu MHz\n",
		       ret, FALLBACK_TSC_KHZ / 1000);
		return ret;
	}
	tsc_khz_val = tsc;
	if (!lapic)
		lapic = lapic_calibrate(tsc);
	if (lapic)
		lapic_khz_val = lapic;
	else
		pr_err("time: LAPIC timer calibration failed\n");
	pr_info("time: TSC %llu.%03llu MHz (%s), LAPIC timer %llu kHz\n",
		tsc / 1000, tsc % 1000, source, lapic_khz_val);
	return 0;
}

static void timer_irq(struct irq_regs *regs __unused)
{
	jiffies++;
}

void timer_tick_start(void)
{
	irq_register(VEC_TIMER, timer_irq);
	lapic_timer_start(lapic_khz_val * 1000 / HZ, VEC_TIMER, true, false);
}
