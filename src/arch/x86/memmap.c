// SPDX-License-Identifier: MIT
#include <errno.h>

#include "arch/x86/boot.h"
#include "core/util.h"

int e820_build(const struct guest_mem *gm, struct e820_entry *out, int max)
{
	const struct gm_slot *low = &gm->slots[0];
	int n = 0;

	if (max < 4 || low->size < BOOT_LOW_RESERVED_END)
		return -EINVAL;
	out[n++] = (struct e820_entry){ 0, BOOT_EBDA_GPA, E820_RAM };
	out[n++] = (struct e820_entry){
		BOOT_EBDA_GPA, BOOT_LOW_RESERVED_END - BOOT_EBDA_GPA,
		E820_RESERVED,
	};
	if (low->size > BOOT_LOW_RESERVED_END)
		out[n++] = (struct e820_entry){
			BOOT_LOW_RESERVED_END,
			low->size - BOOT_LOW_RESERVED_END, E820_RAM,
		};
	if (gm->nr_slots > 1)
		out[n++] = (struct e820_entry){
			gm->slots[1].gpa, gm->slots[1].size, E820_RAM,
		};
	return n;
}

uint64_t boot_initrd_addr(const struct guest_mem *gm, uint64_t len,
			  uint64_t min_start, uint64_t max_end)
{
	uint64_t end = MIN(max_end, gm->slots[0].size), addr;

	if (!len || len > end)
		return 0;
	addr = ALIGN_DOWN(end - len, GM_PAGE_SIZE);
	return addr >= min_start && addr >= BOOT_LOW_RESERVED_END ? addr : 0;
}
