/* SPDX-License-Identifier: MIT */
#ifndef FVMM_CORE_IOEVENTFD_H
#define FVMM_CORE_IOEVENTFD_H

#include <stdbool.h>
#include <stdint.h>

struct vm;

/*
 * KVM ioeventfd: a guest write of len bytes to addr (port I/O when pio)
 * signals fd inside the kernel, without a userspace exit.  With datamatch
 * only writes of exactly that value match.  Devices keep handling the same
 * address in their bus handler too, so that a missing or failed ioeventfd
 * costs speed, never correctness.
 */
struct ioeventfd {
	int fd;
	uint64_t addr;
	unsigned len;
	bool pio;
	bool datamatch;
	uint64_t data;
	bool assigned;
};

int ioeventfd_assign(struct vm *vm, struct ioeventfd *ev);
/* No-op when not assigned. */
void ioeventfd_deassign(struct vm *vm, struct ioeventfd *ev);

#endif
