/*
 * vsnprintf: the subset the kernel uses.  Flags '-', '0' and '#', field
 * width (digits or '*'), precision for strings, length modifiers hh h l ll z,
 * and conversions d i u x X p s c %.
 */

#include <printk.h>
#include <string.h>

struct outbuf {
	char *buf;
	size_t size;
	size_t len;		/* would-be length, may exceed size */
};

struct spec {
	bool left;
	bool zero;
	bool alt;		/* '#': 0x prefix for nonzero hex */
	int width;
	int prec;
	int lenmod;		/* 0 int, 1 long, 2 long long/size_t, -1 short, -2 char */
};

static void put(struct outbuf *o, char c)
{
	if (o->len + 1 < o->size)
		o->buf[o->len] = c;
	o->len++;
}

/* Literal runs are copied in bulk: per-character work is what costs. */
static void put_run(struct outbuf *o, const char *s, size_t n)
{
	if (o->len < o->size) {
		size_t room = o->size - 1 - o->len;

		memcpy(o->buf + o->len, s, n < room ? n : room);
	}
	o->len += n;
}

static void pad(struct outbuf *o, char c, int n)
{
	while (n-- > 0)
		put(o, c);
}

static void put_str(struct outbuf *o, const char *s, const struct spec *sp)
{
	size_t len;

	if (!s)
		s = "(null)";
	len = sp->prec >= 0 ? strnlen(s, sp->prec) : strlen(s);
	if (!sp->left)
		pad(o, ' ', sp->width - (int)len);
	put_run(o, s, len);
	if (sp->left)
		pad(o, ' ', sp->width - (int)len);
}

static void put_num(struct outbuf *o, u64 v, bool neg, unsigned int base,
		    bool upper, const struct spec *sp)
{
	const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
	bool prefix = sp->alt && base == 16 && v;
	char tmp[24];
	int n = 0, width = sp->width;

	do {
		tmp[n++] = digits[v % base];
		v /= base;
	} while (v);
	width -= n + neg + 2 * prefix;
	if (!sp->left && !sp->zero)
		pad(o, ' ', width);
	if (neg)
		put(o, '-');
	if (prefix) {
		put(o, '0');
		put(o, upper ? 'X' : 'x');
	}
	if (!sp->left && sp->zero)
		pad(o, '0', width);
	while (n)
		put(o, tmp[--n]);
	if (sp->left)
		pad(o, ' ', width);
}

static const char *parse_spec(const char *fmt, struct spec *sp, va_list *ap)
{
	memset(sp, 0, sizeof(*sp));
	sp->prec = -1;
	for (;; fmt++) {
		if (*fmt == '-')
			sp->left = true;
		else if (*fmt == '#')
			sp->alt = true;
		else if (*fmt == '0')
			sp->zero = true;
		else
			break;
	}
	if (*fmt == '*') {
		sp->width = va_arg(*ap, int);
		fmt++;
	}
	while (*fmt >= '0' && *fmt <= '9')
		sp->width = sp->width * 10 + (*fmt++ - '0');
	if (*fmt == '.') {
		fmt++;
		sp->prec = 0;
		if (*fmt == '*') {
			sp->prec = va_arg(*ap, int);
			fmt++;
		}
		while (*fmt >= '0' && *fmt <= '9')
			sp->prec = sp->prec * 10 + (*fmt++ - '0');
	}
	for (;; fmt++) {
		if (*fmt == 'l' || *fmt == 'z')
			sp->lenmod += *fmt == 'z' ? 2 : 1;
		else if (*fmt == 'h')
			sp->lenmod--;
		else
			break;
	}
	return fmt;
}

static u64 get_unsigned(const struct spec *sp, va_list *ap)
{
	if (sp->lenmod >= 2)
		return va_arg(*ap, unsigned long long);
	if (sp->lenmod == 1)
		return va_arg(*ap, unsigned long);
	if (sp->lenmod == -1)
		return (unsigned short)va_arg(*ap, unsigned int);
	if (sp->lenmod <= -2)
		return (unsigned char)va_arg(*ap, unsigned int);
	return va_arg(*ap, unsigned int);
}

static s64 get_signed(const struct spec *sp, va_list *ap)
{
	if (sp->lenmod >= 2)
		return va_arg(*ap, long long);
	if (sp->lenmod == 1)
		return va_arg(*ap, long);
	if (sp->lenmod == -1)
		return (short)va_arg(*ap, int);
	if (sp->lenmod <= -2)
		return (signed char)va_arg(*ap, int);
	return va_arg(*ap, int);
}

static void convert(struct outbuf *o, char conv, struct spec *sp, va_list *ap)
{
	s64 sv;

	switch (conv) {
	case 'd':
	case 'i':
		sv = get_signed(sp, ap);
		put_num(o, sv < 0 ? -(u64)sv : (u64)sv, sv < 0, 10, false, sp);
		break;
	case 'u':
		put_num(o, get_unsigned(sp, ap), false, 10, false, sp);
		break;
	case 'x':
	case 'X':
		put_num(o, get_unsigned(sp, ap), false, 16, conv == 'X', sp);
		break;
	case 'p':
		put(o, '0');
		put(o, 'x');
		put_num(o, (u64)va_arg(*ap, void *), false, 16, false, sp);
		break;
	case 's':
		put_str(o, va_arg(*ap, const char *), sp);
		break;
	case 'c':
		put(o, (char)va_arg(*ap, int));
		break;
	case '%':
		put(o, '%');
		break;
	default:
		put(o, '%');
		put(o, conv);
		break;
	}
}

int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
	struct outbuf o = { .buf = buf, .size = size, .len = 0 };
	struct spec sp;
	va_list args;

	va_copy(args, ap);
	while (*fmt) {
		const char *run = fmt;

		while (*fmt && *fmt != '%')
			fmt++;
		if (fmt != run)
			put_run(&o, run, fmt - run);
		if (!*fmt)
			break;
		fmt = parse_spec(fmt + 1, &sp, &args);
		if (!*fmt)
			break;
		convert(&o, *fmt++, &sp, &args);
	}
	va_end(args);
	if (size)
		buf[o.len < size ? o.len : size - 1] = '\0';
	return (int)o.len;
}

int snprintf(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return n;
}
