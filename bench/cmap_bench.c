/* The C side of the CMAP rows: the same work as cmap_bench.py, through libcmap directly.
 *
 *   cmap_bench cmap_get COUNT   sets KEY to UINT32 0, then times COUNT cmap_get of it
 *   cmap_bench cmap_set COUNT   sets KEY to UINT32 0, then times COUNT cmap_set of it to
 *                               1, 2, ..., COUNT (a changed value each time, so that no
 *                               set is a no-op for corosync)
 *
 * Each call is one IPC round trip to the local corosync (the icmap is not replicated), so
 * the figures are round trips per second. The result is one JSON line on stdout; any
 * failure exits 1 with a message on stderr. Keep each loop the same shape as its twin in
 * cmap_bench.py: the ratio is only fair then.
 */
#define _POSIX_C_SOURCE 200809L
#define WORKER "cmap_bench"

#include <corosync/cmap.h>

#include "worker.h"

#define KEY "bench.cmap.u32"
/* The value buffer cmap_get is handed: the size the binding offers on its first try
 * (kFirstGetBuffer in src/cpp/corosync_cxx/cmap.cpp), so that both sides ask corosync for
 * the same reply (the daemon sends back the whole buffer, whatever the value's size). */
#define GET_BUFFER 1024

static cmap_handle_t handle;
static uint64_t try_again; /* calls answered CS_ERR_TRY_AGAIN */

/* True (after a 1 ms sleep) when rc says try again: the first step of the binding's retry
 * policy (src/cpp/corosync_cxx/retry.hpp). Never expected on a settled cluster; counted in
 * the result so that a figure it shaped shows it. */
static int again(cs_error_t rc) {
    static const struct timespec pause = {.tv_sec = 0, .tv_nsec = 1000000};
    if (rc != CS_ERR_TRY_AGAIN) return 0;
    try_again++;
    nanosleep(&pause, NULL);
    return 1;
}

static void set_u32(uint32_t value) {
    cs_error_t rc;
    do rc = cmap_set(handle, KEY, &value, sizeof value, CMAP_VALUETYPE_UINT32);
    while (again(rc));
    check(rc, "cmap_set");
}

/* Dies unless KEY holds the UINT32 value (untimed: checks the timed calls' work). */
static void expect(uint32_t expected, const char *when) {
    char buffer[GET_BUFFER];
    size_t len;
    cmap_value_types_t type;
    cs_error_t rc;
    do {
        len = sizeof buffer;
        rc = cmap_get(handle, KEY, buffer, &len, &type);
    } while (again(rc));
    check(rc, "cmap_get");
    if (type != CMAP_VALUETYPE_UINT32 || len != sizeof(uint32_t))
        die("%s is type %d, %zu bytes %s; expected a UINT32", KEY, (int)type, len, when);
    uint32_t value;
    memcpy(&value, buffer, sizeof value);
    if (value != expected)
        die("%s is %lu %s; expected %lu", KEY, (unsigned long)value, when,
            (unsigned long)expected);
}

/* COUNT of the mode's argv, at most UINT32_MAX so that cmap_set's values never repeat. */
static uint32_t parse_ops(int argc, char **argv) {
    if (argc != 3) die("usage: %s COUNT", argv[1]);
    uint64_t count = parse_count(argv[2], "COUNT");
    if (count > UINT32_MAX) die("COUNT must be at most %lu", (unsigned long)UINT32_MAX);
    return (uint32_t)count;
}

/* Connects, sets KEY to UINT32 0 and reads it back; the timing starts as it returns. Each
 * mode then checks, after stop(), that KEY holds what its loop left there. */
static void start(double *wall, double *cpu) {
    check(cmap_initialize(&handle), "cmap_initialize");
    set_u32(0);
    expect(0, "after setting it");
    *wall = now();
    *cpu = cpu_now();
}

/* Ends the timing started by start(): the seconds since, wall and CPU. */
static void stop(double *wall, double *cpu) {
    *wall = now() - *wall;
    *cpu = cpu_now() - *cpu;
}

static void print_result(const char *mode, uint32_t count, double seconds, double cpu_seconds) {
    printf("{\"mode\": \"%s\", \"ops\": %lu, \"seconds\": %.9f, \"cpu_seconds\": %.9f, "
           "\"try_again\": %llu}\n",
           mode, (unsigned long)count, seconds, cpu_seconds, (unsigned long long)try_again);
}

static void mode_get(int argc, char **argv) {
    uint32_t count = parse_ops(argc, argv);
    char buffer[GET_BUFFER];
    size_t len;
    cmap_value_types_t type;
    double wall, cpu;
    start(&wall, &cpu);
    for (uint32_t i = 0; i < count; i++) {
        cs_error_t rc;
        do {
            len = sizeof buffer; /* in: the buffer's size; out: the value's */
            rc = cmap_get(handle, KEY, buffer, &len, &type);
        } while (again(rc));
        check(rc, "cmap_get");
    }
    stop(&wall, &cpu);
    expect(0, "after the timed loop");
    print_result("cmap_get", count, wall, cpu);
}

static void mode_set(int argc, char **argv) {
    uint32_t count = parse_ops(argc, argv);
    double wall, cpu;
    start(&wall, &cpu);
    for (uint64_t i = 1; i <= count; i++) set_u32((uint32_t)i);
    stop(&wall, &cpu);
    expect(count, "after the timed loop");
    print_result("cmap_set", count, wall, cpu);
}

int main(int argc, char **argv) {
    static const struct {
        const char *name;
        void (*run)(int, char **);
    } modes[] = {
        {"cmap_get", mode_get},
        {"cmap_set", mode_set},
    };
    if (argc < 2) die("usage: cmap_bench cmap_get|cmap_set COUNT");
    for (size_t i = 0; i < sizeof modes / sizeof modes[0]; i++) {
        if (strcmp(argv[1], modes[i].name) == 0) {
            modes[i].run(argc, argv);
            fflush(stdout);
            check(cmap_finalize(handle), "cmap_finalize");
            return 0;
        }
    }
    die("unknown mode '%s'", argv[1]);
}
