// SPDX-License-Identifier: MIT
/*
 * One thread per vCPU running the KVM_RUN loop.  Port and MMIO exits are
 * dispatched to the buses; everything that ends or pauses the VM goes
 * through struct vm, so this file knows nothing about devices.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "arch/x86/boot.h"
#include "core/log.h"
#include "core/vcpu.h"
#include "core/vm.h"

#define VCPU_KICK_SIGNAL	SIGUSR1

static void vcpu_kick_handler(int sig)
{
	(void)sig;	/* only there to interrupt KVM_RUN with EINTR */
}

int vcpu_signals_init(void)
{
	struct sigaction sa = { .sa_handler = vcpu_kick_handler };

	sigemptyset(&sa.sa_mask);
	return sigaction(VCPU_KICK_SIGNAL, &sa, NULL) < 0 ? -errno : 0;
}

int vcpu_create(struct vm *vm, struct vcpu *v, unsigned index,
		const struct kvm_cpuid2 *cpuid)
{
	int ret;

	memset(v, 0, sizeof(*v));
	v->vm = vm;
	v->index = index;
	v->fd = ioctl(vm->vm_fd, KVM_CREATE_VCPU, index);
	if (v->fd < 0)
		return -errno;
	v->run = mmap(NULL, vm->run_size, PROT_READ | PROT_WRITE, MAP_SHARED,
		      v->fd, 0);
	if (v->run == MAP_FAILED) {
		ret = -errno;
		goto close_fd;
	}
	if (ioctl(v->fd, KVM_SET_CPUID2, cpuid) < 0) {
		ret = -errno;
		goto unmap_run;
	}
	return 0;

unmap_run:
	munmap(v->run, vm->run_size);
close_fd:
	close(v->fd);
	v->fd = -1;
	return ret;
}

void vcpu_destroy(struct vcpu *v)
{
	if (v->fd < 0)
		return;
	munmap(v->run, v->vm->run_size);
	close(v->fd);
	v->fd = -1;
}

static void flat_segment(struct kvm_segment *s, uint16_t sel, uint8_t type)
{
	*s = (struct kvm_segment){
		.base = 0, .limit = 0xffffffff, .selector = sel, .type = type,
		.present = 1, .dpl = 0, .db = 1, .s = 1, .l = 0, .g = 1,
	};
}

int vcpu_setup_boot(struct vcpu *v, const struct boot_info *bi)
{
	struct kvm_regs regs = { .rflags = 0x2 };
	struct kvm_sregs sregs;

	if (ioctl(v->fd, KVM_GET_SREGS, &sregs) < 0)
		return -errno;
	flat_segment(&sregs.cs, 0x10, 0xb);	/* execute/read, accessed */
	flat_segment(&sregs.ds, 0x18, 0x3);	/* read/write, accessed */
	sregs.es = sregs.fs = sregs.gs = sregs.ss = sregs.ds;
	sregs.cr0 = 0x11;			/* PE | ET, paging off */
	sregs.cr4 = 0;
	sregs.efer = 0;
	if (ioctl(v->fd, KVM_SET_SREGS, &sregs) < 0)
		return -errno;
	regs.rip = bi->entry;
	regs.rbx = bi->ebx;
	regs.rsi = bi->esi;
	return ioctl(v->fd, KVM_SET_REGS, &regs) < 0 ? -errno : 0;
}

static void vcpu_pio(struct vcpu *v)
{
	struct kvm_run *run = v->run;
	uint8_t *data = (uint8_t *)run + run->io.data_offset;
	struct vm *vm = v->vm;
	bool is_write = run->io.direction == KVM_EXIT_IO_OUT;

	/* String I/O (rep outsb) arrives as count back-to-back accesses. */
	for (uint32_t i = 0; i < run->io.count; i++, data += run->io.size) {
		/* PCI configuration cycles are not a bus region (vm.h). */
		if (vm->pio_hook &&
		    vm->pio_hook(vm->pio_hook_opaque, run->io.port, data,
				 run->io.size, is_write) == 0)
			continue;
		if (is_write)
			bus_write(&vm->pio, run->io.port, data, run->io.size);
		else
			bus_read(&vm->pio, run->io.port, data, run->io.size);
	}
}

static void vcpu_mmio(struct vcpu *v)
{
	struct kvm_run *run = v->run;
	struct vm *vm = v->vm;
	unsigned len = run->mmio.len;

	if (len > sizeof(run->mmio.data))
		return;
	if (run->mmio.is_write)
		bus_write(&vm->mmio, run->mmio.phys_addr, run->mmio.data, len);
	else
		bus_read(&vm->mmio, run->mmio.phys_addr, run->mmio.data, len);
}

void vcpu_dump(struct vcpu *v)
{
	struct kvm_regs r;
	struct kvm_sregs s;

	if (ioctl(v->fd, KVM_GET_REGS, &r) < 0 ||
	    ioctl(v->fd, KVM_GET_SREGS, &s) < 0) {
		pr_err("vcpu%u: cannot read registers: %s", v->index,
		       strerror(errno));
		return;
	}
	fprintf(stderr,
		"vcpu%u registers:\n"
		" rip %016llx rflags %016llx\n"
		" rax %016llx rbx %016llx rcx %016llx rdx %016llx\n"
		" rsi %016llx rdi %016llx rbp %016llx rsp %016llx\n"
		" r8  %016llx r9  %016llx r10 %016llx r11 %016llx\n"
		" r12 %016llx r13 %016llx r14 %016llx r15 %016llx\n"
		" cs %04x ss %04x ds %04x  cr0 %016llx cr2 %016llx\n"
		" cr3 %016llx cr4 %016llx efer %016llx\n"
		" idt base %016llx limit %04x  gdt base %016llx limit %04x\n",
		v->index, r.rip, r.rflags, r.rax, r.rbx, r.rcx, r.rdx,
		r.rsi, r.rdi, r.rbp, r.rsp, r.r8, r.r9, r.r10, r.r11,
		r.r12, r.r13, r.r14, r.r15, s.cs.selector, s.ss.selector,
		s.ds.selector, s.cr0, s.cr2, s.cr3, s.cr4, s.efer,
		s.idt.base, s.idt.limit, s.gdt.base, s.gdt.limit);
}

static void vcpu_crash(struct vcpu *v, const char *what)
{
	char why[160];

	snprintf(why, sizeof(why), "vcpu%u: %s", v->index, what);
	pr_err("%s", why);
	vcpu_dump(v);
	vm_request_exit(v->vm, 3, why);
}

static void vcpu_internal_error(struct vcpu *v)
{
	struct kvm_run *run = v->run;
	char what[128];

	snprintf(what, sizeof(what), "KVM internal error, suberror %u%s",
		 run->internal.suberror,
		 run->internal.suberror == KVM_INTERNAL_ERROR_EMULATION ?
		 " (emulation failure)" : "");
	vcpu_crash(v, what);
}

static void vcpu_system_event(struct vcpu *v)
{
	switch (v->run->system_event.type) {
	case KVM_SYSTEM_EVENT_SHUTDOWN:
		vm_request_exit(v->vm, 0, "guest shut down");
		break;
	case KVM_SYSTEM_EVENT_RESET:
		vm_request_exit(v->vm, 0, "guest requested reset");
		break;
	default:
		vcpu_crash(v, "unexpected system event");
		break;
	}
}

/* Returns false when the loop must end. */
static bool vcpu_handle_exit(struct vcpu *v)
{
	struct kvm_run *run = v->run;
	char what[96];

	switch (run->exit_reason) {
	case KVM_EXIT_IO:
		vcpu_pio(v);
		return true;
	case KVM_EXIT_MMIO:
		vcpu_mmio(v);
		return true;
	case KVM_EXIT_INTR:
		return true;
	case KVM_EXIT_HLT:
		/* Only without an in-kernel LAPIC; treat as idle. */
		usleep(1000);
		return true;
	case KVM_EXIT_SHUTDOWN:
		vcpu_crash(v, "triple fault (KVM_EXIT_SHUTDOWN)");
		return false;
	case KVM_EXIT_INTERNAL_ERROR:
		vcpu_internal_error(v);
		return false;
	case KVM_EXIT_FAIL_ENTRY:
		snprintf(what, sizeof(what), "VM entry failed, reason 0x%llx",
			 (unsigned long long)run->fail_entry.hardware_entry_failure_reason);
		vcpu_crash(v, what);
		return false;
	case KVM_EXIT_SYSTEM_EVENT:
		vcpu_system_event(v);
		return false;
	default:
		snprintf(what, sizeof(what), "unhandled exit reason %u",
			 run->exit_reason);
		vcpu_crash(v, what);
		return false;
	}
}

/*
 * KVM finishes an emulated I/O instruction (the IN's result into rax, the
 * instruction pointer past it) only on the next KVM_RUN.  State read while
 * that is pending would replay the instruction on a migration destination,
 * so before parking, enter once with immediate_exit: KVM completes it and
 * returns at once (Documentation/virt/kvm/api.rst, KVM_EXIT_IO/MMIO).
 */
static void vcpu_complete_io(struct vcpu *v)
{
	struct kvm_run *run = v->run;

	if (run->exit_reason != KVM_EXIT_IO && run->exit_reason != KVM_EXIT_MMIO)
		return;
	__atomic_store_n(&run->immediate_exit, 1, __ATOMIC_RELEASE);
	if (ioctl(v->fd, KVM_RUN, 0) == 0 || (errno != EINTR && errno != EAGAIN))
		pr_warn("vcpu%u: completing I/O before parking: %s", v->index,
			strerror(errno));
	run->immediate_exit = 0;
}

/* Park while the VM is paused; false when the VM is ending. */
static bool vcpu_may_run(struct vcpu *v)
{
	struct vm *vm = v->vm;
	bool ok;

	pthread_mutex_lock(&vm->lock);
	if (vm->state != VM_RUNNING && !vm->exiting)
		vcpu_complete_io(v);
	while (vm->state != VM_RUNNING && !vm->exiting) {
		v->parked = true;
		pthread_cond_broadcast(&vm->cond);
		pthread_cond_wait(&vm->cond, &vm->lock);
	}
	v->parked = false;
	ok = !vm->exiting;
	pthread_mutex_unlock(&vm->lock);
	return ok;
}

static void *vcpu_thread(void *arg)
{
	struct vcpu *v = arg;
	char name[16];

	snprintf(name, sizeof(name), "vcpu%u", v->index);
	pthread_setname_np(pthread_self(), name);
	while (vcpu_may_run(v)) {
		if (ioctl(v->fd, KVM_RUN, 0) < 0) {
			if (errno == EINTR || errno == EAGAIN) {
				v->run->immediate_exit = 0;
				continue;
			}
			pr_err("vcpu%u: KVM_RUN: %s", v->index, strerror(errno));
			vm_request_exit(v->vm, 1, "KVM_RUN failed");
			break;
		}
		if (!vcpu_handle_exit(v))
			break;
	}
	return NULL;
}

/* --vcpu-pin: the thread runs on its host CPU from its first instruction. */
static int vcpu_attr_pin(struct vcpu *v, pthread_attr_t *attr)
{
	const struct vm_config *cfg = &v->vm->cfg;
	cpu_set_t cpus;

	if (v->index >= cfg->nr_vcpu_pin)
		return 0;
	CPU_ZERO(&cpus);
	CPU_SET(cfg->vcpu_pin[v->index], &cpus);
	return -pthread_attr_setaffinity_np(attr, sizeof(cpus), &cpus);
}

int vcpu_start(struct vcpu *v)
{
	pthread_attr_t attr;
	sigset_t set;
	int ret;

	/* The kick signal must be deliverable to vCPU threads. */
	sigemptyset(&set);
	sigaddset(&set, VCPU_KICK_SIGNAL);
	pthread_sigmask(SIG_UNBLOCK, &set, NULL);
	ret = -pthread_attr_init(&attr);
	if (ret)
		return ret;
	ret = vcpu_attr_pin(v, &attr);
	if (!ret)
		ret = -pthread_create(&v->thread, &attr, vcpu_thread, v);
	pthread_attr_destroy(&attr);
	if (ret)
		return ret;
	v->started = true;
	return 0;
}

void vcpu_kick(struct vcpu *v)
{
	if (!v->started)
		return;
	/* immediate_exit closes the race with a thread about to enter. */
	__atomic_store_n(&v->run->immediate_exit, 1, __ATOMIC_RELEASE);
	pthread_kill(v->thread, VCPU_KICK_SIGNAL);
}

void vcpu_join(struct vcpu *v)
{
	if (!v->started)
		return;
	pthread_join(v->thread, NULL);
	v->started = false;
}
