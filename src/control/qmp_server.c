// SPDX-License-Identifier: MIT
/*
 * The QMP socket: a listening unix socket on the VM's event loop, one
 * qmp_session per connected client, bounded buffers both ways, and the
 * hand-over of events from any thread to the loop.
 *
 * Nothing a client does may stall the VM: sockets are non-blocking, a client
 * whose output queue passes QMP_OUT_HIGH is not read from until it drains
 * (pipelined requests wait instead of piling up replies), and one that lets
 * it pass QMP_OUT_MAX (it stopped reading while events kept coming) is
 * dropped.  Client state is touched only on the loop thread, or by
 * qmp_server_stop() once the loop has stopped; the event queue is the only
 * thing shared with other threads.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "control/qmp_proto.h"
#include "core/log.h"
#include "core/util.h"

#define QMP_MAX_CLIENTS		32
#define QMP_READ_CHUNK		(16 * 1024)
#define QMP_OUT_HIGH		(64 * 1024)	/* stop reading requests */
#define QMP_OUT_MAX		(4 * 1024 * 1024) /* drop the client */
#define QMP_PENDING_MAX		4096		/* queued events */
#define QMP_EXIT_FLUSH_NS	(200 * 1000 * 1000ULL)

struct qmp_pending {
	json_t *ev;
	struct qmp_pending *next;
};

struct qmp_client {
	struct qmp_server *srv;
	struct qmp_session session;
	int fd;
	unsigned id;
	uint32_t events;		/* epoll mask now registered */
	bool eof;			/* peer finished sending */
	bool dead;			/* close at the next sweep */
	char *out;			/* queued output: [out_off, out_len) */
	size_t out_off, out_len, out_cap;
	char in[QMP_READ_CHUNK];	/* received, not yet consumed */
	size_t in_len;
	struct qmp_client *next;
};

struct qmp_server {
	struct vm *vm;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	dev_t sock_dev;			/* to unlink only our own socket */
	ino_t sock_ino;
	int listen_fd;
	int event_fd;
	struct qmp_client *clients;
	unsigned nr_clients;
	unsigned next_id;
	pthread_mutex_t lock;		/* protects the pending events */
	struct qmp_pending *pending, **pending_tail;
	unsigned nr_pending;
};

/* ---- client output ---------------------------------------------------- */

static size_t client_queued(const struct qmp_client *c)
{
	return c->out_len - c->out_off;
}

/* Write what the socket takes now.  0, or -errno when the peer is gone. */
static int client_flush(struct qmp_client *c)
{
	while (client_queued(c)) {
		ssize_t n = send(c->fd, c->out + c->out_off, client_queued(c),
				 MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return errno == EAGAIN ? 0 : -errno;
		}
		c->out_off += n;
	}
	c->out_off = c->out_len = 0;
	/* Give back what a burst (a flood of events) made us allocate. */
	if (c->out_cap > QMP_OUT_HIGH) {
		free(c->out);
		c->out = NULL;
		c->out_cap = 0;
	}
	return 0;
}

static int client_queue(struct qmp_client *c, const char *text, size_t len)
{
	size_t need;
	char *p;

	if (client_queued(c) + len > QMP_OUT_MAX) {
		pr_warn("qmp: client %u does not read its replies and events; dropping it",
			c->id);
		return -ENOBUFS;
	}
	if (c->out_off) {
		memmove(c->out, c->out + c->out_off, client_queued(c));
		c->out_len -= c->out_off;
		c->out_off = 0;
	}
	need = c->out_len + len;
	if (need > c->out_cap) {
		size_t cap = MAX(need, c->out_cap * 2);

		p = realloc(c->out, cap);
		if (!p)
			return -ENOMEM;
		c->out = p;
		c->out_cap = cap;
	}
	memcpy(c->out + c->out_len, text, len);
	c->out_len += len;
	return 0;
}

static int client_emit(struct qmp_session *s, const char *text, size_t len)
{
	struct qmp_client *c = s->opaque;
	int ret = client_queue(c, text, len);

	if (!ret)
		ret = client_flush(c);
	if (client_queued(c) > QMP_OUT_HIGH)
		s->throttled = true;
	return ret;
}

/* ---- client lifetime -------------------------------------------------- */

static void client_update_events(struct qmp_client *c)
{
	uint32_t want = 0;

	/* Leftover input means we stopped on purpose: do not read more. */
	if (!c->eof && !c->session.throttled && !c->in_len)
		want |= EPOLLIN;
	if (client_queued(c))
		want |= EPOLLOUT;
	if (want != c->events && !evloop_mod(&c->srv->vm->loop, c->fd, want))
		c->events = want;
}

static void client_free(struct qmp_client *c)
{
	evloop_del(&c->srv->vm->loop, c->fd);
	close(c->fd);
	qmp_session_free(&c->session);
	free(c->out);
	free(c);
}

/* Close the clients marked dead; only where no client pointer is live. */
static void server_sweep(struct qmp_server *srv)
{
	struct qmp_client **pp = &srv->clients;

	while (*pp) {
		struct qmp_client *c = *pp;

		if (!c->dead) {
			pp = &c->next;
			continue;
		}
		*pp = c->next;
		srv->nr_clients--;
		pr_debug("qmp: client %u disconnected", c->id);
		client_free(c);
	}
}

/* Feed buffered input to the session; mark the client dead if it must go. */
static void client_process(struct qmp_client *c)
{
	ssize_t n;

	if (!c->in_len || c->session.dead)
		return;
	n = qmp_session_feed(&c->session, c->in, c->in_len);
	if (n < 0) {
		if (n == -EMSGSIZE)
			pr_err("qmp: client %u sent more than %zu bytes without a complete JSON value; disconnecting",
			       c->id, c->session.json.max);
		else
			pr_err("qmp: client %u: %s; disconnecting", c->id,
			       strerror((int)-n));
		client_flush(c);	/* best effort: the error reply */
		c->dead = true;
		return;
	}
	memmove(c->in, c->in + n, c->in_len - n);
	c->in_len -= n;
	if (c->session.dead)
		c->dead = true;
}

static void client_read(struct qmp_client *c)
{
	ssize_t n;

	if (c->in_len == sizeof(c->in))
		return;		/* a zero-length recv would look like EOF */
	n = recv(c->fd, c->in + c->in_len, sizeof(c->in) - c->in_len,
		 MSG_DONTWAIT);
	if (n == 0) {
		c->eof = true;
	} else if (n < 0) {
		if (errno != EAGAIN && errno != EINTR)
			c->dead = true;
		return;
	}
	c->in_len += n > 0 ? n : 0;
	client_process(c);
}

/*
 * After any I/O on a client: resume requests held back once the output
 * has drained enough, retire a finished client, and set what to wait for.
 * Clearing the throttle only here keeps one invariant: a throttled client
 * always has output queued, so EPOLLOUT will bring us back.
 */
static void client_service(struct qmp_client *c)
{
	if (c->session.throttled && client_queued(c) <= QMP_OUT_HIGH / 2) {
		c->session.throttled = false;
		client_process(c);
	}
	/* A peer that finished sending leaves once it has all replies. */
	if (c->eof && !c->in_len && !client_queued(c))
		c->dead = true;
	if (!c->dead)
		client_update_events(c);
}

static void client_cb(void *opaque, uint32_t events)
{
	struct qmp_client *c = opaque;

	if ((events & (EPOLLOUT | EPOLLHUP | EPOLLERR)) && client_flush(c))
		c->dead = true;
	if (!c->dead && (events & (EPOLLIN | EPOLLHUP | EPOLLERR)) &&
	    (c->events & EPOLLIN))
		client_read(c);
	else if ((events & (EPOLLHUP | EPOLLERR)) && !client_queued(c))
		c->dead = true;
	if (!c->dead)
		client_service(c);
	server_sweep(c->srv);
}

static void server_accept_cb(void *opaque, uint32_t events)
{
	struct qmp_server *srv = opaque;
	struct qmp_client *c;
	int fd;

	fd = accept4(srv->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd < 0)
		return;		/* EAGAIN, or the peer gave up already */
	if (srv->nr_clients >= QMP_MAX_CLIENTS) {
		pr_warn("qmp: %u clients connected already; refusing another",
			srv->nr_clients);
		goto close_fd;
	}
	c = calloc(1, sizeof(*c));
	if (!c)
		goto close_fd;
	c->srv = srv;
	c->fd = fd;
	c->id = ++srv->next_id;
	c->events = EPOLLIN;
	qmp_session_init(&c->session, srv->vm, client_emit, c);
	if (evloop_add(&srv->vm->loop, fd, EPOLLIN, client_cb, c))
		goto free_client;
	c->next = srv->clients;
	srv->clients = c;
	srv->nr_clients++;
	pr_debug("qmp: client %u connected", c->id);
	if (qmp_session_greet(&c->session))
		c->dead = true;
	else
		client_service(c);
	server_sweep(srv);
	return;

free_client:
	qmp_session_free(&c->session);
	free(c);
close_fd:
	close(fd);
}

/* ---- events ----------------------------------------------------------- */

static struct qmp_pending *server_take_pending(struct qmp_server *srv)
{
	struct qmp_pending *list;

	pthread_mutex_lock(&srv->lock);
	list = srv->pending;
	srv->pending = NULL;
	srv->pending_tail = &srv->pending;
	srv->nr_pending = 0;
	pthread_mutex_unlock(&srv->lock);
	return list;
}

static void server_broadcast(struct qmp_server *srv, json_t *ev)
{
	size_t len;
	char *text = qmp_dump(ev, &len);

	if (!text)
		return;
	for (struct qmp_client *c = srv->clients; c; c = c->next) {
		if (c->dead)
			continue;
		if (qmp_session_send_event(&c->session, text, len))
			c->dead = true;
	}
	free(text);
}

/* Deliver queued events in order; loop thread or after the loop stopped. */
static void server_deliver(struct qmp_server *srv)
{
	struct qmp_pending *p = server_take_pending(srv), *next;

	for (; p; p = next) {
		next = p->next;
		server_broadcast(srv, p->ev);
		json_decref(p->ev);
		free(p);
	}
}

static void server_event_cb(void *opaque, uint32_t events)
{
	struct qmp_server *srv = opaque;
	uint64_t v;

	if (read(srv->event_fd, &v, sizeof(v)) < 0 && errno != EAGAIN)
		pr_warn("qmp: event fd read: %s", strerror(errno));
	server_deliver(srv);
	for (struct qmp_client *c = srv->clients; c; c = c->next)
		if (!c->dead)
			client_service(c);
	server_sweep(srv);
}

void qmp_event(struct vm *vm, const char *name, json_t *data)
{
	struct qmp_server *srv = __atomic_load_n(&vm->qmp, __ATOMIC_ACQUIRE);
	struct qmp_pending *p;
	struct timespec ts;
	uint64_t one = 1;

	if (!srv) {
		json_decref(data);
		return;
	}
	clock_gettime(CLOCK_REALTIME, &ts);
	p = calloc(1, sizeof(*p));
	if (!p) {
		json_decref(data);
		return;
	}
	p->ev = qmp_event_new(name, data, &ts);
	if (!p->ev)
		goto free_p;
	pthread_mutex_lock(&srv->lock);
	if (srv->nr_pending >= QMP_PENDING_MAX) {
		pthread_mutex_unlock(&srv->lock);
		pr_warn("qmp: event queue full; dropping %s", name);
		json_decref(p->ev);
		goto free_p;
	}
	*srv->pending_tail = p;
	srv->pending_tail = &p->next;
	srv->nr_pending++;
	pthread_mutex_unlock(&srv->lock);
	if (write(srv->event_fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		pr_warn("qmp: event fd write: %s", strerror(errno));
	return;

free_p:
	free(p);
}

static void qmp_exit_notify(struct vm *vm, bool guest, const char *reason)
{
	qmp_event(vm, "SHUTDOWN", json_pack("{s:b, s:s}", "guest", guest,
					    "reason", reason));
}

/* ---- the listening socket --------------------------------------------- */

/* Log "--qmp: WHAT 'PATH': strerror(errno)" and return -errno. */
static int path_error(const char *what, const char *path)
{
	int err = errno;

	pr_err("--qmp: %s '%s': %s", what, path, strerror(err));
	return -err;
}

/*
 * A socket file left by a dead fvmm is removed; one a live process answers
 * on is not ours to take, nor is anything that is not a socket.
 */
static int server_claim_path(const struct sockaddr_un *sa)
{
	struct stat st;
	int fd, ret;

	if (lstat(sa->sun_path, &st) < 0)
		return errno == ENOENT ? 0 : path_error("cannot use",
							sa->sun_path);
	if (!S_ISSOCK(st.st_mode)) {
		pr_err("--qmp: '%s' exists and is not a socket", sa->sun_path);
		return -EEXIST;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return path_error("cannot check", sa->sun_path);
	ret = connect(fd, (const struct sockaddr *)sa, sizeof(*sa));
	ret = ret < 0 ? -errno : 0;
	close(fd);
	if (ret == 0) {
		pr_err("--qmp: '%s' is in use by another process", sa->sun_path);
		return -EADDRINUSE;
	}
	if (ret != -ECONNREFUSED) {
		errno = -ret;
		return path_error("cannot check", sa->sun_path);
	}
	pr_debug("qmp: removing stale socket %s", sa->sun_path);
	if (unlink(sa->sun_path) < 0 && errno != ENOENT)
		return path_error("cannot remove stale socket", sa->sun_path);
	return 0;
}

static int server_listen(struct qmp_server *srv)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct stat st;
	int fd, ret;

	memcpy(sa.sun_path, srv->path, sizeof(sa.sun_path));
	ret = server_claim_path(&sa);
	if (ret)
		return ret;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return path_error("cannot listen on", srv->path);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    listen(fd, 16) < 0 || stat(sa.sun_path, &st) < 0) {
		ret = path_error("cannot listen on", srv->path);
		close(fd);
		return ret;
	}
	srv->sock_dev = st.st_dev;
	srv->sock_ino = st.st_ino;
	srv->listen_fd = fd;
	return 0;
}

static void server_unlink(struct qmp_server *srv)
{
	struct stat st;

	/* Someone may have replaced it (a new fvmm after a stale check). */
	if (stat(srv->path, &st) == 0 && st.st_dev == srv->sock_dev &&
	    st.st_ino == srv->sock_ino)
		unlink(srv->path);
}

static int server_parse_path(struct qmp_server *srv, const char *spec)
{
	const char *path;

	if (strncmp(spec, "unix:", 5) || !spec[5]) {
		pr_err("--qmp: expected unix:PATH, got '%s'", spec);
		return -EINVAL;
	}
	path = spec + 5;
	if (strlen(path) >= sizeof(srv->path)) {
		pr_err("--qmp: socket path '%s' is too long (max %zu bytes)",
		       path, sizeof(srv->path) - 1);
		return -ENAMETOOLONG;
	}
	strcpy(srv->path, path);
	return 0;
}

/* ---- start and stop --------------------------------------------------- */

int qmp_server_start(struct vm *vm)
{
	struct qmp_server *srv;
	int ret;

	if (!vm->cfg.qmp)
		return 0;
	ret = qmp_register_vm_commands();
	if (ret)
		return ret;
	srv = calloc(1, sizeof(*srv));
	if (!srv)
		return -ENOMEM;
	srv->vm = vm;
	srv->listen_fd = srv->event_fd = -1;
	srv->pending_tail = &srv->pending;
	pthread_mutex_init(&srv->lock, NULL);
	ret = server_parse_path(srv, vm->cfg.qmp);
	if (ret)
		goto free_srv;
	ret = server_listen(srv);
	if (ret)
		goto free_srv;
	srv->event_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (srv->event_fd < 0) {
		ret = -errno;
		pr_err("qmp: eventfd: %s", strerror(-ret));
		goto close_listen;
	}
	ret = evloop_add(&vm->loop, srv->event_fd, EPOLLIN, server_event_cb,
			 srv);
	if (ret)
		goto close_event;
	ret = evloop_add(&vm->loop, srv->listen_fd, EPOLLIN, server_accept_cb,
			 srv);
	if (ret)
		goto del_event;
	vm->exit_notify = qmp_exit_notify;
	__atomic_store_n(&vm->qmp, srv, __ATOMIC_RELEASE);
	return 0;

del_event:
	evloop_del(&vm->loop, srv->event_fd);
close_event:
	if (ret)
		pr_err("qmp: cannot watch the socket: %s", strerror(-ret));
	close(srv->event_fd);
close_listen:
	close(srv->listen_fd);
	server_unlink(srv);
free_srv:
	pthread_mutex_destroy(&srv->lock);
	free(srv);
	return ret;
}

/*
 * The last words (SHUTDOWN) must reach the clients, but a client that does
 * not read must not hold fvmm: give the queues a bounded time to drain.
 */
static void server_final_flush(struct qmp_server *srv)
{
	uint64_t deadline = now_ns() + QMP_EXIT_FLUSH_NS;
	struct pollfd pfd[QMP_MAX_CLIENTS];
	struct qmp_client *c;

	for (;;) {
		unsigned n = 0;
		uint64_t now = now_ns();

		for (c = srv->clients; c && n < QMP_MAX_CLIENTS; c = c->next)
			if (!c->dead && client_queued(c))
				pfd[n++] = (struct pollfd){ c->fd, POLLOUT, 0 };
		if (!n || now >= deadline)
			return;
		if (poll(pfd, n, (int)((deadline - now + 999999) / 1000000)) <= 0)
			continue;
		for (c = srv->clients; c; c = c->next)
			if (!c->dead && client_queued(c) && client_flush(c))
				c->dead = true;
	}
}

void qmp_server_stop(struct vm *vm)
{
	struct qmp_server *srv = vm->qmp;

	if (!srv)
		return;
	/* The loop has stopped: this thread alone touches the clients now. */
	vm->exit_notify = NULL;
	server_deliver(srv);
	server_final_flush(srv);
	__atomic_store_n(&vm->qmp, NULL, __ATOMIC_RELEASE);
	for (struct qmp_client *c = srv->clients; c; c = c->next)
		c->dead = true;
	server_sweep(srv);
	server_deliver(srv);	/* anything that raced in: freed unsent */
	evloop_del(&vm->loop, srv->listen_fd);
	close(srv->listen_fd);
	server_unlink(srv);
	evloop_del(&vm->loop, srv->event_fd);
	close(srv->event_fd);
	pthread_mutex_destroy(&srv->lock);
	free(srv);
}
