/* SPDX-License-Identifier: MIT */
#ifndef FVMM_MIGRATION_STREAM_H
#define FVMM_MIGRATION_STREAM_H

/*
 * The migration stream's framing (docs/migration-stream.md): a fixed header,
 * then typed records, each self-checking:
 *
 *   header  : magic "FVMMIGR\0" (8), u32 format version, u32 flags (0)
 *   record  : u16 type, u16 flags (0), u32 payload length, u32 CRC32C of
 *             (type, flags, length, payload), payload
 *
 * All integers little-endian.  Every type has a payload size cap, checked
 * before anything is allocated or read, so a hostile length never makes the
 * destination allocate gigabytes or wait for bytes that will not come.
 * Unknown types, non-zero flags and CRC mismatches are refused with a
 * one-line reason: the stream is untrusted input.
 *
 * This file owns the framing only; what goes inside a record belongs to the
 * module that writes it (RAM: migration/ram.c, vCPUs: migration/cpu_state.c,
 * devices: their own state records, core/state.h).
 */

#include <stddef.h>
#include <stdint.h>

#include "core/state.h"

#define MIG_MAGIC		"FVMMIGR"	/* + NUL: 8 bytes */
#define MIG_FORMAT_VERSION	1
#define MIG_HEADER_SIZE		16
#define MIG_RECORD_HDR_SIZE	12

enum mig_record_type {
	MIG_REC_CONFIG = 1,	/* the source's machine configuration */
	MIG_REC_RAM = 2,	/* a batch of pages */
	MIG_REC_RAM_SYNC = 3,	/* end of one pre-copy pass */
	MIG_REC_DEVICE = 4,	/* u16 id length, id, the device's state record */
	MIG_REC_CPU = 5,	/* one vCPU (migration/cpu_state.h) */
	MIG_REC_VM_KSTATE = 6,	/* in-kernel irqchip, PIT, kvmclock */
	MIG_REC_END = 7,	/* empty: the stream is complete */
	MIG_REC_MAX
};

/* Largest payload allowed for type; 0 for an unknown type. */
uint32_t mig_record_cap(uint16_t type);
const char *mig_record_name(uint16_t type);

/* CRC32C (Castagnoli), as iSCSI and ext4 use; crc = 0 to start. */
uint32_t crc32c(uint32_t crc, const void *p, size_t len);

/*
 * The sending side: records are built in memory (sbuf) and written with
 * mig_write_record(), which blocks until all of it is written.  A writer
 * counts the bytes it sent, for query-migrate's "transferred".
 */
struct mig_writer {
	int fd;
	uint64_t bytes;
};

int mig_write_header(struct mig_writer *w);
/* -EINVAL when len exceeds the type's cap, -errno from write(). */
int mig_write_record(struct mig_writer *w, uint16_t type, const void *payload,
		     uint32_t len);

/*
 * The receiving side.  read_fn lets the unit and fuzz tests feed bytes from
 * memory; mig_reader_init_fd() reads a socket.  A reader owns one payload
 * buffer, grown up to the largest cap.
 */
struct mig_reader {
	/* Read exactly len bytes: 0, or -EPIPE at end of stream, -errno. */
	int (*read_fn)(void *opaque, void *buf, size_t len);
	void *opaque;
	uint8_t *buf;
	size_t buf_cap;
	uint64_t bytes;
};

struct mig_record {
	uint16_t type;
	uint32_t len;
	const uint8_t *payload;		/* valid until the next read */
};

void mig_reader_init_fd(struct mig_reader *r, int *fd);
void mig_reader_destroy(struct mig_reader *r);
/* err gets e.g. "stream format version 9 not supported (this fvmm: 1)". */
int mig_read_header(struct mig_reader *r, char *err, size_t errlen);
/*
 * Read and check the next record.  -EPIPE (stream ended), -EBADMSG (bad
 * type, flags, length or CRC; err says which), -ENOMEM, -errno.
 */
int mig_read_record(struct mig_reader *r, struct mig_record *rec, char *err,
		    size_t errlen);

/* A reader cursor over a record's payload, for the record's owner. */
static inline struct sreader mig_record_reader(const struct mig_record *rec)
{
	return (struct sreader){ .p = rec->payload, .len = rec->len };
}

#endif
