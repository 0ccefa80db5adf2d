// SPDX-License-Identifier: MIT
/*
 * The failover hiding rule (src/failover/failover.c): a primary with
 * failover_pair_id stays hidden until the guest's driver negotiates
 * VIRTIO_NET_F_STANDBY on the standby, then it is hot-plugged into its root
 * port and FAILOVER_NEGOTIATED is emitted; QEMU's refusals; deletions of
 * either side; migration's unplug/replug hooks; the command line path.
 */
#include <linux/virtio_net.h>

#include "test_hotplug_guest.h"

#include "failover/failover.h"
#include "virtio/virtio_net.h"

#define F(b)		(1ULL << (b))
#define FEAT		(F(VIRTIO_F_VERSION_1) | F(VIRTIO_NET_F_MAC))
#define STANDBY		F(VIRTIO_NET_F_STANDBY)

struct fixture {
	struct hg_machine m;
	struct drv d;			/* the guest's driver for net1 */
};

static struct fixture *f;

static void add_cold(const char *spec)
{
	char err[512];
	struct opts o;

	assert_int_equal(opts_parse(&o, "test", spec), 0);
	if (pci_hotplug_add(&f->m.vm, &o, false, err, sizeof(err)))
		fail_msg("%s: %s", spec, err);
}

static int setup(void **state)
{
	struct virtio_net *n;

	f = calloc(1, sizeof(*f));
	assert_non_null(f);
	hg_machine_init(&f->m, "nd");
	/* The standby on bus 0, as at startup. */
	add_cold("virtio-net-pci,id=net1,bus=pcie.0,netdev=nd0,failover=on,mac=52:54:00:aa:00:01");
	n = virtio_net_find(&f->m.vm, "net1");
	assert_non_null(n);
	f->d = (struct drv){ .vp = &n->vp, .gm = &f->m.vm.mem, .brk = 0x100000 };
	hg_machine_start(&f->m);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	hg_machine_destroy(&f->m);
	free(f);
	return 0;
}

/* The guest's virtio-net driver accepts these features. */
static void negotiate(uint64_t features)
{
	assert_true(drv_negotiate(&f->d, features) & VIRTIO_STAT_FEATURES_OK);
}

static const char *pair_state(const char *standby)
{
	static char buf[32];
	json_t *q = failover_query(&f->m.vm), *e;
	size_t i;

	strcpy(buf, "none");
	json_array_foreach(q, i, e)
		if (!strcmp(json_string_value(json_object_get(e, "standby")),
			    standby))
			snprintf(buf, sizeof(buf), "%s", json_string_value(
				json_object_get(e, "state")));
	json_decref(q);
	return buf;
}

/* ---- the rule ---- */

static void test_hidden_until_standby(void **state)
{
	char err[512];

	assert_int_equal(hg_add(&f->m.vm, "e1000,id=pri1,bus=rp1,netdev=nd1,failover_pair_id=net1,mac=52:54:00:aa:00:01",
				err), 0);
	/* Accepted, but not built and not in the slot. */
	assert_null(vm_find_device(&f->m.vm, "pri1"));
	assert_false(root_port_occupied(f->m.rp1));
	assert_string_equal(f->m.rp1->reserved, "pri1");
	assert_false(hg_sltsta(f->m.rp1) & PCI_EXP_SLTSTA_PDS);
	assert_string_equal(pair_state("net1"), "hidden");
	/* The guest's driver takes STANDBY: plugged, event emitted. */
	negotiate(FEAT | STANDBY);
	assert_true(hg_wait("FAILOVER_NEGOTIATED", "device-id", "net1", 1));
	hg_sync(&f->m.vm);
	assert_non_null(vm_find_device(&f->m.vm, "pri1"));
	assert_true(root_port_occupied(f->m.rp1));
	assert_true(hg_sltsta(f->m.rp1) & PCI_EXP_SLTSTA_PDS);
	assert_true(hg_sltsta(f->m.rp1) & PCI_EXP_SLTSTA_DLLSC);
	assert_string_equal(pair_state("net1"), "plugged");
	assert_string_equal(f->m.rp1->reserved, "");
	/* Negotiating again (a driver reload): event again, nothing else. */
	negotiate(FEAT | STANDBY);
	assert_true(hg_wait("FAILOVER_NEGOTIATED", "device-id", "net1", 2));
	hg_sync(&f->m.vm);
	assert_true(root_port_occupied(f->m.rp1));
}

static void test_guest_without_standby(void **state)
{
	char err[512];

	assert_int_equal(hg_add(&f->m.vm, "e1000,id=pri1,bus=rp1,netdev=nd1,failover_pair_id=net1",
				err), 0);
	negotiate(FEAT);
	drv_w(&f->d, VIRTIO_PCI_COMMON_STATUS, 0, 1);	/* and a reset */
	hg_sync(&f->m.vm);
	hg_sync(&f->m.vm);
	assert_int_equal(hg_count("FAILOVER_NEGOTIATED", NULL, NULL), 0);
	assert_null(vm_find_device(&f->m.vm, "pri1"));
	assert_false(root_port_occupied(f->m.rp1));
}

static void test_renegotiation_without_standby(void **state)
{
	char err[512];

	assert_int_equal(hg_add(&f->m.vm, "e1000,id=pri1,bus=rp1,netdev=nd1,failover_pair_id=net1",
				err), 0);
	negotiate(FEAT | STANDBY);
	assert_true(hg_wait("FAILOVER_NEGOTIATED", NULL, NULL, 1));
	hg_sync(&f->m.vm);
	/* Reset and renegotiate without STANDBY: the primary stays. */
	negotiate(FEAT);
	hg_sync(&f->m.vm);
	assert_non_null(vm_find_device(&f->m.vm, "pri1"));
	assert_int_equal(hg_count("DEVICE_DELETED", NULL, NULL), 0);
	assert_string_equal(pair_state("net1"), "plugged");
}

static void test_added_after_negotiation(void **state)
{
	char err[512];

	negotiate(FEAT | STANDBY);
	assert_true(hg_wait("FAILOVER_NEGOTIATED", "device-id", "net1", 1));
	assert_int_equal(hg_add(&f->m.vm, "virtio-net-pci,id=pri1,bus=rp2,netdev=nd1,failover_pair_id=net1",
				err), 0);
	assert_non_null(vm_find_device(&f->m.vm, "pri1"));
	assert_true(root_port_occupied(f->m.rp2));
	assert_string_equal(pair_state("net1"), "plugged");
}

static void test_refusals(void **state)
{
	char err[512];

	assert_int_equal(hg_add(&f->m.vm, "e1000,bus=rp1,netdev=nd1,failover_pair_id=net1",
				err), -EINVAL);
	assert_string_equal(err, "Device with failover_pair_id needs to have id");
	assert_int_equal(hg_add(&f->m.vm, "e1000,id=pri1,bus=pcie.0,netdev=nd1,failover_pair_id=net1",
				err), -EINVAL);
	assert_string_equal(err, "Bus 'pcie.0' does not support hotplugging");
	assert_int_equal(hg_add(&f->m.vm, "e1000,id=pri1,netdev=nd1,failover_pair_id=net1",
				err), -EINVAL);
	assert_string_equal(err, "Bus 'pcie.0' does not support hotplugging");
	assert_int_equal(hg_add(&f->m.vm, "e1000,id=pri1,bus=rp1,netdev=nd1,failover_pair_id=nope",
				err), -EINVAL);
	assert_string_equal(err, "failover_pair_id 'nope' does not name a virtio-net-pci device with failover=on");
	assert_int_equal(hg_add(&f->m.vm, "virtio-net-pci,id=plain,bus=rp2,netdev=nd2",
				err), 0);
	assert_int_equal(hg_add(&f->m.vm, "e1000,id=pri1,bus=rp1,netdev=nd1,failover_pair_id=plain",
				err), -EINVAL);
	assert_string_equal(err, "failover_pair_id 'plain' does not name a virtio-net-pci device with failover=on");
	/* One primary per standby. */
	assert_int_equal(hg_add(&f->m.vm, "e1000,id=pri1,bus=rp1,netdev=nd1,failover_pair_id=net1",
				err), 0);
	assert_int_equal(hg_add(&f->m.vm, "e1000,id=pri2,bus=rp1,netdev=nd3,failover_pair_id=net1",
				err), -EINVAL);
	assert_string_equal(err, "Cannot attach more than one primary device to 'net1': 'pri1' and 'pri2'");
	/* A hidden primary holds its id, netdev and slot. */
	assert_int_equal(hg_add(&f->m.vm, "e1000,id=pri1,bus=rp2,netdev=nd3", err),
			 -EINVAL);
	assert_string_equal(err, "Duplicate device ID 'pri1'");
	assert_int_equal(hg_add(&f->m.vm, "e1000,id=x,bus=rp1,netdev=nd1", err),
			 -EINVAL);
	assert_string_equal(err, "Property 'e1000.netdev' can't take value 'nd1', it's in use");
	assert_int_equal(hg_add(&f->m.vm, "e1000,id=x,bus=rp1,netdev=nd3", err),
			 -EBUSY);
	assert_string_equal(err, "PCI: slot 0 function 0 not available for e1000, reserved for failover primary 'pri1'");
}

static void test_primary_slot_taken(void **state)
{
	char err[512];

	assert_int_equal(hg_add(&f->m.vm, "e1000,id=x,bus=rp1,netdev=nd3", err),
			 0);
	assert_int_equal(hg_add(&f->m.vm, "e1000,id=pri1,bus=rp1,netdev=nd1,failover_pair_id=net1",
				err), -EBUSY);
	assert_string_equal(err, "PCI: slot 0 function 0 not available for e1000, in use by e1000,id=\"x\"");
	assert_string_equal(pair_state("net1"), "none");
}

/* ---- deletions ---- */

static void test_del_hidden_primary(void **state)
{
	char err[512];

	assert_int_equal(hg_add(&f->m.vm, "e1000,id=pri1,bus=rp1,netdev=nd1,failover_pair_id=net1",
				err), 0);
	assert_int_equal(hg_del(&f->m.vm, "pri1", PCI_UNPLUG_ORDERLY, err), 0);
	assert_true(hg_wait("DEVICE_DELETED", "device", "pri1", 1));
	assert_string_equal(pair_state("net1"), "none");
	assert_string_equal(f->m.rp1->reserved, "");
	/* The standby negotiates later: nothing to plug. */
	negotiate(FEAT | STANDBY);
	assert_true(hg_wait("FAILOVER_NEGOTIATED", NULL, NULL, 1));
	hg_sync(&f->m.vm);
	assert_false(root_port_occupied(f->m.rp1));
	/* And the id, netdev and slot are free again. */
	assert_int_equal(hg_add(&f->m.vm, "e1000,id=pri1,bus=rp1,netdev=nd1,failover_pair_id=net1",
				err), 0);
	assert_true(root_port_occupied(f->m.rp1));	/* negotiated: at once */
}

/* The frames fvmm sent on the standby's backend (nd0) since the last
 * call: how many, and whether one was a RARP from the standby's MAC. */
static int standby_frames(bool *rarp)
{
	static const uint8_t mac[6] = { 0x52, 0x54, 0x00, 0xaa, 0x00, 0x01 };
	uint8_t buf[2048];
	ssize_t n;
	int count = 0;

	*rarp = false;
	while ((n = recv(f->m.peers[0], buf, sizeof(buf), MSG_DONTWAIT)) > 0) {
		const uint8_t *eth = buf + 12;	/* behind the vnet header */

		count++;
		if (n >= 12 + 14 && eth[12] == 0x80 && eth[13] == 0x35 &&
		    !memcmp(eth + 6, mac, 6))
			*rarp = true;
	}
	return count;
}

static void test_del_plugged_primary(void **state)
{
	char err[512];
	bool rarp;

	assert_int_equal(hg_add(&f->m.vm, "e1000,id=pri1,bus=rp1,netdev=nd1,failover_pair_id=net1",
				err), 0);
	negotiate(FEAT | STANDBY);
	assert_true(hg_wait("FAILOVER_NEGOTIATED", NULL, NULL, 1));
	hg_sync(&f->m.vm);
	standby_frames(&rarp);
	assert_int_equal(hg_del(&f->m.vm, "pri1", PCI_UNPLUG_SURPRISE, err), 0);
	/* fvmm moved the network to the standby before the card vanished. */
	assert_int_equal(standby_frames(&rarp), 1);
	assert_true(rarp);
	assert_true(hg_wait("DEVICE_DELETED", "device", "pri1", 1));
	assert_string_equal(pair_state("net1"), "none");
	/* A new primary may pair with the standby. */
	assert_int_equal(hg_add(&f->m.vm, "e1000,id=pri2,bus=rp2,netdev=nd1,failover_pair_id=net1",
				err), 0);
	assert_string_equal(pair_state("net1"), "plugged");
}

static void test_standby_deleted(void **state)
{
	struct virtio_net *n;
	char err[512];

	/* A hot-plugged standby on rp2, a hidden primary on rp1. */
	assert_int_equal(hg_add(&f->m.vm, "virtio-net-pci,id=sb,bus=rp2,netdev=nd2,failover=on",
				err), 0);
	assert_int_equal(hg_add(&f->m.vm, "e1000,id=pri1,bus=rp1,netdev=nd1,failover_pair_id=sb",
				err), 0);
	n = virtio_net_find(&f->m.vm, "sb");
	assert_non_null(n);
	assert_int_equal(hg_del(&f->m.vm, "sb", PCI_UNPLUG_SURPRISE, err), 0);
	assert_true(hg_wait("DEVICE_DELETED", "device", "sb", 1));
	/* The hidden primary went with it. */
	assert_true(hg_wait("DEVICE_DELETED", "device", "pri1", 1));
	assert_string_equal(pair_state("sb"), "none");
	assert_string_equal(f->m.rp1->reserved, "");
}

/* ---- migration's hooks ---- */

static void mig_unplug(void *arg)
{
	char err[256];

	*(int *)arg = failover_unplug_primary(&f->m.vm, "net1",
					      PCI_UNPLUG_ORDERLY, true, err,
					      sizeof(err));
}

static void mig_replug(void *arg)
{
	char err[256];

	*(int *)arg = failover_replug_primary(&f->m.vm, "net1", err,
					      sizeof(err));
}

static void test_migration_unplug_replug(void **state)
{
	char err[512];
	int ret = -1;

	assert_int_equal(hg_add(&f->m.vm, "e1000,id=pri1,bus=rp1,netdev=nd1,failover_pair_id=net1",
				err), 0);
	negotiate(FEAT | STANDBY);
	assert_true(hg_wait("FAILOVER_NEGOTIATED", NULL, NULL, 1));
	hg_sync(&f->m.vm);
	hg_power(f->m.rp1, true);
	hg_isr(f->m.rp1);
	hg_on_loop(&f->m.vm, mig_unplug, &ret);
	assert_int_equal(ret, 0);
	hg_power(f->m.rp1, false);	/* the guest lets go */
	assert_true(hg_wait("DEVICE_DELETED", "device", "pri1", 1));
	hg_sync(&f->m.vm);
	/* Held hidden: renegotiation does not bring it back. */
	assert_string_equal(pair_state("net1"), "hidden");
	assert_string_equal(f->m.rp1->reserved, "pri1");
	negotiate(FEAT | STANDBY);
	assert_true(hg_wait("FAILOVER_NEGOTIATED", NULL, NULL, 2));
	hg_sync(&f->m.vm);
	assert_false(root_port_occupied(f->m.rp1));
	/* Migration failed: put it back. */
	hg_on_loop(&f->m.vm, mig_replug, &ret);
	assert_int_equal(ret, 0);
	assert_true(root_port_occupied(f->m.rp1));
	assert_string_equal(pair_state("net1"), "plugged");
}

/* ---- the command line ---- */

static void test_startup_order(void **state)
{
	struct vm *vm;
	int peers[3];

	/* A fresh machine from --device strings, primary listed first. */
	evloop_stop(&f->m.vm.loop);
	vm = calloc(1, sizeof(*vm));
	assert_non_null(vm);
	drv_vm_init(vm);
	vm->cfg.device_opts[0] =
		"e1000,id=pri1,bus=rp1,netdev=nd1,failover_pair_id=sb1";
	vm->cfg.device_opts[1] = "pcie-root-port,id=rp1,chassis=1,slot=5";
	vm->cfg.device_opts[2] = "virtio-net-pci,id=sb1,netdev=nd2,failover=on";
	vm->cfg.device_opts[3] = "e1000,id=cold,bus=rp2,netdev=nd3";
	vm->cfg.device_opts[4] = "pcie-root-port,id=rp2,addr=0x1f";
	vm->cfg.nr_device_opts = 5;
	peers[0] = hg_netdev(vm, "nd1");
	peers[1] = hg_netdev(vm, "nd2");
	peers[2] = hg_netdev(vm, "nd3");
	assert_int_equal(pci_machine_init(vm), 0);
	assert_null(vm_find_device(vm, "pri1"));
	assert_non_null(vm_find_device(vm, "cold"));
	assert_string_equal(root_port_find(vm, "rp1")->reserved, "pri1");
	assert_int_equal(root_port_find(vm, "rp1")->psn, 5);
	assert_int_equal(PCI_SLOT(root_port_find(vm, "rp2")->pci.devfn), 0x1f);
	/* The cold-plugged card is present and powered, no events. */
	assert_true(root_port_occupied(root_port_find(vm, "rp2")));
	assert_true(pcie_slot_device_on(&root_port_find(vm, "rp2")->slot));
	assert_int_equal(root_port_find(vm, "rp2")->slot.sta,
			 PCI_EXP_SLTSTA_PDS);
	fake_vm_destroy(vm);
	pci_machine_destroy(vm);
	evloop_destroy(&vm->loop);
	gm_destroy(&vm->mem);
	free(vm);
	for (int i = 0; i < 3; i++)
		close(peers[i]);
	assert_int_equal(evloop_start(&f->m.vm.loop), 0);
}

static void test_startup_refusals(void **state)
{
	static const char *const bad[] = {
		"e1000,id=p,netdev=nd1,failover_pair_id=net1",
		"e1000,id=p,bus=rpX,netdev=nd1",
		"e1000,netdev=nd1,bus=rp1,failover_pair_id=net1",
	};
	int peers[2];

	evloop_stop(&f->m.vm.loop);
	for (unsigned i = 0; i < ARRAY_SIZE(bad); i++) {
		struct vm *vm = calloc(1, sizeof(*vm));

		assert_non_null(vm);
		drv_vm_init(vm);
		vm->cfg.device_opts[0] = "pcie-root-port,id=rp1";
		vm->cfg.device_opts[1] = "virtio-net-pci,id=net1,netdev=nd2,failover=on";
		vm->cfg.device_opts[2] = bad[i];
		vm->cfg.nr_device_opts = 3;
		peers[0] = hg_netdev(vm, "nd1");
		peers[1] = hg_netdev(vm, "nd2");
		assert_int_equal(pci_machine_init(vm), -EINVAL);
		fake_vm_destroy(vm);
		pci_machine_destroy(vm);
		evloop_destroy(&vm->loop);
		gm_destroy(&vm->mem);
		free(vm);
		close(peers[0]);
		close(peers[1]);
	}
	assert_int_equal(evloop_start(&f->m.vm.loop), 0);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_hidden_until_standby),
		T(test_guest_without_standby),
		T(test_renegotiation_without_standby),
		T(test_added_after_negotiation),
		T(test_refusals),
		T(test_primary_slot_taken),
		T(test_del_hidden_primary),
		T(test_del_plugged_primary),
		T(test_standby_deleted),
		T(test_migration_unplug_replug),
		T(test_startup_order),
		T(test_startup_refusals),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
