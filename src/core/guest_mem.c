// SPDX-License-Identifier: MIT
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "core/guest_mem.h"
#include "core/log.h"
#include "core/util.h"

#define BITS_PER_LONG	(8 * sizeof(unsigned long))

int gm_layout(struct guest_mem *gm, uint64_t ram_size)
{
	uint64_t low;

	memset(gm, 0, sizeof(*gm));
	gm->memfd = -1;
	if (!ram_size || !IS_ALIGNED(ram_size, GM_PAGE_SIZE))
		return -EINVAL;
	if (ram_size > (1ULL << 46))	/* beyond any sane guest phys width */
		return -ERANGE;
	gm->ram_size = ram_size;
	low = MIN(ram_size, GM_MMIO_HOLE_START);
	gm->slots[0] = (struct gm_slot){ .gpa = 0, .size = low };
	gm->nr_slots = 1;
	if (ram_size > low) {
		gm->slots[1] = (struct gm_slot){
			.gpa = GM_4G, .size = ram_size - low, .memfd_off = low,
		};
		gm->nr_slots = 2;
	}
	return 0;
}

static size_t dirty_longs(const struct gm_slot *s)
{
	uint64_t pages = s->size >> GM_PAGE_SHIFT;

	return (pages + BITS_PER_LONG - 1) / BITS_PER_LONG;
}

#define SHMEM_THP_KNOB "/sys/kernel/mm/transparent_hugepage/shmem_enabled"

/*
 * Guest RAM is shared memory (a memfd, so that migration and helpers can
 * map it), which gets transparent huge pages only where the host allows
 * them for shmem; Linux's default is "never", unlike anonymous memory.
 * 4 KiB backing costs the guest TLB reach (measurably: bench/net), so say
 * how to change it.  A VMM does not retune the host by itself.
 */
static void gm_hint_huge_pages(void)
{
	char buf[128] = "";
	FILE *f = fopen(SHMEM_THP_KNOB, "r");

	if (!f)
		return;
	if (!fgets(buf, sizeof(buf), f))
		buf[0] = 0;
	fclose(f);
	if (strstr(buf, "[never]") || strstr(buf, "[deny]"))
		pr_info("guest RAM in 4 KiB pages: shmem huge pages are off; "
			"'echo advise > %s' lets fvmm use 2 MiB pages",
			SHMEM_THP_KNOB);
}

int gm_init(struct guest_mem *gm, uint64_t ram_size)
{
	int ret = gm_layout(gm, ram_size);
	int i;

	if (ret)
		return ret;
	gm->memfd = memfd_create("fvmm-ram", MFD_CLOEXEC);
	if (gm->memfd < 0)
		return -errno;
	if (ftruncate(gm->memfd, ram_size) < 0) {
		ret = -errno;
		goto close_memfd;
	}
	/*
	 * MAP_NORESERVE: RAM is populated lazily, so "more than the host can
	 * give" is caught below by a size check, not by a late SIGBUS.
	 */
	gm->base = mmap(NULL, ram_size, PROT_READ | PROT_WRITE,
			MAP_SHARED | MAP_NORESERVE, gm->memfd, 0);
	if (gm->base == MAP_FAILED) {
		ret = -ENOMEM;
		gm->base = NULL;
		goto close_memfd;
	}
	madvise(gm->base, ram_size, MADV_HUGEPAGE);
	gm_hint_huge_pages();
	for (i = 0; i < gm->nr_slots; i++) {
		struct gm_slot *s = &gm->slots[i];

		s->hva = gm->base + s->memfd_off;
		s->dirty = calloc(dirty_longs(s), sizeof(unsigned long));
		if (!s->dirty) {
			ret = -ENOMEM;
			goto free_dirty;
		}
	}
	return 0;

free_dirty:
	while (i--)
		free(gm->slots[i].dirty);
	munmap(gm->base, ram_size);
	gm->base = NULL;
close_memfd:
	close(gm->memfd);
	gm->memfd = -1;
	return ret;
}

void gm_destroy(struct guest_mem *gm)
{
	for (int i = 0; i < gm->nr_slots; i++) {
		free(gm->slots[i].dirty);
		gm->slots[i].dirty = NULL;
	}
	if (gm->base)
		munmap(gm->base, gm->ram_size);
	if (gm->memfd >= 0)
		close(gm->memfd);
	gm->base = NULL;
	gm->memfd = -1;
}

static struct gm_slot *gm_find(struct guest_mem *gm, uint64_t gpa, uint64_t len)
{
	for (int i = 0; i < gm->nr_slots; i++) {
		struct gm_slot *s = &gm->slots[i];

		/* Written to avoid overflow of gpa + len for hostile values. */
		if (gpa >= s->gpa && gpa - s->gpa < s->size &&
		    len <= s->size - (gpa - s->gpa))
			return s;
	}
	return NULL;
}

bool gm_is_ram(struct guest_mem *gm, uint64_t gpa, uint64_t len)
{
	return gm_find(gm, gpa, len) != NULL;
}

void *gm_ptr(struct guest_mem *gm, uint64_t gpa, uint64_t len)
{
	struct gm_slot *s = gm_find(gm, gpa, len);

	if (!s || !s->hva)
		return NULL;
	return s->hva + (gpa - s->gpa);
}

static void slot_mark_dirty(struct gm_slot *s, uint64_t gpa, uint64_t len)
{
	uint64_t first, last;

	if (!len || !s->dirty)
		return;
	first = (gpa - s->gpa) >> GM_PAGE_SHIFT;
	last = (gpa - s->gpa + len - 1) >> GM_PAGE_SHIFT;
	for (uint64_t p = first; p <= last; p++)
		__atomic_fetch_or(&s->dirty[p / BITS_PER_LONG],
				  1UL << (p % BITS_PER_LONG), __ATOMIC_RELAXED);
}

void gm_mark_dirty(struct guest_mem *gm, uint64_t gpa, uint64_t len)
{
	struct gm_slot *s = gm_find(gm, gpa, len);

	if (s)
		slot_mark_dirty(s, gpa, len);
}

void *gm_ptr_w(struct guest_mem *gm, uint64_t gpa, uint64_t len)
{
	struct gm_slot *s = gm_find(gm, gpa, len);

	if (!s || !s->hva)
		return NULL;
	slot_mark_dirty(s, gpa, len);
	return s->hva + (gpa - s->gpa);
}

int gm_read(struct guest_mem *gm, uint64_t gpa, void *buf, uint64_t len)
{
	void *p = gm_ptr(gm, gpa, len);

	if (!p)
		return -EFAULT;
	memcpy(buf, p, len);
	return 0;
}

int gm_write(struct guest_mem *gm, uint64_t gpa, const void *buf, uint64_t len)
{
	void *p = gm_ptr_w(gm, gpa, len);

	if (!p)
		return -EFAULT;
	memcpy(p, buf, len);
	return 0;
}

void gm_dirty_fetch_or(struct guest_mem *gm, int i, unsigned long *out)
{
	struct gm_slot *s = &gm->slots[i];
	size_t n = dirty_longs(s);

	for (size_t k = 0; k < n; k++)
		out[k] |= __atomic_exchange_n(&s->dirty[k], 0, __ATOMIC_RELAXED);
}
