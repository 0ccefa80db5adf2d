/* SPDX-License-Identifier: MIT */
/*
 * For the hotplug tests: a guest's side of PCIe hotplug (configuration
 * cycles on 0xCF8/0xCFC, Slot Control commands, the pciehp interrupt
 * routine), an event recorder standing in for QMP, and a way to run
 * control operations on the VM's event loop as QMP handlers do.
 */
#ifndef FVMM_TESTS_UNIT_HOTPLUG_GUEST_H
#define FVMM_TESTS_UNIT_HOTPLUG_GUEST_H

#include <pthread.h>
#include <semaphore.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>
#include <jansson.h>

#include "test_virtio_driver.h"

#include "net/net.h"
#include "pci/hotplug.h"
#include "pci/opts.h"
#include "pci/pci.h"
#include "pci/root_port.h"

/* ---- configuration cycles ---- */

static inline void hg_cf8(struct pci_host *h, unsigned bus, unsigned devfn,
			  unsigned reg)
{
	uint32_t a = 0x80000000U | bus << 16 | devfn << 8 | (reg & 0xfc);

	assert_int_equal(pci_host_pio(h, 0xcf8, &a, 4, true), 0);
}

static inline uint32_t hg_rd(struct pci_host *h, unsigned bus,
			     unsigned devfn, unsigned reg, unsigned size)
{
	uint8_t buf[4] = { 0 };

	hg_cf8(h, bus, devfn, reg);
	assert_int_equal(pci_host_pio(h, 0xcfc + (reg & 3), buf, size, false),
			 0);
	return le_read(buf, size);
}

static inline void hg_wr(struct pci_host *h, unsigned bus, unsigned devfn,
			 unsigned reg, uint32_t v, unsigned size)
{
	uint8_t buf[4];

	le_write(buf, size, v);
	hg_cf8(h, bus, devfn, reg);
	assert_int_equal(pci_host_pio(h, 0xcfc + (reg & 3), buf, size, true),
			 0);
}

/* ---- a root port as pciehp drives it ---- */

static inline uint16_t hg_sltctl(struct pci_root_port *rp)
{
	return hg_rd(rp->pci.host, 0, rp->pci.devfn, rp->exp + PCI_EXP_SLTCTL,
		     2);
}

static inline uint16_t hg_sltsta(struct pci_root_port *rp)
{
	return hg_rd(rp->pci.host, 0, rp->pci.devfn, rp->exp + PCI_EXP_SLTSTA,
		     2);
}

static inline void hg_cmd(struct pci_root_port *rp, uint16_t cmd,
			  uint16_t mask)
{
	hg_wr(rp->pci.host, 0, rp->pci.devfn, rp->exp + PCI_EXP_SLTCTL,
	      (hg_sltctl(rp) & ~mask) | (cmd & mask), 2);
}

static inline uint16_t hg_isr(struct pci_root_port *rp)
{
	uint16_t seen = 0, st;

	while ((st = hg_sltsta(rp) & PCIE_SLOT_STA_EVENTS)) {
		seen |= st;
		hg_wr(rp->pci.host, 0, rp->pci.devfn,
		      rp->exp + PCI_EXP_SLTSTA, st, 2);
	}
	return seen;
}

static inline void hg_power(struct pci_root_port *rp, bool on)
{
	hg_cmd(rp, on ? PCI_EXP_SLTCTL_PWR_ON : PCI_EXP_SLTCTL_PWR_OFF,
	       PCI_EXP_SLTCTL_PCC);
}

/* ---- events ---- */

struct hg_events {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	json_t *list;		/* [{"event": NAME, "data": ...}] */
};

static struct hg_events hg_ev = {
	PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, NULL
};

static inline void hg_event_hook(struct vm *vm, const char *name,
				 json_t *data)
{
	pthread_mutex_lock(&hg_ev.lock);
	if (!hg_ev.list)
		hg_ev.list = json_array();
	json_array_append_new(hg_ev.list, json_pack("{s:s, s:o}", "event",
						   name, "data",
						   data ? data : json_null()));
	pthread_cond_broadcast(&hg_ev.cond);
	pthread_mutex_unlock(&hg_ev.lock);
}

static inline void hg_events_reset(void)
{
	pthread_mutex_lock(&hg_ev.lock);
	json_decref(hg_ev.list);
	hg_ev.list = json_array();
	pthread_mutex_unlock(&hg_ev.lock);
	pci_hotplug_event_hook = hg_event_hook;
}

/* With hg_ev.lock: how many NAME events have key = value (NULL: any). */
static inline unsigned hg_count_locked(const char *name, const char *key,
				       const char *value)
{
	unsigned n = 0;
	size_t i;
	json_t *e;

	json_array_foreach(hg_ev.list, i, e) {
		const char *v;

		if (strcmp(json_string_value(json_object_get(e, "event")), name))
			continue;
		v = key ? json_string_value(json_object_get(
				json_object_get(e, "data"), key)) : NULL;
		n += !key || (v && !strcmp(v, value));
	}
	return n;
}

static inline unsigned hg_count(const char *name, const char *key,
				const char *value)
{
	unsigned n;

	pthread_mutex_lock(&hg_ev.lock);
	n = hg_count_locked(name, key, value);
	pthread_mutex_unlock(&hg_ev.lock);
	return n;
}

/* Wait up to 2 s for the count to reach want. */
static inline bool hg_wait(const char *name, const char *key,
			   const char *value, unsigned want)
{
	struct timespec ts;
	bool ok;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += 2;
	pthread_mutex_lock(&hg_ev.lock);
	while (!(ok = hg_count_locked(name, key, value) >= want))
		if (pthread_cond_timedwait(&hg_ev.cond, &hg_ev.lock, &ts))
			break;
	ok = hg_count_locked(name, key, value) >= want;
	pthread_mutex_unlock(&hg_ev.lock);
	return ok;
}

/* ---- running on the loop ---- */

struct hg_call {
	void (*fn)(void *);
	void *arg;
	sem_t done;
};

static inline void hg_call_cb(void *opaque)
{
	struct hg_call *c = opaque;

	c->fn(c->arg);
	sem_post(&c->done);
}

/* Run fn(arg) on the (started) loop and wait for it, as QMP does. */
static inline void hg_on_loop(struct vm *vm, void (*fn)(void *), void *arg)
{
	struct hg_call c = { .fn = fn, .arg = arg };
	struct timespec ts;

	sem_init(&c.done, 0, 0);
	assert_int_equal(evloop_call(&vm->loop, hg_call_cb, &c), 0);
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += 5;
	assert_int_equal(sem_timedwait(&c.done, &ts), 0);
	sem_destroy(&c.done);
}

/* Let the loop drain what is queued (deferred removals). */
static inline void hg_nop(void *arg)
{
}

static inline void hg_sync(struct vm *vm)
{
	hg_on_loop(vm, hg_nop, NULL);
}

/* device_add / device_del, run on the loop. */
struct hg_req {
	struct vm *vm;
	const char *spec;	/* "driver,key=val,..." */
	const char *id;
	enum pci_unplug_mode mode;
	int ret;
	char err[512];
};

static inline void hg_add_cb(void *arg)
{
	struct hg_req *r = arg;
	struct opts o;

	r->ret = opts_parse(&o, "test", r->spec);
	if (!r->ret)
		r->ret = pci_hotplug_add(r->vm, &o, true, r->err,
					 sizeof(r->err));
}

static inline void hg_del_cb(void *arg)
{
	struct hg_req *r = arg;

	r->ret = pci_hotplug_del(r->vm, r->id, r->mode, r->err,
				 sizeof(r->err));
}

static inline int hg_add(struct vm *vm, const char *spec, char *err)
{
	struct hg_req r = { .vm = vm, .spec = spec };

	hg_on_loop(vm, hg_add_cb, &r);
	if (err)
		strcpy(err, r.err);
	return r.ret;
}

static inline int hg_del(struct vm *vm, const char *id,
			 enum pci_unplug_mode mode, char *err)
{
	struct hg_req r = { .vm = vm, .id = id, .mode = mode };

	hg_on_loop(vm, hg_del_cb, &r);
	if (err)
		strcpy(err, r.err);
	return r.ret;
}

/* A packet-socket netdev "id"; returns the peer end. */
static inline int hg_netdev(struct vm *vm, const char *id)
{
	struct netdev *nd;
	int sv[2];

	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0,
				    sv), 0);
	assert_int_equal(netdev_fd_open(vm, id, sv[0], 12, 0, &nd), 0);
	assert_int_equal(netdev_register(nd), 0);
	return sv[1];
}

/* ---- the machine the hotplug tests plug into ---- */

#define HG_NETDEVS	4

/*
 * A VM with the host bridge, root ports rp1 and rp2 and packet-socket
 * netdevs PREFIX0..PREFIX3; the test keeps the peers' ends.
 */
struct hg_machine {
	struct vm vm;
	struct pci_root_port *rp1, *rp2;
	int peers[HG_NETDEVS];
};

static inline void hg_machine_init(struct hg_machine *m, const char *prefix)
{
	struct root_port_params p;
	char id[16];

	drv_vm_init(&m->vm);
	assert_int_equal(pci_host_create(&m->vm), 0);
	root_port_params_default(&p, "rp1");
	assert_int_equal(root_port_new(&m->vm, &p, &m->rp1), 0);
	root_port_params_default(&p, "rp2");
	assert_int_equal(root_port_new(&m->vm, &p, &m->rp2), 0);
	for (int i = 0; i < HG_NETDEVS; i++) {
		snprintf(id, sizeof(id), "%s%d", prefix, i);
		m->peers[i] = hg_netdev(&m->vm, id);
	}
}

/* Events recorded from here on; the event loop runs. */
static inline void hg_machine_start(struct hg_machine *m)
{
	hg_events_reset();
	assert_int_equal(evloop_start(&m->vm.loop), 0);
}

static inline void hg_machine_destroy(struct hg_machine *m)
{
	evloop_stop(&m->vm.loop);
	for (int i = 0; i < HG_NETDEVS; i++)
		close(m->peers[i]);
	drv_vm_destroy(&m->vm);
	pci_machine_destroy(&m->vm);
	pci_hotplug_event_hook = NULL;
}

#endif
