// SPDX-License-Identifier: MIT
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/bus.h"
#include "core/util.h"

int bus_init(struct bus *bus, const char *name)
{
	memset(bus, 0, sizeof(*bus));
	bus->name = name;
	return -pthread_rwlock_init(&bus->lock, NULL);
}

void bus_destroy(struct bus *bus)
{
	free(bus->regions);
	bus->regions = NULL;
	bus->nr = bus->cap = 0;
	pthread_rwlock_destroy(&bus->lock);
}

/* Index of the first region whose end is above addr. */
static int bus_lower_bound(const struct bus *bus, uint64_t addr)
{
	int lo = 0, hi = bus->nr;

	while (lo < hi) {
		int mid = (lo + hi) / 2;
		const struct bus_region *r = &bus->regions[mid];

		if (r->base + r->len - 1 < addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

int bus_register(struct bus *bus, uint64_t base, uint64_t len,
		 const struct bus_ops *ops, void *opaque, const char *name)
{
	struct bus_region *r;
	int i, ret = 0;

	if (!len || base + len - 1 < base)
		return -EINVAL;
	pthread_rwlock_wrlock(&bus->lock);
	i = bus_lower_bound(bus, base);
	if (i < bus->nr && bus->regions[i].base <= base + len - 1) {
		ret = -EEXIST;
		goto unlock;
	}
	if (bus->nr == bus->cap) {
		int cap = bus->cap ? bus->cap * 2 : 16;

		r = realloc(bus->regions, cap * sizeof(*r));
		if (!r) {
			ret = -ENOMEM;
			goto unlock;
		}
		bus->regions = r;
		bus->cap = cap;
	}
	memmove(&bus->regions[i + 1], &bus->regions[i],
		(bus->nr - i) * sizeof(*r));
	bus->regions[i] = (struct bus_region){
		.base = base, .len = len, .ops = ops, .opaque = opaque,
		.name = name,
	};
	bus->nr++;
unlock:
	pthread_rwlock_unlock(&bus->lock);
	return ret;
}

int bus_unregister(struct bus *bus, uint64_t base, void *opaque)
{
	int i, ret = -ENOENT;

	pthread_rwlock_wrlock(&bus->lock);
	i = bus_lower_bound(bus, base);
	if (i < bus->nr && bus->regions[i].base == base &&
	    bus->regions[i].opaque == opaque) {
		memmove(&bus->regions[i], &bus->regions[i + 1],
			(bus->nr - i - 1) * sizeof(bus->regions[0]));
		bus->nr--;
		ret = 0;
	}
	pthread_rwlock_unlock(&bus->lock);
	return ret;
}

static const struct bus_region *bus_find(const struct bus *bus, uint64_t addr)
{
	int i = bus_lower_bound(bus, addr);

	if (i < bus->nr && bus->regions[i].base <= addr)
		return &bus->regions[i];
	return NULL;
}

static unsigned piece_size(const struct bus_ops *ops, uint64_t off,
			   unsigned left)
{
	unsigned max = ops->max_size ? ops->max_size : 8;
	unsigned sz = 1;

	/* Largest naturally aligned power of two that fits. */
	while (sz * 2 <= MIN(left, max) && IS_ALIGNED(off, sz * 2))
		sz *= 2;
	return sz;
}

/*
 * Split into allowed pieces; a piece below min_size is widened to an
 * aligned min_size access (reads: extract; writes: read-modify-write).
 */
static void region_access(const struct bus_region *r, uint64_t off,
			  uint8_t *data, unsigned size, int is_write)
{
	const struct bus_ops *ops = r->ops;
	unsigned min = ops->min_size ? ops->min_size : 1;

	while (size) {
		unsigned sz = piece_size(ops, off, size);
		uint64_t v;

		if (sz < min) {
			uint64_t aoff = ALIGN_DOWN(off, (uint64_t)min);
			unsigned shift = 8 * (off - aoff);
			uint64_t mask = (sz == 8 ? ~0ULL : (1ULL << 8 * sz) - 1);

			v = ops->read ? ops->read(r->opaque, aoff, min) : ~0ULL;
			if (is_write) {
				v &= ~(mask << shift);
				v |= (le_read(data, sz) & mask) << shift;
				if (ops->write)
					ops->write(r->opaque, aoff, v, min);
			} else {
				le_write(data, sz, v >> shift);
			}
		} else if (is_write) {
			if (ops->write)
				ops->write(r->opaque, off, le_read(data, sz), sz);
		} else {
			v = ops->read ? ops->read(r->opaque, off, sz) : ~0ULL;
			le_write(data, sz, v);
		}
		off += sz;
		data += sz;
		size -= sz;
	}
}

static int bus_access(struct bus *bus, uint64_t addr, uint8_t *data,
		      unsigned size, int is_write)
{
	const struct bus_region *r;
	int ret = 0;

	pthread_rwlock_rdlock(&bus->lock);
	r = bus_find(bus, addr);
	if (!r || addr - r->base > r->len - size || size > r->len) {
		/* Accesses straddling a region's end are not for it. */
		if (!is_write)
			memset(data, 0xff, size);
		ret = -ENOENT;
		goto unlock;
	}
	region_access(r, addr - r->base, data, size, is_write);
unlock:
	pthread_rwlock_unlock(&bus->lock);
	return ret;
}

int bus_read(struct bus *bus, uint64_t addr, void *data, unsigned size)
{
	return bus_access(bus, addr, data, size, 0);
}

int bus_write(struct bus *bus, uint64_t addr, const void *data, unsigned size)
{
	return bus_access(bus, addr, (uint8_t *)data, size, 1);
}
