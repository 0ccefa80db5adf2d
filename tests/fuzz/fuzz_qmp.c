// SPDX-License-Identifier: MIT
/*
 * libFuzzer target for the QMP protocol core: the input is what a client
 * sends.  The first byte sets the size of the chunks it arrives in, the
 * second a few session knobs (start negotiated, throttle after every reply,
 * a small framing limit).  Every message the session emits must be one JSON
 * object followed by CRLF; anything else aborts.
 *
 *   make fuzz && build/fuzz/fuzz_qmp -max_total_time=60
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "control/qmp_proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const struct qmp_arg args[] = {
	{ "s", QMP_ARG_STR, false },
	{ "b", QMP_ARG_BOOL, true },
	{ "i", QMP_ARG_INT, true },
	{ "u", QMP_ARG_UINT, true },
	{ "n", QMP_ARG_NUMBER, true },
	{ "o", QMP_ARG_OBJECT, true },
	{ "a", QMP_ARG_ARRAY, true },
	{ "x", QMP_ARG_ANY, true },
	QMP_ARGS_END
};

/* Echo the arguments back, fail on request, or hook after the reply. */
static int fuzz_cmd(struct qmp_request *req)
{
	const char *s = qmp_arg_str(req, "s", "");

	if (!strcmp(s, "fail"))
		return -5;
	if (!strcmp(s, "error"))
		return qmp_error(req, QMP_ERR_DEVICE_NOT_FOUND,
				 "Device '%s' not found", s);
	req->ret = json_deep_copy(req->args);
	return 0;
}

static unsigned after_runs;

static void fuzz_after(void *opaque)
{
	after_runs++;
}

static int fuzz_after_cmd(struct qmp_request *req)
{
	req->after_reply = fuzz_after;
	return 0;
}

static const struct qmp_command cmds[] = {
	{ .name = "x-fuzz", .handler = fuzz_cmd, .args = args },
	{ .name = "x-fuzz-extra", .handler = fuzz_cmd, .args = args,
	  .flags = QMP_CMD_EXTRA_ARGS },
	{ .name = "x-fuzz-paused", .handler = fuzz_after_cmd,
	  .states = QMP_STATE(VM_PAUSED) },
	{ .name = "x-fuzz-after", .handler = fuzz_after_cmd },
};

static bool throttle_each;

static int fuzz_emit(struct qmp_session *s, const char *text, size_t len)
{
	json_t *msg;

	if (len < 3 || memcmp(text + len - 2, "\r\n", 2) ||
	    memchr(text, '\n', len - 1))
		abort();
	msg = json_loadb(text, len - 2, 0, NULL);
	if (!json_is_object(msg))
		abort();
	json_decref(msg);
	if (throttle_each)
		s->throttled = true;
	return 0;
}

static int fuzz_state(struct qmp_session *s)
{
	return VM_RUNNING;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool ready;
	struct qmp_session s;
	size_t chunk, off = 0;
	uint8_t knobs;

	if (!ready) {
		for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
			if (qmp_register_command(&cmds[i]))
				abort();
		ready = true;
	}
	if (size < 2)
		return 0;
	chunk = data[0] ? data[0] : 4096;
	knobs = data[1];
	data += 2;
	size -= 2;
	throttle_each = knobs & 2;
	qmp_session_init(&s, NULL, fuzz_emit, NULL);
	s.get_state = fuzz_state;
	s.command_mode = knobs & 1;
	if (knobs & 4)
		s.json.max = 256;
	if (!(knobs & 8))
		qmp_session_greet(&s);
	while (off < size) {
		size_t n = size - off < chunk ? size - off : chunk;
		ssize_t used = qmp_session_feed(&s, (const char *)data + off, n);

		if (used <= 0)
			break;		/* the server would disconnect */
		off += used;
		s.throttled = false;
	}
	qmp_session_free(&s);
	return 0;
}
