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

/* Save, load that, save again: the same bytes (call on a paused device). */
static inline void fuzz_reload_own_state(struct device *dev)
{
	struct sbuf sb;
	struct sreader rd;
	char err[256] = "";

	fuzz_save(dev, &sb);
	rd = (struct sreader){ .p = sb.data, .len = sb.len };
	if (dev->ops->load(dev, &rd, err, sizeof(err)) || rd.off != sb.len) {
		fprintf(stderr, "%s: reloading its own state failed: %s\n",
			dev->id, err[0] ? err : "bytes left over");
		abort();
	}
	fuzz_expect_saved(dev, &sb);
	sbuf_free(&sb);
}

#endif
