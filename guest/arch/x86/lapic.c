/*
 * Local APIC in xAPIC (MMIO) mode.  The register page lies in the uncached
 * MMIO hole of the identity map.
 */

#include <apic.h>
#include <desc.h>
#include <errno.h>
#include <io.h>
#include <printk.h>
#include <x86.h>

#define LAPIC_ID		0x020
#define LAPIC_TPR		0x080
#define LAPIC_EOI		0x0b0
#define LAPIC_SVR		0x0f0
#define LAPIC_ESR		0x280
#define LAPIC_ICR_LO		0x300
#define LAPIC_ICR_HI		0x310
#define LAPIC_LVT_TIMER		0x320
#define LAPIC_LVT_LINT0		0x350
#define LAPIC_LVT_LINT1		0x360
#define LAPIC_LVT_ERROR		0x370
#define LAPIC_TIMER_INIT	0x380
#define LAPIC_TIMER_CUR		0x390
#define LAPIC_TIMER_DIV		0x3e0

#define SVR_ENABLE		(1u << 8)
#define LVT_MASKED		(1u << 16)
#define LVT_PERIODIC		(1u << 17)
#define LVT_NMI			(4u << 8)
#define TIMER_DIV_16		0x3
#define ICR_INIT		(5u << 8)
#define ICR_STARTUP		(6u << 8)
#define ICR_ASSERT		(1u << 14)
#define ICR_BUSY		(1u << 12)
#define ICR_SPINS		10000

#define APIC_BASE_BSP		(1ULL << 8)
#define APIC_BASE_X2APIC	(1ULL << 10)
#define APIC_BASE_ENABLE	(1ULL << 11)
#define APIC_BASE_ADDR_MASK	0xfffff000ULL

static u64 lapic_base = LAPIC_DEFAULT_BASE;

static inline u32 lapic_read(u32 reg)
{
	return mmio_read32(lapic_base + reg);
}

static inline void lapic_write(u32 reg, u32 v)
{
	mmio_write32(lapic_base + reg, v);
}

u32 lapic_id(void)
{
	return lapic_read(LAPIC_ID) >> 24;
}

void lapic_eoi(void)
{
	lapic_write(LAPIC_EOI, 0);
}

/* Reported once per boot: a storm of them must not flood the console. */
static void lapic_error_irq(struct irq_regs *regs __unused)
{
	static bool reported;
	u32 esr;

	lapic_write(LAPIC_ESR, 0);	/* latch the current error bits */
	esr = lapic_read(LAPIC_ESR);
	if (!reported) {
		reported = true;
		pr_err("lapic: error interrupt on apic %u, ESR %#x\n",
		       lapic_id(), esr);
	}
}

/* Per-CPU register setup.  LINT0 stays masked: the 8259s are not used, and
 * an unmasked ExtINT LINT0 would let them inject interrupts behind our back. */
static void lapic_setup(bool bsp)
{
	lapic_write(LAPIC_TPR, 0);
	lapic_write(LAPIC_SVR, SVR_ENABLE | VEC_SPURIOUS);
	lapic_write(LAPIC_LVT_LINT0, LVT_MASKED);
	lapic_write(LAPIC_LVT_LINT1, bsp ? LVT_NMI : LVT_MASKED);
	lapic_write(LAPIC_LVT_ERROR, VEC_LAPIC_ERROR);
	lapic_write(LAPIC_LVT_TIMER, LVT_MASKED | VEC_TIMER);
}

/*
 * The MSR is authoritative for where the registers are; the firmware table
 * only tells us what to expect.  x2APIC mode (if a loader left it on) cannot
 * be left directly, so go through "disabled" back to xAPIC.
 */
int lapic_init_bsp(u32 table_base)
{
	u64 msr = rdmsr(MSR_APIC_BASE);

	if (msr & APIC_BASE_X2APIC) {
		msr &= ~(APIC_BASE_X2APIC | APIC_BASE_ENABLE);
		wrmsr(MSR_APIC_BASE, msr);
	}
	if (!(msr & APIC_BASE_ENABLE)) {
		msr |= APIC_BASE_ENABLE;
		wrmsr(MSR_APIC_BASE, msr);
	}
	lapic_base = msr & APIC_BASE_ADDR_MASK;
	if (lapic_base != table_base)
		pr_warn("lapic: at %#llx, firmware table says %#x\n",
			lapic_base, table_base);
	if (lapic_base < 0xc0000000ULL || lapic_base >= 0x100000000ULL) {
		pr_err("lapic: base %#llx outside the uncached MMIO hole\n",
		       lapic_base);
		return -ERANGE;
	}
	irq_register(VEC_LAPIC_ERROR, lapic_error_irq);
	lapic_setup(true);
	return 0;
}

/* INIT leaves the APIC base MSR alone, so only the registers need setting. */
void lapic_init_ap(void)
{
	lapic_setup(false);
}

static int lapic_send_ipi(u32 apic_id, u32 icr)
{
	unsigned int spins = ICR_SPINS;

	lapic_write(LAPIC_ICR_HI, apic_id << 24);
	lapic_write(LAPIC_ICR_LO, icr);
	while ((lapic_read(LAPIC_ICR_LO) & ICR_BUSY) && --spins)
		cpu_relax();
	return spins ? 0 : -ETIMEDOUT;
}

int lapic_send_init(u32 apic_id)
{
	return lapic_send_ipi(apic_id, ICR_INIT | ICR_ASSERT);
}

int lapic_send_sipi(u32 apic_id, u8 vector)
{
	return lapic_send_ipi(apic_id, ICR_STARTUP | ICR_ASSERT | vector);
}

/* Fixed-delivery IPI: the vector's handler runs on the target. */
int lapic_send_fixed(u32 apic_id, u8 vector)
{
	return lapic_send_ipi(apic_id, ICR_ASSERT | vector);
}

void lapic_timer_start(u32 count, u8 vector, bool periodic, bool masked)
{
	lapic_write(LAPIC_TIMER_DIV, TIMER_DIV_16);
	lapic_write(LAPIC_LVT_TIMER, vector | (periodic ? LVT_PERIODIC : 0) |
				     (masked ? LVT_MASKED : 0));
	lapic_write(LAPIC_TIMER_INIT, count);
}

u32 lapic_timer_current(void)
{
	return lapic_read(LAPIC_TIMER_CUR);
}
