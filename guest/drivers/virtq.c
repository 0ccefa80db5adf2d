/*
 * Split virtqueue, driver side (virtio 2.7).  x86 keeps stores in order
 * and loads in order, so only compiler barriers are needed, except where
 * a store must be visible before a later load of something the device
 * writes (kick and interrupt decisions): there a full fence.
 */

#include <errno.h>
#include <io.h>
#include <mm.h>
#include <virtio.h>

static inline void mb(void)
{
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
}

/* virtio 2.7.7.2: did idx move past event since the last notification? */
static inline bool need_event(u16 event, u16 new_idx, u16 old_idx)
{
	return (u16)(new_idx - event - 1) < (u16)(new_idx - old_idx);
}

int virtq_alloc(struct virtq *vq)
{
	size_t n = vq->size;
	void *desc = early_alloc(16 * n, PAGE_SIZE);
	void *avail = early_alloc(6 + 2 * n, PAGE_SIZE);
	void *used = early_alloc(6 + 8 * n, PAGE_SIZE);

	if (!desc || !avail || !used)
		return -ENOMEM;
	vq->desc = desc;
	vq->avail = avail;
	vq->used_hdr = used;
	vq->used_ring = (volatile struct vring_used_elem *)((u8 *)used + 4);
	vq->avail_event = (volatile u16 *)((u8 *)used + 4 + 8 * n);
	vq->avail_idx = vq->kicked_idx = vq->last_used = 0;
	return 0;
}

void virtq_publish(struct virtq *vq)
{
	/* Ring entries (and the buffers they name) before the index. */
	__atomic_store_n(&vq->avail[1], vq->avail_idx, __ATOMIC_RELEASE);
}

void virtq_notify(struct virtq *vq)
{
	vq->kicked_idx = vq->avail_idx;
	if (vq->notify_pio)
		outw(vq->notify_port, vq->index);
	else
		*(volatile u16 *)vq->notify_addr = vq->index;
}

void virtq_kick(struct virtq *vq)
{
	u16 old = vq->kicked_idx, new_idx = vq->avail_idx;
	bool notify;

	if (old == new_idx)
		return;
	vq->kicked_idx = new_idx;
	/* Our idx store must be visible before we read the device's wish. */
	mb();
	if (vq->event_idx)
		notify = need_event(*vq->avail_event, new_idx, old);
	else
		notify = !(vq->used_hdr[0] & VRING_USED_F_NO_NOTIFY);
	if (notify)
		virtq_notify(vq);
}

bool virtq_get_used(struct virtq *vq, u32 *id, u32 *len)
{
	u16 idx = __atomic_load_n(&vq->used_hdr[1], __ATOMIC_ACQUIRE);
	volatile struct vring_used_elem *e;

	if (idx == vq->last_used)
		return false;
	e = &vq->used_ring[vq->last_used & (vq->size - 1)];
	*id = e->id;
	*len = e->len;
	vq->last_used++;
	return true;
}

/* Give back the entry virtq_get_used() just returned: seen again next. */
void virtq_unget_used(struct virtq *vq)
{
	vq->last_used--;
}

bool virtq_arm(struct virtq *vq)
{
	if (vq->event_idx)
		vq->avail[2 + vq->size] = vq->last_used;
	else
		vq->avail[0] = 0;
	/* The request must be visible before we look for late entries. */
	mb();
	return __atomic_load_n(&vq->used_hdr[1], __ATOMIC_ACQUIRE) ==
	       vq->last_used;
}

void virtq_quiet(struct virtq *vq)
{
	if (vq->event_idx)
		vq->avail[2 + vq->size] = vq->last_used - 1;
	else
		vq->avail[0] = VRING_AVAIL_F_NO_INTERRUPT;
}
