// SPDX-License-Identifier: MIT
/*
 * The device I/O thread (src/core/evloop.c).  Every wait is bounded: a
 * callback that never comes fails the test after WAIT_MS instead of hanging.
 */
#include <dlfcn.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>

#include "helpers.h"

#include "core/evloop.h"
#include "core/util.h"

#define WAIT_MS		2000

struct ctx {
	struct evloop *loop;
	int done;		/* eventfd the callbacks signal */
	int fd;			/* the fd being watched */
	int calls;
	int on_loop_thread;	/* every callback ran on the loop thread */
	int order[200];
	int norder;
	int entered;		/* eventfd: slow callback started */
	int finished;		/* slow callback returned (atomic) */
	uint64_t fired_ns;
};

/*
 * cmocka's asserts may only fail on the test's own thread, so callbacks
 * (which run on the loop thread) count problems here instead; teardown
 * fails the test if any were seen.
 */
static int thread_errors;

#define CB_CHECK(cond) do {						\
	if (!(cond)) {							\
		print_error("%s:%d: callback check failed: %s\n",	\
			    __FILE__, __LINE__, #cond);			\
		__atomic_add_fetch(&thread_errors, 1, __ATOMIC_SEQ_CST); \
	}								\
} while (0)

static void signal_fd(int fd)
{
	uint64_t one = 1;

	CB_CHECK(write(fd, &one, sizeof(one)) == sizeof(one));
}

/*
 * Interpose pthread_create so a test can widen the window between the new
 * thread starting and pthread_create() returning to evloop_start().  The
 * real function (ASan's interceptor or libc's) is the next definition.
 */
static int delay_after_create_ms;

int pthread_create(pthread_t *t, const pthread_attr_t *attr,
		   void *(*fn)(void *), void *arg)
{
	static int (*real)(pthread_t *, const pthread_attr_t *,
			   void *(*)(void *), void *);
	int ret;

	if (!real)
		real = (__typeof__(real))dlsym(RTLD_NEXT, "pthread_create");
	ret = real(t, attr, fn, arg);
	if (!ret && delay_after_create_ms)
		usleep(delay_after_create_ms * 1000);
	return ret;
}

static void wait_done(struct ctx *c)
{
	uint64_t v;

	if (!wait_readable(c->done, WAIT_MS))
		fail_msg("callback did not run within %d ms", WAIT_MS);
	assert_int_equal(read(c->done, &v, sizeof(v)), sizeof(v));
}

static int setup(void **state)
{
	struct ctx *c = calloc(1, sizeof(*c));

	if (!c)
		return -1;
	c->loop = calloc(1, sizeof(*c->loop));
	if (!c->loop || evloop_init(c->loop))
		return -1;
	c->done = eventfd(0, EFD_CLOEXEC);
	c->entered = eventfd(0, EFD_CLOEXEC);
	c->fd = -1;
	c->on_loop_thread = 1;
	*state = c;
	return 0;
}

static int teardown(void **state)
{
	struct ctx *c = *state;
	int errors;

	evloop_destroy(c->loop);
	delay_after_create_ms = 0;
	errors = __atomic_exchange_n(&thread_errors, 0, __ATOMIC_SEQ_CST);
	close(c->done);
	close(c->entered);
	free(c->loop);
	free(c);
	return errors ? -1 : 0;
}

static void note_thread(struct ctx *c)
{
	if (!evloop_on_loop_thread(c->loop))
		c->on_loop_thread = 0;
}

/* Reads one byte from the pipe and reports. */
static void pipe_cb(void *opaque, uint32_t events)
{
	struct ctx *c = opaque;
	char b;

	note_thread(c);
	if (events & EPOLLIN)
		CB_CHECK(read(c->fd, &b, 1) == 1);
	__atomic_add_fetch(&c->calls, 1, __ATOMIC_SEQ_CST);
	signal_fd(c->done);
}

static void test_fd_callback_runs(void **state)
{
	struct ctx *c = *state;
	int p[2];

	assert_int_equal(pipe2(p, O_CLOEXEC | O_NONBLOCK), 0);
	c->fd = p[0];
	assert_int_equal(evloop_start(c->loop), 0);
	assert_false(evloop_on_loop_thread(c->loop));
	assert_int_equal(evloop_add(c->loop, p[0], EPOLLIN, pipe_cb, c), 0);
	assert_int_equal(evloop_add(c->loop, p[0], EPOLLIN, pipe_cb, c), -EEXIST);

	for (int i = 0; i < 3; i++) {
		assert_int_equal(write(p[1], "x", 1), 1);
		wait_done(c);
	}
	assert_int_equal(__atomic_load_n(&c->calls, __ATOMIC_SEQ_CST), 3);
	assert_true(c->on_loop_thread);

	assert_int_equal(evloop_del(c->loop, p[0]), 0);
	assert_int_equal(evloop_del(c->loop, p[0]), -ENOENT);
	/* Deleted: more data does not call back. */
	assert_int_equal(write(p[1], "y", 1), 1);
	assert_false(wait_readable(c->done, 100));
	assert_int_equal(__atomic_load_n(&c->calls, __ATOMIC_SEQ_CST), 3);
	/* The fd can be registered again. */
	assert_int_equal(evloop_add(c->loop, p[0], EPOLLIN, pipe_cb, c), 0);
	wait_done(c);
	assert_int_equal(evloop_del(c->loop, p[0]), 0);
	close(p[0]);
	close(p[1]);
}

static void test_add_errors(void **state)
{
	struct ctx *c = *state;

	assert_int_equal(evloop_del(c->loop, 12345), -ENOENT);
	assert_int_equal(evloop_mod(c->loop, 12345, EPOLLIN), -ENOENT);
	/* Not an fd at all: epoll refuses, nothing is left registered. */
	assert_true(evloop_add(c->loop, 12345, EPOLLIN, pipe_cb, c) < 0);
	assert_int_equal(evloop_del(c->loop, 12345), -ENOENT);
}

static void test_mod_changes_events(void **state)
{
	struct ctx *c = *state;
	int p[2];

	assert_int_equal(pipe2(p, O_CLOEXEC | O_NONBLOCK), 0);
	c->fd = p[1];
	assert_int_equal(evloop_start(c->loop), 0);
	/* A pipe's write end is never readable: no callback... */
	assert_int_equal(evloop_add(c->loop, p[1], EPOLLIN, pipe_cb, c), 0);
	assert_false(wait_readable(c->done, 100));
	/* ...until we ask for writability, which it has at once. */
	assert_int_equal(evloop_mod(c->loop, p[1], EPOLLOUT), 0);
	wait_done(c);
	assert_int_equal(evloop_del(c->loop, p[1]), 0);
	close(p[0]);
	close(p[1]);
}

/* One deferred call: records which one it was, in execution order. */
struct call_item {
	struct ctx *c;
	int idx;
};

static void record_call(void *opaque)
{
	struct call_item *it = opaque;

	note_thread(it->c);
	if (it->c->norder < (int)ARRAY_SIZE(it->c->order))
		it->c->order[it->c->norder++] = it->idx;
}

static void last_call(void *opaque)
{
	struct ctx *c = opaque;

	note_thread(c);
	signal_fd(c->done);
}

/* Holds the loop thread until the test opens the gate (bounded). */
static void gate_call(void *opaque)
{
	struct ctx *c = opaque;
	uint64_t v;

	CB_CHECK(wait_readable(c->entered, WAIT_MS));
	CB_CHECK(read(c->entered, &v, sizeof(v)) == sizeof(v));
}

static void test_call_fifo(void **state)
{
	static struct call_item items[150];
	struct ctx *c = *state;

	assert_int_equal(evloop_start(c->loop), 0);
	/* The whole queue is built while the loop is busy, then drained. */
	assert_int_equal(evloop_call(c->loop, gate_call, c), 0);
	for (int i = 0; i < 150; i++) {
		items[i] = (struct call_item){ c, i };
		assert_int_equal(evloop_call(c->loop, record_call, &items[i]), 0);
	}
	assert_int_equal(evloop_call(c->loop, last_call, c), 0);
	signal_fd(c->entered);
	wait_done(c);
	assert_int_equal(c->norder, 150);
	for (int i = 0; i < 150; i++)
		assert_int_equal(c->order[i], i);
	assert_true(c->on_loop_thread);
}

static void test_call_before_start(void **state)
{
	static struct call_item items[5];
	struct ctx *c = *state;

	/* Queued before the thread exists: runs once it starts, in order. */
	for (int i = 0; i < 5; i++) {
		items[i] = (struct call_item){ c, i };
		assert_int_equal(evloop_call(c->loop, record_call, &items[i]), 0);
	}
	assert_int_equal(evloop_call(c->loop, last_call, c), 0);
	assert_false(wait_readable(c->done, 50));
	assert_int_equal(evloop_start(c->loop), 0);
	wait_done(c);
	assert_int_equal(c->norder, 5);
	for (int i = 0; i < 5; i++)
		assert_int_equal(c->order[i], i);
}

static void test_on_loop_thread_from_first_callback(void **state)
{
	static struct call_item item;
	struct ctx *c = *state;

	/*
	 * Work queued before start runs as soon as the thread exists.  It
	 * must already count as "on the loop thread": evloop_del() from such
	 * a callback would otherwise wait for itself forever, and
	 * evloop_stop() would try to join its own thread.  The delay only
	 * makes the window that exists anyway deterministic.
	 */
	item = (struct call_item){ c, 0 };
	assert_int_equal(evloop_call(c->loop, record_call, &item), 0);
	assert_int_equal(evloop_call(c->loop, last_call, c), 0);
	delay_after_create_ms = 100;
	assert_int_equal(evloop_start(c->loop), 0);
	delay_after_create_ms = 0;
	wait_done(c);
	assert_int_equal(c->norder, 1);
	REGRESSION("evloop_start() sets loop->running only after pthread_create() "
		  "returns, so evloop_on_loop_thread() is false in early callbacks "
		  "(src/core/evloop.c)");
	assert_true(c->on_loop_thread);
}

/* Signals entry, then takes its time before returning. */
static void slow_cb(void *opaque, uint32_t events)
{
	struct ctx *c = opaque;
	char b;

	if (read(c->fd, &b, 1) != 1)
		return;
	signal_fd(c->entered);
	usleep(200 * 1000);
	__atomic_store_n(&c->finished, 1, __ATOMIC_SEQ_CST);
	__atomic_add_fetch(&c->calls, 1, __ATOMIC_SEQ_CST);
}

static void test_del_waits_for_running_callback(void **state)
{
	struct ctx *c = *state;
	uint64_t t0;
	int p[2];

	assert_int_equal(pipe2(p, O_CLOEXEC | O_NONBLOCK), 0);
	c->fd = p[0];
	assert_int_equal(evloop_start(c->loop), 0);
	assert_int_equal(evloop_add(c->loop, p[0], EPOLLIN, slow_cb, c), 0);
	assert_int_equal(write(p[1], "x", 1), 1);
	if (!wait_readable(c->entered, WAIT_MS))
		fail_msg("callback did not start");
	/* The callback is now sleeping: del must wait for it to return. */
	t0 = now_ns();
	assert_int_equal(evloop_del(c->loop, p[0]), 0);
	assert_int_equal(__atomic_load_n(&c->finished, __ATOMIC_SEQ_CST), 1);
	assert_true(now_ns() - t0 < 2ULL * WAIT_MS * 1000000);
	/* ...and it never runs again. */
	assert_int_equal(write(p[1], "y", 1), 1);
	usleep(100 * 1000);
	assert_int_equal(__atomic_load_n(&c->calls, __ATOMIC_SEQ_CST), 1);
	close(p[0]);
	close(p[1]);
}

/* Deletes its own registration from inside the callback. */
static void self_del_cb(void *opaque, uint32_t events)
{
	struct ctx *c = opaque;

	note_thread(c);
	CB_CHECK(evloop_del(c->loop, c->fd) == 0);
	__atomic_add_fetch(&c->calls, 1, __ATOMIC_SEQ_CST);
	signal_fd(c->done);
}

static void test_del_from_own_callback(void **state)
{
	struct ctx *c = *state;
	int p[2];

	assert_int_equal(pipe2(p, O_CLOEXEC | O_NONBLOCK), 0);
	c->fd = p[0];
	assert_int_equal(evloop_start(c->loop), 0);
	assert_int_equal(evloop_add(c->loop, p[0], EPOLLIN, self_del_cb, c), 0);
	/* Data stays unread: level-triggered, it would fire again if still added. */
	assert_int_equal(write(p[1], "x", 1), 1);
	wait_done(c);
	assert_false(wait_readable(c->done, 100));
	assert_int_equal(__atomic_load_n(&c->calls, __ATOMIC_SEQ_CST), 1);
	assert_true(c->on_loop_thread);
	close(p[0]);
	close(p[1]);
}

static void timer_cb(void *opaque, uint32_t events)
{
	struct ctx *c = opaque;
	uint64_t n;

	note_thread(c);
	if (read(c->fd, &n, sizeof(n)) != sizeof(n))
		return;
	c->fired_ns = now_ns();
	c->calls += n;
	signal_fd(c->done);
}

static void test_timer_one_shot(void **state)
{
	struct ctx *c = *state;
	uint64_t t0;

	assert_int_equal(evloop_start(c->loop), 0);
	c->fd = evloop_timer_add(c->loop, timer_cb, c);
	assert_true(c->fd >= 0);
	/* Not armed yet: nothing fires. */
	assert_false(wait_readable(c->done, 50));
	t0 = now_ns();
	assert_int_equal(evloop_timer_arm(c->fd, 30 * 1000000ULL, 0), 0);
	wait_done(c);
	assert_true(c->fired_ns - t0 >= 25 * 1000000ULL);
	assert_int_equal(c->calls, 1);
	/* One-shot: no second expiry. */
	assert_false(wait_readable(c->done, 100));
	assert_true(c->on_loop_thread);
	evloop_timer_del(c->loop, c->fd);
}

static void test_timer_periodic_and_disarm(void **state)
{
	struct ctx *c = *state;

	assert_int_equal(evloop_start(c->loop), 0);
	c->fd = evloop_timer_add(c->loop, timer_cb, c);
	assert_true(c->fd >= 0);
	assert_int_equal(evloop_timer_arm(c->fd, 5 * 1000000ULL, 5 * 1000000ULL), 0);
	for (int i = 0; i < 4; i++)
		wait_done(c);
	assert_int_equal(evloop_timer_arm(c->fd, 0, 0), 0);	/* disarm */
	/* Drain a signal that raced with the disarm, then expect silence. */
	if (wait_readable(c->done, 50))
		wait_done(c);
	assert_false(wait_readable(c->done, 100));
	assert_true(c->calls >= 4);
	evloop_timer_del(c->loop, c->fd);
}

static void test_stop_joins_and_restarts(void **state)
{
	struct ctx *c = *state;

	assert_int_equal(evloop_start(c->loop), 0);
	evloop_stop(c->loop);
	assert_false(c->loop->running);
	/* Calls queued while stopped wait for the next start. */
	assert_int_equal(evloop_call(c->loop, last_call, c), 0);
	assert_false(wait_readable(c->done, 50));
	assert_int_equal(evloop_start(c->loop), 0);
	wait_done(c);
	evloop_stop(c->loop);
	evloop_stop(c->loop);	/* idempotent */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_fd_callback_runs, setup, teardown),
		cmocka_unit_test_setup_teardown(test_add_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mod_changes_events, setup, teardown),
		cmocka_unit_test_setup_teardown(test_call_fifo, setup, teardown),
		cmocka_unit_test_setup_teardown(test_call_before_start, setup, teardown),
		cmocka_unit_test_setup_teardown(test_on_loop_thread_from_first_callback,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_del_waits_for_running_callback,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_del_from_own_callback,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_timer_one_shot, setup, teardown),
		cmocka_unit_test_setup_teardown(test_timer_periodic_and_disarm,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_stop_joins_and_restarts,
						setup, teardown),
	};

	return cmocka_run_group_tests_name("core_evloop", tests, NULL, NULL);
}
