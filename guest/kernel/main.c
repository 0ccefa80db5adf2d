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
#include <options.h>
#include <platform.h>
#include <power.h>
#include <printk.h>
#include <serial.h>
#include <shell.h>
#include <smp.h>
#include <time.h>
#include <x86.h>
#include <io.h>

void kmain(u32 start_info_pa, u64 entry_tsc);

static void probe_platform(void)
{
	unsigned int i;
	int ret;

	ret = mptable_probe(&platform);
	if (ret) {
		pr_err("no usable MP table (%d): running on the boot CPU only\n",
		       ret);
		platform.source = "none";
		platform.lapic_addr = LAPIC_DEFAULT_BASE;
		return;
	}
	pr_info("%s: %u cpus, lapic %#x", platform.source, platform.nr_cpus,
		platform.lapic_addr);
	for (i = 0; i < platform.nr_ioapics; i++)
		pr_info(", ioapic %u at %#x", platform.ioapics[i].id,
			platform.ioapics[i].addr);
	pr_info("\n");
}

static void banner(void)
{
	pr_info("fvmm-guest: PVH boot, cmdline \"%s\"\n", boot_info.cmdline);
}

void kmain(u32 start_info_pa, u64 entry_tsc)
{
	unsigned int ncpus;
	int ret;

	u64 T[10]; T[0] = rdtsc();
	serial_init();
	T[1] = rdtsc();
	smp_early_bsp();
	idt_init();
	T[2] = rdtsc();
	boot_info.entry_tsc = entry_tsc;

	ret = pvh_parse(start_info_pa, &boot_info);
	if (ret)
		panic("cannot use PVH start_info at %#x (%d)\n", start_info_pa, ret);
	options_parse(boot_info.cmdline);
	T[3] = rdtsc();
	banner();
	T[4] = rdtsc();
	printf("0123456789abcde\n");
	T[5] = rdtsc();
	{
		volatile u64 x = 0; u64 a, b, c, d, e, f, g; unsigned i;
		a = rdtsc();
		{ u64 n = 1000000; asm volatile("1: dec %0; jnz 1b" : "+r"(n)); }
		b = rdtsc();
		printf("regloop %llu\n", b - a);
		for (int k = 0; k < 5; k++) {
			a = rdtsc();
			while (rdtsc() - a < 2000000000ULL) ;
			printf("2G cycles spun\n");
		}
		for (int k = 0; k < 3; k++) {
			a = rdtsc();
			{ u64 n = 100000000; asm volatile("1: dec %0; jnz 1b" : "+r"(n)); }
			printf("100M regloop %llu\n", rdtsc() - a);
		}
		a = rdtsc();
		for (i = 0; i < 100000; i++) x += i;
		b = rdtsc();
		printf("memloop100k %llu\n", b - a);
		a = rdtsc();
		for (i = 0; i < 100; i++) rdtsc();
		b = rdtsc();
		printf("rdtsc100 %llu\n", b - a);
		a = rdtsc();
		for (i = 0; i < 16; i++) x += *(volatile u8 *)(0x200000ULL + i * 4096);
		c = rdtsc();
		for (i = 0; i < 16; i++) x += *(volatile u8 *)(0x200000ULL + i * 4096);
		d = rdtsc();
		for (i = 0; i < 16; i++) *(volatile u8 *)(0x300000ULL + i * 4096) = 1;
		e = rdtsc();
		for (i = 0; i < 10; i++) outb(0x80, 0);
		f = rdtsc();
		for (i = 0; i < 10; i++) inb(0x3fd);
		g = rdtsc();
		printf("loop1M %llu touch16 %llu retouch16 %llu write16 %llu out80x10 %llu lsrx10 %llu\n", b-a, c-b, d-c, e-d, f-e, g-f);
	}
	probe_platform();
	T[6] = rdtsc();
	ret = mm_init(&boot_info);
	T[7] = rdtsc();
	printf("entry->kmain %llu serial %llu gdtidt %llu pvh %llu banner %llu 16b %llu mp %llu mm %llu\n",
		T[0]-entry_tsc, T[1]-T[0], T[2]-T[1], T[3]-T[2], T[4]-T[3], T[5]-T[4], T[6]-T[5], T[7]-T[6]);
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

	pr_info("boot: %llu us since kernel entry\n",
		(unsigned long long)uptime_us());
	printf("READY cpus=%u mem_mib=%llu\n", ncpus,
	       (unsigned long long)(mm_ram_bytes() >> 20));

	if (opts.crash == CRASH_TRIPLE)
		machine_triple_fault();
	if (opts.poweroff)
		machine_poweroff();
	shell_run();
}
