// SPDX-License-Identifier: MIT
/*
 * PVH ELF probing and loading (src/arch/x86/pvh.c, boot.c).  Images are built
 * in memory from <elf.h>'s structures; what the guest receives is read back
 * with the layouts of Xen's public start_info.h, not the implementation's.
 */
#include <elf.h>
#include <stdlib.h>
#include <sys/wait.h>

#include "helpers.h"

#include "arch/x86/boot.h"
#include "core/guest_mem.h"
#include "core/util.h"

#define RAM		(32 * MiB)
#define PHOFF		64
#define NOTE_OFF	0x200
#define NOTE_LEN	20
#define CODE_OFF	0x400
#define CODE_LEN	0x100
#define FILE_LEN	0x500
#define LOAD_ADDR	0x100000ULL
#define BSS_END		(LOAD_ADDR + 0x3000)
#define ENTRY		0x100040U

struct xen_start_info {		/* arch-x86/hvm/start_info.h, version 1 */
	uint32_t magic, version, flags, nr_modules;
	uint64_t modlist_paddr, cmdline_paddr, rsdp_paddr, memmap_paddr;
	uint32_t memmap_entries, reserved;
} __attribute__((packed));

struct xen_mod {
	uint64_t paddr, size, cmdline_paddr, reserved;
} __attribute__((packed));

struct xen_memmap {
	uint64_t addr, size;
	uint32_t type, reserved;
} __attribute__((packed));

struct seg {
	uint32_t type;
	uint64_t offset, paddr, filesz, memsz;
};

struct elf_opts {
	bool is64;
	unsigned nseg;
	struct seg seg[4];
	size_t len;
	unsigned phnum;		/* e_phnum written; nseg when 0 */
	uint64_t phoff;		/* PHOFF when 0 */
};

static struct elf_opts pvh_opts(bool is64)
{
	return (struct elf_opts){
		.is64 = is64, .nseg = 2, .len = FILE_LEN,
		.seg = {
			{ PT_NOTE, NOTE_OFF, 0, NOTE_LEN, NOTE_LEN },
			{ PT_LOAD, CODE_OFF, LOAD_ADDR, CODE_LEN,
			  BSS_END - LOAD_ADDR },
		},
	};
}

static uint8_t code_byte(size_t i)
{
	return i * 13 + 1;
}

static void put_note(uint8_t *p, uint32_t namesz, uint32_t descsz,
		     uint32_t type, const char *name, const void *desc)
{
	le_write(p, 4, namesz);
	le_write(p + 4, 4, descsz);
	le_write(p + 8, 4, type);
	memcpy(p + 12, name, namesz);
	memcpy(p + 12 + ALIGN_UP(namesz, 4), desc, descsz);
}

/* Exact-size heap buffer, so ASan sees any read past the file. */
static uint8_t *mk_elf(const struct elf_opts *o)
{
	uint8_t *b = calloc(1, o->len ? o->len : 1);
	unsigned phnum = o->phnum ? o->phnum : o->nseg;
	uint64_t phoff = o->phoff ? o->phoff : PHOFF;
	uint8_t tmp[FILE_LEN] = { 0 };
	uint32_t entry = ENTRY;

	assert_non_null(b);
	if (o->is64) {
		Elf64_Ehdr h = {
			.e_type = ET_EXEC, .e_machine = EM_X86_64,
			.e_version = EV_CURRENT, .e_entry = 0xffffffff81000000ULL,
			.e_phoff = phoff, .e_ehsize = sizeof(Elf64_Ehdr),
			.e_phentsize = sizeof(Elf64_Phdr), .e_phnum = phnum,
		};

		memcpy(h.e_ident, ELFMAG, SELFMAG);
		h.e_ident[EI_CLASS] = ELFCLASS64;
		h.e_ident[EI_DATA] = ELFDATA2LSB;
		h.e_ident[EI_VERSION] = EV_CURRENT;
		memcpy(tmp, &h, sizeof(h));
		for (unsigned i = 0; i < o->nseg; i++) {
			Elf64_Phdr p = {
				.p_type = o->seg[i].type, .p_flags = PF_R | PF_X,
				.p_offset = o->seg[i].offset,
				.p_vaddr = o->seg[i].paddr + 0xffffffff80000000ULL,
				.p_paddr = o->seg[i].paddr,
				.p_filesz = o->seg[i].filesz,
				.p_memsz = o->seg[i].memsz, .p_align = 4,
			};

			memcpy(tmp + PHOFF + i * sizeof(p), &p, sizeof(p));
		}
	} else {
		Elf32_Ehdr h = {
			.e_type = ET_EXEC, .e_machine = EM_386,
			.e_version = EV_CURRENT, .e_entry = ENTRY,
			.e_phoff = phoff, .e_ehsize = sizeof(Elf32_Ehdr),
			.e_phentsize = sizeof(Elf32_Phdr), .e_phnum = phnum,
		};

		memcpy(h.e_ident, ELFMAG, SELFMAG);
		h.e_ident[EI_CLASS] = ELFCLASS32;
		h.e_ident[EI_DATA] = ELFDATA2LSB;
		h.e_ident[EI_VERSION] = EV_CURRENT;
		memcpy(tmp, &h, sizeof(h));
		for (unsigned i = 0; i < o->nseg; i++) {
			Elf32_Phdr p = {
				.p_type = o->seg[i].type, .p_flags = PF_R | PF_X,
				.p_offset = o->seg[i].offset,
				.p_vaddr = o->seg[i].paddr,
				.p_paddr = o->seg[i].paddr,
				.p_filesz = o->seg[i].filesz,
				.p_memsz = o->seg[i].memsz, .p_align = 4,
			};

			memcpy(tmp + PHOFF + i * sizeof(p), &p, sizeof(p));
		}
	}
	put_note(tmp + NOTE_OFF, 4, 4, 18, "Xen", &entry);
	for (size_t i = 0; i < CODE_LEN; i++)
		tmp[CODE_OFF + i] = code_byte(i);
	memcpy(b, tmp, MIN(o->len, sizeof(tmp)));
	return b;
}

static int setup(void **state)
{
	struct guest_mem *gm = calloc(1, sizeof(*gm));

	if (!gm || gm_init(gm, RAM))
		return -1;
	*state = gm;
	return 0;
}

static int teardown(void **state)
{
	gm_destroy(*state);
	free(*state);
	return 0;
}

/* ---- probe ---- */

static bool probe_opts(const struct elf_opts *o)
{
	uint8_t *b = mk_elf(o);
	int r = pvh_probe(b, o->len);

	free(b);
	return r == 1;
}

static void test_probe_positive(void **state)
{
	struct elf_opts o;

	o = pvh_opts(false);
	assert_true(probe_opts(&o));
	o = pvh_opts(true);
	assert_true(probe_opts(&o));
}

static void test_probe_negative(void **state)
{
	struct elf_opts o = pvh_opts(true);
	uint8_t *b;

	/* No PT_NOTE segment at all. */
	o.seg[0] = o.seg[1];
	o.nseg = 1;
	assert_false(probe_opts(&o));

	/* Tampered images: each must be refused. */
	for (int what = 0; what < 9; what++) {
		o = pvh_opts(what & 1);
		b = mk_elf(&o);
		switch (what) {
		case 0: b[NOTE_OFF + 8] = 17; break;		/* other note type */
		case 1: b[NOTE_OFF + 12] = 'G'; break;		/* "Gen" */
		case 2: b[0] = 0x7e; break;			/* bad magic */
		case 3: b[EI_DATA] = ELFDATA2MSB; break;
		case 4: b[EI_CLASS] = 3; break;
		case 5: b[NOTE_OFF] = 5; break;			/* namesz 5 */
		case 6: b[NOTE_OFF + 4] = 0x40; break;		/* desc past segment */
		case 7: b[NOTE_OFF + 4] = 2; break;		/* desc too short */
		case 8: b[NOTE_OFF] = 0xff; b[NOTE_OFF + 3] = 0xff; break;
		}
		if (pvh_probe(b, o.len))
			fail_msg("tampered image %d accepted", what);
		free(b);
	}
}

static void test_probe_truncated_and_tiny(void **state)
{
	struct elf_opts o = pvh_opts(true);
	uint8_t *full = mk_elf(&o);

	/* Every prefix that cuts the note or headers is refused, no overread. */
	for (size_t len = 0; len < NOTE_OFF + NOTE_LEN; len++) {
		uint8_t *b = malloc(len ? len : 1);

		memcpy(b, full, len);
		if (pvh_probe(b, len))
			fail_msg("prefix of %zu bytes accepted", len);
		free(b);
	}
	free(full);
	assert_false(pvh_probe((const uint8_t *)"", 0));
}

static void test_probe_bad_program_headers(void **state)
{
	struct elf_opts o;

	/* phnum pointing past the end of the file. */
	o = pvh_opts(true);
	o.phnum = 1000;
	assert_false(probe_opts(&o));
	o = pvh_opts(false);
	o.phnum = 0xffff;
	assert_false(probe_opts(&o));
	/* phoff past the end, and one that would wrap. */
	o = pvh_opts(true);
	o.phoff = FILE_LEN - 8;
	assert_false(probe_opts(&o));
	o.phoff = ~0ULL - 16;
	assert_false(probe_opts(&o));
	/* Note segment extends past the file. */
	o = pvh_opts(true);
	o.seg[0].filesz = FILE_LEN;
	assert_false(probe_opts(&o));
	o.seg[0].offset = ~0ULL - 4;
	o.seg[0].filesz = 20;
	assert_false(probe_opts(&o));
}

static void test_probe_more_notes(void **state)
{
	struct elf_opts o = pvh_opts(true);
	uint8_t *b, gnu_desc[16] = { 0 };
	uint64_t entry64 = 0x0000000001234567ULL;
	struct guest_mem *gm = *state;
	struct boot_info bi;
	struct boot_images img;
	char err[256] = "";

	/* A GNU build-id note first, then the Xen note with an 8-byte desc. */
	o.seg[0].filesz = 16 + 16 + 12 + 4 + 8;
	b = mk_elf(&o);
	put_note(b + NOTE_OFF, 4, 16, 3, "GNU", gnu_desc);
	put_note(b + NOTE_OFF + 32, 4, 8, 18, "Xen", &entry64);
	assert_true(pvh_probe(b, o.len));
	img = (struct boot_images){ .kernel = b, .kernel_len = o.len };
	assert_int_equal(pvh_load(gm, &img, &bi, err, sizeof(err)), 0);
	assert_int_equal(bi.entry, 0x01234567);
	free(b);
}

/* ---- load ---- */

static void read_gm(struct guest_mem *gm, uint64_t gpa, void *buf, size_t len)
{
	assert_int_equal(gm_read(gm, gpa, buf, len), 0);
}

static void check_start_info(struct guest_mem *gm, const struct boot_info *bi,
			     const char *cmdline, struct xen_start_info *si)
{
	struct e820_entry e820[E820_MAX];
	char buf[256];
	int n;

	assert_int_equal(bi->proto, BOOT_PVH);
	assert_int_equal(bi->entry, ENTRY);
	assert_int_equal(bi->ebx, BOOT_START_INFO_GPA);
	read_gm(gm, bi->ebx, si, sizeof(*si));
	assert_int_equal(si->magic, 0x336ec578);
	assert_int_equal(si->version, 1);
	assert_int_equal(si->rsdp_paddr, 0);	/* no ACPI: MP table instead */

	/* Command line, NUL-terminated. */
	assert_true(si->cmdline_paddr != 0);
	read_gm(gm, si->cmdline_paddr, buf, strlen(cmdline) + 1);
	assert_string_equal(buf, cmdline);

	/* Memory map: the same entries e820_build gives, in PVH layout. */
	n = e820_build(gm, e820, E820_MAX);
	assert_true(n > 0);
	assert_int_equal(si->memmap_entries, n);
	for (int i = 0; i < n; i++) {
		struct xen_memmap m;

		read_gm(gm, si->memmap_paddr + i * sizeof(m), &m, sizeof(m));
		assert_int_equal(m.addr, e820[i].addr);
		assert_int_equal(m.size, e820[i].size);
		assert_int_equal(m.type, e820[i].type);
		assert_int_equal(m.reserved, 0);
	}
}

static void check_segment(struct guest_mem *gm)
{
	uint8_t got[BSS_END - LOAD_ADDR + 16];

	read_gm(gm, LOAD_ADDR, got, sizeof(got));
	for (size_t i = 0; i < CODE_LEN; i++)
		assert_int_equal(got[i], code_byte(i));
	/* bss zero-filled up to memsz, and not one byte further. */
	for (size_t i = CODE_LEN; i < BSS_END - LOAD_ADDR; i++)
		if (got[i])
			fail_msg("bss byte %#zx is %#x", i, got[i]);
	assert_int_equal(got[BSS_END - LOAD_ADDR], 0xaa);
}

static void load_ok(struct guest_mem *gm, bool is64)
{
	struct elf_opts o = pvh_opts(is64);
	uint8_t *b = mk_elf(&o), junk[0x4000];
	const char *cmdline = "console=ttyS0 poweroff";
	struct boot_images img = {
		.kernel = b, .kernel_len = o.len, .cmdline = cmdline,
	};
	struct xen_start_info si;
	struct boot_info bi;
	char err[256] = "";

	/* Dirty RAM first, as a previous boot would have left it. */
	memset(junk, 0xaa, sizeof(junk));
	assert_int_equal(gm_write(gm, LOAD_ADDR, junk, sizeof(junk)), 0);

	assert_int_equal(pvh_load(gm, &img, &bi, err, sizeof(err)), 0);
	check_segment(gm);
	check_start_info(gm, &bi, cmdline, &si);
	assert_int_equal(si.nr_modules, 0);
	free(b);
}

static void test_load_elf64(void **state)
{
	load_ok(*state, true);
}

static void test_load_elf32(void **state)
{
	load_ok(*state, false);
}

static void test_load_marks_dirty(void **state)
{
	struct guest_mem *gm = *state;
	struct elf_opts o = pvh_opts(true);
	uint8_t *b = mk_elf(&o);
	struct boot_images img = { .kernel = b, .kernel_len = o.len };
	size_t n = (RAM / GM_PAGE_SIZE) / (8 * sizeof(unsigned long));
	unsigned long *bm = calloc(n, sizeof(*bm));
	uint64_t si = BOOT_START_INFO_GPA / GM_PAGE_SIZE;
	struct boot_info bi;
	char err[256];

	/* Pages the VMM wrote must reach a migration's dirty set. */
	assert_int_equal(pvh_load(gm, &img, &bi, err, sizeof(err)), 0);
	gm_dirty_fetch_or(gm, 0, bm);
	for (uint64_t p = LOAD_ADDR / GM_PAGE_SIZE; p < BSS_END / GM_PAGE_SIZE; p++)
		assert_true(bm[p / (8 * sizeof(long))] >> (p % (8 * sizeof(long))) & 1);
	assert_true(bm[si / (8 * sizeof(long))] >> (si % (8 * sizeof(long))) & 1);
	free(bm);
	free(b);
}

static void test_load_null_cmdline(void **state)
{
	struct guest_mem *gm = *state;
	struct elf_opts o = pvh_opts(true);
	uint8_t *b = mk_elf(&o);
	struct boot_images img = { .kernel = b, .kernel_len = o.len };
	struct xen_start_info si;
	struct boot_info bi;
	char err[256] = "";

	assert_int_equal(gm_write(gm, BOOT_CMDLINE_GPA, "stale", 6), 0);
	assert_int_equal(pvh_load(gm, &img, &bi, err, sizeof(err)), 0);
	check_start_info(gm, &bi, "", &si);
	free(b);
}

static void test_load_initrd(void **state)
{
	struct guest_mem *gm = *state;
	struct elf_opts o = pvh_opts(false);
	uint8_t *b, *rd, *got;
	const size_t rd_len = 3 * GM_PAGE_SIZE + 5;
	struct boot_images img;
	struct xen_start_info si;
	struct xen_mod mod;
	struct boot_info bi;
	char err[256] = "";

	/* A second segment higher up: the initrd must go above both. */
	o.seg[2] = (struct seg){ PT_LOAD, CODE_OFF, 8 * MiB, CODE_LEN, 0x10000 };
	o.nseg = 3;
	b = mk_elf(&o);
	rd = malloc(rd_len);
	got = malloc(rd_len);
	for (size_t i = 0; i < rd_len; i++)
		rd[i] = i ^ (i >> 8);
	img = (struct boot_images){
		.kernel = b, .kernel_len = o.len, .initrd = rd,
		.initrd_len = rd_len, .cmdline = "root=/dev/ram0",
	};
	assert_int_equal(pvh_load(gm, &img, &bi, err, sizeof(err)), 0);
	check_start_info(gm, &bi, "root=/dev/ram0", &si);
	assert_int_equal(si.nr_modules, 1);
	assert_true(si.modlist_paddr != 0);
	read_gm(gm, si.modlist_paddr, &mod, sizeof(mod));
	assert_int_equal(mod.size, rd_len);
	assert_int_equal(mod.paddr % GM_PAGE_SIZE, 0);
	assert_true(mod.paddr >= 8 * MiB + 0x10000);	/* above the kernel */
	assert_true(mod.paddr + mod.size <= RAM);
	assert_int_equal(mod.cmdline_paddr, 0);
	assert_int_equal(mod.reserved, 0);
	read_gm(gm, mod.paddr, got, rd_len);
	assert_memory_equal(got, rd, rd_len);
	free(got);
	free(rd);
	free(b);
}

static void test_load_initrd_too_big(void **state)
{
	struct guest_mem *gm = *state;
	struct elf_opts o = pvh_opts(true);
	uint8_t *b = mk_elf(&o);
	uint8_t *rd = calloc(1, RAM);	/* as big as RAM: cannot fit */
	struct boot_images img = {
		.kernel = b, .kernel_len = o.len, .initrd = rd, .initrd_len = RAM,
	};
	struct boot_info bi = { .entry = 0x5a5a };
	char err[256] = "";

	assert_true(pvh_load(gm, &img, &bi, err, sizeof(err)) < 0);
	assert_true(strlen(err) > 0);
	assert_int_equal(bi.entry, 0x5a5a);
	free(rd);
	free(b);
}

static void test_cmdline_limit(void **state)
{
	struct guest_mem *gm = *state;
	struct elf_opts o = pvh_opts(true);
	uint8_t *b = mk_elf(&o);
	char *cmd = malloc(BOOT_CMDLINE_MAX + 1);
	struct boot_images img = { .kernel = b, .kernel_len = o.len, .cmdline = cmd };
	struct boot_info bi;
	char err[256] = "", tail[2];

	/* The largest that fits: BOOT_CMDLINE_MAX - 1 characters + NUL. */
	memset(cmd, 'x', BOOT_CMDLINE_MAX - 1);
	cmd[BOOT_CMDLINE_MAX - 1] = '\0';
	assert_int_equal(pvh_load(gm, &img, &bi, err, sizeof(err)), 0);
	read_gm(gm, BOOT_CMDLINE_GPA + BOOT_CMDLINE_MAX - 2, tail, 2);
	assert_int_equal(tail[0], 'x');
	assert_int_equal(tail[1], '\0');
	/* One more is refused with a reason. */
	memset(cmd, 'x', BOOT_CMDLINE_MAX);
	cmd[BOOT_CMDLINE_MAX] = '\0';
	err[0] = '\0';
	assert_int_equal(pvh_load(gm, &img, &bi, err, sizeof(err)), -E2BIG);
	assert_true(strlen(err) > 0);
	free(cmd);
	free(b);
}

/* A broken image: load fails with a reason and hands out no boot info. */
static void load_fails(struct guest_mem *gm, const struct elf_opts *o,
		       const char *what)
{
	uint8_t *b = mk_elf(o);
	struct boot_images img = {
		.kernel = b, .kernel_len = o->len, .cmdline = "x",
	};
	struct boot_info bi = { .entry = 0x5a5a, .ebx = 0x5a5a };
	char err[256];
	int ret;

	memset(err, 0, sizeof(err));
	ret = pvh_load(gm, &img, &bi, err, sizeof(err));
	if (ret >= 0)
		fail_msg("%s: loaded (ret %d)", what, ret);
	if (!err[0])
		fail_msg("%s: no error message", what);
	assert_int_equal(bi.entry, 0x5a5a);
	assert_int_equal(bi.ebx, 0x5a5a);
	free(b);
}

static void test_load_errors(void **state)
{
	struct guest_mem *gm = *state;
	struct elf_opts o;

	for (int is64 = 0; is64 < 2; is64++) {
		o = pvh_opts(is64);
		o.seg[1].filesz = 0x200;	/* 0x400 + 0x200 > 0x500 */
		o.seg[1].memsz = 0x1000;
		load_fails(gm, &o, "segment outside file");

		o = pvh_opts(is64);
		o.seg[1].offset = FILE_LEN + 1;
		o.seg[1].filesz = 0;
		load_fails(gm, &o, "segment offset past file");

		o = pvh_opts(is64);
		o.seg[1].filesz = 0x100;
		o.seg[1].memsz = 0x80;
		load_fails(gm, &o, "filesz > memsz");

		o = pvh_opts(is64);
		o.seg[1].paddr = 0x80000;
		load_fails(gm, &o, "segment below 1 MiB");

		o = pvh_opts(is64);
		o.seg[1].paddr = 0xff000;	/* starts below, ends above */
		load_fails(gm, &o, "segment straddling 1 MiB");

		o = pvh_opts(is64);
		o.seg[1].paddr = RAM - 0x1000;
		load_fails(gm, &o, "segment beyond RAM");

		o = pvh_opts(is64);
		o.seg[1].paddr = 0xc0000000;
		load_fails(gm, &o, "segment in the MMIO hole");

		o = pvh_opts(is64);
		o.seg[0].filesz = 12;		/* note header only */
		load_fails(gm, &o, "truncated note");

		o = pvh_opts(is64);
		o.phnum = 100;
		load_fails(gm, &o, "phnum past EOF");

		o = pvh_opts(is64);
		o.nseg = 1;			/* the note only */
		load_fails(gm, &o, "no loadable segment");

		o = pvh_opts(is64);
		o.seg[1].memsz = 0;
		o.seg[1].filesz = 0;
		load_fails(gm, &o, "only an empty PT_LOAD");
	}
	/* 64-bit addresses that wrap or exceed any RAM. */
	o = pvh_opts(true);
	o.seg[1].paddr = ~0ULL - 0xfff;
	load_fails(gm, &o, "segment wrapping 2^64");
	o = pvh_opts(true);
	o.seg[1].memsz = ~0ULL;
	load_fails(gm, &o, "huge memsz");
	o = pvh_opts(true);
	o.seg[1].filesz = ~0ULL - CODE_OFF + 1;
	o.seg[1].memsz = ~0ULL;
	load_fails(gm, &o, "filesz wrapping offset");
}

static void test_load_not_pvh(void **state)
{
	struct guest_mem *gm = *state;
	struct elf_opts o = pvh_opts(true);
	uint8_t *b;
	struct boot_images img;
	struct boot_info bi;
	char err[256] = "";

	o.seg[0] = o.seg[1];
	o.nseg = 1;
	b = mk_elf(&o);
	img = (struct boot_images){ .kernel = b, .kernel_len = o.len };
	assert_int_equal(pvh_load(gm, &img, &bi, err, sizeof(err)), -ENOEXEC);
	assert_true(strlen(err) > 0);
	free(b);
}

static void test_boot_load_dispatch(void **state)
{
	struct guest_mem *gm = *state;
	struct elf_opts o = pvh_opts(true);
	uint8_t *b = mk_elf(&o), *zeros = calloc(1, 0x2000);
	struct boot_images img = { .kernel = b, .kernel_len = o.len };
	struct boot_info bi;
	char err[256] = "";

	assert_int_equal(boot_load(gm, &img, &bi, err, sizeof(err)), 0);
	assert_int_equal(bi.proto, BOOT_PVH);
	assert_int_equal(bi.entry, ENTRY);
	/* Neither format: one clear reason. */
	img = (struct boot_images){ .kernel = zeros, .kernel_len = 0x2000 };
	assert_int_equal(boot_load(gm, &img, &bi, err, sizeof(err)), -ENOEXEC);
	assert_true(strlen(err) > 0);
	free(zeros);
	free(b);
}

static void test_image_at_any_alignment(void **state)
{
	struct guest_mem *gm = *state;
	struct elf_opts o = pvh_opts(true);
	uint8_t *b = mk_elf(&o), *buf = malloc(o.len + 8);
	int status = -1;
	pid_t pid;

	/*
	 * The loader takes a byte pointer: an image at an odd address (inside
	 * a larger file, a network buffer) must parse the same.  Run in a
	 * child, because UBSan aborts on a misaligned access.
	 */
	memcpy(buf + 1, b, o.len);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct boot_images img = { .kernel = buf + 1, .kernel_len = o.len };
		struct boot_info bi;
		char err[256];

		_exit(pvh_probe(buf + 1, o.len) == 1 &&
		      pvh_load(gm, &img, &bi, err, sizeof(err)) == 0 ? 0 : 2);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	free(buf);
	free(b);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		REGRESSION("elf_open() dereferences the image as Elf64_Ehdr/"
			  "Elf32_Ehdr: misaligned access for an unaligned image "
			  "(src/arch/x86/pvh.c)");
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_probe_positive),
		T(test_probe_negative),
		T(test_probe_truncated_and_tiny),
		T(test_probe_bad_program_headers),
		T(test_probe_more_notes),
		T(test_load_elf64),
		T(test_load_elf32),
		T(test_load_marks_dirty),
		T(test_load_null_cmdline),
		T(test_load_initrd),
		T(test_load_initrd_too_big),
		T(test_cmdline_limit),
		T(test_load_errors),
		T(test_load_not_pvh),
		T(test_boot_load_dispatch),
		T(test_image_at_any_alignment),
	};

	return cmocka_run_group_tests_name("arch_pvh", tests, NULL, NULL);
}
