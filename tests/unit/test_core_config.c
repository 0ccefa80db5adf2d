// SPDX-License-Identifier: MIT
/* Command-line parsing (src/core/config.c). */
#include <stdio.h>
#include <stdlib.h>

#include "helpers.h"

#include "core/config.h"
#include "core/log.h"
#include "core/util.h"

/*
 * Parse a NULL-terminated list of arguments (argv[0] is supplied).  The
 * strings are copied into a writable array because getopt may permute it.
 */
#define MAX_ARGS	80
static char *argv_buf[MAX_ARGS + 2];

static int parse_list(struct vm_config *cfg, const char *const *args)
{
	int argc = 0;

	argv_buf[argc++] = (char *)"fvmm";
	for (; *args; args++) {
		assert_true(argc <= MAX_ARGS);
		argv_buf[argc++] = (char *)*args;
	}
	argv_buf[argc] = NULL;
	return config_parse(argc, argv_buf, cfg);
}

#define PARSE(cfg, ...) \
	parse_list((cfg), (const char *const[]){ __VA_ARGS__, NULL })

static void test_defaults(void **state)
{
	struct vm_config cfg;

	assert_int_equal(PARSE(&cfg, "--kernel", "vmlinux"), CONFIG_RUN);
	assert_string_equal(cfg.kernel, "vmlinux");
	assert_int_equal(cfg.mem_size, 512 * MiB);
	assert_int_equal(cfg.cpus, 1);
	assert_int_equal(cfg.serial, SERIAL_STDIO);
	assert_null(cfg.initrd);
	assert_null(cfg.append);
	assert_null(cfg.serial_path);
	assert_int_equal(cfg.nr_device_opts, 0);
	assert_int_equal(cfg.nr_netdev_opts, 0);
}

static void test_all_long_options(void **state)
{
	struct vm_config cfg;

	assert_int_equal(PARSE(&cfg, "--kernel", "k.elf", "--initrd", "rd.img",
			       "--append", "console=ttyS0 poweroff",
			       "--memory", "1G", "--cpus", "4",
			       "--serial", "none"), CONFIG_RUN);
	assert_string_equal(cfg.kernel, "k.elf");
	assert_string_equal(cfg.initrd, "rd.img");
	assert_string_equal(cfg.append, "console=ttyS0 poweroff");
	assert_int_equal(cfg.mem_size, 1 * GiB);
	assert_int_equal(cfg.cpus, 4);
	assert_int_equal(cfg.serial, SERIAL_NONE);
}

static void test_equals_and_short_spellings(void **state)
{
	struct vm_config cfg;

	assert_int_equal(PARSE(&cfg, "--kernel=k", "--memory=2G", "--cpus=3"),
			 CONFIG_RUN);
	assert_int_equal(cfg.mem_size, 2 * GiB);
	assert_int_equal(cfg.cpus, 3);

	/* QEMU's spellings: -m and -smp, with one dash. */
	assert_int_equal(PARSE(&cfg, "-kernel", "k", "-m", "256M", "-smp", "2"),
			 CONFIG_RUN);
	assert_string_equal(cfg.kernel, "k");
	assert_int_equal(cfg.mem_size, 256 * MiB);
	assert_int_equal(cfg.cpus, 2);

	assert_int_equal(PARSE(&cfg, "--kernel", "k", "--m", "64M", "--smp", "8"),
			 CONFIG_RUN);
	assert_int_equal(cfg.mem_size, 64 * MiB);
	assert_int_equal(cfg.cpus, 8);
}

static void test_serial_modes(void **state)
{
	struct vm_config cfg;

	assert_int_equal(PARSE(&cfg, "--kernel", "k", "--serial", "stdio"),
			 CONFIG_RUN);
	assert_int_equal(cfg.serial, SERIAL_STDIO);
	assert_int_equal(PARSE(&cfg, "--kernel", "k", "--serial",
			       "file:/tmp/console.log"), CONFIG_RUN);
	assert_int_equal(cfg.serial, SERIAL_FILE);
	assert_string_equal(cfg.serial_path, "/tmp/console.log");
	assert_int_equal(PARSE(&cfg, "--kernel", "k", "--serial", "none"),
			 CONFIG_RUN);
	assert_int_equal(cfg.serial, SERIAL_NONE);

	assert_int_equal(PARSE(&cfg, "--kernel", "k", "--serial", "file:"),
			 -EINVAL);
	assert_int_equal(PARSE(&cfg, "--kernel", "k", "--serial", "tcp:1234"),
			 -EINVAL);
	assert_int_equal(PARSE(&cfg, "--kernel", "k", "--serial", ""), -EINVAL);
	assert_int_equal(PARSE(&cfg, "--kernel", "k", "--serial", "STDIO"),
			 -EINVAL);
}

static void test_missing_kernel(void **state)
{
	struct vm_config cfg;

	assert_int_equal(PARSE(&cfg, "--memory", "256M"), -EINVAL);
	assert_int_equal(parse_list(&cfg, (const char *const[]){ NULL }),
			 -EINVAL);
}

static void test_unknown_and_malformed(void **state)
{
	struct vm_config cfg;

	assert_int_equal(PARSE(&cfg, "--kernel", "k", "--bogus"), -EINVAL);
	assert_int_equal(PARSE(&cfg, "--kernel", "k", "-z"), -EINVAL);
	assert_int_equal(PARSE(&cfg, "--kernel", "k", "--bogus=1"), -EINVAL);
	/* Option that needs a value given none. */
	assert_int_equal(PARSE(&cfg, "--kernel"), -EINVAL);
	assert_int_equal(PARSE(&cfg, "--kernel", "k", "--memory"), -EINVAL);
	/* A flag given a value. */
	assert_int_equal(PARSE(&cfg, "--kernel", "k", "--help=yes"), -EINVAL);
	/* Stray positional argument. */
	assert_int_equal(PARSE(&cfg, "--kernel", "k", "extra"), -EINVAL);
	assert_int_equal(PARSE(&cfg, "extra", "--kernel", "k"), -EINVAL);
}

static void test_help_and_version(void **state)
{
	struct vm_config cfg;

	/* Exit-OK even with no kernel and with later bad options. */
	assert_int_equal(PARSE(&cfg, "--help"), CONFIG_EXIT_OK);
	assert_int_equal(PARSE(&cfg, "--version"), CONFIG_EXIT_OK);
	assert_int_equal(PARSE(&cfg, "-help"), CONFIG_EXIT_OK);
	assert_int_equal(PARSE(&cfg, "--kernel", "k", "--version"),
			 CONFIG_EXIT_OK);
}

static void test_cpu_count_limits(void **state)
{
	struct vm_config cfg;

	assert_int_equal(PARSE(&cfg, "--kernel", "k", "--cpus", "1"), CONFIG_RUN);
	assert_int_equal(cfg.cpus, 1);
	assert_int_equal(PARSE(&cfg, "--kernel", "k", "--cpus", "64"),
			 CONFIG_RUN);
	assert_int_equal(cfg.cpus, 64);
	assert_int_equal(PARSE(&cfg, "--kernel", "k", "--cpus", "0"), -EINVAL);
	assert_int_equal(PARSE(&cfg, "--kernel", "k", "--cpus", "65"), -EINVAL);
	assert_int_equal(PARSE(&cfg, "--kernel", "k", "--cpus", "-1"), -EINVAL);
	assert_int_equal(PARSE(&cfg, "--kernel", "k", "--cpus", "two"), -EINVAL);
	assert_int_equal(PARSE(&cfg, "--kernel", "k", "--cpus", "2x"), -EINVAL);
	assert_int_equal(PARSE(&cfg, "--kernel", "k", "--cpus", ""), -EINVAL);
	assert_int_equal(PARSE(&cfg, "--kernel", "k", "--cpus",
			       "99999999999999999999999"), -EINVAL);
}

static void test_vcpu_pin(void **state)
{
	struct vm_config cfg;

	assert_int_equal(PARSE(&cfg, "--kernel", "k", "--cpus", "3",
			       "--vcpu-pin", "2,0,1"), CONFIG_RUN);
	assert_int_equal(cfg.nr_vcpu_pin, 3);
	assert_int_equal(cfg.vcpu_pin[0], 2);
	assert_int_equal(cfg.vcpu_pin[1], 0);
	assert_int_equal(cfg.vcpu_pin[2], 1);
	/* Order of --cpus and --vcpu-pin does not matter; the count does. */
	assert_int_equal(PARSE(&cfg, "--kernel", "k", "--vcpu-pin=1023",
			       "--cpus", "1"), CONFIG_RUN);
	assert_int_equal(cfg.vcpu_pin[0], 1023);
	assert_int_equal(PARSE(&cfg, "--kernel", "k", "--cpus", "2",
			       "--vcpu-pin", "0"), -EINVAL);
	assert_int_equal(PARSE(&cfg, "--kernel", "k", "--vcpu-pin", "0,1"),
			 -EINVAL);
	/* Not pinned unless asked. */
	assert_int_equal(PARSE(&cfg, "--kernel", "k", "--cpus", "2"), CONFIG_RUN);
	assert_int_equal(cfg.nr_vcpu_pin, 0);
	/* The last --vcpu-pin replaces, not extends, the list. */
	assert_int_equal(PARSE(&cfg, "--kernel", "k", "--vcpu-pin", "0,1",
			       "--vcpu-pin", "3"), CONFIG_RUN);
	assert_int_equal(cfg.nr_vcpu_pin, 1);
	assert_int_equal(cfg.vcpu_pin[0], 3);
	for (const char **bad = (const char *[]){ "", ",", "1,", ",1", "1,,2",
			"x", "-1", "1024", "0x1", "1 2", "99999999999999999999",
			NULL }; *bad; bad++)
		assert_int_equal(PARSE(&cfg, "--kernel", "k", "--vcpu-pin", *bad),
				 -EINVAL);
}

static void test_vcpu_pin_list_limit(void **state)
{
	char list[65 * 2 + 1];
	struct vm_config cfg;

	(void)state;
	/* 65 entries: one more than the most vCPUs. */
	for (int i = 0; i < 65; i++)
		memcpy(list + 2 * i, "0,", 2);
	list[65 * 2 - 1] = '\0';
	assert_int_equal(PARSE(&cfg, "--kernel", "k", "--cpus", "64",
			       "--vcpu-pin", list), -EINVAL);
	list[64 * 2 - 1] = '\0';
	assert_int_equal(PARSE(&cfg, "--kernel", "k", "--cpus", "64",
			       "--vcpu-pin", list), CONFIG_RUN);
	assert_int_equal(cfg.nr_vcpu_pin, 64);
}

static void test_memory_limits(void **state)
{
	struct vm_config cfg;

	assert_int_equal(PARSE(&cfg, "--kernel", "k", "--memory", "16M"),
			 CONFIG_RUN);
	assert_int_equal(cfg.mem_size, 16 * MiB);
	assert_int_equal(PARSE(&cfg, "--kernel", "k", "--memory", "5G"),
			 CONFIG_RUN);
	assert_int_equal(cfg.mem_size, 5 * GiB);
	assert_int_equal(PARSE(&cfg, "--kernel", "k", "--memory", "18M"),
			 CONFIG_RUN);
	assert_int_equal(PARSE(&cfg, "--kernel", "k", "--memory", "16777216"),
			 CONFIG_RUN);
	assert_int_equal(cfg.mem_size, 16 * MiB);

	/* Below the minimum. */
	assert_int_equal(PARSE(&cfg, "--kernel", "k", "--memory", "14M"),
			 -EINVAL);
	assert_int_equal(PARSE(&cfg, "--kernel", "k", "--memory", "0"), -EINVAL);
	assert_int_equal(PARSE(&cfg, "--kernel", "k", "--memory", "8192K"),
			 -EINVAL);
	/* Not a multiple of 2M. */
	assert_int_equal(PARSE(&cfg, "--kernel", "k", "--memory", "17M"),
			 -EINVAL);
	assert_int_equal(PARSE(&cfg, "--kernel", "k", "--memory", "513M"),
			 -EINVAL);
	assert_int_equal(PARSE(&cfg, "--kernel", "k", "--memory", "16777217"),
			 -EINVAL);
	/* Not a size, absurd, or overflowing. */
	assert_int_equal(PARSE(&cfg, "--kernel", "k", "--memory", "lots"),
			 -EINVAL);
	assert_int_equal(PARSE(&cfg, "--kernel", "k", "--memory", "512X"),
			 -EINVAL);
	assert_int_equal(PARSE(&cfg, "--kernel", "k", "--memory", "100T"),
			 -EINVAL);
	assert_int_equal(PARSE(&cfg, "--kernel", "k", "--memory",
			       "99999999999999999999999G"), -EINVAL);
}

static void test_devices_collected_in_order(void **state)
{
	struct vm_config cfg;

	assert_int_equal(PARSE(&cfg, "--kernel", "k",
			       "-device", "virtio-net-pci,id=net1,failover=on",
			       "--netdev", "tap,id=hn0,ifname=tap0",
			       "--device", "e1000,id=pri1,failover_pair_id=net1",
			       "-netdev", "tap,id=hn1,ifname=tap1",
			       "--device=pcie-root-port,id=rp1"), CONFIG_RUN);
	assert_int_equal(cfg.nr_device_opts, 3);
	assert_string_equal(cfg.device_opts[0], "virtio-net-pci,id=net1,failover=on");
	assert_string_equal(cfg.device_opts[1], "e1000,id=pri1,failover_pair_id=net1");
	assert_string_equal(cfg.device_opts[2], "pcie-root-port,id=rp1");
	assert_int_equal(cfg.nr_netdev_opts, 2);
	assert_string_equal(cfg.netdev_opts[0], "tap,id=hn0,ifname=tap0");
	assert_string_equal(cfg.netdev_opts[1], "tap,id=hn1,ifname=tap1");
}

static void test_too_many_devices(void **state)
{
	const char *args[2 * (VM_MAX_OPTS + 1) + 3];
	struct vm_config cfg;
	int n = 0;

	args[n++] = "--kernel";
	args[n++] = "k";
	for (int i = 0; i < VM_MAX_OPTS; i++) {
		args[n++] = "--device";
		args[n++] = "e1000";
	}
	args[n] = NULL;
	assert_int_equal(parse_list(&cfg, args), CONFIG_RUN);
	assert_int_equal(cfg.nr_device_opts, VM_MAX_OPTS);
	args[n++] = "--device";
	args[n++] = "e1000";
	args[n] = NULL;
	assert_int_equal(parse_list(&cfg, args), -EINVAL);
}

static void test_reparse_after_error(void **state)
{
	struct vm_config cfg;

	/* An error mid-way must not leave getopt state behind. */
	assert_int_equal(PARSE(&cfg, "--kernel", "a", "--cpus", "0",
			       "--memory", "1G"), -EINVAL);
	assert_int_equal(PARSE(&cfg, "--kernel", "b", "--bogus"), -EINVAL);
	assert_int_equal(PARSE(&cfg, "--kernel", "c"), CONFIG_RUN);
	assert_string_equal(cfg.kernel, "c");
	assert_int_equal(cfg.cpus, 1);
	assert_int_equal(cfg.mem_size, 512 * MiB);
	/* Previous values never leak into a fresh parse. */
	assert_int_equal(PARSE(&cfg, "--kernel", "d", "--device", "x"),
			 CONFIG_RUN);
	assert_int_equal(PARSE(&cfg, "--kernel", "e"), CONFIG_RUN);
	assert_int_equal(cfg.nr_device_opts, 0);
	assert_null(cfg.device_opts[0]);
}

static void test_last_value_wins(void **state)
{
	struct vm_config cfg;

	assert_int_equal(PARSE(&cfg, "--kernel", "a", "--kernel", "b",
			       "--cpus", "2", "--cpus", "3"), CONFIG_RUN);
	assert_string_equal(cfg.kernel, "b");
	assert_int_equal(cfg.cpus, 3);
}

static void test_verbose_quiet(void **state)
{
	struct vm_config cfg;
	enum log_level saved = log_level;

	log_level = LOG_WARN;
	assert_int_equal(PARSE(&cfg, "--kernel", "k", "--verbose", "--verbose"),
			 CONFIG_RUN);
	assert_int_equal(log_level, LOG_DEBUG);
	assert_int_equal(PARSE(&cfg, "--kernel", "k", "--quiet"), CONFIG_RUN);
	assert_int_equal(log_level, LOG_ERR);
	log_level = saved;
}

static void test_usage_mentions_options(void **state)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	config_usage(f);
	fclose(f);
	assert_non_null(strstr(buf, "--kernel"));
	assert_non_null(strstr(buf, "--memory"));
	assert_non_null(strstr(buf, "--cpus"));
	assert_non_null(strstr(buf, "--serial"));
	assert_non_null(strstr(buf, "1-64"));
	free(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_all_long_options),
		cmocka_unit_test(test_equals_and_short_spellings),
		cmocka_unit_test(test_serial_modes),
		cmocka_unit_test(test_missing_kernel),
		cmocka_unit_test(test_unknown_and_malformed),
		cmocka_unit_test(test_help_and_version),
		cmocka_unit_test(test_cpu_count_limits),
		cmocka_unit_test(test_memory_limits),
		cmocka_unit_test(test_devices_collected_in_order),
		cmocka_unit_test(test_too_many_devices),
		cmocka_unit_test(test_reparse_after_error),
		cmocka_unit_test(test_last_value_wins),
		cmocka_unit_test(test_verbose_quiet),
		cmocka_unit_test(test_usage_mentions_options),
		cmocka_unit_test(test_vcpu_pin),
		cmocka_unit_test(test_vcpu_pin_list_limit),
	};

	return cmocka_run_group_tests_name("core_config", tests, NULL, NULL);
}
