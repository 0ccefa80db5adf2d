// SPDX-License-Identifier: MIT
/*
 * Failover's part in a live migration, as a migration participant
 * (src/migration/participant.h):
 *
 *   source, prepare   every pair whose standby negotiated STANDBY and whose
 *                     primary is plugged: UNPLUG_PRIMARY {device-id}, then an
 *                     orderly unplug (attention button) that keeps the
 *                     primary hidden and held afterwards;
 *   pending           primaries whose slot the guest has not powered off yet;
 *   force             x-unplug-timeout ran out with action surprise: take them
 *                     away by surprise;
 *   undo              the migration failed or was cancelled: plug them back
 *                     (at once, or as soon as a running unplug completes), so
 *                     the guest moves its transmit path back;
 *   destination,      every standby that negotiated STANDBY (its loaded
 *   resumed           state says so) gets a primary plugged: its own (a
 *                     --device with its failover_pair_id), else the first
 *                     free one of the pool (failover_pool=on); with none, or
 *                     if the plug fails, the VM stays on the standby and
 *                     x-FAILOVER_PRIMARY_UNAVAILABLE {standby, reason} says so.
 *
 * The migration threads call in here; pairs and plugs belong to the event
 * loop (failover.h), so each step runs there and the caller waits for it,
 * bounded.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/log.h"
#include "core/vm.h"
#include "failover/failover.h"
#include "failover/pairs.h"
#include "migration/participant.h"
#include "virtio/virtio_net.h"

/* The loop runs a step in microseconds; this only bounds a wedged loop. */
#define ON_LOOP_WAIT_S	5

struct fo_call {
	struct vm *vm;
	int (*fn)(struct vm *vm, char *err);
	char err[256];			/* fn's reason, in here: see on_loop */
	int ret;
	bool done;
	pthread_mutex_t lock;
	pthread_cond_t cond;
};

static void fo_call_run(void *opaque)
{
	struct fo_call *c = opaque;
	int ret = c->fn(c->vm, c->err);

	pthread_mutex_lock(&c->lock);
	c->ret = ret;
	c->done = true;
	pthread_cond_signal(&c->cond);
	pthread_mutex_unlock(&c->lock);
}

/*
 * Run fn on the loop and wait for it; err gets its reason.  On a timeout
 * the call may still run later, so c (with everything fn touches) is then
 * left to it: a small leak, never a use after free.
 */
static int on_loop(struct vm *vm, int (*fn)(struct vm *vm, char *err),
		   char *err, size_t errlen)
{
	struct fo_call *c = calloc(1, sizeof(*c));
	struct timespec until;
	int ret = 0;

	if (!c)
		return -ENOMEM;
	*c = (struct fo_call){ .vm = vm, .fn = fn };
	pthread_mutex_init(&c->lock, NULL);
	pthread_cond_init(&c->cond, NULL);
	if (evloop_call(&vm->loop, fo_call_run, c)) {
		free(c);
		return -ENOMEM;
	}
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += ON_LOOP_WAIT_S;
	pthread_mutex_lock(&c->lock);
	while (!c->done && !ret)
		ret = -pthread_cond_timedwait(&c->cond, &c->lock, &until);
	if (c->done) {
		ret = c->ret;
		if (err && errlen)
			snprintf(err, errlen, "%s", c->err);
	}
	pthread_mutex_unlock(&c->lock);
	if (!c->done) {
		pr_err("failover: the event loop did not answer within %d s",
		       ON_LOOP_WAIT_S);
		return -ETIMEDOUT;
	}
	free(c);
	return ret;
}

/* Snapshot of the pairs, so that nothing is called with fo->lock held. */
struct fo_snap {
	char standby[64], primary[64];
	enum fo_state state;
	bool held, migrating;
};

#define FO_SNAP_MAX	32

static int snapshot(struct failover *fo, struct fo_snap *s)
{
	int n = 0;

	pthread_mutex_lock(&fo->lock);
	for (struct fo_pair *p = fo->pairs; p && n < FO_SNAP_MAX; p = p->next) {
		snprintf(s[n].standby, sizeof(s[n].standby), "%s", p->standby);
		snprintf(s[n].primary, sizeof(s[n].primary), "%s", p->primary.id);
		s[n].state = p->state;
		s[n].held = p->held;
		s[n].migrating = p->migrating;
		n++;
	}
	pthread_mutex_unlock(&fo->lock);
	return n;
}

static void set_migrating(struct failover *fo, const char *standby, bool on)
{
	struct fo_pair *p;

	pthread_mutex_lock(&fo->lock);
	p = fo_by_standby(fo, standby);
	if (p) {
		p->migrating = on;
		/* An earlier migration's pending plug-back is void now. */
		p->replug_when_gone = false;
	}
	pthread_mutex_unlock(&fo->lock);
}

/* ---- source ---- */

static int do_prepare(struct vm *vm, char *err)
{
	struct failover *fo = fo_get(vm);
	struct fo_snap s[FO_SNAP_MAX];
	int n, count = 0, ret;

	if (!fo)
		return 0;
	n = snapshot(fo, s);
	for (int i = 0; i < n; i++) {
		if (s[i].state != FO_PLUGGED ||
		    virtio_net_standby_negotiated(vm, s[i].standby) <= 0)
			continue;
		set_migrating(fo, s[i].standby, true);
		pci_hotplug_emit(vm, "UNPLUG_PRIMARY",
				 json_pack("{s:s}", "device-id", s[i].primary));
		ret = failover_unplug_primary(vm, s[i].standby,
					      PCI_UNPLUG_ORDERLY, true, err,
					      sizeof(((struct fo_call *)0)->err));
		if (ret && ret != -EBUSY) {
			set_migrating(fo, s[i].standby, false);
			return ret;
		}
		pr_info("migration: unplugging failover primary %s of %s",
			s[i].primary, s[i].standby);
		count++;
	}
	return count;
}

static int fo_mig_prepare(void *opaque, char *err, size_t errlen)
{
	char e[256] = "";
	int ret = on_loop(opaque, do_prepare, e, sizeof(e));

	if (ret < 0)
		snprintf(err, errlen, "cannot unplug the failover primaries: %s",
			 e[0] ? e : strerror(-ret));
	return ret;
}

/* Any thread: only reads the list under its lock. */
static int fo_mig_pending(void *opaque, char *what, size_t len)
{
	struct failover *fo = fo_get(opaque);
	int count = 0;

	if (!fo)
		return 0;
	pthread_mutex_lock(&fo->lock);
	for (struct fo_pair *p = fo->pairs; p; p = p->next) {
		if (!p->migrating || p->state != FO_PLUGGED)
			continue;
		if (!count && what && len)
			snprintf(what, len, "failover primary '%s'",
				 p->primary.id);
		count++;
	}
	pthread_mutex_unlock(&fo->lock);
	return count;
}

static int do_force(struct vm *vm, char *err)
{
	struct failover *fo = fo_get(vm);
	struct fo_snap s[FO_SNAP_MAX];
	int n;

	if (!fo)
		return 0;
	n = snapshot(fo, s);
	for (int i = 0; i < n; i++) {
		if (!s[i].migrating || s[i].state != FO_PLUGGED)
			continue;
		if (pci_hotplug_del(vm, s[i].primary, PCI_UNPLUG_SURPRISE, err,
				    sizeof(((struct fo_call *)0)->err)))
			pr_warn("migration: surprise removal of %s: %s",
				s[i].primary, err);
	}
	return 0;
}

static void fo_mig_force(void *opaque)
{
	on_loop(opaque, do_force, NULL, 0);
}

static int do_undo(struct vm *vm, char *err)
{
	struct failover *fo = fo_get(vm);
	struct fo_pair *p;
	char standby[FO_SNAP_MAX][64];
	int n = 0;

	if (!fo)
		return 0;
	pthread_mutex_lock(&fo->lock);
	for (p = fo->pairs; p; p = p->next) {
		if (!p->migrating)
			continue;
		p->migrating = false;
		if (p->state == FO_PLUGGED) {
			/* Its unplug still runs: plug it back once done. */
			p->replug_when_gone = p->keep;
			continue;
		}
		if (n < FO_SNAP_MAX)
			snprintf(standby[n++], sizeof(standby[0]), "%s",
				 p->standby);
	}
	pthread_mutex_unlock(&fo->lock);
	for (int i = 0; i < n; i++) {
		if (failover_replug_primary(vm, standby[i], err,
					    sizeof(((struct fo_call *)0)->err)))
			pr_err("migration: cannot plug back the primary of %s: %s",
			       standby[i], err);
		else
			pr_info("migration: failover primary of %s plugged back",
				standby[i]);
	}
	return 0;
}

static void fo_mig_undo(void *opaque)
{
	on_loop(opaque, do_undo, NULL, 0);
}

static void replug_later(void *opaque)
{
	char **args = opaque;
	struct vm *vm = (struct vm *)args[0];
	struct failover *fo = fo_get(vm);

	if (fo && fo_plug(fo, args[1]) == 0)
		pr_info("migration: failover primary of %s plugged back",
			args[1]);
	free(args[1]);
	free(args);
}

void failover_replug_later(struct vm *vm, const char *standby)
{
	char **args = calloc(2, sizeof(*args));

	if (args && (args[1] = strdup(standby))) {
		args[0] = (char *)vm;
		if (!evloop_call(&vm->loop, replug_later, args))
			return;
		free(args[1]);
	}
	free(args);
	pr_err("failover: out of memory: the primary of %s stays away", standby);
}

/* ---- destination ---- */

static void unavailable(struct vm *vm, const char *standby, const char *why)
{
	pr_warn("migration: %s stays on its standby: %s", standby, why);
	pci_hotplug_emit(vm, "x-FAILOVER_PRIMARY_UNAVAILABLE",
			 json_pack("{s:s, s:s}", "standby", standby,
				   "reason", why));
}

/*
 * Policy: the first free pool primary in command-line order, given the
 * standby's MAC (the guest pairs by MAC).  It becomes an ordinary pair.
 */
static int take_from_pool(struct failover *fo, const struct virtio_net *n)
{
	struct pci_nic_params p;
	struct fo_pool *e;

	pthread_mutex_lock(&fo->lock);
	for (e = fo->pool; e && e->used; e = e->next)
		;
	if (e)
		e->used = true;
	pthread_mutex_unlock(&fo->lock);
	if (!e)
		return -ENOENT;
	p = e->primary;
	p.failover_pool = false;
	snprintf(p.failover_pair_id, sizeof(p.failover_pair_id), "%s",
		 n->dev.id);
	memcpy(p.mac, n->perm_mac, sizeof(p.mac));
	if (fo_add(fo, &p, FO_HIDDEN)) {
		pthread_mutex_lock(&fo->lock);
		e->used = false;
		pthread_mutex_unlock(&fo->lock);
		return -ENOMEM;
	}
	pr_info("migration: pool primary %s is now the primary of %s", p.id,
		n->dev.id);
	return 0;
}

/* Negotiated standbys that arrived without a primary of their own here. */
static void pool_for_orphans(struct vm *vm, struct failover *fo)
{
	for (struct device *d = vm->devices; d; d = d->next) {
		struct virtio_net *n = virtio_net_find(vm, d->id);
		bool paired;
		int ret;

		if (!n || !n->failover ||
		    virtio_net_standby_negotiated(vm, d->id) <= 0)
			continue;
		pthread_mutex_lock(&fo->lock);
		paired = fo_by_standby(fo, d->id) != NULL;
		pthread_mutex_unlock(&fo->lock);
		if (paired)
			continue;
		ret = take_from_pool(fo, n);
		if (ret)
			unavailable(vm, d->id, ret == -ENOENT ?
				    "no free primary in the pool" :
				    strerror(-ret));
	}
}

static int do_resumed(struct vm *vm, char *err)
{
	struct failover *fo = fo_get(vm);
	struct fo_snap s[FO_SNAP_MAX];
	int n, ret;

	(void)err;
	if (!fo)
		return 0;
	pool_for_orphans(vm, fo);
	n = snapshot(fo, s);
	for (int i = 0; i < n; i++) {
		if (s[i].state != FO_HIDDEN || s[i].held ||
		    virtio_net_standby_negotiated(vm, s[i].standby) <= 0)
			continue;
		ret = fo_plug(fo, s[i].standby);
		if (!ret) {
			pr_info("migration: failover primary %s plugged for %s",
				s[i].primary, s[i].standby);
			continue;
		}
		unavailable(vm, s[i].standby, strerror(-ret));
	}
	return 0;
}

static void fo_mig_resumed(void *opaque)
{
	on_loop(opaque, do_resumed, NULL, 0);
}

static struct mig_participant fo_participant = {
	.name = "failover",
	.prepare = fo_mig_prepare,
	.pending = fo_mig_pending,
	.force = fo_mig_force,
	.undo = fo_mig_undo,
	.resumed = fo_mig_resumed,
};

void failover_migration_init(struct vm *vm)
{
	fo_participant.opaque = vm;
	mig_participant_add(&fo_participant);
}
