// SPDX-License-Identifier: MIT
/*
 * QMP device commands (src/control/qmp_pci.c) through the protocol core:
 * device_add and device_del with QEMU's argument handling and errors, the
 * "mode" extension, query-pci's shape with nested bridges, x-query-hotplug
 * and x-query-failover.  Requests are handled on the VM's event loop, as the
 * server does.
 */
#include "test_hotplug_guest.h"

#include "control/qmp_pci.h"
#include "control/qmp_proto.h"

struct fixture {
	struct hg_machine m;
	struct qmp_session s;
	json_t *out;
};

static struct fixture *f;

static int emit(struct qmp_session *s, const char *text, size_t len)
{
	json_t *msg = json_loadb(text, len - 2, 0, NULL);

	assert_non_null(msg);
	json_array_append_new(f->out, msg);
	return 0;
}

static int running(struct qmp_session *s)
{
	return VM_RUNNING;
}

struct feed {
	const char *text;
};

static void feed_cb(void *arg)
{
	struct feed *fd = arg;

	assert_true(qmp_session_feed(&f->s, fd->text, strlen(fd->text)) > 0);
}

/* One request; returns the last message (the reply), borrowed. */
static json_t *qmp(const char *text)
{
	struct feed fd = { text };

	hg_on_loop(&f->m.vm, feed_cb, &fd);
	return json_array_get(f->out, json_array_size(f->out) - 1);
}

static void assert_err(json_t *r, const char *cls, const char *desc)
{
	json_t *e = json_object_get(r, "error");

	assert_non_null(e);
	assert_string_equal(json_string_value(json_object_get(e, "class")),
			    cls);
	assert_string_equal(json_string_value(json_object_get(e, "desc")),
			    desc);
}

static void assert_ok(json_t *r)
{
	if (!json_object_get(r, "return"))
		fail_msg("%s", json_dumps(r, 0));
}

static int setup(void **state)
{
	f = calloc(1, sizeof(*f));
	assert_non_null(f);
	hg_machine_init(&f->m, "hs");
	assert_int_equal(qmp_pci_register_commands(), 0);
	f->out = json_array();
	qmp_session_init(&f->s, &f->m.vm, emit, f);
	f->s.get_state = running;
	hg_machine_start(&f->m);
	assert_ok(qmp("{\"execute\": \"qmp_capabilities\"}"));
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	/* The loop stops before the session it feeds goes. */
	evloop_stop(&f->m.vm.loop);
	qmp_session_free(&f->s);
	json_decref(f->out);
	hg_machine_destroy(&f->m);
	free(f);
	return 0;
}

/* ---- device_add ---- */

static void test_device_add(void **state)
{
	assert_ok(qmp("{\"execute\": \"device_add\", \"arguments\": {\"driver\": \"e1000\", \"id\": \"pri0\", \"bus\": \"rp1\", \"netdev\": \"hs0\", \"mac\": \"52:54:00:11:11:11\", \"addr\": 0, \"rombar\": 0, \"romfile\": \"\"}, \"id\": 7}"));
	assert_int_equal(json_integer_value(json_object_get(
		json_array_get(f->out, json_array_size(f->out) - 1), "id")), 7);
	assert_non_null(vm_find_device(&f->m.vm, "pri0"));
	/* failover as a JSON bool or as QEMU's "on". */
	assert_ok(qmp("{\"execute\": \"device_add\", \"arguments\": {\"driver\": \"virtio-net-pci\", \"id\": \"sb\", \"bus\": \"rp2\", \"netdev\": \"hs1\", \"failover\": true}}"));
	assert_ok(qmp("{\"execute\": \"device_del\", \"arguments\": {\"id\": \"sb\", \"mode\": \"surprise\"}}"));
	assert_true(hg_wait("DEVICE_DELETED", "device", "sb", 1));
	assert_ok(qmp("{\"execute\": \"device_add\", \"arguments\": {\"driver\": \"virtio-net\", \"id\": \"sb\", \"bus\": \"rp2\", \"netdev\": \"hs1\", \"failover\": \"on\"}}"));
}

static void test_device_add_errors(void **state)
{
	assert_err(qmp("{\"execute\": \"device_add\", \"arguments\": {\"id\": \"x\"}}"),
		   "GenericError", "Parameter 'driver' is missing");
	assert_err(qmp("{\"execute\": \"device_add\", \"arguments\": {\"driver\": 3}}"),
		   "GenericError",
		   "Invalid parameter type for 'driver', expected: string");
	assert_err(qmp("{\"execute\": \"device_add\", \"arguments\": {\"driver\": \"pcie-root-port\", \"id\": \"rp9\"}}"),
		   "GenericError",
		   "Parameter 'driver' expects a pluggable device type");
	assert_err(qmp("{\"execute\": \"device_add\", \"arguments\": {\"driver\": \"e1000\", \"id\": \"x\", \"netdev\": \"hs0\"}}"),
		   "GenericError", "Bus 'pcie.0' does not support hotplugging");
	assert_err(qmp("{\"execute\": \"device_add\", \"arguments\": {\"driver\": \"e1000\", \"id\": \"x\", \"bus\": \"rp7\", \"netdev\": \"hs0\"}}"),
		   "GenericError", "Bus 'rp7' not found");
	assert_err(qmp("{\"execute\": \"device_add\", \"arguments\": {\"driver\": \"e1000\", \"id\": \"x\", \"bus\": \"rp1\", \"netdev\": {\"a\": 1}}}"),
		   "GenericError",
		   "Invalid parameter type for 'netdev', expected: string");
	assert_err(qmp("{\"execute\": \"device_add\", \"arguments\": {\"driver\": \"e1000\", \"id\": \"x\", \"bus\": \"rp1\", \"netdev\": \"hs0\", \"addr\": 8}}"),
		   "GenericError",
		   "PCI: slot 1 is not valid for e1000, parent device only allows plugging into slot 0.");
	assert_err(qmp("{\"execute\": \"device_add\", \"arguments\": {\"driver\": \"e1000\", \"id\": \"rp1\", \"bus\": \"rp1\", \"netdev\": \"hs0\"}}"),
		   "GenericError", "Duplicate device ID 'rp1'");
	assert_err(qmp("{\"execute\": \"device_add\", \"arguments\": {\"driver\": \"e1000\", \"bus\": \"rp1\", \"netdev\": \"hs0\", \"failover_pair_id\": \"sb\"}}"),
		   "GenericError",
		   "Device with failover_pair_id needs to have id");
	/* The connection stays usable after all of that. */
	assert_ok(qmp("{\"execute\": \"query-pci\"}"));
	assert_null(vm_find_device(&f->m.vm, "x"));
}

/* ---- device_del ---- */

static void test_device_del(void **state)
{
	assert_ok(qmp("{\"execute\": \"device_add\", \"arguments\": {\"driver\": \"e1000\", \"id\": \"pri0\", \"bus\": \"rp1\", \"netdev\": \"hs0\"}}"));
	hg_power(f->m.rp1, true);
	assert_ok(qmp("{\"execute\": \"device_del\", \"arguments\": {\"id\": \"pri0\"}}"));
	assert_err(qmp("{\"execute\": \"device_del\", \"arguments\": {\"id\": \"pri0\"}}"),
		   "GenericError",
		   "Device pri0 is already in the process of unplug");
	hg_power(f->m.rp1, false);
	assert_true(hg_wait("DEVICE_DELETED", "device", "pri0", 1));
	assert_err(qmp("{\"execute\": \"device_del\", \"arguments\": {\"id\": \"pri0\"}}"),
		   "DeviceNotFound", "Device 'pri0' not found");
	assert_err(qmp("{\"execute\": \"device_del\"}"), "GenericError",
		   "Parameter 'id' is missing");
	assert_err(qmp("{\"execute\": \"device_del\", \"arguments\": {\"id\": \"rp1\"}}"),
		   "GenericError", "Bus 'pcie.0' does not support hotplugging");
	assert_err(qmp("{\"execute\": \"device_del\", \"arguments\": {\"id\": \"pri0\", \"mode\": \"yank\"}}"),
		   "GenericError", "Parameter 'mode' does not accept value 'yank'");
}

/* ---- queries ---- */

static json_t *find_dev(json_t *devices, const char *qdev_id)
{
	size_t i;
	json_t *d;

	json_array_foreach(devices, i, d) {
		json_t *br = json_object_get(d, "pci_bridge");
		json_t *sub = br ? find_dev(json_object_get(br, "devices"),
					    qdev_id) : NULL;

		if (sub)
			return sub;
		if (!strcmp(json_string_value(json_object_get(d, "qdev_id")),
			    qdev_id))
			return d;
	}
	return NULL;
}

static void test_query_pci(void **state)
{
	json_t *r, *bus0, *rp, *br, *e, *cls, *regs;

	assert_ok(qmp("{\"execute\": \"device_add\", \"arguments\": {\"driver\": \"e1000\", \"id\": \"pri0\", \"bus\": \"rp2\", \"netdev\": \"hs0\"}}"));
	r = json_object_get(qmp("{\"execute\": \"query-pci\"}"), "return");
	assert_int_equal(json_array_size(r), 1);
	bus0 = json_array_get(r, 0);
	assert_int_equal(json_integer_value(json_object_get(bus0, "bus")), 0);
	/* The host bridge: no qdev id, "Host bridge". */
	e = json_array_get(json_object_get(bus0, "devices"), 0);
	assert_string_equal(json_string_value(json_object_get(e, "qdev_id")),
			    "");
	assert_string_equal(json_string_value(json_object_get(
		json_object_get(e, "class_info"), "desc")), "Host bridge");
	rp = find_dev(json_object_get(bus0, "devices"), "rp2");
	assert_non_null(rp);
	cls = json_object_get(rp, "class_info");
	assert_int_equal(json_integer_value(json_object_get(cls, "class")),
			 0x0604);
	assert_string_equal(json_string_value(json_object_get(cls, "desc")),
			    "PCI bridge");
	assert_int_equal(json_integer_value(json_object_get(
		json_object_get(rp, "id"), "vendor")), 0x1b36);
	br = json_object_get(rp, "pci_bridge");
	assert_non_null(br);
	assert_int_equal(json_integer_value(json_object_get(
		json_object_get(br, "bus"), "secondary")), 2);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(
		json_object_get(br, "bus"), "io_range"), "base")), 0x2000);
	e = find_dev(json_object_get(br, "devices"), "pri0");
	assert_non_null(e);
	assert_int_equal(json_integer_value(json_object_get(e, "bus")), 2);
	assert_int_equal(json_integer_value(json_object_get(e, "slot")), 0);
	assert_string_equal(json_string_value(json_object_get(
		json_object_get(e, "class_info"), "desc")),
			    "Ethernet controller");
	assert_int_equal(json_integer_value(json_object_get(
		json_object_get(e, "id"), "device")), 0x100e);
	regs = json_object_get(e, "regions");
	assert_true(json_array_size(regs) >= 2);
	assert_string_equal(json_string_value(json_object_get(
		json_array_get(regs, 0), "type")), "memory");
	/* Only the occupied port lists a device. */
	assert_int_equal(json_array_size(json_object_get(json_object_get(
		find_dev(json_object_get(bus0, "devices"), "rp1"),
		"pci_bridge"), "devices")), 0);
}

static void test_query_hotplug_and_failover(void **state)
{
	json_t *r, *s;

	assert_ok(qmp("{\"execute\": \"device_add\", \"arguments\": {\"driver\": \"virtio-net-pci\", \"id\": \"sb\", \"bus\": \"rp2\", \"netdev\": \"hs1\", \"failover\": \"on\"}}"));
	assert_ok(qmp("{\"execute\": \"device_add\", \"arguments\": {\"driver\": \"e1000\", \"id\": \"pri0\", \"bus\": \"rp1\", \"netdev\": \"hs0\", \"failover_pair_id\": \"sb\"}}"));
	r = json_object_get(qmp("{\"execute\": \"x-query-hotplug\"}"), "return");
	s = json_array_get(r, 0);
	assert_string_equal(json_string_value(json_object_get(s, "id")), "rp1");
	assert_string_equal(json_string_value(json_object_get(s, "state")),
			    "reserved");
	assert_string_equal(json_string_value(json_object_get(s,
							      "reserved-for")),
			    "pri0");
	assert_string_equal(json_string_value(json_object_get(s, "power")),
			    "off");
	s = json_array_get(r, 1);
	assert_string_equal(json_string_value(json_object_get(s, "device")),
			    "sb");
	assert_true(json_is_true(json_object_get(s, "presence")));
	assert_true(json_is_true(json_object_get(s, "link-active")));
	r = json_object_get(qmp("{\"execute\": \"x-query-failover\"}"),
			    "return");
	s = json_array_get(r, 0);
	assert_string_equal(json_string_value(json_object_get(s, "standby")),
			    "sb");
	assert_string_equal(json_string_value(json_object_get(s, "primary")),
			    "pri0");
	assert_string_equal(json_string_value(json_object_get(s, "state")),
			    "hidden");
	assert_true(json_is_false(json_object_get(s, "negotiated")));
	/* query-pci does not show a hidden primary. */
	r = json_object_get(qmp("{\"execute\": \"query-pci\"}"), "return");
	assert_null(find_dev(json_object_get(json_array_get(r, 0), "devices"),
			     "pri0"));
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_device_add),
		T(test_device_add_errors),
		T(test_device_del),
		T(test_query_pci),
		T(test_query_hotplug_and_failover),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
