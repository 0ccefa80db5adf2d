// SPDX-License-Identifier: MIT
/*
 * The PCI side of the machine: the host bridge, then every --netdev and
 * --device from the command line, in order.
 */
#include <errno.h>
#include <string.h>

#include "core/log.h"
#include "core/vm.h"
#include "net/net.h"
#include "pci/opts.h"
#include "pci/pci.h"
#include "virtio/virtio_net.h"

struct pci_device_type {
	const char *name;
	int (*create)(struct vm *vm, struct opts *o);
};

/* --device drivers; each parses its own properties. */
static const struct pci_device_type pci_device_types[] = {
	{ "virtio-net-pci", virtio_net_create },
};

static int pci_create_device(struct vm *vm, const char *s)
{
	struct opts o;
	int ret;

	ret = opts_parse(&o, "--device", s);
	if (ret)
		return ret;
	for (unsigned i = 0; i < sizeof(pci_device_types) /
				 sizeof(pci_device_types[0]); i++)
		if (!strcmp(o.type, pci_device_types[i].name))
			return pci_device_types[i].create(vm, &o);
	pr_err("--device %s: unknown device type '%s'", s, o.type);
	return -EINVAL;
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
	ret = netdev_init_all(vm);
	if (ret)
		return ret;
	for (unsigned i = 0; i < vm->cfg.nr_device_opts; i++) {
		ret = pci_create_device(vm, vm->cfg.device_opts[i]);
		if (ret)
			return ret;
	}
	for (unsigned i = 0; i < vm->cfg.nr_netdev_opts; i++) {
		struct opts o;
		const char *id;
		struct netdev *nd;

		if (opts_parse(&o, "--netdev", vm->cfg.netdev_opts[i]))
			continue;
		id = opts_get(&o, "id");
		nd = id ? netdev_find(vm, id) : NULL;
		if (nd && !nd->user)
			pr_warn("--netdev %s is not used by any device", id);
	}
	return 0;
}

void pci_machine_destroy(struct vm *vm)
{
	netdev_close_all(vm);
	pci_host_destroy(vm);
}
