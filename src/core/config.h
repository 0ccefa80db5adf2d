/* SPDX-License-Identifier: MIT */
#ifndef FVMM_CORE_CONFIG_H
#define FVMM_CORE_CONFIG_H

#include <stdio.h>

#include "core/vm.h"

#define CONFIG_DEFAULT_MEM	(512ULL << 20)
#define CONFIG_MIN_MEM		(16ULL << 20)
/* Each port takes a bus-0 slot and a 4 KiB I/O window below 0xC000. */
#define CONFIG_MAX_ROOT_PORTS	10
#define CONFIG_MAX_HOST_CPU	1023	/* CPU_SETSIZE - 1 */

enum config_result {
	CONFIG_RUN = 0,		/* start the VM */
	CONFIG_EXIT_OK = 1,	/* --help or --version was printed */
};

/*
 * Parse fvmm's command line.  Long options, also accepted with one dash as
 * QEMU spells them (-device, -netdev).  Returns enum config_result, or
 * -EINVAL after printing one line on stderr naming the bad option.
 */
int config_parse(int argc, char **argv, struct vm_config *cfg);
void config_usage(FILE *out);

#endif
