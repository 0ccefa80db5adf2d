// SPDX-License-Identifier: MIT
#include <errno.h>
#include <stdio.h>

#include "arch/x86/boot.h"

int boot_load(struct guest_mem *gm, const struct boot_images *img,
	      struct boot_info *bi, char *err, size_t errlen)
{
	if (pvh_probe(img->kernel, img->kernel_len))
		return pvh_load(gm, img, bi, err, errlen);
	if (bzimage_probe(img->kernel, img->kernel_len))
		return bzimage_load(gm, img, bi, err, errlen);
	snprintf(err, errlen,
		 "not a PVH ELF (no XEN_ELFNOTE_PHYS32_ENTRY note) nor a Linux bzImage");
	return -ENOEXEC;
}
