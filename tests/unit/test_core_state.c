// SPDX-License-Identifier: MIT
/* Versioned device state records (src/core/state.c). */
#include <stdlib.h>

#include "helpers.h"

#include "core/state.h"
#include "core/util.h"

struct sample {
	uint8_t a;
	uint16_t b;
	uint32_t c;
	uint64_t d;
	uint32_t arr[3];
	uint8_t bytes[5];
	uint16_t added_in_v2;
	uint64_t added_in_v3;
};

/*
 * STATE_INT_V() from state.h does not compile (it nests STATE_INT()'s braced
 * initializer inside another brace: "braces around scalar initializer"), so
 * the versioned fields are spelled out here.  See the report; once the
 * macro is fixed these two lines can use it.
 */
#define SAMPLE_INT_V(m, v) {						\
	.name = #m, .offset = offsetof(struct sample, m),		\
	.elem_size = STATE_FIELD_SIZE(struct sample, m),		\
	.kind = STATE_INT, .count = 1, .since_version = (v) }

static const struct state_field sample_fields[] = {
	STATE_INT(struct sample, a),
	STATE_INT(struct sample, b),
	STATE_INT(struct sample, c),
	STATE_INT(struct sample, d),
	STATE_INT_ARRAY(struct sample, arr),
	STATE_BYTES(struct sample, bytes),
	SAMPLE_INT_V(added_in_v2, 2),
	SAMPLE_INT_V(added_in_v3, 3),
};

/* Current version 3, still reading records from version 1 on. */
static const struct state_desc sample_desc = {
	.name = "sample", .version = 3, .min_version = 1,
	.fields = sample_fields, .nr_fields = ARRAY_SIZE(sample_fields),
};

/* The same device as it was at version 1 (what an old source sends). */
static const struct state_desc sample_desc_v1 = {
	.name = "sample", .version = 1, .min_version = 1,
	.fields = sample_fields, .nr_fields = 6,
};

static const struct state_desc other_desc = {
	.name = "other", .version = 3, .min_version = 1,
	.fields = sample_fields, .nr_fields = ARRAY_SIZE(sample_fields),
};

#define HDR_LEN		(2 + 6 + 4 + 4)		/* "sample" */
#define PAYLOAD_V1	(1 + 2 + 4 + 8 + 12 + 5)
#define PAYLOAD_V3	(PAYLOAD_V1 + 2 + 8)
#define OFF_VERSION	(2 + 6)
#define OFF_LEN		(OFF_VERSION + 4)

static struct sample filled(void)
{
	return (struct sample){
		.a = 0xa1, .b = 0xb2b1, .c = 0xc4c3c2c1,
		.d = 0xd8d7d6d5d4d3d2d1ULL,
		.arr = { 0x11111111, 0x22222222, 0x33333333 },
		.bytes = { 'h', 'e', 'l', 'l', 'o' },
		.added_in_v2 = 0x2222, .added_in_v3 = 0x3333333333333333ULL,
	};
}

static void assert_same(const struct sample *x, const struct sample *y)
{
	assert_int_equal(x->a, y->a);
	assert_int_equal(x->b, y->b);
	assert_int_equal(x->c, y->c);
	assert_int_equal(x->d, y->d);
	assert_memory_equal(x->arr, y->arr, sizeof(x->arr));
	assert_memory_equal(x->bytes, y->bytes, sizeof(x->bytes));
	assert_int_equal(x->added_in_v2, y->added_in_v2);
	assert_int_equal(x->added_in_v3, y->added_in_v3);
}

static int load_buf(const struct state_desc *d, void *obj, const uint8_t *p,
		    size_t len, char *err, size_t errlen)
{
	struct sreader r = { .p = p, .len = len };

	return state_load(d, obj, &r, err, errlen);
}

static void save(const struct state_desc *d, const struct sample *s,
		 struct sbuf *out)
{
	memset(out, 0, sizeof(*out));
	assert_int_equal(state_save(d, s, out), 0);
}

static void test_round_trip(void **state)
{
	struct sample in = filled(), out;
	struct sbuf b;
	struct sreader r;
	char err[128] = "";

	save(&sample_desc, &in, &b);
	assert_int_equal(b.len, HDR_LEN + PAYLOAD_V3);
	memset(&out, 0, sizeof(out));
	r = (struct sreader){ .p = b.data, .len = b.len };
	assert_int_equal(state_load(&sample_desc, &out, &r, err, sizeof(err)), 0);
	assert_int_equal(r.off, b.len);		/* consumed exactly the record */
	assert_same(&in, &out);
	sbuf_free(&b);
}

static void test_encoding_is_stable(void **state)
{
	/* The wire format is a contract between fvmm versions: pin it. */
	static const uint8_t want[] = {
		6, 0, 's', 'a', 'm', 'p', 'l', 'e',
		3, 0, 0, 0,				/* version */
		PAYLOAD_V3, 0, 0, 0,			/* payload length */
		0xa1,					/* a */
		0xb1, 0xb2,				/* b */
		0xc1, 0xc2, 0xc3, 0xc4,			/* c */
		0xd1, 0xd2, 0xd3, 0xd4, 0xd5, 0xd6, 0xd7, 0xd8,	/* d */
		0x11, 0x11, 0x11, 0x11, 0x22, 0x22, 0x22, 0x22,
		0x33, 0x33, 0x33, 0x33,			/* arr */
		'h', 'e', 'l', 'l', 'o',		/* bytes */
		0x22, 0x22,				/* added_in_v2 */
		0x33, 0x33, 0x33, 0x33, 0x33, 0x33, 0x33, 0x33,
	};
	struct sample in = filled();
	struct sbuf b;

	save(&sample_desc, &in, &b);
	assert_int_equal(b.len, sizeof(want));
	assert_memory_equal(b.data, want, sizeof(want));
	sbuf_free(&b);
}

static void test_back_to_back_records(void **state)
{
	struct sample in1 = filled(), in2 = filled(), out1 = { 0 }, out2 = { 0 };
	struct sbuf b;
	struct sreader r;

	in2.a = 7;
	in2.arr[2] = 9;
	save(&sample_desc, &in1, &b);
	assert_int_equal(state_save(&sample_desc, &in2, &b), 0);
	r = (struct sreader){ .p = b.data, .len = b.len };
	assert_int_equal(state_load(&sample_desc, &out1, &r, NULL, 0), 0);
	assert_int_equal(state_load(&sample_desc, &out2, &r, NULL, 0), 0);
	assert_int_equal(r.off, r.len);
	assert_same(&in1, &out1);
	assert_same(&in2, &out2);
	/* Nothing left: a third load fails cleanly. */
	assert_int_equal(state_load(&sample_desc, &out2, &r, NULL, 0), -EINVAL);
	sbuf_free(&b);
}

static void test_wrong_name(void **state)
{
	struct sample in = filled(), out;
	struct sbuf b;
	char err[128] = "";

	save(&sample_desc, &in, &b);
	assert_int_equal(load_buf(&other_desc, &out, b.data, b.len, err,
				  sizeof(err)), -EINVAL);
	assert_true(strlen(err) > 0);
	assert_non_null(strstr(err, "sample"));	/* names what it got */

	/* Same length, one letter off. */
	b.data[2] = 'S';
	err[0] = '\0';
	assert_int_equal(load_buf(&sample_desc, &out, b.data, b.len, err,
				  sizeof(err)), -EINVAL);
	assert_true(strlen(err) > 0);

	/* A name of 64+ bytes is refused without overrunning anything. */
	b.data[0] = 200;
	assert_int_equal(load_buf(&sample_desc, &out, b.data, b.len, err,
				  sizeof(err)), -EINVAL);
	b.data[0] = 0;
	b.data[1] = 0xff;
	assert_int_equal(load_buf(&sample_desc, &out, b.data, b.len, err,
				  sizeof(err)), -EINVAL);
	sbuf_free(&b);
}

static void test_name_must_match_exactly(void **state)
{
	/*
	 * A record named "sample\0xyz" (name_len 10) is not a "sample"
	 * record: the name comparison must include the length.
	 */
	uint8_t rec[2 + 10 + 4 + 4 + PAYLOAD_V3];
	struct sample in = filled(), out;
	struct sbuf b;
	char err[128] = "";

	save(&sample_desc, &in, &b);
	rec[0] = 10;
	rec[1] = 0;
	memcpy(rec + 2, "sample\0xyz", 10);
	memcpy(rec + 12, b.data + OFF_VERSION, b.len - OFF_VERSION);
	sbuf_free(&b);
	REGRESSION("state_load compares record names with strcmp, so a name with "
		  "trailing NUL-separated bytes is accepted (src/core/state.c)");
	assert_int_equal(load_buf(&sample_desc, &out, rec, sizeof(rec), err,
				  sizeof(err)), -EINVAL);
}

static void put_le32(uint8_t *p, uint32_t v)
{
	le_write(p, 4, v);
}

static void test_version_range(void **state)
{
	struct sample in = filled(), out;
	struct sbuf b;
	char err[128];

	save(&sample_desc, &in, &b);
	for (uint32_t v = 0; v < 6; v++) {
		if (v >= 1 && v <= 3)
			continue;	/* valid versions need their own length */
		put_le32(b.data + OFF_VERSION, v);
		err[0] = '\0';
		assert_int_equal(load_buf(&sample_desc, &out, b.data, b.len, err,
					  sizeof(err)), -EINVAL);
		assert_non_null(strstr(err, "version"));
	}
	put_le32(b.data + OFF_VERSION, 0xffffffff);
	assert_int_equal(load_buf(&sample_desc, &out, b.data, b.len, err,
				  sizeof(err)), -EINVAL);
	sbuf_free(&b);
}

static void test_payload_length_mismatch(void **state)
{
	struct sample in = filled(), out;
	struct sbuf b;
	uint8_t *padded;
	char err[128];

	save(&sample_desc, &in, &b);
	/* Declared shorter or longer than version 3 requires. */
	put_le32(b.data + OFF_LEN, PAYLOAD_V3 - 1);
	err[0] = '\0';
	assert_int_equal(load_buf(&sample_desc, &out, b.data, b.len, err,
				  sizeof(err)), -EINVAL);
	assert_true(strlen(err) > 0);
	put_le32(b.data + OFF_LEN, PAYLOAD_V3 + 1);
	assert_int_equal(load_buf(&sample_desc, &out, b.data, b.len, err,
				  sizeof(err)), -EINVAL);
	/* Longer, and the bytes are even there: still refused. */
	padded = calloc(1, b.len + 1);
	memcpy(padded, b.data, b.len);
	assert_int_equal(load_buf(&sample_desc, &out, padded, b.len + 1, err,
				  sizeof(err)), -EINVAL);
	put_le32(b.data + OFF_LEN, 0xffffffff);
	assert_int_equal(load_buf(&sample_desc, &out, b.data, b.len, err,
				  sizeof(err)), -EINVAL);
	/* A v1 length under a v3 header. */
	put_le32(b.data + OFF_LEN, PAYLOAD_V1);
	assert_int_equal(load_buf(&sample_desc, &out, b.data, b.len, err,
				  sizeof(err)), -EINVAL);
	free(padded);
	sbuf_free(&b);
}

static void test_truncation_every_prefix(void **state)
{
	struct sample in = filled(), out;
	struct sbuf b;
	char err[128];

	save(&sample_desc, &in, &b);
	for (size_t len = 0; len < b.len; len++) {
		/* Exact-size heap copy: ASan reports any read past len. */
		uint8_t *p = malloc(len ? len : 1);
		struct sreader r = { .p = p, .len = len };

		memcpy(p, b.data, len);
		err[0] = '\0';
		if (state_load(&sample_desc, &out, &r, err, sizeof(err)) != -EINVAL)
			fail_msg("prefix of %zu/%zu bytes accepted", len, b.len);
		assert_true(strlen(err) > 0);
		assert_true(r.off <= len);
		/* NULL err is allowed too. */
		r.off = 0;
		assert_int_equal(state_load(&sample_desc, &out, &r, NULL, 0), -EINVAL);
		free(p);
	}
	sbuf_free(&b);
}

static void test_since_version(void **state)
{
	struct sample in = filled(), out;
	struct sbuf b;
	char err[128] = "";

	/* A version-1 record has only the first six fields. */
	save(&sample_desc_v1, &in, &b);
	assert_int_equal(b.len, HDR_LEN + PAYLOAD_V1);
	assert_int_equal(le_read(b.data + OFF_VERSION, 4), 1);
	assert_int_equal(le_read(b.data + OFF_LEN, 4), PAYLOAD_V1);

	/* Loading it keeps the newer fields at what the caller reset them to. */
	memset(&out, 0, sizeof(out));
	out.added_in_v2 = 0x5151;
	out.added_in_v3 = 0x6161;
	assert_int_equal(load_buf(&sample_desc, &out, b.data, b.len, err,
				  sizeof(err)), 0);
	assert_int_equal(out.a, in.a);
	assert_int_equal(out.d, in.d);
	assert_memory_equal(out.arr, in.arr, sizeof(in.arr));
	assert_memory_equal(out.bytes, in.bytes, sizeof(in.bytes));
	assert_int_equal(out.added_in_v2, 0x5151);
	assert_int_equal(out.added_in_v3, 0x6161);
	sbuf_free(&b);

	/* A hand-made version-2 record: v2 field loaded, v3 field kept. */
	save(&sample_desc, &in, &b);
	put_le32(b.data + OFF_VERSION, 2);
	put_le32(b.data + OFF_LEN, PAYLOAD_V1 + 2);
	memset(&out, 0, sizeof(out));
	out.added_in_v3 = 0x6161;
	assert_int_equal(load_buf(&sample_desc, &out, b.data,
				  HDR_LEN + PAYLOAD_V1 + 2, err, sizeof(err)), 0);
	assert_int_equal(out.added_in_v2, in.added_in_v2);
	assert_int_equal(out.added_in_v3, 0x6161);
	sbuf_free(&b);

	/* A v3 record is refused by a reader that only knows v1. */
	save(&sample_desc, &in, &b);
	assert_int_equal(load_buf(&sample_desc_v1, &out, b.data, b.len, err,
				  sizeof(err)), -EINVAL);
	sbuf_free(&b);
}

static void test_sreader(void **state)
{
	static const uint8_t data[] = { 1, 2, 3, 4, 5 };
	struct sreader r = { .p = data, .len = sizeof(data) };
	uint8_t out[8];
	uint64_t v;

	assert_int_equal(sread_le(&r, &v, 2), 0);
	assert_int_equal(v, 0x0201);
	assert_int_equal(sread(&r, out, 4), -EINVAL);	/* only 3 left */
	assert_int_equal(r.off, 2);			/* nothing consumed */
	assert_int_equal(sread(&r, out, 3), 0);
	assert_memory_equal(out, "\x03\x04\x05", 3);
	assert_int_equal(sread_le(&r, &v, 1), -EINVAL);
	assert_int_equal(sread(&r, out, 0), 0);
	r.off = 1;
	assert_int_equal(sread(&r, out, ~(size_t)0), -EINVAL);
}

static void test_sbuf_grows(void **state)
{
	struct sbuf b = { 0 };

	for (unsigned i = 0; i < 1000; i++)
		sbuf_put_le(&b, i, 4);
	assert_int_equal(b.err, 0);
	assert_int_equal(b.len, 4000);
	for (unsigned i = 0; i < 1000; i++)
		assert_int_equal(le_read(b.data + 4 * i, 4), i);
	sbuf_free(&b);
	assert_null(b.data);
	assert_int_equal(b.len, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_encoding_is_stable),
		cmocka_unit_test(test_back_to_back_records),
		cmocka_unit_test(test_wrong_name),
		cmocka_unit_test(test_name_must_match_exactly),
		cmocka_unit_test(test_version_range),
		cmocka_unit_test(test_payload_length_mismatch),
		cmocka_unit_test(test_truncation_every_prefix),
		cmocka_unit_test(test_since_version),
		cmocka_unit_test(test_sreader),
		cmocka_unit_test(test_sbuf_grows),
	};

	return cmocka_run_group_tests_name("core_state", tests, NULL, NULL);
}
