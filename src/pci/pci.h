/* SPDX-License-Identifier: MIT */
#ifndef FVMM_PCI_PCI_H
#define FVMM_PCI_PCI_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/pci_regs.h>

#include "core/bus.h"
#include "core/state.h"

/*
 * PCI devices and the host bridge.
 *
 * Configuration space is a byte array with two masks beside it: wmask (bits
 * the guest may write) and w1cmask (bits a guest write of 1 clears).  Every
 * write goes through pci_cfg_write(), which enforces both generically, so a
 * device model only declares which bits are writable and reacts afterwards.
 *
 * BARs are declared with pci_bar_init() (type, size, bus_ops); their address
 * registers are sized by the masks alone (the guest writes all ones and reads
 * back ~(size - 1) | flags) and the region is (un)mapped on vm->pio/vm->mmio
 * whenever the command register or a BAR register changes.
 *
 * Buses behind PCI-to-PCI bridges (PCIe root ports, pci_bridge.h): a device
 * there has pd->parent set to its bridge; it decodes its BARs only inside
 * the bridge's windows, reaches the guest's DMA only while the bridge masters,
 * and its INTx is swizzled at the bridge as the PCI-to-PCI bridge spec says.
 *
 * Locking: configuration accesses from the guest arrive through
 * pci_host_pio() on a vCPU thread with the host lock held and no bus lock, so
 * mapping changes may register regions.  Order: host lock, then a device's
 * own lock, then its MSI-X lock.  The host lock is recursive: a root port
 * that resets the device in its slot (power off) runs that device's reset,
 * which takes the host lock again.
 */

struct vm;
struct msix;
struct pci_host;

#define PCI_CFG_SIZE		PCI_CFG_SPACE_EXP_SIZE	/* room for PCIe */
#define PCI_NR_BARS		6
#define PCI_NR_SLOTS		32
#define PCI_CAP_START		0x40

/*
 * INTx of bus 0 device D pin P (0 = INTA) reaches IOAPIC pin
 * PCI_INTX_GSI(D, P), level-triggered, active low: the usual swizzle over
 * GSIs 16-19 (the MP table lists the same routes).
 */
#define PCI_INTX_FIRST_GSI	16
#define PCI_INTX_GSI(dev, pin)	(PCI_INTX_FIRST_GSI + (((dev) + (pin)) & 3))

/* Where fvmm itself places BARs, as firmware would (the guest may move them). */
#define PCI_MMIO_BASE		0xC0000000ULL
#define PCI_MMIO_END		0xFEC00000ULL	/* exclusive: IOAPIC, LAPIC above */
#define PCI_IOPORT_BASE		0xC000
#define PCI_IOPORT_END		0x10000

#define PCI_DEVFN(slot, fn)	((((slot) & 0x1f) << 3) | ((fn) & 7))
#define PCI_SLOT(devfn)		(((devfn) >> 3) & 0x1f)
#define PCI_FUNC(devfn)		((devfn) & 7)

#define PCI_CLASS_BRIDGE_HOST	0x0600
#define PCI_CLASS_BRIDGE_P2P	0x0604
#define PCI_CLASS_NETWORK_ETHERNET 0x0200

/* The host bridge 00.0. */
#define PCI_HOST_VENDOR		0x8086
#define PCI_HOST_DEVICE		0x29c0

enum pci_bar_type { PCI_BAR_UNUSED, PCI_BAR_IO, PCI_BAR_MEM32, PCI_BAR_MEM64 };

struct pci_bar {
	enum pci_bar_type type;
	bool prefetch;
	uint64_t size;			/* power of two */
	const struct bus_ops *ops;
	void *opaque;
	const char *name;
	bool mapped;
	uint64_t addr;			/* valid while mapped */
};

struct pci_dev;
struct pci_bridge;

struct pci_dev_ops {
	/*
	 * Optional.  Refresh cfg bytes computed on access before a read of
	 * [off, off + size) is served.
	 */
	void (*config_read)(struct pci_dev *pd, unsigned off, unsigned size);
	/* Optional.  After a write was applied (masks enforced, BARs moved). */
	void (*config_write)(struct pci_dev *pd, unsigned off, unsigned size);
	/* Optional.  BAR bar was (un)mapped; addr is valid when mapped. */
	void (*bar_moved)(struct pci_dev *pd, int bar, bool mapped,
			  uint64_t addr);
	/*
	 * Optional.  Read-only bits of config byte off that the device
	 * changes by itself (a slot's presence), which a loaded image may
	 * hold differently from the reset image.
	 */
	uint8_t (*dynamic_bits)(const struct pci_dev *pd, unsigned off);
};

struct pci_dev {
	struct vm *vm;
	struct pci_host *host;		/* NULL until pci_host_add() */
	const struct pci_dev_ops *ops;
	void *opaque;			/* the device model */
	char name[64];
	uint8_t devfn;
	unsigned cfg_size;		/* 256 for conventional PCI */
	uint8_t cfg[PCI_CFG_SIZE];
	uint8_t wmask[PCI_CFG_SIZE];
	uint8_t w1cmask[PCI_CFG_SIZE];
	uint8_t cfg_reset[PCI_CFG_SIZE];	/* image restored on reset */
	struct pci_bar bars[PCI_NR_BARS];
	struct msix *msix;
	struct pci_dev *parent;		/* upstream bridge; NULL on bus 0 */
	struct pci_bridge *bridge;	/* set on PCI-to-PCI bridges */
	unsigned cap_next;		/* capability space allocator */
	unsigned cap_last;		/* last capability, to link the next */

	pthread_mutex_t intx_lock;
	bool intx_level;		/* what the device asks for */
	bool intx_asserted;		/* what reaches the IOAPIC */
	/* Unit tests: see INTx changes instead of an IOAPIC. */
	void (*intx_hook)(struct pci_dev *pd, bool level);
};

struct pci_intx_route {
	uint8_t bus;
	uint8_t dev;
	uint8_t pin;			/* 0 = INTA .. 3 = INTD */
	uint8_t ioapic_pin;
};

/* ---- device construction (pci.c) ---- */

/* Header type 0 with vendor/device/class (24-bit: class, subclass, prog-if). */
void pci_dev_init(struct pci_dev *pd, struct vm *vm, const char *name,
		  uint16_t vendor, uint16_t device, uint32_t class_code,
		  uint8_t revision);
void pci_dev_set_subsystem(struct pci_dev *pd, uint16_t vendor, uint16_t id);
/* Uses INTx pin 1 = INTA ... 4 = INTD. */
void pci_dev_set_intx_pin(struct pci_dev *pd, unsigned pin);
/* size: power of two, >= 4 (I/O) or >= 16 (memory).  -EINVAL. */
int pci_bar_init(struct pci_dev *pd, int bar, enum pci_bar_type type,
		 bool prefetch, uint64_t size, const struct bus_ops *ops,
		 void *opaque, const char *name);
/* Append a capability of len bytes; returns its offset or -ENOSPC. */
int pci_cap_add(struct pci_dev *pd, uint8_t id, unsigned len);
/* Offset of the first capability with this id, or 0. */
unsigned pci_cap_find(const struct pci_dev *pd, uint8_t id);

/* Set a register's value and masks (device construction only). */
void pci_set_reg(struct pci_dev *pd, unsigned off, unsigned size,
		 uint32_t val, uint32_t wmask, uint32_t w1cmask);
uint32_t pci_get_reg(const struct pci_dev *pd, unsigned off, unsigned size);

/* Does a config access of size bytes at off touch [start, start + len)? */
static inline bool pci_cfg_touches(unsigned off, unsigned size, unsigned start,
				   unsigned len)
{
	return off < start + len && start < off + size;
}

/* ---- guest-visible behaviour (pci.c) ---- */

uint32_t pci_cfg_read(struct pci_dev *pd, unsigned off, unsigned size);
void pci_cfg_write(struct pci_dev *pd, unsigned off, uint32_t val,
		   unsigned size);
/* Guest address of a BAR as programmed (0 when unused). */
uint64_t pci_bar_addr(const struct pci_dev *pd, int bar);
/* Re-evaluate all BAR mappings from config space (after load/reset). */
void pci_update_bars(struct pci_dev *pd);
/* Unmap every BAR (device removal). */
void pci_unmap_bars(struct pci_dev *pd);
/*
 * Where pd sits, by topology rather than guest-assigned bus numbers:
 * "00:DD.F" on bus 0, "BRIDGE/DD.F" behind a bridge, "unplugged".
 */
void pci_dev_location(const struct pci_dev *pd, char *buf, size_t len);
/* Level of the device's INTx line; shared GSIs are OR-ed by the host. */
void pci_set_irq(struct pci_dev *pd, bool level);
/*
 * May the device master the bus (DMA, MSI)?  Its own Bus Master Enable and
 * every upstream bridge's; false while its slot is powered off or after it
 * left its slot.  Any thread.
 */
bool pci_bus_master(const struct pci_dev *pd);
/* Guest config cycles and BARs reach it (bus 0, or powered in its slot). */
bool pci_dev_reachable(const struct pci_dev *pd);
/* Reachability changed: INTx follows (a device out of reach is quiet). */
void pci_intx_resync(struct pci_dev *pd);
/* IOAPIC pin of INTx pin (1 = INTA) after the swizzle of every bridge. */
unsigned pci_intx_gsi(const struct pci_dev *pd, unsigned pin);
/* Back to the creation-time image: config space, mappings, INTx low. */
void pci_dev_reset(struct pci_dev *pd);

/*
 * State record "pci-dev": config space and INTx level.  Loading refuses a
 * record whose read-only bytes differ from this device's (another model).
 */
int pci_dev_save(struct pci_dev *pd, struct sbuf *out);
int pci_dev_load(struct pci_dev *pd, struct sreader *in, char *err,
		 size_t errlen);

/* ---- host bridge (pci_host.c) ---- */

int pci_host_create(struct vm *vm);
void pci_host_destroy(struct vm *vm);
/*
 * Ports 0xCF8-0xCFF from the vCPU loop (no bus lock held).  Returns 0 when
 * handled, -ENOENT for accesses that are not configuration cycles (e.g. the
 * reset control byte at 0xCF9), which then go to the port bus.
 */
int pci_host_pio(struct pci_host *h, uint16_t port, void *data,
		 unsigned size, bool is_write);
/*
 * Put pd on bus 0 at slot (-1: first free), assign its BARs in the MMIO
 * hole / I/O window, enable decoding and route INTx, as firmware would.
 * -EBUSY (slot taken), -ENOSPC.
 */
int pci_host_add(struct pci_host *h, struct pci_dev *pd, int slot);
void pci_host_remove(struct pci_host *h, struct pci_dev *pd);
/* The bridge's struct device (state: the 0xCF8 latch), for vm_add_device. */
struct device *pci_host_device(struct pci_host *h);
/*
 * The function a configuration cycle to bus/devfn reaches, or NULL (master
 * abort): bus 0 directly, other buses through the first bridge whose
 * secondary..subordinate range claims them.  With the host lock held.
 */
struct pci_dev *pci_host_find(struct pci_host *h, unsigned bus,
			      unsigned devfn);
/* Every function on bus 0 (NULL gaps), for enumeration; host lock held. */
struct pci_dev *pci_host_dev(struct pci_host *h, unsigned devfn);
/* Serialise with guest configuration cycles (host lock, recursive). */
void pci_host_lock(struct pci_host *h);
void pci_host_unlock(struct pci_host *h);

/* pci.c -> pci_host.c: a device's effective INTx changed. */
void pci_host_intx_update(struct pci_dev *pd, bool level);

/* For the MP table: every INTx route in use.  Returns the count. */
int pci_intx_routes(struct vm *vm, struct pci_intx_route *out, int max);

/*
 * Create the host bridge and every --netdev / --device of vm->cfg.  Errors
 * print one line and return -EINVAL (bad options) or -errno.
 */
int pci_machine_init(struct vm *vm);
/*
 * --root-ports N: root ports rp1..rpN with default windows, on the first
 * free bus-0 slots.  -EINVAL (name taken), -errno.
 */
int root_ports_create(struct vm *vm, unsigned n);
/*
 * After every device was destroyed (end of vm_destroy): close the netdevs
 * and free the host bridge.
 */
void pci_machine_destroy(struct vm *vm);

#endif
