// SPDX-License-Identifier: MIT
/*
 * Devices in root port slots: build and plug, orderly and surprise removal,
 * deferred destruction, DEVICE_DELETED, x-query-hotplug.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "control/qmp.h"
#include "core/log.h"
#include "core/util.h"
#include "core/vm.h"
#include "dev/e1000.h"
#include "failover/failover.h"
#include "net/net.h"
#include "pci/hotplug.h"
#include "pci/pci_host.h"
#include "pci/root_port.h"
#include "virtio/virtio_net.h"

enum hp_state {
	HP_PLUGGED,		/* in its slot */
	HP_UNPLUGGING,		/* button pressed, waiting for power off */
	HP_EJECTED,		/* out of the slot, destruction scheduled */
};

/* A NIC fvmm put in a root port slot, until DEVICE_DELETED. */
struct hp_dev {
	struct vm *vm;
	char id[64];
	char driver[32];
	struct device *dev;
	struct pci_root_port *rp;
	enum hp_state state;
	enum pci_unplug_mode mode;
	uint64_t requested_ns;		/* when the removal was asked for */
	struct hp_dev *next;
};

struct pci_hotplug {
	struct vm *vm;
	struct hp_dev *devs;		/* under the host lock */
	struct failover *fo;
};

void (*pci_hotplug_event_hook)(struct vm *vm, const char *name,
			       json_t *data);

void pci_hotplug_emit(struct vm *vm, const char *name, json_t *data)
{
	if (pci_hotplug_event_hook)
		pci_hotplug_event_hook(vm, name, data);
	else
		qmp_event(vm, name, data);
}

struct pci_hotplug *pci_hotplug_get(struct vm *vm)
{
	struct pci_host *h = vm->pci;
	struct pci_hotplug *hp;

	pci_host_lock(h);
	hp = h->hp;
	if (!hp) {
		hp = calloc(1, sizeof(*hp));
		if (hp) {
			hp->vm = vm;
			hp->fo = failover_new(vm);
			if (!hp->fo) {
				free(hp);
				hp = NULL;
			}
		}
		h->hp = hp;
	}
	pci_host_unlock(h);
	return hp;
}

struct failover *pci_hotplug_failover(struct vm *vm)
{
	struct pci_hotplug *hp = pci_hotplug_get(vm);

	return hp ? hp->fo : NULL;
}

void pci_hotplug_free(struct pci_host *h)
{
	struct pci_hotplug *hp = h->hp;
	struct hp_dev *d;

	if (!hp)
		return;
	while ((d = hp->devs)) {
		hp->devs = d->next;
		free(d);
	}
	failover_free(hp->fo);
	free(hp);
	h->hp = NULL;
}

/* With the host lock. */
static struct hp_dev *hp_find(struct pci_hotplug *hp, const char *id)
{
	for (struct hp_dev *d = hp->devs; d; d = d->next)
		if (!strcmp(d->id, id))
			return d;
	return NULL;
}

static struct hp_dev *hp_find_port(struct pci_hotplug *hp,
				   const struct pci_root_port *rp)
{
	for (struct hp_dev *d = hp->devs; d; d = d->next)
		if (d->rp == rp && d->state != HP_EJECTED)
			return d;
	return NULL;
}

bool pci_hotplug_has(struct vm *vm, const char *id)
{
	struct pci_hotplug *hp = pci_hotplug_get(vm);
	bool ret;

	if (!hp)
		return false;
	pci_host_lock(vm->pci);
	ret = hp_find(hp, id) != NULL;
	pci_host_unlock(vm->pci);
	return ret;
}

/* ---- removal ---- */

/* Loop thread: the card is out of its slot; free it and say so. */
static void hp_finish(void *opaque)
{
	struct hp_dev *d = opaque;
	struct vm *vm = d->vm;
	struct pci_hotplug *hp = vm->pci->hp;

	vm_remove_device(vm, d->dev);
	d->dev->ops->destroy(d->dev);
	pci_host_lock(vm->pci);
	for (struct hp_dev **pp = &hp->devs; *pp; pp = &(*pp)->next) {
		if (*pp == d) {
			*pp = d->next;
			break;
		}
	}
	pci_host_unlock(vm->pci);
	failover_device_deleted(vm, d->id);
	pci_hotplug_emit(vm, "DEVICE_DELETED",
			 json_pack("{s:s, s:s+}", "device", d->id, "path",
				   "/machine/peripheral/", d->id));
	pr_info("%s: removed from %s", d->id, d->rp->dev.id);
	free(d);
}

/* Host lock held, any thread: schedule the rest on the loop. */
static void hp_ejected(struct pci_root_port *rp, struct device *dev,
		       void *opaque)
{
	struct hp_dev *d = opaque;
	int ret;

	d->state = HP_EJECTED;
	ret = evloop_call(&d->vm->loop, hp_finish, d);
	if (ret)
		pr_err("%s: cannot schedule the removal: %s (freed at exit)",
		       d->id, strerror(-ret));
}

int pci_hotplug_del(struct vm *vm, const char *id, enum pci_unplug_mode mode,
		    char *err, size_t errlen)
{
	struct pci_hotplug *hp = pci_hotplug_get(vm);
	struct hp_dev *d;
	int ret;

	if (!hp)
		return errf(err, errlen, -ENOMEM, "Out of memory");
	/* Before the card goes, outside the host lock: the fabric moves
	 * while the card still works.  Harmless if the request fails. */
	if (mode == PCI_UNPLUG_SURPRISE)
		failover_primary_leaving(vm, id);
	pci_host_lock(vm->pci);
	d = hp_find(hp, id);
	if (!d) {
		pci_host_unlock(vm->pci);
		if (failover_del_hidden(vm, id))
			return 0;
		if (vm_find_device(vm, id))
			return errf(err, errlen, -EINVAL,
				    "Bus '%s' does not support hotplugging",
				    PCI_BUS0_NAME);
		return errf(err, errlen, -ENOENT, "Device '%s' not found", id);
	}
	if (d->state == HP_EJECTED ||
	    (d->state == HP_UNPLUGGING && mode == PCI_UNPLUG_ORDERLY)) {
		ret = -EBUSY;
		goto busy;
	}
	d->mode = mode;
	if (mode == PCI_UNPLUG_SURPRISE) {
		ret = root_port_eject(d->rp);
	} else {
		ret = root_port_request_removal(d->rp);
		if (!ret) {
			d->state = HP_UNPLUGGING;
			d->requested_ns = now_ns();
		}
	}
	pci_host_unlock(vm->pci);
	if (ret == -EAGAIN)
		return errf(err, errlen, ret,
			    "Hot-unplug failed: guest is busy (power indicator blinking)");
	if (ret < 0)
		return errf(err, errlen, ret, "Cannot unplug '%s': %s", id,
			    strerror(-ret));
	return 0;

busy:
	pci_host_unlock(vm->pci);
	return errf(err, errlen, ret,
		    "Device %s is already in the process of unplug", id);
}

/* ---- build and plug ---- */

struct nic_built {
	struct device *dev;
	struct pci_dev *pd;
};

static int build_virtio(struct vm *vm, const struct pci_nic_params *p,
			struct netdev *nd, struct nic_built *b)
{
	struct virtio_net *n;
	int ret;

	ret = virtio_net_new(vm, p->id, nd, p->mac, p->failover, &n);
	if (ret)
		return ret;
	ret = virtio_pci_start(&n->vp);
	if (ret) {
		virtio_net_free(n);
		return ret;
	}
	*b = (struct nic_built){ &n->dev, &n->vp.pci };
	return 0;
}

static int build_e1000(struct vm *vm, const struct pci_nic_params *p,
		       struct netdev *nd, struct nic_built *b)
{
	struct e1000_params ep = { .slot = p->slot };
	struct e1000 *e;
	int ret;

	snprintf(ep.id, sizeof(ep.id), "%s", p->id);
	snprintf(ep.netdev, sizeof(ep.netdev), "%s", p->netdev);
	snprintf(ep.failover_pair_id, sizeof(ep.failover_pair_id), "%s",
		 p->failover_pair_id);
	snprintf(ep.bus, sizeof(ep.bus), "%s", p->bus);
	memcpy(ep.mac, p->mac, 6);
	ret = e1000_new(vm, &ep, nd, &e);
	if (ret)
		return ret;
	ret = e1000_start(e);
	if (ret) {
		e1000_destroy(e);
		return ret;
	}
	*b = (struct nic_built){ &e->dev, &e->pci };
	return 0;
}

/* Host lock held: may p go into rp's slot? */
static int hp_slot_free(struct pci_root_port *rp,
			const struct pci_nic_params *p, char *err,
			size_t errlen)
{
	if (root_port_occupied(rp))
		return errf(err, errlen, -EBUSY,
			    "PCI: slot 0 function 0 not available for %s, in use by %s,id=\"%s\"",
			    p->driver, rp->child_dev ? rp->child_dev->ops->type :
			    "a device", rp->child_dev ? rp->child_dev->id : "");
	if (rp->reserved[0] && strcmp(rp->reserved, p->id))
		return errf(err, errlen, -EBUSY,
			    "PCI: slot 0 function 0 not available for %s, reserved for failover primary '%s'",
			    p->driver, rp->reserved);
	return 0;
}

int pci_hotplug_reserve(struct vm *vm, const struct pci_nic_params *p,
			char *err, size_t errlen)
{
	struct pci_root_port *rp = root_port_find(vm, p->bus);
	int ret;

	if (!rp)
		return errf(err, errlen, -ENOENT, "Bus '%s' not found", p->bus);
	pci_host_lock(vm->pci);
	ret = hp_slot_free(rp, p, err, errlen);
	if (!ret)
		snprintf(rp->reserved, sizeof(rp->reserved), "%s", p->id);
	pci_host_unlock(vm->pci);
	return ret;
}

void pci_hotplug_unreserve(struct vm *vm, const char *bus, const char *id)
{
	struct pci_root_port *rp = root_port_find(vm, bus);

	if (!rp)
		return;
	pci_host_lock(vm->pci);
	if (!strcmp(rp->reserved, id))
		rp->reserved[0] = '\0';
	pci_host_unlock(vm->pci);
}

static int hp_insert(struct vm *vm, struct pci_root_port *rp,
		     const struct pci_nic_params *p, struct nic_built *b,
		     bool hotplug, char *err, size_t errlen)
{
	struct pci_hotplug *hp = pci_hotplug_get(vm);
	struct hp_dev *d = calloc(1, sizeof(*d));
	int ret;

	if (!hp || !d) {
		free(d);
		return errf(err, errlen, -ENOMEM, "Out of memory");
	}
	*d = (struct hp_dev){ .vm = vm, .dev = b->dev, .rp = rp };
	snprintf(d->id, sizeof(d->id), "%s", p->id);
	snprintf(d->driver, sizeof(d->driver), "%s", p->driver);
	pci_host_lock(vm->pci);
	ret = hp_slot_free(rp, p, err, errlen);
	if (!ret)
		ret = root_port_insert(rp, b->pd, b->dev, hotplug, hp_ejected,
				       d);
	if (!ret) {
		rp->reserved[0] = '\0';
		d->next = hp->devs;
		hp->devs = d;
	}
	pci_host_unlock(vm->pci);
	if (ret)
		free(d);
	return ret;
}

/* A card added to a stopped VM stays stopped until cont resumes all. */
static void hp_match_run_state(struct vm *vm, struct device *dev)
{
	bool paused;

	pthread_mutex_lock(&vm->lock);
	paused = vm->state == VM_PAUSED;
	pthread_mutex_unlock(&vm->lock);
	if (paused && dev->ops->pause)
		dev->ops->pause(dev);
}

int pci_hotplug_plug(struct vm *vm, const struct pci_nic_params *p,
		     bool hotplug, char *err, size_t errlen)
{
	struct pci_root_port *rp = NULL;
	struct netdev *nd = netdev_find(vm, p->netdev);
	struct nic_built b;
	int ret;

	if (!pci_bus_is_root(p->bus)) {
		rp = root_port_find(vm, p->bus);
		if (!rp)
			return errf(err, errlen, -ENOENT, "Bus '%s' not found",
				    p->bus);
	}
	if (!nd || nd->user)
		return errf(err, errlen, -EBUSY,
			    "Property '%s.netdev' can't take value '%s', it's in use",
			    p->driver, p->netdev);
	if (rp) {
		pci_host_lock(vm->pci);
		ret = hp_slot_free(rp, p, err, errlen);
		pci_host_unlock(vm->pci);
		if (ret)
			return ret;
	}
	ret = !strcmp(p->driver, "e1000") ? build_e1000(vm, p, nd, &b) :
					    build_virtio(vm, p, nd, &b);
	if (ret)
		return errf(err, errlen, ret,
			    "Device '%s' could not be initialized: %s", p->id,
			    strerror(-ret));
	/* Listed first, reachable second: the guest never sees a stranger. */
	vm_add_device(vm, b.dev);
	hp_match_run_state(vm, b.dev);
	if (rp) {
		ret = hp_insert(vm, rp, p, &b, hotplug, err, errlen);
	} else {
		ret = pci_host_add(vm->pci, b.pd, p->slot);
		if (ret && p->slot >= 0)
			errf(err, errlen, ret,
			     "PCI: slot %d function 0 not available for %s",
			     p->slot, p->driver);
		else if (ret)
			errf(err, errlen, ret, "No free slot on %s for %s",
			     PCI_BUS0_NAME, p->driver);
	}
	if (ret) {
		vm_remove_device(vm, b.dev);
		b.dev->ops->destroy(b.dev);
		return ret;
	}
	if (p->failover)
		failover_watch_standby(vm, p->id);
	pr_info("%s: %s on %s", p->id, hotplug ? "hot-plugged" : "plugged",
		p->bus);
	return 0;
}

int pci_hotplug_add(struct vm *vm, struct opts *o, bool hotplug, char *err,
		    size_t errlen)
{
	struct pci_nic_params p;
	int ret;

	ret = pci_nic_parse(vm, o, hotplug, &p, err, errlen);
	if (ret)
		return ret;
	if (p.failover_pool)
		return failover_add_pool(vm, &p, err, errlen);
	if (p.failover_pair_id[0]) {
		ret = failover_add_primary(vm, &p, err, errlen);
		if (ret <= 0)
			return ret;	/* hidden, or refused */
	}
	ret = pci_hotplug_plug(vm, &p, hotplug, err, errlen);
	if (!ret && p.failover_pair_id[0])
		failover_primary_plugged(vm, &p);
	return ret;
}

/* ---- x-query-hotplug ---- */

static const char *hp_state_name(const struct pci_root_port *rp,
				 const struct hp_dev *d)
{
	if (d && d->state == HP_UNPLUGGING)
		return "unplug-pending";
	if (d && d->state == HP_EJECTED)
		return "removing";
	if (root_port_occupied(rp))
		return "occupied";
	return rp->reserved[0] ? "reserved" : "empty";
}

static json_t *hp_port_json(struct pci_hotplug *hp, struct pci_root_port *rp,
			    uint64_t now)
{
	const struct pcie_slot *s = &rp->slot;
	struct hp_dev *d = hp ? hp_find_port(hp, rp) : NULL;
	json_t *o;

	o = json_pack("{s:s, s:i, s:i, s:i, s:i, s:s, s:b, s:b, s:s, s:s, s:s, s:i, s:i, s:b, s:I}",
		      "id", rp->dev.id, "addr", PCI_SLOT(rp->pci.devfn),
		      "secondary-bus", pci_bridge_secondary(&rp->br),
		      "chassis", rp->chassis, "physical-slot", rp->psn,
		      "state", hp_state_name(rp, d),
		      "presence", s->occupied, "link-active", s->link_active,
		      "power", pcie_slot_powered(s) ? "on" : "off",
		      "power-indicator",
		      pcie_slot_indicator_name(pcie_slot_power_indicator(s)),
		      "attention-indicator",
		      pcie_slot_indicator_name(pcie_slot_attention_indicator(s)),
		      "slot-control", s->ctl, "slot-status", s->sta,
		      "interrupt", s->irq, "msi-sent", (json_int_t)rp->msi.sent);
	if (!o)
		return NULL;
	if (rp->child_dev)
		json_object_set_new(o, "device", json_string(rp->child_dev->id));
	if (rp->reserved[0])
		json_object_set_new(o, "reserved-for", json_string(rp->reserved));
	if (d && d->state == HP_UNPLUGGING)
		json_object_set_new(o, "unplug", json_pack(
			"{s:s, s:s, s:I}", "device", d->id, "mode", "orderly",
			"pending-ms",
			(json_int_t)((now - d->requested_ns) / 1000000)));
	return o;
}

json_t *pci_hotplug_query(struct vm *vm)
{
	struct pci_hotplug *hp = pci_hotplug_get(vm);
	struct pci_host *h = vm->pci;
	json_t *list = json_array();
	uint64_t now = now_ns();

	if (!list)
		return NULL;
	pci_host_lock(h);
	for (unsigned i = 0; i < h->nr_ports; i++) {
		if (json_array_append_new(list, hp_port_json(hp, h->ports[i],
							      now))) {
			json_decref(list);
			list = NULL;
			break;
		}
	}
	pci_host_unlock(h);
	return list;
}
