/* SPDX-License-Identifier: MIT */
#ifndef FVMM_MACHINE_PC_H
#define FVMM_MACHINE_PC_H

#include "core/vm.h"

/*
 * fvmm's one machine: the legacy devices (UART, i8042 reset, PM1a power
 * off), then the PCI host, its root ports and the --device NICs with their
 * failover pairs.  main() hands it to vm_create(); the core never names a
 * device.
 */
extern const struct vm_machine fvmm_pc_machine;

#endif
