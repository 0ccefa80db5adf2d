// SPDX-License-Identifier: MIT
/*
 * Human-readable output for fvmm-ctl: a YAML-like rendering of any return
 * value, with a few commands given the one line a person wants to see.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "print.h"

void ctl_print_json(FILE *out, json_t *v)
{
	char *text = json_dumps(v, JSON_COMPACT | JSON_PRESERVE_ORDER |
				JSON_ENCODE_ANY);

	if (text)
		fprintf(out, "%s\n", text);
	free(text);
}

static bool is_empty(json_t *v)
{
	return (json_is_object(v) && !json_object_size(v)) ||
	       (json_is_array(v) && !json_array_size(v));
}

/* Scalars as themselves (strings unquoted), containers as compact JSON. */
static void print_inline(FILE *out, json_t *v)
{
	char *text;

	switch (json_typeof(v)) {
	case JSON_STRING:
		fputs(json_string_value(v), out);
		return;
	case JSON_INTEGER:
		fprintf(out, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		return;
	case JSON_REAL:
		fprintf(out, "%g", json_real_value(v));
		return;
	default:
		break;
	}
	text = json_dumps(v, JSON_COMPACT | JSON_PRESERVE_ORDER |
			  JSON_ENCODE_ANY);
	if (text)
		fputs(text, out);
	free(text);
}

static void print_block(FILE *out, json_t *v, int indent);

/* Lead-in of one line; the first member of an array item gets "- ". */
static void print_lead(FILE *out, int indent, bool dash)
{
	if (dash)
		fprintf(out, "%*s- ", indent - 2, "");
	else
		fprintf(out, "%*s", indent, "");
}

static void print_members(FILE *out, json_t *obj, int indent, bool dash)
{
	const char *key;
	json_t *v;

	json_object_foreach(obj, key, v) {
		print_lead(out, indent, dash);
		dash = false;
		if (json_is_object(v) || json_is_array(v)) {
			if (!is_empty(v)) {
				fprintf(out, "%s:\n", key);
				print_block(out, v, indent + 2);
				continue;
			}
		}
		fprintf(out, "%s: ", key);
		print_inline(out, v);
		fputc('\n', out);
	}
}

static void print_block(FILE *out, json_t *v, int indent)
{
	size_t i;
	json_t *x;

	if (json_is_object(v)) {
		print_members(out, v, indent, false);
		return;
	}
	if (!json_is_array(v)) {
		fprintf(out, "%*s", indent, "");
		print_inline(out, v);
		fputc('\n', out);
		return;
	}
	json_array_foreach(v, i, x) {
		if (json_is_object(x) && !is_empty(x)) {
			print_members(out, x, indent + 2, true);
			continue;
		}
		fprintf(out, "%*s- ", indent, "");
		print_inline(out, x);
		fputc('\n', out);
	}
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static void print_commands(FILE *out, json_t *list)
{
	size_t n = json_array_size(list), i, k = 0;
	const char **names = calloc(n ? n : 1, sizeof(*names));
	json_t *x;

	if (!names)
		return;
	json_array_foreach(list, i, x) {
		const char *name = json_string_value(json_object_get(x, "name"));

		if (name)
			names[k++] = name;
	}
	qsort(names, k, sizeof(*names), cmp_names);
	for (i = 0; i < k; i++)
		fprintf(out, "%s\n", names[i]);
	free(names);
}

void ctl_print_return(FILE *out, const char *cmd, json_t *ret)
{
	json_t *qemu = json_object_get(ret, "qemu");

	if (is_empty(ret) && json_is_object(ret))
		return;		/* plain success: nothing to say */
	if (!strcmp(cmd, "query-status") &&
	    json_is_string(json_object_get(ret, "status"))) {
		fprintf(out, "status: %s\n",
			json_string_value(json_object_get(ret, "status")));
		return;
	}
	if (!strcmp(cmd, "query-commands") && json_is_array(ret)) {
		print_commands(out, ret);
		return;
	}
	if (!strcmp(cmd, "query-version") && json_is_object(qemu)) {
		fprintf(out, "package: %s\nqmp: QEMU %lld.%lld.%lld\n",
			json_string_value(json_object_get(ret, "package")) ?: "?",
			(long long)json_integer_value(json_object_get(qemu, "major")),
			(long long)json_integer_value(json_object_get(qemu, "minor")),
			(long long)json_integer_value(json_object_get(qemu, "micro")));
		return;
	}
	print_block(out, ret, 0);
}

void ctl_print_event(FILE *out, json_t *ev)
{
	json_t *ts = json_object_get(ev, "timestamp");
	json_t *data = json_object_get(ev, "data");
	time_t sec = json_integer_value(json_object_get(ts, "seconds"));
	long usec = json_integer_value(json_object_get(ts, "microseconds"));
	const char *name = json_string_value(json_object_get(ev, "event"));
	const char *key;
	char when[32];
	struct tm tm;
	json_t *v;

	if (!localtime_r(&sec, &tm) ||
	    !strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", &tm))
		strcpy(when, "?");
	fprintf(out, "%s.%06ld %s", when, usec, name ? name : "?");
	json_object_foreach(data, key, v) {
		fprintf(out, " %s=", key);
		print_inline(out, v);
	}
	fputc('\n', out);
}
