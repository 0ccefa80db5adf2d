/* SPDX-License-Identifier: MIT */
#ifndef FVMM_PROBE_PAYLOAD_H
#define FVMM_PROBE_PAYLOAD_H

/*
 * fvmm-probe datagram payload.  All fields little-endian, written byte by
 * byte so the layout does not depend on the host:
 *
 *   offset  size  field
 *        0     4  magic "FVPR"
 *        4     4  run id (random per run; stale replies of other runs differ)
 *        8     8  sequence number, 0-based
 *       16     8  send time, CLOCK_MONOTONIC ns of the sender
 *       24     -  pattern up to the payload size: byte i (offset from the
 *                 start of the payload) = probe_pattern_byte(seq, i)
 *
 * The echo service returns the payload unchanged.  The pattern depends on
 * the sequence number, so a reply whose body belongs to another datagram
 * is caught as well as flipped bits.
 */

#include <stddef.h>
#include <stdint.h>

#define PROBE_MAGIC		"FVPR"
#define PROBE_HDR_SIZE		24u
#define PROBE_MAX_SIZE		65507u	/* largest UDP payload over IPv4 */

struct probe_hdr {
	uint32_t run_id;
	uint64_t seq;
	uint64_t send_ns;
};

enum probe_check {
	PROBE_OK = 0,
	PROBE_INVALID,	/* not one of ours: size, magic or run id */
	PROBE_CORRUPT,	/* ours, but the pattern after the header differs */
};

static inline uint8_t probe_pattern_byte(uint64_t seq, size_t i)
{
	return (uint8_t)((i * 7u) ^ (seq * 13u) ^ 0xa5u);
}

/* Fill a whole payload of @size bytes (>= PROBE_HDR_SIZE). */
void probe_payload_build(uint8_t *buf, size_t size, uint32_t run_id,
			 uint64_t seq, uint64_t send_ns);

/* Overwrite only the send time of a built payload. */
void probe_payload_set_time(uint8_t *buf, uint64_t send_ns);

/*
 * Classify a received payload of @len bytes against the expected @size and
 * @run_id.  On PROBE_OK and PROBE_CORRUPT @out holds the header fields.
 */
enum probe_check probe_payload_check(const uint8_t *buf, size_t len,
				     size_t size, uint32_t run_id,
				     struct probe_hdr *out);

#endif
