// SPDX-License-Identifier: MIT
/*
 * Hot-plugging real NICs (virtio-net-pci, e1000) into root port slots
 * (src/pci/hotplug*.c): add with QEMU's validation and messages, orderly
 * removal completed by the guest powering the slot off, surprise removal,
 * a removal the guest never completes, DEVICE_DELETED, and 50 add/remove
 * cycles without fd or memory growth.  The event loop runs; control calls
 * go through it as QMP's do; the test thread plays the guest's vCPU.
 */
#include <dirent.h>

#include "test_hotplug_guest.h"

#include "dev/e1000.h"
#include "virtio/virtio_net.h"

static struct hg_machine *f;

static int setup(void **state)
{
	f = calloc(1, sizeof(*f));
	assert_non_null(f);
	hg_machine_init(f, "nd");
	hg_machine_start(f);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	hg_machine_destroy(f);
	free(f);
	return 0;
}

static struct pci_host *host(void)
{
	return f->vm.pci;
}

static bool visible_on(unsigned bus)
{
	return hg_rd(host(), bus, 0, PCI_VENDOR_ID, 2) != 0xffff;
}

static unsigned count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	unsigned n = 0;

	assert_non_null(d);
	while (readdir(d))
		n++;
	closedir(d);
	return n;
}

/* ---- adding ---- */

static void test_hot_add_virtio(void **state)
{
	struct virtio_net *n;
	char err[512];

	assert_int_equal(hg_add(&f->vm, "virtio-net-pci,id=v1,bus=rp1,netdev=nd0,mac=52:54:00:00:00:01",
				err), 0);
	n = virtio_net_find(&f->vm, "v1");
	assert_non_null(n);
	assert_true(pci_hotplug_has(&f->vm, "v1"));
	assert_ptr_equal(n->vp.pci.parent, &f->rp1->pci);
	assert_ptr_equal(f->rp1->child_dev, &n->dev);
	assert_int_equal(n->perm_mac[5], 1);
	/* In the slot, link up, events raised; unpowered until the guest. */
	assert_true(hg_sltsta(f->rp1) & PCI_EXP_SLTSTA_PDS);
	assert_int_equal(hg_isr(f->rp1), PCI_EXP_SLTSTA_PDC |
			 PCI_EXP_SLTSTA_DLLSC);
	assert_false(visible_on(1));
	hg_power(f->rp1, true);
	assert_int_equal(hg_rd(host(), 1, 0, PCI_VENDOR_ID, 4), 0x10411af4);
	/* virtio-net alias, and the second port. */
	assert_int_equal(hg_add(&f->vm, "virtio-net,id=v2,bus=rp2,netdev=nd1",
				err), 0);
	assert_non_null(virtio_net_find(&f->vm, "v2"));
	assert_int_equal(netdev_find(&f->vm, "nd1")->user != NULL, 1);
}

static void test_hot_add_e1000(void **state)
{
	struct e1000 *e;
	struct pci_window mem, io;
	uint64_t a;
	char err[512];

	assert_int_equal(hg_add(&f->vm, "e1000,id=pri1,bus=rp2,netdev=nd2,addr=0",
				err), 0);
	e = e1000_find(&f->vm, "pri1");
	assert_non_null(e);
	hg_power(f->rp2, true);
	assert_int_equal(hg_rd(host(), 2, 0, PCI_VENDOR_ID, 4), 0x100e8086);
	assert_true(pci_bridge_mem_window(&f->rp2->br, &mem));
	assert_true(pci_bridge_io_window(&f->rp2->br, &io));
	a = pci_bar_addr(&e->pci, 0);
	assert_true(a >= mem.base && a <= mem.limit);
	a = pci_bar_addr(&e->pci, 1);
	assert_true(a >= io.base && a <= io.limit);
	/* INTA of device 0 behind the port: the port's slot swizzle. */
	assert_int_equal(hg_rd(host(), 2, 0, PCI_INTERRUPT_LINE, 1),
			 PCI_INTX_GSI(PCI_SLOT(f->rp2->pci.devfn), 0));
}

static void test_add_errors(void **state)
{
	char err[512];

	assert_int_equal(hg_add(&f->vm, "e1000,id=x,bus=nope,netdev=nd0", err),
			 -EINVAL);
	assert_string_equal(err, "Bus 'nope' not found");
	assert_int_equal(hg_add(&f->vm, "e1000,id=x,netdev=nd0", err), -EINVAL);
	assert_string_equal(err, "Bus 'pcie.0' does not support hotplugging");
	assert_int_equal(hg_add(&f->vm, "e1000,id=x,bus=pci.0,netdev=nd0", err),
			 -EINVAL);
	assert_string_equal(err, "Bus 'pcie.0' does not support hotplugging");
	assert_int_equal(hg_add(&f->vm, "rtl8139,id=x,bus=rp1,netdev=nd0", err),
			 -EINVAL);
	assert_string_equal(err, "'rtl8139' is not a valid device model name");
	assert_int_equal(hg_add(&f->vm, "e1000,bus=rp1,netdev=nd0", err),
			 -EINVAL);
	assert_string_equal(err, "Parameter 'id' is missing");
	assert_int_equal(hg_add(&f->vm, "e1000,id=9x,bus=rp1,netdev=nd0", err),
			 -EINVAL);
	assert_string_equal(err, "Parameter 'id' expects an identifier");
	assert_int_equal(hg_add(&f->vm, "e1000,id=rp2,bus=rp1,netdev=nd0", err),
			 -EINVAL);
	assert_string_equal(err, "Duplicate device ID 'rp2'");
	assert_int_equal(hg_add(&f->vm, "e1000,id=x,bus=rp1", err), -EINVAL);
	assert_string_equal(err, "Parameter 'netdev' is missing");
	assert_int_equal(hg_add(&f->vm, "e1000,id=x,bus=rp1,netdev=zz", err),
			 -EINVAL);
	assert_string_equal(err, "Property 'e1000.netdev' can't find value 'zz'");
	assert_int_equal(hg_add(&f->vm, "e1000,id=x,bus=rp1,netdev=nd0,mac=01:00:00:00:00:01",
				err), -EINVAL);
	assert_string_equal(err, "Property 'e1000.mac' doesn't take value '01:00:00:00:00:01'");
	assert_int_equal(hg_add(&f->vm, "e1000,id=x,bus=rp1,netdev=nd0,addr=3",
				err), -EINVAL);
	assert_string_equal(err, "PCI: slot 3 is not valid for e1000, parent device only allows plugging into slot 0.");
	assert_int_equal(hg_add(&f->vm, "e1000,id=x,bus=rp1,netdev=nd0,speed=9",
				err), -EINVAL);
	assert_string_equal(err, "Property 'e1000.speed' not found");
	assert_int_equal(hg_add(&f->vm, "e1000,id=x,bus=rp1,netdev=nd0,failover=on",
				err), -EINVAL);
	assert_string_equal(err, "Property 'e1000.failover' not found");
	assert_int_equal(hg_add(&f->vm, "virtio-net-pci,id=x,bus=rp1,netdev=nd0,failover=maybe",
				err), -EINVAL);
	assert_string_equal(err, "Parameter 'failover' expects 'on' or 'off'");
	/* rombar/romfile (QEMU's tools pass them) are accepted. */
	assert_int_equal(hg_add(&f->vm, "e1000,id=x,bus=rp1,netdev=nd0,rombar=0,romfile=",
				err), 0);
	assert_int_equal(hg_add(&f->vm, "e1000,id=y,bus=rp2,netdev=nd0", err),
			 -EINVAL);
	assert_string_equal(err, "Property 'e1000.netdev' can't take value 'nd0', it's in use");
	assert_int_equal(hg_add(&f->vm, "e1000,id=y,bus=rp1,netdev=nd1", err),
			 -EBUSY);
	assert_string_equal(err, "PCI: slot 0 function 0 not available for e1000, in use by e1000,id=\"x\"");
	/* Nothing half-built was left behind. */
	assert_null(vm_find_device(&f->vm, "y"));
	assert_null(netdev_find(&f->vm, "nd1")->user);
}

/* ---- removing ---- */

static void test_orderly_removal(void **state)
{
	char err[512];

	assert_int_equal(hg_add(&f->vm, "e1000,id=pri1,bus=rp1,netdev=nd0", err),
			 0);
	hg_power(f->rp1, true);
	hg_isr(f->rp1);
	assert_int_equal(hg_del(&f->vm, "pri1", PCI_UNPLUG_ORDERLY, err), 0);
	assert_true(hg_sltsta(f->rp1) & PCI_EXP_SLTSTA_ABP);
	assert_int_equal(hg_del(&f->vm, "pri1", PCI_UNPLUG_ORDERLY, err),
			 -EBUSY);
	assert_string_equal(err, "Device pri1 is already in the process of unplug");
	/* The guest takes its time: still there, fvmm answers. */
	hg_sync(&f->vm);
	assert_int_equal(hg_count("DEVICE_DELETED", NULL, NULL), 0);
	assert_non_null(vm_find_device(&f->vm, "pri1"));
	assert_true(visible_on(1));
	/* Power off completes it. */
	hg_power(f->rp1, false);
	assert_false(visible_on(1));
	assert_true(hg_wait("DEVICE_DELETED", "device", "pri1", 1));
	assert_int_equal(hg_count("DEVICE_DELETED", "path",
				  "/machine/peripheral/pri1"), 1);
	assert_null(vm_find_device(&f->vm, "pri1"));
	assert_false(pci_hotplug_has(&f->vm, "pri1"));
	/* The tap stays; the NIC let go of it. */
	assert_non_null(netdev_find(&f->vm, "nd0"));
	assert_null(netdev_find(&f->vm, "nd0")->user);
	assert_int_equal(hg_del(&f->vm, "pri1", PCI_UNPLUG_ORDERLY, err),
			 -ENOENT);
	assert_string_equal(err, "Device 'pri1' not found");
}

static void test_surprise_removal(void **state)
{
	char err[512];

	assert_int_equal(hg_add(&f->vm, "virtio-net-pci,id=v1,bus=rp1,netdev=nd0",
				err), 0);
	hg_power(f->rp1, true);
	hg_isr(f->rp1);
	assert_int_equal(hg_del(&f->vm, "v1", PCI_UNPLUG_SURPRISE, err), 0);
	assert_false(visible_on(1));
	assert_true(hg_wait("DEVICE_DELETED", "device", "v1", 1));
	assert_int_equal(hg_isr(f->rp1), PCI_EXP_SLTSTA_PDC |
			 PCI_EXP_SLTSTA_DLLSC);
	assert_null(vm_find_device(&f->vm, "v1"));
	assert_false(root_port_occupied(f->rp1));
	/* The slot is reusable straight away. */
	assert_int_equal(hg_add(&f->vm, "virtio-net-pci,id=v1,bus=rp1,netdev=nd0",
				err), 0);
}

static void test_pending_then_surprise(void **state)
{
	json_t *q, *slot;
	char err[512];

	assert_int_equal(hg_add(&f->vm, "e1000,id=pri1,bus=rp1,netdev=nd0", err),
			 0);
	hg_power(f->rp1, true);
	assert_int_equal(hg_del(&f->vm, "pri1", PCI_UNPLUG_ORDERLY, err), 0);
	q = pci_hotplug_query(&f->vm);
	slot = json_array_get(q, 0);
	assert_string_equal(json_string_value(json_object_get(slot, "id")),
			    "rp1");
	assert_string_equal(json_string_value(json_object_get(slot, "state")),
			    "unplug-pending");
	assert_string_equal(json_string_value(json_object_get(
		json_object_get(slot, "unplug"), "device")), "pri1");
	assert_string_equal(json_string_value(json_object_get(slot, "device")),
			    "pri1");
	assert_string_equal(json_string_value(json_object_get(
		json_array_get(q, 1), "state")), "empty");
	json_decref(q);
	/* Forcing it: surprise overrides the pending orderly removal. */
	assert_int_equal(hg_del(&f->vm, "pri1", PCI_UNPLUG_SURPRISE, err), 0);
	assert_true(hg_wait("DEVICE_DELETED", "device", "pri1", 1));
	/* The late power-off of the guest changes nothing more. */
	hg_power(f->rp1, false);
	hg_sync(&f->vm);
	assert_int_equal(hg_count("DEVICE_DELETED", NULL, NULL), 1);
}

static void test_removal_of_unpowered_card(void **state)
{
	char err[512];

	/* Never powered on by the guest: gone at once, no round trip. */
	assert_int_equal(hg_add(&f->vm, "e1000,id=pri1,bus=rp1,netdev=nd0", err),
			 0);
	assert_int_equal(hg_del(&f->vm, "pri1", PCI_UNPLUG_ORDERLY, err), 0);
	assert_true(hg_wait("DEVICE_DELETED", "device", "pri1", 1));
	assert_false(hg_sltsta(f->rp1) & PCI_EXP_SLTSTA_ABP);
}

static void test_guest_busy(void **state)
{
	char err[512];

	assert_int_equal(hg_add(&f->vm, "e1000,id=pri1,bus=rp1,netdev=nd0", err),
			 0);
	hg_power(f->rp1, true);
	hg_cmd(f->rp1, PCI_EXP_SLTCTL_PWR_IND_BLINK, PCI_EXP_SLTCTL_PIC);
	assert_int_equal(hg_del(&f->vm, "pri1", PCI_UNPLUG_ORDERLY, err),
			 -EAGAIN);
	assert_string_equal(err, "Hot-unplug failed: guest is busy (power indicator blinking)");
	hg_cmd(f->rp1, PCI_EXP_SLTCTL_PWR_IND_ON, PCI_EXP_SLTCTL_PIC);
	assert_int_equal(hg_del(&f->vm, "pri1", PCI_UNPLUG_ORDERLY, err), 0);
}

static void test_del_not_removable(void **state)
{
	char err[512];

	assert_int_equal(hg_del(&f->vm, "rp1", PCI_UNPLUG_ORDERLY, err),
			 -EINVAL);
	assert_string_equal(err, "Bus 'pcie.0' does not support hotplugging");
	assert_int_equal(hg_del(&f->vm, "ghost", PCI_UNPLUG_SURPRISE, err),
			 -ENOENT);
	assert_string_equal(err, "Device 'ghost' not found");
}

static void cycle(const char *spec, const char *id, unsigned n)
{
	char err[512];

	assert_int_equal(hg_add(&f->vm, spec, err), 0);
	hg_power(f->rp1, true);
	hg_isr(f->rp1);
	/* The driver side touches the card a little. */
	assert_int_not_equal(hg_rd(host(), 1, 0, PCI_VENDOR_ID, 2), 0xffff);
	hg_wr(host(), 1, 0, PCI_COMMAND, PCI_COMMAND_MEMORY |
	      PCI_COMMAND_MASTER | PCI_COMMAND_IO, 2);
	assert_int_equal(hg_del(&f->vm, id, n & 1 ? PCI_UNPLUG_SURPRISE :
				PCI_UNPLUG_ORDERLY, err), 0);
	if (!(n & 1))
		hg_power(f->rp1, false);
	assert_true(hg_wait("DEVICE_DELETED", "device", id, n + 1));
	hg_isr(f->rp1);
	hg_power(f->rp1, false);
}

static void test_fifty_cycles(void **state)
{
	unsigned fds;

	/* Warm up (lazily created state), then nothing may grow. */
	cycle("virtio-net-pci,id=c,bus=rp1,netdev=nd0", "c", 0);
	cycle("e1000,id=e,bus=rp1,netdev=nd1", "e", 0);
	fds = count_fds();
	for (unsigned i = 1; i <= 50; i++) {
		cycle("virtio-net-pci,id=c,bus=rp1,netdev=nd0", "c", i);
		cycle("e1000,id=e,bus=rp1,netdev=nd1", "e", i);
	}
	assert_int_equal(count_fds(), fds);
	assert_null(netdev_find(&f->vm, "nd0")->user);
	assert_null(vm_find_device(&f->vm, "c"));
	assert_null(vm_find_device(&f->vm, "e"));
}

static void test_no_regions_left(void **state)
{
	int mmio = f->vm.mmio.nr, pio = f->vm.pio.nr;

	cycle("virtio-net-pci,id=c,bus=rp1,netdev=nd0", "c", 0);
	assert_int_equal(f->vm.mmio.nr, mmio);
	assert_int_equal(f->vm.pio.nr, pio);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_hot_add_virtio),
		T(test_hot_add_e1000),
		T(test_add_errors),
		T(test_orderly_removal),
		T(test_surprise_removal),
		T(test_pending_then_surprise),
		T(test_removal_of_unpowered_card),
		T(test_guest_busy),
		T(test_del_not_removable),
		T(test_fifty_cycles),
		T(test_no_regions_left),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
