/* SPDX-License-Identifier: MIT */
#ifndef FVMM_ARCH_X86_BOOT_H
#define FVMM_ARCH_X86_BOOT_H

#include <stddef.h>
#include <stdint.h>

#include "core/guest_mem.h"

/*
 * Kernel loading.  Both supported protocols start the boot vCPU the same way:
 * 32-bit protected mode, paging off, flat 4 GiB CS/DS, at `entry`, with one
 * register pointing at the boot data (PVH: EBX = hvm_start_info; Linux:
 * ESI = boot_params).  Everything the loaders write goes through gm_write(),
 * so a kernel image that asks for addresses outside RAM is refused, never a
 * host fault.
 *
 * Fixed low-memory layout (below the EBDA, above the real-mode IVT/BDA):
 */
#define BOOT_START_INFO_GPA	0x6000ULL	/* hvm_start_info / zero page */
#define BOOT_ZERO_PAGE_GPA	0x7000ULL	/* Linux boot_params (4 KiB) */
#define BOOT_MEMMAP_GPA		0x9000ULL	/* PVH memmap, up to 128 entries */
#define BOOT_CMDLINE_GPA	0x20000ULL
#define BOOT_CMDLINE_MAX	0x10000ULL	/* 64 KiB, incl. the NUL */
#define BOOT_MODLIST_GPA	0xA000ULL	/* PVH module list */
#define BOOT_EBDA_GPA		0x9FC00ULL	/* reserved: EBDA */
#define BOOT_BIOS_GPA		0xF0000ULL	/* MP table lives here */
#define BOOT_LOW_RESERVED_END	0x100000ULL

enum e820_type { E820_RAM = 1, E820_RESERVED = 2 };

struct e820_entry {
	uint64_t addr;
	uint64_t size;
	uint32_t type;
} __attribute__((packed));

#define E820_MAX	16

/* The guest's memory map for a given layout; returns the entry count. */
int e820_build(const struct guest_mem *gm, struct e820_entry *out, int max);

enum boot_proto { BOOT_PVH, BOOT_LINUX };

struct boot_info {
	enum boot_proto proto;
	uint32_t entry;		/* 32-bit protected-mode entry point */
	uint32_t ebx;		/* PVH: hvm_start_info address */
	uint32_t esi;		/* Linux: boot_params address */
};

struct boot_images {
	const uint8_t *kernel;
	size_t kernel_len;
	const uint8_t *initrd;	/* may be NULL */
	size_t initrd_len;
	const char *cmdline;	/* may be NULL */
};

/*
 * Load a PVH ELF (ELF note XEN_ELFNOTE_PHYS32_ENTRY, 32- or 64-bit ELF) or a
 * Linux bzImage (boot protocol >= 2.06).  On failure returns -errno and puts
 * a one-line reason (no trailing newline) in err.
 */
int boot_load(struct guest_mem *gm, const struct boot_images *img,
	      struct boot_info *bi, char *err, size_t errlen);

/* The two protocols; boot_load() picks one by looking at the image. */
int pvh_probe(const uint8_t *img, size_t len);		/* 1 = is PVH ELF */
int pvh_load(struct guest_mem *gm, const struct boot_images *img,
	     struct boot_info *bi, char *err, size_t errlen);
int bzimage_probe(const uint8_t *img, size_t len);	/* 1 = is bzImage */
int bzimage_load(struct guest_mem *gm, const struct boot_images *img,
		 struct boot_info *bi, char *err, size_t errlen);

/*
 * Where an initrd/module of len bytes goes: the highest page-aligned address
 * in low RAM that ends at or below max_end and above min_start; 0 if none.
 */
uint64_t boot_initrd_addr(const struct guest_mem *gm, uint64_t len,
			  uint64_t min_start, uint64_t max_end);

#endif
