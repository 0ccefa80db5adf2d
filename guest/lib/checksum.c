/*
 * Byte checksums of firmware tables.  Eight bytes per step: the even and odd
 * bytes of each word are added into 16-bit lanes, which cannot overflow for
 * LANE_WORDS words, then folded.  Byte-at-a-time loops were a visible part
 * of boot time where supervisor code is emulated.
 */

#include <checksum.h>
#include <string.h>

#define BYTE_LANES	0x00ff00ff00ff00ffULL
#define LANE_WORDS	128	/* 128 * 2 * 255 < 65536 */

static u8 fold(u64 lanes)
{
	lanes = (lanes & 0xffff0000ffffULL) + ((lanes >> 16) & 0xffff0000ffffULL);
	lanes = lanes + (lanes >> 32);
	return (u8)lanes;
}

u8 byte_sum(const void *p, size_t len)
{
	const u8 *b = p;
	u8 sum = 0;

	while (len >= 8) {
		size_t words = MIN(len / 8, (size_t)LANE_WORDS), i;
		u64 lanes = 0, w;

		for (i = 0; i < words; i++, b += 8) {
			memcpy(&w, b, 8);
			lanes += (w & BYTE_LANES) + ((w >> 8) & BYTE_LANES);
		}
		sum += fold(lanes);
		len -= words * 8;
	}
	while (len--)
		sum += *b++;
	return sum;
}
