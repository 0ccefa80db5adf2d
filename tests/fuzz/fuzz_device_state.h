/* SPDX-License-Identifier: MIT */
/*
 * For the fuzz targets: the migration property every device must keep
 * whatever its guest did, that its own record loads as is and saves to
 * the same bytes again (nothing lost, rewritten or refused).
 */
#ifndef FVMM_TESTS_FUZZ_DEVICE_STATE_H
#define FVMM_TESTS_FUZZ_DEVICE_STATE_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/device.h"
#include "core/state.h"
#include "pci/pci.h"

static inline void fuzz_save(struct device *dev, struct sbuf *sb)
{
	*sb = (struct sbuf){ 0 };
	if (dev->ops->save(dev, sb) || sb->err)
		abort();	/* saving never fails short of memory */
}

/* The device saves exactly @was now. */
static inline void fuzz_expect_saved(struct device *dev, const struct sbuf *was)
{
	struct sbuf sb;

	fuzz_save(dev, &sb);
	if (sb.len != was->len || memcmp(sb.data, was->data, sb.len)) {
		size_t at = 0;

		while (at < sb.len && at < was->len &&
		       sb.data[at] == was->data[at])
			at++;
		fprintf(stderr, "%s: saved state changed across a reload: "
			"%zu bytes, then %zu; first difference at byte %zu "
			"(0x%02x, then 0x%02x)\n", dev->id, was->len, sb.len,
			at, at < was->len ? was->data[at] : 0,
			at < sb.len ? sb.data[at] : 0);
		abort();
	}
	sbuf_free(&sb);
}

/*
 * dev (paused) takes the record in sb as a migration destination must: all
 * of it, then saves exactly those bytes.
 */
static inline void fuzz_load_expect_same(struct device *dev,
					 const struct sbuf *sb)
{
	struct sreader rd = { .p = sb->data, .len = sb->len };
	char err[256] = "";

	if (dev->ops->load(dev, &rd, err, sizeof(err)) || rd.off != sb->len) {
		fprintf(stderr, "%s: refused a record saved by its kind: %s\n",
			dev->id, err[0] ? err : "bytes left over");
		abort();
	}
	fuzz_expect_saved(dev, sb);
}

/* Save, load that, save again: the same bytes (call on a paused device). */
static inline void fuzz_reload_own_state(struct device *dev)
{
	struct sbuf sb;

	fuzz_save(dev, &sb);
	fuzz_load_expect_same(dev, &sb);
	sbuf_free(&sb);
}

/* What a PCI function shows besides its record: its INTx line, its BARs. */
struct fuzz_pci_view {
	bool intx_level, intx_asserted;
	bool mapped[PCI_NR_BARS];
	uint64_t addr[PCI_NR_BARS];
};

static inline void fuzz_pci_view_get(const struct pci_dev *pd,
				     struct fuzz_pci_view *v)
{
	memset(v, 0, sizeof(*v));
	v->intx_level = pd->intx_level;
	v->intx_asserted = pd->intx_asserted;
	for (unsigned i = 0; i < PCI_NR_BARS; i++) {
		v->mapped[i] = pd->bars[i].mapped;
		v->addr[i] = pd->bars[i].mapped ? pd->bars[i].addr : 0;
	}
}

/* The function still shows what @before recorded; else abort. */
static inline void fuzz_pci_view_expect(const struct pci_dev *pd,
					const struct fuzz_pci_view *before)
{
	struct fuzz_pci_view after;

	fuzz_pci_view_get(pd, &after);
	if (!memcmp(before, &after, sizeof(after)))
		return;
	fprintf(stderr, "%s: INTx (%d/%d, then %d/%d) or BAR mappings changed across a reload\n",
		pd->name, before->intx_level, before->intx_asserted,
		after.intx_level, after.intx_asserted);
	for (unsigned i = 0; i < PCI_NR_BARS; i++)
		if (before->mapped[i] != after.mapped[i] ||
		    before->addr[i] != after.addr[i])
			fprintf(stderr, "  BAR%u: %s 0x%llx, then %s 0x%llx\n", i,
				before->mapped[i] ? "at" : "off",
				(unsigned long long)before->addr[i],
				after.mapped[i] ? "at" : "off",
				(unsigned long long)after.addr[i]);
	abort();
}

/*
 * The reload identity of a PCI device, plus what the guest would notice
 * that the bytes do not show: the INTx line and the BAR mappings are the
 * same after the reload as before it.
 */
static inline void fuzz_reload_pci_device(struct device *dev,
					  const struct pci_dev *pd)
{
	struct fuzz_pci_view before;

	fuzz_pci_view_get(pd, &before);
	fuzz_reload_own_state(dev);
	fuzz_pci_view_expect(pd, &before);
}

#endif
