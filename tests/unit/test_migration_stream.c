// SPDX-License-Identifier: MIT
/* The migration stream's framing (src/migration/stream.c). */
#include <pthread.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "helpers.h"

#include "core/util.h"
#include "migration/stream.h"

#define RAM_CAP		(16 + 256 * (8 + 4096))
#define HDR		MIG_HEADER_SIZE
#define RHDR		MIG_RECORD_HDR_SIZE

/*
 * An in-memory stream with read_fn's contract; asked counts the bytes
 * requested, so a test can tell a payload was never asked for.
 */
struct mem_src {
	const uint8_t *p;
	size_t len, off, asked;
};

static int mem_read(void *opaque, void *buf, size_t len)
{
	struct mem_src *m = opaque;

	m->asked += len;
	if (len > m->len - m->off)
		return -EPIPE;
	memcpy(buf, m->p + m->off, len);
	m->off += len;
	return 0;
}

static void mem_reader(struct mig_reader *r, struct mem_src *m,
		       const uint8_t *p, size_t len)
{
	*m = (struct mem_src){ .p = p, .len = len };
	*r = (struct mig_reader){ .read_fn = mem_read, .opaque = m };
}

/* The bytes written to a memfd so far, in a buffer the caller frees. */
static uint8_t *memfd_contents(int fd, size_t *len)
{
	struct stat st;
	uint8_t *b;

	assert_int_equal(fstat(fd, &st), 0);
	*len = st.st_size;
	b = malloc(*len ? *len : 1);
	assert_non_null(b);
	assert_int_equal(pread(fd, b, *len, 0), (ssize_t)*len);
	return b;
}

static int new_memfd(void)
{
	int fd = memfd_create("mig-stream-test", MFD_CLOEXEC);

	assert_true(fd >= 0);
	return fd;
}

static void fill(uint8_t *p, size_t len, unsigned seed)
{
	for (size_t i = 0; i < len; i++)
		p[i] = (uint8_t)(i * 31 + seed + (i >> 8));
}

/* A sample stream: header, config, a full RAM batch, ram-sync, cpu, end. */
struct sample {
	uint8_t config[100];
	uint8_t *ram;
	uint8_t sync[8];
	uint8_t cpu[3000];
};

static const struct {
	uint16_t type;
	size_t off, len;	/* within struct sample, or ram */
} sample_recs[] = {
	{ MIG_REC_CONFIG, offsetof(struct sample, config), 100 },
	{ MIG_REC_RAM, 0, RAM_CAP },
	{ MIG_REC_RAM_SYNC, offsetof(struct sample, sync), 8 },
	{ MIG_REC_CPU, offsetof(struct sample, cpu), 3000 },
	{ MIG_REC_END, 0, 0 },
};

static const uint8_t *sample_payload(const struct sample *s, unsigned i)
{
	if (sample_recs[i].type == MIG_REC_RAM)
		return s->ram;
	if (!sample_recs[i].len)
		return NULL;
	return (const uint8_t *)s + sample_recs[i].off;
}

static void sample_init(struct sample *s)
{
	fill(s->config, sizeof(s->config), 1);
	s->ram = malloc(RAM_CAP);
	assert_non_null(s->ram);
	fill(s->ram, RAM_CAP, 2);
	fill(s->sync, sizeof(s->sync), 3);
	fill(s->cpu, sizeof(s->cpu), 4);
}

static uint64_t sample_size(void)
{
	uint64_t n = HDR;

	for (unsigned i = 0; i < ARRAY_SIZE(sample_recs); i++)
		n += RHDR + sample_recs[i].len;
	return n;
}

static void sample_write(const struct sample *s, struct mig_writer *w)
{
	assert_int_equal(mig_write_header(w), 0);
	for (unsigned i = 0; i < ARRAY_SIZE(sample_recs); i++)
		assert_int_equal(mig_write_record(w, sample_recs[i].type,
						  sample_payload(s, i),
						  sample_recs[i].len), 0);
}

static void sample_check(const struct sample *s, struct mig_reader *r)
{
	struct mig_record rec;
	char err[128] = "";

	assert_int_equal(mig_read_header(r, err, sizeof(err)), 0);
	for (unsigned i = 0; i < ARRAY_SIZE(sample_recs); i++) {
		assert_int_equal(mig_read_record(r, &rec, err, sizeof(err)), 0);
		assert_int_equal(rec.type, sample_recs[i].type);
		assert_int_equal(rec.len, sample_recs[i].len);
		assert_non_null(rec.payload);
		if (rec.len)
			assert_memory_equal(rec.payload, sample_payload(s, i),
					    rec.len);
	}
	assert_int_equal(mig_read_record(r, &rec, err, sizeof(err)), -EPIPE);
	assert_int_equal(r->bytes, sample_size());
}

/* The sample stream's bytes, in a buffer the caller frees. */
static uint8_t *sample_bytes(struct sample *s, size_t *len)
{
	struct mig_writer w = { .fd = new_memfd() };
	uint8_t *b;

	sample_init(s);
	sample_write(s, &w);
	b = memfd_contents(w.fd, len);
	assert_int_equal(*len, w.bytes);
	close(w.fd);
	return b;
}

static void test_crc32c_vectors(void **state)
{
	uint8_t b[32];

	assert_int_equal(crc32c(0, "123456789", 9), 0xE3069283);
	assert_int_equal(crc32c(0, "", 0), 0);
	/* RFC 3720 (iSCSI), B.4. */
	memset(b, 0, sizeof(b));
	assert_int_equal(crc32c(0, b, sizeof(b)), 0x8A9136AA);
	memset(b, 0xff, sizeof(b));
	assert_int_equal(crc32c(0, b, sizeof(b)), 0x62A8AB43);
	for (unsigned i = 0; i < sizeof(b); i++)
		b[i] = i;
	assert_int_equal(crc32c(0, b, sizeof(b)), 0x46DD794E);
	for (unsigned i = 0; i < sizeof(b); i++)
		b[i] = 31 - i;
	assert_int_equal(crc32c(0, b, sizeof(b)), 0x113FDB5C);
	/* Chained calls are one CRC over the concatenation. */
	assert_int_equal(crc32c(crc32c(0, "1234", 4), "56789", 5), 0xE3069283);
}

static void test_caps_and_names(void **state)
{
	static const struct {
		uint16_t type;
		const char *name;
		uint32_t cap;
	} t[] = {
		{ MIG_REC_CONFIG, "config", 65536 },
		{ MIG_REC_RAM, "ram", RAM_CAP },
		{ MIG_REC_RAM_SYNC, "ram-sync", 64 },
		{ MIG_REC_DEVICE, "device", 1 << 20 },
		{ MIG_REC_CPU, "cpu", 65536 },
		{ MIG_REC_VM_KSTATE, "vm-kstate", 16384 },
		{ MIG_REC_END, "end", 0 },
	};

	for (unsigned i = 0; i < ARRAY_SIZE(t); i++) {
		assert_string_equal(mig_record_name(t[i].type), t[i].name);
		assert_int_equal(mig_record_cap(t[i].type), t[i].cap);
	}
	assert_int_equal(mig_record_cap(0), 0);
	assert_int_equal(mig_record_cap(MIG_REC_MAX), 0);
	assert_int_equal(mig_record_cap(0xffff), 0);
	assert_string_equal(mig_record_name(77), "unknown");
}

static void test_layout(void **state)
{
	struct mig_writer w = { .fd = new_memfd() };
	uint8_t *b, want[RHDR + 3] = { 0 };
	size_t len;

	assert_int_equal(mig_write_header(&w), 0);
	assert_int_equal(mig_write_record(&w, MIG_REC_CPU, "abc", 3), 0);
	b = memfd_contents(w.fd, &len);
	assert_int_equal(len, HDR + RHDR + 3);
	assert_memory_equal(b, "FVMMIGR\0\1\0\0\0\0\0\0\0", HDR);
	le_write(want, 2, MIG_REC_CPU);
	le_write(want + 4, 4, 3);
	le_write(want + 8, 4, crc32c(crc32c(0, want, 8), "abc", 3));
	memcpy(want + RHDR, "abc", 3);
	assert_memory_equal(b + HDR, want, sizeof(want));
	free(b);
	close(w.fd);
}

static void test_round_trip_memfd(void **state)
{
	struct sample s;
	struct mig_writer w = { .fd = new_memfd() };
	struct mig_reader r;
	struct stat st;
	int fd;

	sample_init(&s);
	sample_write(&s, &w);
	assert_int_equal(w.bytes, sample_size());
	assert_int_equal(fstat(w.fd, &st), 0);
	assert_int_equal(st.st_size, w.bytes);

	fd = w.fd;
	assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
	mig_reader_init_fd(&r, &fd);
	sample_check(&s, &r);
	assert_true(r.buf_cap >= RAM_CAP);
	mig_reader_destroy(&r);
	assert_null(r.buf);
	close(w.fd);
	free(s.ram);
}

struct pipe_writer {
	const struct sample *s;
	int fd;
	uint64_t bytes;
};

static void *pipe_writer_thread(void *opaque)
{
	struct pipe_writer *p = opaque;
	struct mig_writer w = { .fd = p->fd };

	sample_write(p->s, &w);
	p->bytes = w.bytes;
	close(p->fd);
	return NULL;
}

/*
 * Through a pipe, records far larger than its buffer: the reader sees
 * short reads, the writer blocks part-way, and both must carry on.
 */
static void test_round_trip_pipe(void **state)
{
	struct sample s;
	struct pipe_writer p = { .s = &s };
	struct mig_reader r;
	pthread_t t;
	int fds[2];

	sample_init(&s);
	assert_int_equal(pipe2(fds, O_CLOEXEC), 0);
	p.fd = fds[1];
	assert_int_equal(pthread_create(&t, NULL, pipe_writer_thread, &p), 0);
	mig_reader_init_fd(&r, &fds[0]);
	sample_check(&s, &r);
	assert_int_equal(pthread_join(t, NULL), 0);
	assert_int_equal(p.bytes, sample_size());
	mig_reader_destroy(&r);
	close(fds[0]);
	free(s.ram);
}

static void test_writer_refuses(void **state)
{
	struct mig_writer w = { .fd = new_memfd() };
	uint8_t *big = calloc(1, RAM_CAP + 1);
	struct stat st;

	assert_non_null(big);
	assert_int_equal(mig_write_record(&w, MIG_REC_RAM, big, RAM_CAP + 1),
			 -EINVAL);
	assert_int_equal(mig_write_record(&w, MIG_REC_CONFIG, big, 65537),
			 -EINVAL);
	assert_int_equal(mig_write_record(&w, MIG_REC_RAM_SYNC, big, 65), -EINVAL);
	assert_int_equal(mig_write_record(&w, MIG_REC_END, big, 1), -EINVAL);
	assert_int_equal(mig_write_record(&w, 0, NULL, 0), -EINVAL);
	assert_int_equal(mig_write_record(&w, MIG_REC_MAX, NULL, 0), -EINVAL);
	assert_int_equal(mig_write_record(&w, 77, big, 1), -EINVAL);
	/* Refused before anything went out. */
	assert_int_equal(w.bytes, 0);
	assert_int_equal(fstat(w.fd, &st), 0);
	assert_int_equal(st.st_size, 0);
	/* Exactly at the cap is fine. */
	assert_int_equal(mig_write_record(&w, MIG_REC_RAM, big, RAM_CAP), 0);
	assert_int_equal(w.bytes, RHDR + RAM_CAP);
	free(big);
	close(w.fd);
}

static void test_writer_error(void **state)
{
	struct mig_writer w = { .fd = -1 };

	assert_int_equal(mig_write_header(&w), -EBADF);
	assert_int_equal(mig_write_record(&w, MIG_REC_END, NULL, 0), -EBADF);
	assert_int_equal(w.bytes, 0);
}

/* Read b's header, then records up to the first error; returns it. */
static int read_all(const uint8_t *b, size_t len, struct mem_src *m,
		    unsigned *nrec, char *err, size_t errlen)
{
	struct mig_reader r;
	struct mig_record rec;
	int ret;

	mem_reader(&r, m, b, len);
	err[0] = '\0';
	*nrec = 0;
	ret = mig_read_header(&r, err, errlen);
	while (!ret) {
		ret = mig_read_record(&r, &rec, err, errlen);
		if (!ret)
			(*nrec)++;
	}
	assert_int_equal(r.bytes, m->off);
	mig_reader_destroy(&r);
	return ret;
}

static void test_header_refused(void **state)
{
	struct sample s;
	struct mem_src m;
	size_t len;
	uint8_t *b = sample_bytes(&s, &len);
	unsigned n;
	char err[128];

	assert_int_equal(read_all(b, len, &m, &n, err, sizeof(err)), -EPIPE);
	assert_int_equal(n, ARRAY_SIZE(sample_recs));

	b[0] ^= 0x20;
	assert_int_equal(read_all(b, len, &m, &n, err, sizeof(err)), -EBADMSG);
	assert_string_equal(err, "not an fvmm migration stream (bad magic)");
	b[0] ^= 0x20;

	b[7] = '!';	/* the magic's NUL is part of it */
	assert_int_equal(read_all(b, len, &m, &n, err, sizeof(err)), -EBADMSG);
	assert_string_equal(err, "not an fvmm migration stream (bad magic)");
	b[7] = 0;

	le_write(b + 8, 4, 9);
	assert_int_equal(read_all(b, len, &m, &n, err, sizeof(err)), -EBADMSG);
	assert_string_equal(err, "stream format version 9 not supported (this fvmm: 1)");
	le_write(b + 8, 4, 0);
	assert_int_equal(read_all(b, len, &m, &n, err, sizeof(err)), -EBADMSG);
	le_write(b + 8, 4, MIG_FORMAT_VERSION);

	le_write(b + 12, 4, 1);
	assert_int_equal(read_all(b, len, &m, &n, err, sizeof(err)), -EBADMSG);
	assert_string_equal(err, "stream header flags 0x1 not supported");
	le_write(b + 12, 4, 0);

	for (size_t cut = 0; cut < HDR; cut++) {
		assert_int_equal(read_all(b, cut, &m, &n, err, sizeof(err)),
				 -EBADMSG);
		assert_string_equal(err, "stream ended inside its header");
	}
	free(b);
	free(s.ram);
}

/* Where sample record i's header starts in the sample stream. */
static size_t rec_off(unsigned i)
{
	size_t off = HDR;

	for (unsigned k = 0; k < i; k++)
		off += RHDR + sample_recs[k].len;
	return off;
}

#define CPU_REC	3	/* index of the cpu record in sample_recs */

static void test_crc_mismatch(void **state)
{
	struct sample s;
	struct mem_src m;
	size_t len, off = rec_off(CPU_REC);
	uint8_t *b = sample_bytes(&s, &len);
	unsigned n;
	char err[128];

	/* Every bit of the header's CRC input and of the payload's start. */
	for (size_t bit = 0; bit < 8 * (RHDR + 8); bit++) {
		size_t at = off + bit / 8;

		if (at >= off + 8 && at < off + RHDR)
			continue;	/* the CRC field, below */
		b[at] ^= 1u << (bit % 8);
		assert_int_equal(read_all(b, len, &m, &n, err, sizeof(err)),
				 -EBADMSG);
		assert_int_equal(n, CPU_REC);
		b[at] ^= 1u << (bit % 8);
	}

	b[off + RHDR + 2999] ^= 0x80;	/* the payload's last bit */
	assert_int_equal(read_all(b, len, &m, &n, err, sizeof(err)), -EBADMSG);
	assert_string_equal(err, "record 'cpu': CRC mismatch");
	b[off + RHDR + 2999] ^= 0x80;

	b[off + 8] ^= 1;		/* the CRC field itself */
	assert_int_equal(read_all(b, len, &m, &n, err, sizeof(err)), -EBADMSG);
	assert_string_equal(err, "record 'cpu': CRC mismatch");
	b[off + 8] ^= 1;

	/* A known type swapped for another is caught by the CRC too. */
	le_write(b + off, 2, MIG_REC_CONFIG);
	assert_int_equal(read_all(b, len, &m, &n, err, sizeof(err)), -EBADMSG);
	assert_string_equal(err, "record 'config': CRC mismatch");
	le_write(b + off, 2, MIG_REC_CPU);

	assert_int_equal(read_all(b, len, &m, &n, err, sizeof(err)), -EPIPE);
	free(b);
	free(s.ram);
}

static void test_bad_type_and_flags(void **state)
{
	struct sample s;
	struct mem_src m;
	size_t len, off = rec_off(CPU_REC);
	uint8_t *b = sample_bytes(&s, &len);
	unsigned n;
	char err[128];

	le_write(b + off, 2, 77);
	assert_int_equal(read_all(b, len, &m, &n, err, sizeof(err)), -EBADMSG);
	assert_string_equal(err, "unknown record type 77");
	assert_int_equal(m.off, off + RHDR);	/* no payload read */
	le_write(b + off, 2, 0);
	assert_int_equal(read_all(b, len, &m, &n, err, sizeof(err)), -EBADMSG);
	assert_string_equal(err, "unknown record type 0");
	le_write(b + off, 2, MIG_REC_MAX);
	assert_int_equal(read_all(b, len, &m, &n, err, sizeof(err)), -EBADMSG);
	le_write(b + off, 2, MIG_REC_CPU);

	le_write(b + off + 2, 2, 0x8000);
	assert_int_equal(read_all(b, len, &m, &n, err, sizeof(err)), -EBADMSG);
	assert_string_equal(err, "record 'cpu': unknown flags 0x8000");
	assert_int_equal(m.off, off + RHDR);
	free(b);
	free(s.ram);
}

/*
 * A length over the cap is refused from the header alone: nothing is
 * allocated and no payload byte is asked for, so a hostile length neither
 * costs memory nor waits for bytes that will not come.
 */
static void test_length_over_cap(void **state)
{
	static const struct {
		uint16_t type;
		uint32_t len;
		const char *err;
	} t[] = {
		{ MIG_REC_RAM, 5000000, "record 'ram': length 5000000 over its cap 1050640" },
		{ MIG_REC_RAM, RAM_CAP + 1, "record 'ram': length 1050641 over its cap 1050640" },
		{ MIG_REC_CPU, 0xffffffff, "record 'cpu': length 4294967295 over its cap 65536" },
		{ MIG_REC_END, 1, "record 'end': length 1 over its cap 0" },
		{ MIG_REC_DEVICE, (1 << 20) + 1, "record 'device': length 1048577 over its cap 1048576" },
	};
	uint8_t b[HDR + RHDR] = "FVMMIGR";
	struct mig_reader r;
	struct mig_record rec;
	struct mem_src m;
	char err[128];

	le_write(b + 8, 4, MIG_FORMAT_VERSION);
	for (unsigned i = 0; i < ARRAY_SIZE(t); i++) {
		le_write(b + HDR, 2, t[i].type);
		le_write(b + HDR + 4, 4, t[i].len);
		le_write(b + HDR + 8, 4, 0);
		mem_reader(&r, &m, b, sizeof(b));
		assert_int_equal(mig_read_header(&r, err, sizeof(err)), 0);
		assert_int_equal(mig_read_record(&r, &rec, err, sizeof(err)),
				 -EBADMSG);
		assert_string_equal(err, t[i].err);
		assert_int_equal(m.asked, sizeof(b));
		assert_null(r.buf);
		assert_int_equal(r.buf_cap, 0);
		mig_reader_destroy(&r);
	}
}

static void test_truncated(void **state)
{
	struct sample s;
	struct mem_src m;
	size_t len;
	uint8_t *b = sample_bytes(&s, &len);
	unsigned n;
	char err[128];

	/* Cut at every record boundary: a clean end, after i records. */
	for (unsigned i = 0; i <= ARRAY_SIZE(sample_recs); i++) {
		assert_int_equal(read_all(b, rec_off(i), &m, &n, err, sizeof(err)),
				 -EPIPE);
		assert_int_equal(n, i);
		assert_string_equal(err, "stream ended");
	}
	/* Cut anywhere inside the cpu record's header or payload. */
	for (size_t cut = rec_off(CPU_REC) + 1; cut < rec_off(CPU_REC + 1);
	     cut += cut < rec_off(CPU_REC) + 2 * RHDR ? 1 : 97) {
		assert_int_equal(read_all(b, cut, &m, &n, err, sizeof(err)),
				 -EBADMSG);
		assert_int_equal(n, CPU_REC);
		assert_string_equal(err, "stream ended inside a record");
	}
	/* And one byte short of the end of the RAM batch. */
	assert_int_equal(read_all(b, rec_off(2) - 1, &m, &n, err, sizeof(err)),
			 -EBADMSG);
	assert_string_equal(err, "stream ended inside a record");
	free(b);
	free(s.ram);
}

/* A read error other than the end of the stream comes back as itself. */
static int failing_read(void *opaque, void *buf, size_t len)
{
	return -ETIMEDOUT;
}

static void test_read_error(void **state)
{
	struct mig_reader r = { .read_fn = failing_read };
	struct mig_record rec;
	char err[128] = "";

	assert_int_equal(mig_read_header(&r, err, sizeof(err)), -ETIMEDOUT);
	assert_true(err[0]);
	err[0] = '\0';
	assert_int_equal(mig_read_record(&r, &rec, err, sizeof(err)), -ETIMEDOUT);
	assert_true(err[0]);
	/* err is optional. */
	assert_int_equal(mig_read_record(&r, &rec, NULL, 0), -ETIMEDOUT);
	assert_int_equal(r.bytes, 0);
}

/* The reader's buffer is reused: a smaller record after a larger one. */
static void test_buffer_reuse(void **state)
{
	struct mig_writer w = { .fd = new_memfd() };
	struct mig_reader r;
	struct mig_record rec;
	uint8_t big[60000], small[10];
	size_t cap;
	char err[128];
	int fd = w.fd;

	fill(big, sizeof(big), 5);
	fill(small, sizeof(small), 6);
	assert_int_equal(mig_write_header(&w), 0);
	assert_int_equal(mig_write_record(&w, MIG_REC_CONFIG, big, sizeof(big)), 0);
	assert_int_equal(mig_write_record(&w, MIG_REC_CPU, small, sizeof(small)), 0);
	assert_int_equal(mig_write_record(&w, MIG_REC_END, NULL, 0), 0);
	assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
	mig_reader_init_fd(&r, &fd);
	assert_int_equal(mig_read_header(&r, err, sizeof(err)), 0);
	assert_int_equal(mig_read_record(&r, &rec, err, sizeof(err)), 0);
	assert_memory_equal(rec.payload, big, sizeof(big));
	cap = r.buf_cap;
	assert_true(cap >= sizeof(big));
	assert_int_equal(mig_read_record(&r, &rec, err, sizeof(err)), 0);
	assert_int_equal(rec.len, sizeof(small));
	assert_memory_equal(rec.payload, small, sizeof(small));
	assert_int_equal(mig_read_record(&r, &rec, err, sizeof(err)), 0);
	assert_int_equal(rec.type, MIG_REC_END);
	assert_int_equal(rec.len, 0);
	assert_non_null(rec.payload);
	assert_int_equal(r.buf_cap, cap);
	assert_int_equal(r.bytes, w.bytes);
	mig_reader_destroy(&r);
	close(fd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_crc32c_vectors),
		cmocka_unit_test(test_caps_and_names),
		cmocka_unit_test(test_layout),
		cmocka_unit_test(test_round_trip_memfd),
		cmocka_unit_test(test_round_trip_pipe),
		cmocka_unit_test(test_writer_refuses),
		cmocka_unit_test(test_writer_error),
		cmocka_unit_test(test_header_refused),
		cmocka_unit_test(test_crc_mismatch),
		cmocka_unit_test(test_bad_type_and_flags),
		cmocka_unit_test(test_length_over_cap),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_read_error),
		cmocka_unit_test(test_buffer_reuse),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
