// SPDX-License-Identifier: MIT
/*
 * QMP commands about the VM as a whole: run state, quit, link state, names.
 * Device commands (device_add, device_del, query-pci) and migration register
 * themselves from their own modules.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "control/qmp.h"
#include "core/log.h"
#include "core/util.h"

#define QMP_LIVE	(QMP_STATE(VM_RUNNING) | QMP_STATE(VM_PAUSED))

static int vm_state(struct vm *vm)
{
	int state;

	pthread_mutex_lock(&vm->lock);
	state = vm->state;
	pthread_mutex_unlock(&vm->lock);
	return state;
}

static int qmp_query_status(struct qmp_request *req)
{
	int state = vm_state(req->vm);

	req->ret = json_pack("{s:s, s:b, s:b}",
			     "status", qmp_state_name(state),
			     "singlestep", 0,
			     "running", state == VM_RUNNING);
	return req->ret ? 0 : -ENOMEM;
}

/* Like QEMU, stopping a stopped VM succeeds without a second STOP event. */
static int qmp_stop(struct qmp_request *req)
{
	if (vm_state(req->vm) != VM_RUNNING)
		return 0;
	vm_pause(req->vm);
	if (vm_state(req->vm) == VM_PAUSED)
		qmp_event(req->vm, "STOP", NULL);
	return 0;
}

static int qmp_cont(struct qmp_request *req)
{
	int state = vm_state(req->vm);

	if (state == VM_POSTMIGRATE)
		pr_warn("cont after a completed migration: this VM now runs twice (a fork); their disks and networks will disagree");
	else if (state != VM_PAUSED)
		return 0;
	vm_resume(req->vm);
	if (vm_state(req->vm) == VM_RUNNING)
		qmp_event(req->vm, "RESUME", NULL);
	return 0;
}

static void qmp_do_quit(void *opaque)
{
	vm_request_exit_cause(opaque, 0, "quit requested over QMP", false,
			      "host-qmp-quit");
}

/* The reply goes out first; SHUTDOWN follows from vm->exit_notify. */
static int qmp_quit(struct qmp_request *req)
{
	req->after_reply = qmp_do_quit;
	req->after_reply_opaque = req->vm;
	return 0;
}

static const struct qmp_arg set_link_args[] = {
	{ "name", QMP_ARG_STR, false },
	{ "up", QMP_ARG_BOOL, false },
	QMP_ARGS_END
};

static int qmp_set_link(struct qmp_request *req)
{
	const char *name = qmp_arg_str(req, "name", "");
	bool up = qmp_arg_bool(req, "up", true);
	struct device *dev = vm_find_device(req->vm, name);
	int ret;

	if (!dev)
		return qmp_error(req, QMP_ERR_DEVICE_NOT_FOUND,
				 "Device '%s' not found", name);
	ret = dev->ops->set_link ? dev->ops->set_link(dev, up) : -ENOTSUP;
	if (ret == -ENOTSUP)
		return qmp_error(req, QMP_ERR_GENERIC,
				 "Device '%s' is not a network device", name);
	if (ret)
		return qmp_error(req, QMP_ERR_GENERIC,
				 "Cannot set link of '%s': %s", name,
				 strerror(-ret));
	return 0;
}

/* fvmm has no -name option: QEMU answers {} then. */
static int qmp_query_name(struct qmp_request *req)
{
	return 0;
}

static int qmp_query_cpus_fast(struct qmp_request *req)
{
	json_t *list = json_array();
	char path[64];

	if (!list)
		return -ENOMEM;
	for (unsigned i = 0; i < req->vm->nr_vcpus; i++) {
		snprintf(path, sizeof(path), "/machine/unattached/device[%u]",
			 i);
		if (json_array_append_new(list, json_pack(
				"{s:i, s:s, s:s}", "cpu-index", (int)i,
				"qom-path", path, "target", "x86_64"))) {
			json_decref(list);
			return -ENOMEM;
		}
	}
	req->ret = list;
	return 0;
}

static const struct qmp_command qmp_vm_commands[] = {
	{ .name = "query-status", .handler = qmp_query_status },
	{ .name = "stop", .handler = qmp_stop, .states = QMP_LIVE },
	{ .name = "cont", .handler = qmp_cont,
	  .states = QMP_LIVE | QMP_STATE(VM_POSTMIGRATE) },
	{ .name = "quit", .handler = qmp_quit },
	{ .name = "set_link", .handler = qmp_set_link,
	  .args = set_link_args, .states = QMP_LIVE },
	{ .name = "query-name", .handler = qmp_query_name },
	{ .name = "query-cpus-fast", .handler = qmp_query_cpus_fast },
};

int qmp_register_vm_commands(void)
{
	int ret = qmp_register_commands(qmp_vm_commands,
					ARRAY_SIZE(qmp_vm_commands));

	if (ret)
		pr_err("qmp: cannot register the VM commands: %s",
		       strerror(-ret));
	return ret;
}
