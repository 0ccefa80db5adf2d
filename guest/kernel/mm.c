/*
 * Physical memory.
 *
 * The final page tables identity-map [0, max(end of RAM, 4 GiB)) rounded up
 * to 1 GiB.  A 2 MiB chunk that overlaps RAM is write-back; anything else
 * (the MMIO hole below 4 GiB, holes between RAM ranges) is uncached, so
 * device registers are never cached whatever the memory map looks like.  A
 * GiB that is all RAM or has none becomes one 1 GiB page when the CPU has
 * pdpe1gb; otherwise it gets a page directory from the early allocator.
 *
 * Every level has U/S set, so ring-3 code (user.c) can run from the kernel
 * image and reach RAM and device registers: this is a test guest whose hot
 * paths run in ring 3 for speed, not an isolation boundary.
 *
 * The early allocator hands out zeroed memory after the kernel image, inside
 * the RAM range the kernel was loaded into.  It never frees.
 */

#include <errno.h>
#include <mm.h>
#include <printk.h>
#include <string.h>
#include <x86.h>

#define PTE_P		0x001ULL
#define PTE_RW		0x002ULL
#define PTE_US		0x004ULL
#define PTE_PWT		0x008ULL
#define PTE_PCD		0x010ULL
#define PTE_PS		0x080ULL
#define PTE_UC		(PTE_PCD | PTE_PWT)

#define CHUNK_2M	(2 * MiB)
#define CHUNKS_PER_GIB	512
#define MAP_LIMIT	(512 * GiB)	/* one PDPT */
#define BOOTSTRAP_LIMIT	(4 * GiB)

extern char __kernel_start[], __kernel_end[];
/* Prebuilt per-GiB page directories for the low 4 GiB (entry.S). */
extern u64 boot_pd_wb[4][512], boot_pd_uc[4][512];
#define PREBUILT_GIBS	4

static u64 pml4[512] __aligned(4096);
static u64 pdpt[512] __aligned(4096);

static const struct boot_info *mm_bi;
static u64 ram_bytes;
static u64 map_end;
static unsigned int nr_1g, nr_2m_dirs;
static u64 alloc_next, alloc_limit;

u64 mm_ram_bytes(void)
{
	return ram_bytes;
}

u64 mm_kernel_cr3(void)
{
	return (u64)pml4;
}

bool mm_range_is_ram(u64 addr, u64 size)
{
	unsigned int i;

	for (i = 0; i < mm_bi->map_nr; i++) {
		const struct mem_range *r = &mm_bi->map[i];

		if (r->type == E820_RAM && addr >= r->addr &&
		    addr + size <= r->addr + r->size)
			return true;
	}
	return false;
}

void *early_alloc(size_t size, size_t align)
{
	u64 p = ALIGN_UP(alloc_next, (u64)align);

	if (!size || p + size > alloc_limit || p + size < p)
		return NULL;
	alloc_next = p + size;
	memset((void *)p, 0, size);
	return (void *)p;
}

u64 early_alloc_free(void)
{
	return alloc_limit - ALIGN_UP(alloc_next, PAGE_SIZE);
}

/* For memory the caller fills itself (page tables, stacks): no zeroing. */
void *early_alloc_nozero(size_t size, size_t align)
{
	u64 p = ALIGN_UP(alloc_next, (u64)align);

	if (!size || p + size > alloc_limit || p + size < p)
		return NULL;
	alloc_next = p + size;
	return (void *)p;
}

static bool cpu_has_1g_pages(void)
{
	u32 a, b, c, d;

	cpuid(0x80000000, 0, &a, &b, &c, &d);
	if (a < 0x80000001)
		return false;
	cpuid(0x80000001, 0, &a, &b, &c, &d);
	return d & (1u << 26);
}

/* Bytes of RAM in [base, base + size): ranges are assumed not to overlap. */
static u64 ram_in(u64 base, u64 size)
{
	u64 total = 0;
	unsigned int i;

	for (i = 0; i < mm_bi->map_nr; i++) {
		const struct mem_range *r = &mm_bi->map[i];
		u64 lo = MAX(r->addr, base), hi = MIN(r->addr + r->size, base + size);

		if (r->type == E820_RAM && lo < hi)
			total += hi - lo;
	}
	return total;
}

/*
 * A page directory for a GiB: all uncached, then the 2 MiB chunks touched by
 * a RAM range made write-back.  O(512 + ranges) stores; per-chunk range
 * lookups were the slowest part of booting.  Below 4 GiB the uncached start
 * is a copy of the prebuilt directory.
 */
static u64 *build_pd(unsigned int g)
{
	u64 *pd = early_alloc_nozero(PAGE_SIZE, PAGE_SIZE);
	u64 base = (u64)g * GiB;
	unsigned int i, j;

	if (!pd)
		return NULL;
	if (g < PREBUILT_GIBS) {
		memcpy(pd, boot_pd_uc[g], PAGE_SIZE);
	} else {
		for (i = 0; i < CHUNKS_PER_GIB; i++)
			pd[i] = (base + i * CHUNK_2M) | PTE_P | PTE_RW | PTE_US |
				PTE_PS | PTE_UC;
	}
	for (i = 0; i < mm_bi->map_nr; i++) {
		const struct mem_range *r = &mm_bi->map[i];
		u64 lo = MAX(r->addr, base), hi = MIN(r->addr + r->size, base + GiB);

		if (r->type != E820_RAM || lo >= hi)
			continue;
		for (j = (lo - base) / CHUNK_2M; j <= (hi - 1 - base) / CHUNK_2M; j++)
			pd[j] &= ~PTE_UC;
	}
	return pd;
}

/* Fills one PDPT slot; -ENOMEM if it needs a page directory and there is
 * no memory left for one. */
static int map_gib(unsigned int g, bool use_1g)
{
	u64 base = (u64)g * GiB, ram = ram_in(base, GiB);
	u64 *pd;

	if (use_1g && (ram == 0 || ram == GiB)) {
		pdpt[g] = base | PTE_P | PTE_RW | PTE_US | PTE_PS |
			  (ram ? 0 : PTE_UC);
		nr_1g++;
		return 0;
	}
	if (g < PREBUILT_GIBS && (ram == 0 || ram == GiB)) {
		pd = ram ? boot_pd_wb[g] : boot_pd_uc[g];
		pdpt[g] = (u64)pd | PTE_P | PTE_RW | PTE_US;
		nr_2m_dirs++;
		return 0;
	}
	pd = build_pd(g);
	if (!pd)
		return -ENOMEM;
	pdpt[g] = (u64)pd | PTE_P | PTE_RW | PTE_US;
	nr_2m_dirs++;
	return 0;
}

static void scan_ram(void)
{
	unsigned int i;
	u64 max = 0;

	for (i = 0; i < mm_bi->map_nr; i++) {
		const struct mem_range *r = &mm_bi->map[i];

		if (r->type != E820_RAM)
			continue;
		ram_bytes += r->size;
		max = MAX(max, r->addr + r->size);
	}
	map_end = ALIGN_UP(MAX(max, BOOTSTRAP_LIMIT), GiB);
	if (map_end > MAP_LIMIT) {
		pr_warn("mm: mapping only the first %llu GiB\n", MAP_LIMIT / GiB);
		map_end = MAP_LIMIT;
	}
}

/* The allocator takes the rest of the RAM range holding the kernel image. */
static int setup_allocator(void)
{
	u64 start = ALIGN_UP((u64)__kernel_end, PAGE_SIZE);
	unsigned int i;

	for (i = 0; i < mm_bi->map_nr; i++) {
		const struct mem_range *r = &mm_bi->map[i];

		if (r->type == E820_RAM && (u64)__kernel_start >= r->addr &&
		    start <= r->addr + r->size) {
			alloc_next = start;
			alloc_limit = MIN(r->addr + r->size, BOOTSTRAP_LIMIT);
			return 0;
		}
	}
	pr_err("mm: kernel image %p-%p is not in RAM per the memory map\n",
	       __kernel_start, __kernel_end);
	return -ENOENT;
}

int mm_init(const struct boot_info *bi)
{
	bool use_1g = cpu_has_1g_pages();
	unsigned int g;
	int ret;

	mm_bi = bi;
	scan_ram();
	ret = setup_allocator();
	if (ret)
		return ret;
	for (g = 0; g < map_end / GiB; g++) {
		ret = map_gib(g, use_1g);
		if (ret) {
			pr_err("mm: out of memory for page tables at %u GiB\n", g);
			return ret;
		}
	}
	pml4[0] = (u64)pdpt | PTE_P | PTE_RW | PTE_US;
	write_cr3((u64)pml4);
	pr_info("mem: %llu MiB RAM, identity map 0-%llu GiB (%u x 1G, %u x 2M dirs)\n",
		(ram_bytes / MiB),
		(map_end / GiB), nr_1g, nr_2m_dirs);
	return 0;
}

static const char *type_name(u32 type)
{
	switch (type) {
	case 1:
		return "RAM";
	case 2:
		return "reserved";
	case 3:
		return "ACPI data";
	case 4:
		return "ACPI NVS";
	case 5:
		return "unusable";
	case 7:
		return "persistent";
	default:
		return "unknown";
	}
}

void mm_dump(void)
{
	unsigned int i;

	printf("memory map (%u entries):\n", mm_bi->map_nr);
	for (i = 0; i < mm_bi->map_nr; i++) {
		const struct mem_range *r = &mm_bi->map[i];

		printf("  %016llx-%016llx %-10s %8llu KiB\n",
		       r->addr,
		       (r->addr + r->size - 1),
		       type_name(r->type),
		       (r->size / KiB));
	}
	printf("total RAM: %llu MiB (%llu bytes)\n",
	       (ram_bytes / MiB),
	       ram_bytes);
	printf("identity map: 0-%llu GiB, %u x 1 GiB pages, %u page directories\n",
	       (map_end / GiB), nr_1g, nr_2m_dirs);
	printf("early allocator: %llu KiB used, %llu KiB free\n",
	       ((alloc_next - (u64)__kernel_end) / KiB),
	       ((alloc_limit - alloc_next) / KiB));
}
