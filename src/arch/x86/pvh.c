// SPDX-License-Identifier: MIT
/*
 * PVH boot: load an ELF kernel that carries a XEN_ELFNOTE_PHYS32_ENTRY note
 * and hand it an hvm_start_info (Xen's public arch-x86/hvm/start_info.h ABI,
 * version 1, which adds the memory map).
 *
 * The kernel file comes from the user, not the guest, but it is parsed as
 * untrusted all the same: every offset and size is checked against the file
 * before use, and every store goes through gm_write().
 */
#include <elf.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "arch/x86/boot.h"
#include "core/util.h"

#define XEN_ELFNOTE_PHYS32_ENTRY	18
#define HVM_START_MAGIC			0x336ec578

struct hvm_start_info {
	uint32_t magic;
	uint32_t version;
	uint32_t flags;
	uint32_t nr_modules;
	uint64_t modlist_paddr;
	uint64_t cmdline_paddr;
	uint64_t rsdp_paddr;
	uint64_t memmap_paddr;
	uint32_t memmap_entries;
	uint32_t reserved;
} __attribute__((packed));

struct hvm_modlist_entry {
	uint64_t paddr;
	uint64_t size;
	uint64_t cmdline_paddr;
	uint64_t reserved;
} __attribute__((packed));

struct hvm_memmap_entry {
	uint64_t addr;
	uint64_t size;
	uint32_t type;
	uint32_t reserved;
} __attribute__((packed));

/* The fields of program headers we use, for both ELF classes. */
struct phdr {
	uint32_t type;
	uint64_t offset, paddr, filesz, memsz;
};

struct elf_view {
	const uint8_t *img;
	size_t len;
	bool is64;
	uint64_t phoff;
	unsigned phnum, phentsize;
};

static bool in_file(const struct elf_view *e, uint64_t off, uint64_t len)
{
	return off <= e->len && len <= e->len - off;
}

static int elf_open(struct elf_view *e, const uint8_t *img, size_t len)
{
	e->img = img;
	e->len = len;
	if (len < sizeof(Elf32_Ehdr) || memcmp(img, ELFMAG, SELFMAG) ||
	    img[EI_DATA] != ELFDATA2LSB)
		return -ENOEXEC;
	e->is64 = img[EI_CLASS] == ELFCLASS64;
	/* Copies, not casts: the image need not be aligned. */
	if (e->is64) {
		Elf64_Ehdr h;

		if (len < sizeof(h))
			return -ENOEXEC;
		memcpy(&h, img, sizeof(h));
		e->phoff = h.e_phoff;
		e->phnum = h.e_phnum;
		e->phentsize = h.e_phentsize;
		if (e->phentsize < sizeof(Elf64_Phdr))
			return -ENOEXEC;
	} else if (img[EI_CLASS] == ELFCLASS32) {
		Elf32_Ehdr h;

		memcpy(&h, img, sizeof(h));
		e->phoff = h.e_phoff;
		e->phnum = h.e_phnum;
		e->phentsize = h.e_phentsize;
		if (e->phentsize < sizeof(Elf32_Phdr))
			return -ENOEXEC;
	} else {
		return -ENOEXEC;
	}
	if (!in_file(e, e->phoff, (uint64_t)e->phnum * e->phentsize))
		return -ENOEXEC;
	return 0;
}

static void elf_phdr(const struct elf_view *e, unsigned i, struct phdr *p)
{
	const uint8_t *raw = e->img + e->phoff + (uint64_t)i * e->phentsize;

	if (e->is64) {
		Elf64_Phdr h;

		memcpy(&h, raw, sizeof(h));
		*p = (struct phdr){ h.p_type, h.p_offset, h.p_paddr,
				    h.p_filesz, h.p_memsz };
	} else {
		Elf32_Phdr h;

		memcpy(&h, raw, sizeof(h));
		*p = (struct phdr){ h.p_type, h.p_offset, h.p_paddr,
				    h.p_filesz, h.p_memsz };
	}
}

/* Walk the notes of one PT_NOTE segment; 1 and *entry set if found. */
static int note_find_entry(const struct elf_view *e, const struct phdr *p,
			   uint32_t *entry)
{
	uint64_t off = p->offset, end;

	if (!in_file(e, p->offset, p->filesz))
		return 0;
	end = p->offset + p->filesz;
	while (end - off >= 12) {
		uint32_t namesz, descsz, type;
		uint64_t name_off, desc_off;

		memcpy(&namesz, e->img + off, 4);
		memcpy(&descsz, e->img + off + 4, 4);
		memcpy(&type, e->img + off + 8, 4);
		name_off = off + 12;
		desc_off = name_off + ALIGN_UP((uint64_t)namesz, 4);
		if (desc_off > end || ALIGN_UP((uint64_t)descsz, 4) > end - desc_off)
			return 0;
		if (type == XEN_ELFNOTE_PHYS32_ENTRY && namesz == 4 &&
		    !memcmp(e->img + name_off, "Xen", 4) && descsz >= 4) {
			memcpy(entry, e->img + desc_off, 4);
			return 1;
		}
		off = desc_off + ALIGN_UP((uint64_t)descsz, 4);
	}
	return 0;
}

static int pvh_entry(const struct elf_view *e, uint32_t *entry)
{
	struct phdr p;

	for (unsigned i = 0; i < e->phnum; i++) {
		elf_phdr(e, i, &p);
		if (p.type == PT_NOTE && note_find_entry(e, &p, entry))
			return 1;
	}
	return 0;
}

int pvh_probe(const uint8_t *img, size_t len)
{
	struct elf_view e;
	uint32_t entry;

	return !elf_open(&e, img, len) && pvh_entry(&e, &entry);
}

static int load_segments(struct guest_mem *gm, const struct elf_view *e,
			 uint64_t *kernel_end, char *err, size_t errlen)
{
	struct phdr p;

	*kernel_end = 0;
	for (unsigned i = 0; i < e->phnum; i++) {
		uint8_t *dst;

		elf_phdr(e, i, &p);
		if (p.type != PT_LOAD || !p.memsz)
			continue;
		if (p.filesz > p.memsz || !in_file(e, p.offset, p.filesz)) {
			snprintf(err, errlen, "ELF segment %u lies outside the file", i);
			return -ENOEXEC;
		}
		if (p.paddr < BOOT_LOW_RESERVED_END) {
			snprintf(err, errlen,
				 "ELF segment %u at 0x%llx is below 1 MiB", i,
				 (unsigned long long)p.paddr);
			return -ENOEXEC;
		}
		dst = gm_ptr_w(gm, p.paddr, p.memsz);
		if (!dst) {
			snprintf(err, errlen,
				 "ELF segment %u (0x%llx, %llu bytes) does not fit in guest RAM",
				 i, (unsigned long long)p.paddr,
				 (unsigned long long)p.memsz);
			return -E2BIG;
		}
		memcpy(dst, e->img + p.offset, p.filesz);
		memset(dst + p.filesz, 0, p.memsz - p.filesz);
		*kernel_end = MAX(*kernel_end, p.paddr + p.memsz);
	}
	if (!*kernel_end) {
		snprintf(err, errlen, "ELF has no loadable segment");
		return -ENOEXEC;
	}
	return 0;
}

static int write_cmdline(struct guest_mem *gm, const char *cmdline,
			 char *err, size_t errlen)
{
	size_t len = cmdline ? strlen(cmdline) : 0;

	if (len + 1 > BOOT_CMDLINE_MAX) {
		snprintf(err, errlen, "kernel command line is %zu bytes, limit %llu",
			 len, BOOT_CMDLINE_MAX - 1);
		return -E2BIG;
	}
	return gm_write(gm, BOOT_CMDLINE_GPA, cmdline ? cmdline : "", len + 1);
}

static int write_memmap(struct guest_mem *gm, uint32_t *count)
{
	struct e820_entry e820[E820_MAX];
	struct hvm_memmap_entry m;
	int n = e820_build(gm, e820, E820_MAX);

	if (n < 0)
		return n;
	for (int i = 0; i < n; i++) {
		m = (struct hvm_memmap_entry){ e820[i].addr, e820[i].size,
					       e820[i].type, 0 };
		if (gm_write(gm, BOOT_MEMMAP_GPA + i * sizeof(m), &m, sizeof(m)))
			return -EFAULT;
	}
	*count = n;
	return 0;
}

static int load_module(struct guest_mem *gm, const struct boot_images *img,
		       uint64_t kernel_end, struct hvm_start_info *si,
		       char *err, size_t errlen)
{
	struct hvm_modlist_entry mod = { 0 };
	uint64_t addr;

	if (!img->initrd)
		return 0;
	if (!img->initrd_len) {
		snprintf(err, errlen, "initrd is empty");
		return -EINVAL;
	}
	addr = boot_initrd_addr(gm, img->initrd_len, ALIGN_UP(kernel_end, GM_PAGE_SIZE),
				GM_MMIO_HOLE_START);
	if (!addr || gm_write(gm, addr, img->initrd, img->initrd_len)) {
		snprintf(err, errlen, "initrd of %zu bytes does not fit in guest RAM",
			 img->initrd_len);
		return -E2BIG;
	}
	mod.paddr = addr;
	mod.size = img->initrd_len;
	if (gm_write(gm, BOOT_MODLIST_GPA, &mod, sizeof(mod)))
		return -EFAULT;
	si->nr_modules = 1;
	si->modlist_paddr = BOOT_MODLIST_GPA;
	return 0;
}

int pvh_load(struct guest_mem *gm, const struct boot_images *img,
	     struct boot_info *bi, char *err, size_t errlen)
{
	struct hvm_start_info si = {
		.magic = HVM_START_MAGIC, .version = 1,
		.cmdline_paddr = BOOT_CMDLINE_GPA,
		.memmap_paddr = BOOT_MEMMAP_GPA,
	};
	struct elf_view e;
	uint64_t kernel_end;
	uint32_t entry, nr_map = 0;
	int ret;

	if (elf_open(&e, img->kernel, img->kernel_len) || !pvh_entry(&e, &entry)) {
		snprintf(err, errlen, "not a PVH ELF kernel");
		return -ENOEXEC;
	}
	ret = load_segments(gm, &e, &kernel_end, err, errlen);
	if (ret)
		return ret;
	ret = write_cmdline(gm, img->cmdline, err, errlen);
	if (ret)
		return ret;
	ret = load_module(gm, img, kernel_end, &si, err, errlen);
	if (ret)
		return ret;
	ret = write_memmap(gm, &nr_map);
	si.memmap_entries = nr_map;
	if (ret || gm_write(gm, BOOT_START_INFO_GPA, &si, sizeof(si))) {
		snprintf(err, errlen, "guest RAM too small for boot data");
		return -E2BIG;
	}
	*bi = (struct boot_info){ .proto = BOOT_PVH, .entry = entry,
				  .ebx = BOOT_START_INFO_GPA };
	return 0;
}
