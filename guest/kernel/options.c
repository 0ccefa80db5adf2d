/*
 * Boot options.  One table row per option; setters validate and store into
 * `opts`.  Keep the table sorted by name.
 */

#include <cmdline.h>
#include <errno.h>
#include <net.h>
#include <options.h>
#include <pciehp.h>
#include <printk.h>
#include <string.h>

struct boot_options opts;

static int set_flag(bool *flag, const char *val)
{
	if (val)
		return -EINVAL;		/* flags take no value */
	*flag = true;
	return 0;
}

static int set_crash(const char *name __unused, const char *val)
{
	if (val && !strcmp(val, "triple"))
		opts.crash = CRASH_TRIPLE;
	else if (val && !strcmp(val, "pagefault"))
		opts.crash = CRASH_PAGEFAULT;
	else
		return -EINVAL;
	return 0;
}

static int set_poweroff(const char *name __unused, const char *val)
{
	return set_flag(&opts.poweroff, val);
}

static int set_quiet(const char *name __unused, const char *val)
{
	int ret = set_flag(&opts.quiet, val);

	if (!ret)
		console_set_quiet(true);
	return ret;
}

static const struct cmdline_opt options[] = {
	{ "corrupt_ring", net_opt_corrupt_ring,
	  "corrupt_ring=ethN: break ethN's transmit ring after READY (test)" },
	{ "crash", set_crash,
	  "crash=triple|pagefault: triple-fault or page-fault after READY (test)" },
	{ "ip", net_opt_ip, "ip=ADDR/PREFIX: IPv4 address of eth0" },
	{ "ip1", net_opt_ip, "ip1=ADDR/PREFIX: IPv4 address of eth1" },
	{ "ip2", net_opt_ip, "ip2=ADDR/PREFIX: IPv4 address of eth2" },
	{ "ip3", net_opt_ip, "ip3=ADDR/PREFIX: IPv4 address of eth3" },
	{ "netpoll", net_opt_netpoll,
	  "netpoll=CPU|off: CPU polling the NICs in ring 3 (default: last AP)" },
	{ "netpoll.sleep_delay_us", net_opt_sleep_delay,
	  "netpoll.sleep_delay_us=N: poller sleeps N us after its last look (test)" },
	{ "pciehp.button", pciehp_opt_button,
	  "pciehp.button=ignore|handle: ignore attention buttons (test)" },
	{ "pciehp.delay_ms", pciehp_opt_delay,
	  "pciehp.delay_ms=N: wait N ms before powering a slot off (button)" },
	{ "poweroff", set_poweroff, "power off right after READY" },
	{ "quiet", set_quiet, "print only READY and errors while booting" },
};

int options_parse(const char *cmdline)
{
	return cmdline_parse(cmdline, options, ARRAY_SIZE(options));
}

void options_help(void)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(options); i++)
		printf("  %-10s %s\n", options[i].name, options[i].help);
}
