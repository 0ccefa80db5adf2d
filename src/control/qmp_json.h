/* SPDX-License-Identifier: MIT */
#ifndef FVMM_CONTROL_QMP_JSON_H
#define FVMM_CONTROL_QMP_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/*
 * Framing of a JSON text stream into top-level values, as QMP needs it: a
 * peer may send several objects in one write or one object across many, and
 * nothing but nesting tells where an object ends.  The splitter tracks
 * brackets outside strings (and escapes inside them); it does not validate,
 * jansson does that on each complete value.
 *
 * What counts as one value:
 *  - an object or array, from its opening to its matching closing bracket
 *    (a mismatched bracket still closes it; the parser then complains);
 *  - a top-level string;
 *  - a run of other non-blank bytes at top level ("42", "nul", a stray
 *    "}"), ended by a blank or a bracket or quote: the parser rejects or
 *    the dispatcher refuses it, and the stream stays in step.
 * Bytes 0xfe and 0xff can never occur in UTF-8 JSON; like QEMU's lexer, they
 * make the splitter drop any half-received value, so a client can resync
 * after sending an unclosed bracket.
 */

#define QMP_JSON_MAX	(1024 * 1024)	/* longest value we buffer */

enum qmp_json_kind {
	QMP_JSON_VALUE,		/* text holds one candidate value */
	QMP_JSON_DISCARDED,	/* a resync byte dropped len partial bytes */
};

/*
 * Called for every complete value (text is NUL-terminated for convenience
 * but may contain NULs).  Return 0 to go on, or non-zero to make
 * qmp_json_feed() stop right after this value (flow control or the
 * consumer is closing).
 */
typedef int (*qmp_json_cb)(void *opaque, enum qmp_json_kind kind,
			   const char *text, size_t len);

struct qmp_json {
	char *buf;		/* the value being received */
	size_t len, cap;
	size_t max;		/* QMP_JSON_MAX unless a test lowers it */
	unsigned depth;
	bool in_str;
	bool esc;
	bool in_bare;
};

void qmp_json_init(struct qmp_json *js);
void qmp_json_free(struct qmp_json *js);

/*
 * Consume input; returns how many bytes were consumed (less than len only
 * when the callback asked to stop), or -EMSGSIZE when a value grows past
 * js->max bytes (the stream cannot be resynchronised: close it) or -ENOMEM.
 */
ssize_t qmp_json_feed(struct qmp_json *js, const char *data, size_t len,
		      qmp_json_cb cb, void *opaque);

/* Bytes of an unfinished value held (0 between values). */
static inline size_t qmp_json_pending(const struct qmp_json *js)
{
	return js->len;
}

#endif
