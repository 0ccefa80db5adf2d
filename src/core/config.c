// SPDX-License-Identifier: MIT
#include <errno.h>
#include <getopt.h>
#include <string.h>

#include "core/config.h"
#include "core/log.h"
#include "core/util.h"

enum {
	OPT_KERNEL = 256, OPT_INITRD, OPT_APPEND, OPT_MEMORY, OPT_CPUS,
	OPT_SERIAL, OPT_NETDEV, OPT_DEVICE, OPT_HELP, OPT_VERSION,
	OPT_VERBOSE, OPT_QUIET, OPT_QMP, OPT_ROOT_PORTS, OPT_VCPU_PIN, OPT_INCOMING,
	OPT_PAUSED,
};

static const struct option options[] = {
	{ "kernel",  required_argument, NULL, OPT_KERNEL },
	{ "initrd",  required_argument, NULL, OPT_INITRD },
	{ "append",  required_argument, NULL, OPT_APPEND },
	{ "memory",  required_argument, NULL, OPT_MEMORY },
	{ "m",       required_argument, NULL, OPT_MEMORY },
	{ "cpus",    required_argument, NULL, OPT_CPUS },
	{ "smp",     required_argument, NULL, OPT_CPUS },
	{ "serial",  required_argument, NULL, OPT_SERIAL },
	{ "netdev",  required_argument, NULL, OPT_NETDEV },
	{ "device",  required_argument, NULL, OPT_DEVICE },
	{ "qmp",     required_argument, NULL, OPT_QMP },
	{ "root-ports", required_argument, NULL, OPT_ROOT_PORTS },
	{ "vcpu-pin", required_argument, NULL, OPT_VCPU_PIN },
	{ "incoming", required_argument, NULL, OPT_INCOMING },
	{ "S",       no_argument,       NULL, OPT_PAUSED },
	{ "verbose", no_argument,       NULL, OPT_VERBOSE },
	{ "quiet",   no_argument,       NULL, OPT_QUIET },
	{ "help",    no_argument,       NULL, OPT_HELP },
	{ "version", no_argument,       NULL, OPT_VERSION },
	{ NULL, 0, NULL, 0 },
};

void config_usage(FILE *out)
{
	fprintf(out,
"Usage: fvmm --kernel FILE [options]\n"
"Run a KVM virtual machine.\n"
"\n"
"  --kernel FILE        PVH ELF kernel or Linux bzImage to boot (required)\n"
"  --initrd FILE        initial ramdisk (PVH module / Linux initrd)\n"
"  --append STR         kernel command line\n"
"  --memory SIZE        guest RAM, with K/M/G suffix (default 512M; -m)\n"
"  --cpus N             number of vCPUs, 1-%d (default 1; -smp)\n"
"  --serial MODE        COM1: stdio (default), file:PATH or none\n"
"  --netdev tap,id=ID,ifname=NAME\n"
"                       host network backend\n"
"  --device DRIVER,...  a device, with QEMU's property names\n"
"  --qmp unix:PATH      QMP control socket (QEMU's protocol)\n"
"  --root-ports N       N hot-pluggable PCIe root ports rp1..rpN (0-%d)\n"
"  --vcpu-pin CPU,...   run vCPU i on host CPU number i of the list only\n"
"                       (one per vCPU; default: wherever the host likes)\n"
"  --incoming URI       wait for a migrating VM instead of booting: URI is\n"
"                       tcp:HOST:PORT, unix:PATH or defer (then QMP\n"
"                       migrate-incoming); give the source's options\n"
"  -S                   start paused (also after --incoming); QMP cont runs it\n"
"  --verbose / --quiet  more / fewer host messages on stderr\n"
"  --help, --version\n"
"\n"
"Exit status: 0 when the guest powers off or resets, 1 on a host error,\n"
"2 on a usage error, 3 when the guest crashes (register dump on stderr).\n",
		VM_MAX_CPUS, CONFIG_MAX_ROOT_PORTS);
}

static int parse_serial(const char *arg, struct vm_config *cfg)
{
	if (!strcmp(arg, "stdio")) {
		cfg->serial = SERIAL_STDIO;
	} else if (!strcmp(arg, "none")) {
		cfg->serial = SERIAL_NONE;
	} else if (!strncmp(arg, "file:", 5) && arg[5]) {
		cfg->serial = SERIAL_FILE;
		cfg->serial_path = arg + 5;
	} else {
		pr_err("--serial: expected stdio, none or file:PATH, got '%s'", arg);
		return -EINVAL;
	}
	return 0;
}

static int parse_memory(const char *arg, struct vm_config *cfg)
{
	uint64_t size;
	int ret = parse_size(arg, &size);

	if (ret == -ERANGE || (!ret && size > (1ULL << 46))) {
		pr_err("--memory: '%s' is too large", arg);
		return -EINVAL;
	}
	if (ret) {
		pr_err("--memory: '%s' is not a size (e.g. 512M, 4G)", arg);
		return -EINVAL;
	}
	if (size < CONFIG_MIN_MEM) {
		pr_err("--memory: %s is below the minimum of %lluM", arg,
		       CONFIG_MIN_MEM >> 20);
		return -EINVAL;
	}
	if (!IS_ALIGNED(size, 2 * MiB)) {
		pr_err("--memory: %s is not a multiple of 2M", arg);
		return -EINVAL;
	}
	cfg->mem_size = size;
	return 0;
}

/* "0,2,3": one host CPU per vCPU, checked against --cpus at the end. */
static int parse_vcpu_pin(const char *arg, struct vm_config *cfg)
{
	char buf[16];
	const char *p = arg;
	unsigned long cpu;
	size_t len;

	cfg->nr_vcpu_pin = 0;
	do {
		len = strcspn(p, ",");
		if (cfg->nr_vcpu_pin == VM_MAX_CPUS || len >= sizeof(buf))
			goto bad;
		memcpy(buf, p, len);
		buf[len] = '\0';
		if (parse_uint(buf, 0, CONFIG_MAX_HOST_CPU, &cpu))
			goto bad;
		cfg->vcpu_pin[cfg->nr_vcpu_pin++] = cpu;
		p += len;
	} while (*p++ == ',');
	return 0;
bad:
	pr_err("--vcpu-pin: expected a list of up to %d host CPU numbers (0-%d), e.g. 0,1, got '%s'",
	       VM_MAX_CPUS, CONFIG_MAX_HOST_CPU, arg);
	return -EINVAL;
}

static int add_raw(const char **list, unsigned *nr, const char *opt,
		   const char *arg)
{
	if (*nr >= VM_MAX_OPTS) {
		pr_err("--%s: at most %d may be given", opt, VM_MAX_OPTS);
		return -EINVAL;
	}
	list[(*nr)++] = arg;
	return 0;
}

static int config_option(int opt, const char *arg, struct vm_config *cfg)
{
	unsigned long n;

	switch (opt) {
	case OPT_KERNEL:
		cfg->kernel = arg;
		return 0;
	case OPT_INITRD:
		cfg->initrd = arg;
		return 0;
	case OPT_APPEND:
		cfg->append = arg;
		return 0;
	case OPT_MEMORY:
		return parse_memory(arg, cfg);
	case OPT_CPUS:
		if (parse_uint(arg, 1, VM_MAX_CPUS, &n)) {
			pr_err("--cpus: expected a number from 1 to %d, got '%s'",
			       VM_MAX_CPUS, arg);
			return -EINVAL;
		}
		cfg->cpus = n;
		return 0;
	case OPT_SERIAL:
		return parse_serial(arg, cfg);
	case OPT_NETDEV:
		return add_raw(cfg->netdev_opts, &cfg->nr_netdev_opts, "netdev", arg);
	case OPT_DEVICE:
		return add_raw(cfg->device_opts, &cfg->nr_device_opts, "device", arg);
	case OPT_QMP:
		if (strncmp(arg, "unix:", 5) || !arg[5]) {
			pr_err("--qmp: expected unix:PATH, got '%s'", arg);
			return -EINVAL;
		}
		cfg->qmp = arg;
		return 0;
	case OPT_ROOT_PORTS:
		if (parse_uint(arg, 0, CONFIG_MAX_ROOT_PORTS, &n)) {
			pr_err("--root-ports: expected a number from 0 to %d, got '%s'",
			       CONFIG_MAX_ROOT_PORTS, arg);
			return -EINVAL;
		}
		cfg->nr_root_ports = n;
		return 0;
	case OPT_VCPU_PIN:
		return parse_vcpu_pin(arg, cfg);
	case OPT_PAUSED:
		cfg->start_paused = true;
		return 0;
	case OPT_INCOMING:
		if (strcmp(arg, "defer") && strncmp(arg, "tcp:", 4) &&
		    strncmp(arg, "unix:", 5)) {
			pr_err("--incoming: expected tcp:HOST:PORT, unix:PATH or defer, got '%s'",
			       arg);
			return -EINVAL;
		}
		cfg->incoming = arg;
		return 0;
	case OPT_VERBOSE:
		log_level = log_level < LOG_DEBUG ? log_level + 1 : LOG_DEBUG;
		return 0;
	case OPT_QUIET:
		log_level = LOG_ERR;
		return 0;
	default:
		return -EINVAL;
	}
}

int config_parse(int argc, char **argv, struct vm_config *cfg)
{
	int opt, ret;

	memset(cfg, 0, sizeof(*cfg));
	cfg->mem_size = CONFIG_DEFAULT_MEM;
	cfg->cpus = 1;
	cfg->serial = SERIAL_STDIO;
	optind = 0;	/* full reset, so tests can parse many times */
	opterr = 0;
	while ((opt = getopt_long_only(argc, argv, "", options, NULL)) != -1) {
		if (opt == OPT_HELP) {
			config_usage(stdout);
			return CONFIG_EXIT_OK;
		}
		if (opt == OPT_VERSION) {
			printf("fvmm %s\n", FVMM_VERSION);
			return CONFIG_EXIT_OK;
		}
		if (opt == '?' || opt == ':') {
			if (optopt)
				pr_err("option needs a value or is unknown: %s (try --help)",
				       argv[optind - 1]);
			else
				pr_err("unknown option '%s' (try --help)",
				       argv[optind - 1]);
			return -EINVAL;
		}
		ret = config_option(opt, optarg, cfg);
		if (ret)
			return ret;
	}
	if (optind < argc) {
		pr_err("unexpected argument '%s' (try --help)", argv[optind]);
		return -EINVAL;
	}
	if (cfg->nr_vcpu_pin && cfg->nr_vcpu_pin != cfg->cpus) {
		pr_err("--vcpu-pin: %u host CPU%s given for %u vCPU%s: give one per vCPU",
		       cfg->nr_vcpu_pin, cfg->nr_vcpu_pin > 1 ? "s" : "",
		       cfg->cpus, cfg->cpus > 1 ? "s" : "");
		return -EINVAL;
	}
	if (!cfg->kernel) {
		pr_err("no kernel given: use --kernel FILE (try --help)");
		return -EINVAL;
	}
	return CONFIG_RUN;
}
