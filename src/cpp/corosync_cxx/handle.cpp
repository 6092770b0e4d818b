#include "corosync_cxx/handle.hpp"

#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <new>
#include <string>
#include <system_error>

namespace corosync {

namespace {
constexpr int kInterruptCheckMs = 200;

[[noreturn]] void throw_errno(const char* what) {
  throw std::system_error(errno, std::generic_category(), what);
}

// Counts the forks this process came out of as a child: cheaper than getpid() (a system
// call) on every method of every handle.
std::atomic<uint64_t> fork_generation{0};

uint64_t current_fork_generation() {
  static std::once_flag registered;
  std::call_once(registered, [] {
    pthread_atfork(nullptr, nullptr, [] {
      fork_generation.fetch_add(1);
      // Another thread of the parent may have held it at fork time; the child has only
      // this thread, so a fresh lock is the right state.
      new (&handle_table_lock()) std::mutex;
    });
  });
  return fork_generation.load(std::memory_order_relaxed);
}

// Marks the calling thread as the one dispatching, for the re-entrancy check. Relaxed: a
// thread compares the mark only with its own id, and it always sees its own last store (a
// sequentially consistent store is a locked exchange, and this runs twice per event).
class DispatchingScope {
 public:
  explicit DispatchingScope(HandleState& state) : state_(state) {
    state_.dispatching_thread.store(std::this_thread::get_id(), std::memory_order_relaxed);
  }
  ~DispatchingScope() {
    state_.dispatching_thread.store(std::thread::id{}, std::memory_order_relaxed);
  }
  DispatchingScope(const DispatchingScope&) = delete;
  DispatchingScope& operator=(const DispatchingScope&) = delete;

 private:
  HandleState& state_;
};
}  // namespace

HandleLock::HandleLock(HandleState& state) : state_(state) {
  if (state_.mutex.try_lock()) return;
  state_.lockers_waiting.fetch_add(1);
  state_.mutex.lock();
  state_.lockers_waiting.fetch_sub(1);
  state_.lockers_entered.fetch_add(1, std::memory_order_release);
}

std::mutex& handle_table_lock() {
  static std::mutex lock;
  return lock;
}

void Connection::finalize(const ServiceOps& ops) noexcept {
  std::lock_guard<std::mutex> lock(call_mutex);
  if (finalized.exchange(true)) return;
  std::lock_guard<std::mutex> table(handle_table_lock());
  // A lost daemon makes finalize fail; the local resources are released all the same.
  ops.finalize(handle);
}

HandleState::HandleState(const ServiceOps& ops_, RetryPolicy retry_)
    : ops(ops_), retry(retry_), owner(getpid()), generation(current_fork_generation()) {
  wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (wake_fd < 0) throw_errno("eventfd");
  epoll_fd = epoll_create1(EPOLL_CLOEXEC);
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.ptr = nullptr;  // no connection: the handle was closed
  if (epoll_fd < 0 || epoll_ctl(epoll_fd, EPOLL_CTL_ADD, wake_fd, &ev) != 0) {
    int error = errno;
    if (epoll_fd >= 0) ::close(epoll_fd);
    ::close(wake_fd);
    errno = error;
    throw_errno("epoll");
  }
}

HandleState::~HandleState() {
  ::close(epoll_fd);
  ::close(wake_fd);
}

bool Connection::peer_gone() const noexcept {
  if (fd < 0) return false;
  pollfd p{fd, POLLRDHUP, 0};
  int n;
  do {
    n = ::poll(&p, 1, 0);
  } while (n < 0 && errno == EINTR);
  return n > 0 && (p.revents & (POLLHUP | POLLERR | POLLRDHUP)) != 0;
}

bool HandleState::forked() const noexcept {
  return fork_generation.load(std::memory_order_relaxed) != generation;
}

Handle::Handle(const ServiceOps& ops, RetryPolicy retry)
    : ops_(&ops), state_(std::make_unique<HandleState>(ops, retry)) {}

Handle& Handle::operator=(Handle&& other) noexcept {
  if (this != &other) {
    close();
    ops_ = other.ops_;
    state_ = std::move(other.state_);
  }
  return *this;
}

Handle::~Handle() = default;

void Handle::watch(const Connection& connection, void* tag) {
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.ptr = tag;
  if (epoll_ctl(state_->epoll_fd, EPOLL_CTL_ADD, connection.fd, &ev) != 0)
    throw_errno("epoll_ctl");
}

void Handle::unwatch(const Connection& connection) noexcept {
  if (!connection.finalized) epoll_ctl(state_->epoll_fd, EPOLL_CTL_DEL, connection.fd, nullptr);
}

void Handle::opened(Connection& connection, uint64_t handle, const char* function) {
  connection.state = state_.get();
  connection.handle = handle;
  cs_error_t rc = state_->ops.fd_get(handle, &connection.fd);
  if (rc != CS_OK) {
    connection.finalize(state_->ops);
    throw Error(rc, function, "the new connection has no fd");
  }
}

void Handle::close() {
  if (!state_) return;
  HandleState& s = *state_;
  if (s.forked()) {
    // Another thread of the parent may have held the mutex at fork time: take nothing,
    // finalize nothing, and leave the parent's connections to the parent.
    s.open = false;
    return;
  }
  HandleLock lock(s);
  if (!s.open.exchange(false)) return;
  finalize_connections();
  uint64_t one = 1;
  [[maybe_unused]] auto n = ::write(s.wake_fd, &one, sizeof one);
}

bool Handle::closed() const noexcept { return !state_ || !state_->open || state_->forked(); }

void Handle::check_open(const char* function) const {
  if (!state_) throw ClosedError(function);
  if (state_->forked())
    throw ClosedError(function, "the handle belongs to process " +
                                    std::to_string(state_->owner) +
                                    "; a forked child cannot use it");
  if (!state_->open) throw ClosedError(function);
}

const RetryPolicy& Handle::retry() const {
  check_open(ops_->dispatch_name);
  return state_->retry;
}

int Handle::fd() const {
  check_open(ops_->fd_get_name);
  return state_->epoll_fd;
}

void Handle::fail(cs_error_t rc, const char* function) const {
  // A close() from another thread during the call shows up as a bad handle.
  if (rc == CS_ERR_BAD_HANDLE && closed()) throw ClosedError(function);
  throw Error(rc, function);
}

bool Handle::consumed_event(const Connection& connection, cs_error_t rc) const {
  if (rc == CS_OK || (rc == CS_ERR_BAD_HANDLE && connection.finalized)) return true;
  if (rc == CS_ERR_TRY_AGAIN || closed()) return false;
  fail(rc, ops_->dispatch_name);
}

void Handle::check_dispatchable() const {
  check_open(ops_->dispatch_name);
  if (state_->dispatching_thread.load(std::memory_order_relaxed) == std::this_thread::get_id())
    throw ReentrantDispatchError(ops_->dispatch_name);
}

void Handle::dispatch(DispatchFlags flags, const InterruptCheck& check) {
  check_dispatchable();
  switch (flags) {
    case DispatchFlags::OneNonblocking:
      run_one_in_turn();
      return;
    case DispatchFlags::All:
      run_queued();
      return;
    case DispatchFlags::One:
      while (!run_one_in_turn()) {
        if (!wait_readable(check)) return;
      }
      return;
    case DispatchFlags::Blocking:
      for (;;) {
        run_queued();
        if (!wait_readable(check)) return;
      }
  }
  throw Error(CS_ERR_INVALID_PARAM, ops_->dispatch_name);
}

[[gnu::hot]]
Handle::TryResult Handle::try_dispatch(DispatchFlags flags, CallerLock* caller_lock) {
  check_dispatchable();
  if (flags != DispatchFlags::All && flags != DispatchFlags::OneNonblocking)
    return TryResult::WouldWait;
  HandleState& s = *state_;
  std::unique_lock<std::mutex> turn(s.dispatch_turn, std::try_to_lock);
  if (!turn.owns_lock()) return TryResult::WouldWait;
  std::unique_lock<std::recursive_mutex> lock(s.mutex, std::try_to_lock);
  if (!lock.owns_lock() || settle_due()) return TryResult::WouldWait;
  struct NoWaiting {
    NoWaiting(HandleState& s, CallerLock* caller_lock) : state(s) {
      state.no_waiting = true;
      state.caller_lock = caller_lock;
    }
    ~NoWaiting() {
      state.no_waiting = false;
      state.caller_lock = nullptr;
    }
    HandleState& state;
  } no_waiting(s, caller_lock);
  if (flags == DispatchFlags::OneNonblocking) {
    run_one();
    return TryResult::Done;
  }
  // The handle's mutex is held throughout: each step need not take it again.
  for (bool first = true; step_locked(first, true) != Step::Empty; first = false) {
    if (settle_due()) return TryResult::WouldWait;
    between_events(s);
  }
  return TryResult::Done;
}

bool Handle::run_one_in_turn() {
  std::lock_guard<std::mutex> turn(state_->dispatch_turn);
  return run_one();
}

void Handle::run_queued() {
  std::lock_guard<std::mutex> turn(state_->dispatch_turn);
  std::lock_guard<std::recursive_mutex> lock(state_->mutex);
  for (bool first = true; step_locked(first, true) != Step::Empty; first = false)
    let_waiters_in(*state_);
}

void Handle::yield_caller_lock(HandleState& s) {
  s.caller_lock->release();
  s.caller_lock->reacquire();
}

void Handle::hand_over_to_waiters(HandleState& s) {
  // The mutex is held once here (by the dispatch loop; a callback's own locks are gone by
  // now), so one unlock lets it go; the dispatch's turn stays taken, so that no other
  // dispatch gets in meanwhile (it would run events of a C dispatch call that has not
  // returned). The mutex is handed to no one in particular: wait until a waiter has had
  // it, or this thread would likely take it straight back.
  uint64_t entered = s.lockers_entered.load(std::memory_order_acquire);
  s.mutex.unlock();
  if (s.caller_lock) s.caller_lock->release();
  while (s.lockers_entered.load(std::memory_order_acquire) == entered) sched_yield();
  // The handle's mutex before the caller lock: the order every dispatch takes them in (a
  // callback of dispatch() takes the GIL with the mutex held).
  s.mutex.lock();
  if (s.caller_lock) s.caller_lock->reacquire();
}

Handle::Step Handle::step(bool pass_begins) {
  std::lock_guard<std::recursive_mutex> lock(state_->mutex);
  return step_locked(pass_begins, false);
}

[[gnu::hot]]
Handle::Step Handle::step_locked(bool pass_begins, bool all) {
  HandleState& s = *state_;
  if (!s.open) return Step::Empty;
  s.pass_begins = pass_begins;
  s.dispatch_all = all;
  DispatchingScope scope(s);
  uint64_t before = s.callbacks_run;
  bool consumed = false;
  std::exception_ptr failure;
  try {
    consumed = dispatch_event();
  }
#ifdef __GLIBCXX__
  catch (abi::__forced_unwind&) {
    throw;
  }
#endif
  catch (...) {
    failure = std::current_exception();
  }
  // A callback's exception comes first: it is what the callback's author is waiting for.
  if (s.pending) {
    std::exception_ptr e = std::move(s.pending);
    s.pending = nullptr;
    std::rethrow_exception(e);
  }
  if (failure) std::rethrow_exception(failure);
  if (!consumed || !s.open) return Step::Empty;
  return s.callbacks_run != before ? Step::RanCallback : Step::Consumed;
}

bool Handle::run_one() {
  for (bool first = true;; first = false) {
    switch (step(first)) {
      case Step::RanCallback:
        return true;
      case Step::Empty:
        return false;
      case Step::Consumed:
        break;
    }
  }
}

bool Handle::wait_readable(const InterruptCheck& check) {
  HandleState& s = *state_;
  // Not fd(): a close() from another thread must end the wait, not raise.
  int fd = s.epoll_fd;
  for (;;) {
    if (!s.open) return false;
    pollfd fds[2] = {{fd, POLLIN, 0}, {s.wake_fd, POLLIN, 0}};
    int n = ::poll(fds, 2, check ? kInterruptCheckMs : -1);
    if (!s.open || (fds[1].revents & POLLIN)) return false;
    if (n > 0 && fds[0].revents) return true;  // readable, hung up or failed: dispatch tells
    if (n < 0 && errno != EINTR) throw_errno("poll");
    if (check) check();
  }
}

}  // namespace corosync
