// SPDX-License-Identifier: MIT
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "core/log.h"
#include "pci/opts.h"

int opts_parse(struct opts *o, const char *what, const char *s)
{
	char *save = NULL, *tok;

	memset(o, 0, sizeof(*o));
	o->what = what;
	if (strlen(s) >= sizeof(o->buf)) {
		pr_err("%s '%.40s...': option string too long", what, s);
		return -EINVAL;
	}
	strcpy(o->buf, s);
	for (tok = strtok_r(o->buf, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(tok, '=');

		if (!eq) {
			if (o->type || o->n) {
				pr_err("%s %s: '%s' is not key=value", what, s,
				       tok);
				return -EINVAL;
			}
			o->type = tok;
			continue;
		}
		if (o->n == OPTS_MAX) {
			pr_err("%s %s: too many properties", what, s);
			return -EINVAL;
		}
		*eq = '\0';
		for (unsigned i = 0; i < o->n; i++) {
			if (!strcmp(o->kv[i].key, tok)) {
				pr_err("%s %s: property '%s' given twice", what,
				       s, tok);
				return -EINVAL;
			}
		}
		o->kv[o->n].key = tok;
		o->kv[o->n].val = eq + 1;
		o->n++;
	}
	if (!o->type) {
		pr_err("%s %s: missing type", what, s);
		return -EINVAL;
	}
	return 0;
}

const char *opts_get(struct opts *o, const char *key)
{
	for (unsigned i = 0; i < o->n; i++) {
		if (!strcmp(o->kv[i].key, key)) {
			o->kv[i].used = true;
			return o->kv[i].val;
		}
	}
	return NULL;
}

int opts_get_bool(struct opts *o, const char *key, bool def, bool *out)
{
	const char *v = opts_get(o, key);

	*out = def;
	if (!v)
		return 0;
	if (!strcmp(v, "on") || !strcmp(v, "yes") || !strcmp(v, "true")) {
		*out = true;
		return 0;
	}
	if (!strcmp(v, "off") || !strcmp(v, "no") || !strcmp(v, "false")) {
		*out = false;
		return 0;
	}
	pr_err("%s %s: %s=%s: expected on or off", o->what, o->type, key, v);
	return -EINVAL;
}

int opts_check_unused(struct opts *o)
{
	for (unsigned i = 0; i < o->n; i++) {
		if (!o->kv[i].used) {
			pr_err("%s %s: unknown property '%s'", o->what, o->type,
			       o->kv[i].key);
			return -EINVAL;
		}
	}
	return 0;
}

const char *opts_first_unused(const struct opts *o)
{
	for (unsigned i = 0; i < o->n; i++)
		if (!o->kv[i].used)
			return o->kv[i].key;
	return NULL;
}

/* Copy s into the buffer at *off; NULL when it does not fit. */
static const char *opts_store(struct opts *o, size_t *off, const char *s)
{
	size_t len = strlen(s) + 1;
	char *p;

	if (len > sizeof(o->buf) - *off)
		return NULL;
	p = o->buf + *off;
	memcpy(p, s, len);
	*off += len;
	return p;
}

static size_t opts_used_len(const struct opts *o)
{
	const char *end = o->type ? o->type + strlen(o->type) + 1 : o->buf;

	for (unsigned i = 0; i < o->n; i++) {
		const char *v = o->kv[i].val + strlen(o->kv[i].val) + 1;

		if (v > end)
			end = v;
	}
	return end - o->buf;
}

int opts_init(struct opts *o, const char *what, const char *type)
{
	size_t off = 0;

	memset(o, 0, sizeof(*o));
	o->what = what;
	o->type = opts_store(o, &off, type);
	return o->type ? 0 : -E2BIG;
}

int opts_add(struct opts *o, const char *key, const char *val)
{
	size_t off = opts_used_len(o);
	const char *k, *v;

	for (unsigned i = 0; i < o->n; i++)
		if (!strcmp(o->kv[i].key, key))
			return -EEXIST;
	if (o->n == OPTS_MAX)
		return -E2BIG;
	k = opts_store(o, &off, key);
	v = k ? opts_store(o, &off, val) : NULL;
	if (!v)
		return -E2BIG;
	o->kv[o->n].key = k;
	o->kv[o->n].val = v;
	o->kv[o->n].used = false;
	o->n++;
	return 0;
}
