// SPDX-License-Identifier: MIT
/*
 * QMP protocol core: the command table, request checking and dispatch,
 * capabilities negotiation, replies and event formatting.  Works on buffers
 * only; the socket side is qmp_server.c.
 *
 * Request handling follows QEMU's QMP specification and its wording for
 * errors, so clients written against QEMU see the same classes and
 * descriptions: the input must be an object with a string "execute", an
 * optional object "arguments" and an optional "id" of any type, which is
 * echoed in the reply.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "control/qmp_proto.h"
#include "core/util.h"

#ifndef FVMM_VERSION
#define FVMM_VERSION "unknown"
#endif

/* ---- command table ---------------------------------------------------- */

static int qmp_cmd_capabilities(struct qmp_request *req);
static int qmp_cmd_query_version(struct qmp_request *req);
static int qmp_cmd_query_commands(struct qmp_request *req);

static const struct qmp_arg capabilities_args[] = {
	{ "enable", QMP_ARG_ARRAY, true },
	QMP_ARGS_END
};

static const struct qmp_command qmp_builtins[] = {
	{ .name = "qmp_capabilities", .handler = qmp_cmd_capabilities,
	  .args = capabilities_args },
	{ .name = "query-version", .handler = qmp_cmd_query_version },
	{ .name = "query-commands", .handler = qmp_cmd_query_commands },
};

/* Registered commands; the table only grows, entries are never freed. */
static pthread_mutex_t qmp_table_lock = PTHREAD_MUTEX_INITIALIZER;
static const struct qmp_command **qmp_table;
static size_t qmp_table_len, qmp_table_cap;

static const struct qmp_command *qmp_find_locked(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(qmp_builtins); i++)
		if (!strcmp(qmp_builtins[i].name, name))
			return &qmp_builtins[i];
	for (size_t i = 0; i < qmp_table_len; i++)
		if (!strcmp(qmp_table[i]->name, name))
			return qmp_table[i];
	return NULL;
}

const struct qmp_command *qmp_find_command(const char *name)
{
	const struct qmp_command *cmd;

	pthread_mutex_lock(&qmp_table_lock);
	cmd = qmp_find_locked(name);
	pthread_mutex_unlock(&qmp_table_lock);
	return cmd;
}

static int qmp_table_grow(void)
{
	size_t cap = qmp_table_cap ? qmp_table_cap * 2 : 32;
	const struct qmp_command **t;

	t = realloc(qmp_table, cap * sizeof(*t));
	if (!t)
		return -ENOMEM;
	qmp_table = t;
	qmp_table_cap = cap;
	return 0;
}

int qmp_register_command(const struct qmp_command *cmd)
{
	const struct qmp_command *old;
	int ret = 0;

	if (!cmd || !cmd->name || !cmd->name[0] || !cmd->handler)
		return -EINVAL;
	pthread_mutex_lock(&qmp_table_lock);
	old = qmp_find_locked(cmd->name);
	if (old) {
		ret = old == cmd ? 0 : -EEXIST;
		goto unlock;
	}
	if (qmp_table_len == qmp_table_cap) {
		ret = qmp_table_grow();
		if (ret)
			goto unlock;
	}
	qmp_table[qmp_table_len++] = cmd;
unlock:
	pthread_mutex_unlock(&qmp_table_lock);
	return ret;
}

int qmp_register_commands(const struct qmp_command *cmds, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		int ret = qmp_register_command(&cmds[i]);

		if (ret)
			return ret;
	}
	return 0;
}

/* ---- helpers for handlers --------------------------------------------- */

const char *qmp_error_class_name(enum qmp_error_class cls)
{
	switch (cls) {
	case QMP_ERR_COMMAND_NOT_FOUND:
		return "CommandNotFound";
	case QMP_ERR_DEVICE_NOT_ACTIVE:
		return "DeviceNotActive";
	case QMP_ERR_DEVICE_NOT_FOUND:
		return "DeviceNotFound";
	case QMP_ERR_KVM_MISSING_CAP:
		return "KVMMissingCap";
	case QMP_ERR_GENERIC:
		break;
	}
	return "GenericError";
}

int qmp_error(struct qmp_request *req, enum qmp_error_class cls,
	      const char *fmt, ...)
{
	va_list ap;

	/* The first error is the one the client should see. */
	if (req->failed)
		return -EINVAL;
	req->failed = true;
	req->err_class = cls;
	va_start(ap, fmt);
	vsnprintf(req->err_desc, sizeof(req->err_desc), fmt, ap);
	va_end(ap);
	return -EINVAL;
}

const char *qmp_arg_str(const struct qmp_request *req, const char *name,
			const char *def)
{
	json_t *v = json_object_get(req->args, name);

	return json_is_string(v) ? json_string_value(v) : def;
}

bool qmp_arg_bool(const struct qmp_request *req, const char *name, bool def)
{
	json_t *v = json_object_get(req->args, name);

	return json_is_boolean(v) ? json_is_true(v) : def;
}

long long qmp_arg_int(const struct qmp_request *req, const char *name,
		      long long def)
{
	json_t *v = json_object_get(req->args, name);

	return json_is_integer(v) ? json_integer_value(v) : def;
}

bool qmp_arg_present(const struct qmp_request *req, const char *name)
{
	return json_object_get(req->args, name) != NULL;
}

const char *qmp_state_name(int state)
{
	switch (state) {
	case VM_RUNNING:
		return "running";
	case VM_PAUSED:
		return "paused";
	case VM_SHUTDOWN:
		return "shutdown";
	case VM_INMIGRATE:
		return "inmigrate";
	case VM_POSTMIGRATE:
		return "postmigrate";
	}
	return "unknown";
}

/* ---- built-in commands ------------------------------------------------ */

static int qmp_cmd_capabilities(struct qmp_request *req)
{
	json_t *enable = json_object_get(req->args, "enable");
	json_t *first = json_array_get(enable, 0);
	const char *cap = json_string_value(first);

	/* We offer no capabilities (no out-of-band execution). */
	if (first && !cap)
		return qmp_error(req, QMP_ERR_GENERIC,
				 "Invalid parameter type for 'enable[0]', expected: string");
	if (cap && !strcmp(cap, "oob"))
		return qmp_error(req, QMP_ERR_GENERIC,
				 "Capability 'oob' not available");
	if (cap)
		return qmp_error(req, QMP_ERR_GENERIC,
				 "Parameter 'enable[0]' does not accept value '%s'",
				 cap);
	req->session->command_mode = true;
	return 0;
}

static json_t *qmp_version_json(void)
{
	return json_pack("{s:{s:i, s:i, s:i}, s:s}",
			 "qemu", "micro", QMP_QEMU_MICRO,
			 "minor", QMP_QEMU_MINOR, "major", QMP_QEMU_MAJOR,
			 "package", "fvmm " FVMM_VERSION);
}

static int qmp_cmd_query_version(struct qmp_request *req)
{
	req->ret = qmp_version_json();
	return req->ret ? 0 : -ENOMEM;
}

static int qmp_add_name(json_t *list, const char *name)
{
	return json_array_append_new(list, json_pack("{s:s}", "name", name));
}

static int qmp_cmd_query_commands(struct qmp_request *req)
{
	json_t *list = json_array();
	int ret = 0;

	if (!list)
		return -ENOMEM;
	pthread_mutex_lock(&qmp_table_lock);
	for (size_t i = 0; i < ARRAY_SIZE(qmp_builtins) && !ret; i++)
		ret = qmp_add_name(list, qmp_builtins[i].name);
	for (size_t i = 0; i < qmp_table_len && !ret; i++)
		ret = qmp_add_name(list, qmp_table[i]->name);
	pthread_mutex_unlock(&qmp_table_lock);
	if (ret) {
		json_decref(list);
		return -ENOMEM;
	}
	req->ret = list;
	return 0;
}

/* ---- request checking ------------------------------------------------- */

static const char *qmp_type_name(enum qmp_arg_type t)
{
	switch (t) {
	case QMP_ARG_STR:
		return "string";
	case QMP_ARG_BOOL:
		return "boolean";
	case QMP_ARG_INT:
	case QMP_ARG_UINT:
		return "integer";
	case QMP_ARG_NUMBER:
		return "number";
	case QMP_ARG_OBJECT:
		return "object";
	case QMP_ARG_ARRAY:
		return "array";
	case QMP_ARG_ANY:
		break;
	}
	return "any";
}

static bool qmp_type_ok(enum qmp_arg_type t, json_t *v)
{
	switch (t) {
	case QMP_ARG_STR:
		return json_is_string(v);
	case QMP_ARG_BOOL:
		return json_is_boolean(v);
	case QMP_ARG_INT:
	case QMP_ARG_UINT:
		return json_is_integer(v);
	case QMP_ARG_NUMBER:
		return json_is_number(v);
	case QMP_ARG_OBJECT:
		return json_is_object(v);
	case QMP_ARG_ARRAY:
		return json_is_array(v);
	case QMP_ARG_ANY:
		break;
	}
	return true;
}

static bool qmp_schema_has(const struct qmp_arg *args, const char *name)
{
	for (; args && args->name; args++)
		if (!strcmp(args->name, name))
			return true;
	return false;
}

/*
 * Declared arguments first, in schema order (missing, then type), then
 * anything undeclared: the order in which QEMU's input visitor complains.
 */
static int qmp_check_args(struct qmp_request *req,
			  const struct qmp_command *cmd)
{
	const struct qmp_arg *a;
	const char *key;
	json_t *v;

	for (a = cmd->args; a && a->name; a++) {
		v = json_object_get(req->args, a->name);
		if (!v) {
			if (a->optional)
				continue;
			return qmp_error(req, QMP_ERR_GENERIC,
					 "Parameter '%s' is missing", a->name);
		}
		if (!qmp_type_ok(a->type, v))
			return qmp_error(req, QMP_ERR_GENERIC,
					 "Invalid parameter type for '%s', expected: %s",
					 a->name, qmp_type_name(a->type));
		if (a->type == QMP_ARG_UINT && json_integer_value(v) < 0)
			return qmp_error(req, QMP_ERR_GENERIC,
					 "Parameter '%s' expects uint64",
					 a->name);
	}
	if (cmd->flags & QMP_CMD_EXTRA_ARGS)
		return 0;
	json_object_foreach(req->args, key, v)
		if (!qmp_schema_has(cmd->args, key))
			return qmp_error(req, QMP_ERR_GENERIC,
					 "Parameter '%s' is unexpected", key);
	return 0;
}

/* The envelope: {"execute": str, "arguments": obj?, "id": any?}. */
static int qmp_check_envelope(struct qmp_request *req, json_t *in)
{
	json_t *exec = json_object_get(in, "execute");
	json_t *args = json_object_get(in, "arguments");
	const char *key;
	json_t *v;

	json_object_foreach(in, key, v)
		if (strcmp(key, "execute") && strcmp(key, "arguments") &&
		    strcmp(key, "id"))
			return qmp_error(req, QMP_ERR_GENERIC,
					 "QMP input member '%s' is unexpected",
					 key);
	if (!exec)
		return qmp_error(req, QMP_ERR_GENERIC,
				 "QMP input lacks member 'execute'");
	if (!json_is_string(exec))
		return qmp_error(req, QMP_ERR_GENERIC,
				 "QMP input member 'execute' must be a string");
	if (args && !json_is_object(args))
		return qmp_error(req, QMP_ERR_GENERIC,
				 "QMP input member 'arguments' must be an object");
	req->name = json_string_value(exec);
	return 0;
}

static int qmp_current_state(struct qmp_session *s)
{
	int state;

	if (s->get_state)
		return s->get_state(s);
	if (!s->vm)
		return VM_RUNNING;
	pthread_mutex_lock(&s->vm->lock);
	state = s->vm->state;
	pthread_mutex_unlock(&s->vm->lock);
	return state;
}

static const struct qmp_command *qmp_lookup(struct qmp_session *s,
					    struct qmp_request *req)
{
	const struct qmp_command *cmd;
	int state;

	/* Until negotiation, only qmp_capabilities exists (as in QEMU). */
	if (!s->command_mode) {
		if (strcmp(req->name, "qmp_capabilities")) {
			qmp_error(req, QMP_ERR_COMMAND_NOT_FOUND,
				  "Expecting capabilities negotiation with 'qmp_capabilities'");
			return NULL;
		}
	} else if (!strcmp(req->name, "qmp_capabilities")) {
		qmp_error(req, QMP_ERR_COMMAND_NOT_FOUND,
			  "Capabilities negotiation is already complete, command ignored");
		return NULL;
	}
	cmd = qmp_find_command(req->name);
	if (!cmd) {
		qmp_error(req, QMP_ERR_COMMAND_NOT_FOUND,
			  "The command %s has not been found", req->name);
		return NULL;
	}
	state = qmp_current_state(s);
	if (cmd->states && !(cmd->states & QMP_STATE(state))) {
		qmp_error(req, QMP_ERR_GENERIC,
			  "The command %s is not allowed in VM state '%s'",
			  req->name, qmp_state_name(state));
		return NULL;
	}
	return cmd;
}

/* ---- replies ---------------------------------------------------------- */

char *qmp_dump(json_t *msg, size_t *len)
{
	char *text = json_dumps(msg, JSON_PRESERVE_ORDER | JSON_ENCODE_ANY);
	size_t n;
	char *p;

	if (!text)
		return NULL;
	n = strlen(text);
	p = realloc(text, n + 3);
	if (!p) {
		free(text);
		return NULL;
	}
	memcpy(p + n, "\r\n", 3);
	*len = n + 2;
	return p;
}

int qmp_session_send(struct qmp_session *s, json_t *msg)
{
	size_t len;
	char *text;
	int ret;

	if (s->dead)
		return -EPIPE;
	text = qmp_dump(msg, &len);
	if (!text)
		return -ENOMEM;
	ret = s->emit(s, text, len);
	free(text);
	if (ret)
		s->dead = true;
	return ret;
}

static json_t *qmp_error_json(enum qmp_error_class cls, const char *desc)
{
	return json_pack("{s:{s:s, s:s}}", "error",
			 "class", qmp_error_class_name(cls), "desc", desc);
}

/* Build and send the reply to req; id (borrowed) is echoed if present. */
static int qmp_reply(struct qmp_session *s, struct qmp_request *req,
		     json_t *id)
{
	json_t *msg;
	int ret;

	if (req->failed) {
		msg = qmp_error_json(req->err_class, req->err_desc);
	} else {
		msg = json_object();
		if (msg && json_object_set_new(msg, "return", req->ret ?
					       req->ret : json_object())) {
			json_decref(msg);
			msg = NULL;
		}
		req->ret = NULL;	/* the reply owns it (or it is gone) */
	}
	if (!msg)
		return -ENOMEM;
	if (id)
		json_object_set(msg, "id", id);
	ret = qmp_session_send(s, msg);
	json_decref(msg);
	return ret;
}

/* A one-off error outside any request (parse errors, overflow). */
static int qmp_send_error(struct qmp_session *s, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static int qmp_send_error(struct qmp_session *s, const char *fmt, ...)
{
	struct qmp_request req = { .session = s };
	va_list ap;

	req.failed = true;
	va_start(ap, fmt);
	vsnprintf(req.err_desc, sizeof(req.err_desc), fmt, ap);
	va_end(ap);
	return qmp_reply(s, &req, NULL);
}

static void qmp_run(struct qmp_session *s, struct qmp_request *req,
		    const struct qmp_command *cmd)
{
	int ret;

	if (qmp_check_args(req, cmd))
		return;
	ret = cmd->handler(req);
	if (ret && !req->failed)
		qmp_error(req, QMP_ERR_GENERIC, "%s: %s", req->name,
			  strerror(ret < 0 ? -ret : ret));
	if (req->failed) {
		/* A failed command returns nothing. */
		json_decref(req->ret);
		req->ret = NULL;
	}
}

static void qmp_dispatch(struct qmp_session *s, json_t *in)
{
	struct qmp_request req = { .session = s, .vm = s->vm };
	const struct qmp_command *cmd;
	json_t *empty = NULL, *id;

	if (!json_is_object(in)) {
		qmp_send_error(s, "QMP input must be a JSON object");
		return;
	}
	id = json_object_get(in, "id");
	if (qmp_check_envelope(&req, in))
		goto reply;
	req.args = json_object_get(in, "arguments");
	if (!req.args)
		req.args = empty = json_object();
	if (!req.args) {
		qmp_error(&req, QMP_ERR_GENERIC, "out of memory");
		goto reply;
	}
	cmd = qmp_lookup(s, &req);
	if (cmd)
		qmp_run(s, &req, cmd);
reply:
	qmp_reply(s, &req, id);
	json_decref(empty);
	/* Even if the client is gone: a quit still quits. */
	if (req.after_reply)
		req.after_reply(req.after_reply_opaque);
}

/* ---- sessions --------------------------------------------------------- */

void qmp_session_init(struct qmp_session *s, struct vm *vm,
		      int (*emit)(struct qmp_session *, const char *, size_t),
		      void *opaque)
{
	memset(s, 0, sizeof(*s));
	s->vm = vm;
	s->emit = emit;
	s->opaque = opaque;
	qmp_json_init(&s->json);
}

void qmp_session_free(struct qmp_session *s)
{
	qmp_json_free(&s->json);
}

int qmp_session_greet(struct qmp_session *s)
{
	json_t *msg = json_pack("{s:{s:o, s:[]}}", "QMP", "version",
				qmp_version_json(), "capabilities");
	int ret;

	if (!msg)
		return -ENOMEM;
	ret = qmp_session_send(s, msg);
	json_decref(msg);
	return ret;
}

static int qmp_session_on_value(void *opaque, enum qmp_json_kind kind,
				const char *text, size_t len)
{
	struct qmp_session *s = opaque;
	json_error_t err;
	json_t *in;

	if (kind == QMP_JSON_DISCARDED) {
		qmp_send_error(s, "JSON parse error, invalid byte in input; %zu bytes discarded",
			       len);
		return s->throttled || s->dead;
	}
	/* No JSON_ALLOW_NUL: strings handed to handlers stay C strings. */
	in = json_loadb(text, len, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES,
			&err);
	if (!in) {
		qmp_send_error(s, "JSON parse error, %s", err.text);
	} else {
		qmp_dispatch(s, in);
		json_decref(in);
	}
	return s->throttled || s->dead;
}

ssize_t qmp_session_feed(struct qmp_session *s, const char *data, size_t len)
{
	ssize_t n;

	if (s->dead)
		return 0;
	n = qmp_json_feed(&s->json, data, len, qmp_session_on_value, s);
	if (n == -EMSGSIZE)
		qmp_send_error(s, "JSON parse error, request longer than %zu bytes",
			       s->json.max);
	return n;
}

/* ---- events ----------------------------------------------------------- */

json_t *qmp_event_new(const char *name, json_t *data,
		      const struct timespec *ts)
{
	json_t *ev = json_pack("{s:s}", "event", name);

	if (!ev) {
		json_decref(data);
		return NULL;
	}
	if (data && json_object_set_new(ev, "data", data))
		goto free_ev;
	if (json_object_set_new(ev, "timestamp",
				json_pack("{s:I, s:I}",
					  "seconds", (json_int_t)ts->tv_sec,
					  "microseconds",
					  (json_int_t)(ts->tv_nsec / 1000))))
		goto free_ev;
	return ev;

free_ev:
	json_decref(ev);
	return NULL;
}

int qmp_session_send_event(struct qmp_session *s, const char *text,
			   size_t len)
{
	int ret;

	if (!s->command_mode || s->dead)
		return 0;
	ret = s->emit(s, text, len);
	if (ret)
		s->dead = true;
	return ret;
}
