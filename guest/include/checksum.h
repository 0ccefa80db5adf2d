#ifndef GUEST_CHECKSUM_H
#define GUEST_CHECKSUM_H

#include <types.h>

/* Sum of bytes modulo 256, as MP and ACPI tables use (valid when zero). */
u8 byte_sum(const void *p, size_t len);

#endif
