/* SPDX-License-Identifier: MIT */
#ifndef FVMM_FAILOVER_PAIRS_H
#define FVMM_FAILOVER_PAIRS_H

/*
 * The failover pair list, shared by failover.c (the pairing rule, plugs and
 * deletions) and migration.c (failover's part in a live migration).  Not
 * for the rest of fvmm: failover.h is the interface.
 */

#include <pthread.h>
#include <stdbool.h>

#include "pci/hotplug.h"

struct vm;

enum fo_state {
	FO_HIDDEN,		/* not built; its slot reserved */
	FO_PLUGGED,		/* a device in its slot */
};

struct fo_pair {
	char standby[64];
	struct pci_nic_params primary;	/* how to build it */
	enum fo_state state;
	bool held;		/* migration holds it hidden */
	bool keep;		/* back to hidden+held when it is deleted */
	bool migrating;		/* unplugged (or being) for a migration */
	bool replug_when_gone;	/* migration undone while its unplug ran */
	struct fo_pair *next;
};

/* A free primary (failover_pool=on), hidden, its slot reserved. */
struct fo_pool {
	struct pci_nic_params primary;
	bool used;		/* given to a standby (now one of the pairs) */
	struct fo_pool *next;
};

struct failover {
	struct vm *vm;
	pthread_mutex_t lock;	/* the lists; never held across a plug */
	struct fo_pair *pairs;
	struct fo_pool *pool;	/* in command-line order */
};

struct failover *fo_get(struct vm *vm);
/* With fo->lock held. */
struct fo_pair *fo_by_standby(struct failover *fo, const char *id);
struct fo_pair *fo_by_primary(struct failover *fo, const char *id);
/* Loop thread, fo->lock not held: plug a hidden primary.  0, or -errno
 * (logged). */
int fo_plug(struct failover *fo, const char *standby);
/* Record a pair (primary p for its failover_pair_id) in state. -ENOMEM. */
int fo_add(struct failover *fo, const struct pci_nic_params *p,
	   enum fo_state state);
/* Any thread: plug standby's hidden primary soon, on the loop (migration.c:
 * a migration was undone while the primary's unplug was still running). */
void failover_replug_later(struct vm *vm, const char *standby);

#endif
