/* SPDX-License-Identifier: MIT */
#ifndef FVMM_CONTROL_QMP_H
#define FVMM_CONTROL_QMP_H

/*
 * fvmm's QMP control socket, as other modules see it: register commands,
 * emit events.  The protocol follows QEMU's QMP specification (greeting,
 * capabilities negotiation, execute/return/error, timestamped events), so
 * QEMU's tools and scripts carry over.
 *
 * Registering a command (from a module's init, before or after the server
 * starts; the table is global and the struct must outlive the process):
 *
 *	static const struct qmp_arg device_del_args[] = {
 *		{ "id", QMP_ARG_STR, false },
 *		QMP_ARGS_END
 *	};
 *	static int qmp_device_del(struct qmp_request *req)
 *	{
 *		const char *id = qmp_arg_str(req, "id", NULL);
 *		struct device *dev = vm_find_device(req->vm, id);
 *
 *		if (!dev)
 *			return qmp_error(req, QMP_ERR_DEVICE_NOT_FOUND,
 *					 "Device '%s' not found", id);
 *		...
 *		return 0;		(reply {"return": {}})
 *	}
 *	static const struct qmp_command device_del_cmd = {
 *		.name = "device_del", .handler = qmp_device_del,
 *		.args = device_del_args,
 *		.states = QMP_STATE(VM_RUNNING) | QMP_STATE(VM_PAUSED),
 *	};
 *	qmp_register_command(&device_del_cmd);
 *
 * (or qmp_register_commands(table, ARRAY_SIZE(table)) for several).
 *
 * Handlers run on the VM's event loop thread (vm->loop), one at a time, with
 * arguments already checked against the schema.  A handler must not block
 * for long: work that completes later reports with an event.
 *
 * Emitting an event, from any thread (the data reference is stolen):
 *
 *	qmp_event(vm, "DEVICE_DELETED",
 *		  json_pack("{s:s, s:s}", "device", id, "path", path));
 */

#include <stdbool.h>
#include <stddef.h>
#include <jansson.h>

#include "core/vm.h"

struct qmp_session;

/* QEMU's error classes (QapiErrorClass). */
enum qmp_error_class {
	QMP_ERR_GENERIC,		/* GenericError */
	QMP_ERR_COMMAND_NOT_FOUND,	/* CommandNotFound */
	QMP_ERR_DEVICE_NOT_ACTIVE,	/* DeviceNotActive */
	QMP_ERR_DEVICE_NOT_FOUND,	/* DeviceNotFound */
	QMP_ERR_KVM_MISSING_CAP,	/* KVMMissingCap */
};

enum qmp_arg_type {
	QMP_ARG_STR,		/* "string" */
	QMP_ARG_BOOL,		/* "boolean" */
	QMP_ARG_INT,		/* "integer", any int64 */
	QMP_ARG_UINT,		/* "integer", >= 0 */
	QMP_ARG_NUMBER,		/* "number": integer or real */
	QMP_ARG_OBJECT,		/* "object" */
	QMP_ARG_ARRAY,		/* "array" */
	QMP_ARG_ANY,		/* any JSON value */
};

struct qmp_arg {
	const char *name;	/* NULL ends a schema */
	enum qmp_arg_type type;
	bool optional;
};

#define QMP_ARGS_END	{ NULL, QMP_ARG_ANY, false }

/* One command execution, handed to the handler. */
struct qmp_request {
	struct qmp_session *session;
	struct vm *vm;		/* NULL in protocol unit tests */
	const char *name;	/* the command */
	json_t *args;		/* borrowed; an object, never NULL */
	/* Out: the return value (stolen; NULL means {}). */
	json_t *ret;
	/* Out, via qmp_error(). */
	bool failed;
	enum qmp_error_class err_class;
	char err_desc[512];
	/*
	 * Out: run after the reply has been queued to the client, e.g. quit's
	 * exit request, so the reply goes out before the SHUTDOWN event.
	 */
	void (*after_reply)(void *opaque);
	void *after_reply_opaque;
};

typedef int (*qmp_handler)(struct qmp_request *req);

/* Bit for one enum vm_run_state, for struct qmp_command.states. */
#define QMP_STATE(s)		(1u << (s))
#define QMP_STATES_ALL		0u

/* struct qmp_command.flags */
#define QMP_CMD_EXTRA_ARGS	(1u << 0)	/* pass unknown args through
						   (device_add properties) */

struct qmp_command {
	const char *name;
	qmp_handler handler;
	const struct qmp_arg *args;	/* NULL: takes no arguments */
	/*
	 * VM states in which the command may run (QMP_STATE() bits), or
	 * QMP_STATES_ALL.  Elsewhere it fails with GenericError, so later
	 * states (migration) can fence commands off without touching them.
	 */
	unsigned states;
	unsigned flags;
};

/*
 * Add a command to the global table.  0, -EEXIST if another command has
 * that name (registering the same struct again is a no-op), -EINVAL for a
 * nameless or handler-less command, -ENOMEM.
 */
int qmp_register_command(const struct qmp_command *cmd);
/* All of cmds[0..n); stops at and returns the first error. */
int qmp_register_commands(const struct qmp_command *cmds, size_t n);
const struct qmp_command *qmp_find_command(const char *name);

/*
 * Fail the request: sets the error reply and returns -EINVAL so a handler
 * can `return qmp_error(...)`.  desc is QEMU's wording where QEMU has one.
 */
int qmp_error(struct qmp_request *req, enum qmp_error_class cls,
	      const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Argument getters (types were checked against the schema). */
const char *qmp_arg_str(const struct qmp_request *req, const char *name,
			const char *def);
bool qmp_arg_bool(const struct qmp_request *req, const char *name, bool def);
long long qmp_arg_int(const struct qmp_request *req, const char *name,
		      long long def);
bool qmp_arg_present(const struct qmp_request *req, const char *name);

/*
 * Broadcast an event to every client in command mode, with a timestamp
 * taken now.  Any thread; steals data (may be NULL: no "data" member); a
 * no-op (freeing data) without a QMP server.  Not after vm_run() returned.
 */
void qmp_event(struct vm *vm, const char *name, json_t *data);

/* The VM state names used by query-status ("running", "paused", ...). */
const char *qmp_state_name(int state);

/*
 * Server lifetime, called from main: start before vm_run() (no-op without
 * --qmp; -errno after logging why), stop after vm_run() returns and before
 * vm_destroy(): delivers the last events (bounded wait), closes clients,
 * removes the socket file.
 */
int qmp_server_start(struct vm *vm);
void qmp_server_stop(struct vm *vm);

/* The built-in VM commands (query-status, stop, cont, quit, set_link...). */
int qmp_register_vm_commands(void);

#endif
