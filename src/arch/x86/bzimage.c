// SPDX-License-Identifier: MIT
/*
 * Linux x86 boot protocol (Documentation/arch/x86/boot.rst).
 *
 * We never run the real-mode setup code: a zero page (struct boot_params) is
 * built from the image's setup header plus what a boot loader owns (command
 * line, initrd, e820), and the vCPU starts in 32-bit protected mode with ESI
 * pointing at it.  Two ways to get the kernel itself into RAM:
 *
 *  - the protocol's own: copy the protected-mode part (the decompressor with
 *    the compressed kernel inside) to pref_address or 1 MiB and enter it at
 *    its start (code32_start);
 *  - when the payload is xz (Debian's kernels) and liblzma is on the host:
 *    decompress it here, load the resulting vmlinux ELF at its physical
 *    addresses and enter its startup_64 by the 64-bit boot protocol, through
 *    a small trampoline that turns on long mode.  The kernel sees the same
 *    zero page.  This skips in-guest decompression, which takes a fraction
 *    of a second on hardware virtualization but most of an hour where guest
 *    kernel code is emulated (kvm_pvm: about one million instructions a
 *    second).  It costs KASLR of the kernel base and about a second of host
 *    CPU for a Debian kernel; anything else (no liblzma, gzip or zstd
 *    payloads, no 64-bit entry) takes the protocol's own path.
 *
 * The image is untrusted input: the header is validated before any field is
 * believed, every read is checked against the file (and the decompressed
 * kernel against its buffer), every field that drives a guest write is
 * range-checked, and all stores go through gm_write().  Nothing is written
 * to guest memory until the whole plan is known to fit.
 */
#include <dlfcn.h>
#include <elf.h>
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arch/x86/boot.h"
#include "core/log.h"
#include "core/util.h"

/* Offsets in both the image's first sector(s) and struct boot_params. */
#define BP_E820_ENTRIES		0x1e8	/* u8 */
#define BP_SETUP_SECTS		0x1f1	/* u8: first byte of the setup header */
#define BP_SYSSIZE		0x1f4	/* u32, 16-byte units */
#define BP_VID_MODE		0x1fa	/* u16 */
#define BP_BOOT_FLAG		0x1fe	/* u16: 0xAA55 */
#define BP_JUMP_OFF		0x201	/* u8: header ends at 0x202 + this */
#define BP_HEADER		0x202	/* u32: "HdrS" */
#define BP_VERSION		0x206	/* u16 */
#define BP_TYPE_OF_LOADER	0x210	/* u8 */
#define BP_LOADFLAGS		0x211	/* u8 */
#define BP_CODE32_START		0x214	/* u32 */
#define BP_RAMDISK_IMAGE	0x218	/* u32 */
#define BP_RAMDISK_SIZE		0x21c	/* u32 */
#define BP_HEAP_END_PTR		0x224	/* u16 */
#define BP_CMD_LINE_PTR		0x228	/* u32 */
#define BP_INITRD_ADDR_MAX	0x22c	/* u32 */
#define BP_KERNEL_ALIGNMENT	0x230	/* u32 */
#define BP_RELOCATABLE		0x234	/* u8 */
#define BP_MIN_ALIGNMENT	0x235	/* u8, log2, protocol 2.10 */
#define BP_XLOADFLAGS		0x236	/* u16, protocol 2.12 */
#define BP_CMDLINE_SIZE		0x238	/* u32 */
#define BP_PAYLOAD_OFFSET	0x248	/* u32, protocol 2.08 */
#define BP_PAYLOAD_LENGTH	0x24c	/* u32, protocol 2.08 */
#define BP_SETUP_DATA		0x250	/* u64 */
#define BP_PREF_ADDRESS		0x258	/* u64, protocol 2.10 */
#define BP_INIT_SIZE		0x260	/* u32, protocol 2.10 */
#define BP_E820_TABLE		0x2d0	/* struct e820_entry[128] */
#define BP_E820_SLOTS		128
#define BP_SIZE			4096

/* Where the header must end at the least for the fields a version has. */
#define HDR_END_2_06		(BP_CMDLINE_SIZE + 4)
#define HDR_END_2_08		(BP_PAYLOAD_LENGTH + 4)
#define HDR_END_2_10		(BP_INIT_SIZE + 4)
/* boot_params has room for the setup header up to edd_mbr_sig_buffer. */
#define HDR_END_MAX		0x290

#define BOOT_FLAG		0xAA55
#define HDRS_MAGIC		0x53726448	/* "HdrS" little endian */
#define LOADED_HIGH		0x01
#define CAN_USE_HEAP		0x80
#define XLF_KERNEL_64		0x01	/* has the 64-bit entry point */
#define LOADER_UNDEFINED	0xFF
#define VID_MODE_NORMAL		0xFFFF
/*
 * The real-mode code would sit in a 64 KiB segment with its stack at the
 * top; we never run it, but a well-formed zero page still says where the
 * heap ends (offset from the setup start, minus 0x200, per the protocol).
 */
#define HEAP_END_PTR		0xFE00
#define KERNEL_LOW_ADDR		0x100000ULL	/* non-relocatable bzImage */

/*
 * Direct vmlinux entry: the trampoline (with its GDT) sits in the page after
 * the zero page and the identity page tables (PML4, PDPT, 4 PDs mapping
 * 4 GiB with 2 MiB pages) between the PVH module list and the command line;
 * both areas are otherwise unused by a Linux boot.
 */
#define BZ_TRAMP_GPA		(BOOT_ZERO_PAGE_GPA + 0x1000)
#define BZ_PGT_GPA		0x10000ULL
#define BZ_PGT_PAGES		6
#define BOOT_CS			0x10	/* __BOOT_CS / __BOOT_DS of the protocol */
#define BOOT_DS			0x18
/* Caps for the decompressed kernel: generous for any real vmlinux. */
#define VMLINUX_MAX		(512 * MiB)
#define XZ_MEMLIMIT		(256 * MiB)

#define ERR(...)	snprintf(err, errlen, __VA_ARGS__)

/* What the setup header says, after validation. */
struct bz_hdr {
	unsigned version;
	unsigned hdr_end;		/* one past the setup header */
	uint64_t setup_size;		/* (setup_sects + 1) * 512 */
	uint64_t sys_size;		/* protected-mode code, declared */
	uint64_t copy_len;		/* bytes of it present in the file */
	bool relocatable;
	uint32_t kernel_alignment;
	uint64_t pref_address;
	uint64_t mem_need;		/* RAM needed from the load address */
	uint32_t cmdline_size;
	uint64_t initrd_end;		/* one past the last byte an initrd may use */
};

/* A decompressed vmlinux ELF (direct entry), owned by the plan. */
struct bz_vmlinux {
	uint8_t *buf;
	size_t len;
	uint64_t entry;			/* physical address of startup_64 */
	uint64_t start, end;		/* physical extent of its PT_LOADs */
};

/* Where things go in the guest; filled before anything is written. */
struct bz_plan {
	bool direct;			/* vmlinux valid, 64-bit entry */
	struct bz_vmlinux vm;
	uint64_t load_addr;		/* kernel start */
	uint64_t kernel_end;		/* first byte free after the kernel */
	uint64_t initrd_addr;
	size_t cmdline_len;
};

static uint32_t rd(const uint8_t *img, unsigned off, unsigned size)
{
	return le_read(img + off, size);
}

static uint64_t rd64(const uint8_t *img, unsigned off)
{
	return le_read(img + off, 8);
}

int bzimage_probe(const uint8_t *img, size_t len)
{
	/*
	 * Only the two magics: an old or broken bzImage is still a bzImage,
	 * and bzimage_load() explains what is wrong with it.
	 */
	return len >= BP_HEADER + 4 && rd(img, BP_BOOT_FLAG, 2) == BOOT_FLAG &&
	       rd(img, BP_HEADER, 4) == HDRS_MAGIC;
}

static bool is_pow2(uint64_t x)
{
	return x && !(x & (x - 1));
}

/* Magics, version and the header's own extent. */
static int parse_ident(const uint8_t *img, size_t len, struct bz_hdr *h,
		       char *err, size_t errlen)
{
	unsigned need;

	if (len < BP_VERSION + 2) {
		ERR("bzImage too short (%zu bytes) to hold a setup header", len);
		return -ENOEXEC;
	}
	if (rd(img, BP_BOOT_FLAG, 2) != BOOT_FLAG) {
		ERR("bzImage has no boot flag 0xAA55 at 0x1fe");
		return -ENOEXEC;
	}
	if (rd(img, BP_HEADER, 4) != HDRS_MAGIC) {
		ERR("bzImage has no \"HdrS\" setup header magic at 0x202");
		return -ENOEXEC;
	}
	h->version = rd(img, BP_VERSION, 2);
	if (h->version < 0x0206) {
		ERR("boot protocol %u.%02u is too old, need 2.06 or later",
		    h->version >> 8, h->version & 0xff);
		return -ENOEXEC;
	}
	h->hdr_end = BP_HEADER + img[BP_JUMP_OFF];
	need = h->version >= 0x020a ? HDR_END_2_10 :
	       h->version >= 0x0208 ? HDR_END_2_08 : HDR_END_2_06;
	if (h->hdr_end < need || h->hdr_end > HDR_END_MAX) {
		ERR("setup header ends at 0x%x, protocol %u.%02u needs 0x%x..0x%x",
		    h->hdr_end, h->version >> 8, h->version & 0xff, need,
		    HDR_END_MAX);
		return -ENOEXEC;
	}
	return 0;
}

/* Setup sectors and the protected-mode part against the file length. */
static int parse_sizes(const uint8_t *img, size_t len, struct bz_hdr *h,
		       char *err, size_t errlen)
{
	unsigned sects = img[BP_SETUP_SECTS] ? img[BP_SETUP_SECTS] : 4;
	uint64_t avail;

	h->setup_size = (sects + 1ULL) * 512;
	if (h->setup_size >= len) {
		ERR("setup_sects %u puts the kernel at 0x%llx, past the end of the %zu-byte file",
		    sects, (unsigned long long)h->setup_size, len);
		return -ENOEXEC;
	}
	/* From here on every header field lies inside the file. */
	if (!(img[BP_LOADFLAGS] & LOADED_HIGH)) {
		ERR("not a bzImage: loadflags lacks LOADED_HIGH (zImage loads at 0x10000)");
		return -ENOEXEC;
	}
	avail = len - h->setup_size;
	h->sys_size = (uint64_t)rd(img, BP_SYSSIZE, 4) * 16;
	/* syssize is rounded up to 16 bytes; a shorter tail is fine. */
	if (!h->sys_size || h->sys_size > ALIGN_UP(avail, 16)) {
		ERR("syssize says %llu bytes of kernel, the file has %llu after the setup",
		    (unsigned long long)h->sys_size, (unsigned long long)avail);
		return -ENOEXEC;
	}
	/* Bytes after syssize (e.g. a signature) are not part of the kernel. */
	h->copy_len = MIN(h->sys_size, avail);
	return 0;
}

/* Relocation, alignment and memory footprint. */
static int parse_layout(const uint8_t *img, struct bz_hdr *h,
			char *err, size_t errlen)
{
	uint32_t init_size = 0;
	unsigned min_align;

	h->relocatable = img[BP_RELOCATABLE] != 0;
	h->kernel_alignment = rd(img, BP_KERNEL_ALIGNMENT, 4);
	h->pref_address = KERNEL_LOW_ADDR;
	if (h->version >= 0x020a) {
		h->pref_address = rd64(img, BP_PREF_ADDRESS);
		init_size = rd(img, BP_INIT_SIZE, 4);
	}
	if (h->relocatable) {
		if (!is_pow2(h->kernel_alignment) ||
		    h->kernel_alignment < GM_PAGE_SIZE ||
		    h->kernel_alignment > GiB) {
			ERR("relocatable kernel with bad kernel_alignment 0x%x",
			    h->kernel_alignment);
			return -ENOEXEC;
		}
		min_align = h->version >= 0x020a ? img[BP_MIN_ALIGNMENT] : 0;
		if (min_align >= 31 || (1U << min_align) > h->kernel_alignment) {
			ERR("min_alignment 2^%u exceeds kernel_alignment 0x%x",
			    min_align, h->kernel_alignment);
			return -ENOEXEC;
		}
		/* Before 2.10 there is no pref_address: 1 MiB, realigned by the kernel. */
		if (h->version >= 0x020a &&
		    (h->pref_address < KERNEL_LOW_ADDR ||
		     !IS_ALIGNED(h->pref_address, (uint64_t)h->kernel_alignment))) {
			ERR("pref_address 0x%llx is below 1 MiB or not aligned to 0x%x",
			    (unsigned long long)h->pref_address,
			    h->kernel_alignment);
			return -ENOEXEC;
		}
	}
	/* init_size covers the in-place decompression, so it covers the image. */
	if (init_size && init_size < h->sys_size) {
		ERR("init_size 0x%x is smaller than the kernel (0x%llx bytes)",
		    init_size, (unsigned long long)h->sys_size);
		return -ENOEXEC;
	}
	h->mem_need = MAX((uint64_t)init_size, h->sys_size);
	return 0;
}

static int bz_parse(const uint8_t *img, size_t len, struct bz_hdr *h,
		    char *err, size_t errlen)
{
	int ret;

	memset(h, 0, sizeof(*h));
	ret = parse_ident(img, len, h, err, errlen);
	if (!ret)
		ret = parse_sizes(img, len, h, err, errlen);
	if (!ret)
		ret = parse_layout(img, h, err, errlen);
	if (ret)
		return ret;
	h->cmdline_size = rd(img, BP_CMDLINE_SIZE, 4);
	h->initrd_end = (uint64_t)rd(img, BP_INITRD_ADDR_MAX, 4) + 1;
	return 0;
}

/* [addr, addr + len) lies in low RAM (the 32-bit entry cannot see more). */
static bool fits_low(const struct guest_mem *gm, uint64_t addr, uint64_t len)
{
	uint64_t end = gm->slots[0].size;

	return addr <= end && len <= end - addr;
}

/*
 * Host-side decompression.  liblzma is opened at run time: it is on every
 * Debian system (dpkg needs it) while its headers are not, and without it
 * the kernel simply decompresses itself.  The one entry point we use,
 * lzma_stream_buffer_decode(), is declared here by its stable soname ABI.
 */
typedef int (*xz_buffer_decode_fn)(uint64_t *memlimit, uint32_t flags,
				   const void *allocator, const uint8_t *in,
				   size_t *in_pos, size_t in_size, uint8_t *out,
				   size_t *out_pos, size_t out_size);

static xz_buffer_decode_fn xz_decode;
static pthread_once_t xz_once = PTHREAD_ONCE_INIT;

static void xz_open(void)
{
	void *lib = dlopen("liblzma.so.5", RTLD_NOW | RTLD_LOCAL);

	if (lib)
		*(void **)&xz_decode = dlsym(lib, "lzma_stream_buffer_decode");
}

static const uint8_t xz_magic[6] = { 0xfd, '7', 'z', 'X', 'Z', 0x00 };

/*
 * The payload (protocol 2.08) as an xz stream followed by the 32-bit size
 * of its output, as the kernel's build appends it.  1 = found.
 */
static int bz_xz_payload(const uint8_t *img, const struct bz_hdr *h,
			 const uint8_t **xz, size_t *xz_len, uint32_t *out_len)
{
	uint64_t off, len;
	const uint8_t *p;

	if (h->version < 0x0208)
		return 0;
	off = rd(img, BP_PAYLOAD_OFFSET, 4);
	len = rd(img, BP_PAYLOAD_LENGTH, 4);
	if (len < sizeof(xz_magic) + 4 || off > h->copy_len ||
	    len > h->copy_len - off)
		return 0;
	p = img + h->setup_size + off;
	if (memcmp(p, xz_magic, sizeof(xz_magic)))
		return 0;
	*xz = p;
	*xz_len = len - 4;
	*out_len = le_read(p + len - 4, 4);
	return 1;
}

/* 1 = vm->buf holds the decompressed kernel, 0 = not applicable. */
static int bz_decompress(const struct guest_mem *gm, const uint8_t *img,
			 const struct bz_hdr *h, struct bz_vmlinux *vm,
			 char *err, size_t errlen)
{
	uint64_t memlimit = XZ_MEMLIMIT;
	size_t in_pos = 0, out_pos = 0, xz_len;
	const uint8_t *xz;
	uint32_t out_len;
	int lret;

	if (!(img[BP_XLOADFLAGS] & XLF_KERNEL_64) || h->version < 0x020c ||
	    !bz_xz_payload(img, h, &xz, &xz_len, &out_len))
		return 0;
	pthread_once(&xz_once, xz_open);
	if (!xz_decode)
		return 0;
	if (!out_len || out_len > MIN(gm->slots[0].size, VMLINUX_MAX)) {
		ERR("compressed kernel claims %u bytes unpacked, guest low RAM is %llu",
		    out_len, (unsigned long long)gm->slots[0].size);
		return -E2BIG;
	}
	vm->buf = malloc(out_len);
	if (!vm->buf) {
		ERR("no host memory to unpack the %u-byte kernel", out_len);
		return -ENOMEM;
	}
	lret = xz_decode(&memlimit, 0, NULL, xz, &in_pos, xz_len, vm->buf,
			 &out_pos, out_len);
	if (lret != 0 || out_pos != out_len) {
		ERR("compressed kernel payload is corrupt (xz error %d after %zu bytes)",
		    lret, out_pos);
		free(vm->buf);
		vm->buf = NULL;
		return -ENOEXEC;
	}
	vm->len = out_len;
	return 1;
}

/* PT_LOAD i of the vmlinux ELF, bounds-checked; 0 = not a loadable one. */
static int vmlinux_phdr(const struct bz_vmlinux *vm, const Elf64_Ehdr *eh,
			unsigned i, Elf64_Phdr *ph)
{
	memcpy(ph, vm->buf + eh->e_phoff + (uint64_t)i * eh->e_phentsize,
	       sizeof(*ph));
	if (ph->p_type != PT_LOAD || !ph->p_memsz)
		return 0;
	if (ph->p_filesz > ph->p_memsz || ph->p_offset > vm->len ||
	    ph->p_filesz > vm->len - ph->p_offset)
		return -1;
	return 1;
}

/* Validate the vmlinux ELF and find where it goes; nothing written. */
static int plan_vmlinux(const struct guest_mem *gm, struct bz_plan *p,
			char *err, size_t errlen)
{
	struct bz_vmlinux *vm = &p->vm;
	Elf64_Ehdr eh;
	Elf64_Phdr ph;

	if (vm->len < sizeof(eh))
		goto bad_elf;
	memcpy(&eh, vm->buf, sizeof(eh));
	if (memcmp(eh.e_ident, ELFMAG, SELFMAG) ||
	    eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_machine != EM_X86_64 ||
	    eh.e_phentsize < sizeof(ph) || eh.e_phoff > vm->len ||
	    (uint64_t)eh.e_phnum * eh.e_phentsize > vm->len - eh.e_phoff)
		goto bad_elf;
	vm->start = UINT64_MAX;
	vm->end = 0;
	for (unsigned i = 0; i < eh.e_phnum; i++) {
		int r = vmlinux_phdr(vm, &eh, i, &ph);

		if (r < 0)
			goto bad_elf;
		if (!r)
			continue;
		if (ph.p_paddr < KERNEL_LOW_ADDR ||
		    !fits_low(gm, ph.p_paddr, ph.p_memsz)) {
			ERR("kernel segment at 0x%llx (%llu KiB) is outside guest low RAM (0x%llx)",
			    (unsigned long long)ph.p_paddr,
			    (unsigned long long)(ph.p_memsz / KiB),
			    (unsigned long long)gm->slots[0].size);
			return -E2BIG;
		}
		vm->start = MIN(vm->start, ph.p_paddr);
		vm->end = MAX(vm->end, ph.p_paddr + ph.p_memsz);
	}
	if (eh.e_entry < vm->start || eh.e_entry >= vm->end)
		goto bad_elf;
	vm->entry = eh.e_entry;
	p->load_addr = vm->start;
	p->kernel_end = vm->end;
	return 0;

bad_elf:
	ERR("decompressed kernel is not a loadable x86-64 vmlinux ELF");
	return -ENOEXEC;
}

static int plan_kernel(const struct guest_mem *gm, const struct bz_hdr *h,
		       struct bz_plan *p, char *err, size_t errlen)
{
	if (h->relocatable && fits_low(gm, h->pref_address, h->mem_need))
		p->load_addr = h->pref_address;
	else
		p->load_addr = KERNEL_LOW_ADDR;
	if (!fits_low(gm, p->load_addr, h->mem_need)) {
		ERR("kernel needs %llu KiB from 0x%llx, guest low RAM ends at 0x%llx",
		    (unsigned long long)(h->mem_need / KiB),
		    (unsigned long long)p->load_addr,
		    (unsigned long long)gm->slots[0].size);
		return -E2BIG;
	}
	p->kernel_end = p->load_addr + h->mem_need;
	return 0;
}

static int plan_cmdline(const struct boot_images *img, const struct bz_hdr *h,
			struct bz_plan *p, char *err, size_t errlen)
{
	uint64_t max = MIN((uint64_t)h->cmdline_size, BOOT_CMDLINE_MAX - 1);

	p->cmdline_len = img->cmdline ? strlen(img->cmdline) : 0;
	if (p->cmdline_len > max) {
		ERR("kernel command line is %zu bytes, the kernel accepts at most %llu",
		    p->cmdline_len, (unsigned long long)max);
		return -E2BIG;
	}
	return 0;
}

static int plan_initrd(const struct guest_mem *gm, const struct boot_images *img,
		       const struct bz_hdr *h, struct bz_plan *p,
		       char *err, size_t errlen)
{
	uint64_t min_start = ALIGN_UP(p->kernel_end, GM_PAGE_SIZE);
	uint64_t max_end = MIN(h->initrd_end, gm->slots[0].size);

	p->initrd_addr = 0;
	if (!img->initrd || !img->initrd_len)
		return 0;
	p->initrd_addr = boot_initrd_addr(gm, img->initrd_len, min_start,
					  max_end);
	if (!p->initrd_addr) {
		ERR("initrd of %zu bytes does not fit between the kernel end 0x%llx and 0x%llx",
		    img->initrd_len, (unsigned long long)min_start,
		    (unsigned long long)max_end);
		return -E2BIG;
	}
	return 0;
}

/* Decide everything; on success p may own a vmlinux buffer (plan_free). */
static int bz_plan(const struct guest_mem *gm, const struct boot_images *img,
		   const struct bz_hdr *h, struct bz_plan *p,
		   char *err, size_t errlen)
{
	int ret;

	memset(p, 0, sizeof(*p));
	ret = bz_decompress(gm, img->kernel, h, &p->vm, err, errlen);
	if (ret < 0)
		return ret;
	p->direct = ret == 1;
	if (p->direct)
		ret = plan_vmlinux(gm, p, err, errlen);
	else
		ret = plan_kernel(gm, h, p, err, errlen);
	if (!ret)
		ret = plan_cmdline(img, h, p, err, errlen);
	if (!ret)
		ret = plan_initrd(gm, img, h, p, err, errlen);
	return ret;
}

static void plan_free(struct bz_plan *p)
{
	free(p->vm.buf);
	p->vm.buf = NULL;
}

static int bz_write_e820(const struct guest_mem *gm, uint8_t *bp)
{
	struct e820_entry map[E820_MAX];
	int n = e820_build(gm, map, E820_MAX);

	if (n < 0)
		return n;
	if (n > BP_E820_SLOTS)
		return -E2BIG;
	memcpy(bp + BP_E820_TABLE, map, n * sizeof(map[0]));
	bp[BP_E820_ENTRIES] = n;
	return 0;
}

/* The zero page: the image's setup header plus what the loader owns. */
static int bz_build_zero_page(const struct guest_mem *gm,
			      const struct boot_images *img,
			      const struct bz_hdr *h, const struct bz_plan *p,
			      uint8_t *bp)
{
	memset(bp, 0, BP_SIZE);
	memcpy(bp + BP_SETUP_SECTS, img->kernel + BP_SETUP_SECTS,
	       h->hdr_end - BP_SETUP_SECTS);
	le_write(bp + BP_VID_MODE, 2, VID_MODE_NORMAL);
	bp[BP_TYPE_OF_LOADER] = LOADER_UNDEFINED;
	bp[BP_LOADFLAGS] |= CAN_USE_HEAP;
	le_write(bp + BP_HEAP_END_PTR, 2, HEAP_END_PTR);
	le_write(bp + BP_CODE32_START, 4, p->load_addr);
	le_write(bp + BP_CMD_LINE_PTR, 4, BOOT_CMDLINE_GPA);
	le_write(bp + BP_RAMDISK_IMAGE, 4, p->initrd_addr);
	le_write(bp + BP_RAMDISK_SIZE, 4, p->initrd_addr ? img->initrd_len : 0);
	/* A setup_data chain is ours to build, never the image's to point at. */
	le_write(bp + BP_SETUP_DATA, 8, 0);
	return bz_write_e820(gm, bp);
}

static int write_vmlinux(struct guest_mem *gm, const struct bz_vmlinux *vm)
{
	Elf64_Ehdr eh;
	Elf64_Phdr ph;

	memcpy(&eh, vm->buf, sizeof(eh));
	/* Guest RAM is fresh (zero) memory, so p_memsz past p_filesz is bss. */
	for (unsigned i = 0; i < eh.e_phnum; i++) {
		if (vmlinux_phdr(vm, &eh, i, &ph) != 1)
			continue;
		if (gm_write(gm, ph.p_paddr, vm->buf + ph.p_offset, ph.p_filesz))
			return -EFAULT;
	}
	return 0;
}

/* PML4 -> PDPT -> 4 PDs: 0..4 GiB identity mapped with 2 MiB pages. */
static int write_ident_pgt(struct guest_mem *gm)
{
	uint64_t pgt[BZ_PGT_PAGES][512] = { { 0 } };
	const uint64_t rw = 0x3, large = 0x80;	/* present | writable, PS */

	pgt[0][0] = (BZ_PGT_GPA + GM_PAGE_SIZE) | rw;
	for (unsigned g = 0; g < 4; g++) {
		pgt[1][g] = (BZ_PGT_GPA + (2 + g) * GM_PAGE_SIZE) | rw;
		for (unsigned m = 0; m < 512; m++)
			pgt[2 + g][m] = (g * GiB + m * 2 * MiB) | rw | large;
	}
	return gm_write(gm, BZ_PGT_GPA, pgt, sizeof(pgt));
}

struct emit {
	uint8_t *p;
	size_t n;
};

static void emit(struct emit *e, unsigned size, uint64_t v)
{
	le_write(e->p + e->n, size, v);
	e->n += size;
}

static void emit_bytes(struct emit *e, const char *s, size_t len)
{
	memcpy(e->p + e->n, s, len);
	e->n += len;
}

/*
 * 32-bit protected mode, paging off -> 64-bit mode at the kernel's
 * startup_64 with what the 64-bit boot protocol asks: identity paging, a
 * GDT with flat __BOOT_CS (64-bit code) and __BOOT_DS, DS/ES/SS = __BOOT_DS,
 * interrupts off (they are at reset), RSI = zero page.  Hand-assembled; the
 * mnemonic is next to each instruction.
 */
static int write_trampoline(struct guest_mem *gm, uint64_t entry)
{
	const uint32_t gdt = BZ_TRAMP_GPA + 0x80, gdtr = gdt + 0x20;
	uint8_t page[0x100] = { 0 };
	struct emit e = { page, 0 };
	uint32_t far;

	emit_bytes(&e, "\x0f\x20\xe0", 3);		/* mov %cr4, %eax */
	emit_bytes(&e, "\x83\xc8\x20", 3);		/* or $0x20 (PAE), %eax */
	emit_bytes(&e, "\x0f\x22\xe0", 3);		/* mov %eax, %cr4 */
	emit(&e, 1, 0xb8); emit(&e, 4, BZ_PGT_GPA);	/* mov $pml4, %eax */
	emit_bytes(&e, "\x0f\x22\xd8", 3);		/* mov %eax, %cr3 */
	emit(&e, 1, 0xb9); emit(&e, 4, 0xc0000080);	/* mov $EFER, %ecx */
	emit_bytes(&e, "\x0f\x32", 2);			/* rdmsr */
	emit(&e, 1, 0x0d); emit(&e, 4, 0x100);		/* or $LME, %eax */
	emit_bytes(&e, "\x0f\x30", 2);			/* wrmsr */
	emit_bytes(&e, "\x0f\x20\xc0", 3);		/* mov %cr0, %eax */
	emit(&e, 1, 0x0d); emit(&e, 4, 0x80000001);	/* or $(PG|PE), %eax */
	emit_bytes(&e, "\x0f\x22\xc0", 3);		/* mov %eax, %cr0 */
	emit_bytes(&e, "\x0f\x01\x15", 3); emit(&e, 4, gdtr); /* lgdt gdtr */
	far = BZ_TRAMP_GPA + e.n + 7;
	emit(&e, 1, 0xea); emit(&e, 4, far); emit(&e, 2, BOOT_CS); /* ljmp */
	/* 64-bit mode from here. */
	emit(&e, 1, 0xb8); emit(&e, 4, BOOT_DS);	/* mov $BOOT_DS, %eax */
	emit_bytes(&e, "\x8e\xd8\x8e\xc0\x8e\xd0", 6);	/* mov %eax, %ds/%es/%ss */
	/* RSI's upper half is undefined after the mode switch: reload it. */
	emit(&e, 1, 0xbe); emit(&e, 4, BOOT_ZERO_PAGE_GPA); /* mov $zp, %esi */
	emit_bytes(&e, "\x48\xb8", 2); emit(&e, 8, entry); /* movabs $entry, %rax */
	emit_bytes(&e, "\xff\xe0", 2);			/* jmp *%rax */

	e.n = gdt - BZ_TRAMP_GPA;
	emit(&e, 8, 0);
	emit(&e, 8, 0);
	emit(&e, 8, 0x00af9a000000ffffULL);	/* 0x10: code, L=1, DPL 0 */
	emit(&e, 8, 0x00cf92000000ffffULL);	/* 0x18: data, 4 GiB flat */
	emit(&e, 2, 4 * 8 - 1);			/* gdtr: limit, base */
	emit(&e, 4, gdt);
	return gm_write(gm, BZ_TRAMP_GPA, page, sizeof(page));
}

static int write_kernel(struct guest_mem *gm, const struct boot_images *img,
			const struct bz_hdr *h, const struct bz_plan *p)
{
	if (!p->direct) {
		/* Guest RAM is fresh (zero) memory: no bss clearing needed. */
		return gm_write(gm, p->load_addr, img->kernel + h->setup_size,
				h->copy_len);
	}
	if (write_vmlinux(gm, &p->vm) || write_ident_pgt(gm) ||
	    write_trampoline(gm, p->vm.entry))
		return -EFAULT;
	return 0;
}

static int bz_write(struct guest_mem *gm, const struct boot_images *img,
		    const struct bz_hdr *h, const struct bz_plan *p)
{
	uint8_t bp[BP_SIZE];
	int ret;

	ret = bz_build_zero_page(gm, img, h, p, bp);
	if (ret)
		return ret;
	if (write_kernel(gm, img, h, p) ||
	    gm_write(gm, BOOT_CMDLINE_GPA, img->cmdline ? img->cmdline : "",
		     p->cmdline_len) ||
	    gm_write(gm, BOOT_CMDLINE_GPA + p->cmdline_len, "", 1) ||
	    (p->initrd_addr &&
	     gm_write(gm, p->initrd_addr, img->initrd, img->initrd_len)) ||
	    gm_write(gm, BOOT_ZERO_PAGE_GPA, bp, sizeof(bp)))
		return -EFAULT;
	return 0;
}

int bzimage_load(struct guest_mem *gm, const struct boot_images *img,
		 struct boot_info *bi, char *err, size_t errlen)
{
	struct bz_plan plan;
	struct bz_hdr h;
	int ret;

	ret = bz_parse(img->kernel, img->kernel_len, &h, err, errlen);
	if (ret)
		return ret;
	ret = bz_plan(gm, img, &h, &plan, err, errlen);
	if (ret)
		goto free_plan;
	ret = bz_write(gm, img, &h, &plan);
	if (ret) {
		ERR("guest RAM (%llu MiB) too small for the kernel's boot data",
		    (unsigned long long)(gm->ram_size / MiB));
		goto free_plan;
	}
	*bi = (struct boot_info){
		.proto = BOOT_LINUX,
		.entry = plan.direct ? BZ_TRAMP_GPA : plan.load_addr,
		.esi = BOOT_ZERO_PAGE_GPA,
	};
	if (plan.direct)
		pr_debug("bzImage: xz payload unpacked on the host, vmlinux at 0x%llx-0x%llx, 64-bit entry 0x%llx",
			 (unsigned long long)plan.vm.start,
			 (unsigned long long)plan.vm.end,
			 (unsigned long long)plan.vm.entry);
free_plan:
	plan_free(&plan);
	return ret;
}
