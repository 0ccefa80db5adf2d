/*
 * Time keeping.
 *
 * Frequencies come from the hypervisor's timing leaf (CPUID 0x40000010: TSC
 * and APIC bus kHz) when it offers one, otherwise from one PIT channel 2
 * measurement: CAL_MS milliseconds of PIT time against the TSC and the LAPIC
 * timer.  Each poll of the PIT is a ~20 us VM exit, so the end is taken as
 * the middle of the poll that saw OUT2 rise.
 *
 * Uptime and delays use the TSC; the BSP's LAPIC tick (HZ) drives jiffies
 * for coarse timeouts.
 */

#include <apic.h>
#include <boot.h>
#include <desc.h>
#include <errno.h>
#include <printk.h>
#include <time.h>
#include <x86.h>

#define PIT_HZ		1193182ULL
#define CAL_MS		5
#define CAL_PIT_COUNT	((u16)(PIT_HZ * CAL_MS / 1000))
/* Give up on a PIT that never expires: 500 ms even at 20 GHz TSC. */
#define CAL_TSC_LIMIT	10000000000ULL
#define HV_LEAF_BASE	0x40000000
#define HV_LEAF_TIMING	0x40000010

/* Used if every source fails: KVM's APIC bus is 1 GHz; TSC is a guess. */
#define FALLBACK_TSC_KHZ	2000000ULL
#define FALLBACK_LAPIC_KHZ	(1000000ULL / LAPIC_TIMER_DIVISOR)

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

static bool hv_timing_leaf(u64 *tsc, u64 *lapic)
{
	u32 a, b, c, d;

	cpuid(1, 0, &a, &b, &c, &d);
	if (!(c & (1u << 31)))		/* not running on a hypervisor */
		return false;
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

static int pit_calibrate(u64 *tsc, u64 *lapic)
{
	u64 t0, t1, before, after;
	u32 l0, l1;

	lapic_timer_start(~0u, VEC_TIMER, false, true);
	pit_ch2_start(CAL_PIT_COUNT);
	t0 = rdtsc();
	l0 = lapic_timer_current();
	for (;;) {
		before = rdtsc();
		if (pit_ch2_expired())
			break;
		if (before - t0 > CAL_TSC_LIMIT)
			goto fail_stop;
	}
	after = rdtsc();
	l1 = lapic_timer_current();
	t1 = rdtsc();
	pit_ch2_stop();
	lapic_timer_start(0, VEC_TIMER, false, true);

	/* A PIT that is expired at once (e.g. port 0x61 reads 0xff) is absent. */
	if (after - t0 < 1000 || l0 <= l1)
		return -ENODEV;
	*tsc = ((before + after) / 2 - t0) / CAL_MS;
	/* LAPIC ticks against TSC time of the same two reads. */
	*lapic = (u64)(l0 - l1) * *tsc / (t1 - t0);
	return 0;

fail_stop:
	pit_ch2_stop();
	return -ETIMEDOUT;
}

int time_init(void)
{
	const char *source = "cpuid 0x40000010";
	u64 tsc, lapic;
	int ret = 0;

	if (!hv_timing_leaf(&tsc, &lapic)) {
		source = "PIT";
		ret = pit_calibrate(&tsc, &lapic);
	}
	if (ret) {
		pr_err("time: PIT calibration failed (%d), assuming TSC %llu MHz\n",
		       ret, FALLBACK_TSC_KHZ / 1000);
		return ret;
	}
	tsc_khz_val = tsc;
	lapic_khz_val = lapic;
	pr_info("time: TSC %llu.%03llu MHz, LAPIC timer %llu kHz (%s)\n",
		(unsigned long long)(tsc / 1000),
		(unsigned long long)(tsc % 1000), (unsigned long long)lapic,
		source);
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
