// SPDX-License-Identifier: MIT
/*
 * fvmm-probe payload encoding and checking.  Pure functions, no global
 * state: the unit tests include this file directly.
 */
#include <string.h>

#include "payload.h"

static void put_le(uint8_t *p, unsigned n, uint64_t v)
{
	for (unsigned i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t get_le(const uint8_t *p, unsigned n)
{
	uint64_t v = 0;

	for (unsigned i = 0; i < n; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

void probe_payload_build(uint8_t *buf, size_t size, uint32_t run_id,
			 uint64_t seq, uint64_t send_ns)
{
	memcpy(buf, PROBE_MAGIC, 4);
	put_le(buf + 4, 4, run_id);
	put_le(buf + 8, 8, seq);
	put_le(buf + 16, 8, send_ns);
	for (size_t i = PROBE_HDR_SIZE; i < size; i++)
		buf[i] = probe_pattern_byte(seq, i);
}

void probe_payload_set_time(uint8_t *buf, uint64_t send_ns)
{
	put_le(buf + 16, 8, send_ns);
}

enum probe_check probe_payload_check(const uint8_t *buf, size_t len,
				     size_t size, uint32_t run_id,
				     struct probe_hdr *out)
{
	if (len != size || len < PROBE_HDR_SIZE)
		return PROBE_INVALID;
	if (memcmp(buf, PROBE_MAGIC, 4) != 0)
		return PROBE_INVALID;
	out->run_id = (uint32_t)get_le(buf + 4, 4);
	if (out->run_id != run_id)
		return PROBE_INVALID;
	out->seq = get_le(buf + 8, 8);
	out->send_ns = get_le(buf + 16, 8);
	for (size_t i = PROBE_HDR_SIZE; i < len; i++)
		if (buf[i] != probe_pattern_byte(out->seq, i))
			return PROBE_CORRUPT;
	return PROBE_OK;
}
