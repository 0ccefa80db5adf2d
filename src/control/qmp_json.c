// SPDX-License-Identifier: MIT
/*
 * QMP stream framing: split a byte stream into top-level JSON values (see
 * qmp_json.h for the rules).  Shared by the server and by fvmm-ctl.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "control/qmp_json.h"

void qmp_json_init(struct qmp_json *js)
{
	memset(js, 0, sizeof(*js));
	js->max = QMP_JSON_MAX;
}

void qmp_json_free(struct qmp_json *js)
{
	free(js->buf);
	js->buf = NULL;
	js->len = js->cap = 0;
}

static void qmp_json_reset(struct qmp_json *js)
{
	js->len = 0;
	js->depth = 0;
	js->in_str = js->esc = js->in_bare = false;
}

static int qmp_json_put(struct qmp_json *js, char c)
{
	if (js->len >= js->max)
		return -EMSGSIZE;
	/* +1 keeps room for the terminating NUL handed to the callback. */
	if (js->len + 1 >= js->cap) {
		size_t cap = js->cap ? js->cap * 2 : 256;
		char *p;

		if (cap > js->max + 1)
			cap = js->max + 1;
		p = realloc(js->buf, cap);
		if (!p)
			return -ENOMEM;
		js->buf = p;
		js->cap = cap;
	}
	js->buf[js->len++] = c;
	return 0;
}

/* Hand the finished value to the callback and start afresh. */
static int qmp_json_emit(struct qmp_json *js, enum qmp_json_kind kind,
			 qmp_json_cb cb, void *opaque)
{
	size_t len = js->len;
	int stop;

	if (js->buf)
		js->buf[len] = '\0';
	stop = cb(opaque, kind, js->buf ? js->buf : "", len);
	qmp_json_reset(js);
	return stop;
}

static bool is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* A bare top-level token ends where a value could begin or at a blank. */
static bool ends_bare(char c)
{
	return is_blank(c) || c == '{' || c == '[' || c == '"';
}

/*
 * One byte inside an object/array or a string.  Returns 1 when the byte
 * completed a value, 0 to go on, -errno on overflow.
 */
static int qmp_json_step(struct qmp_json *js, char c)
{
	int ret = qmp_json_put(js, c);

	if (ret)
		return ret;
	if (js->in_str) {
		if (js->esc)
			js->esc = false;
		else if (c == '\\')
			js->esc = true;
		else if (c == '"')
			js->in_str = false;
		return !js->in_str && js->depth == 0;
	}
	switch (c) {
	case '"':
		js->in_str = true;
		break;
	case '{':
	case '[':
		js->depth++;
		break;
	case '}':
	case ']':
		if (--js->depth == 0)
			return 1;
		break;
	}
	return 0;
}

ssize_t qmp_json_feed(struct qmp_json *js, const char *data, size_t len,
		      qmp_json_cb cb, void *opaque)
{
	size_t i = 0;
	int ret;

	while (i < len) {
		char c = data[i];

		if ((unsigned char)c >= 0xfe) {
			/* Resync: drop what was half received. */
			i++;
			ret = js->len ? qmp_json_emit(js, QMP_JSON_DISCARDED,
						      cb, opaque) : 0;
			qmp_json_reset(js);
			if (ret)
				return i;
			continue;
		}
		if (js->in_bare && ends_bare(c)) {
			/* c is not consumed: it starts what follows. */
			if (qmp_json_emit(js, QMP_JSON_VALUE, cb, opaque))
				return i;
			continue;
		}
		i++;
		if (!js->in_bare && !js->depth && !js->in_str) {
			if (is_blank(c))
				continue;
			js->in_bare = c != '{' && c != '[' && c != '"';
		}
		if (js->in_bare) {
			ret = qmp_json_put(js, c);
			if (ret)
				return ret;
			continue;
		}
		ret = qmp_json_step(js, c);
		if (ret < 0)
			return ret;
		if (ret && qmp_json_emit(js, QMP_JSON_VALUE, cb, opaque))
			return i;
	}
	return i;
}
