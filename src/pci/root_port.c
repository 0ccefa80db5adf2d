// SPDX-License-Identifier: MIT
/*
 * PCIe root port: type 1 header, PCIe capability with the hotplug slot, MSI,
 * the occupant's placement and power, state, options.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/util.h"
#include "core/vm.h"
#include "pci/opts.h"
#include "pci/pci_host.h"
#include "pci/root_port.h"

#define RP_EXP_LEN		0x3c	/* v2, through Slot Status 2 */
/* Device Control: error reporting, payload, read request, ... (not FLR). */
#define RP_DEVCTL_WMASK		0x7fff
#define RP_DEVSTA_W1C		(PCI_EXP_DEVSTA_CED | PCI_EXP_DEVSTA_NFED | \
				 PCI_EXP_DEVSTA_FED | PCI_EXP_DEVSTA_URD)
/* Link Control: ASPM, RCB, Link Disable, common clock, extended synch. */
#define RP_LNKCTL_WMASK		(PCI_EXP_LNKCTL_ASPMC | PCI_EXP_LNKCTL_RCB | \
				 PCI_EXP_LNKCTL_LD | PCI_EXP_LNKCTL_CCC |   \
				 PCI_EXP_LNKCTL_ES)
/* 2.5 GT/s, x1, the slot's clock. */
#define RP_LNKSTA		(PCI_EXP_LNKSTA_CLS_2_5GB | \
				 (1 << PCI_EXP_LNKSTA_NLW_SHIFT) | \
				 PCI_EXP_LNKSTA_SLC)
#define RP_RTCTL_WMASK		(PCI_EXP_RTCTL_SECEE | PCI_EXP_RTCTL_SENFEE | \
				 PCI_EXP_RTCTL_SEFEE | PCI_EXP_RTCTL_PMEIE)

static const struct device_ops root_port_dev_ops;

struct pci_root_port *root_port_from_device(struct device *dev)
{
	if (!dev || dev->ops != &root_port_dev_ops)
		return NULL;
	return container_of(dev, struct pci_root_port, dev);
}

struct pci_root_port *root_port_find(struct vm *vm, const char *id)
{
	return root_port_from_device(vm_find_device(vm, id));
}

struct pci_root_port *root_port_of(struct pci_dev *pd)
{
	if (!pd->parent || !pd->parent->bridge)
		return NULL;
	return container_of(pd->parent, struct pci_root_port, pci);
}

bool root_port_occupied(const struct pci_root_port *rp)
{
	return rp->slot.occupied;
}

/* ---- registers ---- */

static void rp_exp_init(struct pci_root_port *rp, unsigned e)
{
	struct pci_dev *pd = &rp->pci;

	rp->exp = e;
	pci_set_reg(pd, e + PCI_EXP_FLAGS, 2,
		    2 | (PCI_EXP_TYPE_ROOT_PORT << 4) |
		    PCI_EXP_FLAGS_SLOT, 0, 0);
	pci_set_reg(pd, e + PCI_EXP_DEVCAP, 4, PCI_EXP_DEVCAP_RBER, 0, 0);
	pci_set_reg(pd, e + PCI_EXP_DEVCTL, 2, PCI_EXP_DEVCTL_READRQ_512B,
		    RP_DEVCTL_WMASK, 0);
	pci_set_reg(pd, e + PCI_EXP_DEVSTA, 2, 0, 0, RP_DEVSTA_W1C);
	pci_set_reg(pd, e + PCI_EXP_LNKCAP, 4,
		    PCI_EXP_LNKCAP_SLS_2_5GB | (1 << 4) | PCI_EXP_LNKCAP_DLLLARC |
		    ((rp->index + 1) << 24), 0, 0);
	pci_set_reg(pd, e + PCI_EXP_LNKCTL, 2, 0, RP_LNKCTL_WMASK, 0);
	pci_set_reg(pd, e + PCI_EXP_LNKSTA, 2, RP_LNKSTA, 0,
		    PCI_EXP_LNKSTA_LBMS | PCI_EXP_LNKSTA_LABS);
	pci_set_reg(pd, e + PCI_EXP_SLTCAP, 4,
		    PCIE_SLOT_CAP | rp->psn << PCIE_SLOT_PSN_SHIFT, 0, 0);
	pci_set_reg(pd, e + PCI_EXP_SLTCTL, 2, 0, PCIE_SLOT_CTL_WMASK, 0);
	pci_set_reg(pd, e + PCI_EXP_SLTSTA, 2, 0, 0, PCIE_SLOT_STA_EVENTS);
	pci_set_reg(pd, e + PCI_EXP_RTCTL, 2, 0, RP_RTCTL_WMASK, 0);
	pci_set_reg(pd, e + PCI_EXP_RTSTA, 4, 0, 0, PCI_EXP_RTSTA_PME);
	pci_set_reg(pd, e + PCI_EXP_LNKCAP2, 4, PCI_EXP_LNKCAP2_SLS_2_5GB, 0,
		    0);
	pci_set_reg(pd, e + PCI_EXP_LNKCTL2, 2, PCI_EXP_LNKCTL2_TLS_2_5GT,
		    PCI_EXP_LNKCTL2_TLS, 0);
}

/* Mirror the slot state machine into config space. */
static void rp_sync(struct pci_root_port *rp)
{
	struct pci_dev *pd = &rp->pci;
	unsigned e = rp->exp;
	uint16_t lnksta = pci_get_reg(pd, e + PCI_EXP_LNKSTA, 2);

	if (rp->slot.link_active)
		lnksta |= PCI_EXP_LNKSTA_DLLLA;
	else
		lnksta &= ~PCI_EXP_LNKSTA_DLLLA;
	le_write(&pd->cfg[e + PCI_EXP_LNKSTA], 2, lnksta);
	le_write(&pd->cfg[e + PCI_EXP_SLTCTL], 2, rp->slot.ctl);
	le_write(&pd->cfg[e + PCI_EXP_SLTSTA], 2, rp->slot.sta);
}

/* INTA carries the condition while MSI is off (level, as INTx is). */
static void rp_intx(struct pci_root_port *rp)
{
	pci_set_irq(&rp->pci, rp->slot.irq && !pci_msi_enabled(&rp->msi));
}

/* ---- the occupant ---- */

static void rp_detach(struct pci_root_port *rp)
{
	struct device *dev = rp->child_dev;
	root_port_eject_fn cb = rp->eject_cb;
	void *opaque = rp->eject_opaque;

	pci_bridge_set_child(&rp->br, NULL, false);
	rp->child_dev = NULL;
	rp->eject_cb = NULL;
	rp->eject_opaque = NULL;
	if (dev && cb)
		cb(rp, dev, opaque);
}

/* A power cycle is a cold reset: the card comes back as it was built. */
static void rp_reset_child(struct pci_root_port *rp)
{
	if (rp->child_dev && rp->child_dev->ops->reset)
		rp->child_dev->ops->reset(rp->child_dev);
}

static void rp_power(struct pci_root_port *rp)
{
	bool on = pcie_slot_device_on(&rp->slot);

	if (on == rp->br.child_on)
		return;
	/* Off: unreachable first (BARs unmapped, no DMA), then reset. */
	pci_bridge_set_child_on(&rp->br, on);
	if (!on)
		rp_reset_child(rp);
}

static void rp_apply(struct pci_root_port *rp, unsigned act)
{
	rp_sync(rp);
	if (act & PCIE_SLOT_EJECTED)
		rp_detach(rp);
	if (act & PCIE_SLOT_POWER)
		rp_power(rp);
	if (act & PCIE_SLOT_MSI)
		pci_msi_notify(&rp->msi);
	rp_intx(rp);
}

/* ---- configuration cycles ---- */

static void rp_msi_changed(struct pci_root_port *rp)
{
	bool on = pci_msi_enabled(&rp->msi);

	/* A condition already true when MSI comes on still gets a message. */
	if (on && !rp->msi_was_enabled && rp->slot.irq)
		pci_msi_notify(&rp->msi);
	rp->msi_was_enabled = on;
}

static void rp_config_write(struct pci_dev *pd, unsigned off, unsigned size)
{
	struct pci_root_port *rp = pd->opaque;
	unsigned e = rp->exp, act = 0;
	uint16_t v;

	if (pci_cfg_touches(off, size, e + PCI_EXP_SLTSTA, 2)) {
		/* The generic write cleared what the guest wrote 1s to. */
		v = pci_get_reg(pd, e + PCI_EXP_SLTSTA, 2);
		act |= pcie_slot_write_sta(&rp->slot, rp->slot.sta & ~v);
	}
	if (pci_cfg_touches(off, size, e + PCI_EXP_SLTCTL, 2))
		act |= pcie_slot_write_ctl(&rp->slot,
					   pci_get_reg(pd, e + PCI_EXP_SLTCTL, 2));
	if (pci_cfg_touches(off, size, e + PCI_EXP_LNKCTL, 2)) {
		v = pci_get_reg(pd, e + PCI_EXP_LNKCTL, 2);
		act |= pcie_slot_write_link(&rp->slot, v & PCI_EXP_LNKCTL_LD);
	}
	if (pci_msi_touched(&rp->msi, off, size))
		rp_msi_changed(rp);
	if (pci_bridge_config_write(&rp->br, off, size) && rp->br.child_on)
		rp_reset_child(rp);	/* secondary bus reset */
	rp_apply(rp, act);
}

/* Presence and link follow the slot, not the reset image. */
static uint8_t rp_dynamic_bits(const struct pci_dev *pd, unsigned off)
{
	const struct pci_root_port *rp = pd->opaque;
	uint16_t bits = 0;
	unsigned base = 0;

	if (off - (rp->exp + PCI_EXP_SLTSTA) < 2) {
		bits = PCI_EXP_SLTSTA_PDS;
		base = rp->exp + PCI_EXP_SLTSTA;
	} else if (off - (rp->exp + PCI_EXP_LNKSTA) < 2) {
		bits = PCI_EXP_LNKSTA_DLLLA;
		base = rp->exp + PCI_EXP_LNKSTA;
	} else {
		return 0;
	}
	return bits >> (8 * (off - base));
}

static const struct pci_dev_ops rp_pci_ops = {
	.config_write = rp_config_write,
	.dynamic_bits = rp_dynamic_bits,
};

/* ---- placement of the occupant ---- */

static struct pci_space rp_space(bool open, const struct pci_window *w)
{
	if (!open)
		return (struct pci_space){ 0, 0 };
	return (struct pci_space){ w->base, w->limit + 1 };
}

/*
 * Firmware-style BAR assignment inside the windows as they are now (the
 * guest may have moved them).  A BAR that does not fit stays 0 for the
 * guest to assign; cold plug enables decoding for what was assigned.
 */
static void rp_place(struct pci_root_port *rp, struct pci_dev *pd, bool cold)
{
	struct pci_window w;
	struct pci_space io = rp_space(pci_bridge_io_window(&rp->br, &w), &w);
	struct pci_space mem = rp_space(pci_bridge_mem_window(&rp->br, &w), &w);
	struct pci_space pref = rp_space(pci_bridge_pref_window(&rp->br, &w),
					 &w);
	uint16_t cmd = 0;
	unsigned pin = pd->cfg[PCI_INTERRUPT_PIN];

	for (int i = 0; i < PCI_NR_BARS; i++) {
		const struct pci_bar *b = &pd->bars[i];
		struct pci_space *s = &mem;

		if (b->type == PCI_BAR_UNUSED)
			continue;
		/* Registers with side effects never go prefetchable. */
		if (b->type == PCI_BAR_IO)
			s = &io;
		else if (b->prefetch && pref.end > pref.next &&
			 (b->type == PCI_BAR_MEM64 || pref.end <= GM_4G))
			s = &pref;
		if (pci_assign_bar(pd, i, s)) {
			pr_guest("%s: BAR%d of %s does not fit the port's window; left for the guest",
				rp->dev.id, i, pd->name);
			continue;
		}
		cmd |= b->type == PCI_BAR_IO ? PCI_COMMAND_IO :
					       PCI_COMMAND_MEMORY;
	}
	if (cold)
		le_write(&pd->cfg[PCI_COMMAND], 2,
			 pci_get_reg(pd, PCI_COMMAND, 2) | cmd);
	if (pin >= 1 && pin <= 4)
		pd->cfg[PCI_INTERRUPT_LINE] = pci_intx_gsi(pd, pin);
}

int root_port_insert(struct pci_root_port *rp, struct pci_dev *pd,
		     struct device *dev, bool hotplug, root_port_eject_fn cb,
		     void *opaque)
{
	unsigned act = 0;
	int ret;

	if (rp->slot.occupied || rp->br.child)
		return -EBUSY;
	pd->devfn = PCI_DEVFN(0, 0);
	pd->host = rp->pci.host;
	pd->parent = &rp->pci;
	rp_place(rp, pd, !hotplug);
	memcpy(pd->cfg_reset, pd->cfg, sizeof(pd->cfg));
	rp->child_dev = dev;
	rp->eject_cb = cb;
	rp->eject_opaque = opaque;
	if (!hotplug) {
		/* Present from power-on: no events, the slot is just on. */
		pcie_slot_init(&rp->slot, true);
		pci_bridge_set_child(&rp->br, pd, true);
		rp_apply(rp, 0);
		return 0;
	}
	pci_bridge_set_child(&rp->br, pd, false);
	ret = pcie_slot_insert(&rp->slot, &act);
	if (ret) {
		rp_detach(rp);
		return ret;
	}
	rp_apply(rp, act);
	return 0;
}

int root_port_request_removal(struct pci_root_port *rp)
{
	unsigned act;
	int ret = pcie_slot_request_removal(&rp->slot, &act);

	if (ret >= 0)
		rp_apply(rp, act);
	return ret;
}

int root_port_eject(struct pci_root_port *rp)
{
	unsigned act;
	int ret = pcie_slot_eject(&rp->slot, &act);

	if (!ret)
		rp_apply(rp, act);
	return ret;
}

/* ---- state ---- */

struct rp_state {
	uint16_t ctl, sta;
	uint8_t link_active, link_disabled, occupied, unplug_pending, irq;
	uint8_t msi_was_enabled;
};

#define RPS_INT(m)	STATE_INT(struct rp_state, m)

static const struct state_field rp_state_fields[] = {
	RPS_INT(ctl), RPS_INT(sta), RPS_INT(link_active),
	RPS_INT(link_disabled), RPS_INT(occupied), RPS_INT(unplug_pending),
	RPS_INT(irq), RPS_INT(msi_was_enabled),
};

static const struct state_desc rp_state_desc =
	STATE_DESC("pcie-root-port", 1, rp_state_fields);

static int rp_save(struct device *dev, struct sbuf *out)
{
	struct pci_root_port *rp = root_port_from_device(dev);
	struct rp_state s;
	int ret;

	pci_host_lock(rp->pci.host);
	s = (struct rp_state){
		.ctl = rp->slot.ctl, .sta = rp->slot.sta,
		.link_active = rp->slot.link_active,
		.link_disabled = rp->slot.link_disabled,
		.occupied = rp->slot.occupied,
		.unplug_pending = rp->slot.unplug_pending,
		.irq = rp->slot.irq, .msi_was_enabled = rp->msi_was_enabled,
	};
	ret = pci_dev_save(&rp->pci, out);
	if (!ret)
		ret = state_save(&rp_state_desc, &s, out);
	pci_host_unlock(rp->pci.host);
	return ret;
}

/* The slot state must describe this side's slot (occupant or not). */
static int rp_check(struct pci_root_port *rp, const struct rp_state *s,
		    char *err, size_t errlen)
{
	bool here = rp->br.child != NULL;

	if (s->link_active > 1 || s->link_disabled > 1 || s->occupied > 1 ||
	    s->unplug_pending > 1 || s->irq > 1 || s->msi_was_enabled > 1 ||
	    (s->ctl & ~PCIE_SLOT_CTL_WMASK) ||
	    (s->sta & ~(PCIE_SLOT_STA_EVENTS | PCI_EXP_SLTSTA_PDS)) ||
	    !!(s->sta & PCI_EXP_SLTSTA_PDS) != s->occupied ||
	    s->link_active != (s->occupied && !s->link_disabled) ||
	    (s->unplug_pending && !s->occupied)) {
		snprintf(err, errlen, "%s: inconsistent slot state", rp->dev.id);
		return -EINVAL;
	}
	if (s->occupied != here) {
		snprintf(err, errlen, "%s: slot is %s in the stream but %s here",
			 rp->dev.id, s->occupied ? "occupied" : "empty",
			 here ? "occupied" : "empty");
		return -EINVAL;
	}
	return 0;
}

static int rp_load(struct device *dev, struct sreader *in, char *err,
		   size_t errlen)
{
	struct pci_root_port *rp = root_port_from_device(dev);
	struct rp_state s;
	char tmp[160];
	int ret;

	if (!err) {
		err = tmp;
		errlen = sizeof(tmp);
	}
	pci_host_lock(rp->pci.host);
	ret = pci_dev_load(&rp->pci, in, err, errlen);
	if (!ret)
		ret = state_load(&rp_state_desc, &s, in, err, errlen);
	if (!ret)
		ret = rp_check(rp, &s, err, errlen);
	if (!ret) {
		rp->slot = (struct pcie_slot){
			.ctl = s.ctl, .sta = s.sta,
			.link_active = s.link_active,
			.link_disabled = s.link_disabled,
			.occupied = s.occupied,
			.unplug_pending = s.unplug_pending, .irq = s.irq,
		};
		rp->msi_was_enabled = s.msi_was_enabled;
		rp->br.bctl_seen = pci_bridge_control(&rp->br);
		pci_bridge_set_child_on(&rp->br,
					pcie_slot_device_on(&rp->slot));
		rp_sync(rp);
		rp_intx(rp);
	}
	pci_host_unlock(rp->pci.host);
	return ret;
}

/* ---- device ops ---- */

static void rp_dev_reset(struct device *dev)
{
	struct pci_root_port *rp = root_port_from_device(dev);
	unsigned act = 0;

	pci_host_lock(rp->pci.host);
	/* A reset powers the slot: a removal waiting for that completes. */
	if (rp->slot.unplug_pending && !pcie_slot_eject(&rp->slot, &act))
		rp_apply(rp, act);
	pci_dev_reset(&rp->pci);
	pcie_slot_init(&rp->slot, rp->br.child != NULL);
	rp->msi_was_enabled = false;
	rp->br.bctl_seen = pci_bridge_control(&rp->br);
	pci_bridge_set_child_on(&rp->br, pcie_slot_device_on(&rp->slot));
	rp_sync(rp);
	rp_intx(rp);
	pci_host_unlock(rp->pci.host);
}

static void rp_dev_nop(struct device *dev)
{
	/* pause/resume: nothing runs on its own.  destroy: freed by the host
	 * bridge after the devices behind it. */
}

static void rp_dev_location(struct device *dev, char *buf, size_t len)
{
	pci_dev_location(&root_port_from_device(dev)->pci, buf, len);
}

static const struct device_ops root_port_dev_ops = {
	.type = "pcie-root-port",
	.reset = rp_dev_reset,
	.pause = rp_dev_nop,
	.resume = rp_dev_nop,
	.save = rp_save,
	.load = rp_load,
	.location = rp_dev_location,
	.destroy = rp_dev_nop,
};

/* ---- construction ---- */

void root_port_params_default(struct root_port_params *p, const char *id)
{
	*p = (struct root_port_params){
		.slot = -1, .io_size = ROOT_PORT_IO_SIZE,
		.mem_size = ROOT_PORT_MEM_SIZE,
		.pref_size = ROOT_PORT_PREF_SIZE,
	};
	snprintf(p->id, sizeof(p->id), "%s", id);
}

/* Windows from the host's ranges, as firmware sizes them. */
static void rp_windows(struct pci_root_port *rp, struct pci_host *h,
		       const struct root_port_params *p)
{
	uint64_t base;
	uint16_t cmd = PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER;

	if (p->io_size && !pci_host_alloc_bridge_io(h, p->io_size, &base)) {
		pci_bridge_set_io(&rp->br, base, p->io_size);
		cmd |= PCI_COMMAND_IO;
	} else if (p->io_size) {
		pr_warn("%s: no I/O space left for a window: devices behind it get no I/O BARs",
			p->id);
	}
	if (p->mem_size && !pci_host_alloc_mmio(h, p->mem_size, &base))
		pci_bridge_set_mem(&rp->br, base, p->mem_size);
	else if (p->mem_size)
		pr_warn("%s: no MMIO space left for a memory window", p->id);
	if (p->pref_size && !pci_host_alloc_mmio(h, p->pref_size, &base))
		pci_bridge_set_pref(&rp->br, base, p->pref_size);
	else if (p->pref_size)
		pr_warn("%s: no MMIO space left for a prefetchable window",
			p->id);
	le_write(&rp->pci.cfg[PCI_COMMAND], 2, cmd);
}

static int rp_build(struct pci_root_port *rp, struct vm *vm,
		    const struct root_port_params *p, unsigned index)
{
	struct pci_dev *pd = &rp->pci;
	int cap;

	snprintf(rp->dev.id, sizeof(rp->dev.id), "%s", p->id);
	rp->dev.ops = &root_port_dev_ops;
	rp->dev.vm = vm;
	rp->index = index;
	rp->chassis = p->chassis ? p->chassis : index + 1;
	rp->psn = p->psn ? p->psn : index + 1;
	pci_dev_init(pd, vm, p->id, ROOT_PORT_VENDOR, ROOT_PORT_DEVICE,
		     PCI_CLASS_BRIDGE_P2P << 8, 0);
	pd->ops = &rp_pci_ops;
	pd->opaque = rp;
	pci_dev_set_intx_pin(pd, 1);
	pci_bridge_init(&rp->br, pd);
	cap = pci_cap_add(pd, PCI_CAP_ID_EXP, RP_EXP_LEN);
	if (cap < 0)
		return cap;
	rp_exp_init(rp, cap);
	return pci_msi_init(&rp->msi, pd);
}

int root_port_new(struct vm *vm, const struct root_port_params *p,
		  struct pci_root_port **out)
{
	struct pci_host *h = vm->pci;
	struct pci_root_port *rp;
	unsigned index = h->nr_ports;
	int ret;

	if (index >= PCI_MAX_ROOT_PORTS)
		return -ENOSPC;
	rp = calloc(1, sizeof(*rp));
	if (!rp)
		return -ENOMEM;
	ret = rp_build(rp, vm, p, index);
	if (ret)
		goto free_rp;
	ret = pci_host_add(h, &rp->pci, p->slot);
	if (ret)
		goto free_rp;
	ret = pci_host_add_port(h, rp);
	if (ret)
		goto remove_pci;
	pci_host_lock(h);
	pci_bridge_set_buses(&rp->br, 0, index + 1, index + 1);
	rp_windows(rp, h, p);
	pcie_slot_init(&rp->slot, false);
	rp_sync(rp);
	memcpy(rp->pci.cfg_reset, rp->pci.cfg, sizeof(rp->pci.cfg));
	pci_host_unlock(h);
	vm_add_device(vm, &rp->dev);
	*out = rp;
	return 0;

remove_pci:
	pci_host_remove(h, &rp->pci);
free_rp:
	free(rp);
	return ret;
}

void root_port_free(struct pci_root_port *rp)
{
	free(rp);
}

/* ---- options ---- */

static int rp_opt_uint(struct opts *o, const char *key, unsigned long max,
		       unsigned *out)
{
	const char *v = opts_get(o, key);
	unsigned long n;

	if (!v)
		return 0;
	if (parse_uint(v, 0, max, &n)) {
		pr_err("--device pcie-root-port: %s=%s: expected 0-%lu", key,
		       v, max);
		return -EINVAL;
	}
	*out = n;
	return 0;
}

static int rp_opt_size(struct opts *o, const char *key, uint64_t gran,
		       uint64_t *out)
{
	const char *v = opts_get(o, key);
	uint64_t n;

	if (!v)
		return 0;
	if (parse_size(v, &n) || n % gran || n > (1ULL << 30)) {
		pr_err("--device pcie-root-port: %s=%s: expected a multiple of %llu bytes, at most 1G",
		       key, v, (unsigned long long)gran);
		return -EINVAL;
	}
	*out = n;
	return 0;
}

/* addr=SLOT as QEMU writes it: "5", "0x5", "05.0". */
static int rp_opt_slot(struct opts *o, int *slot)
{
	const char *s = opts_get(o, "addr");
	char *end;
	long v;

	if (!s)
		return 0;
	v = strtol(s, &end, 16);
	if (end == s || (*end && strcmp(end, ".0")) || v < 1 ||
	    v >= PCI_NR_SLOTS) {
		pr_err("--device pcie-root-port: bad addr '%s' (slot 1-31)", s);
		return -EINVAL;
	}
	*slot = v;
	return 0;
}

static int rp_parse(struct vm *vm, struct opts *o, struct root_port_params *p)
{
	const char *id = opts_get(o, "id"), *bus = opts_get(o, "bus");

	root_port_params_default(p, id ? id : "");
	if (rp_opt_uint(o, "chassis", 255, &p->chassis) ||
	    rp_opt_uint(o, "slot", PCIE_SLOT_PSN_MAX, &p->psn) ||
	    rp_opt_slot(o, &p->slot) ||
	    rp_opt_size(o, "io-reserve", PCI_BRIDGE_IO_GRAN, &p->io_size) ||
	    rp_opt_size(o, "mem-reserve", PCI_BRIDGE_MEM_GRAN, &p->mem_size) ||
	    rp_opt_size(o, "pref64-reserve", PCI_BRIDGE_MEM_GRAN,
			&p->pref_size) ||
	    opts_check_unused(o))
		return -EINVAL;
	if (p->io_size > ROOT_PORT_IO_SIZE * 4) {
		pr_err("--device pcie-root-port: io-reserve is at most 16K");
		return -EINVAL;
	}
	if (!id || !*id || strlen(id) >= sizeof(p->id)) {
		pr_err("--device pcie-root-port: missing or too long id=");
		return -EINVAL;
	}
	if (bus && strcmp(bus, "pcie.0") && strcmp(bus, "pci.0")) {
		pr_err("--device pcie-root-port,id=%s: Bus '%s' not found (root ports go on pcie.0)",
		       id, bus);
		return -EINVAL;
	}
	if (vm_find_device(vm, id)) {
		pr_err("--device pcie-root-port: Duplicate device ID '%s'", id);
		return -EINVAL;
	}
	return 0;
}

int root_port_create(struct vm *vm, struct opts *o)
{
	struct root_port_params p;
	struct pci_root_port *rp;
	int ret;

	ret = rp_parse(vm, o, &p);
	if (ret)
		return ret;
	ret = root_port_new(vm, &p, &rp);
	if (ret) {
		pr_err("--device pcie-root-port,id=%s: cannot place on pcie.0%s: %s",
		       p.id, p.slot < 0 ? "" : " at that addr", strerror(-ret));
		return -EINVAL;
	}
	return 0;
}
