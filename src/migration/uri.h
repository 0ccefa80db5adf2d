/* SPDX-License-Identifier: MIT */
#ifndef FVMM_MIGRATION_URI_H
#define FVMM_MIGRATION_URI_H

#include <stdbool.h>
#include <stddef.h>

/*
 * Migration endpoints, QEMU's URI syntax: tcp:HOST:PORT (HOST may be
 * [v6]) and unix:PATH.  err gets one line naming the problem.
 */

/*
 * Connect, giving up after timeout_ms, or with -ECANCELED soon after *cancel
 * (may be NULL) becomes true; returns the socket or -errno.
 */
int mig_uri_connect(const char *uri, int timeout_ms, const bool *cancel,
		    char *err, size_t errlen);
/* Bind and listen; returns the listening socket or -errno. */
int mig_uri_listen(const char *uri, char *err, size_t errlen);
/* Bound blocking sends and receives, so a dead peer is an error, not a hang. */
int mig_socket_set_timeout(int fd, int timeout_ms);

#endif
