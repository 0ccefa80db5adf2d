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
