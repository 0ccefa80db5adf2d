// SPDX-License-Identifier: MIT
/*
 * The migration stream's framing: header, typed records with length caps
 * and CRC32C, over a blocking fd (or any exact-read function, for tests).
 */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/util.h"
#include "migration/stream.h"

#define RAM_CAP		(16 + 256 * (8 + 4096))

static const struct {
	const char *name;
	uint32_t cap;
} rec_types[MIG_REC_MAX] = {
	[MIG_REC_CONFIG] = { "config", 65536 },
	[MIG_REC_RAM] = { "ram", RAM_CAP },
	[MIG_REC_RAM_SYNC] = { "ram-sync", 64 },
	[MIG_REC_DEVICE] = { "device", 1 << 20 },
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

static int write_all(struct mig_writer *w, const void *p, size_t len)
{
	const uint8_t *b = p;

	while (len) {
		ssize_t n = write(w->fd, b, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EPIPE;
		b += n;
		len -= n;
		w->bytes += n;
	}
	return 0;
}

int mig_write_header(struct mig_writer *w)
{
	uint8_t h[MIG_HEADER_SIZE] = { 0 };

	memcpy(h, MIG_MAGIC, 8);
	le_write(h + 8, 4, MIG_FORMAT_VERSION);
	return write_all(w, h, sizeof(h));
}

static void record_header(uint8_t h[MIG_RECORD_HDR_SIZE], uint16_t type,
			  const void *payload, uint32_t len)
{
	le_write(h, 2, type);
	le_write(h + 2, 2, 0);
	le_write(h + 4, 4, len);
	le_write(h + 8, 4, crc32c(crc32c(0, h, 8), payload, len));
}

int mig_write_record(struct mig_writer *w, uint16_t type, const void *payload,
		     uint32_t len)
{
	uint8_t h[MIG_RECORD_HDR_SIZE];
	int ret;

	if (!type_known(type) || len > rec_types[type].cap)
		return -EINVAL;
	record_header(h, type, payload, len);
	ret = write_all(w, h, sizeof(h));
	return ret || !len ? ret : write_all(w, payload, len);
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

int mig_read_header(struct mig_reader *r, char *err, size_t errlen)
{
	uint8_t h[MIG_HEADER_SIZE];
	uint32_t version;
	int ret = reader_get(r, h, sizeof(h));

	if (ret) {
		snprintf(err, errlen, "stream ended inside its header");
		return ret == -EPIPE ? -EBADMSG : ret;
	}
	if (memcmp(h, MIG_MAGIC, 8)) {
		snprintf(err, errlen, "not an fvmm migration stream (bad magic)");
		return -EBADMSG;
	}
	version = le_read(h + 8, 4);
	if (version != MIG_FORMAT_VERSION || le_read(h + 12, 4)) {
		snprintf(err, errlen, "stream format version %u (flags 0x%x) not supported (this fvmm: %u)",
			 version, (unsigned)le_read(h + 12, 4),
			 MIG_FORMAT_VERSION);
		return -EBADMSG;
	}
	return 0;
}

static int check_record_header(const uint8_t h[MIG_RECORD_HDR_SIZE],
			       char *err, size_t errlen)
{
	uint16_t type = le_read(h, 2), flags = le_read(h + 2, 2);
	uint32_t len = le_read(h + 4, 4);

	if (!type_known(type)) {
		snprintf(err, errlen, "unknown record type %u", type);
		return -EBADMSG;
	}
	if (flags) {
		snprintf(err, errlen, "record '%s': unknown flags 0x%x",
			 mig_record_name(type), flags);
		return -EBADMSG;
	}
	if (len > rec_types[type].cap) {
		snprintf(err, errlen, "record '%s': length %u over its cap %u",
			 mig_record_name(type), len, rec_types[type].cap);
		return -EBADMSG;
	}
	return 0;
}

static int reader_reserve(struct mig_reader *r, size_t len)
{
	uint8_t *b;

	if (len <= r->buf_cap)
		return 0;
	b = realloc(r->buf, len);
	if (!b)
		return -ENOMEM;
	r->buf = b;
	r->buf_cap = len;
	return 0;
}

int mig_read_record(struct mig_reader *r, struct mig_record *rec, char *err,
		    size_t errlen)
{
	uint8_t h[MIG_RECORD_HDR_SIZE];
	uint32_t len, crc;
	int ret = reader_get(r, h, sizeof(h));

	if (ret == -EPIPE) {
		snprintf(err, errlen, "stream ended");
		return -EPIPE;
	}
	if (!ret)
		ret = check_record_header(h, err, errlen);
	if (ret)
		return ret;
	rec->type = le_read(h, 2);
	len = le_read(h + 4, 4);
	ret = reader_reserve(r, len ? len : 1);
	if (!ret && len)
		ret = reader_get(r, r->buf, len);
	if (ret == -EPIPE) {
		snprintf(err, errlen, "stream ended inside a record");
		return -EBADMSG;
	}
	if (ret)
		return ret;
	crc = crc32c(crc32c(0, h, 8), r->buf, len);
	if (crc != le_read(h + 8, 4)) {
		snprintf(err, errlen, "record '%s': CRC mismatch",
			 mig_record_name(rec->type));
		return -EBADMSG;
	}
	rec->len = len;
	rec->payload = r->buf;
	return 0;
}
