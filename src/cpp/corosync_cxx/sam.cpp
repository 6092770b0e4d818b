#include "corosync_cxx/sam.hpp"

#include "corosync_cxx/error.hpp"

#include <corosync/cmap.h>

#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <pthread.h>
#include <string>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <thread>
#include <unistd.h>
#include <vector>

namespace corosync::sam {

namespace {

constexpr unsigned kPolicyFlags = SAM_RECOVERY_POLICY_QUORUM | SAM_RECOVERY_POLICY_CMAP;

// Guards the mirrored state against concurrent calls (libsam's own state has no lock).
std::mutex state_mutex;
std::atomic<State> current_state{State::NotInitialized};
int interval_ms = 0;
sam_recovery_policy_t recovery_policy = SAM_RECOVERY_POLICY_QUIT;
unsigned instance_number = 0;

[[noreturn]] void wrong_state(const char* function, const char* needs) {
  throw Error(CS_ERR_BAD_HANDLE, function,
              std::string("SAM is ") + state_name(current_state.load()) + "; it must be " +
                  needs);
}

void require(const char* function, std::initializer_list<State> allowed, const char* needs) {
  for (State s : allowed)
    if (current_state.load() == s) return;
  wrong_state(function, needs);
}

// --- The supervisor: fork hooks, signal forwarding, exit -----------------------------------

// Shared between the supervisor and its current child (MAP_SHARED survives fork): the two
// sides of a Dekker handshake, so that a signal arriving while a child is being forked is
// either forwarded to it by the supervisor or seen by the child itself.
struct SharedPage {
  std::atomic<pid_t> child{0};
  std::atomic<int> stop_signal{0};
};
static_assert(std::atomic<pid_t>::is_always_lock_free && std::atomic<int>::is_always_lock_free,
              "the page is used from signal handlers and across processes");

constexpr int kForwarded[] = {SIGINT, SIGTERM, SIGHUP};
constexpr std::size_t kForwardedCount = sizeof(kForwarded) / sizeof(kForwarded[0]);

SharedPage* shared = nullptr;
pid_t supervisor_pid = 0;
// True in the supervisor from register_process on; the child clears its copy at once.
std::atomic<bool> registering{false};
ForkHooks* fork_hooks = nullptr;
bool hooks_ran = false;
sigset_t forwarded_set;
sigset_t mask_before_fork;
struct sigaction actions_before[kForwardedCount];

void forward_signal(int signum) {
  int saved_errno = errno;
  int none = 0;
  bool first = shared->stop_signal.compare_exchange_strong(none, signum);
  pid_t child = shared->child.load();
  if (child > 0) kill(child, first ? signum : SIGKILL);
  errno = saved_errno;
}

void before_fork() {
  if (!registering.load() || getpid() != supervisor_pid) return;
  sigprocmask(SIG_BLOCK, &forwarded_set, &mask_before_fork);
  // The previous child has been reaped; its pid may be reused from now on.
  shared->child.store(0);
  hooks_ran = fork_hooks && shared->stop_signal.load() == 0;
  if (hooks_ran) fork_hooks->before_fork();
}

void after_fork_in_parent() {
  if (!registering.load() || getpid() != supervisor_pid) return;
  if (hooks_ran) fork_hooks->after_fork_in_parent();
  sigprocmask(SIG_SETMASK, &mask_before_fork, nullptr);
}

void after_fork_in_child() {
  if (!registering.load()) return;
  registering.store(false);
  shared->child.store(getpid());
  // The supervisor is stopping: this child must not run (libsam then sees it exit before
  // start and quits).
  if (int signum = shared->stop_signal.load()) _exit(128 + signum);
  prctl(PR_SET_PDEATHSIG, SIGTERM);
  if (getppid() != supervisor_pid) _exit(128 + SIGTERM);  // it died before prctl
  for (std::size_t i = 0; i < kForwardedCount; ++i)
    sigaction(kForwarded[i], &actions_before[i], nullptr);
  sigprocmask(SIG_SETMASK, &mask_before_fork, nullptr);
}

// Removes resources.process.<supervisor pid>.* (libsam leaves state "failed" there when it
// quits after a failure; a supervisor stopped by a signal is not a failure).
void remove_cmap_keys() {
  cmap_handle_t handle;
  if (cmap_initialize(&handle) != CS_OK) return;
  std::string prefix = "resources.process." + std::to_string(supervisor_pid) + ".";
  std::vector<std::string> keys;
  cmap_iter_handle_t iter;
  if (cmap_iter_init(handle, prefix.c_str(), &iter) == CS_OK) {
    char key[CMAP_KEYNAME_MAXLEN + 1];
    while (cmap_iter_next(handle, iter, key, nullptr, nullptr) == CS_OK) keys.emplace_back(key);
    cmap_iter_finalize(handle, iter);
  }
  for (const std::string& key : keys) cmap_delete(handle, key.c_str());
  cmap_finalize(handle);
}

// libsam ends the supervisor with exit(). It ends here instead, before C++ static destructors
// and other atexit work run in a process whose interpreter (if any) is still alive with no
// thread able to run it.
void on_supervisor_exit(int status, void*) {
  if (getpid() != supervisor_pid) return;  // a child inherits the registration
  int signum = shared->stop_signal.load();
  if (signum && (recovery_policy & SAM_RECOVERY_POLICY_CMAP)) remove_cmap_keys();
  std::fflush(nullptr);
  _exit(signum ? 128 + signum : status);
}

void prepare_supervisor(ForkHooks* hooks) {
  static std::once_flag once;
  std::call_once(once, [] {
    pthread_atfork(before_fork, after_fork_in_parent, after_fork_in_child);
    on_exit(on_supervisor_exit, nullptr);
  });
  if (!shared) {
    void* page = mmap(nullptr, sizeof(SharedPage), PROT_READ | PROT_WRITE,
                      MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (page == MAP_FAILED)
      throw Error(CS_ERR_NO_RESOURCES, "sam_register", "mmap of the supervisor's page failed");
    shared = new (page) SharedPage();
  }
  supervisor_pid = getpid();
  fork_hooks = hooks;
  sigemptyset(&forwarded_set);
  struct sigaction forward = {};
  forward.sa_handler = forward_signal;
  forward.sa_flags = SA_RESTART;
  sigemptyset(&forward.sa_mask);
  for (std::size_t i = 0; i < kForwardedCount; ++i) {
    sigaddset(&forwarded_set, kForwarded[i]);
    sigaddset(&forward.sa_mask, kForwarded[i]);
  }
  for (std::size_t i = 0; i < kForwardedCount; ++i)
    sigaction(kForwarded[i], &forward, &actions_before[i]);
  registering.store(true);
}

// Back to how the process was, after sam_register failed in the supervisor.
void abandon_supervisor() {
  registering.store(false);
  for (std::size_t i = 0; i < kForwardedCount; ++i)
    sigaction(kForwarded[i], &actions_before[i], nullptr);
}

// --- The event-driven health check --------------------------------------------------------

// Runs the check on its own thread for libsam's 32 KiB-stack thread, one question at a time.
class HealthChecker {
 public:
  void set(HealthCheck check) {
    std::lock_guard<std::mutex> lock(mutex_);
    check_ = std::make_shared<HealthCheck>(std::move(check));
    if (!started_) {
      std::thread([this] { serve(); }).detach();
      started_ = true;
    }
  }

  // In libsam's thread: 0 healthy, -1 not.
  int ask() {
    std::unique_lock<std::mutex> lock(mutex_);
    asked_ = true;
    changed_.notify_all();
    changed_.wait(lock, [this] { return answered_; });
    answered_ = false;
    return healthy_ ? 0 : -1;
  }

 private:
  void serve() {
    for (;;) {
      std::shared_ptr<HealthCheck> check;
      {
        std::unique_lock<std::mutex> lock(mutex_);
        changed_.wait(lock, [this] { return asked_; });
        asked_ = false;
        check = check_;
      }
      bool healthy = false;
      try {
        healthy = (*check)();
      } catch (...) {
        healthy = false;
      }
      std::lock_guard<std::mutex> lock(mutex_);
      healthy_ = healthy;
      answered_ = true;
      changed_.notify_all();
    }
  }

  std::mutex mutex_;
  std::condition_variable changed_;
  std::shared_ptr<HealthCheck> check_;
  bool started_ = false, asked_ = false, answered_ = false, healthy_ = false;
};

// Never destroyed: its thread outlives every static destructor.
HealthChecker& checker() {
  static HealthChecker* instance = new HealthChecker();
  return *instance;
}

int ask_checker() { return checker().ask(); }

}  // namespace

const char* state_name(State state) noexcept {
  switch (state) {
    case State::NotInitialized: return "not initialized";
    case State::Initialized: return "initialized";
    case State::Registered: return "registered";
    case State::Started: return "started";
    case State::Finalized: return "finalized";
  }
  return "unknown";
}

State state() noexcept { return current_state.load(); }
int time_interval_ms() noexcept { return interval_ms; }
sam_recovery_policy_t policy() noexcept { return recovery_policy; }
unsigned instance() noexcept { return instance_number; }

void initialize(int time_interval_ms, sam_recovery_policy_t policy) {
  std::lock_guard<std::mutex> lock(state_mutex);
  if (current_state.load() == State::Finalized)
    throw Error(CS_ERR_BAD_HANDLE, "sam_initialize",
                "SAM is finalized, and libsam cannot be initialized again in this process");
  require("sam_initialize", {State::NotInitialized}, "not initialized yet");
  if (time_interval_ms <= 0)
    throw Error(CS_ERR_INVALID_PARAM, "sam_initialize",
                "time_interval_ms must be > 0, not " + std::to_string(time_interval_ms));
  unsigned action = static_cast<unsigned>(policy) & ~kPolicyFlags;
  if (action != SAM_RECOVERY_POLICY_QUIT && action != SAM_RECOVERY_POLICY_RESTART)
    throw Error(CS_ERR_INVALID_PARAM, "sam_initialize",
                "policy must be QUIT or RESTART, optionally with QUORUM and CMAP, not " +
                    std::to_string(static_cast<int>(policy)));
  check(sam_initialize(time_interval_ms, policy), "sam_initialize");
  interval_ms = time_interval_ms;
  recovery_policy = policy;
  current_state.store(State::Initialized);
}

unsigned register_process(ForkHooks* hooks) {
  std::lock_guard<std::mutex> lock(state_mutex);
  require("sam_register", {State::Initialized}, "initialized and not registered yet");
  prepare_supervisor(hooks);
  unsigned id = 0;
  cs_error_t rc = sam_register(&id);
  if (registering.load()) {
    // Still the supervisor: libsam returns to it only when it failed.
    abandon_supervisor();
    throw Error(rc == CS_OK ? CS_ERR_LIBRARY : rc, "sam_register");
  }
  check(rc, "sam_register");
  instance_number = id;
  current_state.store(State::Registered);
  return id;
}

void start() {
  std::lock_guard<std::mutex> lock(state_mutex);
  require("sam_start", {State::Registered}, "registered and not started");
  check(sam_start(), "sam_start");
  current_state.store(State::Started);
}

void stop() {
  std::lock_guard<std::mutex> lock(state_mutex);
  require("sam_stop", {State::Started}, "started");
  check(sam_stop(), "sam_stop");
  current_state.store(State::Registered);
}

void hc_send() {
  require("sam_hc_send", {State::Started}, "started");
  check(sam_hc_send(), "sam_hc_send");
}

void mark_failed() {
  require("sam_mark_failed", {State::Registered, State::Started}, "registered");
  if (!(recovery_policy & SAM_RECOVERY_POLICY_CMAP))
    throw Error(CS_ERR_INVALID_PARAM, "sam_mark_failed",
                "it needs the CMAP flag in the recovery policy");
  check(sam_mark_failed(), "sam_mark_failed");
}

void finalize() {
  std::lock_guard<std::mutex> lock(state_mutex);
  require("sam_finalize", {State::Initialized, State::Registered, State::Started},
          "initialized");
  if (current_state.load() == State::Started) {
    check(sam_stop(), "sam_stop");
    current_state.store(State::Registered);
  }
  check(sam_finalize(), "sam_finalize");
  current_state.store(State::Finalized);
}

void set_warn_signal(int signum) {
  std::lock_guard<std::mutex> lock(state_mutex);
  require("sam_warn_signal_set", {State::Initialized, State::Registered, State::Started},
          "initialized");
  if (signum < 1 || signum >= NSIG)
    throw Error(CS_ERR_INVALID_PARAM, "sam_warn_signal_set",
                "no signal has number " + std::to_string(signum));
  check(sam_warn_signal_set(signum), "sam_warn_signal_set");
}

void data_store(const void* data, std::size_t size) {
  std::lock_guard<std::mutex> lock(state_mutex);
  require("sam_data_store", {State::Initialized, State::Registered, State::Started},
          "initialized");
  check(sam_data_store(data, data ? size : 0), "sam_data_store");
}

std::string data_restore() {
  std::lock_guard<std::mutex> lock(state_mutex);
  require("sam_data_restore", {State::Initialized, State::Registered, State::Started},
          "initialized");
  std::size_t size = 0;
  check(sam_data_getsize(&size), "sam_data_getsize");
  std::string data(size, '\0');
  if (size) check(sam_data_restore(data.data(), size), "sam_data_restore");
  return data;
}

std::size_t data_size() {
  std::lock_guard<std::mutex> lock(state_mutex);
  require("sam_data_getsize", {State::Initialized, State::Registered, State::Started},
          "initialized");
  std::size_t size = 0;
  check(sam_data_getsize(&size), "sam_data_getsize");
  return size;
}

void set_hc_callback(HealthCheck check_fn) {
  std::lock_guard<std::mutex> lock(state_mutex);
  require("sam_hc_callback_register", {State::Registered}, "registered and not started");
  if (!check_fn)
    throw Error(CS_ERR_INVALID_PARAM, "sam_hc_callback_register", "the check is empty");
  if (interval_ms < 4)
    throw Error(CS_ERR_INVALID_PARAM, "sam_hc_callback_register",
                "the time interval must be >= 4 ms (checks are sent every interval / 4)");
  checker().set(std::move(check_fn));
  check(sam_hc_callback_register(ask_checker), "sam_hc_callback_register");
}

}  // namespace corosync::sam
