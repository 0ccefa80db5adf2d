// SPDX-License-Identifier: MIT
/*
 * The migration stream's framing: header, typed records with length caps
 * and CRC32C, over a blocking fd (or any exact-read function, for tests).
 */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "core/util.h"
#include "migration/stream.h"

/* u32 count, u32 reserved, then up to 256 pages of u64 gpa + 4096 bytes. */
#define RAM_CAP		(16 + 256 * (8 + 4096))
#define DEVICE_CAP	(1u << 20)
/* The largest cap of any type: a reader's buffer never grows past it. */
#define MAX_CAP		MAX(RAM_CAP, DEVICE_CAP)

static const struct {
	const char *name;
	uint32_t cap;
} rec_types[MIG_REC_MAX] = {
	[MIG_REC_CONFIG] = { "config", 65536 },
	[MIG_REC_RAM] = { "ram", RAM_CAP },
	[MIG_REC_RAM_SYNC] = { "ram-sync", 64 },
	[MIG_REC_DEVICE] = { "device", DEVICE_CAP },
	[MIG_REC_CPU] = { "cpu", 65536 },
	[MIG_REC_VM_KSTATE] = { "vm-kstate", 16384 },
	[MIG_REC_END] = { "end", 0 },
};

static bool type_known(uint16_t type)
{
	return type > 0 && type < MIG_REC_MAX;
}

uint32_t mig_record_cap(uint16_t type)
{
	return type_known(type) ? rec_types[type].cap : 0;
}

const char *mig_record_name(uint16_t type)
{
	return type_known(type) ? rec_types[type].name : "unknown";
}

static uint32_t crc32c_table[256];

static void crc32c_init(void)
{
	for (uint32_t i = 0; i < 256; i++) {
		uint32_t c = i;

		for (int k = 0; k < 8; k++)
			c = c & 1 ? (c >> 1) ^ 0x82F63B78u : c >> 1;
		crc32c_table[i] = c;
	}
}

/* The source and destination threads may both be first to need the table. */
uint32_t crc32c(uint32_t crc, const void *p, size_t len)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	const uint8_t *b = p;

	pthread_once(&once, crc32c_init);
	crc = ~crc;
	while (len--)
		crc = crc32c_table[(crc ^ *b++) & 0xff] ^ (crc >> 8);
	return ~crc;
}

/*
 * One writev() for header and payload: with TCP_NODELAY a separate write
 * of the 12-byte header would go out as a segment of its own.
 */
static int write_all(struct mig_writer *w, struct iovec *iov, int iovcnt)
{
	while (iovcnt) {
		ssize_t n = writev(w->fd, iov, iovcnt);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		w->bytes += n;
		while (iovcnt && (size_t)n >= iov->iov_len) {
			n -= iov->iov_len;
			iov++;
			iovcnt--;
		}
		if (iovcnt) {
			iov->iov_base = (uint8_t *)iov->iov_base + n;
			iov->iov_len -= n;
		} else if (n) {
			return -EIO;	/* wrote more than asked: cannot be */
		}
	}
	return 0;
}

int mig_write_header(struct mig_writer *w)
{
	uint8_t h[MIG_HEADER_SIZE] = { 0 };
	struct iovec iov = { .iov_base = h, .iov_len = sizeof(h) };

	memcpy(h, MIG_MAGIC, 8);
	le_write(h + 8, 4, MIG_FORMAT_VERSION);
	return write_all(w, &iov, 1);
}

static uint32_t record_crc(const uint8_t h[MIG_RECORD_HDR_SIZE],
			   const void *payload, uint32_t len)
{
	return crc32c(crc32c(0, h, 8), payload, len);
}

int mig_write_record(struct mig_writer *w, uint16_t type, const void *payload,
		     uint32_t len)
{
	uint8_t h[MIG_RECORD_HDR_SIZE];
	struct iovec iov[2] = {
		{ .iov_base = h, .iov_len = sizeof(h) },
		{ .iov_base = (void *)payload, .iov_len = len },
	};

	if (!type_known(type) || len > rec_types[type].cap)
		return -EINVAL;
	le_write(h, 2, type);
	le_write(h + 2, 2, 0);
	le_write(h + 4, 4, len);
	le_write(h + 8, 4, record_crc(h, payload, len));
	return write_all(w, iov, len ? 2 : 1);
}

static int fd_read_exact(void *opaque, void *buf, size_t len)
{
	int fd = *(int *)opaque;
	uint8_t *b = buf;

	while (len) {
		ssize_t n = read(fd, b, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -EPIPE;
		b += n;
		len -= n;
	}
	return 0;
}

void mig_reader_init_fd(struct mig_reader *r, int *fd)
{
	memset(r, 0, sizeof(*r));
	r->read_fn = fd_read_exact;
	r->opaque = fd;
}

void mig_reader_destroy(struct mig_reader *r)
{
	free(r->buf);
	r->buf = NULL;
	r->buf_cap = 0;
}

static int reader_get(struct mig_reader *r, void *buf, size_t len)
{
	int ret = r->read_fn(r->opaque, buf, len);

	if (!ret)
		r->bytes += len;
	return ret;
}

/* A failed read that is not the end of the stream (e.g. the 30 s bound). */
static int read_failed(int ret, char *err, size_t errlen)
{
	return errf(err, errlen, ret, "reading the stream: %s", strerror(-ret));
}

int mig_read_header(struct mig_reader *r, char *err, size_t errlen)
{
	uint8_t h[MIG_HEADER_SIZE];
	uint32_t version, flags;
	int ret = reader_get(r, h, sizeof(h));

	if (ret == -EPIPE)
		return errf(err, errlen, -EBADMSG, "stream ended inside its header");
	if (ret)
		return read_failed(ret, err, errlen);
	if (memcmp(h, MIG_MAGIC, 8))
		return errf(err, errlen, -EBADMSG,
			    "not an fvmm migration stream (bad magic)");
	version = le_read(h + 8, 4);
	flags = le_read(h + 12, 4);
	if (version != MIG_FORMAT_VERSION)
		return errf(err, errlen, -EBADMSG,
			    "stream format version %u not supported (this fvmm: %u)",
			    version, MIG_FORMAT_VERSION);
	if (flags)
		return errf(err, errlen, -EBADMSG,
			    "stream header flags 0x%x not supported", flags);
	return 0;
}

static int check_record_header(const uint8_t h[MIG_RECORD_HDR_SIZE],
			       char *err, size_t errlen)
{
	uint16_t type = le_read(h, 2), flags = le_read(h + 2, 2);
	uint32_t len = le_read(h + 4, 4);

	if (!type_known(type))
		return errf(err, errlen, -EBADMSG, "unknown record type %u", type);
	if (flags)
		return errf(err, errlen, -EBADMSG,
			    "record '%s': unknown flags 0x%x",
			    rec_types[type].name, flags);
	if (len > rec_types[type].cap)
		return errf(err, errlen, -EBADMSG,
			    "record '%s': length %u over its cap %u",
			    rec_types[type].name, len, rec_types[type].cap);
	return 0;
}

/*
 * Grow geometrically so a stream of ever so slightly larger records does
 * not realloc each time, but never past the largest cap: len was checked.
 */
static int reader_reserve(struct mig_reader *r, size_t len)
{
	size_t cap = r->buf_cap ? r->buf_cap : 4096;
	uint8_t *b;

	if (len <= r->buf_cap)
		return 0;
	while (cap < len)
		cap *= 2;
	cap = MIN(cap, (size_t)MAX_CAP);
	b = realloc(r->buf, cap);
	if (!b)
		return -ENOMEM;
	r->buf = b;
	r->buf_cap = cap;
	return 0;
}

/*
 * The first byte is read on its own: the end of the stream there is a
 * clean end (-EPIPE, the caller decides whether one was due), anywhere
 * later it cut a record short.  read_fn's contract cannot tell the two
 * apart within one call.
 */
static int read_record_header(struct mig_reader *r,
			      uint8_t h[MIG_RECORD_HDR_SIZE], char *err,
			      size_t errlen)
{
	int ret = reader_get(r, h, 1);

	if (ret == -EPIPE)
		return errf(err, errlen, -EPIPE, "stream ended");
	if (!ret)
		ret = reader_get(r, h + 1, MIG_RECORD_HDR_SIZE - 1);
	if (ret == -EPIPE)
		return errf(err, errlen, -EBADMSG, "stream ended inside a record");
	return ret ? read_failed(ret, err, errlen) : 0;
}

int mig_read_record(struct mig_reader *r, struct mig_record *rec, char *err,
		    size_t errlen)
{
	uint8_t h[MIG_RECORD_HDR_SIZE];
	uint16_t type;
	uint32_t len;
	int ret;

	ret = read_record_header(r, h, err, errlen);
	if (!ret)
		ret = check_record_header(h, err, errlen);
	if (ret)
		return ret;
	type = le_read(h, 2);
	len = le_read(h + 4, 4);
	/* Never empty, so an accepted record's payload is never NULL. */
	if (reader_reserve(r, len ? len : 1))
		return errf(err, errlen, -ENOMEM,
			    "record '%s': no memory for %u bytes",
			    rec_types[type].name, len);
	ret = len ? reader_get(r, r->buf, len) : 0;
	if (ret == -EPIPE)
		return errf(err, errlen, -EBADMSG, "stream ended inside a record");
	if (ret)
		return read_failed(ret, err, errlen);
	if (record_crc(h, r->buf, len) != le_read(h + 8, 4))
		return errf(err, errlen, -EBADMSG, "record '%s': CRC mismatch",
			    rec_types[type].name);
	rec->type = type;
	rec->len = len;
	rec->payload = r->buf;
	return 0;
}
