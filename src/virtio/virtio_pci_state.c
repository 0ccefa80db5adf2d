// SPDX-License-Identifier: MIT
/*
 * virtio-pci transport state: the "pci-dev", "msix" and "virtio-pci"
 * records, validated on load (the stream is untrusted).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "core/util.h"
#include "virtio/virtio_pci.h"

struct vp_state {
	uint8_t status, isr, config_generation;
	uint32_t dev_feature_sel, drv_feature_sel;
	uint64_t driver_features, features;
	uint16_t config_vector, queue_sel;
	uint16_t q_size[VIRTIO_PCI_MAX_QUEUES];
	uint8_t q_ready[VIRTIO_PCI_MAX_QUEUES];
	uint16_t q_vector[VIRTIO_PCI_MAX_QUEUES];
	uint64_t q_desc[VIRTIO_PCI_MAX_QUEUES];
	uint64_t q_avail[VIRTIO_PCI_MAX_QUEUES];
	uint64_t q_used[VIRTIO_PCI_MAX_QUEUES];
	uint16_t q_last_avail[VIRTIO_PCI_MAX_QUEUES];
	uint16_t q_used_idx[VIRTIO_PCI_MAX_QUEUES];
	uint16_t q_signalled[VIRTIO_PCI_MAX_QUEUES];
	uint8_t q_signalled_valid[VIRTIO_PCI_MAX_QUEUES];
};

#define VPS_INT(m)	STATE_INT(struct vp_state, m)
#define VPS_ARR(m)	STATE_INT_ARRAY(struct vp_state, m)

static const struct state_field vp_state_fields[] = {
	VPS_INT(status), VPS_INT(isr), VPS_INT(config_generation),
	VPS_INT(dev_feature_sel), VPS_INT(drv_feature_sel),
	VPS_INT(driver_features), VPS_INT(features),
	VPS_INT(config_vector), VPS_INT(queue_sel),
	VPS_ARR(q_size), VPS_ARR(q_ready), VPS_ARR(q_vector), VPS_ARR(q_desc),
	VPS_ARR(q_avail), VPS_ARR(q_used), VPS_ARR(q_last_avail),
	VPS_ARR(q_used_idx), VPS_ARR(q_signalled), VPS_ARR(q_signalled_valid),
};

static const struct state_desc vp_state_desc =
	STATE_DESC("virtio-pci", 1, vp_state_fields);

static void vp_get_state(struct virtio_pci *vp, struct vp_state *s)
{
	memset(s, 0, sizeof(*s));
	s->status = vp->status;
	s->isr = vp->isr;
	s->config_generation = vp->config_generation;
	s->dev_feature_sel = vp->dev_feature_sel;
	s->drv_feature_sel = vp->drv_feature_sel;
	s->driver_features = vp->driver_features;
	s->features = vp->features;
	s->config_vector = vp->config_vector;
	s->queue_sel = vp->queue_sel;
	for (unsigned q = 0; q < vp->nr_queues; q++) {
		struct virtio_pci_queue *pq = &vp->queues[q];
		struct virtq_state qs;

		virtq_get_state(&pq->vq, &qs);
		s->q_size[q] = qs.size;
		s->q_ready[q] = qs.ready;
		s->q_vector[q] = pq->vector;
		s->q_desc[q] = qs.desc_gpa;
		s->q_avail[q] = qs.avail_gpa;
		s->q_used[q] = qs.used_gpa;
		s->q_last_avail[q] = qs.last_avail;
		s->q_used_idx[q] = qs.used_idx;
		s->q_signalled[q] = qs.signalled_used;
		s->q_signalled_valid[q] = qs.signalled_valid;
	}
}

int virtio_pci_save(struct virtio_pci *vp, struct sbuf *out)
{
	struct vp_state s;
	int ret;

	ret = pci_dev_save(&vp->pci, out);
	if (!ret)
		ret = msix_save(&vp->msix, out);
	if (ret)
		return ret;
	pthread_mutex_lock(&vp->lock);
	vp_get_state(vp, &s);
	pthread_mutex_unlock(&vp->lock);
	return state_save(&vp_state_desc, &s, out);
}

#define LOAD_ERR(...) do {						\
	snprintf(err, errlen, __VA_ARGS__);				\
	return -EINVAL;							\
} while (0)

static int vp_check_state(struct virtio_pci *vp, const struct vp_state *s,
			  char *err, size_t errlen)
{
	uint64_t offered = virtio_pci_offered(vp);

	if (s->status & ~VIRTIO_STAT_KNOWN)
		LOAD_ERR("%s: bad device status 0x%x", vp->name, s->status);
	/*
	 * Only the accepted set must be offered here.  driver_features is
	 * what the guest last wrote, offered or not (FEATURES_OK refuses
	 * the set later); refusing it would make any VM whose driver wrote
	 * an unknown bit unmigratable.
	 */
	if (s->features & ~offered)
		LOAD_ERR("%s: features 0x%llx not offered here (0x%llx)",
			 vp->name, (unsigned long long)s->features,
			 (unsigned long long)offered);
	if ((s->status & VIRTIO_STAT_FEATURES_OK) &&
	    !(s->features & VIRTIO_BIT(VIRTIO_FEAT_VERSION_1)))
		LOAD_ERR("%s: FEATURES_OK without VERSION_1", vp->name);
	if (virtio_pci_vector(vp, s->config_vector) != s->config_vector)
		LOAD_ERR("%s: bad config vector %u", vp->name, s->config_vector);
	for (unsigned q = 0; q < VIRTIO_PCI_MAX_QUEUES; q++) {
		if (q >= vp->nr_queues) {
			if (s->q_ready[q] || s->q_size[q])
				LOAD_ERR("%s: state for queue %u of %u", vp->name,
					 q, vp->nr_queues);
			continue;
		}
		/* Until enabled the size is the guest's scratch value, checked
		 * at enable here as on the source. */
		if (s->q_ready[q] && s->q_size[q] > vp->queues[q].max_size)
			LOAD_ERR("%s: queue %u size %u above %u", vp->name, q,
				 s->q_size[q], vp->queues[q].max_size);
		if (virtio_pci_vector(vp, s->q_vector[q]) != s->q_vector[q])
			LOAD_ERR("%s: queue %u bad vector %u", vp->name, q,
				 s->q_vector[q]);
	}
	return 0;
}

static int vp_set_state(struct virtio_pci *vp, const struct vp_state *s,
			char *err, size_t errlen)
{
	vp->status = s->status;
	vp->isr = s->isr;
	vp->config_generation = s->config_generation;
	vp->dev_feature_sel = s->dev_feature_sel;
	vp->drv_feature_sel = s->drv_feature_sel;
	vp->driver_features = s->driver_features;
	vp->features = s->features;
	vp->config_vector = s->config_vector;
	vp->queue_sel = s->queue_sel;
	for (unsigned q = 0; q < vp->nr_queues; q++) {
		struct virtio_pci_queue *pq = &vp->queues[q];
		struct virtq_state qs = {
			.size = s->q_size[q], .ready = s->q_ready[q],
			.desc_gpa = s->q_desc[q], .avail_gpa = s->q_avail[q],
			.used_gpa = s->q_used[q],
			.last_avail = s->q_last_avail[q],
			.used_idx = s->q_used_idx[q],
			.signalled_used = s->q_signalled[q],
			.signalled_valid = s->q_signalled_valid[q],
		};

		pq->vector = s->q_vector[q];
		virtio_pci_queue_modes(vp, &pq->vq);
		if (virtq_set_state(&pq->vq, &qs))
			LOAD_ERR("%s: queue %u: %s", vp->name, q, pq->vq.err);
	}
	return 0;
}

int virtio_pci_load(struct virtio_pci *vp, struct sreader *in, char *err,
		    size_t errlen)
{
	struct vp_state s;
	char tmp[200];
	int ret;

	if (!err) {
		err = tmp;
		errlen = sizeof(tmp);
	}
	if (vp->pci.host)
		pci_host_lock(vp->pci.host);
	ret = pci_dev_load(&vp->pci, in, err, errlen);
	if (vp->pci.host)
		pci_host_unlock(vp->pci.host);
	if (!ret)
		ret = msix_load(&vp->msix, in, err, errlen);
	if (!ret)
		ret = state_load(&vp_state_desc, &s, in, err, errlen);
	if (!ret)
		ret = vp_check_state(vp, &s, err, errlen);
	if (ret)
		return ret;
	/*
	 * INTx is not derived from ISR here: the pci-dev record carries the
	 * line as the source had it.  ISR set through MSI-X and then MSI-X
	 * turned off left the source's line low; raising it here would give
	 * the guest an interrupt it never had.
	 */
	pthread_mutex_lock(&vp->lock);
	ret = vp_set_state(vp, &s, err, errlen);
	pthread_mutex_unlock(&vp->lock);
	return ret;
}
