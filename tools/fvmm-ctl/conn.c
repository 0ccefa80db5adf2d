// SPDX-License-Identifier: MIT
/*
 * fvmm-ctl's side of QMP: connect, negotiate, send, receive with a deadline.
 * The socket is non-blocking and every wait is a poll() bounded by the one
 * deadline the user chose (--timeout), so no server state can hang us.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "conn.h"

#define CTL_ID	"fvmm-ctl"

uint64_t ctl_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

/* Milliseconds left for poll(), -1 without a deadline, 0 when past it. */
static int ctl_wait_ms(const struct ctl_conn *c)
{
	uint64_t now = ctl_now();

	if (!c->deadline)
		return -1;
	if (now >= c->deadline)
		return 0;
	return (int)((c->deadline - now + 999999) / 1000000);
}

static int ctl_wait(struct ctl_conn *c, short events)
{
	struct pollfd p = { .fd = c->fd, .events = events };
	int n;

	do {
		n = poll(&p, 1, ctl_wait_ms(c));
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	return n ? 0 : -ETIMEDOUT;
}

int ctl_send(struct ctl_conn *c, json_t *msg)
{
	char *text = json_dumps(msg, JSON_COMPACT | JSON_PRESERVE_ORDER);
	size_t len, off = 0;
	int ret = 0;

	if (!text)
		return -ENOMEM;
	len = strlen(text);
	text[len++] = '\n';	/* replaces the NUL; len is what we send */
	while (off < len) {
		ssize_t n = send(c->fd, text + off, len - off, MSG_NOSIGNAL);

		if (n >= 0) {
			off += n;
			continue;
		}
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN) {
			ret = -errno;
			break;
		}
		ret = ctl_wait(c, POLLOUT);
		if (ret)
			break;
	}
	free(text);
	return ret;
}

static int ctl_on_value(void *opaque, enum qmp_json_kind kind,
			const char *text, size_t len)
{
	struct ctl_conn *c = opaque;
	json_t *msg = NULL;

	if (kind == QMP_JSON_VALUE)
		msg = json_loadb(text, len, 0, NULL);
	if (!json_is_object(msg)) {
		json_decref(msg);
		c->error = -EPROTO;
		return 1;
	}
	json_array_append_new(c->queue, msg);
	return 0;
}

/* Read once (waiting up to the deadline) and frame what arrived. */
static int ctl_fill(struct ctl_conn *c)
{
	char buf[16384];
	ssize_t n;
	int ret;

	for (;;) {
		n = recv(c->fd, buf, sizeof(buf), 0);
		if (n > 0)
			break;
		if (n == 0)
			return -ECONNRESET;
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN)
			return -errno;
		ret = ctl_wait(c, POLLIN);
		if (ret)
			return ret;
	}
	n = qmp_json_feed(&c->js, buf, n, ctl_on_value, c);
	if (n < 0)
		return (int)n;
	return c->error;
}

int ctl_recv(struct ctl_conn *c, json_t **msg)
{
	int ret;

	while (!json_array_size(c->queue)) {
		ret = ctl_fill(c);
		if (ret)
			return ret;
	}
	*msg = json_incref(json_array_get(c->queue, 0));
	json_array_remove(c->queue, 0);
	return 0;
}

static bool ctl_is_reply(json_t *msg, const char *id)
{
	json_t *v = json_object_get(msg, "id");

	return json_is_string(v) && !strcmp(json_string_value(v), id) &&
	       (json_object_get(msg, "return") || json_object_get(msg, "error"));
}

int ctl_execute(struct ctl_conn *c, const char *cmd, json_t *args,
		json_t **reply)
{
	json_t *req = json_pack("{s:s, s:O*, s:s}", "execute", cmd,
				"arguments", args, "id", CTL_ID);
	json_t *msg;
	int ret;

	if (!req)
		return -ENOMEM;
	ret = ctl_send(c, req);
	json_decref(req);
	if (ret)
		return ret;
	for (;;) {
		ret = ctl_recv(c, &msg);
		if (ret)
			return ret;
		if (ctl_is_reply(msg, CTL_ID))
			break;
		json_decref(msg);	/* an event */
	}
	*reply = msg;
	return 0;
}

static int ctl_connect(struct ctl_conn *c, const char *spec, char *msg,
		       size_t msglen)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int ret;

	c->path = strncmp(spec, "unix:", 5) ? spec : spec + 5;
	if (!c->path[0] || strlen(c->path) >= sizeof(sa.sun_path)) {
		snprintf(msg, msglen, "bad socket path '%s'", spec);
		return -EINVAL;
	}
	strcpy(sa.sun_path, c->path);
	c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c->fd < 0)
		goto fail;
	/* A unix connect completes or fails at once; no wait needed. */
	if (connect(c->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		goto fail;
	if (fcntl(c->fd, F_SETFL, O_NONBLOCK) < 0)
		goto fail;
	return 0;

fail:
	ret = -errno;
	snprintf(msg, msglen, "cannot connect to %s: %s", c->path,
		 strerror(errno));
	return ret;
}

const char *ctl_strerror(int err)
{
	switch (err) {
	case -ETIMEDOUT:
		return "timed out";
	case -ECONNRESET:
		return "connection closed by the server";
	case -EPROTO:
		return "the server sent something that is not a QMP message";
	}
	return strerror(-err);
}

int ctl_open(struct ctl_conn *c, const char *spec, uint64_t deadline,
	     char *msg, size_t msglen)
{
	json_t *greeting = NULL, *reply = NULL;
	int ret;

	memset(c, 0, sizeof(*c));
	c->fd = -1;
	c->deadline = deadline;
	qmp_json_init(&c->js);
	c->queue = json_array();
	if (!c->queue)
		return -ENOMEM;
	ret = ctl_connect(c, spec, msg, msglen);
	if (ret)
		return ret;
	ret = ctl_recv(c, &greeting);
	if (ret) {
		snprintf(msg, msglen, "%s: no QMP greeting: %s", c->path,
			 ctl_strerror(ret));
		return ret;
	}
	if (!json_object_get(greeting, "QMP")) {
		snprintf(msg, msglen, "%s: not a QMP server", c->path);
		ret = -EPROTO;
		goto free_greeting;
	}
	ret = ctl_execute(c, "qmp_capabilities", NULL, &reply);
	if (ret) {
		snprintf(msg, msglen, "%s: capabilities negotiation: %s",
			 c->path, ctl_strerror(ret));
	} else if (!json_object_get(reply, "return")) {
		snprintf(msg, msglen, "%s: capabilities negotiation refused",
			 c->path);
		ret = -EPROTO;
	}
	json_decref(reply);
free_greeting:
	json_decref(greeting);
	return ret;
}

void ctl_close(struct ctl_conn *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	qmp_json_free(&c->js);
	json_decref(c->queue);
	c->queue = NULL;
}
