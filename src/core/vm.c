// SPDX-License-Identifier: MIT
/*
 * The VM object: KVM VM + memory + buses + event loop + vCPUs + devices.
 * vm_create() builds the machine in a fixed order; vm_destroy() undoes it in
 * reverse.  No device logic lives here.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysinfo.h>
#include <unistd.h>
#include <linux/kvm.h>

#include "arch/x86/boot.h"
#include "arch/x86/cpuid.h"
#include "arch/x86/mptable.h"
#include "core/irq.h"
#include "core/log.h"
#include "core/util.h"
#include "core/vcpu.h"
#include "core/vm.h"

#define KVM_TSS_ADDR		0xfffbd000ULL
#define KVM_IDENTITY_MAP_ADDR	0xfffbc000ULL

static int kvm_open(struct vm *vm)
{
	int ret;

	vm->kvm_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (vm->kvm_fd < 0) {
		ret = -errno;
		pr_err("cannot open /dev/kvm: %s", strerror(errno));
		return ret;
	}
	if (ioctl(vm->kvm_fd, KVM_GET_API_VERSION, 0) != KVM_API_VERSION) {
		pr_err("/dev/kvm: unsupported KVM API version");
		return -ENOTSUP;
	}
	if (ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_IRQCHIP) <= 0 ||
	    ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_USER_MEMORY) <= 0 ||
	    ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_IMMEDIATE_EXIT) <= 0) {
		pr_err("/dev/kvm lacks in-kernel irqchip, user memory or immediate exit");
		return -ENOTSUP;
	}
	vm->run_size = ioctl(vm->kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (vm->run_size <= 0) {
		pr_err("/dev/kvm: cannot get vCPU mmap size");
		return -ENOTSUP;
	}
	return 0;
}

static int kvm_create_machine(struct vm *vm)
{
	/*
	 * The "dummy speaker" is KVM's in-kernel port 0x61: PIT channel 2's
	 * gate and output, which guests use to calibrate their timers.
	 */
	struct kvm_pit_config pit = { .flags = KVM_PIT_SPEAKER_DUMMY };
	uint64_t ident = KVM_IDENTITY_MAP_ADDR;

	vm->vm_fd = ioctl(vm->kvm_fd, KVM_CREATE_VM, 0);
	if (vm->vm_fd < 0) {
		pr_err("KVM_CREATE_VM: %s", strerror(errno));
		return -errno;
	}
	/* Needed by VMX for real mode; harmless elsewhere. */
	if (ioctl(vm->vm_fd, KVM_SET_TSS_ADDR, KVM_TSS_ADDR) < 0 ||
	    ioctl(vm->vm_fd, KVM_SET_IDENTITY_MAP_ADDR, &ident) < 0)
		pr_debug("TSS/identity map address not set: %s", strerror(errno));
	if (ioctl(vm->vm_fd, KVM_CREATE_IRQCHIP, 0) < 0) {
		pr_err("KVM_CREATE_IRQCHIP: %s", strerror(errno));
		return -errno;
	}
	if (ioctl(vm->vm_fd, KVM_CREATE_PIT2, &pit) < 0) {
		pr_err("KVM_CREATE_PIT2: %s", strerror(errno));
		return -errno;
	}
	return 0;
}

static int check_host_memory(uint64_t size)
{
	struct sysinfo si;
	uint64_t host;

	if (sysinfo(&si) < 0)
		return 0;	/* cannot tell; let the kernel decide later */
	host = (uint64_t)si.totalram * si.mem_unit +
	       (uint64_t)si.totalswap * si.mem_unit;
	if (size > host) {
		pr_err("cannot give the guest %llu MiB: the host has %llu MiB of RAM and swap",
		       (unsigned long long)(size / MiB),
		       (unsigned long long)(host / MiB));
		return -ENOMEM;
	}
	return 0;
}

static int vm_setup_memory(struct vm *vm)
{
	int ret = check_host_memory(vm->cfg.mem_size);

	if (ret)
		return ret;
	ret = gm_init(&vm->mem, vm->cfg.mem_size);
	if (ret) {
		pr_err("cannot allocate %llu MiB of guest RAM: %s",
		       (unsigned long long)(vm->cfg.mem_size / MiB),
		       strerror(-ret));
		return ret;
	}
	for (int i = 0; i < vm->mem.nr_slots; i++) {
		struct gm_slot *s = &vm->mem.slots[i];
		struct kvm_userspace_memory_region r = {
			.slot = i, .guest_phys_addr = s->gpa,
			.memory_size = s->size,
			.userspace_addr = (uintptr_t)s->hva,
		};

		if (ioctl(vm->vm_fd, KVM_SET_USER_MEMORY_REGION, &r) < 0) {
			ret = -errno;
			pr_err("KVM_SET_USER_MEMORY_REGION: %s", strerror(errno));
			return ret;
		}
	}
	return 0;
}

static int read_file(const char *path, const char *what, uint8_t **buf,
		     size_t *len)
{
	struct stat st;
	int fd, ret = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		pr_err("cannot open %s '%s': %s", what, path, strerror(errno));
		return -errno;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		pr_err("%s '%s' is not a regular file", what, path);
		ret = -EINVAL;
		goto close_fd;
	}
	if ((uint64_t)st.st_size > 2 * GiB) {
		pr_err("%s '%s' is too large", what, path);
		ret = -EFBIG;
		goto close_fd;
	}
	*len = st.st_size;
	*buf = malloc(*len ? *len : 1);
	if (!*buf) {
		ret = -ENOMEM;
		goto close_fd;
	}
	for (size_t off = 0; off < *len;) {
		ssize_t n = read(fd, *buf + off, *len - off);

		if (n <= 0) {
			pr_err("cannot read %s '%s'", what, path);
			free(*buf);
			*buf = NULL;
			ret = -EIO;
			goto close_fd;
		}
		off += n;
	}
close_fd:
	close(fd);
	return ret;
}

static int vm_load_kernel(struct vm *vm, struct boot_info *bi)
{
	struct boot_images img = { .cmdline = vm->cfg.append };
	uint8_t *kernel = NULL, *initrd = NULL;
	char err[256] = "";
	int ret;

	ret = read_file(vm->cfg.kernel, "kernel", &kernel, &img.kernel_len);
	if (ret)
		return ret;
	img.kernel = kernel;
	if (vm->cfg.initrd) {
		ret = read_file(vm->cfg.initrd, "initrd", &initrd,
				&img.initrd_len);
		if (ret)
			goto free_kernel;
		img.initrd = initrd;
	}
	ret = boot_load(&vm->mem, &img, bi, err, sizeof(err));
	if (ret)
		pr_err("cannot load kernel '%s': %s", vm->cfg.kernel, err);
	free(initrd);
free_kernel:
	free(kernel);
	return ret;
}

static int vm_setup_firmware_tables(struct vm *vm)
{
	uint64_t size = BOOT_LOW_RESERVED_END - BOOT_BIOS_GPA;
	uint8_t *bios = gm_ptr_w(&vm->mem, BOOT_BIOS_GPA, size);
	int ret;

	if (!bios)
		return -EFAULT;
	ret = mptable_build(bios, size, BOOT_BIOS_GPA, vm->nr_vcpus);
	return ret < 0 ? ret : 0;
}

static struct kvm_cpuid2 *vm_supported_cpuid(struct vm *vm)
{
	int nent = 128;

	for (int tries = 0; tries < 6; tries++, nent *= 2) {
		struct kvm_cpuid2 *c = calloc(1, sizeof(*c) +
					      nent * sizeof(c->entries[0]));

		if (!c)
			return NULL;
		c->nent = nent;
		if (ioctl(vm->kvm_fd, KVM_GET_SUPPORTED_CPUID, c) == 0)
			return c;
		free(c);
		if (errno != E2BIG)
			return NULL;
	}
	return NULL;
}

static int vm_create_vcpus(struct vm *vm, const struct boot_info *bi)
{
	struct kvm_cpuid2 *base = vm_supported_cpuid(vm), *c;
	int ret = 0, tsc_khz;
	size_t sz;

	if (!base) {
		pr_err("KVM_GET_SUPPORTED_CPUID failed");
		return -ENOTSUP;
	}
	sz = sizeof(*base) + base->nent * sizeof(base->entries[0]);
	/* One spare entry for the timing leaf. */
	c = malloc(sz + sizeof(base->entries[0]));
	tsc_khz = ioctl(vm->vm_fd, KVM_GET_TSC_KHZ, 0);
	vm->vcpus = calloc(vm->nr_vcpus, sizeof(*vm->vcpus));
	if (!c || !vm->vcpus) {
		ret = -ENOMEM;
		goto free_cpuid;
	}
	for (unsigned i = 0; i < vm->nr_vcpus; i++)
		vm->vcpus[i].fd = -1;
	for (unsigned i = 0; i < vm->nr_vcpus; i++) {
		memcpy(c, base, sz);
		cpuid_adjust(c, i, vm->nr_vcpus);
		cpuid_add_timing_leaf(c, tsc_khz > 0 ? tsc_khz : 0);
		ret = vcpu_create(vm, &vm->vcpus[i], i, c);
		if (ret) {
			pr_err("cannot create vCPU %u: %s", i, strerror(-ret));
			goto free_cpuid;
		}
	}
	ret = vcpu_setup_boot(&vm->vcpus[0], bi);
	if (ret)
		pr_err("cannot set boot vCPU state: %s", strerror(-ret));
free_cpuid:
	free(c);
	free(base);
	return ret;
}

/*
 * --vcpu-pin names host CPUs; one fvmm may not use (cgroup cpuset,
 * taskset) would only fail when the vCPU thread starts, after the VM was
 * built: refuse it up front with the CPUs that are allowed.
 */
static int check_vcpu_pin(const struct vm_config *cfg)
{
	cpu_set_t allowed;

	if (!cfg->nr_vcpu_pin)
		return 0;
	if (sched_getaffinity(0, sizeof(allowed), &allowed) < 0) {
		pr_err("--vcpu-pin: cannot read fvmm's CPU affinity: %s",
		       strerror(errno));
		return -errno;
	}
	for (unsigned i = 0; i < cfg->nr_vcpu_pin; i++) {
		if (!CPU_ISSET(cfg->vcpu_pin[i], &allowed)) {
			pr_err("--vcpu-pin: host CPU %u (for vCPU %u) is not one fvmm may run on (%d allowed)",
			       cfg->vcpu_pin[i], i, CPU_COUNT(&allowed));
			return -EINVAL;
		}
	}
	return 0;
}

static void devices_pause(struct vm *vm)
{
	for (struct device *d = vm->devices; d; d = d->next)
		if (d->ops->pause)
			d->ops->pause(d);
}

int vm_create(struct vm *vm, const struct vm_config *cfg,
	      const struct vm_machine *machine)
{
	struct boot_info bi;
	int ret;

	memset(vm, 0, sizeof(*vm));
	vm->cfg = *cfg;
	vm->machine = machine;
	vm->kvm_fd = vm->vm_fd = -1;
	vm->exit_pipe[0] = vm->exit_pipe[1] = -1;
	vm->nr_vcpus = cfg->cpus;
	vm->mem.memfd = -1;
	pthread_mutex_init(&vm->lock, NULL);
	pthread_cond_init(&vm->cond, NULL);
	ret = check_vcpu_pin(cfg);
	if (ret)
		return ret;
	if (pipe2(vm->exit_pipe, O_CLOEXEC) < 0)
		return -errno;
	ret = vcpu_signals_init();
	if (!ret)
		ret = kvm_open(vm);
	if (!ret)
		ret = kvm_create_machine(vm);
	if (!ret)
		ret = vm_setup_memory(vm);
	if (!ret)
		ret = bus_init(&vm->pio, "pio");
	if (!ret)
		ret = bus_init(&vm->mmio, "mmio");
	if (!ret)
		ret = evloop_init(&vm->loop);
	vm->loop_ready = !ret;
	if (!ret)
		ret = irq_init(vm);
	if (!ret && machine && machine->create)
		ret = machine->create(vm);
	/*
	 * A destination's RAM, firmware tables and vCPU state all come from
	 * the stream; RAM it never receives must stay zero (migration/ram.c
	 * elides zero pages it has not written).
	 */
	memset(&bi, 0, sizeof(bi));
	if (!ret && !cfg->incoming)
		ret = vm_load_kernel(vm, &bi);
	if (!ret && !cfg->incoming)
		ret = vm_setup_firmware_tables(vm);
	if (!ret)
		ret = vm_create_vcpus(vm, &bi);
	if (!ret && (cfg->incoming || cfg->start_paused)) {
		vm->state = cfg->incoming ? VM_INMIGRATE : VM_PAUSED;
		devices_pause(vm);
	}
	return ret;
}

void vm_add_device(struct vm *vm, struct device *dev)
{
	struct device **pp;

	dev->vm = vm;
	dev->next = NULL;
	pthread_mutex_lock(&vm->lock);
	for (pp = &vm->devices; *pp; pp = &(*pp)->next)
		;
	*pp = dev;
	pthread_mutex_unlock(&vm->lock);
}

void vm_remove_device(struct vm *vm, struct device *dev)
{
	pthread_mutex_lock(&vm->lock);
	for (struct device **pp = &vm->devices; *pp; pp = &(*pp)->next) {
		if (*pp == dev) {
			*pp = dev->next;
			break;
		}
	}
	pthread_mutex_unlock(&vm->lock);
}

struct device *vm_find_device(struct vm *vm, const char *id)
{
	struct device *d;

	pthread_mutex_lock(&vm->lock);
	for (d = vm->devices; d; d = d->next)
		if (!strcmp(d->id, id))
			break;
	pthread_mutex_unlock(&vm->lock);
	return d;
}

void vm_request_exit(struct vm *vm, int status, const char *why)
{
	vm_request_exit_cause(vm, status, why, true,
			      status ? "guest-panic" : "guest-shutdown");
}

void vm_request_exit_cause(struct vm *vm, int status, const char *why,
			   bool guest, const char *cause)
{
	char c = 0;

	pthread_mutex_lock(&vm->lock);
	if (vm->exiting) {
		pthread_mutex_unlock(&vm->lock);
		return;
	}
	vm->exiting = true;
	vm->exit_status = status;
	vm->state = VM_SHUTDOWN;
	pthread_cond_broadcast(&vm->cond);
	pthread_mutex_unlock(&vm->lock);
	pr_info("%s", why);
	if (vm->exit_notify)
		vm->exit_notify(vm, guest, cause);
	for (unsigned i = 0; i < vm->nr_vcpus; i++)
		vcpu_kick(&vm->vcpus[i]);
	if (write(vm->exit_pipe[1], &c, 1) < 0)
		pr_warn("exit notification failed: %s", strerror(errno));
}

void vm_pause(struct vm *vm)
{
	pthread_mutex_lock(&vm->lock);
	if (vm->state != VM_RUNNING) {
		pthread_mutex_unlock(&vm->lock);
		return;
	}
	vm->state = VM_PAUSED;
	pthread_mutex_unlock(&vm->lock);
	for (unsigned i = 0; i < vm->nr_vcpus; i++)
		vcpu_kick(&vm->vcpus[i]);
	pthread_mutex_lock(&vm->lock);
	for (unsigned i = 0; i < vm->nr_vcpus; i++)
		while (vm->vcpus[i].started && !vm->vcpus[i].parked &&
		       !vm->exiting)
			pthread_cond_wait(&vm->cond, &vm->lock);
	pthread_mutex_unlock(&vm->lock);
	devices_pause(vm);
}

static bool state_is_paused(enum vm_run_state s)
{
	return s == VM_PAUSED || s == VM_INMIGRATE || s == VM_POSTMIGRATE;
}

bool vm_set_paused_state(struct vm *vm, enum vm_run_state state)
{
	bool ok;

	pthread_mutex_lock(&vm->lock);
	ok = state_is_paused(vm->state) && state_is_paused(state);
	if (ok)
		vm->state = state;
	pthread_mutex_unlock(&vm->lock);
	return ok;
}

enum vm_run_state vm_get_state(struct vm *vm)
{
	enum vm_run_state s;

	pthread_mutex_lock(&vm->lock);
	s = vm->state;
	pthread_mutex_unlock(&vm->lock);
	return s;
}

void vm_resume(struct vm *vm)
{
	pthread_mutex_lock(&vm->lock);
	if (!state_is_paused(vm->state)) {
		pthread_mutex_unlock(&vm->lock);
		return;
	}
	pthread_mutex_unlock(&vm->lock);
	for (struct device *d = vm->devices; d; d = d->next)
		if (d->ops->resume)
			d->ops->resume(d);
	pthread_mutex_lock(&vm->lock);
	if (state_is_paused(vm->state))
		vm->state = VM_RUNNING;
	pthread_cond_broadcast(&vm->cond);
	pthread_mutex_unlock(&vm->lock);
}

int vm_run(struct vm *vm)
{
	char c;
	int ret;

	ret = evloop_start(&vm->loop);
	if (ret) {
		pr_err("cannot start the I/O thread: %s", strerror(-ret));
		return 1;
	}
	for (unsigned i = 0; i < vm->nr_vcpus; i++) {
		ret = vcpu_start(&vm->vcpus[i]);
		if (ret) {
			pr_err("cannot start vCPU %u: %s", i, strerror(-ret));
			vm_request_exit(vm, 1, "vCPU start failed");
			break;
		}
	}
	while (read(vm->exit_pipe[0], &c, 1) < 0 && errno == EINTR)
		;
	for (unsigned i = 0; i < vm->nr_vcpus; i++)
		vcpu_join(&vm->vcpus[i]);
	evloop_stop(&vm->loop);
	return vm->exit_status;
}

void vm_destroy(struct vm *vm)
{
	struct device *d;

	evloop_stop(&vm->loop);
	while ((d = vm->devices)) {
		vm->devices = d->next;
		if (d->ops->destroy)
			d->ops->destroy(d);
	}
	if (vm->machine && vm->machine->destroy)
		vm->machine->destroy(vm);
	if (vm->vcpus)
		for (unsigned i = 0; i < vm->nr_vcpus; i++)
			vcpu_destroy(&vm->vcpus[i]);
	free(vm->vcpus);
	irq_destroy(vm);
	if (vm->loop_ready)
		evloop_destroy(&vm->loop);
	if (vm->pio.name)
		bus_destroy(&vm->pio);
	if (vm->mmio.name)
		bus_destroy(&vm->mmio);
	gm_destroy(&vm->mem);
	if (vm->vm_fd >= 0)
		close(vm->vm_fd);
	if (vm->kvm_fd >= 0)
		close(vm->kvm_fd);
	for (int i = 0; i < 2; i++)
		if (vm->exit_pipe[i] >= 0)
			close(vm->exit_pipe[i]);
}
