/* SPDX-License-Identifier: MIT */
#ifndef FVMM_CORE_VM_H
#define FVMM_CORE_VM_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/bus.h"
#include "core/device.h"
#include "core/evloop.h"
#include "core/guest_mem.h"

#define VM_MAX_CPUS	64
#define VM_MAX_OPTS	32

enum serial_mode { SERIAL_STDIO, SERIAL_FILE, SERIAL_NONE };

struct vm_config {
	const char *kernel;
	const char *initrd;
	const char *append;
	uint64_t mem_size;
	unsigned cpus;
	enum serial_mode serial;
	const char *serial_path;
	const char *qmp;		/* "unix:PATH" or NULL */
	const char *incoming;		/* --incoming URI or "defer"; NULL: boot */
	bool start_paused;		/* -S: stay paused (after boot setup or an
					   incoming migration) until QMP cont */
	unsigned nr_root_ports;		/* --root-ports: rp1..rpN */
	/* --vcpu-pin: host CPU of vCPU i, for i < nr_vcpu_pin (0: unpinned). */
	unsigned vcpu_pin[VM_MAX_CPUS];
	unsigned nr_vcpu_pin;
	/* Raw "--netdev"/"--device" option strings, parsed by their owners. */
	const char *netdev_opts[VM_MAX_OPTS];
	unsigned nr_netdev_opts;
	const char *device_opts[VM_MAX_OPTS];
	unsigned nr_device_opts;
};

struct vcpu;
struct irq_routing;
struct pci_host;
struct qmp_server;

/*
 * vCPUs run only in VM_RUNNING.  INMIGRATE: a destination waiting for or
 * loading its state; POSTMIGRATE: a source whose VM now runs elsewhere
 * (QEMU's RunState names; both are paused states).
 */
enum vm_run_state {
	VM_RUNNING, VM_PAUSED, VM_SHUTDOWN, VM_INMIGRATE, VM_POSTMIGRATE,
};

struct vm;

/*
 * What is built on top of the core for one machine: its devices, buses
 * and their QMP commands (src/machine/).  The core calls it without
 * knowing what is inside.
 */
struct vm_machine {
	/* After memory, the buses, the event loop and IRQ routing exist. */
	int (*create)(struct vm *vm);
	/* After every device's own destroy. */
	void (*destroy)(struct vm *vm);
};

/*
 * Port I/O that is not a bus region, tried first: 0 when handled.  PCI
 * configuration cycles come here, because what they do may register and
 * unregister bus regions, which cannot happen under the bus's lock.
 */
typedef int (*vm_pio_hook)(void *opaque, uint16_t port, void *data,
			   unsigned size, bool is_write);

struct vm {
	struct vm_config cfg;
	const struct vm_machine *machine;
	vm_pio_hook pio_hook;		/* set by the machine, or NULL */
	void *pio_hook_opaque;
	int kvm_fd;
	int vm_fd;
	int run_size;			/* KVM_GET_VCPU_MMAP_SIZE */
	struct guest_mem mem;
	struct bus pio;
	struct bus mmio;
	struct evloop loop;
	bool loop_ready;
	struct vcpu *vcpus;
	unsigned nr_vcpus;
	struct device *devices;		/* in creation order */
	struct irq_routing *irq;
	struct pci_host *pci;		/* NULL until PCI exists */
	struct qmp_server *qmp;		/* NULL without --qmp */
	/*
	 * Told about an accepted exit request before the VM stops (QMP sends
	 * SHUTDOWN from here).  guest: the guest asked; reason: QEMU's
	 * ShutdownCause name, e.g. "guest-shutdown", "host-qmp-quit".
	 */
	void (*exit_notify)(struct vm *vm, bool guest, const char *reason);

	pthread_mutex_t lock;
	pthread_cond_t cond;
	enum vm_run_state state;
	bool exiting;
	int exit_status;
	int exit_pipe[2];		/* main thread waits on [0] */
};

int vm_create(struct vm *vm, const struct vm_config *cfg,
	      const struct vm_machine *machine);
/* Starts the event loop and the vCPUs, waits for the end; returns status. */
int vm_run(struct vm *vm);
void vm_destroy(struct vm *vm);

/* Add a device to the VM's list (reset, pause, save, destroy in order). */
void vm_add_device(struct vm *vm, struct device *dev);
void vm_remove_device(struct vm *vm, struct device *dev);
struct device *vm_find_device(struct vm *vm, const char *id);

/*
 * Ask the VM to end with the given status (0 = guest powered off).  Safe from
 * any thread, including vCPU threads and device handlers; the first request
 * wins.
 */
void vm_request_exit(struct vm *vm, int status, const char *why);
/* Same, with the QEMU ShutdownCause name passed to exit_notify. */
void vm_request_exit_cause(struct vm *vm, int status, const char *why,
			   bool guest, const char *cause);

/*
 * Stop all vCPUs (they park, with any pending I/O completed so their state
 * can be read) and pause the devices / resume both from any paused state.
 * Not from a vCPU thread.
 */
void vm_pause(struct vm *vm);
void vm_resume(struct vm *vm);
/* Change between paused states (PAUSED -> POSTMIGRATE); false otherwise. */
bool vm_set_paused_state(struct vm *vm, enum vm_run_state state);
enum vm_run_state vm_get_state(struct vm *vm);

#endif
