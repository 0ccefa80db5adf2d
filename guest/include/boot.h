/* What the boot protocol (PVH) hands the kernel, copied into kernel memory. */
#ifndef GUEST_BOOT_H
#define GUEST_BOOT_H

#include <types.h>

#define E820_RAM	1
#define MEMMAP_MAX	128
#define CMDLINE_MAX	1024

struct mem_range {
	u64 addr;
	u64 size;
	u32 type;
};

struct boot_info {
	char cmdline[CMDLINE_MAX];
	struct mem_range map[MEMMAP_MAX];
	unsigned int map_nr;
	u64 rsdp;		/* 0 if the loader gave none */
	u64 entry_tsc;		/* TSC at kernel entry, for boot timing */
};

extern struct boot_info boot_info;

int pvh_parse(u32 start_info_pa, struct boot_info *bi);

#endif
