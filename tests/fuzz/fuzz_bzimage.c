// SPDX-License-Identifier: MIT
/*
 * libFuzzer target for the bzImage loader: the input is the kernel file.
 * The first byte picks a command line length and whether an initrd is
 * passed, so those paths are reached too; the rest is the image.
 *
 *   make fuzz && build/fuzz/fuzz_bzimage -max_total_time=60
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "arch/x86/boot.h"
#include "core/guest_mem.h"
#include "core/util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_RAM	(32 * MiB)

static struct guest_mem gm;
static char cmdline[4096];
static uint8_t initrd[64 * KiB];

static void fuzz_init(void)
{
	if (gm_init(&gm, FUZZ_RAM))
		abort();
	memset(cmdline, 'c', sizeof(cmdline) - 1);
	memset(initrd, 0x5a, sizeof(initrd));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int ready;
	struct boot_images img = { 0 };
	struct boot_info bi;
	char err[256];
	size_t clen;

	if (!ready) {
		fuzz_init();
		ready = 1;
	}
	if (size < 1)
		return 0;
	/* Bits 0-6: command line length in 32-byte steps; bit 7: initrd. */
	clen = (data[0] & 0x7f) * 32;
	cmdline[clen] = 0;
	img.cmdline = cmdline;
	if (data[0] & 0x80) {
		img.initrd = initrd;
		img.initrd_len = sizeof(initrd);
	}
	img.kernel = data + 1;
	img.kernel_len = size - 1;
	/* Load even when probe says no: the loader must refuse on its own. */
	bzimage_probe(img.kernel, img.kernel_len);
	bzimage_load(&gm, &img, &bi, err, sizeof(err));
	cmdline[clen] = 'c';
	return 0;
}
