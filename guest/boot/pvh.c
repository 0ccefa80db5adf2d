/*
 * PVH boot protocol: struct hvm_start_info (Xen public header
 * arch-x86/hvm/start_info.h).  Everything the kernel needs from it is copied
 * into boot_info right away, because the loader may have put it in memory
 * the kernel will reuse (low RAM, the AP trampoline page, the allocator).
 *
 * Runs on the bootstrap map, which covers only the low 4 GiB.
 */

#include <boot.h>
#include <errno.h>
#include <printk.h>
#include <string.h>

#define HVM_START_MAGIC		0x336ec578
#define BOOTSTRAP_LIMIT		(4ULL << 30)

struct hvm_start_info {
	u32 magic;
	u32 version;
	u32 flags;
	u32 nr_modules;
	u64 modlist_paddr;
	u64 cmdline_paddr;
	u64 rsdp_paddr;
	/* version >= 1 */
	u64 memmap_paddr;
	u32 memmap_entries;
	u32 reserved;
} __attribute__((packed));

struct hvm_memmap_entry {
	u64 addr;
	u64 size;
	u32 type;
	u32 reserved;
} __attribute__((packed));

struct boot_info boot_info;

static bool reachable(u64 pa, u64 len)
{
	return pa && pa < BOOTSTRAP_LIMIT && len <= BOOTSTRAP_LIMIT - pa;
}

static void copy_cmdline(u64 pa, struct boot_info *bi)
{
	const char *src = (const char *)pa;

	bi->cmdline[0] = '\0';
	if (!pa)
		return;
	if (!reachable(pa, 1)) {
		pr_err("pvh: cmdline at %#llx is not below 4 GiB\n",
		       pa);
		return;
	}
	/* The string may run up to the end of the bootstrap map. */
	if (strlcpy(bi->cmdline, src, sizeof(bi->cmdline)) >= sizeof(bi->cmdline))
		pr_warn("pvh: cmdline truncated to %zu bytes\n",
			sizeof(bi->cmdline) - 1);
}

static int copy_memmap(const struct hvm_start_info *si, struct boot_info *bi)
{
	const struct hvm_memmap_entry *e;
	u32 n = si->memmap_entries, i;

	if (si->version < 1 || !si->memmap_paddr || !n) {
		pr_err("pvh: no memory map (start_info version %u)\n",
		       si->version);
		return -ENOENT;
	}
	if (!reachable(si->memmap_paddr, (u64)n * sizeof(*e))) {
		pr_err("pvh: memory map is not below 4 GiB\n");
		return -ERANGE;
	}
	if (n > MEMMAP_MAX) {
		pr_warn("pvh: using the first %d of %u memory map entries\n",
			MEMMAP_MAX, n);
		n = MEMMAP_MAX;
	}
	e = (const struct hvm_memmap_entry *)si->memmap_paddr;
	for (i = 0; i < n; i++) {
		bi->map[i].addr = e[i].addr;
		bi->map[i].size = e[i].size;
		bi->map[i].type = e[i].type;
	}
	bi->map_nr = n;
	return 0;
}

int pvh_parse(u32 start_info_pa, struct boot_info *bi)
{
	const struct hvm_start_info *si;

	if (!reachable(start_info_pa, sizeof(*si))) {
		pr_err("pvh: bad start_info address %#x\n", start_info_pa);
		return -EINVAL;
	}
	si = (const struct hvm_start_info *)(u64)start_info_pa;
	if (si->magic != HVM_START_MAGIC) {
		pr_err("pvh: bad start_info magic %#x\n", si->magic);
		return -EINVAL;
	}
	copy_cmdline(si->cmdline_paddr, bi);
	bi->rsdp = si->rsdp_paddr;
	return copy_memmap(si, bi);
}
