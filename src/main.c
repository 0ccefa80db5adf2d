// SPDX-License-Identifier: MIT
/* fvmm: parse options, build the VM, run it.  No device logic here. */
#include <signal.h>
#include <stdlib.h>

#include "control/qmp.h"
#include "core/config.h"
#include "core/vm.h"

int main(int argc, char **argv)
{
	struct vm_config cfg;
	struct vm vm;
	int ret;

	ret = config_parse(argc, argv, &cfg);
	if (ret < 0)
		return 2;
	if (ret == CONFIG_EXIT_OK)
		return 0;
	/* A closed console pipe must not kill the VMM mid-write. */
	signal(SIGPIPE, SIG_IGN);
	ret = vm_create(&vm, &cfg);
	if (ret) {
		vm_destroy(&vm);
		return 1;
	}
	if (qmp_server_start(&vm)) {
		vm_destroy(&vm);
		return 1;
	}
	ret = vm_run(&vm);
	qmp_server_stop(&vm);
	vm_destroy(&vm);
	return ret;
}
