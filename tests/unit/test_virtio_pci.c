// SPDX-License-Identifier: MIT
/* virtio 1.x modern PCI transport (src/virtio/virtio_pci.c). */
#include <stdlib.h>
#include <sys/eventfd.h>

#include "test_virtio_driver.h"

#include "pci/pci.h"

#define NQ	2
#define QMAX	64
#define F_A	(1ULL << 0)
#define F_B	(1ULL << 1)
#define F_NEEDS_B (1ULL << 5)	/* only valid together with F_B */

struct dummy {
	struct vm vm;
	struct virtio_pci vp;
	struct drv d;
	uint8_t config[8];
	unsigned notified[NQ];
	unsigned resets, driver_oks;
	uint64_t features_set;
	struct { unsigned vec; uint32_t data; } msgs[64];
	unsigned nmsgs;
	int intx;
};

static struct dummy *g;

static struct dummy *to_dummy(struct virtio_pci *vp)
{
	return vp->opaque;
}

static uint64_t dummy_features(struct virtio_pci *vp)
{
	return F_A | F_B | F_NEEDS_B;
}

static bool dummy_validate(struct virtio_pci *vp, uint64_t f)
{
	return !(f & F_NEEDS_B) || (f & F_B);
}

static void dummy_set_features(struct virtio_pci *vp, uint64_t f)
{
	to_dummy(vp)->features_set = f;
}

static void dummy_config_read(struct virtio_pci *vp, unsigned off, void *buf,
			      unsigned len)
{
	memcpy(buf, to_dummy(vp)->config + off, len);
}

static void dummy_config_write(struct virtio_pci *vp, unsigned off,
			       const void *buf, unsigned len)
{
	memcpy(to_dummy(vp)->config + off, buf, len);
}

/* Consume every chain, returning each with its readable length. */
static void dummy_notify(struct virtio_pci *vp, unsigned q)
{
	struct iovec iov[8];
	uint64_t gpa[8];
	struct vq_elem e = { .iov = iov, .gpa = gpa, .max = 8 };
	struct virtq *vq = virtio_pci_vq(vp, q);
	int r;

	to_dummy(vp)->notified[q]++;
	while ((r = virtq_pop(vq, &e)) > 0)
		virtq_push(vq, &e, e.out_len);
	if (r < 0)
		virtio_pci_queue_broken(vp, q);
	virtio_pci_flush(vp, q);
}

static void dummy_driver_ok(struct virtio_pci *vp)
{
	to_dummy(vp)->driver_oks++;
}

static void dummy_reset(struct virtio_pci *vp)
{
	to_dummy(vp)->resets++;
}

static const struct virtio_dev_ops dummy_ops = {
	.device_id = 42,
	.class_code = 0xff0000,
	.config_size = sizeof(((struct dummy *)0)->config),
	.get_features = dummy_features,
	.validate_features = dummy_validate,
	.set_features = dummy_set_features,
	.config_read = dummy_config_read,
	.config_write = dummy_config_write,
	.queue_notify = dummy_notify,
	.driver_ok = dummy_driver_ok,
	.reset = dummy_reset,
};

static void record_msi(struct msix *m, unsigned vec, uint64_t addr,
		       uint32_t data)
{
	assert_true(g->nmsgs < ARRAY_SIZE(g->msgs));
	g->msgs[g->nmsgs].vec = vec;
	g->msgs[g->nmsgs].data = data;
	g->nmsgs++;
}

static void record_intx(struct pci_dev *pd, bool level)
{
	g->intx = level;
}

static int setup(void **state)
{
	struct dummy *t = calloc(1, sizeof(*t));

	assert_non_null(t);
	drv_vm_init(&t->vm);
	assert_int_equal(pci_host_create(&t->vm), 0);
	assert_int_equal(virtio_pci_init(&t->vp, &t->vm, &dummy_ops, t,
					 "dummy0", NQ, QMAX), 0);
	assert_int_equal(pci_host_add(t->vm.pci, &t->vp.pci, 4), 0);
	t->vp.pci.intx_hook = record_intx;
	t->d = (struct drv){ .vp = &t->vp, .gm = &t->vm.mem, .brk = 0x100000 };
	t->vp.msix.deliver = record_msi;
	g = t;
	*state = t;
	return 0;
}

static int teardown(void **state)
{
	struct dummy *t = *state;

	virtio_pci_destroy(&t->vp);
	pci_host_destroy(&t->vm);
	drv_vm_destroy(&t->vm);
	free(t);
	return 0;
}

/* Bring the device to DRIVER_OK with both queues and MSI-X vectors 0-2. */
static void bring_up(struct dummy *t)
{
	assert_true(drv_negotiate(&t->d, ~0ULL) & VIRTIO_STAT_FEATURES_OK);
	drv_w(&t->d, VIRTIO_PCI_COMMON_MSIX, 0, 2);
	drv_setup_queue(&t->d, 0, 16, 1);
	drv_setup_queue(&t->d, 1, 16, 2);
	drv_enable_msix(&t->d, 3, record_msi);
	drv_driver_ok(&t->d);
}

/* ---- PCI identity and capabilities ---- */

static unsigned find_vcap(struct pci_dev *pd, uint8_t type, unsigned after)
{
	for (unsigned c = pd->cfg[PCI_CAPABILITY_LIST]; c; c = pd->cfg[c + 1])
		if (c > after && pd->cfg[c] == PCI_CAP_ID_VNDR &&
		    pd->cfg[c + VIRTIO_PCI_CAP_CFG_TYPE] == type)
			return c;
	return 0;
}

static void test_identity_and_caps(void **state)
{
	struct dummy *t = *state;
	struct pci_dev *pd = &t->vp.pci;
	unsigned c;

	assert_int_equal(pci_cfg_read(pd, PCI_VENDOR_ID, 2), 0x1af4);
	assert_int_equal(pci_cfg_read(pd, PCI_DEVICE_ID, 2), 0x1040 + 42);
	assert_int_equal(pci_cfg_read(pd, PCI_REVISION_ID, 1), 1);
	assert_int_equal(pci_cfg_read(pd, PCI_INTERRUPT_PIN, 1), 1);
	assert_int_not_equal(pci_cap_find(pd, PCI_CAP_ID_MSIX), 0);
	assert_int_equal(pci_cfg_read(pd, pci_cap_find(pd, PCI_CAP_ID_MSIX) + 2, 2),
			 NQ);	/* NQ + 1 vectors */

	c = find_vcap(pd, VIRTIO_PCI_CAP_COMMON_CFG, 0);
	assert_int_not_equal(c, 0);
	assert_int_equal(pd->cfg[c + VIRTIO_PCI_CAP_BAR], VIRTIO_PCI_BAR);
	assert_int_equal(pci_get_reg(pd, c + VIRTIO_PCI_CAP_LENGTH, 4), 0x38);
	c = find_vcap(pd, VIRTIO_PCI_CAP_NOTIFY_CFG, 0);
	assert_int_equal(pd->cfg[c + VIRTIO_PCI_CAP_LEN], 20);
	assert_int_equal(pd->cfg[c + VIRTIO_PCI_CAP_BAR], VIRTIO_PCI_BAR);
	assert_int_equal(pci_get_reg(pd, c + 16, 4), VIRTIO_PCI_NOTIFY_MULT);
	/* The port-I/O notify cap comes after the memory one. */
	c = find_vcap(pd, VIRTIO_PCI_CAP_NOTIFY_CFG, c);
	assert_int_not_equal(c, 0);
	assert_int_equal(pd->cfg[c + VIRTIO_PCI_CAP_BAR], VIRTIO_PCI_PIO_BAR);
	assert_int_not_equal(find_vcap(pd, VIRTIO_PCI_CAP_ISR_CFG, 0), 0);
	c = find_vcap(pd, VIRTIO_PCI_CAP_DEVICE_CFG, 0);
	assert_int_equal(pci_get_reg(pd, c + VIRTIO_PCI_CAP_LENGTH, 4), 8);
	assert_int_not_equal(find_vcap(pd, VIRTIO_PCI_CAP_PCI_CFG, 0), 0);
	assert_int_equal(t->vp.pci.bars[VIRTIO_PCI_BAR].type, PCI_BAR_MEM64);
	assert_true(t->vp.pci.bars[VIRTIO_PCI_BAR].mapped);
}

/* ---- common configuration ---- */

static void test_features(void **state)
{
	struct dummy *t = *state;
	struct drv *d = &t->d;
	uint64_t dev = drv_device_features(d);

	assert_int_equal(dev, F_A | F_B | F_NEEDS_B |
			 VIRTIO_PCI_TRANSPORT_FEATURES);
	drv_w(d, VIRTIO_PCI_COMMON_DFSELECT, 7, 4);
	assert_int_equal(drv_r(d, VIRTIO_PCI_COMMON_DF, 4), 0);

	/* Accepted set reads back and reaches the device. */
	assert_true(drv_negotiate(d, F_A | VIRTIO_BIT(VIRTIO_FEAT_VERSION_1)) &
		    VIRTIO_STAT_FEATURES_OK);
	assert_int_equal(t->features_set, F_A | VIRTIO_BIT(VIRTIO_FEAT_VERSION_1));
	/* Feature writes after FEATURES_OK are ignored. */
	drv_write_features(d, F_B);
	drv_w(d, VIRTIO_PCI_COMMON_GFSELECT, 0, 4);
	assert_int_equal(drv_r(d, VIRTIO_PCI_COMMON_GF, 4), F_A);

	/* Modern only: no VERSION_1, no FEATURES_OK. */
	assert_false(drv_negotiate(d, F_A) & VIRTIO_STAT_FEATURES_OK);
	/* Device-specific dependency refused. */
	assert_false(drv_negotiate(d, F_NEEDS_B |
				   VIRTIO_BIT(VIRTIO_FEAT_VERSION_1)) &
		     VIRTIO_STAT_FEATURES_OK);
	/* Bits never offered are refused. */
	drv_w(d, VIRTIO_PCI_COMMON_STATUS, 0, 1);
	drv_write_features(d, VIRTIO_BIT(VIRTIO_FEAT_VERSION_1) | 1ULL << 40);
	drv_w(d, VIRTIO_PCI_COMMON_STATUS, VIRTIO_STAT_FEATURES_OK, 1);
	assert_false(drv_status(d) & VIRTIO_STAT_FEATURES_OK);
	assert_false(drv_status(d) & VIRTIO_STAT_NEEDS_RESET);
}

static void test_queue_registers(void **state)
{
	struct dummy *t = *state;
	struct drv *d = &t->d;

	assert_int_equal(drv_r(d, VIRTIO_PCI_COMMON_NUMQ, 2), NQ);
	drv_w(d, VIRTIO_PCI_COMMON_Q_SELECT, 1, 2);
	assert_int_equal(drv_r(d, VIRTIO_PCI_COMMON_Q_SIZE, 2), QMAX);
	assert_int_equal(drv_r(d, VIRTIO_PCI_COMMON_Q_NOFF, 2), 1);
	assert_int_equal(drv_r(d, VIRTIO_PCI_COMMON_Q_MSIX, 2), VQ_NO_VECTOR);
	/* Vectors beyond the table read back NO_VECTOR. */
	drv_w(d, VIRTIO_PCI_COMMON_Q_MSIX, NQ, 2);
	assert_int_equal(drv_r(d, VIRTIO_PCI_COMMON_Q_MSIX, 2), NQ);
	drv_w(d, VIRTIO_PCI_COMMON_Q_MSIX, NQ + 1, 2);
	assert_int_equal(drv_r(d, VIRTIO_PCI_COMMON_Q_MSIX, 2), VQ_NO_VECTOR);
	drv_w(d, VIRTIO_PCI_COMMON_MSIX, 99, 2);
	assert_int_equal(drv_r(d, VIRTIO_PCI_COMMON_MSIX, 2), VQ_NO_VECTOR);
	/* 64-bit addresses as halves; odd-size access works bytewise. */
	drv_w(d, VIRTIO_PCI_COMMON_Q_DESCLO, 0x12345000, 4);
	drv_w(d, VIRTIO_PCI_COMMON_Q_DESCHI, 0x9, 4);
	assert_int_equal(drv_r(d, VIRTIO_PCI_COMMON_Q_DESCLO, 4), 0x12345000);
	assert_int_equal(drv_r(d, VIRTIO_PCI_COMMON_Q_DESCHI, 4), 9);
	assert_int_equal(drv_r(d, VIRTIO_PCI_COMMON_Q_DESCLO + 1, 2), 0x3450);
	drv_w(d, VIRTIO_PCI_COMMON_Q_SIZE + 1, 0, 1);
	assert_int_equal(drv_r(d, VIRTIO_PCI_COMMON_Q_SIZE, 2), QMAX & 0xff);
	/* A queue that does not exist reads size 0. */
	drv_w(d, VIRTIO_PCI_COMMON_Q_SELECT, NQ, 2);
	assert_int_equal(drv_r(d, VIRTIO_PCI_COMMON_Q_SIZE, 2), 0);
	drv_w(d, VIRTIO_PCI_COMMON_Q_ENABLE, 1, 2);
	/* Read-only registers. */
	drv_w(d, VIRTIO_PCI_COMMON_NUMQ, 7, 2);
	assert_int_equal(drv_r(d, VIRTIO_PCI_COMMON_NUMQ, 2), NQ);
	/* Past the common structure: zero, ignored. */
	assert_int_equal(drv_r(d, 0x40, 4), 0);
	drv_w(d, 0x40, 1, 4);
}

static void test_queue_enable_and_reset(void **state)
{
	struct dummy *t = *state;
	struct drv *d = &t->d;
	struct virtq *vq = virtio_pci_vq(&t->vp, 0);

	drv_negotiate(d, ~0ULL);
	drv_setup_queue(d, 0, 16, 0);
	assert_true(vq->ready);
	assert_true(vq->event_idx);
	assert_true(vq->indirect);
	assert_int_equal(drv_r(d, VIRTIO_PCI_COMMON_Q_ENABLE, 2), 1);
	/* Reconfiguring an enabled queue is ignored. */
	drv_w(d, VIRTIO_PCI_COMMON_Q_DESCLO, 0x5000, 4);
	assert_int_equal(vq->desc_gpa, d->q[0].desc);
	drv_w(d, VIRTIO_PCI_COMMON_Q_ENABLE, 0, 2);
	assert_true(vq->ready);

	/* Reset: everything back, the device is told. */
	t->resets = 0;
	drv_w(d, VIRTIO_PCI_COMMON_STATUS, 0, 1);
	assert_int_equal(drv_status(d), 0);
	assert_int_equal(t->resets, 1);
	assert_false(vq->ready);
	assert_int_equal(vq->size, QMAX);
	assert_int_equal(vq->last_avail, 0);
	drv_w(d, VIRTIO_PCI_COMMON_Q_SELECT, 0, 2);
	assert_int_equal(drv_r(d, VIRTIO_PCI_COMMON_Q_MSIX, 2), VQ_NO_VECTOR);
	assert_int_equal(drv_r(d, VIRTIO_PCI_COMMON_MSIX, 2), VQ_NO_VECTOR);
	drv_w(d, VIRTIO_PCI_COMMON_GFSELECT, 0, 4);
	assert_int_equal(drv_r(d, VIRTIO_PCI_COMMON_GF, 4), 0);
}

static void test_bad_queue_config_needs_reset(void **state)
{
	struct dummy *t = *state;
	struct drv *d = &t->d;

	bring_up(t);
	t->nmsgs = 0;
	/* Queue size above the maximum, then a ring outside RAM. */
	drv_w(d, VIRTIO_PCI_COMMON_STATUS, 0, 1);
	drv_negotiate(d, ~0ULL);
	drv_w(d, VIRTIO_PCI_COMMON_Q_SELECT, 0, 2);
	drv_w(d, VIRTIO_PCI_COMMON_Q_SIZE, 128, 2);
	drv_w(d, VIRTIO_PCI_COMMON_Q_ENABLE, 1, 2);
	assert_true(drv_status(d) & VIRTIO_STAT_NEEDS_RESET);
	assert_false(virtio_pci_live(&t->vp));

	drv_negotiate(d, ~0ULL);
	assert_false(drv_status(d) & VIRTIO_STAT_NEEDS_RESET);
	drv_w(d, VIRTIO_PCI_COMMON_Q_SELECT, 0, 2);
	drv_w(d, VIRTIO_PCI_COMMON_Q_DESCLO, DRV_RAM - 16, 4);
	drv_w(d, VIRTIO_PCI_COMMON_Q_ENABLE, 1, 2);
	assert_true(drv_status(d) & VIRTIO_STAT_NEEDS_RESET);
	/* Drivers cannot clear NEEDS_RESET except by reset. */
	drv_w(d, VIRTIO_PCI_COMMON_STATUS, VIRTIO_STAT_ACKNOWLEDGE, 1);
	assert_true(drv_status(d) & VIRTIO_STAT_NEEDS_RESET);
}

static void test_driver_ok_without_features_ok(void **state)
{
	struct dummy *t = *state;
	struct drv *d = &t->d;

	drv_w(d, VIRTIO_PCI_COMMON_STATUS, VIRTIO_STAT_ACKNOWLEDGE |
	      VIRTIO_STAT_DRIVER | VIRTIO_STAT_DRIVER_OK, 1);
	assert_true(drv_status(d) & VIRTIO_STAT_NEEDS_RESET);
	assert_int_equal(t->driver_oks, 0);
	assert_false(virtio_pci_live(&t->vp));
}

/* ---- notifications and interrupts ---- */

static uint64_t kick_count(struct dummy *t, unsigned q)
{
	uint64_t v = 0;

	if (read(t->vp.queues[q].kick_fd, &v, sizeof(v)) < 0)
		return 0;
	return v;
}

static void test_kicks_reach_eventfd(void **state)
{
	struct dummy *t = *state;
	uint64_t bar = t->vp.pci.bars[VIRTIO_PCI_BAR].addr;
	uint64_t port = t->vp.pci.bars[VIRTIO_PCI_PIO_BAR].addr;
	uint16_t v = 1;

	bring_up(t);
	kick_count(t, 0);
	kick_count(t, 1);
	/* MMIO notify: queue from the offset; through the real bus. */
	assert_int_equal(bus_write(&t->vm.mmio, bar + VIRTIO_PCI_NOTIFY_OFF +
				   VIRTIO_PCI_NOTIFY_MULT, &v, 2), 0);
	assert_int_equal(kick_count(t, 1), 1);
	assert_int_equal(kick_count(t, 0), 0);
	/* Port notify: queue from the value. */
	v = 0;
	assert_int_equal(bus_write(&t->vm.pio, port, &v, 2), 0);
	assert_int_equal(kick_count(t, 0), 1);
	/* Queues that do not exist: nothing. */
	v = 7;
	bus_write(&t->vm.pio, port, &v, 2);
	bus_write(&t->vm.mmio, bar + VIRTIO_PCI_NOTIFY_OFF + 0x40, &v, 2);
	assert_int_equal(kick_count(t, 0) + kick_count(t, 1), 0);
}

static void test_queue_run_and_msix(void **state)
{
	struct dummy *t = *state;
	struct drv *d = &t->d;
	struct drv_seg s = { 0x200000, 100, false };
	uint32_t id, len;

	bring_up(t);
	drv_add(d, 1, &s, 1);
	t->nmsgs = 0;
	virtio_pci_run_queue(&t->vp, 1);
	assert_int_equal(t->notified[1], 1);
	assert_true(drv_used(d, 1, &id, &len));
	assert_int_equal(len, 100);
	assert_int_equal(t->nmsgs, 1);
	assert_int_equal(t->msgs[0].vec, 2);
	/* Bus mastering off: no DMA, so the queue is not run. */
	pci_cfg_write(&t->vp.pci, PCI_COMMAND, PCI_COMMAND_MEMORY, 2);
	drv_add(d, 1, &s, 1);
	virtio_pci_run_queue(&t->vp, 1);
	assert_int_equal(t->notified[1], 1);
	pci_cfg_write(&t->vp.pci, PCI_COMMAND, PCI_COMMAND_MEMORY |
		      PCI_COMMAND_MASTER, 2);
	virtio_pci_run_queue(&t->vp, 1);
	assert_int_equal(t->notified[1], 2);
	assert_true(drv_used(d, 1, &id, &len));
	/* Not live: a kick does not reach the device. */
	drv_w(d, VIRTIO_PCI_COMMON_STATUS, 0, 1);
	virtio_pci_run_queue(&t->vp, 1);
	assert_int_equal(t->notified[1], 2);
	/* Config change: generation and the config vector. */
	bring_up(t);
	t->nmsgs = 0;
	assert_int_equal(drv_r(d, VIRTIO_PCI_COMMON_CFGGENERATION, 1),
			 t->vp.config_generation);
	pthread_mutex_lock(&t->vp.lock);
	virtio_pci_config_changed(&t->vp);
	pthread_mutex_unlock(&t->vp.lock);
	assert_int_equal(t->nmsgs, 1);
	assert_int_equal(t->msgs[0].vec, 0);
	assert_int_equal(drv_r(d, VIRTIO_PCI_COMMON_CFGGENERATION, 1),
			 t->vp.config_generation);
}

static void test_intx_and_isr(void **state)
{
	struct dummy *t = *state;
	struct drv *d = &t->d;
	struct drv_seg s = { 0x200000, 10, false };

	drv_negotiate(d, ~0ULL);
	drv_setup_queue(d, 0, 16, VQ_NO_VECTOR);
	drv_driver_ok(d);
	drv_add(d, 0, &s, 1);
	virtio_pci_run_queue(&t->vp, 0);
	assert_int_equal(t->intx, 1);
	assert_int_equal(drv_r(d, VIRTIO_PCI_ISR_OFF, 1), 1);
	assert_int_equal(t->intx, 0);
	assert_int_equal(drv_r(d, VIRTIO_PCI_ISR_OFF, 1), 0);
	pthread_mutex_lock(&t->vp.lock);
	virtio_pci_config_changed(&t->vp);
	pthread_mutex_unlock(&t->vp.lock);
	assert_int_equal(t->intx, 1);
	assert_int_equal(drv_r(d, VIRTIO_PCI_ISR_OFF, 1), VIRTIO_PCI_ISR_CONFIG);
	assert_int_equal(t->intx, 0);
	/* Turning MSI-X on silences a pending INTx. */
	pthread_mutex_lock(&t->vp.lock);
	virtio_pci_config_changed(&t->vp);
	pthread_mutex_unlock(&t->vp.lock);
	assert_int_equal(t->intx, 1);
	drv_enable_msix(d, 1, record_msi);
	assert_int_equal(t->intx, 0);
}

static void test_malformed_ring_needs_reset(void **state)
{
	struct dummy *t = *state;
	struct drv *d = &t->d;
	struct drv_seg s = { DRV_RAM - 8, 100, false };
	uint32_t id;

	bring_up(t);
	t->nmsgs = 0;
	drv_add(d, 0, &s, 1);
	virtio_pci_run_queue(&t->vp, 0);
	assert_true(drv_status(d) & VIRTIO_STAT_NEEDS_RESET);
	assert_false(drv_used(d, 0, &id, NULL));
	assert_int_equal(t->nmsgs, 1);			/* config interrupt */
	assert_int_equal(t->msgs[0].vec, 0);
	/* Stays dead until reset, then works again. */
	s.gpa = 0x200000;
	drv_add(d, 1, &s, 1);
	virtio_pci_run_queue(&t->vp, 1);
	assert_false(drv_used(d, 1, &id, NULL));
	bring_up(t);
	drv_add(d, 1, &s, 1);
	virtio_pci_run_queue(&t->vp, 1);
	assert_true(drv_used(d, 1, &id, NULL));
}

static void test_device_config_and_pci_cfg_window(void **state)
{
	struct dummy *t = *state;
	struct drv *d = &t->d;
	struct pci_dev *pd = &t->vp.pci;
	unsigned c = find_vcap(pd, VIRTIO_PCI_CAP_PCI_CFG, 0);

	memcpy(t->config, "\x11\x22\x33\x44\x55\x66\x77\x88", 8);
	assert_int_equal(drv_r(d, VIRTIO_PCI_DEVCFG_OFF + 2, 2), 0x4433);
	assert_int_equal(drv_r(d, VIRTIO_PCI_DEVCFG_OFF + 6, 4), 0);	/* past end */
	drv_w(d, VIRTIO_PCI_DEVCFG_OFF + 1, 0xaa, 1);
	assert_int_equal(t->config[1], 0xaa);

	/* The window: BAR 4, offset of device status, 1 byte. */
	drv_negotiate(d, ~0ULL);
	pci_cfg_write(pd, c + VIRTIO_PCI_CAP_BAR, VIRTIO_PCI_BAR, 1);
	pci_cfg_write(pd, c + VIRTIO_PCI_CAP_OFFSET, VIRTIO_PCI_COMMON_STATUS, 4);
	pci_cfg_write(pd, c + VIRTIO_PCI_CAP_LENGTH, 1, 4);
	assert_int_equal(pci_cfg_read(pd, c + 16, 1), drv_status(d));
	pci_cfg_write(pd, c + 16, 0, 1);		/* reset through it */
	assert_int_equal(drv_status(d), 0);
	/* A bad window does nothing. */
	pci_cfg_write(pd, c + VIRTIO_PCI_CAP_LENGTH, 3, 4);
	pci_cfg_write(pd, c + 16, 0xff, 1);
	assert_int_equal(drv_status(d), 0);
}

/* ---- state ---- */

static void test_state_roundtrip(void **state)
{
	struct dummy *t = *state;
	struct drv *d = &t->d;
	struct drv_seg s = { 0x200000, 10, false };
	struct sbuf sb = { 0 };
	struct sreader r;
	char err[200] = "";
	uint32_t id;

	bring_up(t);
	drv_add(d, 1, &s, 1);
	drv_add(d, 1, &s, 1);
	virtio_pci_run_queue(&t->vp, 1);
	drv_used(d, 1, &id, NULL);
	drv_used(d, 1, &id, NULL);
	assert_int_equal(virtio_pci_save(&t->vp, &sb), 0);

	virtio_pci_reset(&t->vp);
	assert_int_equal(drv_status(d), 0);
	r = (struct sreader){ .p = sb.data, .len = sb.len };
	assert_int_equal(virtio_pci_load(&t->vp, &r, err, sizeof(err)), 0);
	assert_int_equal(r.off, sb.len);
	assert_true(virtio_pci_live(&t->vp));
	assert_true(msix_enabled(&t->vp.msix));
	assert_int_equal(virtio_pci_vq(&t->vp, 1)->last_avail, 2);
	assert_int_equal(virtio_pci_vq(&t->vp, 1)->used_idx, 2);
	drv_w(d, VIRTIO_PCI_COMMON_Q_SELECT, 1, 2);
	assert_int_equal(drv_r(d, VIRTIO_PCI_COMMON_Q_MSIX, 2), 2);
	/* Still works after the load: a new chain completes. */
	t->nmsgs = 0;
	drv_add(d, 1, &s, 1);
	virtio_pci_run_queue(&t->vp, 1);
	assert_true(drv_used(d, 1, &id, NULL));
	assert_int_equal(t->nmsgs, 1);
	sbuf_free(&sb);
}

static void test_state_rejects(void **state)
{
	struct dummy *t = *state;
	struct sbuf sb = { 0 };
	struct sreader r;
	char err[200] = "";
	size_t rec;

	bring_up(t);
	/* An out-of-range queue vector in an otherwise valid record. */
	t->vp.queues[0].vector = 9;
	assert_int_equal(virtio_pci_save(&t->vp, &sb), 0);
	t->vp.queues[0].vector = 1;
	r = (struct sreader){ .p = sb.data, .len = sb.len };
	assert_int_equal(virtio_pci_load(&t->vp, &r, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "bad vector"));
	rec = sb.len;
	sbuf_free(&sb);

	/* Features this device never offered. */
	t->vp.features |= 1ULL << 50;
	assert_int_equal(virtio_pci_save(&t->vp, &sb), 0);
	t->vp.features &= ~(1ULL << 50);
	r = (struct sreader){ .p = sb.data, .len = sb.len };
	assert_int_equal(virtio_pci_load(&t->vp, &r, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "not offered"));
	/* Truncated. */
	r = (struct sreader){ .p = sb.data, .len = rec - 3 };
	assert_int_equal(virtio_pci_load(&t->vp, &r, err, sizeof(err)), -EINVAL);
	sbuf_free(&sb);
}

/*
 * A guest may write bits it was never offered before FEATURES_OK, or any
 * size to a queue it has not enabled; that VM must still migrate, and the
 * destination must still refuse the bits and the size when they are used.
 */
static void test_state_unoffered_driver_write(void **state)
{
	struct dummy *t = *state;
	struct drv *d = &t->d;
	uint64_t wrote = VIRTIO_BIT(VIRTIO_FEAT_VERSION_1) | 1ULL << 40;
	struct sbuf sb = { 0 };
	struct sreader r;
	char err[200] = "";

	drv_w(d, VIRTIO_PCI_COMMON_STATUS, VIRTIO_STAT_ACKNOWLEDGE |
	      VIRTIO_STAT_DRIVER, 1);
	drv_write_features(d, wrote);
	/* Likewise a size no queue may have, in a queue never enabled. */
	drv_w(d, VIRTIO_PCI_COMMON_Q_SELECT, 0, 2);
	drv_w(d, VIRTIO_PCI_COMMON_Q_SIZE, 1000, 2);
	assert_int_equal(virtio_pci_save(&t->vp, &sb), 0);
	virtio_pci_reset(&t->vp);
	r = (struct sreader){ .p = sb.data, .len = sb.len };
	if (virtio_pci_load(&t->vp, &r, err, sizeof(err)))
		fail_msg("load refused: %s", err);
	drv_w(d, VIRTIO_PCI_COMMON_GFSELECT, 1, 4);
	assert_int_equal(drv_r(d, VIRTIO_PCI_COMMON_GF, 4), wrote >> 32);
	drv_w(d, VIRTIO_PCI_COMMON_STATUS, VIRTIO_STAT_FEATURES_OK, 1);
	assert_false(drv_status(d) & VIRTIO_STAT_FEATURES_OK);
	drv_w(d, VIRTIO_PCI_COMMON_Q_SELECT, 0, 2);
	assert_int_equal(drv_r(d, VIRTIO_PCI_COMMON_Q_SIZE, 2), 1000);
	drv_w(d, VIRTIO_PCI_COMMON_Q_ENABLE, 1, 2);
	assert_true(drv_status(d) & VIRTIO_STAT_NEEDS_RESET);
	sbuf_free(&sb);
}

/*
 * An interrupt sent by MSI-X leaves ISR set; when the guest then turns
 * MSI-X off, the source does not raise INTx for it.  Nor may the
 * destination: a level the guest never saw, on a line it may not handle.
 * One sent on INTx, though, is still pending after the load.
 */
static void test_state_isr_after_msix_off(void **state)
{
	struct dummy *t = *state;
	struct drv *d = &t->d;
	struct drv_seg s = { 0x200000, 10, false };
	struct pci_dev *pd = &t->vp.pci;
	unsigned cap = pci_cap_find(pd, PCI_CAP_ID_MSIX);
	struct sbuf sb = { 0 }, again = { 0 };
	struct sreader r;
	uint16_t status;
	char err[200] = "";

	bring_up(t);
	drv_add(d, 1, &s, 1);
	virtio_pci_run_queue(&t->vp, 1);
	assert_int_equal(t->vp.isr, 1);	/* the queue bit */
	pci_cfg_write(pd, cap + PCI_MSIX_FLAGS, 0, 2);
	assert_int_equal(t->intx, 0);
	status = pci_cfg_read(pd, PCI_STATUS, 2);
	assert_int_equal(virtio_pci_save(&t->vp, &sb), 0);
	virtio_pci_reset(&t->vp);
	r = (struct sreader){ .p = sb.data, .len = sb.len };
	if (virtio_pci_load(&t->vp, &r, err, sizeof(err)))
		fail_msg("load refused: %s", err);
	assert_int_equal(t->intx, 0);
	assert_int_equal(pci_cfg_read(pd, PCI_STATUS, 2), status);
	assert_int_equal(virtio_pci_save(&t->vp, &again), 0);
	assert_int_equal(again.len, sb.len);
	assert_memory_equal(again.data, sb.data, sb.len);
	/* ISR still reads as the source left it. */
	assert_int_equal(drv_r(d, VIRTIO_PCI_ISR_OFF, 1), 1);
	/* An interrupt sent on INTx (MSI-X off) is pending there too. */
	assert_true(drv_used(d, 1, NULL, NULL));	/* re-arms used_event */
	drv_add(d, 1, &s, 1);
	virtio_pci_run_queue(&t->vp, 1);
	assert_int_equal(t->intx, 1);
	sbuf_free(&sb);
	sb = (struct sbuf){ 0 };
	assert_int_equal(virtio_pci_save(&t->vp, &sb), 0);
	virtio_pci_reset(&t->vp);
	assert_int_equal(t->intx, 0);
	r = (struct sreader){ .p = sb.data, .len = sb.len };
	assert_int_equal(virtio_pci_load(&t->vp, &r, err, sizeof(err)), 0);
	assert_int_equal(t->intx, 1);
	sbuf_free(&sb);
	sbuf_free(&again);
}

/*
 * A driver that enables a queue before FEATURES_OK (out of the spec's
 * order) still gets the ring modes it negotiated, on the source and after
 * a migration alike (the destination derives them from the features).
 */
static void test_queue_enabled_before_features_ok(void **state)
{
	struct dummy *t = *state;
	struct drv *d = &t->d;
	struct virtq *vq = virtio_pci_vq(&t->vp, 0);
	struct sbuf sb = { 0 };
	struct sreader r;
	char err[200] = "";

	pci_cfg_write(&t->vp.pci, PCI_COMMAND, PCI_COMMAND_MEMORY |
		      PCI_COMMAND_MASTER, 2);
	drv_w(d, VIRTIO_PCI_COMMON_STATUS, VIRTIO_STAT_ACKNOWLEDGE |
	      VIRTIO_STAT_DRIVER, 1);
	drv_write_features(d, VIRTIO_BIT(VIRTIO_FEAT_VERSION_1) |
			   VIRTIO_BIT(VIRTIO_FEAT_EVENT_IDX) |
			   VIRTIO_BIT(VIRTIO_FEAT_INDIRECT_DESC));
	drv_setup_queue(d, 0, 16, VQ_NO_VECTOR);
	assert_true(vq->ready);
	drv_w(d, VIRTIO_PCI_COMMON_STATUS, VIRTIO_STAT_ACKNOWLEDGE |
	      VIRTIO_STAT_DRIVER | VIRTIO_STAT_FEATURES_OK, 1);
	assert_true(drv_status(d) & VIRTIO_STAT_FEATURES_OK);
	assert_true(vq->event_idx);
	assert_true(vq->indirect);
	assert_int_equal(virtio_pci_save(&t->vp, &sb), 0);
	virtio_pci_reset(&t->vp);
	assert_false(vq->event_idx);
	r = (struct sreader){ .p = sb.data, .len = sb.len };
	if (virtio_pci_load(&t->vp, &r, err, sizeof(err)))
		fail_msg("load refused: %s", err);
	assert_true(vq->event_idx);
	assert_true(vq->indirect);
	sbuf_free(&sb);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
		T(test_identity_and_caps),
		T(test_features),
		T(test_queue_registers),
		T(test_queue_enable_and_reset),
		T(test_bad_queue_config_needs_reset),
		T(test_driver_ok_without_features_ok),
		T(test_kicks_reach_eventfd),
		T(test_queue_run_and_msix),
		T(test_intx_and_isr),
		T(test_malformed_ring_needs_reset),
		T(test_device_config_and_pci_cfg_window),
		T(test_state_roundtrip),
		T(test_state_rejects),
		T(test_state_unoffered_driver_write),
		T(test_state_isr_after_msix_off),
		T(test_queue_enabled_before_features_ok),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
