// SPDX-License-Identifier: MIT
/*
 * Linux bzImage loader: synthetic images, good and broken, loaded into a
 * 64 MiB guest; checks the zero page, the e820 table, kernel and initrd
 * placement, and that every refusal is a clear error with nothing written.
 */
#include <dlfcn.h>
#include <elf.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "arch/x86/boot.h"
#include "core/guest_mem.h"
#include "core/util.h"

#define RAM		(64 * MiB)
#define SETUP_SECTS	4
#define SETUP_SIZE	((SETUP_SECTS + 1) * 512)
#define KERNEL_LEN	8192
#define TAIL_LEN	64	/* bytes after syssize, like a signature */
#define IMG_LEN		(SETUP_SIZE + KERNEL_LEN + TAIL_LEN)
#define PREF		0x1000000ULL
#define INIT_SIZE	0x800000U

static uint8_t img[IMG_LEN];
static struct guest_mem gm;
static char err[256];

static void put(unsigned off, unsigned size, uint64_t v)
{
	le_write(img + off, size, v);
}

static uint64_t get(const uint8_t *p, unsigned off, unsigned size)
{
	return le_read(p + off, size);
}

static uint8_t kbyte(size_t i)
{
	return (uint8_t)(i * 7 + 1);
}

/* A well-formed protocol 2.15 relocatable bzImage, like Debian's. */
static void make_image(void)
{
	memset(img, 0, sizeof(img));
	/* Garbage where the header ends, to prove only the header is copied. */
	memset(img + 0x26c, 0xcc, 0x400 - 0x26c);
	img[0x1f1] = SETUP_SECTS;
	put(0x1f4, 4, KERNEL_LEN / 16);
	put(0x1fa, 2, 0x1234);			/* vid_mode, must become 0xFFFF */
	put(0x1fe, 2, 0xAA55);
	img[0x200] = 0xeb;
	img[0x201] = 0x6a;			/* header ends at 0x26c */
	memcpy(img + 0x202, "HdrS", 4);
	put(0x206, 2, 0x020f);
	img[0x211] = 0x01;			/* LOADED_HIGH */
	put(0x22c, 4, 0x7fffffff);		/* initrd_addr_max */
	put(0x230, 4, 0x200000);		/* kernel_alignment */
	img[0x234] = 1;				/* relocatable */
	img[0x235] = 21;			/* min_alignment */
	put(0x238, 4, 0x7ff);			/* cmdline_size */
	put(0x250, 8, 0xdeadbeef);		/* setup_data: loader-owned */
	put(0x258, 8, PREF);
	put(0x260, 4, INIT_SIZE);
	for (size_t i = 0; i < KERNEL_LEN; i++)
		img[SETUP_SIZE + i] = kbyte(i);
	memset(img + SETUP_SIZE + KERNEL_LEN, 0xee, TAIL_LEN);
}

static int setup(void **state)
{
	make_image();
	memset(err, 0, sizeof(err));
	return gm_init(&gm, RAM);
}

static int teardown(void **state)
{
	gm_destroy(&gm);
	return 0;
}

static int load(const char *cmdline, const uint8_t *initrd, size_t initrd_len,
		size_t len, struct boot_info *bi)
{
	struct boot_images bimg = {
		.kernel = img, .kernel_len = len, .cmdline = cmdline,
		.initrd = initrd, .initrd_len = initrd_len,
	};

	return bzimage_load(&gm, &bimg, bi, err, sizeof(err));
}

static const uint8_t *zp(void)
{
	return gm_ptr(&gm, BOOT_ZERO_PAGE_GPA, 4096);
}

static void assert_kernel_at(uint64_t addr)
{
	const uint8_t *k = gm_ptr(&gm, addr, KERNEL_LEN + TAIL_LEN);

	assert_non_null(k);
	for (size_t i = 0; i < KERNEL_LEN; i++)
		assert_int_equal(k[i], kbyte(i));
	/* The bytes past syssize are not kernel and must not be loaded. */
	for (size_t i = KERNEL_LEN; i < KERNEL_LEN + TAIL_LEN; i++)
		assert_int_equal(k[i], 0);
}

static void test_probe(void **state)
{
	static const uint8_t elf[0x300] = { 0x7f, 'E', 'L', 'F' };

	assert_int_equal(bzimage_probe(img, sizeof(img)), 1);
	assert_int_equal(bzimage_probe(img, 0x205), 0);
	assert_int_equal(bzimage_probe(elf, sizeof(elf)), 0);
	put(0x206, 2, 0x0200);	/* old but still a bzImage: load explains */
	assert_int_equal(bzimage_probe(img, sizeof(img)), 1);
	img[0x202] = 'X';
	assert_int_equal(bzimage_probe(img, sizeof(img)), 0);
}

static void test_load_relocatable(void **state)
{
	const char *cmd = "console=ttyS0 fvmmtest=MARKER123";
	struct boot_info bi;
	const uint8_t *p;

	assert_int_equal(load(cmd, NULL, 0, sizeof(img), &bi), 0);
	assert_int_equal(bi.proto, BOOT_LINUX);
	assert_int_equal(bi.entry, PREF);
	assert_int_equal(bi.esi, BOOT_ZERO_PAGE_GPA);
	assert_kernel_at(PREF);

	p = zp();
	/* The image's header is copied up to its own end and no further. */
	assert_memory_equal(p + 0x1f1, img + 0x1f1, 0x1fa - 0x1f1);
	assert_memory_equal(p + 0x202, "HdrS", 4);
	assert_int_equal(get(p, 0x1fe, 2), 0xAA55);
	assert_int_equal(get(p, 0x206, 2), 0x020f);
	assert_int_equal(get(p, 0x258, 8), PREF);
	assert_int_equal(get(p, 0x260, 4), INIT_SIZE);
	for (unsigned off = 0x26c; off < 0x2d0; off++)
		assert_int_equal(p[off], 0);
	/* Loader-owned fields. */
	assert_int_equal(get(p, 0x1fa, 2), 0xFFFF);
	assert_int_equal(p[0x210], 0xFF);
	assert_int_equal(p[0x211], 0x81);
	assert_int_equal(get(p, 0x224, 2), 0xFE00);
	assert_int_equal(get(p, 0x214, 4), PREF);
	assert_int_equal(get(p, 0x228, 4), BOOT_CMDLINE_GPA);
	assert_int_equal(get(p, 0x218, 4), 0);
	assert_int_equal(get(p, 0x21c, 4), 0);
	assert_int_equal(get(p, 0x250, 8), 0);
	assert_string_equal(gm_ptr(&gm, BOOT_CMDLINE_GPA, strlen(cmd) + 1), cmd);
}

static void test_e820(void **state)
{
	struct e820_entry want[E820_MAX], got;
	struct boot_info bi;
	const uint8_t *p;
	int n;

	assert_int_equal(load(NULL, NULL, 0, sizeof(img), &bi), 0);
	p = zp();
	n = e820_build(&gm, want, E820_MAX);
	assert_int_equal(n, 3);
	assert_int_equal(p[0x1e8], n);
	for (int i = 0; i < n; i++) {
		memcpy(&got, p + 0x2d0 + 20 * i, sizeof(got));
		assert_int_equal(got.addr, want[i].addr);
		assert_int_equal(got.size, want[i].size);
		assert_int_equal(got.type, want[i].type);
	}
	/* The layout itself: low RAM, EBDA/BIOS hole, RAM from 1 MiB. */
	memcpy(&got, p + 0x2d0, sizeof(got));
	assert_true(got.addr == 0 && got.size == 0x9FC00 && got.type == E820_RAM);
	memcpy(&got, p + 0x2d0 + 20, sizeof(got));
	assert_true(got.addr == 0x9FC00 && got.type == E820_RESERVED);
	memcpy(&got, p + 0x2d0 + 40, sizeof(got));
	assert_true(got.addr == MiB && got.size == RAM - MiB &&
		    got.type == E820_RAM);
	/* An empty command line is still a NUL-terminated string. */
	assert_int_equal(*(const char *)gm_ptr(&gm, BOOT_CMDLINE_GPA, 1), 0);
}

static void test_load_fixed(void **state)
{
	struct boot_info bi;

	img[0x234] = 0;
	assert_int_equal(load("", NULL, 0, sizeof(img), &bi), 0);
	assert_int_equal(bi.entry, 0x100000);
	assert_int_equal(get(zp(), 0x214, 4), 0x100000);
	assert_kernel_at(0x100000);
}

static void test_pref_does_not_fit(void **state)
{
	struct boot_info bi;

	/* 48 MiB + 32 MiB is past 64 MiB of RAM: fall back to 1 MiB. */
	put(0x258, 8, 0x3000000);
	put(0x260, 4, 0x2000000);
	assert_int_equal(load("", NULL, 0, sizeof(img), &bi), 0);
	assert_int_equal(bi.entry, 0x100000);
	assert_kernel_at(0x100000);
}

static void test_setup_sects_zero(void **state)
{
	struct boot_info bi;

	img[0x1f1] = 0;		/* means 4, which is what the image has */
	assert_int_equal(load("", NULL, 0, sizeof(img), &bi), 0);
	assert_kernel_at(PREF);
	assert_int_equal(zp()[0x1f1], 0);
}

static void test_protocol_2_06(void **state)
{
	struct boot_info bi;

	/* No pref_address/init_size yet: relocatable loads at 1 MiB. */
	put(0x206, 2, 0x0206);
	img[0x201] = 0x3a;	/* header ends at 0x23c */
	assert_int_equal(load("x", NULL, 0, sizeof(img), &bi), 0);
	assert_int_equal(bi.entry, 0x100000);
	assert_kernel_at(0x100000);
	/* pref_address in the image is beyond this header: not copied. */
	assert_int_equal(get(zp(), 0x258, 8), 0);
}

static void test_initrd(void **state)
{
	static uint8_t rd[MiB + 100];
	struct boot_info bi;
	uint64_t addr, size;
	const uint8_t *p;

	for (size_t i = 0; i < sizeof(rd); i++)
		rd[i] = i * 13;
	put(0x22c, 4, 0x1ffffff);	/* initrd_addr_max: 32 MiB - 1 */
	assert_int_equal(load("", rd, sizeof(rd), sizeof(img), &bi), 0);
	p = zp();
	addr = get(p, 0x218, 4);
	size = get(p, 0x21c, 4);
	assert_int_equal(size, sizeof(rd));
	assert_true(IS_ALIGNED(addr, 4096));
	assert_true(addr + size <= 0x2000000);
	assert_true(addr >= PREF + INIT_SIZE);
	assert_memory_equal(gm_ptr(&gm, addr, size), rd, size);
}

static void test_initrd_too_big(void **state)
{
	static uint8_t rd[60 * MiB];
	struct boot_info bi;

	assert_int_equal(load("", rd, sizeof(rd), sizeof(img), &bi), -E2BIG);
	assert_non_null(strstr(err, "initrd"));
	/* Fits in RAM, but not below initrd_addr_max. */
	put(0x22c, 4, 0x017fffff);
	assert_int_equal(load("", rd, 8 * MiB, sizeof(img), &bi), -E2BIG);
	assert_non_null(strstr(err, "initrd"));
}

static void test_cmdline_limit(void **state)
{
	struct boot_info bi;

	put(0x238, 4, 16);
	assert_int_equal(load("0123456789abcdef", NULL, 0, sizeof(img), &bi), 0);
	assert_int_equal(load("0123456789abcdefg", NULL, 0, sizeof(img), &bi),
			 -E2BIG);
	assert_non_null(strstr(err, "command line is 17 bytes"));
}

static void test_kernel_too_big(void **state)
{
	struct boot_info bi;

	put(0x260, 4, 0x8000000);	/* init_size 128 MiB > 64 MiB RAM */
	assert_int_equal(load("", NULL, 0, sizeof(img), &bi), -E2BIG);
	assert_non_null(strstr(err, "kernel needs"));
}

/* One broken field each; the load must fail cleanly and write nothing. */
struct bad_case {
	const char *name;
	unsigned off, size;
	uint64_t val;
	size_t len;		/* file length, 0 = whole image */
	const char *msg;
};

static const struct bad_case bad_cases[] = {
	{ "short file", 0, 0, 0, 0x100, "too short" },
	{ "empty file", 0, 0, 0, 1, "too short" },
	{ "boot flag", 0x1fe, 2, 0x55AA, 0, "0xAA55" },
	{ "magic", 0x202, 4, 0x53726447, 0, "HdrS" },
	{ "old version", 0x206, 2, 0x0205, 0, "too old" },
	{ "setup past EOF", 0x1f1, 1, 200, 0, "past the end" },
	{ "setup is the file", 0x1f1, 1, 4, SETUP_SIZE, "past the end" },
	{ "zImage", 0x211, 1, 0x00, 0, "LOADED_HIGH" },
	{ "syssize past EOF", 0x1f4, 4, KERNEL_LEN / 16 + 100, 0, "syssize" },
	{ "syssize zero", 0x1f4, 4, 0, 0, "syssize" },
	{ "syssize huge", 0x1f4, 4, 0xffffffff, 0, "syssize" },
	{ "header too short", 0x201, 1, 0x30, 0, "setup header ends" },
	{ "header too long", 0x201, 1, 0xff, 0, "setup header ends" },
	{ "alignment not pow2", 0x230, 4, 0x300000, 0, "kernel_alignment" },
	{ "alignment zero", 0x230, 4, 0, 0, "kernel_alignment" },
	{ "min_alignment", 0x235, 1, 22, 0, "min_alignment" },
	{ "min_alignment huge", 0x235, 1, 255, 0, "min_alignment" },
	{ "pref misaligned", 0x258, 8, PREF + 0x1000, 0, "pref_address" },
	{ "pref low", 0x258, 8, 0, 0, "pref_address" },
	{ "init_size small", 0x260, 4, 0x1000, 0, "init_size" },
};

static void test_bad_images(void **state)
{
	static uint8_t zeros[4096];
	struct boot_info bi = { .entry = 0x1234 };
	int rc;

	for (size_t i = 0; i < ARRAY_SIZE(bad_cases); i++) {
		const struct bad_case *c = &bad_cases[i];
		size_t len = c->len ? c->len : sizeof(img);

		make_image();
		if (c->size)
			put(c->off, c->size, c->val);
		err[0] = 0;
		rc = load("console=ttyS0", NULL, 0, len, &bi);
		if (rc != -ENOEXEC || !strstr(err, c->msg) || strchr(err, '\n'))
			fail_msg("case '%s': rc %d, err '%s'", c->name, rc, err);
		assert_int_equal(bi.entry, 0x1234);
		assert_memory_equal(zp(), zeros, sizeof(zeros));
		assert_int_equal(*(const uint8_t *)gm_ptr(&gm, PREF, 1), 0);
	}
}

/* Random header corruption: any outcome but a crash (ASan watches). */
static void test_random_headers(void **state)
{
	static uint8_t rd[4096];
	uint32_t seed = 12345;
	struct boot_info bi;

	for (int iter = 0; iter < 20000; iter++) {
		int flips = 1 + iter % 6;
		size_t len = sizeof(img);

		make_image();
		for (int k = 0; k < flips; k++) {
			seed = seed * 1103515245 + 12345;
			img[0x1f1 + (seed >> 8) % (0x270 - 0x1f1)] = seed >> 24;
		}
		if (iter % 7 == 0)
			len = (seed >> 4) % sizeof(img);
		load("console=ttyS0", iter & 1 ? rd : NULL, sizeof(rd), len, &bi);
	}
}

static void test_boot_load_dispatch(void **state)
{
	struct boot_images bimg = { .kernel = img, .kernel_len = sizeof(img) };
	struct boot_info bi;

	assert_int_equal(boot_load(&gm, &bimg, &bi, err, sizeof(err)), 0);
	assert_int_equal(bi.proto, BOOT_LINUX);
	assert_int_equal(bi.esi, BOOT_ZERO_PAGE_GPA);
	/* A bzImage with a bad version gets the bzImage reason. */
	put(0x206, 2, 0x0204);
	assert_int_equal(boot_load(&gm, &bimg, &bi, err, sizeof(err)), -ENOEXEC);
	assert_non_null(strstr(err, "2.04"));
}

/*
 * Host-side decompression: a bzImage whose payload is an xz-compressed
 * vmlinux ELF.  The test compresses with the host's liblzma (opened the way
 * the loader opens it) and skips when there is none.
 */
#define VML_ENTRY	0x1000040ULL
#define VML_SEG0	0x1000000ULL	/* text: 0x2000 bytes in the file */
#define VML_SEG1	0x1400000ULL	/* data: 0x100 in the file, 0x3000 bss */
#define VML_LEN		0x4000
#define PAYLOAD_OFF	0x200		/* inside the protected-mode part */
#define TRAMP		(BOOT_ZERO_PAGE_GPA + 0x1000)
#define PGT		0x10000ULL

typedef int (*xz_encode_fn)(uint32_t preset, int check, const void *alloc,
			    const uint8_t *in, size_t in_size, uint8_t *out,
			    size_t *out_pos, size_t out_size);

static uint8_t vml[VML_LEN];
static uint8_t *dimg;		/* the bzImage with the xz payload */
static size_t dimg_len;

static uint8_t vbyte(size_t i)
{
	return (uint8_t)(i * 11 + 3);
}

/* A minimal vmlinux: two PT_LOADs, one with bss, and a PT_NOTE. */
static void make_vmlinux(uint64_t entry, uint64_t seg1_paddr)
{
	Elf64_Ehdr eh = {
		.e_ident = { ELFMAG0, ELFMAG1, ELFMAG2, ELFMAG3, ELFCLASS64,
			     ELFDATA2LSB, EV_CURRENT },
		.e_type = ET_EXEC, .e_machine = EM_X86_64,
		.e_version = EV_CURRENT, .e_entry = entry,
		.e_phoff = sizeof(Elf64_Ehdr), .e_ehsize = sizeof(Elf64_Ehdr),
		.e_phentsize = sizeof(Elf64_Phdr), .e_phnum = 3,
	};
	Elf64_Phdr ph[3] = {
		{ .p_type = PT_LOAD, .p_offset = 0x1000, .p_paddr = VML_SEG0,
		  .p_vaddr = 0xffffffff81000000ULL, .p_filesz = 0x2000,
		  .p_memsz = 0x2000 },
		{ .p_type = PT_LOAD, .p_offset = 0x3000, .p_paddr = seg1_paddr,
		  .p_filesz = 0x100, .p_memsz = 0x3100 },
		{ .p_type = PT_NOTE, .p_offset = 0x3800, .p_paddr = 0x100,
		  .p_filesz = 0x10, .p_memsz = 0x10 },
	};

	for (size_t i = 0; i < sizeof(vml); i++)
		vml[i] = vbyte(i);
	memcpy(vml, &eh, sizeof(eh));
	memcpy(vml + sizeof(eh), ph, sizeof(ph));
}

/* img (protocol 2.15) with vml compressed as its payload; 0 = no liblzma. */
static int make_direct_image(const uint8_t *payload, size_t payload_len,
			     uint32_t unpacked_len)
{
	static xz_encode_fn enc;
	size_t xz_len = 0, pm_len;
	uint8_t *xz;

	if (!enc) {
		void *lib = dlopen("liblzma.so.5", RTLD_NOW | RTLD_LOCAL);

		if (!lib)
			return 0;
		*(void **)&enc = dlsym(lib, "lzma_easy_buffer_encode");
		if (!enc)
			return 0;
	}
	xz = malloc(payload_len + 4096);
	assert_non_null(xz);
	assert_int_equal(enc(0, 1 /* CRC32 */, NULL, payload, payload_len, xz,
			     &xz_len, payload_len + 4096), 0);
	pm_len = ALIGN_UP(PAYLOAD_OFF + xz_len + 4, 16);
	free(dimg);
	dimg_len = SETUP_SIZE + pm_len;
	dimg = calloc(1, dimg_len);
	assert_non_null(dimg);
	memcpy(dimg, img, SETUP_SIZE);
	le_write(dimg + 0x1f4, 4, pm_len / 16);
	le_write(dimg + 0x236, 2, 0x7f);	/* xloadflags: KERNEL_64, ... */
	le_write(dimg + 0x248, 4, PAYLOAD_OFF);
	le_write(dimg + 0x24c, 4, xz_len + 4);
	le_write(dimg + 0x260, 4, 0x100000 + pm_len);	/* init_size */
	memset(dimg + SETUP_SIZE, 0x90, PAYLOAD_OFF);	/* "decompressor" */
	memcpy(dimg + SETUP_SIZE + PAYLOAD_OFF, xz, xz_len);
	le_write(dimg + SETUP_SIZE + PAYLOAD_OFF + xz_len, 4, unpacked_len);
	free(xz);
	return 1;
}

static int dload(const char *cmdline, const uint8_t *initrd, size_t initrd_len,
		 struct boot_info *bi)
{
	struct boot_images bimg = {
		.kernel = dimg, .kernel_len = dimg_len, .cmdline = cmdline,
		.initrd = initrd, .initrd_len = initrd_len,
	};

	return bzimage_load(&gm, &bimg, bi, err, sizeof(err));
}

static int direct_teardown(void **state)
{
	free(dimg);
	dimg = NULL;
	return teardown(state);
}

#define NEED_LZMA(ok) do { if (!(ok)) { skip(); return; } } while (0)

static void test_direct_load(void **state)
{
	static uint8_t rd[3 * 4096];
	const uint8_t *k, *p;
	struct boot_info bi;
	uint64_t pte;

	make_vmlinux(VML_ENTRY, VML_SEG1);
	NEED_LZMA(make_direct_image(vml, sizeof(vml), sizeof(vml)));
	assert_int_equal(dload("console=ttyS0", rd, sizeof(rd), &bi), 0);
	assert_int_equal(bi.proto, BOOT_LINUX);
	assert_int_equal(bi.entry, TRAMP);
	assert_int_equal(bi.esi, BOOT_ZERO_PAGE_GPA);

	/* Segments at their physical addresses, bss and gaps zero. */
	k = gm_ptr(&gm, VML_SEG0, 0x2000);
	for (size_t i = 0; i < 0x2000; i++)
		assert_int_equal(k[i], vbyte(0x1000 + i));
	k = gm_ptr(&gm, VML_SEG1, 0x3100);
	for (size_t i = 0; i < 0x3100; i++)
		assert_int_equal(k[i], i < 0x100 ? vbyte(0x3000 + i) : 0);
	assert_int_equal(*(const uint8_t *)gm_ptr(&gm, VML_SEG0 + 0x2000, 1), 0);
	/* pref_address holds vmlinux text, not the compressed image. */
	assert_int_equal(*(const uint8_t *)gm_ptr(&gm, PREF + 0x10, 1),
			 vbyte(0x1010));

	/* Same zero page as the in-guest path. */
	p = zp();
	assert_int_equal(p[0x210], 0xFF);
	assert_int_equal(get(p, 0x228, 4), BOOT_CMDLINE_GPA);
	assert_int_equal(p[0x1e8], 3);
	assert_int_equal(get(p, 0x21c, 4), sizeof(rd));
	assert_true(get(p, 0x218, 4) >= VML_SEG1 + 0x3100);

	/* Identity map: PML4 -> PDPT -> PD, 2 MiB pages, up to 4 GiB. */
	assert_int_equal(get(gm_ptr(&gm, PGT, 8), 0, 8), (PGT + 0x1000) | 3);
	assert_int_equal(get(gm_ptr(&gm, PGT + 0x1000, 32), 24, 8),
			 (PGT + 0x5000) | 3);
	pte = get(gm_ptr(&gm, PGT + 0x2000, 4096), 8 * 8, 8);
	assert_int_equal(pte, VML_SEG0 | 0x83);
	pte = get(gm_ptr(&gm, PGT + 0x5000, 4096), 511 * 8, 8);
	assert_int_equal(pte, (4 * GiB - 2 * MiB) | 0x83);

	/* Trampoline: GDT with __BOOT_CS (64-bit) and __BOOT_DS; the entry. */
	k = gm_ptr(&gm, TRAMP, 0x100);
	assert_int_equal(get(k, 0x90, 8), 0x00af9a000000ffffULL);
	assert_int_equal(get(k, 0x98, 8), 0x00cf92000000ffffULL);
	assert_non_null(memmem(k, 0x80, "\x48\xb8\x40\x00\x00\x01\0\0\0\0", 10));
	assert_int_equal(k[0], 0x0f);	/* mov %cr4, %eax */
}

static void test_direct_trailing_relocs(void **state)
{
	static uint8_t buf[VML_LEN + 512];
	struct boot_info bi;

	/* Real payloads carry vmlinux.relocs after the ELF: ignored. */
	make_vmlinux(VML_ENTRY, VML_SEG1);
	memcpy(buf, vml, sizeof(vml));
	memset(buf + sizeof(vml), 0xab, 512);
	NEED_LZMA(make_direct_image(buf, sizeof(buf), sizeof(buf)));
	assert_int_equal(dload("", NULL, 0, &bi), 0);
	assert_int_equal(bi.entry, TRAMP);
}

static void test_direct_fallback(void **state)
{
	struct boot_info bi;

	make_vmlinux(VML_ENTRY, VML_SEG1);
	NEED_LZMA(make_direct_image(vml, sizeof(vml), sizeof(vml)));
	/* No 64-bit entry: the kernel decompresses itself. */
	le_write(dimg + 0x236, 2, 0);
	assert_int_equal(dload("", NULL, 0, &bi), 0);
	assert_int_equal(bi.entry, PREF);
	/* Not xz (say gzip): same. */
	le_write(dimg + 0x236, 2, 1);
	dimg[SETUP_SIZE + PAYLOAD_OFF] = 0x1f;
	assert_int_equal(dload("", NULL, 0, &bi), 0);
	assert_int_equal(bi.entry, PREF);
	assert_int_equal(*(const uint8_t *)gm_ptr(&gm, PREF, 1), 0x90);
}

static void test_direct_bad(void **state)
{
	static uint8_t zeros[4096];
	struct boot_info bi = { .entry = 0x1234 };

	make_vmlinux(VML_ENTRY, VML_SEG1);
	NEED_LZMA(make_direct_image(vml, sizeof(vml), sizeof(vml)));
	/* Corrupt stream. */
	dimg[SETUP_SIZE + PAYLOAD_OFF + 40] ^= 0xff;
	assert_int_equal(dload("", NULL, 0, &bi), -ENOEXEC);
	assert_non_null(strstr(err, "corrupt"));
	/* Appended size disagrees with the stream. */
	assert_true(make_direct_image(vml, sizeof(vml), sizeof(vml) - 1));
	assert_int_equal(dload("", NULL, 0, &bi), -ENOEXEC);
	assert_non_null(strstr(err, "corrupt"));
	/* Claims more than guest RAM. */
	assert_true(make_direct_image(vml, sizeof(vml), 0x7fffffff));
	assert_int_equal(dload("", NULL, 0, &bi), -E2BIG);
	/* Entry outside the loaded segments. */
	make_vmlinux(0x2000000, VML_SEG1);
	assert_true(make_direct_image(vml, sizeof(vml), sizeof(vml)));
	assert_int_equal(dload("", NULL, 0, &bi), -ENOEXEC);
	assert_non_null(strstr(err, "vmlinux ELF"));
	/* A segment past the end of RAM. */
	make_vmlinux(VML_ENTRY, RAM - 0x1000);
	assert_true(make_direct_image(vml, sizeof(vml), sizeof(vml)));
	assert_int_equal(dload("", NULL, 0, &bi), -E2BIG);
	assert_non_null(strstr(err, "outside guest low RAM"));
	/* Not an ELF at all. */
	memset(vml, 0x41, 64);
	assert_true(make_direct_image(vml, sizeof(vml), sizeof(vml)));
	assert_int_equal(dload("", NULL, 0, &bi), -ENOEXEC);
	/* None of this wrote anything. */
	assert_int_equal(bi.entry, 0x1234);
	assert_memory_equal(zp(), zeros, sizeof(zeros));
	assert_memory_equal(gm_ptr(&gm, TRAMP, 4096), zeros, sizeof(zeros));
}

/* Random corruption of the compressed payload and the ELF inside. */
static void test_direct_random(void **state)
{
	uint32_t seed = 777;
	struct boot_info bi;

	make_vmlinux(VML_ENTRY, VML_SEG1);
	NEED_LZMA(make_direct_image(vml, sizeof(vml), sizeof(vml)));
	for (int iter = 0; iter < 300; iter++) {
		make_vmlinux(VML_ENTRY, VML_SEG1);
		for (int k = 0; k < 4; k++) {
			seed = seed * 1103515245 + 12345;
			vml[(seed >> 8) % 0x200] = seed >> 24;
		}
		assert_true(make_direct_image(vml, sizeof(vml), sizeof(vml)));
		if (iter & 1) {
			seed = seed * 1103515245 + 12345;
			dimg[SETUP_SIZE + PAYLOAD_OFF + (seed >> 8) % 64] ^= 1;
		}
		dload("x", NULL, 0, &bi);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
		T(test_probe),
		T(test_load_relocatable),
		T(test_e820),
		T(test_load_fixed),
		T(test_pref_does_not_fit),
		T(test_setup_sects_zero),
		T(test_protocol_2_06),
		T(test_initrd),
		T(test_initrd_too_big),
		T(test_cmdline_limit),
		T(test_kernel_too_big),
		T(test_bad_images),
		T(test_random_headers),
		T(test_boot_load_dispatch),
#define D(f) cmocka_unit_test_setup_teardown(f, setup, direct_teardown)
		D(test_direct_load),
		D(test_direct_trailing_relocs),
		D(test_direct_fallback),
		D(test_direct_bad),
		D(test_direct_random),
#undef D
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
