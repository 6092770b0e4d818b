// corosync::sam: a process supervised by corosync's SAM library (sam.h, libsam).
//
// SAM is one per process, so these are free functions over libsam's process-wide state.
// What libsam does (lib/sam.c, corosync 3.1.7), and what this layer adds:
// - sam_register forks. The child returns from it; the parent stays inside it for good as the
//   supervisor: it waits for the child's health checks and, when they stop, sends the warn
//   signal, then SIGKILL, then forks a new child (RESTART) or exits with the child's status
//   (QUIT). The daemon is involved only with the QUORUM and CMAP policy flags.
// - register_process runs caller-supplied hooks around every one of those forks (Python's
//   fork hooks need them), and makes the supervisor stoppable: SIGINT, SIGTERM and SIGHUP to
//   it are forwarded to the child (a second one sends SIGKILL), no new child is started
//   afterwards, the supervisor removes its resources.process.<pid> keys from CMAP and exits
//   with 128 + the signal's number. A child whose supervisor dies gets SIGTERM
//   (PR_SET_PDEATHSIG), so no child runs on unsupervised.
// - libsam calls the event-driven health check on a thread it creates with a 32 KiB stack;
//   the callback given to set_hc_callback runs instead on a thread of this layer's own, with
//   the default stack size, and libsam's thread waits for its answer. A check that hangs
//   therefore stops the health checks, as a failed one does.
// - Every call checks the state first, so calls in the wrong state throw Error with
//   CS_ERR_BAD_HANDLE (what libsam itself would answer) and a message naming the state.
#pragma once

#include <corosync/sam.h>

#include <cstddef>
#include <functional>
#include <string>

namespace corosync::sam {

// libsam's internal status, mirrored (libsam does not expose it).
enum class State { NotInitialized, Initialized, Registered, Started, Finalized };

// "not initialized", "initialized", ...
const char* state_name(State state) noexcept;
State state() noexcept;

// sam_initialize. `time_interval_ms` > 0; `policy` is exactly one of SAM_RECOVERY_POLICY_QUIT
// or _RESTART, optionally with _QUORUM and/or _CMAP; anything else throws Error with
// CS_ERR_INVALID_PARAM before calling libsam. Only once per process (libsam's rule: a
// finalized SAM cannot be initialized again). With QUORUM, blocks until the daemon has told
// the current quorum state.
void initialize(int time_interval_ms, sam_recovery_policy_t policy);
int time_interval_ms() noexcept;
sam_recovery_policy_t policy() noexcept;

// Runs around each fork that sam_register does, in the forking thread. before_fork and
// after_fork_in_parent run inside fork()'s pthread_atfork stages of the supervisor. The child
// side has no hook: the child returns from register_process at once, and the caller does its
// after-fork work there.
class ForkHooks {
 public:
  virtual ~ForkHooks() = default;
  virtual void before_fork() noexcept = 0;
  virtual void after_fork_in_parent() noexcept = 0;
};

// sam_register: returns the instance number (1 for the first child) in the supervised child.
// In the supervisor it returns only by throwing Error (libsam failed to fork or to register in
// CMAP); the supervisor otherwise ends the process itself. `hooks` may be null; it must live
// for the rest of the process.
unsigned register_process(ForkHooks* hooks);
// The instance number in the child (0 before register_process).
unsigned instance() noexcept;

// sam_start, sam_stop, sam_hc_send, sam_mark_failed (needs the CMAP policy flag; the
// supervisor then kills this process and quits, leaving state "failed" in CMAP).
// start with the QUORUM flag blocks until the node is quorate.
void start();
void stop();
void hc_send();
void mark_failed();
// sam_finalize: stops first when started (throwing that error, where libsam would report
// success without finalizing).
void finalize();

// sam_warn_signal_set: the signal the supervisor sends first when health checks stop
// (SIGTERM by default); 1 <= signum < NSIG.
void set_warn_signal(int signum);

// sam_data_store (data == nullptr clears), sam_data_restore, sam_data_getsize. In the child
// the data goes to the supervisor, which keeps it for the next instance.
void data_store(const void* data, std::size_t size);
std::string data_restore();
std::size_t data_size();

// sam_hc_callback_register: from then on health checks are sent for the process every
// time_interval / 4 ms once started, and `check` is asked once per time_interval; returning
// false or throwing stops the health checks, so the supervisor recovers. Only while
// registered and not started (libsam's rule), with time_interval >= 4 ms. Calling it again
// replaces the check.
using HealthCheck = std::function<bool()>;
void set_hc_callback(HealthCheck check);

}  // namespace corosync::sam
