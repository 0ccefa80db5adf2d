/* SPDX-License-Identifier: MIT */
#ifndef FVMM_CORE_EVLOOP_H
#define FVMM_CORE_EVLOOP_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

/*
 * The device I/O thread: an epoll loop that runs fd callbacks (tap, stdin,
 * ioeventfds, QMP sockets, timers) so that vCPU threads never block on host
 * I/O.  Callbacks run on the loop thread only, one at a time, which is the
 * serialisation most devices need; a device touched from both a vCPU (MMIO)
 * and the loop still needs its own lock.
 *
 * evloop_add()/evloop_del() may be called from any thread, including from a
 * callback.  After evloop_del() returns on a thread other than the loop, the
 * callback of that fd is not running and will not run again.
 */

typedef void (*evloop_cb)(void *opaque, uint32_t events);

struct evloop_entry;

struct evloop {
	int epfd;
	int wakefd;		/* eventfd: stop requests and deferred calls */
	pthread_t thread;
	bool running;
	bool stop;
	pthread_mutex_t lock;
	pthread_cond_t idle;
	struct evloop_entry *entries;	/* list of registrations */
	struct evloop_entry *current;	/* callback in progress */
	struct evloop_call *calls;	/* deferred calls (evloop_call) */
};

int evloop_init(struct evloop *loop);
void evloop_destroy(struct evloop *loop);

/* events: EPOLLIN/EPOLLOUT; level triggered. -EEXIST if fd is registered. */
int evloop_add(struct evloop *loop, int fd, uint32_t events, evloop_cb cb,
	       void *opaque);
int evloop_mod(struct evloop *loop, int fd, uint32_t events);
int evloop_del(struct evloop *loop, int fd);

/*
 * Run fn(opaque) on the loop thread soon.  For work that must not run in a
 * vCPU's bus handler (device removal, region changes).  -ENOMEM.
 */
int evloop_call(struct evloop *loop, void (*fn)(void *), void *opaque);

/*
 * A periodic or one-shot timer on the loop (timerfd).  Returns an fd-backed
 * handle >= 0 or -errno; ns == 0 disarms.  Delete with evloop_timer_del().
 */
int evloop_timer_add(struct evloop *loop, evloop_cb cb, void *opaque);
int evloop_timer_arm(int tfd, uint64_t ns, uint64_t interval_ns);
void evloop_timer_del(struct evloop *loop, int tfd);

int evloop_start(struct evloop *loop);
void evloop_stop(struct evloop *loop);	/* joins the thread */
bool evloop_on_loop_thread(struct evloop *loop);

#endif
