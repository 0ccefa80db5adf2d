// SPDX-License-Identifier: MIT
/*
 * The destination side of a live migration: accept one connection, check
 * the source's configuration against this VM's, load RAM, devices,
 * in-kernel state and vCPUs, then answer the source with a one-byte
 * verdict and run the VM.  Anything wrong in the stream ends this fvmm
 * with one line naming it (the source then goes on running the VM).
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "control/qmp.h"
#include "core/log.h"
#include "core/util.h"
#include "migration/machine.h"
#include "migration/participant.h"
#include "migration/migration.h"
#include "migration/ram.h"
#include "migration/uri.h"

/* The source sends at least a batch a second while it is alive. */
#define INCOMING_IO_TIMEOUT_MS	30000

struct incoming {
	struct vm *vm;
	int listen_fd;
	int fd;
	bool started, stop;
	pthread_t thread;
	struct mig_ram_dest ram;
	bool kstate;
	bool cpu_loaded[VM_MAX_CPUS];
	unsigned cpus;
	uint64_t t0;
};

static struct incoming inc = { .listen_fd = -1, .fd = -1 };

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000ULL + ts.tv_nsec / 1000000;
}

/* Wait for the source, waking up to notice a shutdown. */
static int accept_source(void)
{
	struct pollfd p = { .fd = inc.listen_fd, .events = POLLIN };

	while (!__atomic_load_n(&inc.stop, __ATOMIC_ACQUIRE)) {
		int n = poll(&p, 1, 200);

		if (n < 0 && errno != EINTR)
			return -errno;
		if (n > 0)
			return accept4(inc.listen_fd, NULL, NULL, SOCK_CLOEXEC);
	}
	return -ECANCELED;
}

static int load_cpu(const struct mig_record *rec, char *err, size_t errlen)
{
	unsigned i;
	int ret;

	if (!inc.kstate) {
		snprintf(err, errlen, "vCPU record before the in-kernel state");
		return -EBADMSG;
	}
	ret = mig_load_cpu(inc.vm, rec, &i, err, errlen);
	if (ret)
		return ret;
	if (inc.cpu_loaded[i]) {
		snprintf(err, errlen, "vCPU %u sent twice", i);
		return -EBADMSG;
	}
	inc.cpu_loaded[i] = true;
	inc.cpus++;
	return 0;
}

/* One record; 1 when it was the end record. */
static int load_record(const struct mig_record *rec, bool *configured,
		       char *err, size_t errlen)
{
	int ret;

	if (!*configured && rec->type != MIG_REC_CONFIG) {
		snprintf(err, errlen, "stream does not start with its configuration");
		return -EBADMSG;
	}
	switch (rec->type) {
	case MIG_REC_CONFIG:
		if (*configured) {
			snprintf(err, errlen, "second configuration record");
			return -EBADMSG;
		}
		*configured = true;
		ret = mig_check_config(inc.vm, rec, err, errlen);
		if (!ret)
			mig_load_begin(inc.vm);
		return ret;
	case MIG_REC_RAM:
		return mig_ram_load(&inc.ram, rec, err, errlen);
	case MIG_REC_RAM_SYNC:
		return 0;
	case MIG_REC_DEVICE:
		return mig_load_device(inc.vm, rec, err, errlen);
	case MIG_REC_VM_KSTATE:
		if (inc.kstate) {
			snprintf(err, errlen, "in-kernel state sent twice");
			return -EBADMSG;
		}
		inc.kstate = true;
		return mig_load_kstate(inc.vm, rec, err, errlen);
	case MIG_REC_CPU:
		return load_cpu(rec, err, errlen);
	case MIG_REC_END:
		if (inc.cpus != inc.vm->nr_vcpus) {
			snprintf(err, errlen, "stream ended with %u of %u vCPUs",
				 inc.cpus, inc.vm->nr_vcpus);
			return -EBADMSG;
		}
		mig_load_end(inc.vm);
		return 1;
	}
	snprintf(err, errlen, "unexpected record type %u", rec->type);
	return -EBADMSG;
}

static int receive(char *err, size_t errlen)
{
	struct mig_reader r;
	struct mig_record rec;
	bool configured = false;
	int ret;

	mig_reader_init_fd(&r, &inc.fd);
	ret = mig_read_header(&r, err, errlen);
	while (!ret) {
		ret = mig_read_record(&r, &rec, err, errlen);
		if (ret == -EPIPE)
			snprintf(err, errlen, "the source closed the stream before its end");
		if (!ret)
			ret = load_record(&rec, &configured, err, errlen);
	}
	mig_reader_destroy(&r);
	return ret == 1 ? 0 : ret;
}

static void announce_all(struct vm *vm)
{
	for (struct device *d = vm->devices; d; d = d->next)
		if (d->ops->announce && d->ops->announce(d))
			pr_debug("%s: announce failed", d->id);
}

/*
 * QEMU's announce schedule: the first round right at resume, the next
 * announce-initial ms later, each later gap announce-step ms longer, up to
 * announce-max, announce-rounds in all (defaults: 0, 50, 150, 250, 350 ms).
 * The first one is what ends the loss of a migration: until the fabric
 * hears from the new port it delivers to the old host.  A switch that
 * missed it (a port still coming up) learns from a later one.  Bounded by
 * the parameters' caps (a few minutes at the very most), and cut short when
 * fvmm shuts down.
 */
static void announce_rounds(struct vm *vm)
{
	unsigned initial, max, rounds, step, delay;

	mig_announce_params(&initial, &max, &rounds, &step);
	delay = MIN(initial, max);
	for (unsigned i = 0; i < rounds; i++) {
		if (i) {
			for (unsigned t = 0; t < delay; t += 10) {
				if (__atomic_load_n(&inc.stop, __ATOMIC_ACQUIRE))
					return;
				usleep(10000);
			}
			delay = MIN(delay + step, max);
		}
		announce_all(vm);
	}
}

/*
 * -S: QEMU announces at the end of an incoming migration even while the VM
 * stays paused; fvmm waits for `cont`, because an announce points the
 * fabric at a port whose guest cannot answer yet, and GUEST_ANNOUNCE needs
 * a running guest.  Bounded by the process: shutdown sets inc.stop.
 */
static bool wait_until_running(struct vm *vm)
{
	while (!__atomic_load_n(&inc.stop, __ATOMIC_ACQUIRE)) {
		if (vm_get_state(vm) == VM_RUNNING)
			return true;
		usleep(10000);
	}
	return false;
}

/*
 * The verdict: one byte (0 running here, 1 refused), and for a refusal a
 * u16 length and the reason, so the source's error-desc can say it.
 */
static int send_verdict(int ret, const char *why)
{
	uint8_t v[3 + 300];
	size_t len = ret ? MIN(strlen(why), sizeof(v) - 3) : 0;

	v[0] = ret ? 1 : 0;
	le_write(v + 1, 2, len);
	memcpy(v + 3, why, len);
	if (send(inc.fd, v, 3 + len, MSG_NOSIGNAL) != (ssize_t)(3 + len))
		return -EPIPE;
	return 0;
}

static void finish(int ret, const char *err)
{
	const char *reason = err[0] ? err : strerror(-ret);

	if (inc.fd >= 0 && send_verdict(ret, reason))
		ret = ret ? ret : -EPIPE;
	if (inc.fd >= 0) {
		close(inc.fd);
		inc.fd = -1;
	}
	if (ret) {
		char why[400];

		snprintf(why, sizeof(why), "incoming migration failed: %s",
			 err[0] ? err : strerror(-ret));
		pr_err("%s", why);
		qmp_event(inc.vm, "MIGRATION", json_pack("{s:s}", "status",
							 "failed"));
		vm_request_exit_cause(inc.vm, 1, why, false, "host-error");
		return;
	}
	if (inc.vm->cfg.start_paused) {
		/* -S: the operator (or a test comparing both sides) runs it. */
		vm_set_paused_state(inc.vm, VM_PAUSED);
		qmp_event(inc.vm, "MIGRATION", json_pack("{s:s}", "status",
							 "completed"));
		if (wait_until_running(inc.vm)) {
			mig_participants_resumed();
			announce_rounds(inc.vm);
		}
		return;
	}
	vm_resume(inc.vm);
	pr_info("incoming migration: running after %llu ms",
		(unsigned long long)(now_ms() - inc.t0));
	qmp_event(inc.vm, "MIGRATION", json_pack("{s:s}", "status",
						 "completed"));
	qmp_event(inc.vm, "RESUME", NULL);
	mig_participants_resumed();
	announce_rounds(inc.vm);
}

static void *incoming_thread(void *arg)
{
	char err[320] = "";
	int ret;

	pthread_setname_np(pthread_self(), "incoming");
	ret = accept_source();
	close(inc.listen_fd);
	inc.listen_fd = -1;
	if (ret == -ECANCELED)
		return NULL;
	if (ret < 0) {
		finish(ret, "accepting the source");
		return NULL;
	}
	inc.fd = ret;
	inc.t0 = now_ms();
	mig_socket_set_timeout(inc.fd, INCOMING_IO_TIMEOUT_MS);
	qmp_event(inc.vm, "MIGRATION", json_pack("{s:s}", "status", "active"));
	ret = mig_ram_dest_init(&inc.ram, &inc.vm->mem);
	if (!ret)
		ret = receive(err, sizeof(err));
	mig_ram_dest_destroy(&inc.ram);
	/* The verdict goes out before the announce rounds start. */
	finish(ret, err);
	return NULL;
}

int mig_incoming_start(struct vm *vm, const char *uri, char *err,
		       size_t errlen)
{
	int ret;

	if (inc.started) {
		snprintf(err, errlen, "an incoming migration was already set up");
		return -EBUSY;
	}
	inc.vm = vm;
	inc.listen_fd = mig_uri_listen(uri, err, errlen);
	if (inc.listen_fd < 0)
		return inc.listen_fd;
	ret = -pthread_create(&inc.thread, NULL, incoming_thread, NULL);
	if (ret) {
		snprintf(err, errlen, "cannot start the incoming thread: %s",
			 strerror(-ret));
		close(inc.listen_fd);
		inc.listen_fd = -1;
		return ret;
	}
	inc.started = true;
	pr_info("incoming migration: waiting on %s", uri);
	return 0;
}

void mig_incoming_shutdown(void)
{
	if (!inc.started)
		return;
	__atomic_store_n(&inc.stop, true, __ATOMIC_RELEASE);
	if (inc.fd >= 0)
		shutdown(inc.fd, SHUT_RDWR);
	pthread_join(inc.thread, NULL);
	inc.started = false;
}
