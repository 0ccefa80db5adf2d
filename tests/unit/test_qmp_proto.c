// SPDX-License-Identifier: MIT
/*
 * The QMP protocol core on buffers: greeting, capabilities negotiation,
 * request envelope checks, argument validation against a schema, dispatch
 * to fake handlers, error classes and QEMU's wording, id echo, state
 * fencing, reply-before-after_reply ordering, event formatting, flow control
 * and the registry.  No sockets, no VM.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "control/qmp_proto.h"

/* ---- a fake client: every emitted message parsed into out ------------- */

struct fake {
	struct qmp_session s;
	json_t *out;		/* array of messages */
	int state;		/* what get_state reports */
	int fail_emit;		/* emit fails from this message on (1-based) */
	size_t throttle_at;	/* set s.throttled after this many messages */
};

static struct fake fk;

static int fake_emit(struct qmp_session *s, const char *text, size_t len)
{
	struct fake *f = s->opaque;
	json_t *msg;

	if (f->fail_emit && json_array_size(f->out) + 1 >= (size_t)f->fail_emit)
		return -EPIPE;
	/* One object and exactly one CRLF at the end. */
	assert_true(len >= 2);
	assert_memory_equal(text + len - 2, "\r\n", 2);
	assert_null(memchr(text, '\n', len - 1));
	msg = json_loadb(text, len - 2, 0, NULL);
	assert_true(json_is_object(msg));
	json_array_append_new(f->out, msg);
	if (f->throttle_at && json_array_size(f->out) >= f->throttle_at)
		s->throttled = true;
	return 0;
}

static int fake_state(struct qmp_session *s)
{
	return ((struct fake *)s->opaque)->state;
}

static int setup(void **state)
{
	memset(&fk, 0, sizeof(fk));
	fk.out = json_array();
	fk.state = VM_RUNNING;
	qmp_session_init(&fk.s, NULL, fake_emit, &fk);
	fk.s.get_state = fake_state;
	return 0;
}

static int teardown(void **state)
{
	qmp_session_free(&fk.s);
	json_decref(fk.out);
	return 0;
}

static ssize_t send_str(const char *text)
{
	return qmp_session_feed(&fk.s, text, strlen(text));
}

static size_t nout(void)
{
	return json_array_size(fk.out);
}

static json_t *out(size_t i)
{
	return json_array_get(fk.out, i);
}

static json_t *last(void)
{
	assert_true(nout() > 0);
	return out(nout() - 1);
}

static void assert_error(json_t *msg, const char *cls, const char *desc)
{
	json_t *err = json_object_get(msg, "error");

	assert_non_null(err);
	assert_null(json_object_get(msg, "return"));
	assert_string_equal(json_string_value(json_object_get(err, "class")),
			    cls);
	assert_string_equal(json_string_value(json_object_get(err, "desc")),
			    desc);
}

/* Error whose description starts with prefix. */
static void assert_error_prefix(json_t *msg, const char *cls,
				const char *prefix)
{
	json_t *err = json_object_get(msg, "error");
	const char *desc = json_string_value(json_object_get(err, "desc"));

	assert_non_null(desc);
	assert_string_equal(json_string_value(json_object_get(err, "class")),
			    cls);
	assert_int_equal(strncmp(desc, prefix, strlen(prefix)), 0);
}

static json_t *ret_of(json_t *msg)
{
	json_t *r = json_object_get(msg, "return");

	if (!r) {
		char *t = json_dumps(msg, 0);

		fail_msg("expected a return, got %s", t);
	}
	return r;
}

static void negotiate(void)
{
	size_t n = nout();

	send_str("{\"execute\":\"qmp_capabilities\"}");
	assert_int_equal(nout(), n + 1);
	ret_of(last());
	assert_true(fk.s.command_mode);
}

/* ---- fake commands ---------------------------------------------------- */

static json_t *seen_args;
static int after_reply_saw;	/* messages out when after_reply ran */

static int fake_echo(struct qmp_request *req)
{
	json_decref(seen_args);
	seen_args = json_deep_copy(req->args);
	req->ret = json_pack("{s:s, s:b, s:I, s:s}",
			     "s", qmp_arg_str(req, "s", "def"),
			     "b", qmp_arg_bool(req, "b", false),
			     "i", (json_int_t)qmp_arg_int(req, "i", -7),
			     "opt", qmp_arg_present(req, "opt") ? "yes" : "no");
	return 0;
}

static const struct qmp_arg echo_args[] = {
	{ "s", QMP_ARG_STR, false },
	{ "b", QMP_ARG_BOOL, false },
	{ "i", QMP_ARG_INT, false },
	{ "u", QMP_ARG_UINT, true },
	{ "n", QMP_ARG_NUMBER, true },
	{ "o", QMP_ARG_OBJECT, true },
	{ "a", QMP_ARG_ARRAY, true },
	{ "opt", QMP_ARG_ANY, true },
	QMP_ARGS_END
};

static int fake_fail_errno(struct qmp_request *req)
{
	req->ret = json_array();	/* must not leak nor be sent */
	return -EIO;
}

static int fake_fail_class(struct qmp_request *req)
{
	req->ret = json_object();
	qmp_error(req, QMP_ERR_DEVICE_NOT_FOUND, "Device '%s' not found",
		  "x");
	/* The first error wins. */
	return qmp_error(req, QMP_ERR_GENERIC, "second");
}

static int fake_list(struct qmp_request *req)
{
	req->ret = json_pack("[i, s]", 1, "two");
	return 0;
}

static void record_after(void *opaque)
{
	after_reply_saw = (int)nout();
	*(int *)opaque += 1;
}

static int after_count;

static int fake_after(struct qmp_request *req)
{
	req->after_reply = record_after;
	req->after_reply_opaque = &after_count;
	return 0;
}

static const struct qmp_command fake_cmds[] = {
	{ .name = "x-echo", .handler = fake_echo, .args = echo_args },
	{ .name = "x-fail-errno", .handler = fake_fail_errno },
	{ .name = "x-fail-class", .handler = fake_fail_class },
	{ .name = "x-list", .handler = fake_list },
	{ .name = "x-after", .handler = fake_after },
	{ .name = "x-running-only", .handler = fake_list,
	  .states = QMP_STATE(VM_RUNNING) },
	{ .name = "x-extra", .handler = fake_echo, .args = echo_args,
	  .flags = QMP_CMD_EXTRA_ARGS },
};

static int register_fakes(void **state)
{
	return qmp_register_commands(fake_cmds,
				     sizeof(fake_cmds) / sizeof(fake_cmds[0]));
}

static int free_globals(void **state)
{
	json_decref(seen_args);
	seen_args = NULL;
	return 0;
}

/* ---- tests ------------------------------------------------------------ */

static void test_greeting(void **state)
{
	json_t *qmp, *ver;

	assert_int_equal(qmp_session_greet(&fk.s), 0);
	assert_int_equal(nout(), 1);
	qmp = json_object_get(out(0), "QMP");
	assert_non_null(qmp);
	ver = json_object_get(qmp, "version");
	assert_int_equal(json_integer_value(json_object_get(
		json_object_get(ver, "qemu"), "major")), QMP_QEMU_MAJOR);
	assert_true(json_is_integer(json_object_get(
		json_object_get(ver, "qemu"), "minor")));
	assert_true(json_is_integer(json_object_get(
		json_object_get(ver, "qemu"), "micro")));
	assert_int_equal(strncmp(json_string_value(json_object_get(ver,
				 "package")), "fvmm ", 5), 0);
	assert_true(json_is_array(json_object_get(qmp, "capabilities")));
	assert_int_equal(json_array_size(json_object_get(qmp, "capabilities")), 0);
	assert_false(fk.s.command_mode);
}

static void test_negotiation(void **state)
{
	/* Before qmp_capabilities: every other command, known or not. */
	send_str("{\"execute\":\"query-version\",\"id\":\"a\"}");
	assert_error(last(), "CommandNotFound",
		     "Expecting capabilities negotiation with 'qmp_capabilities'");
	assert_string_equal(json_string_value(json_object_get(last(), "id")),
			    "a");
	send_str("{\"execute\":\"no-such\"}");
	assert_error(last(), "CommandNotFound",
		     "Expecting capabilities negotiation with 'qmp_capabilities'");
	/* Asking for out-of-band execution is refused; still negotiating. */
	send_str("{\"execute\":\"qmp_capabilities\",\"arguments\":{\"enable\":[\"oob\"]}}");
	assert_error(last(), "GenericError", "Capability 'oob' not available");
	assert_false(fk.s.command_mode);
	send_str("{\"execute\":\"qmp_capabilities\",\"arguments\":{\"enable\":[7]}}");
	assert_error_prefix(last(), "GenericError", "Invalid parameter type");
	send_str("{\"execute\":\"qmp_capabilities\",\"arguments\":{\"enable\":\"oob\"}}");
	assert_error(last(), "GenericError",
		     "Invalid parameter type for 'enable', expected: array");
	negotiate();
	send_str("{\"execute\":\"qmp_capabilities\",\"arguments\":{\"enable\":[]}}");
	assert_error(last(), "CommandNotFound",
		     "Capabilities negotiation is already complete, command ignored");
	send_str("{\"execute\":\"query-version\"}");
	assert_true(json_is_object(json_object_get(ret_of(last()), "qemu")));
}

static void test_framing(void **state)
{
	negotiate();
	/* Two requests in one write: two replies, in order. */
	send_str("{\"execute\":\"x-list\",\"id\":1}{\"execute\":\"x-list\",\"id\":2}");
	assert_int_equal(nout(), 3);
	assert_int_equal(json_integer_value(json_object_get(out(1), "id")), 1);
	assert_int_equal(json_integer_value(json_object_get(out(2), "id")), 2);
	/* One request over three writes: one reply, after the last. */
	send_str("{\"execute\":");
	send_str("\"x-list\", \"id\"");
	assert_int_equal(nout(), 3);
	send_str(": 3}\r\n");
	assert_int_equal(nout(), 4);
	assert_int_equal(json_integer_value(json_object_get(out(3), "id")), 3);
}

static void test_parse_errors(void **state)
{
	negotiate();
	send_str("{\"execute\": \"x-list\",}");
	assert_error_prefix(last(), "GenericError", "JSON parse error, ");
	assert_null(json_object_get(last(), "id"));
	send_str("{\"execute\": nonsense}");
	assert_error_prefix(last(), "GenericError", "JSON parse error, ");
	send_str("foo ");
	assert_error_prefix(last(), "GenericError", "JSON parse error, ");
	/* Duplicate keys and NUL characters are refused, like QEMU does. */
	send_str("{\"execute\":\"x-list\",\"execute\":\"x-list\"}");
	assert_error_prefix(last(), "GenericError", "JSON parse error, ");
	send_str("{\"execute\":\"x-\\u0000list\"}");
	assert_error_prefix(last(), "GenericError", "JSON parse error, ");
	send_str("{\"execute\":\"x-list\",\"id\":\"\xc3\x28\"}");
	assert_error_prefix(last(), "GenericError", "JSON parse error, ");
	/* An unclosed request, then the resync byte, then a good request. */
	send_str("{\"execute\":\"x-li");
	send_str("\xff{\"execute\":\"x-list\",\"id\":9}");
	assert_error_prefix(out(nout() - 2), "GenericError",
			    "JSON parse error, invalid byte");
	assert_int_equal(json_integer_value(json_object_get(last(), "id")), 9);
	ret_of(last());
	/* The connection stays usable after all of that. */
	send_str("{\"execute\":\"x-list\"}");
	assert_true(json_is_array(ret_of(last())));
}

static void test_envelope(void **state)
{
	json_t *want;

	negotiate();
	send_str("[1, 2]");
	assert_error(last(), "GenericError", "QMP input must be a JSON object");
	send_str("42 ");
	assert_error(last(), "GenericError", "QMP input must be a JSON object");
	send_str("{\"id\": 5}");
	assert_error(last(), "GenericError", "QMP input lacks member 'execute'");
	assert_int_equal(json_integer_value(json_object_get(last(), "id")), 5);
	send_str("{\"execute\": 5}");
	assert_error(last(), "GenericError",
		     "QMP input member 'execute' must be a string");
	send_str("{\"execute\": \"x-list\", \"arguments\": []}");
	assert_error(last(), "GenericError",
		     "QMP input member 'arguments' must be an object");
	send_str("{\"execute\": \"x-list\", \"bogus\": 1}");
	assert_error(last(), "GenericError",
		     "QMP input member 'bogus' is unexpected");
	send_str("{\"execute\": \"nope\", \"id\": {\"x\": [1]}}");
	assert_error(last(), "CommandNotFound",
		     "The command nope has not been found");
	want = json_pack("{s:[i]}", "x", 1);
	assert_true(json_equal(json_object_get(last(), "id"), want));
	json_decref(want);
}

static void test_id_echo(void **state)
{
	const char *ids[] = { "7", "\"abc\"", "[1,\"x\"]", "{\"k\":null}",
			      "null", "1.5", "true" };

	negotiate();
	for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
		char req[128];
		json_t *want = json_loads(ids[i], JSON_DECODE_ANY, NULL);

		snprintf(req, sizeof(req), "{\"execute\":\"x-list\",\"id\":%s}",
			 ids[i]);
		send_str(req);
		assert_true(json_equal(json_object_get(last(), "id"), want));
		json_decref(want);
	}
}

static void test_args_ok(void **state)
{
	json_t *r;

	negotiate();
	send_str("{\"execute\":\"x-echo\",\"arguments\":{\"s\":\"hi\",\"b\":true,"
		 "\"i\":-3,\"u\":4,\"n\":1.5,\"o\":{},\"a\":[],\"opt\":null}}");
	r = ret_of(last());
	assert_string_equal(json_string_value(json_object_get(r, "s")), "hi");
	assert_true(json_is_true(json_object_get(r, "b")));
	assert_int_equal(json_integer_value(json_object_get(r, "i")), -3);
	assert_string_equal(json_string_value(json_object_get(r, "opt")), "yes");
	/* Optional ones may be left out; "number" takes integers too. */
	send_str("{\"execute\":\"x-echo\",\"arguments\":{\"s\":\"\",\"b\":false,"
		 "\"i\":0,\"n\":2}}");
	r = ret_of(last());
	assert_string_equal(json_string_value(json_object_get(r, "opt")), "no");
	assert_int_equal(json_object_size(seen_args), 4);
}

static void expect_arg_error(const char *args, const char *desc)
{
	char req[512];

	snprintf(req, sizeof(req), "{\"execute\":\"x-echo\",\"arguments\":%s}",
		 args);
	send_str(req);
	assert_error(last(), "GenericError", desc);
}

static void test_args_bad(void **state)
{
	negotiate();
	expect_arg_error("{}", "Parameter 's' is missing");
	send_str("{\"execute\":\"x-echo\"}");
	assert_error(last(), "GenericError", "Parameter 's' is missing");
	expect_arg_error("{\"s\":\"x\",\"i\":1}", "Parameter 'b' is missing");
	expect_arg_error("{\"s\":1,\"b\":true,\"i\":1}",
			 "Invalid parameter type for 's', expected: string");
	expect_arg_error("{\"s\":\"x\",\"b\":1,\"i\":1}",
			 "Invalid parameter type for 'b', expected: boolean");
	expect_arg_error("{\"s\":\"x\",\"b\":true,\"i\":\"1\"}",
			 "Invalid parameter type for 'i', expected: integer");
	expect_arg_error("{\"s\":\"x\",\"b\":true,\"i\":1.0}",
			 "Invalid parameter type for 'i', expected: integer");
	expect_arg_error("{\"s\":\"x\",\"b\":true,\"i\":1,\"u\":-1}",
			 "Parameter 'u' expects uint64");
	expect_arg_error("{\"s\":\"x\",\"b\":true,\"i\":1,\"n\":\"1\"}",
			 "Invalid parameter type for 'n', expected: number");
	expect_arg_error("{\"s\":\"x\",\"b\":true,\"i\":1,\"o\":[]}",
			 "Invalid parameter type for 'o', expected: object");
	expect_arg_error("{\"s\":\"x\",\"b\":true,\"i\":1,\"a\":{}}",
			 "Invalid parameter type for 'a', expected: array");
	expect_arg_error("{\"s\":null,\"b\":true,\"i\":1}",
			 "Invalid parameter type for 's', expected: string");
	expect_arg_error("{\"s\":\"x\",\"b\":true,\"i\":1,\"foo\":1}",
			 "Parameter 'foo' is unexpected");
	/* A command without a schema takes no arguments at all. */
	send_str("{\"execute\":\"x-list\",\"arguments\":{\"x\":1}}");
	assert_error(last(), "GenericError", "Parameter 'x' is unexpected");
	/* Unless it asks for extra arguments (device_add properties). */
	send_str("{\"execute\":\"x-extra\",\"arguments\":{\"s\":\"x\",\"b\":true,"
		 "\"i\":1,\"mac\":\"52:54:00:00:00:01\"}}");
	ret_of(last());
	assert_string_equal(json_string_value(json_object_get(seen_args, "mac")),
			    "52:54:00:00:00:01");
	send_str("{\"execute\":\"x-extra\",\"arguments\":{\"mac\":\"x\"}}");
	assert_error(last(), "GenericError", "Parameter 's' is missing");
}

static void test_handler_errors(void **state)
{
	negotiate();
	send_str("{\"execute\":\"x-fail-errno\",\"id\":1}");
	assert_error_prefix(last(), "GenericError", "x-fail-errno: ");
	assert_int_equal(json_integer_value(json_object_get(last(), "id")), 1);
	send_str("{\"execute\":\"x-fail-class\"}");
	assert_error(last(), "DeviceNotFound", "Device 'x' not found");
	send_str("{\"execute\":\"x-list\"}");
	assert_true(json_is_array(ret_of(last())));
	assert_int_equal(json_array_size(ret_of(last())), 2);
}

static void test_state_fencing(void **state)
{
	negotiate();
	send_str("{\"execute\":\"x-running-only\"}");
	ret_of(last());
	fk.state = VM_PAUSED;
	send_str("{\"execute\":\"x-running-only\",\"id\":2}");
	assert_error(last(), "GenericError",
		     "The command x-running-only is not allowed in VM state 'paused'");
	assert_int_equal(json_integer_value(json_object_get(last(), "id")), 2);
	/* Commands without a state list run in every state. */
	fk.state = VM_SHUTDOWN;
	send_str("{\"execute\":\"x-list\"}");
	ret_of(last());
}

static void test_after_reply(void **state)
{
	negotiate();
	after_count = 0;
	send_str("{\"execute\":\"x-after\"}");
	assert_int_equal(after_count, 1);
	/* The reply was out before the hook ran. */
	assert_int_equal(after_reply_saw, (int)nout());
	ret_of(last());
	/* Not run when the request fails before the handler. */
	send_str("{\"execute\":\"x-after\",\"arguments\":{\"a\":1}}");
	assert_int_equal(after_count, 1);
}

static void test_query_commands(void **state)
{
	bool found_echo = false, found_caps = false;
	size_t i;
	json_t *x;

	negotiate();
	send_str("{\"execute\":\"query-commands\"}");
	json_array_foreach(ret_of(last()), i, x) {
		const char *n = json_string_value(json_object_get(x, "name"));

		found_echo |= !strcmp(n, "x-echo");
		found_caps |= !strcmp(n, "qmp_capabilities");
	}
	assert_true(found_echo);
	assert_true(found_caps);
}

static int dummy_handler(struct qmp_request *req)
{
	return 0;
}

static void test_registry(void **state)
{
	static const struct qmp_command dup = { .name = "x-echo",
						.handler = dummy_handler };
	static const struct qmp_command builtin = { .name = "query-version",
						    .handler = dummy_handler };
	static const struct qmp_command nohandler = { .name = "x-none" };
	static const struct qmp_command noname = { .handler = dummy_handler };
	static const struct qmp_command fresh = { .name = "x-fresh",
						  .handler = dummy_handler };

	assert_int_equal(qmp_register_command(&dup), -EEXIST);
	assert_int_equal(qmp_register_command(&builtin), -EEXIST);
	assert_int_equal(qmp_register_command(&nohandler), -EINVAL);
	assert_int_equal(qmp_register_command(&noname), -EINVAL);
	assert_int_equal(qmp_register_command(NULL), -EINVAL);
	/* Registering the same struct twice is harmless. */
	assert_int_equal(qmp_register_command(&fake_cmds[0]), 0);
	assert_int_equal(qmp_register_command(&fresh), 0);
	assert_ptr_equal(qmp_find_command("x-fresh"), &fresh);
	assert_null(qmp_find_command("x-missing"));
}

static void test_events(void **state)
{
	struct timespec ts = { .tv_sec = 1700000000, .tv_nsec = 123456789 };
	json_t *ev, *t;
	size_t len;
	char *text;

	ev = qmp_event_new("STOP", NULL, &ts);
	assert_string_equal(json_string_value(json_object_get(ev, "event")),
			    "STOP");
	assert_null(json_object_get(ev, "data"));
	t = json_object_get(ev, "timestamp");
	assert_int_equal(json_integer_value(json_object_get(t, "seconds")),
			 1700000000);
	assert_int_equal(json_integer_value(json_object_get(t, "microseconds")),
			 123456);
	text = qmp_dump(ev, &len);
	json_decref(ev);
	/* Still negotiating: no events (as QEMU). */
	assert_int_equal(qmp_session_send_event(&fk.s, text, len), 0);
	assert_int_equal(nout(), 0);
	negotiate();
	assert_int_equal(qmp_session_send_event(&fk.s, text, len), 0);
	assert_string_equal(json_string_value(json_object_get(last(), "event")),
			    "STOP");
	free(text);

	ev = qmp_event_new("SHUTDOWN", json_pack("{s:b, s:s}", "guest", 0,
				"reason", "host-qmp-quit"), &ts);
	text = qmp_dump(ev, &len);
	json_decref(ev);
	qmp_session_send_event(&fk.s, text, len);
	free(text);
	assert_string_equal(json_string_value(json_object_get(
		json_object_get(last(), "data"), "reason")), "host-qmp-quit");
	assert_true(json_is_false(json_object_get(
		json_object_get(last(), "data"), "guest")));
}

static void test_throttle(void **state)
{
	const char *in = "{\"execute\":\"x-list\",\"id\":1} {\"execute\":\"x-list\",\"id\":2}";
	ssize_t n;

	negotiate();
	fk.throttle_at = nout() + 1;
	n = send_str(in);
	/* Stopped right after the first request. */
	assert_int_equal(n, (ssize_t)strlen("{\"execute\":\"x-list\",\"id\":1}"));
	assert_int_equal(json_integer_value(json_object_get(last(), "id")), 1);
	fk.throttle_at = 0;
	fk.s.throttled = false;
	n = qmp_session_feed(&fk.s, in + n, strlen(in) - n);
	assert_int_equal(json_integer_value(json_object_get(last(), "id")), 2);
}

static void test_dead_session(void **state)
{
	negotiate();
	fk.fail_emit = (int)nout() + 1;
	assert_int_equal(send_str("{\"execute\":\"x-list\"} {\"execute\":\"x-list\"}"),
			 (ssize_t)strlen("{\"execute\":\"x-list\"}"));
	assert_true(fk.s.dead);
	assert_int_equal(send_str("{\"execute\":\"x-list\"}"), 0);
}

static void test_oversize(void **state)
{
	char big[200];

	negotiate();
	fk.s.json.max = 128;
	memset(big, ' ', sizeof(big));
	big[0] = '{';
	assert_int_equal(qmp_session_feed(&fk.s, big, sizeof(big)), -EMSGSIZE);
	assert_error_prefix(last(), "GenericError", "JSON parse error, request longer");
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_greeting),
		T(test_negotiation),
		T(test_framing),
		T(test_parse_errors),
		T(test_envelope),
		T(test_id_echo),
		T(test_args_ok),
		T(test_args_bad),
		T(test_handler_errors),
		T(test_state_fencing),
		T(test_after_reply),
		T(test_query_commands),
		T(test_registry),
		T(test_events),
		T(test_throttle),
		T(test_dead_session),
		T(test_oversize),
	};

	return cmocka_run_group_tests(tests, register_fakes, free_globals);
}
