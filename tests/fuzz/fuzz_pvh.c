// SPDX-License-Identifier: MIT
/*
 * libFuzzer target: PVH ELF probing and loading (src/arch/x86/pvh.c) on
 * arbitrary bytes.  The kernel image comes from the user, but the loader
 * treats it as untrusted: no input may crash it, read outside the image,
 * write outside guest RAM, or fail without saying why.
 *
 * Input: the first byte picks options (initrd, command line), the rest is
 * the kernel image.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arch/x86/boot.h"
#include "core/guest_mem.h"

#define RAM_SIZE	(32ULL << 20)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct guest_mem gm;
static int gm_ready;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t initrd[4096 + 3] = { 1, 2, 3 };
	struct boot_images img = { 0 };
	struct boot_info bi = { .entry = 0x5a5a5a5a };
	char err[256];
	uint8_t opts;
	uint8_t *kernel;
	int probe, ret;

	if (!gm_ready) {
		if (gm_init(&gm, RAM_SIZE))
			abort();
		gm_ready = 1;
	}
	if (size < 1)
		return 0;
	opts = data[0];
	/* Exact-size copy: ASan flags any read past the image. */
	kernel = malloc(size - 1 ? size - 1 : 1);
	if (!kernel)
		return 0;
	memcpy(kernel, data + 1, size - 1);
	img.kernel = kernel;
	img.kernel_len = size - 1;
	if (opts & 1) {
		img.initrd = initrd;
		img.initrd_len = opts & 2 ? sizeof(initrd) : 1;
	}
	if (opts & 4)
		img.cmdline = "console=ttyS0 poweroff";

	probe = pvh_probe(img.kernel, img.kernel_len);
	if (probe != 0 && probe != 1)
		abort();
	err[0] = '\0';
	ret = pvh_load(&gm, &img, &bi, err, sizeof(err));
	if (ret > 0)
		abort();
	if (ret < 0) {
		/* A failure always says why and hands out no boot info. */
		if (!err[0] || bi.entry != 0x5a5a5a5a)
			abort();
	} else {
		/* Loading succeeds only for what probe accepts. */
		if (!probe || bi.proto != BOOT_PVH ||
		    bi.ebx != BOOT_START_INFO_GPA)
			abort();
	}
	if (!probe && ret == 0)
		abort();
	free(kernel);
	return 0;
}
