/* SPDX-License-Identifier: MIT */
#ifndef FVMM_CONTROL_QMP_PROTO_H
#define FVMM_CONTROL_QMP_PROTO_H

/*
 * The QMP protocol core: one session per client, working on buffers only
 * (no sockets, no threads), so unit tests and the fuzzer drive it directly.
 * The server owns the transport: it feeds received bytes in and gets every
 * outgoing message through the emit callback.
 */

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <time.h>
#include <jansson.h>

#include "control/qmp.h"
#include "control/qmp_json.h"

/* The QMP dialect we speak: QEMU 7.2's, the version this host carries. */
#define QMP_QEMU_MAJOR	7
#define QMP_QEMU_MINOR	2
#define QMP_QEMU_MICRO	0

struct qmp_session {
	struct vm *vm;			/* passed to handlers; may be NULL */
	bool command_mode;		/* qmp_capabilities done */
	/*
	 * Set by the owner when it wants no more input processed for now
	 * (output queue high); qmp_session_feed() stops after the current
	 * message and returns what it consumed.
	 */
	bool throttled;
	bool dead;			/* emit failed: stop */
	struct qmp_json json;
	/*
	 * Send one message: text is a JSON object followed by "\r\n".
	 * 0, or -errno to mark the session dead.
	 */
	int (*emit)(struct qmp_session *s, const char *text, size_t len);
	/* Current VM state for command fencing; NULL: read vm->state. */
	int (*get_state)(struct qmp_session *s);
	void *opaque;			/* the owner's */
};

void qmp_session_init(struct qmp_session *s, struct vm *vm,
		      int (*emit)(struct qmp_session *, const char *, size_t),
		      void *opaque);
void qmp_session_free(struct qmp_session *s);

/* Send the greeting; call once when the client connects. */
int qmp_session_greet(struct qmp_session *s);

/*
 * Process received bytes: every complete request is answered through emit.
 * Returns the bytes consumed (less than len when throttled or dead), or
 * -EMSGSIZE (after an error reply) when a request grows past the framing
 * limit without completing, -ENOMEM: the owner should then disconnect.
 */
ssize_t qmp_session_feed(struct qmp_session *s, const char *data, size_t len);

/* Serialise and emit any message (not stolen). */
int qmp_session_send(struct qmp_session *s, json_t *msg);

/*
 * Events: build {"event", "data", "timestamp"} (data stolen, may be NULL),
 * serialise once with qmp_dump(), then qmp_session_send_event() to each
 * session; sessions still negotiating capabilities get none, as in QEMU.
 */
json_t *qmp_event_new(const char *name, json_t *data,
		      const struct timespec *ts);
int qmp_session_send_event(struct qmp_session *s, const char *text,
			   size_t len);

/* Serialise a message as the wire wants it: compact-ish JSON + "\r\n". */
char *qmp_dump(json_t *msg, size_t *len);

/* Error class name as QEMU spells it ("GenericError"...). */
const char *qmp_error_class_name(enum qmp_error_class cls);

#endif
