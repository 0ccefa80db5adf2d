// SPDX-License-Identifier: MIT
/*
 * QMP device commands: device_add, device_del, query-pci, and fvmm's
 * x-query-hotplug / x-query-failover.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "control/qmp.h"
#include "control/qmp_pci.h"
#include "core/log.h"
#include "core/util.h"
#include "failover/failover.h"
#include "pci/hotplug.h"
#include "pci/opts.h"
#include "pci/pci.h"
#include "pci/pci_bridge.h"

#define QMP_LIVE	(QMP_STATE(VM_RUNNING) | QMP_STATE(VM_PAUSED))

/* ---- device_add ---- */

/* A property value as --device would spell it. */
static int prop_string(const char *key, json_t *v, char *buf, size_t len)
{
	json_int_t n;

	if (json_is_string(v)) {
		if (strlen(json_string_value(v)) >= len)
			return -E2BIG;
		snprintf(buf, len, "%s", json_string_value(v));
		return 0;
	}
	if (json_is_boolean(v)) {
		snprintf(buf, len, "%s", json_is_true(v) ? "on" : "off");
		return 0;
	}
	if (!json_is_integer(v))
		return -EINVAL;
	n = json_integer_value(v);
	/* An integer addr is a devfn, a string one is "slot[.fn]". */
	if (!strcmp(key, "addr") && n >= 0 && n < 256)
		snprintf(buf, len, "%x.%x", (unsigned)n >> 3, (unsigned)n & 7);
	else
		snprintf(buf, len, "%lld", (long long)n);
	return 0;
}

static int qmp_args_to_opts(struct qmp_request *req, const char *driver,
			    struct opts *o)
{
	char val[256];
	const char *key;
	json_t *v;
	int ret;

	if (opts_init(o, "device_add", driver))
		return qmp_error(req, QMP_ERR_GENERIC,
				 "Parameter 'driver' expects a driver name");
	json_object_foreach(req->args, key, v) {
		if (!strcmp(key, "driver"))
			continue;
		ret = prop_string(key, v, val, sizeof(val));
		if (ret == -EINVAL)
			return qmp_error(req, QMP_ERR_GENERIC,
					 "Invalid parameter type for '%s', expected: string",
					 key);
		if (!ret)
			ret = opts_add(o, key, val);
		if (ret)
			return qmp_error(req, QMP_ERR_GENERIC,
					 "Property '%s' is too long or there are too many",
					 key);
	}
	return 0;
}

static int qmp_device_add(struct qmp_request *req)
{
	const char *driver = qmp_arg_str(req, "driver", "");
	char err[512];
	struct opts o;

	if (!strcmp(driver, "pcie-root-port"))
		return qmp_error(req, QMP_ERR_GENERIC,
				 "Parameter 'driver' expects a pluggable device type");
	if (qmp_args_to_opts(req, driver, &o))
		return -EINVAL;
	if (pci_hotplug_add(req->vm, &o, true, err, sizeof(err)))
		return qmp_error(req, QMP_ERR_GENERIC, "%s", err);
	return 0;
}

static const struct qmp_arg device_add_args[] = {
	{ "driver", QMP_ARG_STR, false },
	{ "id", QMP_ARG_STR, true },
	{ "bus", QMP_ARG_STR, true },
	QMP_ARGS_END
};

/* ---- device_del ---- */

static int qmp_device_del(struct qmp_request *req)
{
	const char *id = qmp_arg_str(req, "id", "");
	const char *mode = qmp_arg_str(req, "mode", "orderly");
	enum pci_unplug_mode m;
	char err[512];
	int ret;

	if (!strcmp(mode, "orderly"))
		m = PCI_UNPLUG_ORDERLY;
	else if (!strcmp(mode, "surprise"))
		m = PCI_UNPLUG_SURPRISE;
	else
		return qmp_error(req, QMP_ERR_GENERIC,
				 "Parameter 'mode' does not accept value '%s'",
				 mode);
	ret = pci_hotplug_del(req->vm, id, m, err, sizeof(err));
	if (ret == -ENOENT)
		return qmp_error(req, QMP_ERR_DEVICE_NOT_FOUND, "%s", err);
	if (ret)
		return qmp_error(req, QMP_ERR_GENERIC, "%s", err);
	return 0;
}

static const struct qmp_arg device_del_args[] = {
	{ "id", QMP_ARG_STR, false },
	{ "mode", QMP_ARG_STR, true },
	QMP_ARGS_END
};

/* ---- query-pci ---- */

static const char *class_desc(unsigned cls)
{
	switch (cls) {
	case PCI_CLASS_BRIDGE_HOST:
		return "Host bridge";
	case PCI_CLASS_BRIDGE_P2P:
		return "PCI bridge";
	case PCI_CLASS_NETWORK_ETHERNET:
		return "Ethernet controller";
	}
	return NULL;
}

static json_t *regions_json(const struct pci_dev *pd)
{
	json_t *list = json_array();

	for (int i = 0; list && i < PCI_NR_BARS; i++) {
		const struct pci_bar *b = &pd->bars[i];
		json_t *r;

		if (b->type == PCI_BAR_UNUSED)
			continue;
		/* As QEMU: where it decodes now, -1 while it does not. */
		r = json_pack("{s:i, s:s, s:I, s:I}", "bar", i, "type",
			      b->type == PCI_BAR_IO ? "io" : "memory",
			      "address", b->mapped ? (json_int_t)b->addr : -1,
			      "size", (json_int_t)b->size);
		if (r && b->type != PCI_BAR_IO) {
			json_object_set_new(r, "prefetch",
					    json_boolean(b->prefetch));
			json_object_set_new(r, "mem_type_64",
					    json_boolean(b->type ==
							 PCI_BAR_MEM64));
		}
		json_array_append_new(list, r);
	}
	return list;
}

static json_t *range_json(bool open, const struct pci_window *w)
{
	(void)open;	/* QEMU prints closed windows as base > limit too */
	return json_pack("{s:I, s:I}", "base", (json_int_t)w->base,
			 "limit", (json_int_t)w->limit);
}

static json_t *dev_json(struct pci_dev *pd, unsigned bus);

static json_t *bridge_json(struct pci_bridge *br)
{
	struct pci_window io, mem, pref;
	bool io_on = pci_bridge_io_window(br, &io);
	bool mem_on = pci_bridge_mem_window(br, &mem);
	bool pref_on = pci_bridge_pref_window(br, &pref);
	unsigned sec = pci_bridge_secondary(br);
	json_t *devices = json_array();

	if (devices && br->child)
		json_array_append_new(devices, dev_json(br->child, sec));
	/* QEMU's "number" is the bridge's primary bus. */
	return json_pack("{s:{s:i, s:i, s:i, s:o, s:o, s:o}, s:o}",
			 "bus", "number", br->pd->cfg[PCI_PRIMARY_BUS],
			 "secondary", sec,
			 "subordinate", pci_bridge_subordinate(br),
			 "io_range", range_json(io_on, &io),
			 "memory_range", range_json(mem_on, &mem),
			 "prefetchable_range", range_json(pref_on, &pref),
			 "devices", devices);
}

static json_t *dev_json(struct pci_dev *pd, unsigned bus)
{
	unsigned cls = pci_get_reg(pd, PCI_CLASS_DEVICE, 2);
	unsigned pin = pd->cfg[PCI_INTERRUPT_PIN];
	bool type0 = !pd->bridge;
	const char *desc = class_desc(cls);
	json_t *o, *cinfo, *id;

	cinfo = desc ? json_pack("{s:s, s:i}", "desc", desc, "class", cls) :
		       json_pack("{s:i}", "class", cls);
	id = json_pack("{s:i, s:i}", "device",
		       pci_get_reg(pd, PCI_DEVICE_ID, 2), "vendor",
		       pci_get_reg(pd, PCI_VENDOR_ID, 2));
	if (id && type0) {
		json_object_set_new(id, "subsystem", json_integer(
			pci_get_reg(pd, PCI_SUBSYSTEM_ID, 2)));
		json_object_set_new(id, "subsystem-vendor", json_integer(
			pci_get_reg(pd, PCI_SUBSYSTEM_VENDOR_ID, 2)));
	}
	o = json_pack("{s:i, s:i, s:i, s:o, s:o, s:i, s:s, s:o}",
		      "bus", bus, "slot", PCI_SLOT(pd->devfn),
		      "function", PCI_FUNC(pd->devfn), "class_info", cinfo,
		      "id", id, "irq_pin", pin,
		      "qdev_id", pd == pci_host_dev(pd->host, 0) ? "" : pd->name,
		      "regions", regions_json(pd));
	if (o && pin)
		json_object_set_new(o, "irq", json_integer(
			pd->cfg[PCI_INTERRUPT_LINE]));
	if (o && pd->bridge)
		json_object_set_new(o, "pci_bridge", bridge_json(pd->bridge));
	return o;
}

static int qmp_query_pci(struct qmp_request *req)
{
	struct pci_host *h = req->vm->pci;
	json_t *devices = json_array();

	if (!devices)
		return -ENOMEM;
	pci_host_lock(h);
	for (unsigned devfn = 0; devfn < 256; devfn++) {
		struct pci_dev *pd = pci_host_dev(h, devfn);

		if (pd)
			json_array_append_new(devices, dev_json(pd, 0));
	}
	pci_host_unlock(h);
	req->ret = json_pack("[{s:i, s:o}]", "bus", 0, "devices", devices);
	return req->ret ? 0 : -ENOMEM;
}

/* ---- fvmm extensions ---- */

static int qmp_query_hotplug(struct qmp_request *req)
{
	req->ret = pci_hotplug_query(req->vm);
	return req->ret ? 0 : -ENOMEM;
}

static int qmp_query_failover(struct qmp_request *req)
{
	req->ret = failover_query(req->vm);
	return req->ret ? 0 : -ENOMEM;
}

static const struct qmp_command qmp_pci_commands[] = {
	{ .name = "device_add", .handler = qmp_device_add,
	  .args = device_add_args, .states = QMP_LIVE,
	  .flags = QMP_CMD_EXTRA_ARGS },
	{ .name = "device_del", .handler = qmp_device_del,
	  .args = device_del_args, .states = QMP_LIVE },
	{ .name = "query-pci", .handler = qmp_query_pci },
	{ .name = "x-query-hotplug", .handler = qmp_query_hotplug },
	{ .name = "x-query-failover", .handler = qmp_query_failover },
};

int qmp_pci_register_commands(void)
{
	int ret = qmp_register_commands(qmp_pci_commands,
					ARRAY_SIZE(qmp_pci_commands));

	if (ret)
		pr_err("qmp: cannot register the PCI commands: %s",
		       strerror(-ret));
	return ret;
}
