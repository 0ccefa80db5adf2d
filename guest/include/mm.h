/* Physical memory: the identity map and a never-freeing early allocator. */
#ifndef GUEST_MM_H
#define GUEST_MM_H

#include <boot.h>

#define PAGE_SIZE	4096UL

int mm_init(const struct boot_info *bi);
u64 mm_ram_bytes(void);
bool mm_range_is_ram(u64 addr, u64 size);
void *early_alloc(size_t size, size_t align);
void *early_alloc_nozero(size_t size, size_t align);
u64 early_alloc_free(void);
u64 mm_kernel_cr3(void);
void mm_dump(void);

#endif
