// SPDX-License-Identifier: MIT
/*
 * The PCI side of the machine: the host bridge, then every --netdev and
 * --device from the command line.
 *
 * Order: devices on bus 0 (root ports among them) in command-line order, so
 * slot numbers are what the user wrote; then NICs on root port buses (their
 * port may come later on the line); then failover primaries, once every
 * standby they may name exists.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "control/qmp_pci.h"
#include "core/log.h"
#include "core/vm.h"
#include "dev/e1000.h"
#include "failover/failover.h"
#include "net/net.h"
#include "pci/hotplug.h"
#include "pci/opts.h"
#include "pci/pci.h"
#include "pci/root_port.h"
#include "virtio/virtio_net.h"

struct pci_device_type {
	const char *name;
	int (*create)(struct vm *vm, struct opts *o);
};

/* --device drivers for bus 0; each parses its own properties. */
static const struct pci_device_type pci_device_types[] = {
	{ "virtio-net-pci", virtio_net_create },
	{ "e1000", e1000_create },
	{ "pcie-root-port", root_port_create },
};

enum pci_pass {
	PASS_BUS0,		/* in order, by the driver's own create */
	PASS_SLOTS,		/* NICs with bus= (root ports exist now) */
	PASS_PRIMARIES,		/* failover primaries (standbys exist now) */
};

static enum pci_pass pci_device_pass(struct opts *o)
{
	bool bus = false, pair = false;

	for (unsigned i = 0; i < o->n; i++) {
		bus |= !strcmp(o->kv[i].key, "bus");
		pair |= !strcmp(o->kv[i].key, "failover_pair_id");
	}
	if (!strcmp(o->type, "pcie-root-port"))
		return PASS_BUS0;
	if (pair)
		return PASS_PRIMARIES;
	return bus ? PASS_SLOTS : PASS_BUS0;
}

static int pci_create_device(struct vm *vm, const char *s, enum pci_pass pass)
{
	char err[256];
	struct opts o;
	int ret;

	ret = opts_parse(&o, "--device", s);
	if (ret)
		return ret;
	if (pci_device_pass(&o) != pass)
		return 0;
	if (pass != PASS_BUS0) {
		ret = pci_hotplug_add(vm, &o, false, err, sizeof(err));
		if (ret)
			pr_err("--device %s: %s", s, err);
		return ret ? -EINVAL : 0;
	}
	for (unsigned i = 0; i < sizeof(pci_device_types) /
				 sizeof(pci_device_types[0]); i++)
		if (!strcmp(o.type, pci_device_types[i].name))
			return pci_device_types[i].create(vm, &o);
	pr_err("--device %s: unknown device type '%s'", s, o.type);
	return -EINVAL;
}

static void pci_warn_unused_netdevs(struct vm *vm)
{
	for (unsigned i = 0; i < vm->cfg.nr_netdev_opts; i++) {
		struct opts o;
		const char *id;
		struct netdev *nd;

		if (opts_parse(&o, "--netdev", vm->cfg.netdev_opts[i]))
			continue;
		id = opts_get(&o, "id");
		nd = id ? netdev_find(vm, id) : NULL;
		if (nd && !nd->user && !failover_holds_netdev(vm, id))
			pr_warn("--netdev %s is not used by any device", id);
	}
}

int root_ports_create(struct vm *vm, unsigned n)
{
	struct root_port_params p;
	struct pci_root_port *rp;
	char id[16];
	int ret;

	for (unsigned i = 1; i <= n; i++) {
		snprintf(id, sizeof(id), "rp%u", i);
		if (vm_find_device(vm, id)) {
			pr_err("--root-ports: a device is already called '%s'",
			       id);
			return -EINVAL;
		}
		root_port_params_default(&p, id);
		ret = root_port_new(vm, &p, &rp);
		if (ret) {
			pr_err("--root-ports: cannot create %s: %s", id,
			       strerror(-ret));
			return ret;
		}
	}
	return 0;
}

int pci_machine_init(struct vm *vm)
{
	int ret;

	ret = pci_host_create(vm);
	if (ret) {
		pr_err("cannot create the PCI host bridge: %s", strerror(-ret));
		return ret;
	}
	vm_add_device(vm, pci_host_device(vm->pci));
	ret = qmp_pci_register_commands();
	if (ret)
		return ret;
	ret = netdev_init_all(vm);
	if (ret)
		return ret;
	ret = root_ports_create(vm, vm->cfg.nr_root_ports);
	if (ret)
		return ret;
	for (enum pci_pass pass = PASS_BUS0; pass <= PASS_PRIMARIES; pass++) {
		for (unsigned i = 0; i < vm->cfg.nr_device_opts; i++) {
			ret = pci_create_device(vm, vm->cfg.device_opts[i],
						pass);
			if (ret)
				return ret;
		}
		/* Standbys on bus 0 are built by virtio-net itself. */
		if (pass == PASS_SLOTS)
			failover_watch_all(vm);
	}
	pci_warn_unused_netdevs(vm);
	return 0;
}

void pci_machine_destroy(struct vm *vm)
{
	netdev_close_all(vm);
	pci_host_destroy(vm);
}
