// SPDX-License-Identifier: MIT
/*
 * libFuzzer target: the migration stream is untrusted input for the
 * destination.  mig_read_header() and mig_read_record() over arbitrary
 * bytes must refuse anything malformed with a reason (never read past the
 * input, never allocate past a type's cap), and what they accept must be
 * exactly what the writer produces: the header and every accepted record,
 * written again with mig_writer, give back the bytes they were read from.
 * What is inside a record is fuzzed with its owner.
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "migration/stream.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Enough for a few of each type; the inputs are small anyway. */
#define MAX_RECORDS	64

struct mem_src {
	const uint8_t *p;
	size_t len, off;
};

static int mem_read(void *opaque, void *buf, size_t len)
{
	struct mem_src *m = opaque;

	if (len > m->len - m->off)
		return -EPIPE;
	memcpy(buf, m->p + m->off, len);
	m->off += len;
	return 0;
}

/* One memfd for the whole run: the writer needs an fd, not a socket. */
static int out_fd(void)
{
	static int fd = -1;

	if (fd < 0)
		fd = memfd_create("fuzz-mig-stream", MFD_CLOEXEC);
	if (fd < 0)
		abort();
	return fd;
}

/* Run write_fn into the memfd; it must give back want[0, len). */
static void check_rewrite(int (*write_fn)(struct mig_writer *w,
					  const struct mig_record *rec),
			  const struct mig_record *rec, const uint8_t *want,
			  size_t len)
{
	struct mig_writer w = { .fd = out_fd() };
	uint8_t *got = malloc(len);

	if (!got || ftruncate(w.fd, 0) || lseek(w.fd, 0, SEEK_SET))
		abort();
	if (write_fn(&w, rec) || w.bytes != len ||
	    pread(w.fd, got, len, 0) != (ssize_t)len || memcmp(got, want, len))
		abort();
	free(got);
}

static int write_header(struct mig_writer *w, const struct mig_record *rec)
{
	return mig_write_header(w);
}

static int write_record(struct mig_writer *w, const struct mig_record *rec)
{
	return mig_write_record(w, rec->type, rec->payload, rec->len);
}

static uint32_t largest_cap(void)
{
	uint32_t cap = 0;

	for (uint16_t t = 0; t < MIG_REC_MAX; t++)
		if (mig_record_cap(t) > cap)
			cap = mig_record_cap(t);
	return cap;
}

static void fuzz_stream(const uint8_t *data, size_t size)
{
	struct mem_src m = { .p = data, .len = size };
	struct mig_reader r = { .read_fn = mem_read, .opaque = &m };
	struct mig_record rec;
	char err[128] = "";
	size_t start;
	int ret;

	ret = mig_read_header(&r, err, sizeof(err));
	if (!ret)
		check_rewrite(write_header, NULL, data, MIG_HEADER_SIZE);
	for (unsigned i = 0; !ret && i < MAX_RECORDS; i++) {
		start = m.off;
		err[0] = '\0';
		ret = mig_read_record(&r, &rec, err, sizeof(err));
		if (ret)
			break;
		if (rec.len > mig_record_cap(rec.type) || !rec.payload ||
		    m.off - start != MIG_RECORD_HDR_SIZE + (size_t)rec.len)
			abort();
		check_rewrite(write_record, &rec, data + start, m.off - start);
	}
	/* Bad input is refused as such, with a reason. */
	if (ret && ((ret != -EPIPE && ret != -EBADMSG) || !err[0]))
		abort();
	if (r.bytes != m.off || r.buf_cap > largest_cap())
		abort();
	mig_reader_destroy(&r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* Exact-size copy so ASan sees reads past the end of the input. */
	uint8_t *copy = malloc(size ? size : 1);

	if (!copy)
		return 0;
	memcpy(copy, data, size);
	fuzz_stream(copy, size);
	free(copy);
	return 0;
}
