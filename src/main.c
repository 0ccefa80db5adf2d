// SPDX-License-Identifier: MIT
/* fvmm: parse options, build the VM, run it.  No device logic here. */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "control/qmp.h"
#include "core/config.h"
#include "core/log.h"
#include "core/vm.h"
#include "failover/failover.h"
#include "machine/pc.h"
#include "migration/migration.h"

static int sigfd = -1;

static void on_signal(void *opaque, uint32_t events)
{
	struct signalfd_siginfo si;
	char why[64];

	if (read(sigfd, &si, sizeof(si)) != sizeof(si))
		return;
	snprintf(why, sizeof(why), "terminated by signal %s",
		 strsignal(si.ssi_signo));
	vm_request_exit_cause(opaque, 0, why, false, "host-signal");
}

/*
 * SIGTERM, SIGINT and SIGHUP end the VM the orderly way (QMP clients get
 * SHUTDOWN, the socket and terminal are cleaned up), as QEMU does.  They are
 * blocked before any thread exists, so only the signalfd sees them.
 */
static int block_exit_signals(sigset_t *set)
{
	sigemptyset(set);
	sigaddset(set, SIGTERM);
	sigaddset(set, SIGINT);
	sigaddset(set, SIGHUP);
	return pthread_sigmask(SIG_BLOCK, set, NULL) ? -1 : 0;
}

static int watch_exit_signals(struct vm *vm, const sigset_t *set)
{
	int ret;

	sigfd = signalfd(-1, set, SFD_CLOEXEC | SFD_NONBLOCK);
	if (sigfd < 0)
		return -errno;
	ret = evloop_add(&vm->loop, sigfd, EPOLLIN, on_signal, vm);
	if (ret) {
		close(sigfd);
		sigfd = -1;
	}
	return ret;
}

int main(int argc, char **argv)
{
	struct vm_config cfg;
	sigset_t sigs;
	struct vm vm;
	int ret;

	ret = config_parse(argc, argv, &cfg);
	if (ret < 0)
		return 2;
	if (ret == CONFIG_EXIT_OK)
		return 0;
	/* A closed console pipe must not kill the VMM mid-write. */
	signal(SIGPIPE, SIG_IGN);
	block_exit_signals(&sigs);
	ret = vm_create(&vm, &cfg, &fvmm_pc_machine);
	if (ret) {
		vm_destroy(&vm);
		return 1;
	}
	ret = watch_exit_signals(&vm, &sigs);
	if (ret)
		pr_warn("cannot watch SIGTERM/SIGINT: %s", strerror(-ret));
	failover_migration_init(&vm);
	if (migration_init(&vm) || qmp_server_start(&vm)) {
		migration_shutdown(&vm);
		vm_destroy(&vm);
		return 1;
	}
	ret = vm_run(&vm);
	migration_shutdown(&vm);
	qmp_server_stop(&vm);
	if (sigfd >= 0) {
		evloop_del(&vm.loop, sigfd);
		close(sigfd);
	}
	vm_destroy(&vm);
	return ret;
}
