/* SPDX-License-Identifier: MIT */
#ifndef FVMM_DEV_LEGACY_H
#define FVMM_DEV_LEGACY_H

struct vm;

/* The PC platform devices every VM has: COM1, i8042 reset, PM1a control. */
int legacy_devices_create(struct vm *vm);

#endif
