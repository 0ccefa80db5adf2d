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

/*
 * The one's-complement sum does not care about byte order (RFC 1071), so
 * five native dword loads do what ten big-endian word loads would.
 */
bool csum_ip20_ok(const u8 *p)
{
	const u32 *w = (const u32 *)p;
	u64 s = (u64)w[0] + w[1] + w[2] + w[3] + w[4];

	return fold16(fold16(s)) == 0xffff;
}

void csum_replace16(u8 *csum, u16 old, u16 new_word)
{
	u32 s = (u16)~get_be16(csum) + (u16)~old + new_word;

	put_be16(csum, ~fold16(s));
}
