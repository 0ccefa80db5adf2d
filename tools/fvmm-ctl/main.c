// SPDX-License-Identifier: MIT
/*
 * fvmm-ctl: a QMP client for people.
 *
 *   fvmm-ctl [--json] [--timeout S] SOCKET COMMAND [key=value ...]
 *   fvmm-ctl [--json] [--timeout S] SOCKET events [--count N]
 *
 * Exit status: 0 success, 1 the server answered with an error, 2 usage,
 * connection, protocol or timeout problems (one line on stderr).
 */
#include <errno.h>
#include <stdbool.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conn.h"
#include "migrate.h"
#include "print.h"

#define DEFAULT_TIMEOUT	10.0
/* A migration of a large, busy VM takes long; still, never forever. */
#define MIGRATE_TIMEOUT	3600.0

struct ctl_opts {
	bool json;
	double timeout;
	bool timeout_set;
	long count;		/* events: -1 = unlimited */
	const char *socket;
	const char *cmd;
	const char *uri;	/* migrate */
	json_t *args;
};

static void usage(FILE *out)
{
	fputs(
"Usage: fvmm-ctl [--json] [--timeout S] SOCKET COMMAND [key=value ...]\n"
"       fvmm-ctl [--json] [--timeout S] SOCKET events [--count N]\n"
"       fvmm-ctl [--json] [--timeout S] SOCKET migrate URI\n"
"Send one QMP command to fvmm's control socket (SOCKET is PATH or unix:PATH)\n"
"and print the result, or follow the event stream.\n"
"\n"
"  COMMAND       a QMP command: query-status, stop, cont, quit, set_link, ...\n"
"                ('query-commands' lists what this fvmm offers)\n"
"  key=value     an argument: true/false are booleans, decimal integers are\n"
"                numbers, anything else is a string\n"
"  key:=JSON     an argument as raw JSON, e.g. id:='\"7\"' or list:='[1,2]'\n"
"  --json        print the raw JSON return value (events: one object a line)\n"
"  --timeout S   give up after S seconds (default 10; 0 = no limit).\n"
"                events: follow for S seconds, then exit 0\n"
"  --count N     events: exit after N events\n"
"  migrate URI   start a live migration to URI (tcp:HOST:PORT, unix:PATH)\n"
"                and follow it with a progress line, then print its figures;\n"
"                Ctrl-C or --timeout (default for migrate 3600 s) cancels it.\n"
"                Exit 0 completed, 1 failed or cancelled, 2 as below\n"
"  -h, --help    this text\n"
"\n"
"Examples:\n"
"  fvmm-ctl /tmp/qmp.sock query-status\n"
"  fvmm-ctl /tmp/qmp.sock set_link name=net0 up=false\n"
"  fvmm-ctl --json /tmp/qmp.sock events --count 1 --timeout 30\n"
"  fvmm-ctl /tmp/qmp.sock migrate tcp:10.0.0.2:4444\n"
"\n"
"Exit status: 0 success, 1 the command failed ('error: ...' on stderr),\n"
"2 usage, connection or timeout errors.\n", out);
}

static int usage_error(const char *fmt, const char *arg)
{
	fputs("fvmm-ctl: ", stderr);
	fprintf(stderr, fmt, arg);
	fputs(" (try --help)\n", stderr);
	return -EINVAL;
}

/* "true"/"false", decimal integers in range, else the string itself. */
static json_t *parse_value(const char *s)
{
	const char *digits = s + (*s == '-');
	char *end;
	long long v;

	if (!strcmp(s, "true"))
		return json_true();
	if (!strcmp(s, "false"))
		return json_false();
	if (*digits && strspn(digits, "0123456789") == strlen(digits)) {
		errno = 0;
		v = strtoll(s, &end, 10);
		if (!errno && !*end)
			return json_integer(v);
	}
	return json_string(s);
}

static int parse_arg(struct ctl_opts *o, const char *arg)
{
	const char *eq = strchr(arg, '=');
	bool raw = eq && eq > arg && eq[-1] == ':';
	size_t klen = eq ? (size_t)(eq - arg) - raw : 0;
	json_error_t err;
	char key[256];
	json_t *v;

	if (!eq || !klen || klen >= sizeof(key))
		return usage_error("expected key=value or key:=JSON, got '%s'",
				   arg);
	memcpy(key, arg, klen);
	key[klen] = '\0';
	if (json_object_get(o->args, key))
		return usage_error("argument '%s' given twice", key);
	if (raw) {
		v = json_loads(eq + 1, JSON_DECODE_ANY, &err);
		if (!v) {
			fprintf(stderr, "fvmm-ctl: bad JSON for '%s': %s (try --help)\n",
				key, err.text);
			return -EINVAL;
		}
	} else {
		v = parse_value(eq + 1);
	}
	if (!v || json_object_set_new(o->args, key, v))
		return -ENOMEM;
	return 0;
}

static int parse_number(const char *opt, const char *s, double max,
			double *out)
{
	char *end;
	double v;

	if (!s)
		return usage_error("%s needs a value", opt);
	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end || !isfinite(v) || v < 0 || v > max)
		return usage_error("bad value for %s", opt);
	*out = v;
	return 0;
}

static int parse_option(struct ctl_opts *o, char **argv, int *i)
{
	const char *a = argv[*i];
	double v;

	if (!strcmp(a, "--json")) {
		o->json = true;
		return 0;
	}
	if (!strcmp(a, "--timeout")) {
		o->timeout_set = true;
		return parse_number(a, argv[++*i], 1e6, &o->timeout);
	}
	if (!strcmp(a, "--count")) {
		if (parse_number(a, argv[++*i], 1e9, &v))
			return -EINVAL;
		if (v != floor(v) || v < 1)
			return usage_error("%s needs a whole number >= 1", a);
		o->count = (long)v;
		return 0;
	}
	return usage_error("unknown option '%s'", a);
}

/* Returns 0 to run, 1 after --help, -EINVAL after a usage message. */
static int parse_cmdline(struct ctl_opts *o, int argc, char **argv)
{
	int npos = 0;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			usage(stdout);
			return 1;
		}
		if (a[0] == '-' && a[1] == '-') {
			if (parse_option(o, argv, &i))
				return -EINVAL;
			continue;
		}
		if (npos == 0)
			o->socket = a;
		else if (npos == 1)
			o->cmd = a;
		else if (!strcmp(o->cmd, "events"))
			return usage_error("events takes no arguments, got '%s'", a);
		else if (!strcmp(o->cmd, "migrate") && !o->uri)
			o->uri = a;
		else if (!strcmp(o->cmd, "migrate"))
			return usage_error("migrate takes one URI, got '%s' too", a);
		else if (parse_arg(o, a))
			return -EINVAL;
		npos++;
	}
	if (npos < 2)
		return usage_error("%s", npos ? "missing COMMAND" :
				   "missing SOCKET and COMMAND");
	if (o->count > 0 && strcmp(o->cmd, "events"))
		return usage_error("%s is only for 'events'", "--count");
	if (!strcmp(o->cmd, "migrate") && !o->uri)
		return usage_error("%s", "migrate needs a URI: tcp:HOST:PORT or unix:PATH");
	if (!strcmp(o->cmd, "migrate") && !o->timeout_set)
		o->timeout = MIGRATE_TIMEOUT;
	return 0;
}

static int run_command(struct ctl_conn *c, const struct ctl_opts *o)
{
	json_t *reply = NULL, *err, *ret;
	int rc;

	rc = ctl_execute(c, o->cmd, json_object_size(o->args) ? o->args : NULL,
			 &reply);
	if (rc) {
		fprintf(stderr, "fvmm-ctl: %s: no reply to '%s': %s\n",
			c->path, o->cmd, ctl_strerror(rc));
		return 2;
	}
	err = json_object_get(reply, "error");
	ret = json_object_get(reply, "return");
	if (err) {
		const char *desc = json_string_value(json_object_get(err, "desc"));

		fprintf(stderr, "error: %s\n", desc ? desc : "(no description)");
		rc = 1;
	} else if (o->json) {
		ctl_print_json(stdout, ret);
	} else {
		ctl_print_return(stdout, o->cmd, ret);
	}
	json_decref(reply);
	return rc;
}

static int follow_events(struct ctl_conn *c, const struct ctl_opts *o)
{
	long seen = 0;
	json_t *msg;
	int rc;

	while (o->count < 0 || seen < o->count) {
		rc = ctl_recv(c, &msg);
		if (rc == -ETIMEDOUT || rc == -ECONNRESET) {
			if (o->count < 0)
				return 0;	/* the end of following */
			fprintf(stderr, "fvmm-ctl: %s: %s after %ld of %ld events\n",
				c->path, ctl_strerror(rc), seen, o->count);
			return 2;
		}
		if (rc) {
			fprintf(stderr, "fvmm-ctl: %s: %s\n", c->path,
				ctl_strerror(rc));
			return 2;
		}
		if (json_object_get(msg, "event")) {
			if (o->json)
				ctl_print_json(stdout, msg);
			else
				ctl_print_event(stdout, msg);
			fflush(stdout);
			seen++;
		}
		json_decref(msg);
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct ctl_opts o = { .timeout = DEFAULT_TIMEOUT, .count = -1 };
	struct ctl_conn c;
	char msg[512];
	int rc;

	o.args = json_object();
	if (!o.args)
		return 2;
	rc = parse_cmdline(&o, argc, argv);
	if (rc) {
		json_decref(o.args);
		return rc > 0 ? 0 : 2;
	}
	rc = ctl_open(&c, o.socket, o.timeout > 0 ?
		      ctl_now() + (uint64_t)(o.timeout * 1e9) : 0,
		      msg, sizeof(msg));
	if (rc) {
		fprintf(stderr, "fvmm-ctl: %s\n", msg);
		rc = 2;
	} else if (!strcmp(o.cmd, "events")) {
		rc = follow_events(&c, &o);
	} else if (!strcmp(o.cmd, "migrate")) {
		rc = ctl_migrate(&c, o.uri, o.json);
	} else {
		rc = run_command(&c, &o);
	}
	ctl_close(&c);
	json_decref(o.args);
	return rc;
}
