// SPDX-License-Identifier: MIT
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/state.h"
#include "core/util.h"

void sbuf_put(struct sbuf *b, const void *p, size_t len)
{
	if (b->err)
		return;
	if (b->len + len > b->cap) {
		size_t cap = MAX(b->cap * 2, b->len + len + 64);
		uint8_t *d = realloc(b->data, cap);

		if (!d) {
			b->err = -ENOMEM;
			return;
		}
		b->data = d;
		b->cap = cap;
	}
	memcpy(b->data + b->len, p, len);
	b->len += len;
}

void sbuf_put_le(struct sbuf *b, uint64_t v, unsigned size)
{
	uint8_t tmp[8];

	le_write(tmp, size, v);
	sbuf_put(b, tmp, size);
}

void sbuf_free(struct sbuf *b)
{
	free(b->data);
	memset(b, 0, sizeof(*b));
}

int sread(struct sreader *r, void *out, size_t len)
{
	if (len > r->len - r->off)
		return -EINVAL;
	memcpy(out, r->p + r->off, len);
	r->off += len;
	return 0;
}

int sread_le(struct sreader *r, uint64_t *v, unsigned size)
{
	uint8_t tmp[8];

	if (sread(r, tmp, size))
		return -EINVAL;
	*v = le_read(tmp, size);
	return 0;
}

static size_t payload_len(const struct state_desc *d, uint32_t version)
{
	size_t n = 0;

	for (unsigned i = 0; i < d->nr_fields; i++)
		if (d->fields[i].since_version <= version)
			n += (size_t)d->fields[i].elem_size * d->fields[i].count;
	return n;
}

/* Bytes have no byte order: one copy for them (config space is 4 KiB). */
static void save_field(struct sbuf *out, const struct state_field *f,
		       const uint8_t *p)
{
	if (f->elem_size == 1) {
		sbuf_put(out, p, f->count);
		return;
	}
	for (uint32_t k = 0; k < f->count; k++, p += f->elem_size)
		sbuf_put_le(out, le_read(p, f->elem_size), f->elem_size);
}

static int load_field(struct sreader *in, const struct state_field *f,
		      uint8_t *p)
{
	uint64_t v;

	if (f->elem_size == 1)
		return sread(in, p, f->count);
	for (uint32_t k = 0; k < f->count; k++, p += f->elem_size) {
		if (sread_le(in, &v, f->elem_size))
			return -EINVAL;
		le_write(p, f->elem_size, v);
	}
	return 0;
}

int state_save(const struct state_desc *d, const void *obj, struct sbuf *out)
{
	size_t name_len = strlen(d->name);

	sbuf_put_le(out, name_len, 2);
	sbuf_put(out, d->name, name_len);
	sbuf_put_le(out, d->version, 4);
	sbuf_put_le(out, payload_len(d, d->version), 4);
	for (unsigned i = 0; i < d->nr_fields; i++)
		save_field(out, &d->fields[i],
			   (const uint8_t *)obj + d->fields[i].offset);
	return out->err;
}

#define LOAD_FAIL(...) do {						\
	if (err)							\
		snprintf(err, errlen, __VA_ARGS__);			\
	return -EINVAL;							\
} while (0)

int state_load(const struct state_desc *d, void *obj, struct sreader *in,
	       char *err, size_t errlen)
{
	uint64_t name_len, version, len;
	char name[64];

	if (sread_le(in, &name_len, 2) || name_len >= sizeof(name) ||
	    sread(in, name, name_len))
		LOAD_FAIL("%s: truncated or bad record name", d->name);
	name[name_len] = '\0';
	if (name_len != strlen(d->name) || memcmp(name, d->name, name_len))
		LOAD_FAIL("%s: got a record for '%s'", d->name, name);
	if (sread_le(in, &version, 4) || sread_le(in, &len, 4))
		LOAD_FAIL("%s: truncated record header", d->name);
	if (version < d->min_version || version > d->version)
		LOAD_FAIL("%s: record version %llu not in [%u, %u]", d->name,
			  (unsigned long long)version, d->min_version,
			  d->version);
	if (len != payload_len(d, version) || len > in->len - in->off)
		LOAD_FAIL("%s: payload is %llu bytes, expected %zu", d->name,
			  (unsigned long long)len, payload_len(d, version));
	for (unsigned i = 0; i < d->nr_fields; i++) {
		const struct state_field *f = &d->fields[i];

		if (f->since_version > version)
			continue;
		/* Cannot fail after the payload check; kept honest should a
		 * field table and payload_len() disagree. */
		if (load_field(in, f, (uint8_t *)obj + f->offset))
			LOAD_FAIL("%s: payload ends inside field %u", d->name,
				  i);
	}
	return 0;
}
