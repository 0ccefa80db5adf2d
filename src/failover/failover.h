/* SPDX-License-Identifier: MIT */
#ifndef FVMM_FAILOVER_FAILOVER_H
#define FVMM_FAILOVER_FAILOVER_H

#include <stdbool.h>
#include <stddef.h>
#include <jansson.h>

#include "pci/hotplug.h"

/*
 * virtio-net failover pairing on the host: the hiding rule for primaries.
 *
 * A primary is a NIC with failover_pair_id=STANDBY.  It is accepted only if
 * STANDBY names a virtio-net-pci with failover=on (fvmm is stricter than
 * QEMU, which silently plugs a primary whose standby is missing), if it has
 * an id, sits on a root port (a hot-pluggable bus) and the standby has no
 * other primary.  Accepted, it stays hidden - not built, its root port slot
 * reserved, its id and netdev taken - until the guest's driver accepts a
 * feature set containing VIRTIO_NET_F_STANDBY on the standby; then it is
 * hot-plugged into its slot and FAILOVER_NEGOTIATED {"device-id": STANDBY}
 * is emitted (as QEMU does, on every such negotiation, also when there is
 * no primary or it is already plugged).  A primary added after the standby
 * negotiated is plugged at once.
 *
 * A guest that resets the standby or negotiates again without STANDBY
 * changes nothing: a plugged primary stays (unplugging it is the
 * operator's or migration's call), a hidden one stays hidden.  A guest that
 * never negotiates STANDBY never sees the primary.
 *
 * device_del of a hidden primary forgets it (DEVICE_DELETED at once).
 * Deleting the standby forgets the pairing: a hidden primary is dropped
 * (with DEVICE_DELETED), a plugged one stays as a plain NIC.  Deleting a
 * plugged primary forgets the pairing unless migration unplugged it with
 * failover_unplug_primary(keep), which puts it back to hidden and held.
 *
 * Threads: everything runs on the event loop (or before it starts), except
 * the standby's negotiation callback, which only defers to the loop.
 */

struct vm;
struct failover;

struct failover *failover_new(struct vm *vm);
void failover_free(struct failover *fo);

/*
 * Checks for a primary p (QEMU's messages in err): its standby exists with
 * failover=on and has no other primary.  -EINVAL.
 */
int failover_check_primary(struct vm *vm, const struct pci_nic_params *p,
			   char *err, size_t errlen);
/*
 * Record a checked primary.  0: hidden (slot reserved); 1: the standby has
 * negotiated STANDBY already, plug it now (the caller does, then calls
 * failover_primary_plugged()).  -errno.
 */
int failover_add_primary(struct vm *vm, const struct pci_nic_params *p,
			 char *err, size_t errlen);
void failover_primary_plugged(struct vm *vm, const struct pci_nic_params *p);
/*
 * A free primary (failover_pool=on): hidden, its slot reserved, paired with
 * no standby until a migration brings one that negotiated STANDBY and has
 * no primary of its own here (src/failover/migration.c).  -errno.
 */
int failover_add_pool(struct vm *vm, const struct pci_nic_params *p,
		      char *err, size_t errlen);
/* Watch a failover=on virtio-net's negotiations (idempotent). */
int failover_watch_standby(struct vm *vm, const char *id);
/* Watch every failover=on virtio-net of the VM (end of machine init). */
void failover_watch_all(struct vm *vm);

/*
 * A plugged primary is about to vanish by surprise: its frames would die
 * with it until the guest notices and announces the standby, which takes
 * milliseconds of emulated guest code.  fvmm announces the standby's MAC
 * (a RARP on its backend) right away, so the fabric delivers to the
 * standby, where the guest's failover device already receives.
 */
void failover_primary_leaving(struct vm *vm, const char *id);
/* A device is being deleted (before DEVICE_DELETED): pairs follow. */
void failover_device_deleted(struct vm *vm, const char *id);
/* device_del of a hidden primary: forget it, emit DEVICE_DELETED. */
bool failover_del_hidden(struct vm *vm, const char *id);
/* A hidden primary holds this device id / netdev id. */
bool failover_holds_id(struct vm *vm, const char *id);
bool failover_holds_netdev(struct vm *vm, const char *netdev);

/* x-query-failover: [{standby, primary, driver, bus, state, negotiated}]. */
json_t *failover_query(struct vm *vm);

/*
 * For live migration: unplug the standby's plugged primary (mode as
 * device_del) and, when keep, hold it hidden afterwards so that
 * failover_replug_primary() can put it back (migration failed or was
 * cancelled); held primaries are not re-plugged by negotiation.
 */
int failover_unplug_primary(struct vm *vm, const char *standby,
			    enum pci_unplug_mode mode, bool keep, char *err,
			    size_t errlen);
int failover_replug_primary(struct vm *vm, const char *standby, char *err,
			    size_t errlen);

/*
 * Register failover as a migration participant (src/failover/migration.c):
 * primaries are unplugged before a migration, plugged back when it fails,
 * and plugged on the destination once the VM runs there.  Before
 * migration_init().
 */
void failover_migration_init(struct vm *vm);

#endif
