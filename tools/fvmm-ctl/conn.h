/* SPDX-License-Identifier: MIT */
#ifndef FVMM_CTL_CONN_H
#define FVMM_CTL_CONN_H

#include <stdint.h>
#include <jansson.h>

#include "control/qmp_json.h"

/* A QMP client connection with one overall deadline for every wait. */
struct ctl_conn {
	int fd;
	const char *path;
	struct qmp_json js;	/* framing, shared with the server */
	json_t *queue;		/* messages received, not yet taken */
	uint64_t deadline;	/* CLOCK_MONOTONIC ns; 0 = none */
	int error;		/* a server message was not JSON */
};

/*
 * Connect to "unix:PATH" or "PATH" and complete capabilities negotiation.
 * On failure returns -errno with msg (one line) filled in.
 */
int ctl_open(struct ctl_conn *c, const char *spec, uint64_t deadline,
	     char *msg, size_t msglen);
void ctl_close(struct ctl_conn *c);

/*
 * Next message from the server (new reference): 0, -ETIMEDOUT at the
 * deadline, -ECONNRESET when the server closed the connection, -EPROTO for
 * a message that is not a JSON object, -errno.
 */
int ctl_recv(struct ctl_conn *c, json_t **msg);
int ctl_send(struct ctl_conn *c, json_t *msg);

/*
 * Execute a command and wait for its reply (events in between are skipped).
 * *reply is the whole reply object ({"return"} or {"error"}).
 */
int ctl_execute(struct ctl_conn *c, const char *cmd, json_t *args,
		json_t **reply);

uint64_t ctl_now(void);
/* Words for the -errno values above. */
const char *ctl_strerror(int err);

#endif
