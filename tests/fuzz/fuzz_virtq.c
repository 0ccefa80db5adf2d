// SPDX-License-Identifier: MIT
/*
 * libFuzzer target for the split-virtqueue walker (src/virtio/virtq.c).
 *
 * Input: an 8-byte header (queue size, feature bits, ring offsets, how many
 * bytes to claim written) followed by an image of guest RAM.  Every chain
 * the walker returns must lie inside RAM; nothing may crash, loop or leak.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/guest_mem.h"
#include "core/util.h"
#include "virtio/virtq.h"

#define RAM	(64 * 1024)
#define MAXSEG	VQ_MAX_INDIRECT

static struct guest_mem gm;
static struct iovec iov[MAXSEG];
static uint64_t gpa[MAXSEG];

static void check_inside(const struct vq_elem *e)
{
	const uint8_t *base = gm.slots[0].hva;

	for (unsigned i = 0; i < e->out_num + e->in_num; i++) {
		const uint8_t *p = e->iov[i].iov_base;

		if (p < base || p + e->iov[i].iov_len > base + RAM ||
		    e->gpa[i] + e->iov[i].iov_len > RAM)
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vq_elem e = { .iov = iov, .gpa = gpa, .max = MAXSEG };
	struct virtq vq = { .gm = &gm };
	uint32_t claim;

	if (!gm.nr_slots && gm_init(&gm, RAM))
		abort();
	if (size < 8)
		return 0;
	vq.size = 1u << (data[0] % 9);		/* 1 .. 256 */
	vq.indirect = data[1] & 1;
	vq.event_idx = data[1] & 2;
	vq.desc_gpa = (uint64_t)data[2] << 8;
	vq.avail_gpa = (uint64_t)data[3] << 8 | (data[1] & 0x10 ? 2 : 0);
	vq.used_gpa = (uint64_t)data[4] << 8 | (data[1] & 0x20 ? 4 : 0);
	claim = le_read(data + 5, 3);
	memset(gm.slots[0].hva, 0, RAM);
	memcpy(gm.slots[0].hva, data + 8, MIN(size - 8, (size_t)RAM));
	if (data[1] & 0x40)
		vq.last_avail = le_read(data + 6, 2);
	if (virtq_enable(&vq))
		return 0;
	for (unsigned n = 0; n < 2u * vq.size + 2; n++) {
		int r = virtq_pop(&vq, &e);

		if (r <= 0)
			break;
		check_inside(&e);
		if (data[1] & 0x80)
			virtq_unpop(&vq, 1);	/* and take it again */
		else
			virtq_push(&vq, &e, MIN((uint64_t)claim, e.in_len));
	}
	virtq_flush(&vq);
	virtq_should_notify(&vq);
	virtq_set_notify(&vq, data[1] & 4);
	virtq_set_notify(&vq, true);
	return 0;
}
