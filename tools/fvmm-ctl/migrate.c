// SPDX-License-Identifier: MIT
/*
 * fvmm-ctl's `migrate` subcommand: start a migration and follow it for a
 * person, with a live progress line and the final figures.  Interrupting
 * it cancels the migration.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "migrate.h"
#include "print.h"

#define POLL_MS		250
/* After a cancel, how long to wait for the migration to say it ended. */
#define CANCEL_WAIT_NS	(30ULL * 1000000000)

static volatile sig_atomic_t interrupted;

static void on_interrupt(int sig)
{
	interrupted = sig;
}

static double num(json_t *o, const char *k)
{
	return json_number_value(json_object_get(o, k));
}

static void bytes(char *buf, size_t len, double b)
{
	static const char *const unit[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	int u = 0;

	while (b >= 1024 && u < 4) {
		b /= 1024;
		u++;
	}
	snprintf(buf, len, u ? "%.1f %s" : "%.0f %s", b, unit[u]);
}

void ctl_migrate_line(json_t *info, char *buf, size_t len)
{
	json_t *ram = json_object_get(info, "ram");
	const char *st = json_string_value(json_object_get(info, "status"));
	char t[32], r[32], tot[32];
	int n;

	n = snprintf(buf, len, "migrate: %s", st ? st : "?");
	if (ram && (size_t)n < len) {
		bytes(t, sizeof(t), num(ram, "transferred"));
		bytes(r, sizeof(r), num(ram, "remaining"));
		bytes(tot, sizeof(tot), num(ram, "total"));
		n += snprintf(buf + n, len - n,
			      "  pass %.0f  transferred %s  remaining %s of %s  %.0f Mbit/s",
			      num(ram, "dirty-sync-count") + 1, t, r, tot,
			      num(ram, "mbps"));
	}
	if (json_object_get(info, "expected-downtime") && (size_t)n < len)
		snprintf(buf + n, len - n, "  expected downtime %.0f ms",
			 num(info, "expected-downtime"));
}

void ctl_migrate_final(FILE *out, json_t *info)
{
	json_t *ram = json_object_get(info, "ram");
	double total = num(info, "total-time");
	char t[32];

	bytes(t, sizeof(t), num(ram, "transferred"));
	fprintf(out, "total time: %.0f ms\n", total);
	fprintf(out, "downtime: %.0f ms\n", num(info, "downtime"));
	fprintf(out, "setup time: %.0f ms\n", num(info, "setup-time"));
	fprintf(out, "transferred: %s\n", t);
	fprintf(out, "zero pages: %.0f\n", num(ram, "duplicate"));
	fprintf(out, "normal pages: %.0f\n", num(ram, "normal"));
	fprintf(out, "passes: %.0f\n", num(ram, "dirty-sync-count"));
	fprintf(out, "average rate: %.0f Mbit/s\n", total > 0 ?
		num(ram, "transferred") * 8 / 1000 / total : 0);
}

static int query(struct ctl_conn *c, json_t **info)
{
	json_t *reply = NULL;
	int rc = ctl_execute(c, "query-migrate", NULL, &reply);

	if (rc)
		return rc;
	*info = json_incref(json_object_get(reply, "return"));
	json_decref(reply);
	return *info ? 0 : -EPROTO;
}

static int start(struct ctl_conn *c, const char *uri)
{
	json_t *reply = NULL, *err;
	int rc = ctl_execute(c, "migrate", json_pack("{s:s}", "uri", uri),
			     &reply);

	if (rc) {
		fprintf(stderr, "fvmm-ctl: %s: no reply to 'migrate': %s\n",
			c->path, ctl_strerror(rc));
		return 2;
	}
	err = json_object_get(reply, "error");
	if (err)
		fprintf(stderr, "error: %s\n",
			json_string_value(json_object_get(err, "desc")) ?: "?");
	json_decref(reply);
	return err ? 1 : 0;
}

static void cancel(struct ctl_conn *c, const char *why)
{
	json_t *reply = NULL;

	fprintf(stderr, "\nfvmm-ctl: %s: cancelling the migration\n", why);
	if (!ctl_execute(c, "migrate_cancel", NULL, &reply))
		json_decref(reply);
	c->deadline = ctl_now() + CANCEL_WAIT_NS;
}

static bool finished(const char *st)
{
	return st && (!strcmp(st, "completed") || !strcmp(st, "failed") ||
		      !strcmp(st, "cancelled"));
}

static int outcome(json_t *info, bool json, bool tty)
{
	const char *st = json_string_value(json_object_get(info, "status"));

	if (tty && !json)
		fputs("\r\033[K", stdout);
	if (json)
		ctl_print_json(stdout, info);
	if (!strcmp(st, "completed")) {
		if (!json) {
			printf("migrate: completed\n");
			ctl_migrate_final(stdout, info);
		}
		return 0;
	}
	if (!strcmp(st, "failed"))
		fprintf(stderr, "fvmm-ctl: migration failed: %s\n",
			json_string_value(json_object_get(info, "error-desc")) ?:
			"(no reason given)");
	else
		fprintf(stderr, "fvmm-ctl: migration cancelled\n");
	return 1;
}

static void show(json_t *info, bool json, bool tty, time_t *last)
{
	char line[256];

	if (json) {
		ctl_print_json(stdout, info);
		return;
	}
	ctl_migrate_line(info, line, sizeof(line));
	if (tty) {
		printf("\r\033[K%s", line);
	} else if (time(NULL) != *last) {
		printf("%s\n", line);
		*last = time(NULL);
	}
	fflush(stdout);
}

int ctl_migrate(struct ctl_conn *c, const char *uri, bool json)
{
	struct sigaction sa = { .sa_handler = on_interrupt };
	bool tty = isatty(STDOUT_FILENO), cancelling = false, timed_out = false;
	time_t last = 0;
	json_t *info;
	int rc;

	rc = start(c, uri);
	if (rc)
		return rc;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	for (;;) {
		if (interrupted && !cancelling) {
			cancel(c, "interrupted");
			cancelling = true;
		}
		rc = query(c, &info);
		if (rc == -ETIMEDOUT && !cancelling) {
			cancel(c, "--timeout reached");
			cancelling = timed_out = true;
			continue;
		}
		if (rc) {
			fprintf(stderr, "\nfvmm-ctl: %s: %s\n", c->path,
				ctl_strerror(rc));
			return 2;
		}
		if (finished(json_string_value(json_object_get(info, "status")))) {
			rc = outcome(info, json, tty);
			json_decref(info);
			return timed_out ? 2 : rc;
		}
		show(info, json, tty, &last);
		json_decref(info);
		usleep(POLL_MS * 1000);
	}
}
