// SPDX-License-Identifier: MIT
/*
 * The source side of a live migration and its QMP commands: a background
 * thread that connects, sends the configuration, pre-copies RAM pass after
 * pass until the rest fits in downtime-limit, then pauses the VM, sends the
 * last pages, the devices and the vCPUs, and waits for the destination's
 * verdict.  A failure anywhere before that verdict leaves the VM running
 * here, as if nothing had happened.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "control/qmp.h"
#include "core/log.h"
#include "core/util.h"
#include "migration/cpu_state.h"
#include "migration/machine.h"
#include "migration/participant.h"
#include "migration/migration.h"
#include "migration/ram.h"
#include "migration/uri.h"

#define MIG_CONNECT_TIMEOUT_MS	10000
/* A destination that takes no bytes (or sends no verdict) this long is dead. */
#define MIG_IO_TIMEOUT_MS	30000
/*
 * A guest that dirties memory faster than the link carries it never
 * converges; QEMU then runs forever.  fvmm stops after x-max-passes passes
 * (this by default) and goes over the downtime limit instead, and says so:
 * a warning and "x-converged": false in query-migrate.
 */
#define MIG_MAX_PASSES		64
/*
 * downtime-limit is a ceiling, not a target: while a pass still shrinks
 * the dirty set to at most half, one more pass costs little total time and
 * cuts the downtime (a guest dirtying 16 MiB/s on a 600 Mbit/s link: 170 ms
 * at QEMU's stopping point, under 10 ms two passes later).  Below this the
 * last copy is as short as the pause itself.
 */
#define MIG_GOOD_DOWNTIME_MS	5

/*
 * x-unplug-timeout's default: Linux's pciehp waits 5 s after an attention
 * button before it acts (the operator's chance to cancel), then unbinds
 * the driver and powers the slot off; 10 s covers that with room to spare.
 * A guest that takes longer is stuck, and QEMU would wait for it forever.
 */
#define MIG_UNPLUG_TIMEOUT_MS	10000
/* After a surprise removal the slot empties at once; this only bounds it. */
#define MIG_SURPRISE_WAIT_MS	2000

enum mig_status {
	MIG_NONE, MIG_SETUP, MIG_WAIT_UNPLUG, MIG_ACTIVE, MIG_DEVICE, MIG_COMPLETED,
	MIG_FAILED, MIG_CANCELLING, MIG_CANCELLED,
};

static const char *const mig_status_names[] = {
	[MIG_NONE] = "none", [MIG_SETUP] = "setup",
	[MIG_WAIT_UNPLUG] = "wait-unplug", [MIG_ACTIVE] = "active",
	[MIG_DEVICE] = "device", [MIG_COMPLETED] = "completed",
	[MIG_FAILED] = "failed", [MIG_CANCELLING] = "cancelling",
	[MIG_CANCELLED] = "cancelled",
};

struct mig_params {
	uint64_t downtime_limit;	/* ms */
	uint64_t max_bandwidth;		/* bytes/s */
	uint64_t announce_initial, announce_max, announce_rounds,
		 announce_step;		/* ms, ms, count, ms */
	uint64_t max_passes;		/* x-max-passes: pre-copy pass cap */
	uint64_t unplug_timeout;	/* x-unplug-timeout, ms */
	bool unplug_surprise;		/* x-unplug-timeout-action=surprise */
};

struct migration {
	struct vm *vm;
	pthread_mutex_t lock;		/* everything below */
	enum mig_status status;
	bool thread_started;
	pthread_t thread;
	bool cancel;
	int fd;
	char uri[256];
	char error[320];
	struct mig_params params;
	struct mig_writer w;
	struct mig_ram ram;
	uint64_t start_ms, setup_ms, total_ms, downtime_ms, unplug_ms;
	bool prepared;			/* participants were asked to prepare */
	bool unconfirmed;		/* all sent, no verdict: VM may run there */
	uint64_t expected_downtime_ms, passes, dirty_rate;
	int64_t dirty_prev, dirty_now;	/* pages dirty after the last passes */
	bool converged;			/* false: the pass cap stopped pre-copy */
	double mbps;
	/* Throttling: bytes sent since throttle_t0. */
	uint64_t throttle_t0, throttle_bytes;
};

static struct migration mig = {
	.lock = PTHREAD_MUTEX_INITIALIZER,
	.fd = -1,
	/* QEMU's defaults, so scripts written for QEMU behave the same. */
	.params = { .downtime_limit = 300, .max_bandwidth = 128 * MiB,
		    .announce_initial = 50, .announce_max = 550,
		    .announce_rounds = 5, .announce_step = 100,
		    .max_passes = MIG_MAX_PASSES,
		    .unplug_timeout = MIG_UNPLUG_TIMEOUT_MS },
};

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000ULL + ts.tv_nsec / 1000000;
}

static void set_status(enum mig_status s)
{
	pthread_mutex_lock(&mig.lock);
	if (mig.status == MIG_CANCELLING && s != MIG_CANCELLED &&
	    s != MIG_FAILED && s != MIG_COMPLETED) {
		pthread_mutex_unlock(&mig.lock);
		return;
	}
	mig.status = s;
	pthread_mutex_unlock(&mig.lock);
	pr_info("migration: %s", mig_status_names[s]);
	qmp_event(mig.vm, "MIGRATION",
		  json_pack("{s:s}", "status", mig_status_names[s]));
}

static bool cancelled(void)
{
	return __atomic_load_n(&mig.cancel, __ATOMIC_ACQUIRE);
}

/*
 * Between RAM batches: cancellation, max-bandwidth, and the rate that
 * query-migrate shows while a pass runs (over windows of a second).
 */
static int batch_done(void *opaque, uint64_t bytes)
{
	uint64_t bw, elapsed, due;

	if (cancelled())
		return -ECANCELED;
	pthread_mutex_lock(&mig.lock);
	bw = mig.params.max_bandwidth;
	pthread_mutex_unlock(&mig.lock);
	mig.throttle_bytes += bytes;
	elapsed = now_ms() - mig.throttle_t0;
	due = bw ? mig.throttle_bytes * 1000 / bw : 0;
	/* In slices: one batch at a low max-bandwidth is seconds of sleep,
	 * and migrate_cancel must not wait for it. */
	while (due > elapsed && !cancelled()) {
		usleep(MIN(due - elapsed, 50) * 1000);
		elapsed = now_ms() - mig.throttle_t0;
	}
	if (elapsed >= 1000) {
		pthread_mutex_lock(&mig.lock);
		mig.mbps = mig.throttle_bytes * 8.0 / 1000.0 / elapsed;
		pthread_mutex_unlock(&mig.lock);
		mig.throttle_t0 = now_ms();
		mig.throttle_bytes = 0;
	}
	return cancelled() ? -ECANCELED : 0;
}

/* The first reason given is the one query-migrate reports. */
static void fail(const char *what, int err)
{
	pthread_mutex_lock(&mig.lock);
	if (!mig.error[0] && err)
		snprintf(mig.error, sizeof(mig.error), "%s: %s", what,
			 strerror(-err));
	else if (!mig.error[0])
		snprintf(mig.error, sizeof(mig.error), "%s", what);
	pthread_mutex_unlock(&mig.lock);
}

static int send_pass(void)
{
	uint64_t t0 = now_ms(), b0 = mig.w.bytes, ms;
	uint8_t pass[8];
	int64_t dirty;
	int ret;

	ret = mig_ram_send(&mig.ram, &mig.w, batch_done, NULL);
	if (ret)
		return ret;
	le_write(pass, 8, mig.passes + 1);
	ret = mig_write_record(&mig.w, MIG_REC_RAM_SYNC, pass, sizeof(pass));
	if (ret)
		return ret;
	dirty = mig_ram_sync(&mig.ram);
	if (dirty < 0)
		return dirty;
	ms = MAX(now_ms() - t0, 1);
	pthread_mutex_lock(&mig.lock);
	mig.passes++;
	mig.dirty_prev = mig.passes == 1 ? INT64_MAX : mig.dirty_now;
	mig.dirty_now = dirty;
	mig.mbps = (mig.w.bytes - b0) * 8.0 / 1000.0 / ms;
	mig.dirty_rate = dirty * 1000 / ms;
	/* What the last pass would cost at the rate this one ran at. */
	mig.expected_downtime_ms = mig.mbps > 0 ?
		(uint64_t)(dirty * GM_PAGE_SIZE * 8.0 / 1000.0 / mig.mbps) : 0;
	pthread_mutex_unlock(&mig.lock);
	qmp_event(mig.vm, "MIGRATION_PASS",
		  json_pack("{s:I}", "pass", (json_int_t)mig.passes));
	return 0;
}

/* Within the limit and no longer worth another pass (MIG_GOOD_DOWNTIME_MS). */
static bool converged(void)
{
	bool within, shrinking;

	pthread_mutex_lock(&mig.lock);
	within = mig.expected_downtime_ms <= mig.params.downtime_limit;
	shrinking = mig.expected_downtime_ms > MIG_GOOD_DOWNTIME_MS &&
		    mig.dirty_now <= mig.dirty_prev / 2;
	pthread_mutex_unlock(&mig.lock);
	return within && !shrinking;
}

static bool within_limit(void)
{
	bool within;

	pthread_mutex_lock(&mig.lock);
	within = mig.expected_downtime_ms <= mig.params.downtime_limit;
	pthread_mutex_unlock(&mig.lock);
	return within;
}

static int precopy(void)
{
	uint64_t cap;
	int ret;

	pthread_mutex_lock(&mig.lock);
	cap = mig.params.max_passes;
	pthread_mutex_unlock(&mig.lock);
	do {
		ret = send_pass();
		if (ret)
			return ret;
	} while (!converged() && mig.passes < cap);
	if (within_limit())
		return 0;
	pthread_mutex_lock(&mig.lock);
	mig.converged = false;
	pthread_mutex_unlock(&mig.lock);
	pr_warn("migration: no convergence after %llu passes (expected downtime %llu ms over the %llu ms limit): stopping the VM anyway",
		(unsigned long long)cap,
		(unsigned long long)mig.expected_downtime_ms,
		(unsigned long long)mig.params.downtime_limit);
	return 0;
}

/*
 * The destination's verdict (incoming.c): 0 = it runs the VM now; 1, a
 * u16 length and its reason = it refused.  The reason goes to error-desc.
 */
static int await_verdict(char *err, size_t errlen)
{
	uint8_t v[3 + 300];
	size_t got = 0, want = 3;
	ssize_t n;

	while (got < want) {
		n = recv(mig.fd, v + got, want - got, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n == 0 ? -EPIPE : -errno;
		got += n;
		if (got == 3 && v[0] == 0)
			return 0;
		if (got == 3)
			want = 3 + MIN(le_read(v + 1, 2), sizeof(v) - 3);
	}
	snprintf(err, errlen, "the destination refused the VM: %.*s",
		 (int)(want - 3), v + 3);
	return -EREMOTEIO;
}

/*
 * A send failed: a destination that refused the configuration closed the
 * connection after saying why, so look for that before blaming the link.
 */
static int refusal_after_send_error(int ret, char *err, size_t errlen)
{
	struct timeval tv = { .tv_sec = 1 };

	setsockopt(mig.fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	return await_verdict(err, errlen) == -EREMOTEIO ? -EREMOTEIO : ret;
}

static uint64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000ULL + ts.tv_nsec / 1000;
}

static int stop_and_copy(char *err, size_t errlen)
{
	bool was_running = vm_get_state(mig.vm) == VM_RUNNING;
	uint64_t t0 = now_ms(), us[5], pages = 0;
	int64_t dirty;
	int ret;

	set_status(MIG_DEVICE);
	us[0] = now_us();
	vm_pause(mig.vm);
	us[1] = now_us();
	dirty = mig_ram_sync(&mig.ram);
	ret = dirty < 0 ? -EIO : 0;
	if (!ret) {
		pages = dirty;
		ret = mig_ram_send(&mig.ram, &mig.w, NULL, NULL);
	}
	us[2] = now_us();
	if (!ret)
		ret = mig_send_machine(mig.vm, &mig.w, err, errlen);
	if (!ret)
		ret = mig_write_record(&mig.w, MIG_REC_END, NULL, 0);
	us[3] = now_us();
	if (!ret) {
		ret = await_verdict(err, errlen);
		/*
		 * Everything went out but no verdict came back: the
		 * destination may be running the VM.  Resuming here could run
		 * it twice, so it stays paused for the operator to decide.
		 */
		if (ret && ret != -EREMOTEIO) {
			snprintf(err, errlen, "the destination did not confirm (%s): the VM stays paused here; 'cont' resumes it if the destination does not run it",
				 strerror(-ret));
			mig.unconfirmed = true;
			return ret;
		}
	}
	if (ret) {
		/* Nothing runs on the destination: go on here as before. */
		if (was_running)
			vm_resume(mig.vm);
		return ret;
	}
	vm_set_paused_state(mig.vm, VM_POSTMIGRATE);
	us[4] = now_us();
	pthread_mutex_lock(&mig.lock);
	mig.downtime_ms = now_ms() - t0;
	pthread_mutex_unlock(&mig.lock);
	/* Where the downtime went, for whoever tunes it. */
	pr_info("migration: downtime %llu us: pausing %llu, last %llu pages %llu, device and vCPU state %llu, destination load and resume %llu",
		(unsigned long long)(us[4] - us[0]),
		(unsigned long long)(us[1] - us[0]),
		(unsigned long long)pages, (unsigned long long)(us[2] - us[1]),
		(unsigned long long)(us[3] - us[2]),
		(unsigned long long)(us[4] - us[3]));
	return 0;
}

/*
 * wait-unplug: what the participants must do before RAM moves (failover:
 * the guest powering off every primary's slot), bounded by
 * x-unplug-timeout; then, by x-unplug-timeout-action, fail the migration
 * (cancel) or have them force it (surprise) and go on.
 */
static int wait_unplug(char *err, size_t errlen)
{
	uint64_t t0 = now_ms(), limit, waited;
	char what[96] = "";
	bool surprise;
	int n;

	n = mig_participants_prepare(err, errlen);
	pthread_mutex_lock(&mig.lock);
	mig.prepared = true;
	limit = mig.params.unplug_timeout;
	surprise = mig.params.unplug_surprise;
	pthread_mutex_unlock(&mig.lock);
	if (n <= 0)
		return n;
	set_status(MIG_WAIT_UNPLUG);
	while (mig_participants_pending(what, sizeof(what)) > 0) {
		waited = now_ms() - t0;
		if (cancelled())
			return -ECANCELED;
		if (waited >= limit && !surprise) {
			snprintf(err, errlen, "the guest did not release %s within %llu ms (x-unplug-timeout; x-unplug-timeout-action is cancel)",
				 what, (unsigned long long)limit);
			return -ETIMEDOUT;
		}
		if (waited >= limit + MIG_SURPRISE_WAIT_MS) {
			snprintf(err, errlen, "%s is still there %d ms after its surprise removal",
				 what, MIG_SURPRISE_WAIT_MS);
			return -ETIMEDOUT;
		}
		if (waited >= limit && surprise && limit) {
			pr_warn("migration: the guest did not release %s within %llu ms: removing it by surprise",
				what, (unsigned long long)limit);
			mig_participants_force();
			limit = 0;	/* warned and forced once */
			t0 = now_ms() - MIG_SURPRISE_WAIT_MS / 2;
		}
		usleep(5000);
		pthread_mutex_lock(&mig.lock);
		mig.unplug_ms = now_ms() - t0;
		pthread_mutex_unlock(&mig.lock);
	}
	pthread_mutex_lock(&mig.lock);
	mig.unplug_ms = now_ms() - t0;
	pthread_mutex_unlock(&mig.lock);
	return 0;
}

static int run_migration(void)
{
	char err[256] = "";
	int fd, ret;

	fd = mig_uri_connect(mig.uri, MIG_CONNECT_TIMEOUT_MS, &mig.cancel, err,
			     sizeof(err));
	if (fd < 0) {
		if (fd != -ECANCELED)
			fail(err, 0);
		return fd;
	}
	mig_socket_set_timeout(fd, MIG_IO_TIMEOUT_MS);
	pthread_mutex_lock(&mig.lock);
	mig.fd = fd;
	mig.w = (struct mig_writer){ .fd = fd };
	pthread_mutex_unlock(&mig.lock);
	/* Before the configuration: it lists the devices that stay. */
	ret = wait_unplug(err, sizeof(err));
	if (ret) {
		if (ret != -ECANCELED)
			fail(err[0] ? err : "wait-unplug", err[0] ? 0 : ret);
		return ret;
	}
	ret = mig_write_header(&mig.w);
	if (!ret)
		ret = mig_send_config(mig.vm, &mig.w);
	if (!ret)
		ret = mig_ram_start(&mig.ram, &mig.vm->mem, mig.vm->vm_fd);
	if (ret) {
		fail("setup", ret);
		return ret;
	}
	pthread_mutex_lock(&mig.lock);
	mig.setup_ms = now_ms() - mig.start_ms;
	pthread_mutex_unlock(&mig.lock);
	mig.throttle_t0 = now_ms();
	mig.throttle_bytes = 0;
	set_status(MIG_ACTIVE);
	ret = precopy();
	if (!ret && !cancelled())
		ret = stop_and_copy(err, sizeof(err));
	mig_ram_stop(&mig.ram);
	if ((ret == -EPIPE || ret == -ECONNRESET) && !cancelled())
		ret = refusal_after_send_error(ret, err, sizeof(err));
	if (ret && ret != -ECANCELED) {
		if (err[0])
			fail(err, 0);
		else
			fail("to the destination", ret);
	}
	return ret;
}

static void *mig_thread(void *arg)
{
	int ret;

	pthread_setname_np(pthread_self(), "migration");
	ret = run_migration();
	/* The VM goes on here: what was undone for the move comes back. */
	if (ret && mig.prepared && !mig.unconfirmed)
		mig_participants_undo();
	pthread_mutex_lock(&mig.lock);
	if (mig.fd >= 0) {
		close(mig.fd);
		mig.fd = -1;
	}
	mig.total_ms = now_ms() - mig.start_ms;
	pthread_mutex_unlock(&mig.lock);
	if (!ret) {
		set_status(MIG_COMPLETED);
		pr_info("migration: completed in %llu ms, downtime %llu ms; the VM now runs on the destination",
			(unsigned long long)mig.total_ms,
			(unsigned long long)mig.downtime_ms);
	} else if (cancelled()) {
		set_status(MIG_CANCELLED);
	} else {
		pr_err("migration failed: %s", mig.error);
		set_status(MIG_FAILED);
	}
	return NULL;
}

static void reset_stats(struct vm *vm, const char *uri)
{
	mig.vm = vm;
	mig.cancel = false;
	mig.error[0] = 0;
	snprintf(mig.uri, sizeof(mig.uri), "%s", uri);
	mig.start_ms = now_ms();
	mig.setup_ms = mig.total_ms = mig.downtime_ms = mig.unplug_ms = 0;
	mig.prepared = mig.unconfirmed = false;
	mig.expected_downtime_ms = mig.passes = mig.dirty_rate = 0;
	mig.dirty_prev = mig.dirty_now = 0;
	mig.converged = true;
	mig.mbps = 0;
	memset(&mig.ram, 0, sizeof(mig.ram));
	mig.w = (struct mig_writer){ .fd = -1 };
}

static bool mig_running(enum mig_status s)
{
	return s == MIG_SETUP || s == MIG_WAIT_UNPLUG || s == MIG_ACTIVE ||
	       s == MIG_DEVICE || s == MIG_CANCELLING;
}

static void join_finished(void)
{
	if (mig.thread_started && !mig_running(mig.status)) {
		pthread_join(mig.thread, NULL);
		mig.thread_started = false;
	}
}

static const struct qmp_arg migrate_args[] = {
	{ "uri", QMP_ARG_STR, false },
	{ "blk", QMP_ARG_BOOL, true },
	{ "inc", QMP_ARG_BOOL, true },
	{ "detach", QMP_ARG_BOOL, true },
	{ "resume", QMP_ARG_BOOL, true },
	QMP_ARGS_END
};

static int qmp_migrate(struct qmp_request *req)
{
	const char *uri = qmp_arg_str(req, "uri", "");
	int ret;

	if (strncmp(uri, "tcp:", 4) && strncmp(uri, "unix:", 5))
		return qmp_error(req, QMP_ERR_GENERIC,
				 "Invalid migration URI '%s': expected tcp:HOST:PORT or unix:PATH",
				 uri);
	if (qmp_arg_bool(req, "blk", false) || qmp_arg_bool(req, "inc", false) ||
	    qmp_arg_bool(req, "resume", false))
		return qmp_error(req, QMP_ERR_GENERIC,
				 "fvmm has no block devices or postcopy: blk, inc and resume are not supported");
	pthread_mutex_lock(&mig.lock);
	if (mig_running(mig.status)) {
		pthread_mutex_unlock(&mig.lock);
		return qmp_error(req, QMP_ERR_GENERIC,
				 "There's a migration process in progress");
	}
	join_finished();
	reset_stats(req->vm, uri);
	mig.status = MIG_SETUP;
	ret = -pthread_create(&mig.thread, NULL, mig_thread, NULL);
	mig.thread_started = !ret;
	if (ret)
		mig.status = MIG_FAILED;
	pthread_mutex_unlock(&mig.lock);
	if (ret)
		return qmp_error(req, QMP_ERR_GENERIC,
				 "cannot start the migration thread: %s",
				 strerror(-ret));
	pr_info("migration: to %s", uri);
	qmp_event(req->vm, "MIGRATION", json_pack("{s:s}", "status", "setup"));
	return 0;
}

static int qmp_migrate_cancel(struct qmp_request *req)
{
	pthread_mutex_lock(&mig.lock);
	if (mig_running(mig.status) && mig.status != MIG_CANCELLING) {
		__atomic_store_n(&mig.cancel, true, __ATOMIC_RELEASE);
		mig.status = MIG_CANCELLING;
		/* Unblock a send to a destination that stopped reading. */
		if (mig.fd >= 0)
			shutdown(mig.fd, SHUT_RDWR);
		pthread_mutex_unlock(&mig.lock);
		qmp_event(req->vm, "MIGRATION",
			  json_pack("{s:s}", "status", "cancelling"));
		return 0;
	}
	pthread_mutex_unlock(&mig.lock);
	return 0;
}

static json_t *ram_info(void)
{
	uint64_t normal = mig.ram.normal_pages;

	return json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:f, s:I, s:I}",
		"transferred", (json_int_t)mig.w.bytes,
		"remaining", (json_int_t)(mig.ram.todo_pages * GM_PAGE_SIZE),
		"total", (json_int_t)mig.vm->mem.ram_size,
		"duplicate", (json_int_t)mig.ram.zero_pages,
		"normal", (json_int_t)normal,
		"normal-bytes", (json_int_t)(normal * GM_PAGE_SIZE),
		"dirty-sync-count", (json_int_t)mig.passes,
		"mbps", mig.mbps,
		"dirty-pages-rate", (json_int_t)mig.dirty_rate,
		"page-size", (json_int_t)GM_PAGE_SIZE);
}

static int qmp_query_migrate(struct qmp_request *req)
{
	json_t *r;

	pthread_mutex_lock(&mig.lock);
	if (mig.status == MIG_NONE) {
		pthread_mutex_unlock(&mig.lock);
		req->ret = json_object();
		return 0;
	}
	r = json_pack("{s:s, s:I}", "status", mig_status_names[mig.status],
		      "setup-time", (json_int_t)mig.setup_ms);
	if (mig.status != MIG_SETUP && mig.status != MIG_WAIT_UNPLUG)
		json_object_set_new(r, "ram", ram_info());
	if (mig_running(mig.status)) {
		json_object_set_new(r, "total-time",
				    json_integer(now_ms() - mig.start_ms));
		json_object_set_new(r, "expected-downtime",
				    json_integer(mig.expected_downtime_ms));
	} else {
		json_object_set_new(r, "total-time", json_integer(mig.total_ms));
	}
	if (mig.status == MIG_COMPLETED)
		json_object_set_new(r, "downtime", json_integer(mig.downtime_ms));
	if (mig.status != MIG_SETUP)
		json_object_set_new(r, "x-converged",
				    json_boolean(mig.converged));
	if (mig.prepared)
		json_object_set_new(r, "x-wait-unplug-ms",
				    json_integer(mig.unplug_ms));
	if (mig.status == MIG_FAILED)
		json_object_set_new(r, "error-desc", json_string(mig.error));
	pthread_mutex_unlock(&mig.lock);
	req->ret = r;
	return r ? 0 : -ENOMEM;
}

struct param_def {
	const char *name;
	size_t off;
	uint64_t max;
};

#define PARAM(n, m, mx) { n, offsetof(struct mig_params, m), mx }
static const struct param_def param_defs[] = {
	PARAM("downtime-limit", downtime_limit, 2000000),
	PARAM("max-bandwidth", max_bandwidth, UINT64_MAX >> 1),
	PARAM("announce-initial", announce_initial, 100000),
	PARAM("announce-max", announce_max, 100000),
	PARAM("announce-rounds", announce_rounds, 1000),
	PARAM("announce-step", announce_step, 10000),
	PARAM("x-max-passes", max_passes, 100000),
	/* The destination gives up on a silent stream after 30 s. */
	PARAM("x-unplug-timeout", unplug_timeout, 20000),
};

static const struct qmp_arg set_params_args[] = {
	{ "downtime-limit", QMP_ARG_UINT, true },
	{ "max-bandwidth", QMP_ARG_UINT, true },
	{ "announce-initial", QMP_ARG_UINT, true },
	{ "announce-max", QMP_ARG_UINT, true },
	{ "announce-rounds", QMP_ARG_UINT, true },
	{ "announce-step", QMP_ARG_UINT, true },
	{ "x-max-passes", QMP_ARG_UINT, true },
	{ "x-unplug-timeout", QMP_ARG_UINT, true },
	{ "x-unplug-timeout-action", QMP_ARG_STR, true },
	QMP_ARGS_END
};

static int qmp_set_params(struct qmp_request *req)
{
	struct mig_params p;

	pthread_mutex_lock(&mig.lock);
	p = mig.params;
	pthread_mutex_unlock(&mig.lock);
	for (size_t i = 0; i < ARRAY_SIZE(param_defs); i++) {
		const struct param_def *d = &param_defs[i];
		long long v;

		if (!qmp_arg_present(req, d->name))
			continue;
		v = qmp_arg_int(req, d->name, 0);
		if ((uint64_t)v > d->max)
			return qmp_error(req, QMP_ERR_GENERIC,
					 "Parameter '%s' expects a value from 0 to %llu",
					 d->name, (unsigned long long)d->max);
		*(uint64_t *)((char *)&p + d->off) = v;
	}
	if (qmp_arg_present(req, "x-unplug-timeout-action")) {
		const char *a = qmp_arg_str(req, "x-unplug-timeout-action", "");

		if (strcmp(a, "cancel") && strcmp(a, "surprise"))
			return qmp_error(req, QMP_ERR_GENERIC,
					 "Parameter 'x-unplug-timeout-action' expects 'cancel' or 'surprise'");
		p.unplug_surprise = !strcmp(a, "surprise");
	}
	pthread_mutex_lock(&mig.lock);
	mig.params = p;
	pthread_mutex_unlock(&mig.lock);
	return 0;
}

static int qmp_query_params(struct qmp_request *req)
{
	json_t *r = json_object();

	pthread_mutex_lock(&mig.lock);
	for (size_t i = 0; i < ARRAY_SIZE(param_defs); i++)
		json_object_set_new(r, param_defs[i].name, json_integer(
			*(uint64_t *)((char *)&mig.params + param_defs[i].off)));
	json_object_set_new(r, "x-unplug-timeout-action", json_string(
		mig.params.unplug_surprise ? "surprise" : "cancel"));
	pthread_mutex_unlock(&mig.lock);
	req->ret = r;
	return 0;
}

static const struct qmp_arg incoming_args[] = {
	{ "uri", QMP_ARG_STR, false },
	QMP_ARGS_END
};

static int qmp_migrate_incoming(struct qmp_request *req)
{
	char err[256] = "";

	if (!req->vm->cfg.incoming || strcmp(req->vm->cfg.incoming, "defer"))
		return qmp_error(req, QMP_ERR_GENERIC,
				 "migrate-incoming needs fvmm started with --incoming defer");
	if (mig_incoming_start(req->vm, qmp_arg_str(req, "uri", ""), err,
			       sizeof(err)))
		return qmp_error(req, QMP_ERR_GENERIC, "%s", err);
	return 0;
}

/* x-query-ram-digest: see mig_ram_digest(). */
static int qmp_ram_digest(struct qmp_request *req)
{
	char hex[20];

	if (vm_get_state(req->vm) == VM_RUNNING)
		return qmp_error(req, QMP_ERR_GENERIC,
				 "x-query-ram-digest needs a stopped VM (its RAM changes while it runs)");
	snprintf(hex, sizeof(hex), "%016llx",
		 (unsigned long long)mig_ram_digest(&req->vm->mem));
	req->ret = json_pack("{s:s, s:I}", "digest", hex, "bytes",
			     (json_int_t)req->vm->mem.ram_size);
	return req->ret ? 0 : -ENOMEM;
}

#define LIVE	(QMP_STATE(VM_RUNNING) | QMP_STATE(VM_PAUSED))

static const struct qmp_command mig_commands[] = {
	{ .name = "migrate", .handler = qmp_migrate, .args = migrate_args,
	  .states = LIVE },
	{ .name = "migrate_cancel", .handler = qmp_migrate_cancel },
	{ .name = "query-migrate", .handler = qmp_query_migrate },
	{ .name = "migrate-set-parameters", .handler = qmp_set_params,
	  .args = set_params_args },
	{ .name = "query-migrate-parameters", .handler = qmp_query_params },
	{ .name = "x-query-ram-digest", .handler = qmp_ram_digest },
	{ .name = "migrate-incoming", .handler = qmp_migrate_incoming,
	  .args = incoming_args, .states = QMP_STATE(VM_INMIGRATE) },
};

void mig_announce_params(unsigned *initial, unsigned *max, unsigned *rounds,
			 unsigned *step)
{
	pthread_mutex_lock(&mig.lock);
	*initial = mig.params.announce_initial;
	*max = mig.params.announce_max;
	*rounds = mig.params.announce_rounds;
	*step = mig.params.announce_step;
	pthread_mutex_unlock(&mig.lock);
}

int migration_init(struct vm *vm)
{
	char err[256] = "";
	int ret;

	mig.vm = vm;
	ret = cpu_msr_list_init(vm->kvm_fd);
	if (!ret)
		ret = mig_machine_init(vm);
	if (ret) {
		pr_err("migration: cannot read KVM's MSR list or CPUID: %s", strerror(-ret));
		return ret;
	}
	ret = qmp_register_commands(mig_commands, ARRAY_SIZE(mig_commands));
	if (ret) {
		pr_err("qmp: cannot register the migration commands: %s",
		       strerror(-ret));
		return ret;
	}
	if (!vm->cfg.incoming || !strcmp(vm->cfg.incoming, "defer"))
		return 0;
	ret = mig_incoming_start(vm, vm->cfg.incoming, err, sizeof(err));
	if (ret)
		pr_err("--incoming: %s", err);
	return ret;
}

void migration_shutdown(struct vm *vm)
{
	pthread_mutex_lock(&mig.lock);
	if (mig_running(mig.status)) {
		__atomic_store_n(&mig.cancel, true, __ATOMIC_RELEASE);
		if (mig.fd >= 0)
			shutdown(mig.fd, SHUT_RDWR);
	}
	pthread_mutex_unlock(&mig.lock);
	/* The thread's sends and receives are bounded by MIG_IO_TIMEOUT_MS. */
	if (mig.thread_started) {
		pthread_join(mig.thread, NULL);
		mig.thread_started = false;
	}
	mig_incoming_shutdown();
}
