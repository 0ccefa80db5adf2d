/*
 * Boot sequence.  Order matters: descriptor tables first (so a fault is
 * reported, not a triple fault), then everything read from loader and
 * firmware memory (start_info, MP table) before the early allocator may
 * reuse that memory, then the final page tables, interrupt controllers,
 * timers and the APs.
 */

#include <apic.h>
#include <boot.h>
#include <desc.h>
#include <mm.h>
#include <net.h>
#include <options.h>
#include <pciehp.h>
#include <platform.h>
#include <power.h>
#include <printk.h>
#include <serial.h>
#include <shell.h>
#include <smp.h>
#include <string.h>
#include <time.h>
#include <x86.h>

void kmain(u32 start_info_pa, u64 entry_tsc);

/* One line, one printk: every call costs where supervisor code is emulated. */
static void log_platform(void)
{
	const struct platform_ioapic *io = &platform.ioapics[0];
	struct isa_irq_route com1;

	if (!platform.nr_ioapics || platform_isa_route(COM1_IRQ, &com1)) {
		pr_info("%s: %u cpus, lapic %#x, no IOAPIC\n", platform.source,
			platform.nr_cpus, platform.lapic_addr);
		return;
	}
	pr_info("%s: %u cpus, lapic %#x, %u ioapic (id %u at %#x), com1 -> ioapic %u pin %u\n",
		platform.source, platform.nr_cpus, platform.lapic_addr,
		platform.nr_ioapics, io->id, io->addr,
		platform.ioapics[com1.ioapic].id, com1.pin);
}

/*
 * The MP table is the contract; the MADT only fills its gaps (see acpi.c):
 * all of it when there is no MP table, the CPU list when it names more CPUs.
 */
static void probe_platform(void)
{
	static struct platform madt;
	int mp, acpi;

	mp = mptable_probe(&platform);
	acpi = acpi_madt_probe(&madt, boot_info.rsdp, mp != 0);
	if (!mp && !acpi && madt.nr_cpus > platform.nr_cpus) {
		memcpy(platform.cpus, madt.cpus, sizeof(madt.cpus));
		platform.nr_cpus = madt.nr_cpus;
		platform.source = "mptable+acpi";
	} else if (mp && !acpi) {
		platform = madt;
	} else if (mp) {
		pr_err("no MP table or ACPI MADT (%d): boot CPU only\n", mp);
		platform.source = "none";
		platform.lapic_addr = LAPIC_DEFAULT_BASE;
		return;
	}
	log_platform();
}

static void banner(void)
{
	pr_info("fvmm-guest: PVH boot, cmdline \"%s\"\n", boot_info.cmdline);
}

void kmain(u32 start_info_pa, u64 entry_tsc)
{
	unsigned int ncpus;
	int ret;

	serial_init();
	smp_early_bsp();
	idt_init();
	boot_info.entry_tsc = entry_tsc;

	ret = pvh_parse(start_info_pa, &boot_info);
	if (ret)
		panic("cannot use PVH start_info at %#x (%d)\n", start_info_pa, ret);
	options_parse(boot_info.cmdline);
	banner();
	probe_platform();
	ret = mm_init(&boot_info);
	if (ret)
		panic("memory setup failed (%d)\n", ret);

	ret = lapic_init_bsp(platform.lapic_addr);
	if (ret)
		panic("local APIC setup failed (%d)\n", ret);
	pic_disable();
	time_init();
	smp_init_bsp();
	ncpus = smp_boot_aps();
	ret = serial_enable_rx_irq();
	if (ret)
		pr_err("serial: no RX interrupt (%d), polling\n", ret);
	timer_tick_start();
	irq_enable();
	net_init();
	/* After net_init: a failover primary appears once STANDBY is negotiated. */
	pciehp_init();

	pr_info("boot: %llu us since kernel entry\n", uptime_us());
	printf("READY cpus=%u mem_mib=%llu\n", ncpus, mm_ram_bytes() >> 20);
	net_after_ready();

	if (opts.crash == CRASH_TRIPLE)
		machine_triple_fault();
	if (opts.crash == CRASH_PAGEFAULT)
		machine_page_fault();
	if (opts.poweroff)
		machine_poweroff();
	shell_run();
}
