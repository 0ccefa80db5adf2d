/*
 * Interactive shell on the serial console.  Reads a line with echo and
 * backspace (CR or LF ends it; the LF of a CRLF pair is swallowed), splits it
 * into words and runs the matching command.
 */

#include <boot.h>
#include <memtest.h>
#include <mm.h>
#include <net.h>
#include <options.h>
#include <pci.h>
#include <pci_dev.h>
#include <pciehp.h>
#include <power.h>
#include <printk.h>
#include <serial.h>
#include <shell.h>
#include <smp.h>
#include <string.h>
#include <time.h>
#include <user.h>

#define LINE_LEN	128
#define MAX_ARGS	8
#define PROMPT		"fvmm> "

struct command {
	const char *name;
	void (*run)(int argc, char **argv);
	const char *help;
};

static void cmd_help(int argc, char **argv);

static void cmd_cpus(int argc __unused, char **argv __unused)
{
	static const char *const state[] = {
		[CPU_OFFLINE] = "offline", [CPU_STARTING] = "starting",
		[CPU_ONLINE] = "online", [CPU_FAILED] = "failed",
	};
	unsigned int i;

	printf("%u of %u cpus online\n", smp_online(), nr_cpus);
	for (i = 0; i < nr_cpus; i++) {
		const struct cpu *c = &cpus[i];

		printf("  cpu %-2u apic %-3u %-8s%s", i, c->apic_id,
		       state[c->state], c->bsp ? " (BSP)" : "");
		if (!c->bsp && c->state == CPU_ONLINE)
			printf(" started in %llu us",
			       c->start_us);
		printf("\n");
	}
}

static void cmd_mem(int argc __unused, char **argv __unused)
{
	mm_dump();
}

static void cmd_pci(int argc __unused, char **argv __unused)
{
	pci_dump();
}

static void cmd_uptime(int argc __unused, char **argv __unused)
{
	u64 us = uptime_us();

	printf("up %llu.%03llu s (%llu ticks at %d Hz)\n", us / 1000000,
	       us / 1000 % 1000, jiffies, HZ);
}

static void cmd_poweroff(int argc __unused, char **argv __unused)
{
	machine_poweroff();
}

static void cmd_reboot(int argc __unused, char **argv __unused)
{
	machine_reboot();
}

static const struct command commands[] = {
	{ "arp", net_cmd_arp, "ARP cache of every interface" },
	{ "cpus", cmd_cpus, "list CPUs and their APIC ids" },
	{ "failover", failover_cmd, "failover device: tx path, per-slave counters" },
	{ "help", cmd_help, "this list" },
	{ "ifconfig", net_cmd_net, "same as net" },
	{ "mem", cmd_mem, "memory map and totals" },
	{ "memtest", memtest_cmd, "memtest start MIB|all [MIB/s] | check | stop: RAM pattern" },
	{ "net", net_cmd_net, "interfaces: MAC, IP, link, standby, counters" },
	{ "pci", cmd_pci, "list PCI functions with ids, class and BARs" },
	{ "ping", net_cmd_ping, "ping A.B.C.D [COUNT]: ICMP echo" },
	{ "poweroff", cmd_poweroff, "power the machine off" },
	{ "reboot", cmd_reboot, "reset the machine" },
	{ "slots", pciehp_cmd_slots, "hot-plug slots: power, presence, link, driver" },
	{ "uptime", cmd_uptime, "time since the kernel started" },
	{ "usertest", user_selftest, "usertest [gates]: ring-3 self test and costs" },
};

static void cmd_help(int argc __unused, char **argv __unused)
{
	size_t i;

	printf("commands:\n");
	for (i = 0; i < ARRAY_SIZE(commands); i++)
		printf("  %-10s %s\n", commands[i].name, commands[i].help);
	printf("boot options:\n");
	options_help();
}

static int split(char *line, char **argv)
{
	int argc = 0;

	for (;;) {
		while (*line == ' ' || *line == '\t')
			*line++ = '\0';
		if (!*line || argc == MAX_ARGS)
			return argc;
		argv[argc++] = line;
		while (*line && *line != ' ' && *line != '\t')
			line++;
	}
}

static void run_line(char *line)
{
	char *argv[MAX_ARGS];
	int argc = split(line, argv);
	size_t i;

	if (!argc)
		return;
	for (i = 0; i < ARRAY_SIZE(commands); i++) {
		if (!strcmp(argv[0], commands[i].name)) {
			commands[i].run(argc, argv);
			return;
		}
	}
	printf("unknown command: %s\n", argv[0]);
}

static void read_line(char *buf, size_t size)
{
	static bool last_was_cr;
	size_t len = 0;
	int c;

	for (;;) {
		c = serial_getc_wait();
		if (c == '\n' && last_was_cr) {
			last_was_cr = false;
			continue;
		}
		last_was_cr = c == '\r';
		if (c == '\r' || c == '\n') {
			console_write("\n", 1);
			break;
		}
		if (c == '\b' || c == 0x7f) {
			if (len) {
				len--;
				console_write("\b \b", 3);
			}
			continue;
		}
		if (c < ' ' || c > '~' || len + 1 >= size)
			continue;
		buf[len++] = c;
		console_write(&buf[len - 1], 1);
	}
	buf[len] = '\0';
}

void shell_run(void)
{
	char line[LINE_LEN];

	for (;;) {
		console_write(PROMPT, sizeof(PROMPT) - 1);
		read_line(line, sizeof(line));
		run_line(line);
	}
}
