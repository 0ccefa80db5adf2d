/* SPDX-License-Identifier: MIT */
#ifndef FVMM_PCI_ROOT_PORT_H
#define FVMM_PCI_ROOT_PORT_H

#include <stdbool.h>
#include <stdint.h>

#include "core/device.h"
#include "pci/msi.h"
#include "pci/pci.h"
#include "pci/pci_bridge.h"
#include "pci/pcie_slot.h"

/*
 * A PCIe root port with one native-hotplug slot: a PCI-to-PCI bridge on
 * bus 0 (1b36:000c, class 0604, the generic root port QEMU also models)
 * with a PCIe capability of type Root Port, Slot Implemented, the slot of
 * pcie_slot.h, and an MSI capability for the hotplug interrupt (INTA when
 * MSI is off).
 *
 * Firmware duties are fvmm's: root port k (creation order, from 0) gets
 * secondary = subordinate bus k + 1, an I/O window of 4 KiB (while the
 * 0x1000-0xBFFF range lasts), a 2 MiB memory window and a 2 MiB 64-bit
 * prefetchable window in the MMIO hole, bus mastering and decoding on.  A
 * device put in the slot is device 0.0 of the secondary bus with its BARs
 * pre-assigned inside those windows (I/O BARs in the I/O window,
 * prefetchable BARs in the prefetchable window, the rest in the memory
 * window) and INTx swizzled to the IOAPIC pin of the port's slot.
 *
 * Locking: everything below that touches the slot runs with the host lock
 * held (pci_host_lock()); guest config cycles already hold it.
 */

struct vm;
struct opts;
struct pci_root_port;

/*
 * The occupant left the slot (removal completed by the guest, surprise,
 * reset): called with the host lock held, from a vCPU (config write) or
 * the caller's thread.  It must only schedule the device's destruction;
 * the device is already unreachable by the guest.
 */
typedef void (*root_port_eject_fn)(struct pci_root_port *rp,
				   struct device *dev, void *opaque);

struct root_port_params {
	char id[64];
	int slot;			/* bus-0 slot, -1 = first free */
	unsigned chassis;		/* 0 = index + 1 */
	unsigned psn;			/* physical slot number, 0 = index + 1 */
	uint64_t io_size;		/* window sizes; 0 = none */
	uint64_t mem_size;
	uint64_t pref_size;
};

#define ROOT_PORT_VENDOR	0x1b36
#define ROOT_PORT_DEVICE	0x000c
#define ROOT_PORT_IO_SIZE	0x1000ULL
#define ROOT_PORT_MEM_SIZE	(2ULL << 20)
#define ROOT_PORT_PREF_SIZE	(2ULL << 20)

struct pci_root_port {
	struct device dev;		/* id=, type "pcie-root-port" */
	struct pci_dev pci;
	struct pci_bridge br;
	struct pci_msi msi;
	struct pcie_slot slot;
	unsigned exp;			/* PCIe capability offset */
	unsigned index;			/* creation order; bus index + 1 */
	unsigned chassis;
	unsigned psn;
	bool msi_was_enabled;

	/* The occupant, with the host lock. */
	struct device *child_dev;
	root_port_eject_fn eject_cb;
	void *eject_opaque;
	/* A hidden failover primary holds the slot for later ("" = none). */
	char reserved[64];
};

/* --device pcie-root-port,id=ID[,chassis=N][,slot=N][,addr=S][,bus=pcie.0]
 *  [,io-reserve=SIZE][,mem-reserve=SIZE][,pref64-reserve=SIZE] */
int root_port_create(struct vm *vm, struct opts *o);
/* Build, place on bus 0 with its windows and add to the VM. */
int root_port_new(struct vm *vm, const struct root_port_params *p,
		  struct pci_root_port **out);
void root_port_params_default(struct root_port_params *p, const char *id);
/* Free (pci_host_destroy, after every device). */
void root_port_free(struct pci_root_port *rp);

struct pci_root_port *root_port_find(struct vm *vm, const char *id);
struct pci_root_port *root_port_from_device(struct device *dev);
/* The port whose slot holds pd, or NULL. */
struct pci_root_port *root_port_of(struct pci_dev *pd);

/* ---- the slot (host lock held) ---- */

/*
 * Put pd (built, not on any bus) into the empty slot as device 0.0 of the
 * secondary bus.  hotplug: a card arriving in a running machine (presence,
 * link and their change events; decoding off until the guest enables it);
 * otherwise cold plug before the guest runs (slot powered, no events,
 * decoding on as firmware leaves it).  -EBUSY when occupied.
 */
int root_port_insert(struct pci_root_port *rp, struct pci_dev *pd,
		     struct device *dev, bool hotplug, root_port_eject_fn cb,
		     void *opaque);
/* See pcie_slot_request_removal(): 0 pending, 1 ejected now, -errno. */
int root_port_request_removal(struct pci_root_port *rp);
/* Surprise removal: ejected now (the callback ran).  -ENODEV. */
int root_port_eject(struct pci_root_port *rp);
bool root_port_occupied(const struct pci_root_port *rp);

#endif
