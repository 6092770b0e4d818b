/* The C side of the bench: the same work as cpg_bench.py, through libcpg directly.
 *
 *   cpg_bench send SIZE COUNT BATCH [WINDOW]
 *                                     send COUNT messages of SIZE bytes, BATCH mcasts then
 *                                     one cpg_dispatch(ALL), until all are delivered back;
 *                                     with WINDOW, no more than WINDOW of them outstanding
 *                                     (sent and not yet delivered back): as the binding's
 *                                     send window, a dispatch while it is full
 *   cpg_bench sender SIZE COUNT       prints {"event": "ready"}, waits for a line on stdin,
 *                                     then as `send SIZE COUNT 1`
 *   cpg_bench recv COUNT              prints {"event": "ready"}, counts COUNT deliveries from
 *                                     anyone (first to last), then waits for stdin to close
 *   cpg_bench dispatch COUNT          sends COUNT 64-byte messages without dispatching,
 *                                     prints {"event": "sent"}, waits for a line on stdin,
 *                                     then times dispatching the COUNT deliveries
 *
 * Every mode joins GROUP and waits for its own join's confchg before anything is timed.
 * The result is one JSON line on stdout; any failure exits 1 with a message on stderr.
 * Keep each loop the same shape as its twin in cpg_bench.py: the ratio is only fair then.
 *
 * Built with BENCH_PYTHON_CALLBACK (the "floor" worker, send and sender only), the deliver
 * callback of those modes also calls cpg_bench.py's Python callback: see python_callback.h.
 */
#ifdef BENCH_PYTHON_CALLBACK
#define PY_SSIZE_T_CLEAN
#include <Python.h> /* first: it sets the feature-test macros itself */
#define WORKER "cpg_bench (floor)"
#else
#define _POSIX_C_SOURCE 200809L
#define WORKER "cpg_bench"
#endif

#include <corosync/cpg.h>
#include <poll.h>
#include <sys/types.h>
#include <unistd.h>

#include "worker.h"

#ifdef BENCH_PYTHON_CALLBACK
#include "python_callback.h"
#define FLOOR_BUILD 1
#else
#define FLOOR_BUILD 0
static inline void python_start(const char *group, uint32_t nodeid, uint32_t pid) {
    (void)group, (void)nodeid, (void)pid;
}
static inline void python_deliver(uint32_t nodeid, uint32_t pid, const void *msg, size_t len) {
    (void)nodeid, (void)pid, (void)msg, (void)len;
}
#endif

#define GROUP "cpg-bench"
/* Seconds without progress after which a wait gives up. */
#define STALL_SECONDS 60.0

static cpg_handle_t handle;
static int fd = -1;
static uint32_t local_nodeid;
static uint32_t local_pid;
static int joined;
static uint64_t own;       /* this process's messages delivered back to it */
static uint64_t delivered; /* every delivery, whoever sent it */
static uint64_t target;    /* recv: the delivery that ends the timing */
static uint64_t try_again; /* mcasts answered CS_ERR_TRY_AGAIN */
static double first_at, last_at;

/* Deliver callbacks, one per mode, each as small as its Python twin. */

static void deliver_count_own(cpg_handle_t h, const struct cpg_name *group, uint32_t nodeid,
                              uint32_t pid, void *msg, size_t len) {
    (void)h, (void)group;
    if (pid == local_pid && nodeid == local_nodeid) own++;
    python_deliver(nodeid, pid, msg, len);
}

static void deliver_timed(cpg_handle_t h, const struct cpg_name *group, uint32_t nodeid,
                          uint32_t pid, void *msg, size_t len) {
    (void)h, (void)group, (void)nodeid, (void)pid, (void)msg, (void)len;
    delivered++;
    if (delivered == 1) first_at = now();
    if (delivered == target) last_at = now();
}

static void deliver_count(cpg_handle_t h, const struct cpg_name *group, uint32_t nodeid,
                          uint32_t pid, void *msg, size_t len) {
    (void)h, (void)group, (void)nodeid, (void)pid, (void)msg, (void)len;
    delivered++;
}

static void confchg(cpg_handle_t h, const struct cpg_name *group,
                    const struct cpg_address *members, size_t n_members,
                    const struct cpg_address *left, size_t n_left,
                    const struct cpg_address *joined_list, size_t n_joined) {
    (void)h, (void)group, (void)members, (void)n_members, (void)left, (void)n_left;
    for (size_t i = 0; i < n_joined; i++)
        if (joined_list[i].nodeid == local_nodeid && joined_list[i].pid == local_pid) joined = 1;
}

static void dispatch_all(void) { check(cpg_dispatch(handle, CS_DISPATCH_ALL), "cpg_dispatch"); }

/* Blocks until the fd is readable, then dispatches what is queued; gives up after
 * STALL_SECONDS without an event. */
static void wait_and_dispatch(void) {
    struct pollfd p = {.fd = fd, .events = POLLIN};
    int rc = poll(&p, 1, (int)(STALL_SECONDS * 1000));
    if (rc < 0 && errno != EINTR) die("poll: %s", strerror(errno));
    if (rc == 0) die("nothing from corosync for %.0f s", STALL_SECONDS);
    dispatch_all();
}

static void connect_and_join(cpg_deliver_fn_t deliver) {
    cpg_model_v1_data_t model = {
        .model = CPG_MODEL_V1,
        .cpg_deliver_fn = deliver,
        .cpg_confchg_fn = confchg,
        .cpg_totem_confchg_fn = NULL,
        .flags = 0,
    };
    check(cpg_model_initialize(&handle, CPG_MODEL_V1, (cpg_model_data_t *)&model, NULL),
          "cpg_model_initialize");
    check(cpg_fd_get(handle, &fd), "cpg_fd_get");
    check(cpg_local_get(handle, &local_nodeid), "cpg_local_get");
    local_pid = (uint32_t)getpid();
    struct cpg_name name;
    name.length = (uint32_t)strlen(GROUP);
    memcpy(name.value, GROUP, name.length);
    check(cpg_join(handle, &name), "cpg_join");
    while (!joined) wait_and_dispatch();
}

static void print_event(const char *event) {
    printf("{\"event\": \"%s\"}\n", event);
    fflush(stdout);
}

static void wait_for_line(void) {
    char line[64];
    if (fgets(line, sizeof line, stdin) == NULL) die("stdin closed before the go line");
}

/* Sends one message; on CS_ERR_TRY_AGAIN dispatches and tries again. */
static void mcast_one(struct iovec *iov) {
    cs_error_t rc;
    while ((rc = cpg_mcast_joined(handle, CPG_TYPE_AGREED, iov, 1)) == CS_ERR_TRY_AGAIN) {
        try_again++;
        dispatch_all();
    }
    check(rc, "cpg_mcast_joined");
}

/* The timed part of send and sender: BATCH mcasts, one dispatch, ...; then waits for the
 * last of its own messages. A WINDOW other than 0 keeps at most that many outstanding,
 * dispatching while it is full, as the binding's send window makes its worker do (a full
 * window is its TryAgainError, which the worker dispatches and retries). Prints the result
 * line. */
static void send_loop(const char *mode, uint64_t size, uint64_t count, uint64_t batch,
                      uint64_t window) {
    char *buffer = malloc(size);
    if (buffer == NULL) die("malloc(%llu) failed", (unsigned long long)size);
    memset(buffer, 'x', size);
    struct iovec iov = {.iov_base = buffer, .iov_len = size};
    double start = now(), cpu_start = cpu_now();
    for (uint64_t sent = 0; sent < count;) {
        for (uint64_t i = 0; i < batch && sent < count; i++, sent++) {
            while (window && sent - own >= window) {
                try_again++;
                dispatch_all();
            }
            mcast_one(&iov);
        }
        dispatch_all();
    }
    while (own < count) wait_and_dispatch();
    double seconds = now() - start, cpu_seconds = cpu_now() - cpu_start;
    printf("{\"mode\": \"%s\", \"messages\": %llu, \"bytes\": %llu, \"seconds\": %.9f, "
           "\"cpu_seconds\": %.9f, \"try_again\": %llu}\n",
           mode, (unsigned long long)count, (unsigned long long)(count * size), seconds,
           cpu_seconds, (unsigned long long)try_again);
    free(buffer);
}

static void mode_send(int argc, char **argv) {
    if (argc != 5 && argc != 6) die("usage: send SIZE COUNT BATCH [WINDOW]");
    uint64_t size = parse_count(argv[2], "SIZE");
    uint64_t count = parse_count(argv[3], "COUNT");
    uint64_t batch = parse_count(argv[4], "BATCH");
    uint64_t window = argc == 6 ? parse_count(argv[5], "WINDOW") : 0;
    connect_and_join(deliver_count_own);
    python_start(GROUP, local_nodeid, local_pid);
    send_loop("send", size, count, batch, window);
}

static void mode_sender(int argc, char **argv) {
    if (argc != 4) die("usage: sender SIZE COUNT");
    uint64_t size = parse_count(argv[2], "SIZE");
    uint64_t count = parse_count(argv[3], "COUNT");
    connect_and_join(deliver_count_own);
    python_start(GROUP, local_nodeid, local_pid);
    print_event("ready");
    wait_for_line();
    send_loop("sender", size, count, 1, 0);
}

static void mode_recv(int argc, char **argv) {
    if (argc != 3) die("usage: recv COUNT");
    target = parse_count(argv[2], "COUNT");
    connect_and_join(deliver_timed);
    print_event("ready");
    while (delivered < target) wait_and_dispatch();
    printf("{\"mode\": \"recv\", \"messages\": %llu, \"seconds\": %.9f}\n",
           (unsigned long long)target, last_at - first_at);
    fflush(stdout);
    /* Stay a member until told: as a witness (see the dispatch work) its leave must not
     * land among the events being timed. */
    while (getchar() != EOF) {
    }
}

static void mode_dispatch(int argc, char **argv) {
    if (argc != 3) die("usage: dispatch COUNT");
    uint64_t count = parse_count(argv[2], "COUNT");
    connect_and_join(deliver_count);
    char buffer[64];
    memset(buffer, 'x', sizeof buffer);
    struct iovec iov = {.iov_base = buffer, .iov_len = sizeof buffer};
    const struct timespec pause = {.tv_sec = 0, .tv_nsec = 1000000};
    for (uint64_t sent = 0; sent < count; sent++) {
        cs_error_t rc;
        /* Not dispatching is the point here: wait out corosync's pushback instead. */
        while ((rc = cpg_mcast_joined(handle, CPG_TYPE_AGREED, &iov, 1)) == CS_ERR_TRY_AGAIN) {
            try_again++;
            nanosleep(&pause, NULL);
        }
        check(rc, "cpg_mcast_joined");
    }
    print_event("sent");
    wait_for_line();
    double start = now(), cpu_start = cpu_now();
    while (delivered < count) wait_and_dispatch();
    double seconds = now() - start, cpu_seconds = cpu_now() - cpu_start;
    printf("{\"mode\": \"dispatch\", \"events\": %llu, \"seconds\": %.9f, "
           "\"cpu_seconds\": %.9f, \"try_again\": %llu}\n",
           (unsigned long long)count, seconds, cpu_seconds, (unsigned long long)try_again);
}

int main(int argc, char **argv) {
    static const struct {
        const char *name;
        void (*run)(int, char **);
    } modes[] = {
        {"send", mode_send},
        {"sender", mode_sender},
        {"recv", mode_recv},
        {"dispatch", mode_dispatch},
    };
    if (argc < 2) die("usage: cpg_bench send|sender|recv|dispatch ARGS...");
    for (size_t i = 0; i < sizeof modes / sizeof modes[0]; i++) {
        if (strcmp(argv[1], modes[i].name) == 0) {
            if (FLOOR_BUILD && modes[i].run != mode_send && modes[i].run != mode_sender)
                die("the floor build runs only send and sender, not '%s'", argv[1]);
            modes[i].run(argc, argv);
            fflush(stdout);
            check(cpg_finalize(handle), "cpg_finalize");
            return 0;
        }
    }
    die("unknown mode '%s'", argv[1]);
    return 1;
}
