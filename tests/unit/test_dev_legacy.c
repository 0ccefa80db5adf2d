// SPDX-License-Identifier: MIT
/*
 * PC platform devices (src/dev/legacy.c): i8042 reset, ACPI PM1a power-off,
 * POST port.  The device internals are static, so they are driven the way a
 * guest does, through port I/O on a machine-less struct vm.
 */
#include <stdlib.h>

#include "helpers.h"

#include "core/state.h"
#include "core/util.h"
#include "dev/legacy.h"

static int setup(void **state)
{
	struct vm *vm = calloc(1, sizeof(*vm));

	if (!vm)
		return -1;
	fake_vm_init(vm);
	if (legacy_devices_create(vm))
		return -1;
	*state = vm;
	return 0;
}

static int teardown(void **state)
{
	fake_vm_destroy(*state);
	free(*state);
	return 0;
}

static void outb(struct vm *vm, uint16_t port, uint8_t v)
{
	assert_int_equal(bus_write(&vm->pio, port, &v, 1), 0);
}

static void outw(struct vm *vm, uint16_t port, uint16_t v)
{
	assert_int_equal(bus_write(&vm->pio, port, &v, 2), 0);
}

static uint8_t inb(struct vm *vm, uint16_t port)
{
	uint8_t v = 0x5a;

	assert_int_equal(bus_read(&vm->pio, port, &v, 1), 0);
	return v;
}

static uint16_t inw(struct vm *vm, uint16_t port)
{
	uint16_t v = 0x5a5a;

	assert_int_equal(bus_read(&vm->pio, port, &v, 2), 0);
	return v;
}

/* Did the device ask the VM to end, and with what status? */
static bool exit_requested(struct vm *vm, int *status)
{
	char c;
	bool pipe_signalled = read(vm->exit_pipe[0], &c, 1) == 1;

	assert_int_equal(pipe_signalled, vm->exiting);
	if (status)
		*status = vm->exit_status;
	return vm->exiting;
}

static void test_devices_present(void **state)
{
	struct vm *vm = *state;

	assert_non_null(vm_find_device(vm, "serial0"));
	assert_non_null(vm_find_device(vm, "pc-legacy"));
	/* COM1 and the legacy ports answer; a neighbour does not. */
	assert_true(inb(vm, 0x3fd) & 0x20);
	(void)inb(vm, 0x64);
	(void)inb(vm, 0x80);
	(void)inb(vm, 0x604);
	assert_false(exit_requested(vm, NULL));
}

static void test_i8042_reset_ends_vm(void **state)
{
	struct vm *vm = *state;
	int status = -1;

	/* Status register: both buffers empty, so a guest never waits. */
	assert_int_equal(inb(vm, 0x64) & 0x03, 0);
	/* Other commands and data-port writes do nothing. */
	outb(vm, 0x64, 0xad);
	outb(vm, 0x60, 0xfe);
	assert_false(exit_requested(vm, NULL));
	/* 0xFE pulses the reset line: fvmm ends with status 0. */
	outb(vm, 0x64, 0xfe);
	assert_true(exit_requested(vm, &status));
	assert_int_equal(status, 0);
	assert_int_equal(vm->state, VM_SHUTDOWN);
}

static void test_pm1a_poweroff(void **state)
{
	struct vm *vm = *state;
	int status = -1;

	/* SLP_TYP without SLP_EN: just a register value. */
	outw(vm, 0x604, 5 << 10);
	assert_false(exit_requested(vm, NULL));
	assert_int_equal(inw(vm, 0x604), 5 << 10);
	/* Another register in the PM block: ignored. */
	outw(vm, 0x600, 0x2000);
	assert_false(exit_requested(vm, NULL));
	/* SLP_EN with SLP_TYP = 0 (S5), as q35 + SeaBIOS: power off, status 0. */
	outw(vm, 0x604, 1 << 13);
	assert_true(exit_requested(vm, &status));
	assert_int_equal(status, 0);
	/* SLP_EN is write-only: it reads back as 0. */
	assert_int_equal(inw(vm, 0x604) & (1 << 13), 0);
}

static void test_pm1a_unsupported_sleep(void **state)
{
	struct vm *vm = *state;

	/* S3 (SLP_TYP 5 on q35) with SLP_EN: not supported, VM keeps going. */
	outw(vm, 0x604, 1 << 13 | 5 << 10);
	assert_false(exit_requested(vm, NULL));
	for (int i = 0; i < 20; i++)	/* a guest repeating it is harmless */
		outw(vm, 0x604, 1 << 13 | 1 << 10);
	assert_false(exit_requested(vm, NULL));
}

static void test_post_port(void **state)
{
	struct vm *vm = *state;

	outb(vm, 0x80, 0x42);
	assert_int_equal(inb(vm, 0x80), 0xff);
	assert_false(exit_requested(vm, NULL));
}

static void test_exit_first_request_wins(void **state)
{
	struct vm *vm = *state;
	int status = -1;

	vm_request_exit(vm, 3, "test");
	outw(vm, 0x604, 1 << 13);
	assert_true(exit_requested(vm, &status));
	assert_int_equal(status, 3);
}

static void test_state_round_trip(void **state)
{
	struct vm *vm = *state;
	struct device *d = vm_find_device(vm, "pc-legacy");
	struct sbuf b = { 0 };
	struct sreader r;
	char err[128] = "";

	assert_non_null(d);
	outw(vm, 0x604, 0x0401);
	assert_int_equal(d->ops->save(d, &b), 0);
	d->ops->reset(d);
	assert_int_equal(inw(vm, 0x604), 0);
	r = (struct sreader){ .p = b.data, .len = b.len };
	assert_int_equal(d->ops->load(d, &r, err, sizeof(err)), 0);
	assert_int_equal(inw(vm, 0x604), 0x0401);
	/* Truncated or foreign records are refused. */
	r = (struct sreader){ .p = b.data, .len = b.len - 1 };
	assert_int_equal(d->ops->load(d, &r, err, sizeof(err)), -EINVAL);
	assert_true(strlen(err) > 0);
	sbuf_free(&b);
	d = vm_find_device(vm, "serial0");
	assert_int_equal(d->ops->save(d, &b), 0);
	r = (struct sreader){ .p = b.data, .len = b.len };
	assert_int_equal(vm_find_device(vm, "pc-legacy")->ops->load(
				 vm_find_device(vm, "pc-legacy"), &r, err,
				 sizeof(err)), -EINVAL);
	sbuf_free(&b);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_devices_present),
		T(test_i8042_reset_ends_vm),
		T(test_pm1a_poweroff),
		T(test_pm1a_unsupported_sleep),
		T(test_post_port),
		T(test_exit_first_request_wins),
		T(test_state_round_trip),
	};

	return cmocka_run_group_tests_name("dev_legacy", tests, NULL, NULL);
}
