// SPDX-License-Identifier: MIT
#include <errno.h>
#include <sys/ioctl.h>
#include <linux/kvm.h>

#include "core/ioeventfd.h"
#include "core/log.h"
#include "core/vm.h"

static int ioeventfd_ioctl(struct vm *vm, struct ioeventfd *ev, bool deassign)
{
	struct kvm_ioeventfd k = {
		.addr = ev->addr, .len = ev->len, .fd = ev->fd,
		.datamatch = ev->datamatch ? ev->data : 0,
	};

	if (ev->pio)
		k.flags |= KVM_IOEVENTFD_FLAG_PIO;
	if (ev->datamatch)
		k.flags |= KVM_IOEVENTFD_FLAG_DATAMATCH;
	if (deassign)
		k.flags |= KVM_IOEVENTFD_FLAG_DEASSIGN;
	if (vm->vm_fd < 0)
		return -EBADF;	/* unit tests run without KVM */
	return ioctl(vm->vm_fd, KVM_IOEVENTFD, &k) < 0 ? -errno : 0;
}

int ioeventfd_assign(struct vm *vm, struct ioeventfd *ev)
{
	int ret;

	if (ev->assigned)
		return 0;
	ret = ioeventfd_ioctl(vm, ev, false);
	if (!ret)
		ev->assigned = true;
	return ret;
}

void ioeventfd_deassign(struct vm *vm, struct ioeventfd *ev)
{
	int ret;

	if (!ev->assigned)
		return;
	ret = ioeventfd_ioctl(vm, ev, true);
	if (ret)
		pr_warn("ioeventfd: deassign at 0x%llx failed: %d",
			(unsigned long long)ev->addr, ret);
	ev->assigned = false;
}
