// SPDX-License-Identifier: MIT
/*
 * Small PC platform devices: the i8042's reset line, the ACPI PM1a control
 * register used for power-off, and the POST/delay port.
 *
 * fvmm describes the machine with an MP table rather than ACPI, so there is
 * no FADT to say where PM1a_CNT is.  It sits where QEMU's q35 has it after
 * SeaBIOS set PMBASE to 0x600 (PM1a_CNT = 0x604), so one guest powers off the
 * same way on both VMMs: a write with SLP_EN set and SLP_TYP = 0 (S5).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "core/log.h"
#include "core/util.h"
#include "core/vm.h"
#include "dev/legacy.h"
#include "dev/uart8250.h"

#define I8042_DATA		0x60
#define I8042_CMD		0x64
#define I8042_CMD_RESET		0xfe
#define PM_BASE			0x600
#define PM_LEN			0x40
#define PM1A_CNT		0x04
#define PM1_SLP_EN		(1 << 13)
#define PM1_SLP_TYP(v)		(((v) >> 10) & 7)
#define POST_PORT		0x80

struct legacy {
	struct device dev;
	uint16_t pm1_cnt;
	uint8_t i8042_cmd;
};

/* i8042: only what reset needs; no keyboard behind it. */
static uint64_t i8042_read(void *opaque, uint64_t off, unsigned size)
{
	return 0;	/* status: output and input buffers empty */
}

static void i8042_write(void *opaque, uint64_t off, uint64_t val,
			unsigned size)
{
	struct legacy *l = opaque;

	l->i8042_cmd = val;
	/*
	 * Pulse the reset line.  fvmm does not reboot a guest (like QEMU's
	 * -no-reboot): it ends with status 0 and says so.
	 */
	if (val == I8042_CMD_RESET)
		vm_request_exit_cause(l->dev.vm, 0,
				      "guest reset through the i8042", true,
				      "guest-reset");
}

static const struct bus_ops i8042_ops = {
	.read = i8042_read, .write = i8042_write, .max_size = 1,
};

static void i8042_data_write(void *opaque, uint64_t off, uint64_t val,
			     unsigned size)
{
}

static const struct bus_ops i8042_data_ops = {
	.read = i8042_read, .write = i8042_data_write, .max_size = 1,
};

static uint64_t pm_read(void *opaque, uint64_t off, unsigned size)
{
	struct legacy *l = opaque;

	if (off == PM1A_CNT)
		return l->pm1_cnt;
	return 0;
}

static void pm_write(void *opaque, uint64_t off, uint64_t val, unsigned size)
{
	struct legacy *l = opaque;

	if (off != PM1A_CNT)
		return;
	l->pm1_cnt = val & ~PM1_SLP_EN;
	if ((val & PM1_SLP_EN) && PM1_SLP_TYP(val) == 0)
		vm_request_exit(l->dev.vm, 0, "guest powered off");
	else if (val & PM1_SLP_EN)
		pr_guest("guest asked for sleep state %u, not supported",
			 (unsigned)PM1_SLP_TYP(val));
}

static const struct bus_ops pm_ops = {
	.read = pm_read, .write = pm_write, .min_size = 1, .max_size = 2,
};

/* Port 0x80: POST codes and I/O delays; swallowed without a log line. */
static uint64_t sink_read(void *opaque, uint64_t off, unsigned size)
{
	return ~0ULL;
}

static void sink_write(void *opaque, uint64_t off, uint64_t val, unsigned size)
{
}

static const struct bus_ops sink_ops = { .read = sink_read, .write = sink_write };

static const struct state_field legacy_fields[] = {
	STATE_INT(struct legacy, pm1_cnt),
	STATE_INT(struct legacy, i8042_cmd),
};

static const struct state_desc legacy_desc =
	STATE_DESC("pc-legacy", 1, legacy_fields);

static int legacy_save(struct device *dev, struct sbuf *out)
{
	return state_save(&legacy_desc, container_of(dev, struct legacy, dev),
			  out);
}

static int legacy_load(struct device *dev, struct sreader *in, char *err,
		       size_t errlen)
{
	return state_load(&legacy_desc, container_of(dev, struct legacy, dev),
			  in, err, errlen);
}

static void legacy_reset(struct device *dev)
{
	struct legacy *l = container_of(dev, struct legacy, dev);

	l->pm1_cnt = 0;
	l->i8042_cmd = 0;
}

static void legacy_destroy(struct device *dev)
{
	struct vm *vm = dev->vm;

	bus_unregister(&vm->pio, I8042_DATA, dev);
	bus_unregister(&vm->pio, I8042_CMD, dev);
	bus_unregister(&vm->pio, PM_BASE, dev);
	bus_unregister(&vm->pio, POST_PORT, dev);
	free(dev);
}

static const struct device_ops legacy_ops = {
	.type = "pc-legacy",
	.reset = legacy_reset,
	.save = legacy_save,
	.load = legacy_load,
	.destroy = legacy_destroy,
};

static int legacy_create(struct vm *vm)
{
	struct legacy *l = calloc(1, sizeof(*l));
	int ret;

	if (!l)
		return -ENOMEM;
	l->dev.ops = &legacy_ops;
	snprintf(l->dev.id, sizeof(l->dev.id), "pc-legacy");
	/* Port 0x61 between them is the PIT's, handled inside KVM. */
	ret = bus_register(&vm->pio, I8042_CMD, 1, &i8042_ops, l, "i8042");
	if (!ret)
		ret = bus_register(&vm->pio, I8042_DATA, 1, &i8042_data_ops, l,
				   "i8042-data");
	if (!ret)
		ret = bus_register(&vm->pio, PM_BASE, PM_LEN, &pm_ops, l, "pm");
	if (!ret)
		ret = bus_register(&vm->pio, POST_PORT, 1, &sink_ops, l, "post");
	vm_add_device(vm, &l->dev);	/* destroy unregisters what exists */
	return ret;
}

int legacy_devices_create(struct vm *vm)
{
	int ret = uart_create(vm);

	if (ret)
		return ret;
	return legacy_create(vm);
}
