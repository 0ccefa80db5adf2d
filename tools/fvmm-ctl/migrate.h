/* SPDX-License-Identifier: MIT */
#ifndef FVMM_CTL_MIGRATE_H
#define FVMM_CTL_MIGRATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <jansson.h>

#include "conn.h"

/* One progress line from a query-migrate return value. */
void ctl_migrate_line(json_t *info, char *buf, size_t len);
/* The figures of a finished migration, one per line. */
void ctl_migrate_final(FILE *out, json_t *info);
/*
 * `fvmm-ctl SOCKET migrate URI`: start it, follow it, print the outcome.
 * 0 completed, 1 failed or cancelled, 2 connection trouble or timeout.
 */
int ctl_migrate(struct ctl_conn *c, const char *uri, bool json);

#endif
