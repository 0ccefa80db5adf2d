/* SPDX-License-Identifier: MIT */
#ifndef FVMM_MIGRATION_PARTICIPANT_H
#define FVMM_MIGRATION_PARTICIPANT_H

/*
 * Subsystems that must act around a migration register here, and the
 * migration code calls them without knowing what they are.  Failover is
 * the one today (src/failover/migration.c): it unplugs primaries before RAM
 * moves, plugs them back when the migration fails, and plugs the
 * destination's primaries once the VM runs there.
 *
 * Every callback runs on the migration thread (the source's) or the
 * incoming thread (the destination's) and may block briefly; opaque is the
 * participant's own.
 */

#include <stddef.h>

struct mig_participant {
	const char *name;
	void *opaque;
	/*
	 * Source, after connecting and before any RAM: start what must be
	 * done before the VM's memory moves.  Returns how many things are
	 * now pending (0: nothing to wait for) or -errno with err.
	 */
	int (*prepare)(void *opaque, char *err, size_t errlen);
	/* Source: how many are still pending; what (may be NULL) names one. */
	int (*pending)(void *opaque, char *what, size_t len);
	/* Source: the wait ran out and the policy says go on regardless. */
	void (*force)(void *opaque);
	/* Source: the migration failed or was cancelled after prepare. */
	void (*undo)(void *opaque);
	/* Destination: the VM runs here now. */
	void (*resumed)(void *opaque);
	struct mig_participant *next;
};

/* Before migration_init(); p must live as long as the process. */
void mig_participant_add(struct mig_participant *p);

/* For the migration code. */
int mig_participants_prepare(char *err, size_t errlen);
int mig_participants_pending(char *what, size_t len);
void mig_participants_force(void);
void mig_participants_undo(void);
void mig_participants_resumed(void);

#endif
