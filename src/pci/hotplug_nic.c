// SPDX-License-Identifier: MIT
/*
 * NIC options for device_add / --device behind root ports: the drivers that
 * may be plugged, their properties, and validation in QEMU's order with
 * QEMU's messages (qdev_device_add: driver, bus, failover, hotplug, id,
 * properties, slot).
 */
#include <ctype.h>
#include <stdarg.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "core/vm.h"
#include "failover/failover.h"
#include "net/net.h"
#include "pci/hotplug.h"
#include "pci/opts.h"
#include "pci/root_port.h"

struct nic_driver {
	const char *name;
	const char *alias;
	bool has_failover;		/* the "failover" property */
};

static const struct nic_driver nic_drivers[] = {
	{ "e1000", "e1000-82540em", false },
	{ "virtio-net-pci", "virtio-net", true },
};

/* Properties QEMU's tools pass that mean nothing without option ROMs. */
static const char *const ignored_props[] = { "rombar", "romfile" };

bool pci_bus_is_root(const char *name)
{
	return !strcmp(name, PCI_BUS0_NAME) || !strcmp(name, "pci.0");
}

static const struct nic_driver *nic_driver_find(const char *name)
{
	for (unsigned i = 0; i < ARRAY_SIZE(nic_drivers); i++)
		if (!strcmp(name, nic_drivers[i].name) ||
		    !strcmp(name, nic_drivers[i].alias))
			return &nic_drivers[i];
	return NULL;
}

/* QEMU's id_wellformed(): a letter, then letters, digits, '-', '.', '_'. */
static bool id_wellformed(const char *id)
{
	if (!isalpha((unsigned char)id[0]))
		return false;
	for (const char *c = id + 1; *c; c++)
		if (!isalnum((unsigned char)*c) && !strchr("-._", *c))
			return false;
	return true;
}

static int copy_str(char *dst, size_t size, const char *src)
{
	if (strlen(src) >= size)
		return -EINVAL;
	strcpy(dst, src);
	return 0;
}

/* "S", "0xS", "S.F" (hex, as QEMU's addr property): slot and function. */
static int parse_addr(const char *s, int *slot, int *fn)
{
	char *end;
	long v, f = 0;

	v = strtol(s, &end, 16);
	if (end == s || v < 0 || v >= PCI_NR_SLOTS)
		return -EINVAL;
	if (*end == '.') {
		const char *fs = end + 1;

		f = strtol(fs, &end, 16);
		if (end == fs || f < 0 || f > 7)
			return -EINVAL;
	}
	if (*end)
		return -EINVAL;
	*slot = v;
	*fn = f;
	return 0;
}

static int nic_parse_addr(struct opts *o, const struct pci_nic_params *p,
			  bool bus0, int *slot, char *err, size_t errlen)
{
	const char *addr = opts_get(o, "addr");
	int s, f;

	*slot = -1;
	if (!addr)
		return 0;
	if (parse_addr(addr, &s, &f) || f != 0 || (bus0 && s == 0))
		return errf(err, errlen, -EINVAL,
			    "Property '%s.addr' doesn't take value '%s'",
			    p->driver, addr);
	if (!bus0 && s != 0)
		return errf(err, errlen, -EINVAL,
			    "PCI: slot %d is not valid for %s, parent device only allows plugging into slot 0.",
			    s, p->driver);
	*slot = bus0 ? s : 0;
	return 0;
}

static int nic_parse_netdev(struct vm *vm, struct opts *o,
			    struct pci_nic_params *p, char *err, size_t errlen)
{
	const char *id = opts_get(o, "netdev");
	struct netdev *nd;

	if (!id || !*id)
		return errf(err, errlen, -EINVAL, "Parameter 'netdev' is missing");
	nd = netdev_find(vm, id);
	if (!nd || copy_str(p->netdev, sizeof(p->netdev), id))
		return errf(err, errlen, -EINVAL,
			    "Property '%s.netdev' can't find value '%s'",
			    p->driver, id);
	if (nd->user || failover_holds_netdev(vm, id))
		return errf(err, errlen, -EINVAL,
			    "Property '%s.netdev' can't take value '%s', it's in use",
			    p->driver, id);
	return 0;
}

/* No mac=: 52:54:00:fe:xx:yy, a range apart from the startup NICs'. */
static void nic_default_mac(uint8_t mac[6])
{
	static unsigned nics;
	unsigned n = __atomic_fetch_add(&nics, 1, __ATOMIC_RELAXED);

	memcpy(mac, (uint8_t[6]){ 0x52, 0x54, 0x00, 0xfe, n >> 8, n }, 6);
}

static int nic_parse_props(struct vm *vm, struct opts *o,
			   const struct nic_driver *drv,
			   struct pci_nic_params *p, char *err, size_t errlen)
{
	const char *mac = opts_get(o, "mac"), *fo, *extra;

	if (nic_parse_netdev(vm, o, p, err, errlen))
		return -EINVAL;
	if (mac && (parse_mac(mac, p->mac) || (p->mac[0] & 1)))
		return errf(err, errlen, -EINVAL,
			    "Property '%s.mac' doesn't take value '%s'",
			    p->driver, mac);
	if (!mac)
		nic_default_mac(p->mac);
	fo = drv->has_failover ? opts_get(o, "failover") : NULL;
	if (fo && !strcmp(fo, "on"))
		p->failover = true;
	else if (fo && strcmp(fo, "off"))
		return errf(err, errlen, -EINVAL,
			    "Parameter 'failover' expects 'on' or 'off'");
	for (unsigned i = 0; i < ARRAY_SIZE(ignored_props); i++)
		opts_get(o, ignored_props[i]);
	extra = opts_first_unused(o);
	if (extra)
		return errf(err, errlen, -EINVAL, "Property '%s.%s' not found",
			    p->driver, extra);
	return 0;
}

static int nic_parse_id(struct vm *vm, struct opts *o,
			struct pci_nic_params *p, char *err, size_t errlen)
{
	const char *id = opts_get(o, "id");

	/* QEMU makes one up; fvmm needs it for device_del and events. */
	if (!id)
		return errf(err, errlen, -EINVAL, "Parameter 'id' is missing");
	if (!id_wellformed(id) || copy_str(p->id, sizeof(p->id), id))
		return errf(err, errlen, -EINVAL,
			    "Parameter 'id' expects an identifier");
	if (vm_find_device(vm, id) || failover_holds_id(vm, id))
		return errf(err, errlen, -EINVAL, "Duplicate device ID '%s'", id);
	return 0;
}

/* driver, then bus: "'X' is not a valid device model name", "Bus ..." */
static int nic_parse_driver_bus(struct vm *vm, struct opts *o,
				struct pci_nic_params *p,
				const struct nic_driver **drv, char *err,
				size_t errlen)
{
	const char *bus = opts_get(o, "bus");

	*drv = nic_driver_find(o->type);
	if (!*drv)
		return errf(err, errlen, -EINVAL, "'%s' is not a valid device model name",
			    o->type);
	strcpy(p->driver, (*drv)->name);
	if (!bus)
		bus = PCI_BUS0_NAME;
	if (pci_bus_is_root(bus)) {
		strcpy(p->bus, PCI_BUS0_NAME);
		return 0;
	}
	if (!root_port_find(vm, bus) || copy_str(p->bus, sizeof(p->bus), bus))
		return errf(err, errlen, -EINVAL, "Bus '%s' not found", bus);
	return 0;
}

int pci_nic_parse(struct vm *vm, struct opts *o, bool hotplug,
		  struct pci_nic_params *p, char *err, size_t errlen)
{
	const struct nic_driver *drv;
	const char *pair, *pool;
	bool bus0;

	memset(p, 0, sizeof(*p));
	p->slot = -1;
	if (nic_parse_driver_bus(vm, o, p, &drv, err, errlen))
		return -EINVAL;
	bus0 = pci_bus_is_root(p->bus);
	pair = opts_get(o, "failover_pair_id");
	if (pair) {
		if (!opts_get(o, "id"))
			return errf(err, errlen, -EINVAL,
				    "Device with failover_pair_id needs to have id");
		if (copy_str(p->failover_pair_id, sizeof(p->failover_pair_id),
			     pair) || copy_str(p->id, sizeof(p->id),
					       opts_get(o, "id")))
			return errf(err, errlen, -EINVAL,
				    "Property '%s.failover_pair_id' doesn't take value '%s'",
				    p->driver, pair);
		if (failover_check_primary(vm, p, err, errlen))
			return -EINVAL;
	}
	pool = opts_get(o, "failover_pool");
	if (pool && strcmp(pool, "on") && strcmp(pool, "off"))
		return errf(err, errlen, -EINVAL,
			    "Parameter 'failover_pool' expects 'on' or 'off'");
	p->failover_pool = pool && !strcmp(pool, "on");
	if (p->failover_pool && pair)
		return errf(err, errlen, -EINVAL,
			    "A pool primary (failover_pool=on) has no failover_pair_id: the migration that needs it picks its standby");
	/* A hidden primary is hot-plugged later: it needs a hotplug bus. */
	if (bus0 && (hotplug || pair || p->failover_pool))
		return errf(err, errlen, -EINVAL,
			    "Bus '%s' does not support hotplugging",
			    PCI_BUS0_NAME);
	if (nic_parse_id(vm, o, p, err, errlen) ||
	    nic_parse_addr(o, p, bus0, &p->slot, err, errlen) ||
	    nic_parse_props(vm, o, drv, p, err, errlen))
		return -EINVAL;
	return 0;
}
