/* Freestanding string helpers (gcc may also emit calls to mem* itself). */
#ifndef GUEST_STRING_H
#define GUEST_STRING_H

#include <types.h>

void *memset(void *s, int c, size_t n);
void *memcpy(void *dst, const void *src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
size_t strnlen(const char *s, size_t max);
int strcmp(const char *a, const char *b);
int strncmp(const char *a, const char *b, size_t n);
char *strchr(const char *s, int c);
size_t strlcpy(char *dst, const char *src, size_t size);
int kstrtou64(const char *s, unsigned int base, u64 *out);

#endif
