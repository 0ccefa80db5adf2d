/* SPDX-License-Identifier: MIT */
#ifndef FVMM_CTL_PRINT_H
#define FVMM_CTL_PRINT_H

#include <stdio.h>
#include <jansson.h>

/* A command's return value for people: "key: value" lines, nested blocks. */
void ctl_print_return(FILE *out, const char *cmd, json_t *ret);
/* One line per event: "2026-01-31 12:00:00.123456 NAME key=value ...". */
void ctl_print_event(FILE *out, json_t *ev);
/* Any value as one line of JSON. */
void ctl_print_json(FILE *out, json_t *v);

#endif
