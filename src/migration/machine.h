/* SPDX-License-Identifier: MIT */
#ifndef FVMM_MIGRATION_MACHINE_H
#define FVMM_MIGRATION_MACHINE_H

/*
 * The non-RAM parts of the stream, both directions: the configuration
 * record (what a destination must match), every device's own state record
 * by stable id, the in-kernel VM state and the vCPUs.  Devices are reached
 * only through their device_ops (save, load), never by type.
 */

#include <stddef.h>

#include "core/vm.h"
#include "migration/stream.h"

/* Once, before the vCPUs run. */
int mig_machine_init(struct vm *vm);
int mig_send_config(struct vm *vm, struct mig_writer *w);
/* The destination: 0 when the record describes this VM, else err names
 * the first difference. */
int mig_check_config(struct vm *vm, const struct mig_record *rec, char *err,
		     size_t errlen);

/*
 * The destination, around the device records: every device's load_begin
 * once the configuration matched, every load_end when the stream ended.
 */
void mig_load_begin(struct vm *vm);
void mig_load_end(struct vm *vm);

/* With the VM paused: devices, in-kernel state, vCPUs. */
int mig_send_machine(struct vm *vm, struct mig_writer *w, char *err,
		     size_t errlen);
int mig_load_device(struct vm *vm, const struct mig_record *rec, char *err,
		    size_t errlen);
int mig_load_kstate(struct vm *vm, const struct mig_record *rec, char *err,
		    size_t errlen);
/* Which vCPUs were loaded is tracked by the caller (index out). */
int mig_load_cpu(struct vm *vm, const struct mig_record *rec,
		 unsigned *index, char *err, size_t errlen);

#endif
