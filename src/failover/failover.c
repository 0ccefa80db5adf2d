// SPDX-License-Identifier: MIT
/*
 * Failover pairs: a standby virtio-net and its primary NIC, the hiding
 * rule, FAILOVER_NEGOTIATED, and the hooks migration uses to take the
 * primary away and give it back.
 */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/util.h"
#include "core/vm.h"
#include "failover/failover.h"
#include "failover/pairs.h"
#include "pci/hotplug.h"
#include "virtio/virtio_net.h"

/* A negotiation seen on a vCPU, handled on the loop. */
struct fo_work {
	struct failover *fo;
	char standby[64];
};

struct failover *failover_new(struct vm *vm)
{
	struct failover *fo = calloc(1, sizeof(*fo));

	if (!fo)
		return NULL;
	fo->vm = vm;
	pthread_mutex_init(&fo->lock, NULL);
	return fo;
}

void failover_free(struct failover *fo)
{
	struct fo_pair *p;

	if (!fo)
		return;
	while ((p = fo->pairs)) {
		fo->pairs = p->next;
		free(p);
	}
	while (fo->pool) {
		struct fo_pool *e = fo->pool;

		fo->pool = e->next;
		free(e);
	}
	pthread_mutex_destroy(&fo->lock);
	free(fo);
}

struct failover *fo_get(struct vm *vm)
{
	return vm->pci ? pci_hotplug_failover(vm) : NULL;
}

struct fo_pair *fo_by_standby(struct failover *fo, const char *id)
{
	for (struct fo_pair *p = fo->pairs; p; p = p->next)
		if (!strcmp(p->standby, id))
			return p;
	return NULL;
}

struct fo_pair *fo_by_primary(struct failover *fo, const char *id)
{
	for (struct fo_pair *p = fo->pairs; p; p = p->next)
		if (!strcmp(p->primary.id, id))
			return p;
	return NULL;
}

static void fo_unlink(struct failover *fo, struct fo_pair *pair)
{
	for (struct fo_pair **pp = &fo->pairs; *pp; pp = &(*pp)->next) {
		if (*pp == pair) {
			*pp = pair->next;
			return;
		}
	}
}

static void fo_emit_deleted(struct vm *vm, const char *id)
{
	pci_hotplug_emit(vm, "DEVICE_DELETED",
			 json_pack("{s:s, s:s+}", "device", id, "path",
				   "/machine/peripheral/", id));
}

/* ---- the rule ---- */

int failover_check_primary(struct vm *vm, const struct pci_nic_params *p,
			   char *err, size_t errlen)
{
	struct failover *fo = fo_get(vm);
	struct virtio_net *n = virtio_net_find(vm, p->failover_pair_id);
	struct fo_pair *pair;
	int ret = 0;

	if (!fo)
		return errf(err, errlen, -ENOMEM, "Out of memory");
	if (!n || !n->failover)
		return errf(err, errlen, -EINVAL,
			    "failover_pair_id '%s' does not name a virtio-net-pci device with failover=on",
			    p->failover_pair_id);
	pthread_mutex_lock(&fo->lock);
	pair = fo_by_standby(fo, p->failover_pair_id);
	if (pair && strcmp(pair->primary.id, p->id))
		ret = errf(err, errlen, -EINVAL,
			   "Cannot attach more than one primary device to '%s': '%s' and '%s'",
			   p->failover_pair_id, pair->primary.id, p->id);
	pthread_mutex_unlock(&fo->lock);
	return ret;
}

int fo_add(struct failover *fo, const struct pci_nic_params *p,
	   enum fo_state state)
{
	struct fo_pair *pair = calloc(1, sizeof(*pair));

	if (!pair)
		return -ENOMEM;
	snprintf(pair->standby, sizeof(pair->standby), "%s",
		 p->failover_pair_id);
	pair->primary = *p;
	pair->state = state;
	pthread_mutex_lock(&fo->lock);
	pair->next = fo->pairs;
	fo->pairs = pair;
	pthread_mutex_unlock(&fo->lock);
	return 0;
}

int failover_add_primary(struct vm *vm, const struct pci_nic_params *p,
			 char *err, size_t errlen)
{
	struct failover *fo = fo_get(vm);
	int ret;

	if (!fo)
		return errf(err, errlen, -ENOMEM, "Out of memory");
	ret = failover_watch_standby(vm, p->failover_pair_id);
	if (ret)
		return errf(err, errlen, ret, "Cannot watch '%s': %s",
			    p->failover_pair_id, strerror(-ret));
	if (virtio_net_standby_negotiated(vm, p->failover_pair_id) > 0)
		return 1;
	ret = pci_hotplug_reserve(vm, p, err, errlen);
	if (ret)
		return ret;
	ret = fo_add(fo, p, FO_HIDDEN);
	if (ret) {
		pci_hotplug_unreserve(vm, p->bus, p->id);
		return errf(err, errlen, ret, "Out of memory");
	}
	pr_info("%s: failover primary of %s, hidden until the guest negotiates STANDBY",
		p->id, p->failover_pair_id);
	return 0;
}

int failover_add_pool(struct vm *vm, const struct pci_nic_params *p,
		      char *err, size_t errlen)
{
	struct failover *fo = fo_get(vm);
	struct fo_pool *e, **tail;
	int ret;

	if (!fo || !(e = calloc(1, sizeof(*e))))
		return errf(err, errlen, -ENOMEM, "Out of memory");
	ret = pci_hotplug_reserve(vm, p, err, errlen);
	if (ret) {
		free(e);
		return ret;
	}
	e->primary = *p;
	pthread_mutex_lock(&fo->lock);
	for (tail = &fo->pool; *tail; tail = &(*tail)->next)
		;
	*tail = e;
	pthread_mutex_unlock(&fo->lock);
	pr_info("%s: free failover primary on %s (pool), for a standby a migration brings",
		p->id, p->bus);
	return 0;
}

void failover_primary_plugged(struct vm *vm, const struct pci_nic_params *p)
{
	struct failover *fo = fo_get(vm);

	if (fo && fo_add(fo, p, FO_PLUGGED))
		pr_err("%s: out of memory: plugged, but not paired with %s",
		       p->id, p->failover_pair_id);
}

int fo_plug(struct failover *fo, const char *standby)
{
	struct pci_nic_params p;
	struct fo_pair *pair;
	char err[256];
	int ret;

	pthread_mutex_lock(&fo->lock);
	pair = fo_by_standby(fo, standby);
	if (!pair || pair->state != FO_HIDDEN) {
		pthread_mutex_unlock(&fo->lock);
		return -ENOENT;
	}
	p = pair->primary;
	pthread_mutex_unlock(&fo->lock);
	ret = pci_hotplug_plug(fo->vm, &p, true, err, sizeof(err));
	if (ret) {
		pr_err("failover: cannot plug primary %s of %s: %s", p.id,
		       standby, err);
		return ret;
	}
	pthread_mutex_lock(&fo->lock);
	pair = fo_by_primary(fo, p.id);
	if (pair)
		pair->state = FO_PLUGGED;
	pthread_mutex_unlock(&fo->lock);
	return 0;
}

static void fo_negotiated(void *opaque)
{
	struct fo_work *w = opaque;
	struct failover *fo = w->fo;
	struct fo_pair *pair;
	bool plug;

	pci_hotplug_emit(fo->vm, "FAILOVER_NEGOTIATED",
			 json_pack("{s:s}", "device-id", w->standby));
	pthread_mutex_lock(&fo->lock);
	pair = fo_by_standby(fo, w->standby);
	plug = pair && pair->state == FO_HIDDEN && !pair->held;
	pthread_mutex_unlock(&fo->lock);
	if (plug)
		fo_plug(fo, w->standby);
	free(w);
}

/* vCPU thread, under the standby's lock: only defer. */
static void fo_standby_cb(struct virtio_net *n, bool negotiated, void *opaque)
{
	struct failover *fo = opaque;
	struct fo_work *w;

	if (!negotiated)
		return;		/* nothing to undo: see failover.h */
	w = calloc(1, sizeof(*w));
	if (!w) {
		pr_err("failover: %s negotiated STANDBY; out of memory",
		       n->dev.id);
		return;
	}
	w->fo = fo;
	snprintf(w->standby, sizeof(w->standby), "%s", n->dev.id);
	if (evloop_call(&fo->vm->loop, fo_negotiated, w)) {
		pr_err("failover: %s negotiated STANDBY; cannot defer",
		       n->dev.id);
		free(w);
	}
}

int failover_watch_standby(struct vm *vm, const char *id)
{
	struct failover *fo = fo_get(vm);

	if (!fo)
		return -ENOMEM;
	return virtio_net_set_standby_cb(vm, id, fo_standby_cb, fo);
}

void failover_watch_all(struct vm *vm)
{
	/* Before the loop starts: the device list is not changing. */
	for (struct device *d = vm->devices; d; d = d->next) {
		struct virtio_net *n = virtio_net_find(vm, d->id);

		if (n && n->failover && failover_watch_standby(vm, d->id))
			pr_warn("failover: cannot watch %s", d->id);
	}
}

/* ---- deletions ---- */

void failover_device_deleted(struct vm *vm, const char *id)
{
	struct failover *fo = fo_get(vm);
	struct pci_nic_params dropped = { .id = "" };
	struct fo_pair *pair;

	if (!fo)
		return;
	pthread_mutex_lock(&fo->lock);
	pair = fo_by_standby(fo, id);
	if (pair) {
		if (pair->state == FO_HIDDEN)
			dropped = pair->primary;
		fo_unlink(fo, pair);
		free(pair);
	}
	pair = fo_by_primary(fo, id);
	if (pair && pair->state == FO_PLUGGED && pair->keep) {
		bool replug = pair->replug_when_gone;

		pair->state = FO_HIDDEN;
		pair->held = !replug;
		pair->keep = pair->replug_when_gone = false;
		pthread_mutex_unlock(&fo->lock);
		if (pci_hotplug_reserve(vm, &pair->primary, NULL, 0))
			pr_warn("%s: its slot is taken; it cannot come back",
				id);
		else if (replug)
			failover_replug_later(vm, pair->standby);
		return;
	}
	if (pair) {
		fo_unlink(fo, pair);
		free(pair);
	}
	pthread_mutex_unlock(&fo->lock);
	if (dropped.id[0]) {
		pci_hotplug_unreserve(vm, dropped.bus, dropped.id);
		pr_info("%s: standby %s is gone: hidden primary dropped",
			dropped.id, id);
		fo_emit_deleted(vm, dropped.id);
	}
}

bool failover_del_hidden(struct vm *vm, const char *id)
{
	struct failover *fo = fo_get(vm);
	struct fo_pair *pair;

	if (!fo)
		return false;
	pthread_mutex_lock(&fo->lock);
	pair = fo_by_primary(fo, id);
	if (!pair || pair->state != FO_HIDDEN) {
		pthread_mutex_unlock(&fo->lock);
		return false;
	}
	fo_unlink(fo, pair);
	pthread_mutex_unlock(&fo->lock);
	pci_hotplug_unreserve(vm, pair->primary.bus, pair->primary.id);
	fo_emit_deleted(vm, id);
	free(pair);
	return true;
}

static bool fo_holds(struct vm *vm, const char *id, bool netdev)
{
	struct failover *fo = fo_get(vm);
	bool ret = false;

	if (!fo)
		return false;
	pthread_mutex_lock(&fo->lock);
	for (struct fo_pair *p = fo->pairs; p && !ret; p = p->next)
		ret = p->state == FO_HIDDEN &&
		      !strcmp(netdev ? p->primary.netdev : p->primary.id, id);
	for (struct fo_pool *e = fo->pool; e && !ret; e = e->next)
		ret = !e->used &&
		      !strcmp(netdev ? e->primary.netdev : e->primary.id, id);
	pthread_mutex_unlock(&fo->lock);
	return ret;
}

bool failover_holds_id(struct vm *vm, const char *id)
{
	return fo_holds(vm, id, false);
}

bool failover_holds_netdev(struct vm *vm, const char *netdev)
{
	return fo_holds(vm, netdev, true);
}

/* ---- queries and migration ---- */

json_t *failover_query(struct vm *vm)
{
	struct failover *fo = fo_get(vm);
	json_t *list = json_array();

	if (!fo || !list)
		return list;
	pthread_mutex_lock(&fo->lock);
	for (struct fo_pair *p = fo->pairs; p; p = p->next)
		json_array_append_new(list, json_pack(
			"{s:s, s:s, s:s, s:s, s:s, s:b}",
			"standby", p->standby, "primary", p->primary.id,
			"driver", p->primary.driver, "bus", p->primary.bus,
			"state", p->state == FO_HIDDEN ? "hidden" : "plugged",
			"held", p->held));
	for (struct fo_pool *e = fo->pool; e; e = e->next)
		if (!e->used)
			json_array_append_new(list, json_pack(
				"{s:s, s:s, s:s, s:s, s:s, s:b}",
				"standby", "", "primary", e->primary.id,
				"driver", e->primary.driver,
				"bus", e->primary.bus, "state", "pool",
				"held", false));
	pthread_mutex_unlock(&fo->lock);
	/* Negotiation state, read outside our lock (takes the NIC's). */
	for (size_t i = 0; i < json_array_size(list); i++) {
		json_t *o = json_array_get(list, i);
		const char *sb = json_string_value(json_object_get(o, "standby"));

		json_object_set_new(o, "negotiated", json_boolean(
			virtio_net_standby_negotiated(vm, sb) > 0));
	}
	return list;
}

void failover_primary_leaving(struct vm *vm, const char *id)
{
	struct failover *fo = fo_get(vm);
	struct fo_pair *pair;
	char standby[64];
	int ret;

	if (!fo)
		return;
	pthread_mutex_lock(&fo->lock);
	pair = fo_by_primary(fo, id);
	if (!pair || pair->state != FO_PLUGGED) {
		pthread_mutex_unlock(&fo->lock);
		return;
	}
	snprintf(standby, sizeof(standby), "%s", pair->standby);
	pthread_mutex_unlock(&fo->lock);
	ret = virtio_net_announce(vm, standby, true);
	if (ret)
		pr_warn("%s: cannot announce standby %s: %s", id, standby,
			strerror(-ret));
}

int failover_unplug_primary(struct vm *vm, const char *standby,
			    enum pci_unplug_mode mode, bool keep, char *err,
			    size_t errlen)
{
	struct failover *fo = fo_get(vm);
	struct fo_pair *pair;
	char primary[64];
	int ret;

	if (!fo)
		return errf(err, errlen, -ENOMEM, "Out of memory");
	pthread_mutex_lock(&fo->lock);
	pair = fo_by_standby(fo, standby);
	if (!pair || pair->state != FO_PLUGGED) {
		pthread_mutex_unlock(&fo->lock);
		return errf(err, errlen, -ENOENT,
			    "'%s' has no plugged failover primary", standby);
	}
	pair->keep = keep;
	snprintf(primary, sizeof(primary), "%s", pair->primary.id);
	pthread_mutex_unlock(&fo->lock);
	ret = pci_hotplug_del(vm, primary, mode, err, errlen);
	if (ret && ret != -EBUSY) {
		pthread_mutex_lock(&fo->lock);
		pair = fo_by_primary(fo, primary);
		if (pair)
			pair->keep = false;
		pthread_mutex_unlock(&fo->lock);
	}
	return ret;
}

int failover_replug_primary(struct vm *vm, const char *standby, char *err,
			    size_t errlen)
{
	struct failover *fo = fo_get(vm);
	struct fo_pair *pair;
	int ret;

	if (!fo)
		return errf(err, errlen, -ENOMEM, "Out of memory");
	pthread_mutex_lock(&fo->lock);
	pair = fo_by_standby(fo, standby);
	if (pair && pair->state == FO_HIDDEN)
		pair->held = false;
	pthread_mutex_unlock(&fo->lock);
	if (!pair || pair->state != FO_HIDDEN)
		return errf(err, errlen, -ENOENT,
			    "'%s' has no hidden failover primary", standby);
	ret = fo_plug(fo, standby);
	return ret ? errf(err, errlen, ret, "Cannot plug the primary of '%s'",
			  standby) : 0;
}
