/* Internet checksum (RFC 1071) over big-endian 16-bit words. */

#include <net.h>

static u32 fold16(u64 s)
{
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (u32)s;
}

/* Chunks summed separately must have even lengths, except the last. */
u32 csum_partial(const void *data, size_t len, u32 sum)
{
	const u8 *p = data;
	u64 s = sum;

	while (len >= 8) {
		s += get_be16(p) + get_be16(p + 2) + get_be16(p + 4) +
		     get_be16(p + 6);
		p += 8;
		len -= 8;
	}
	while (len >= 2) {
		s += get_be16(p);
		p += 2;
		len -= 2;
	}
	if (len)
		s += (u32)p[0] << 8;
	return fold16(s);
}

u16 csum_fold(u32 sum)
{
	return ~fold16(sum) & 0xffff;
}

u32 csum_pseudo(u32 src, u32 dst, u8 proto, u16 len)
{
	u64 s = (src >> 16) + (src & 0xffff) + (dst >> 16) + (dst & 0xffff) +
		proto + len;

	return fold16(s);
}
