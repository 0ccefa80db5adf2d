/* SPDX-License-Identifier: MIT */
#ifndef FVMM_PCI_PCIE_SLOT_H
#define FVMM_PCI_PCIE_SLOT_H

#include <stdbool.h>
#include <stdint.h>
#include <linux/pci_regs.h>

/*
 * The native hotplug slot of a PCIe downstream port (PCIe base spec 6.7,
 * the contract Linux's pciehp drives), as a pure state machine over the
 * guest-visible registers and the host's view of the slot.  No config
 * space, devices, interrupts or locks here: the root port feeds the state
 * machine guest writes and host requests, mirrors the registers into its
 * config space and performs the actions returned (send a message, free the
 * occupant, power it on or off).
 *
 * The slot offers an attention button, a power controller, attention and
 * power indicators, surprise removal and command completion (no MRL sensor,
 * no interlock).  The rules:
 *  - Every Slot Control write is a command and completes at once: Command
 *    Completed is set after it, also when nothing changed.
 *  - Event bits (ABP, PDC, CC, DLLSC) are only ever set by the slot and only
 *    cleared by the guest writing 1 to them; nothing the guest has not
 *    seen is cleared behind its back.
 *  - Presence (PDS) and Data Link Layer Link Active follow the occupant, not
 *    the power controller: a card inserted into a powered-off slot is
 *    present with its link up (as QEMU models it), so a guest enabling only
 *    DLLSCE (Linux does, since there is a button) still sees it arrive.  The
 *    occupant itself is unreachable (no config cycles, no BARs, no DMA)
 *    until the slot is powered (and its link not disabled); powering it
 *    off (or disabling the link) resets it.
 *  - The interrupt condition is HPIE && (an event bit whose enable is set);
 *    a message is due whenever that condition goes from false to true
 *    (PCIe 6.7.3.4), so a guest that clears the bits it read and re-reads
 *    the register never loses an event.
 *  - Orderly removal presses the attention button and completes when the
 *    guest turns the power controller off; a slot already powered off is
 *    emptied at once.  Surprise removal empties the slot at once.  Emptying
 *    clears PDS and the link with PDC and DLLSC events.
 */

/* Slot Control bits the guest may write. */
#define PCIE_SLOT_CTL_WMASK	(PCI_EXP_SLTCTL_ABPE | PCI_EXP_SLTCTL_PFDE | \
				 PCI_EXP_SLTCTL_MRLSCE | PCI_EXP_SLTCTL_PDCE | \
				 PCI_EXP_SLTCTL_CCIE | PCI_EXP_SLTCTL_HPIE |  \
				 PCI_EXP_SLTCTL_AIC | PCI_EXP_SLTCTL_PIC |    \
				 PCI_EXP_SLTCTL_PCC | PCI_EXP_SLTCTL_DLLSCE)
/* Slot Status event bits: write 1 to clear. */
#define PCIE_SLOT_STA_EVENTS	(PCI_EXP_SLTSTA_ABP | PCI_EXP_SLTSTA_PFD |   \
				 PCI_EXP_SLTSTA_MRLSC | PCI_EXP_SLTSTA_PDC | \
				 PCI_EXP_SLTSTA_CC | PCI_EXP_SLTSTA_DLLSC)
/* Slot Capabilities without the physical slot number. */
#define PCIE_SLOT_CAP		(PCI_EXP_SLTCAP_ABP | PCI_EXP_SLTCAP_PCP |   \
				 PCI_EXP_SLTCAP_AIP | PCI_EXP_SLTCAP_PIP |   \
				 PCI_EXP_SLTCAP_HPS | PCI_EXP_SLTCAP_HPC)
#define PCIE_SLOT_PSN_SHIFT	19
#define PCIE_SLOT_PSN_MAX	0x1fff

struct pcie_slot {
	uint16_t ctl;			/* Slot Control */
	uint16_t sta;			/* Slot Status */
	bool link_active;		/* Link Status: DLLLA */
	bool link_disabled;		/* Link Control: Link Disable */
	bool occupied;			/* a card is in the slot (PDS) */
	bool unplug_pending;		/* button pressed for a removal */
	bool irq;			/* interrupt condition, last evaluated */
};

/* Actions for the owner, OR-ed. */
enum {
	PCIE_SLOT_MSI = 1u << 0,	/* condition rose: send a message */
	PCIE_SLOT_EJECTED = 1u << 1,	/* the occupant left: free it */
	PCIE_SLOT_POWER = 1u << 2,	/* occupant powered on or off */
};

/*
 * Power-on state: an occupied slot powered with its power indicator on, an
 * empty one powered off; indicators otherwise off, no events enabled.
 */
void pcie_slot_init(struct pcie_slot *s, bool occupied);

bool pcie_slot_powered(const struct pcie_slot *s);
/*
 * The occupant is reachable: present, powered, link not disabled (a link
 * going down resets the card, as DL_Down does).
 */
bool pcie_slot_device_on(const struct pcie_slot *s);

/* The guest wrote Slot Control (value after the write mask). */
unsigned pcie_slot_write_ctl(struct pcie_slot *s, uint16_t ctl);
/* The guest wrote 1s to these Slot Status bits. */
unsigned pcie_slot_write_sta(struct pcie_slot *s, uint16_t w1c);
/* The guest wrote Link Control's Link Disable bit. */
unsigned pcie_slot_write_link(struct pcie_slot *s, bool link_disable);
/* Re-evaluate the interrupt condition (e.g. MSI was just enabled). */
unsigned pcie_slot_update(struct pcie_slot *s);

/* A card arrives (the slot must be empty: -EBUSY). */
int pcie_slot_insert(struct pcie_slot *s, unsigned *act);
/*
 * Orderly removal: 0 = button pressed, removal pending; 1 = the slot was
 * powered off, emptied now (*act has PCIE_SLOT_EJECTED).  -ENODEV empty,
 * -EBUSY a removal is already pending, -EAGAIN the power indicator blinks
 * (the guest is in the middle of a transition, as QEMU refuses it).
 */
int pcie_slot_request_removal(struct pcie_slot *s, unsigned *act);
/* Surprise removal: the card is gone now.  -ENODEV when empty. */
int pcie_slot_eject(struct pcie_slot *s, unsigned *act);

/* Names for queries: "on", "blink", "off" (or "reserved"). */
const char *pcie_slot_indicator_name(unsigned field);
/* Power indicator / attention indicator fields of ctl (2 bits each). */
unsigned pcie_slot_power_indicator(const struct pcie_slot *s);
unsigned pcie_slot_attention_indicator(const struct pcie_slot *s);

#endif
