// SPDX-License-Identifier: MIT
/*
 * PCIe native hotplug slot state machine (see pcie_slot.h for the rules).
 */
#include <errno.h>

#include "pci/pcie_slot.h"

#define IND_ON		1
#define IND_BLINK	2
#define IND_OFF		3

void pcie_slot_init(struct pcie_slot *s, bool occupied)
{
	*s = (struct pcie_slot){
		.occupied = occupied,
		.link_active = occupied,
		.sta = occupied ? PCI_EXP_SLTSTA_PDS : 0,
		.ctl = PCI_EXP_SLTCTL_ATTN_IND_OFF |
		       (occupied ? PCI_EXP_SLTCTL_PWR_IND_ON :
				   PCI_EXP_SLTCTL_PWR_IND_OFF |
				   PCI_EXP_SLTCTL_PWR_OFF),
	};
}

bool pcie_slot_powered(const struct pcie_slot *s)
{
	return !(s->ctl & PCI_EXP_SLTCTL_PCC);
}

bool pcie_slot_device_on(const struct pcie_slot *s)
{
	return s->occupied && pcie_slot_powered(s) && !s->link_disabled;
}

unsigned pcie_slot_power_indicator(const struct pcie_slot *s)
{
	return (s->ctl & PCI_EXP_SLTCTL_PIC) >> 8;
}

unsigned pcie_slot_attention_indicator(const struct pcie_slot *s)
{
	return (s->ctl & PCI_EXP_SLTCTL_AIC) >> 6;
}

const char *pcie_slot_indicator_name(unsigned field)
{
	switch (field) {
	case IND_ON:
		return "on";
	case IND_BLINK:
		return "blink";
	case IND_OFF:
		return "off";
	}
	return "reserved";
}

/* Event bits whose enable bit is set in ctl. */
static uint16_t enabled_events(uint16_t ctl)
{
	uint16_t en = 0;

	if (ctl & PCI_EXP_SLTCTL_ABPE)
		en |= PCI_EXP_SLTSTA_ABP;
	if (ctl & PCI_EXP_SLTCTL_PFDE)
		en |= PCI_EXP_SLTSTA_PFD;
	if (ctl & PCI_EXP_SLTCTL_MRLSCE)
		en |= PCI_EXP_SLTSTA_MRLSC;
	if (ctl & PCI_EXP_SLTCTL_PDCE)
		en |= PCI_EXP_SLTSTA_PDC;
	if (ctl & PCI_EXP_SLTCTL_CCIE)
		en |= PCI_EXP_SLTSTA_CC;
	if (ctl & PCI_EXP_SLTCTL_DLLSCE)
		en |= PCI_EXP_SLTSTA_DLLSC;
	return en;
}

/*
 * Bring derived state up to date after any change: the link follows the
 * occupant (unless the guest disabled it), with DLLSC on every transition;
 * then a message is due if the interrupt condition rose.
 */
unsigned pcie_slot_update(struct pcie_slot *s)
{
	bool link = s->occupied && !s->link_disabled;
	bool cond;

	if (link != s->link_active) {
		s->link_active = link;
		s->sta |= PCI_EXP_SLTSTA_DLLSC;
	}
	cond = (s->ctl & PCI_EXP_SLTCTL_HPIE) &&
	       (s->sta & enabled_events(s->ctl));
	if (cond == s->irq)
		return 0;
	s->irq = cond;
	return cond ? PCIE_SLOT_MSI : 0;
}

/* The occupant leaves: presence and link drop, both reported. */
static unsigned slot_empty(struct pcie_slot *s)
{
	s->occupied = false;
	s->unplug_pending = false;
	s->sta = (s->sta & ~PCI_EXP_SLTSTA_PDS) | PCI_EXP_SLTSTA_PDC;
	return PCIE_SLOT_EJECTED;
}

unsigned pcie_slot_write_ctl(struct pcie_slot *s, uint16_t ctl)
{
	bool was_on = pcie_slot_device_on(s);
	unsigned act = 0;

	s->ctl = ctl & PCIE_SLOT_CTL_WMASK;
	/* Power off completes a pending orderly removal. */
	if (s->unplug_pending && !pcie_slot_powered(s))
		act |= slot_empty(s);
	else if (was_on != pcie_slot_device_on(s))
		act |= PCIE_SLOT_POWER;
	/* Every write is a command, and it completes now. */
	s->sta |= PCI_EXP_SLTSTA_CC;
	return act | pcie_slot_update(s);
}

unsigned pcie_slot_write_sta(struct pcie_slot *s, uint16_t w1c)
{
	s->sta &= ~(w1c & PCIE_SLOT_STA_EVENTS);
	return pcie_slot_update(s);
}

unsigned pcie_slot_write_link(struct pcie_slot *s, bool link_disable)
{
	bool was_on = pcie_slot_device_on(s);

	s->link_disabled = link_disable;
	return (was_on != pcie_slot_device_on(s) ? PCIE_SLOT_POWER : 0) |
	       pcie_slot_update(s);
}

int pcie_slot_insert(struct pcie_slot *s, unsigned *act)
{
	if (s->occupied)
		return -EBUSY;
	s->occupied = true;
	s->sta |= PCI_EXP_SLTSTA_PDS | PCI_EXP_SLTSTA_PDC;
	*act = (pcie_slot_device_on(s) ? PCIE_SLOT_POWER : 0) |
	       pcie_slot_update(s);
	return 0;
}

int pcie_slot_request_removal(struct pcie_slot *s, unsigned *act)
{
	*act = 0;
	if (!s->occupied)
		return -ENODEV;
	if (s->unplug_pending)
		return -EBUSY;
	if (!pcie_slot_powered(s)) {
		/* Nothing of the card is in use: no round trip to the guest. */
		*act = slot_empty(s) | pcie_slot_update(s);
		return 1;
	}
	if (pcie_slot_power_indicator(s) == IND_BLINK)
		return -EAGAIN;
	s->unplug_pending = true;
	s->sta |= PCI_EXP_SLTSTA_ABP;
	*act = pcie_slot_update(s);
	return 0;
}

int pcie_slot_eject(struct pcie_slot *s, unsigned *act)
{
	*act = 0;
	if (!s->occupied)
		return -ENODEV;
	*act = slot_empty(s) | pcie_slot_update(s);
	return 0;
}
