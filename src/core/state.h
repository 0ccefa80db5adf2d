/* SPDX-License-Identifier: MIT */
#ifndef FVMM_CORE_STATE_H
#define FVMM_CORE_STATE_H

#include <stddef.h>
#include <stdint.h>

/*
 * Declared, versioned device state.
 *
 * A device describes the fields of its state struct once, in a table; the
 * same table drives saving, loading and the round-trip unit tests, so a field
 * can never be saved and forgotten on load.  The encoding is little-endian
 * and self-delimiting:
 *
 *   u16 name_len, name bytes, u32 version, u32 payload_len, payload
 *
 * where payload is each field in table order, integers as little-endian of
 * their size, arrays element by element.  Loading checks the name, accepts
 * versions in [min_version, version], and requires the exact payload length
 * for that version, so a truncated or padded record is refused rather than
 * half-applied.  Fields added in later versions carry since_version; loading
 * an older record leaves them at the value they had (callers reset first).
 * Range checks of the loaded values are the device's job (state is
 * untrusted input from the migration stream).
 */

enum state_kind { STATE_INT, STATE_BYTES };

struct state_field {
	const char *name;
	uint32_t offset;
	uint16_t elem_size;	/* 1, 2, 4, 8 for STATE_INT; 1 for bytes */
	uint16_t kind;
	uint32_t count;		/* array length; 1 for scalars */
	uint32_t since_version;
};

struct state_desc {
	const char *name;
	uint32_t version;
	uint32_t min_version;
	const struct state_field *fields;
	unsigned nr_fields;
};

#define STATE_FIELD_SIZE(type, m)	sizeof(((type *)0)->m)
#define STATE_ELEM_SIZE(type, m)	sizeof(((type *)0)->m[0])

#define STATE_INT(type, m) {						\
	.name = #m, .offset = offsetof(type, m),			\
	.elem_size = STATE_FIELD_SIZE(type, m), .kind = STATE_INT,	\
	.count = 1 }
#define STATE_INT_ARRAY(type, m) {					\
	.name = #m, .offset = offsetof(type, m),			\
	.elem_size = STATE_ELEM_SIZE(type, m), .kind = STATE_INT,	\
	.count = STATE_FIELD_SIZE(type, m) / STATE_ELEM_SIZE(type, m) }
#define STATE_BYTES(type, m) {						\
	.name = #m, .offset = offsetof(type, m), .elem_size = 1,	\
	.kind = STATE_BYTES, .count = STATE_FIELD_SIZE(type, m) }
#define STATE_INT_V(type, m, v) {					\
	.name = #m, .offset = offsetof(type, m),			\
	.elem_size = STATE_FIELD_SIZE(type, m), .kind = STATE_INT,	\
	.count = 1, .since_version = (v) }

#define STATE_DESC(n, v, f) {						\
	.name = (n), .version = (v), .min_version = (v),		\
	.fields = (f), .nr_fields = sizeof(f) / sizeof((f)[0]) }

/* A growable output buffer; the first allocation failure sticks in err. */
struct sbuf {
	uint8_t *data;
	size_t len, cap;
	int err;
};

void sbuf_put(struct sbuf *b, const void *p, size_t len);
void sbuf_put_le(struct sbuf *b, uint64_t v, unsigned size);
void sbuf_free(struct sbuf *b);

/* A bounds-checked input cursor. */
struct sreader {
	const uint8_t *p;
	size_t len, off;
};

int sread(struct sreader *r, void *out, size_t len);		/* -EINVAL */
int sread_le(struct sreader *r, uint64_t *v, unsigned size);	/* -EINVAL */

int state_save(const struct state_desc *d, const void *obj, struct sbuf *out);
/*
 * Load one record into obj.  On error obj may be partly written, and err
 * (when not NULL) gets a one-line reason such as
 * "uart8250: record version 7 not in [1, 1]".
 */
int state_load(const struct state_desc *d, void *obj, struct sreader *in,
	       char *err, size_t errlen);

#endif
