/* SPDX-License-Identifier: MIT */
#ifndef FVMM_MIGRATION_MIGRATION_H
#define FVMM_MIGRATION_MIGRATION_H

/*
 * Live migration as main() sees it.  migration_init() registers the QMP
 * commands (migrate, migrate_cancel, query-migrate, migrate-set-parameters,
 * query-migrate-parameters, migrate-incoming) and, for --incoming URI,
 * starts listening; migration_shutdown() cancels whatever runs and waits
 * for it, bounded.
 */

#include "core/vm.h"

int migration_init(struct vm *vm);
void migration_shutdown(struct vm *vm);

/* announce-initial/max/rounds/step (ms, ms, count, ms), as set by QMP. */
void mig_announce_params(unsigned *initial, unsigned *max, unsigned *rounds,
			 unsigned *step);

/* The destination side (incoming.c), started by migration_init / QMP. */
int mig_incoming_start(struct vm *vm, const char *uri, char *err,
		       size_t errlen);
void mig_incoming_shutdown(void);

#endif
