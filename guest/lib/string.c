/* Freestanding string and memory helpers. */

#include <errno.h>
#include <string.h>

/*
 * Bulk work in 8-byte units: where string instructions are emulated (one
 * iteration at a time under some hypervisors) this is 8x fewer steps.
 */
void *memset(void *s, int c, size_t n)
{
	u64 v = 0x0101010101010101ULL * (u8)c;
	size_t q = n / 8, r = n % 8;
	void *ret = s;

	asm volatile("rep stosq" : "+D"(s), "+c"(q) : "a"(v) : "memory");
	asm volatile("rep stosb" : "+D"(s), "+c"(r) : "a"(v) : "memory");
	return ret;
}

void *memcpy(void *dst, const void *src, size_t n)
{
	size_t q = n / 8, r = n % 8;
	void *ret = dst;

	asm volatile("rep movsq" : "+D"(dst), "+S"(src), "+c"(q) : : "memory");
	asm volatile("rep movsb" : "+D"(dst), "+S"(src), "+c"(r) : : "memory");
	return ret;
}

void *memmove(void *dst, const void *src, size_t n)
{
	unsigned char *d = dst;
	const unsigned char *s = src;

	if (d <= s || d >= s + n)
		return memcpy(dst, src, n);
	while (n--)
		d[n] = s[n];
	return dst;
}

int memcmp(const void *a, const void *b, size_t n)
{
	const unsigned char *x = a, *y = b;

	for (; n; n--, x++, y++) {
		if (*x != *y)
			return *x - *y;
	}
	return 0;
}

size_t strlen(const char *s)
{
	const char *p = s;

	while (*p)
		p++;
	return p - s;
}

size_t strnlen(const char *s, size_t max)
{
	size_t n = 0;

	while (n < max && s[n])
		n++;
	return n;
}

int strcmp(const char *a, const char *b)
{
	while (*a && *a == *b) {
		a++;
		b++;
	}
	return (unsigned char)*a - (unsigned char)*b;
}

int strncmp(const char *a, const char *b, size_t n)
{
	for (; n; n--, a++, b++) {
		if (*a != *b)
			return (unsigned char)*a - (unsigned char)*b;
		if (!*a)
			break;
	}
	return 0;
}

char *strchr(const char *s, int c)
{
	for (;; s++) {
		if (*s == (char)c)
			return (char *)s;
		if (!*s)
			return NULL;
	}
}

/* Copies at most size - 1 bytes, always terminates; returns strlen(src). */
size_t strlcpy(char *dst, const char *src, size_t size)
{
	size_t len = strlen(src);

	if (size) {
		size_t n = len < size - 1 ? len : size - 1;

		memcpy(dst, src, n);
		dst[n] = '\0';
	}
	return len;
}

static int digit_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'Z')
		return c - 'A' + 10;
	return 99;
}

/* Whole-string conversion; base 0 accepts a 0x prefix for hex. */
int kstrtou64(const char *s, unsigned int base, u64 *out)
{
	u64 v = 0;

	if (base == 0) {
		base = 10;
		if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
			base = 16;
			s += 2;
		}
	}
	if (!*s)
		return -EINVAL;
	for (; *s; s++) {
		unsigned int d = digit_value(*s);

		if (d >= base)
			return -EINVAL;
		if (v > (~0ULL - d) / base)
			return -ERANGE;
		v = v * base + d;
	}
	*out = v;
	return 0;
}
