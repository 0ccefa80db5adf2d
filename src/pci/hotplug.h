/* SPDX-License-Identifier: MIT */
#ifndef FVMM_PCI_HOTPLUG_H
#define FVMM_PCI_HOTPLUG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

/*
 * NICs in root port slots: building them from options (--device at start,
 * QMP device_add later), cold and hot plug, orderly and surprise removal,
 * the record of every removal in progress, DEVICE_DELETED.
 *
 * Removal: orderly presses the slot's attention button and waits, without
 * any time limit, for the guest to power the slot off; surprise takes the
 * card away at once.  Either way the card is unreachable from the moment it
 * leaves the slot; its destruction (BARs, ioeventfds, MSI routes and
 * irqfds, kick eventfds, the claim on its netdev) runs on the event loop
 * right after, then DEVICE_DELETED {"device": ID, "path":
 * "/machine/peripheral/ID"} is emitted.  The netdev (tap) stays open: it
 * belongs to --netdev and can take the next NIC.
 *
 * Threads: control operations (add, del, query, failover plugs) run on the
 * event loop thread (QMP handlers, deferred calls), or before it starts.  A
 * guest completing a removal does so on a vCPU: that only marks the record
 * and defers the rest to the loop.  Records live under the host lock.
 */

struct vm;
struct opts;
struct pci_host;

enum pci_unplug_mode {
	PCI_UNPLUG_ORDERLY,	/* attention button; the guest powers off */
	PCI_UNPLUG_SURPRISE,	/* presence and link lost now */
};

/* A NIC as --device / device_add describe it, validated. */
struct pci_nic_params {
	char driver[32];		/* "e1000" or "virtio-net-pci" */
	char id[64];
	char netdev[64];
	uint8_t mac[6];
	bool failover;			/* virtio-net-pci: offer STANDBY */
	char failover_pair_id[64];	/* "" = not a failover primary */
	bool failover_pool;		/* a free primary for any standby */
	char bus[64];			/* "pcie.0" or a root port id */
	int slot;			/* bus 0: -1 = first free */
};

#define PCI_BUS0_NAME	"pcie.0"

/* Is name the root bus ("pcie.0", or "pci.0" as older tools say)? */
bool pci_bus_is_root(const char *name);

/*
 * Parse and validate o (o->type is the driver) in QEMU's order and with its
 * messages in err.  hotplug: the machine is running (bus 0 refuses).  No
 * side effects.  -EINVAL.
 */
int pci_nic_parse(struct vm *vm, struct opts *o, bool hotplug,
		  struct pci_nic_params *p, char *err, size_t errlen);

/*
 * device_add / --device for a NIC: parse, then either hide it (a failover
 * primary whose standby has not negotiated STANDBY) or build and plug it.
 * -EINVAL (err says why), -errno.
 */
int pci_hotplug_add(struct vm *vm, struct opts *o, bool hotplug, char *err,
		    size_t errlen);
/* Build and plug validated params (failover plugs its primaries so). */
int pci_hotplug_plug(struct vm *vm, const struct pci_nic_params *p,
		     bool hotplug, char *err, size_t errlen);
/*
 * device_del.  0: removal started (or done); DEVICE_DELETED follows.
 * -ENOENT: no such device (DeviceNotFound), -EBUSY: already being
 * removed, -EAGAIN: the guest is busy with the slot, -EINVAL: not
 * removable; err says it as QEMU does.
 */
int pci_hotplug_del(struct vm *vm, const char *id, enum pci_unplug_mode mode,
		    char *err, size_t errlen);
/*
 * Hold p's root port slot for p (a hidden failover primary): other devices
 * are refused it.  -EBUSY (err says by whom), -ENOENT.
 */
int pci_hotplug_reserve(struct vm *vm, const struct pci_nic_params *p,
			char *err, size_t errlen);
void pci_hotplug_unreserve(struct vm *vm, const char *bus, const char *id);
/* Is id a device fvmm put in a root port slot (and not yet deleted)? */
bool pci_hotplug_has(struct vm *vm, const char *id);

/* x-query-hotplug: every root port's slot, removals in progress. */
json_t *pci_hotplug_query(struct vm *vm);

/* Emit an event through QMP (or the test hook); data is stolen. */
void pci_hotplug_emit(struct vm *vm, const char *name, json_t *data);
/* Unit tests: receive events instead of QMP (data is stolen). */
extern void (*pci_hotplug_event_hook)(struct vm *vm, const char *name,
				      json_t *data);

/* Per-VM state (host->hp); created on first use, freed by the host. */
struct pci_hotplug *pci_hotplug_get(struct vm *vm);
struct failover *pci_hotplug_failover(struct vm *vm);
void pci_hotplug_free(struct pci_host *h);

#endif
