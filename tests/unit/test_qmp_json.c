// SPDX-License-Identifier: MIT
/*
 * QMP stream framing: values split across feeds, several in one feed,
 * strings with brackets and escapes, bare tokens, resync bytes, the size
 * limit and the callback's flow control.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "control/qmp_json.h"

#define MAX_SEEN	16

struct seen {
	unsigned n;
	enum qmp_json_kind kind[MAX_SEEN];
	char *text[MAX_SEEN];
	size_t len[MAX_SEEN];
	unsigned stop_after;	/* ask to stop after this many (0: never) */
};

static int collect(void *opaque, enum qmp_json_kind kind, const char *text,
		   size_t len)
{
	struct seen *s = opaque;

	assert_true(s->n < MAX_SEEN);
	assert_int_equal(text[len], '\0');
	s->kind[s->n] = kind;
	s->text[s->n] = strndup(text, len);
	s->len[s->n] = len;
	s->n++;
	return s->stop_after && s->n >= s->stop_after;
}

static void seen_free(struct seen *s)
{
	for (unsigned i = 0; i < s->n; i++)
		free(s->text[i]);
	memset(s, 0, sizeof(*s));
}

static ssize_t feed(struct qmp_json *js, struct seen *s, const char *text)
{
	return qmp_json_feed(js, text, strlen(text), collect, s);
}

static void test_one_object(void **state)
{
	struct qmp_json js;
	struct seen s = { 0 };

	qmp_json_init(&js);
	assert_int_equal(feed(&js, &s, "{\"execute\": \"stop\"}\r\n"), 21);
	assert_int_equal(s.n, 1);
	assert_int_equal(s.kind[0], QMP_JSON_VALUE);
	assert_string_equal(s.text[0], "{\"execute\": \"stop\"}");
	assert_int_equal(qmp_json_pending(&js), 0);
	seen_free(&s);
	qmp_json_free(&js);
}

static void test_concatenated(void **state)
{
	struct qmp_json js;
	struct seen s = { 0 };

	qmp_json_init(&js);
	feed(&js, &s, "{\"a\":1}{\"b\":[1,{\"c\":2}]}\n  [3]\t{}");
	assert_int_equal(s.n, 4);
	assert_string_equal(s.text[0], "{\"a\":1}");
	assert_string_equal(s.text[1], "{\"b\":[1,{\"c\":2}]}");
	assert_string_equal(s.text[2], "[3]");
	assert_string_equal(s.text[3], "{}");
	seen_free(&s);
	qmp_json_free(&js);
}

static void test_split_bytewise(void **state)
{
	const char *msg = "{\"execute\":\"set_link\",\"arguments\":"
			  "{\"name\":\"n}e{t\\\"0\",\"up\":true}}";
	struct qmp_json js;
	struct seen s = { 0 };

	qmp_json_init(&js);
	for (size_t i = 0; i < strlen(msg); i++) {
		assert_int_equal(s.n, 0);
		assert_int_equal(qmp_json_feed(&js, msg + i, 1, collect, &s), 1);
	}
	assert_int_equal(s.n, 1);
	assert_string_equal(s.text[0], msg);
	seen_free(&s);
	qmp_json_free(&js);
}

/* Brackets and quotes inside strings, escaped backslashes before quotes. */
static void test_strings(void **state)
{
	struct qmp_json js;
	struct seen s = { 0 };

	qmp_json_init(&js);
	feed(&js, &s, "{\"a\":\"}}]]\\\\\"}{\"b\":\"\\\"{\"}");
	assert_int_equal(s.n, 2);
	assert_string_equal(s.text[0], "{\"a\":\"}}]]\\\\\"}");
	assert_string_equal(s.text[1], "{\"b\":\"\\\"{\"}");
	/* A top-level string is one value. */
	feed(&js, &s, " \"x{y\" ");
	assert_int_equal(s.n, 3);
	assert_string_equal(s.text[2], "\"x{y\"");
	seen_free(&s);
	qmp_json_free(&js);
}

static void test_bare_tokens(void **state)
{
	struct qmp_json js;
	struct seen s = { 0 };

	qmp_json_init(&js);
	feed(&js, &s, "42 foo}\n");
	assert_int_equal(s.n, 2);
	assert_string_equal(s.text[0], "42");
	assert_string_equal(s.text[1], "foo}");
	/* A bracket ends a bare token and starts the next value. */
	feed(&js, &s, "nul{\"a\":1}");
	assert_int_equal(s.n, 4);
	assert_string_equal(s.text[2], "nul");
	assert_string_equal(s.text[3], "{\"a\":1}");
	/* Unterminated bare token waits for its end. */
	feed(&js, &s, "tru");
	assert_int_equal(s.n, 4);
	feed(&js, &s, "e ");
	assert_int_equal(s.n, 5);
	assert_string_equal(s.text[4], "true");
	seen_free(&s);
	qmp_json_free(&js);
}

static void test_resync(void **state)
{
	struct qmp_json js;
	struct seen s = { 0 };

	qmp_json_init(&js);
	/* An unclosed object would swallow what follows; 0xff drops it. */
	feed(&js, &s, "{\"execute\": \"qmp_capa\xff{\"a\":1}");
	assert_int_equal(s.n, 2);
	assert_int_equal(s.kind[0], QMP_JSON_DISCARDED);
	assert_int_equal(s.len[0], strlen("{\"execute\": \"qmp_capa"));
	assert_int_equal(s.kind[1], QMP_JSON_VALUE);
	assert_string_equal(s.text[1], "{\"a\":1}");
	/* Between values a resync byte is silently ignored. */
	feed(&js, &s, "\xfe\xff {}");
	assert_int_equal(s.n, 3);
	assert_string_equal(s.text[2], "{}");
	seen_free(&s);
	qmp_json_free(&js);
}

static void test_limit(void **state)
{
	char big[100];
	struct qmp_json js;
	struct seen s = { 0 };

	qmp_json_init(&js);
	js.max = 64;
	/* Exactly max bytes is fine. */
	memset(big, ' ', sizeof(big));
	big[0] = '[';
	big[63] = ']';
	assert_int_equal(qmp_json_feed(&js, big, 64, collect, &s), 64);
	assert_int_equal(s.n, 1);
	/* One more without completing is not. */
	big[63] = ' ';
	assert_int_equal(qmp_json_feed(&js, big, 65, collect, &s), -EMSGSIZE);
	seen_free(&s);
	qmp_json_free(&js);
}

/* The default limit is QMP's 1 MiB. */
static void test_default_limit(void **state)
{
	size_t len = QMP_JSON_MAX + 1;
	char *big = malloc(len);
	struct qmp_json js;
	struct seen s = { 0 };

	assert_non_null(big);
	memset(big, '[', len);
	qmp_json_init(&js);
	assert_int_equal(qmp_json_feed(&js, big, len, collect, &s), -EMSGSIZE);
	assert_int_equal(s.n, 0);
	free(big);
	qmp_json_free(&js);
}

static void test_stop(void **state)
{
	const char *in = "{\"a\":1} {\"b\":2} x {\"c\":3}";
	struct qmp_json js;
	struct seen s = { .stop_after = 1 };
	ssize_t n, off = 0;

	qmp_json_init(&js);
	n = qmp_json_feed(&js, in, strlen(in), collect, &s);
	assert_int_equal(n, 7);
	off += n;
	s.stop_after = 2;
	n = qmp_json_feed(&js, in + off, strlen(in) - off, collect, &s);
	assert_int_equal(s.n, 2);
	assert_string_equal(s.text[1], "{\"b\":2}");
	off += n;
	/* The bare token stops before its delimiter: nothing lost. */
	s.stop_after = 3;
	n = qmp_json_feed(&js, in + off, strlen(in) - off, collect, &s);
	assert_int_equal(s.n, 3);
	assert_string_equal(s.text[2], "x");
	off += n;
	s.stop_after = 0;
	n = qmp_json_feed(&js, in + off, strlen(in) - off, collect, &s);
	assert_int_equal(off + n, (ssize_t)strlen(in));
	assert_int_equal(s.n, 4);
	assert_string_equal(s.text[3], "{\"c\":3}");
	seen_free(&s);
	qmp_json_free(&js);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_one_object),
		cmocka_unit_test(test_concatenated),
		cmocka_unit_test(test_split_bytewise),
		cmocka_unit_test(test_strings),
		cmocka_unit_test(test_bare_tokens),
		cmocka_unit_test(test_resync),
		cmocka_unit_test(test_limit),
		cmocka_unit_test(test_default_limit),
		cmocka_unit_test(test_stop),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
