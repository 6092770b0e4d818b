/* What every C worker of the bench needs: dying with a message, checking a cs_error_t, the
 * clocks its figures come from, and its count arguments. A program defines WORKER (its name,
 * for messages) before including this. Everything is static inline: a program that does not
 * use a helper must still build under -Wall -Werror. */
#pragma once

#ifndef WORKER
#error "define WORKER (the program's name) before including worker.h"
#endif

#include <corosync/corotypes.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

__attribute__((format(printf, 1, 2), noreturn)) static inline void die(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fputs(WORKER ": ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(1);
}

static inline void check(cs_error_t rc, const char *function) {
    if (rc != CS_OK) die("%s failed: cs_error_t %d", function, (int)rc);
}

static inline double clock_seconds(clockid_t clock) {
    struct timespec ts;
    if (clock_gettime(clock, &ts) != 0) die("clock_gettime: %s", strerror(errno));
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static inline double now(void) { return clock_seconds(CLOCK_MONOTONIC); }

/* CPU time of the whole process (all threads), reported beside the wall time. */
static inline double cpu_now(void) { return clock_seconds(CLOCK_PROCESS_CPUTIME_ID); }

static inline uint64_t parse_count(const char *text, const char *name) {
    char *end;
    errno = 0;
    unsigned long long value = strtoull(text, &end, 10);
    if (errno != 0 || *end != '\0' || end == text || value == 0)
        die("%s must be a positive integer, got '%s'", name, text);
    return (uint64_t)value;
}
