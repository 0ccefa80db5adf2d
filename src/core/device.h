/* SPDX-License-Identifier: MIT */
#ifndef FVMM_CORE_DEVICE_H
#define FVMM_CORE_DEVICE_H

#include <stdbool.h>
#include <stddef.h>

#include "core/state.h"

struct vm;
struct device;

/*
 * Device-level operations, common to every device model.  Region-level
 * operations (register reads/writes) are struct bus_ops; this table is what
 * the VM does to a device as a whole.  Every device is migratable from the
 * day it is written: save/load are mandatory, with a round-trip unit test.
 */
struct device_ops {
	const char *type;		/* "uart8250", "virtio-net-pci", ... */
	void (*reset)(struct device *dev);
	/* Stop/restart touching guest memory and backends (vm stop, migration). */
	void (*pause)(struct device *dev);
	void (*resume)(struct device *dev);
	int (*save)(struct device *dev, struct sbuf *out);
	/* Untrusted input: validate everything; err gets a one-line reason. */
	int (*load)(struct device *dev, struct sreader *in, char *err,
		    size_t errlen);
	/*
	 * Optional, on a migration destination: before the first and after
	 * the last device record, for state that spans devices.  The PCI
	 * host defers BAR mappings in between and maps every BAR in one pass
	 * at the end: a device loaded early would otherwise find its range
	 * still held by one that sits at its firmware address until its own
	 * record arrives.
	 */
	void (*load_begin)(struct device *dev);
	void (*load_end)(struct device *dev);
	/*
	 * Optional: where the device sits, for a migration destination's
	 * configuration check ("00:03.0", or "rp1/00.0" behind a root port).
	 */
	void (*location)(struct device *dev, char *buf, size_t len);
	/* NICs only: carrier seen by the guest (QMP set_link).  -ENOTSUP. */
	int (*set_link)(struct device *dev, bool up);
	/*
	 * NICs only, optional: make the network learn where the NIC is now
	 * (after a migration resumed it elsewhere): the guest's own announce
	 * where negotiated (virtio GUEST_ANNOUNCE), else a RARP from the host.
	 */
	int (*announce)(struct device *dev);
	/* Unregister regions/fds and free; called with the VM quiesced or
	 * after the device is unreachable (hot-unplug completed). */
	void (*destroy)(struct device *dev);
};

struct device {
	char id[64];			/* stable id: user's id= or a fixed name */
	const struct device_ops *ops;
	struct vm *vm;
	struct device *next;
};

#endif
