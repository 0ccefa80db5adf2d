// SPDX-License-Identifier: MIT
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "core/evloop.h"
#include "core/log.h"

struct evloop_entry {
	int fd;
	bool dead;		/* deleted; freed after the current batch */
	evloop_cb cb;
	void *opaque;
	struct evloop_entry *next;
};

struct evloop_call {
	void (*fn)(void *);
	void *opaque;
	struct evloop_call *next;
};

int evloop_init(struct evloop *loop)
{
	struct epoll_event ev = { .events = EPOLLIN };
	int ret;

	memset(loop, 0, sizeof(*loop));
	pthread_mutex_init(&loop->lock, NULL);
	pthread_cond_init(&loop->idle, NULL);
	loop->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (loop->epfd < 0)
		return -errno;
	loop->wakefd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (loop->wakefd < 0) {
		ret = -errno;
		goto close_epfd;
	}
	ev.data.ptr = NULL;	/* NULL marks the wake fd */
	if (epoll_ctl(loop->epfd, EPOLL_CTL_ADD, loop->wakefd, &ev) < 0) {
		ret = -errno;
		goto close_wakefd;
	}
	return 0;

close_wakefd:
	close(loop->wakefd);
close_epfd:
	close(loop->epfd);
	return ret;
}

static void evloop_reap(struct evloop *loop)
{
	struct evloop_entry **pp = &loop->entries;

	while (*pp) {
		struct evloop_entry *e = *pp;

		if (e->dead) {
			*pp = e->next;
			free(e);
		} else {
			pp = &e->next;
		}
	}
}

void evloop_destroy(struct evloop *loop)
{
	struct evloop_call *c;

	evloop_stop(loop);
	for (struct evloop_entry *e = loop->entries; e; e = e->next)
		e->dead = true;
	evloop_reap(loop);
	while ((c = loop->calls)) {
		loop->calls = c->next;
		free(c);
	}
	close(loop->wakefd);
	close(loop->epfd);
	pthread_mutex_destroy(&loop->lock);
	pthread_cond_destroy(&loop->idle);
}

static struct evloop_entry *evloop_find(struct evloop *loop, int fd)
{
	for (struct evloop_entry *e = loop->entries; e; e = e->next)
		if (e->fd == fd && !e->dead)
			return e;
	return NULL;
}

int evloop_add(struct evloop *loop, int fd, uint32_t events, evloop_cb cb,
	       void *opaque)
{
	struct epoll_event ev = { .events = events };
	struct evloop_entry *e;
	int ret = 0;

	pthread_mutex_lock(&loop->lock);
	if (evloop_find(loop, fd)) {
		ret = -EEXIST;
		goto unlock;
	}
	e = calloc(1, sizeof(*e));
	if (!e) {
		ret = -ENOMEM;
		goto unlock;
	}
	*e = (struct evloop_entry){ .fd = fd, .cb = cb, .opaque = opaque,
				    .next = loop->entries };
	ev.data.ptr = e;
	if (epoll_ctl(loop->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
		ret = -errno;
		free(e);
		goto unlock;
	}
	loop->entries = e;
unlock:
	pthread_mutex_unlock(&loop->lock);
	return ret;
}

int evloop_mod(struct evloop *loop, int fd, uint32_t events)
{
	struct epoll_event ev = { .events = events };
	struct evloop_entry *e;
	int ret = 0;

	pthread_mutex_lock(&loop->lock);
	e = evloop_find(loop, fd);
	ev.data.ptr = e;
	if (!e)
		ret = -ENOENT;
	else if (epoll_ctl(loop->epfd, EPOLL_CTL_MOD, fd, &ev) < 0)
		ret = -errno;
	pthread_mutex_unlock(&loop->lock);
	return ret;
}

int evloop_del(struct evloop *loop, int fd)
{
	struct evloop_entry *e;
	int ret = 0;

	pthread_mutex_lock(&loop->lock);
	e = evloop_find(loop, fd);
	if (!e) {
		ret = -ENOENT;
		goto unlock;
	}
	epoll_ctl(loop->epfd, EPOLL_CTL_DEL, fd, NULL);
	e->dead = true;
	if (!evloop_on_loop_thread(loop))
		while (loop->current == e)
			pthread_cond_wait(&loop->idle, &loop->lock);
	if (!loop->running)
		evloop_reap(loop);
unlock:
	pthread_mutex_unlock(&loop->lock);
	return ret;
}

int evloop_call(struct evloop *loop, void (*fn)(void *), void *opaque)
{
	struct evloop_call *c = malloc(sizeof(*c)), **pp;
	uint64_t one = 1;

	if (!c)
		return -ENOMEM;
	*c = (struct evloop_call){ .fn = fn, .opaque = opaque };
	pthread_mutex_lock(&loop->lock);
	/* FIFO order: callers rely on deferred work running in sequence. */
	for (pp = &loop->calls; *pp; pp = &(*pp)->next)
		;
	*pp = c;
	pthread_mutex_unlock(&loop->lock);
	if (write(loop->wakefd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		pr_warn("evloop: wake failed: %d", errno);
	return 0;
}

int evloop_timer_add(struct evloop *loop, evloop_cb cb, void *opaque)
{
	int tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	int ret;

	if (tfd < 0)
		return -errno;
	ret = evloop_add(loop, tfd, EPOLLIN, cb, opaque);
	if (ret) {
		close(tfd);
		return ret;
	}
	return tfd;
}

int evloop_timer_arm(int tfd, uint64_t ns, uint64_t interval_ns)
{
	struct itimerspec its = {
		.it_value = { ns / 1000000000ULL, ns % 1000000000ULL },
		.it_interval = { interval_ns / 1000000000ULL,
				 interval_ns % 1000000000ULL },
	};

	return timerfd_settime(tfd, 0, &its, NULL) < 0 ? -errno : 0;
}

void evloop_timer_del(struct evloop *loop, int tfd)
{
	if (tfd < 0)
		return;
	evloop_del(loop, tfd);
	close(tfd);
}

static void evloop_run_calls(struct evloop *loop)
{
	struct evloop_call *c;
	uint64_t v;

	if (read(loop->wakefd, &v, sizeof(v)) < 0 && errno != EAGAIN)
		pr_warn("evloop: wake read failed: %d", errno);
	for (;;) {
		pthread_mutex_lock(&loop->lock);
		c = loop->calls;
		if (c)
			loop->calls = c->next;
		pthread_mutex_unlock(&loop->lock);
		if (!c)
			break;
		c->fn(c->opaque);
		free(c);
	}
}

static void evloop_dispatch(struct evloop *loop, struct evloop_entry *e,
			    uint32_t events)
{
	pthread_mutex_lock(&loop->lock);
	if (e->dead) {
		pthread_mutex_unlock(&loop->lock);
		return;
	}
	loop->current = e;
	pthread_mutex_unlock(&loop->lock);

	e->cb(e->opaque, events);

	pthread_mutex_lock(&loop->lock);
	loop->current = NULL;
	pthread_cond_broadcast(&loop->idle);
	pthread_mutex_unlock(&loop->lock);
}

static void *evloop_thread(void *arg)
{
	struct evloop *loop = arg;
	struct epoll_event evs[32];

	while (!__atomic_load_n(&loop->stop, __ATOMIC_ACQUIRE)) {
		int n = epoll_wait(loop->epfd, evs, 32, -1);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			pr_err("evloop: epoll_wait: %d", errno);
			break;
		}
		for (int i = 0; i < n; i++) {
			if (!evs[i].data.ptr)
				evloop_run_calls(loop);
			else
				evloop_dispatch(loop, evs[i].data.ptr,
						evs[i].events);
		}
		pthread_mutex_lock(&loop->lock);
		evloop_reap(loop);
		pthread_mutex_unlock(&loop->lock);
	}
	return NULL;
}

int evloop_start(struct evloop *loop)
{
	int ret;

	loop->stop = false;
	/* Before the thread exists: its first callback may ask. */
	loop->running = true;
	ret = pthread_create(&loop->thread, NULL, evloop_thread, loop);
	if (ret) {
		loop->running = false;
		return -ret;
	}
	return 0;
}

void evloop_stop(struct evloop *loop)
{
	uint64_t one = 1;

	if (!loop->running)
		return;
	__atomic_store_n(&loop->stop, true, __ATOMIC_RELEASE);
	if (write(loop->wakefd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		pr_warn("evloop: wake failed: %d", errno);
	if (!evloop_on_loop_thread(loop))
		pthread_join(loop->thread, NULL);
	loop->running = false;
}

bool evloop_on_loop_thread(struct evloop *loop)
{
	return loop->running && pthread_equal(pthread_self(), loop->thread);
}
