// corosync::Handle: what every service handle shares (CPG, CMAP, quorum, votequorum, CFG):
// open/closed state, the process that owns it, the fd to poll, the TRY_AGAIN retry policy
// and the dispatch loop with its callback-exception, re-entrancy and one-callback rules.
//
// A Handle does not know how many corosync connections it has: ServiceHandle
// (service_handle.hpp) owns exactly one, which is what every service needs; CPG adds one
// per joined group on top of it (cpg_connections.hpp).
#pragma once

#include "corosync_cxx/error.hpp"
#include "corosync_cxx/retry.hpp"

#include <corosync/corotypes.h>
#include <sys/types.h>

#ifdef __GLIBCXX__
#include <cxxabi.h>
#endif

#include <atomic>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <utility>

namespace corosync {

enum class DispatchFlags {
  One = CS_DISPATCH_ONE,
  All = CS_DISPATCH_ALL,
  Blocking = CS_DISPATCH_BLOCKING,
  OneNonblocking = CS_DISPATCH_ONE_NONBLOCKING,
};

// Called while a blocking dispatch waits (every wakeup, at least every 200 ms); it may throw
// to abandon the wait, e.g. to let a signal handler's exception out.
using InterruptCheck = std::function<void()>;

// The C entry points of one service. Every corosync handle type is a uint64_t.
struct ServiceOps {
  const char* finalize_name;
  const char* fd_get_name;
  const char* dispatch_name;
  cs_error_t (*finalize)(uint64_t);
  cs_error_t (*fd_get)(uint64_t, int*);
  cs_error_t (*dispatch)(uint64_t, cs_dispatch_flags_t);
};

struct HandleState;

// A lock of its own that a try_dispatch caller holds (a language binding's interpreter
// lock), which a callback of another thread may need: the dispatch lets go of it before
// anything that could wait, and takes it back after.
class CallerLock {
 public:
  virtual void release() noexcept = 0;
  virtual void reacquire() noexcept = 0;

 protected:
  ~CallerLock() = default;
};

// corosync's client libraries keep their handles (and CPG its iteration handles) in libqb
// handle tables, which are not safe for concurrent creates and destroys:
// qb_hdb_handle_create takes no lock, so two *_initialize at once can take one slot, and one
// of the two handles then answers BAD_HANDLE or works on the other's instance. Every
// *_initialize and *_finalize of this process (and cpg_iteration_initialize/_finalize) runs
// under this lock. It is the innermost lock: nothing else is taken while it is held. A
// finalize holds it while it waits for its daemon's answer, so a stalled daemon also holds
// up the opening and closing of handles to other daemons in the same process (only test
// rigs talk to several).
std::mutex& handle_table_lock();

// One corosync connection, at a stable heap address: the service's context pointer points
// here, so trampolines find it and a Handle can be moved meanwhile. Services derive from it
// to keep their per-connection state.
struct Connection {
  virtual ~Connection() = default;
  // Finalizes the connection unless that was done already (the call mutex is taken).
  void finalize(const ServiceOps& ops) noexcept;
  // Whether the daemon's end of the connection is gone (its socket hung up). libqb answers
  // TRY_AGAIN for a full request ring without looking at the socket, so a call that keeps
  // being refused would not notice a daemon that died meanwhile.
  bool peer_gone() const noexcept;

  HandleState* state = nullptr;
  uint64_t handle = 0;
  int fd = -1;
  // Read without the call mutex by the dispatch loop, written under it.
  std::atomic<bool> finalized{false};
  // libqb's client IPC is not safe for concurrent requests on one connection (two threads
  // sending at once lose messages; request/response pairs can cross): every call but
  // dispatch, which only reads the event channel, holds this.
  std::mutex call_mutex;
};

// What a handle's connections and trampolines share, at a stable heap address.
struct HandleState {
  HandleState(const ServiceOps& ops, RetryPolicy retry);
  ~HandleState();
  HandleState(const HandleState&) = delete;
  HandleState& operator=(const HandleState&) = delete;

  // A forked child inherits the handle's memory but not the right to use its connections:
  // they are the parent's IPC channels, and a finalize from here would end the parent's.
  bool forked() const noexcept;

  const ServiceOps& ops;
  RetryPolicy retry;
  const pid_t owner;
  const uint64_t generation;
  std::atomic<bool> open{true};
  // Wakes a blocking dispatch when the handle is closed from another thread.
  int wake_fd = -1;
  // The handle's fd (Handle::fd): an epoll set of its connections' fds and wake_fd, so that
  // it is readable when an event is queued and, for good, once the handle is closed. Open
  // for the handle's life, whatever connections come and go.
  int epoll_fd = -1;
  // Serializes dispatch with finalize (corosync warns that finalizing from another thread
  // can race a running dispatch) and with changes to the set of connections. Recursive
  // because a callback may close its own handle or join a group. Everything but a dispatch
  // takes it with HandleLock; a dispatch that runs many events lets those callers in
  // between two (Handle::let_waiters_in).
  std::recursive_mutex mutex;
  // A dispatch's turn: one dispatching thread at a time, taken before `mutex` and kept
  // across the dispatch's whole run of events, also while it lets HandleLocks in, so that
  // only those get in between two events.
  std::mutex dispatch_turn;
  // HandleLock's callers waiting for `mutex`, and how many of them got it so far: a steady
  // sender keeps a dispatch of everything queued from ever finding the queue empty, and
  // without a turn close(), join() and the like would wait for it for good.
  std::atomic<unsigned> lockers_waiting{0};
  std::atomic<uint64_t> lockers_entered{0};
  // The running try_dispatch's caller lock, if it gave one (under `mutex`).
  CallerLock* caller_lock = nullptr;
  // Events the dispatches that run many have run (under `mutex`): the caller lock is
  // let go for a moment every kYieldEvents.
  unsigned events_run = 0;
  std::atomic<std::thread::id> dispatching_thread{};
  // The first exception thrown by a callback during the current C dispatch call.
  std::exception_ptr pending;
  // Callbacks run so far (under `mutex`): a C dispatch call may consume an event that runs
  // none (a fragment of a large message, a suppressed notification).
  uint64_t callbacks_run = 0;
  // Set (under `mutex`) while try_dispatch runs: the service leaves whatever could wait
  // (settle()) for a later dispatch.
  bool no_waiting = false;
  // Set (under `mutex`) while a dispatch runs everything queued (All, Blocking): a service
  // may then hand a connection's whole queue to one C dispatch call, keeping the events
  // behind a callback that threw for the next dispatch (Handle::parking).
  bool dispatch_all = false;
  // Set (under `mutex`) for the first dispatch_event of a pass: a run of C dispatch calls
  // over what is queued, from a dispatch() or try_dispatch() call or a wake-up of a waiting
  // one, to the first call that finds nothing (or a callback, for the ONE flavours). A
  // service with several connections asks which are readable once per pass.
  bool pass_begins = false;
};

// Holds a handle's mutex for anything but a dispatch. A dispatch that runs many events
// lets a waiting HandleLock in between two, so that it waits for one event, not for the
// whole queue.
class HandleLock {
 public:
  explicit HandleLock(HandleState& state);
  ~HandleLock() { state_.mutex.unlock(); }
  HandleLock(const HandleLock&) = delete;
  HandleLock& operator=(const HandleLock&) = delete;

 private:
  HandleState& state_;
};

class Handle {
 public:
  Handle(Handle&&) noexcept = default;
  Handle& operator=(Handle&& other) noexcept;
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;
  // A derived class whose trampolines use its own members must close() in its destructor.
  virtual ~Handle();

  // Finalizes every connection; idempotent. Safe from another thread while a dispatch runs
  // (it waits for the running callback) and from inside a callback. In a forked child it
  // finalizes nothing: the connections are the parent's.
  void close();
  // True after close(), for a moved-from handle, and in a forked child.
  bool closed() const noexcept;
  // The fd to poll for readability; never read from it. It stays open (and the same) for
  // the handle's life: readable while an event is queued, and for good once the handle is
  // closed (from any thread) or its daemon is lost, so that a poll on it always ends with a
  // dispatch() that says why.
  int fd() const;
  // Runs callbacks in the calling thread: All runs what is queued; OneNonblocking runs at
  // most one callback; One waits until one callback has run; Blocking runs callbacks until
  // the handle is closed. A callback's exception propagates after that one callback; events
  // behind it stay queued. Throws ReentrantDispatchError from a callback.
  void dispatch(DispatchFlags flags = DispatchFlags::All, const InterruptCheck& check = {});
  enum class TryResult { Done, WouldWait };
  // dispatch(All) or dispatch(OneNonblocking) for a caller that must never wait (a
  // language binding holding its interpreter's lock, whom a thread running a callback may
  // be waiting for): nothing is done, and WouldWait returned, if another thread holds the
  // handle; an All that meets work that could wait (settle_due()) stops before it with
  // WouldWait. The caller then finishes with dispatch(), free to wait. `caller_lock` (if
  // given) is the caller's own lock: it is let go for a moment every 64 events of an All,
  // for others to have, and while the dispatch lets another thread's close(), join() and
  // the like in (which could wait); without it those wait for the whole All.
  TryResult try_dispatch(DispatchFlags flags, CallerLock* caller_lock = nullptr);
  // For a callback: whether the dispatch running it is a try_dispatch, whose caller holds
  // the lock it could not wait without (the binding's GIL), so the callback need not take
  // it again. Only meaningful in a callback of this handle (the handle's mutex is held).
  bool in_try_dispatch() const noexcept { return state_ && state_->no_waiting; }
  const RetryPolicy& retry() const;
  // The service's C entry points (their names are what errors report).
  const ServiceOps& ops() const noexcept { return *ops_; }

  // For trampolines: runs a callback of `connection` (found from the context pointer),
  // keeping its exception for dispatch() to rethrow. Lets no exception into C, except the
  // forced unwinding of a thread that is being cancelled or exited (pthread_exit), which
  // must go on: swallowing it aborts the process.
  template <class Callback>
  static void run_callback(Connection* connection, Callback&& callback) {
    if (!connection || !connection->state) return;
    run_callback(*connection->state, std::forward<Callback>(callback));
  }
  // The same for a callback of the handle whose state is `state`.
  template <class Callback>
  static void run_callback(HandleState& state, Callback&& callback) {
    ++state.callbacks_run;
    try {
      callback();
    }
#ifdef __GLIBCXX__
    catch (abi::__forced_unwind&) {
      throw;
    }
#endif
    catch (...) {
      if (!state.pending) state.pending = std::current_exception();
    }
  }
  // After each event of a dispatch that runs many (between two steps, and in the
  // trampolines of a CS_DISPATCH_ALL call): lets the caller lock go every kYieldEvents,
  // and lets waiting HandleLocks in. Inline: it runs once per event, and mostly finds
  // nothing to do.
  static void between_events(HandleState& state) {
    if (state.caller_lock && ++state.events_run % kYieldEvents == 0) yield_caller_lock(state);
    let_waiters_in(state);
  }
  static constexpr unsigned kYieldEvents = 64;
  // For trampolines: whether a callback of this C dispatch call has thrown, so that the
  // event must be kept for the next dispatch instead of run (a C dispatch call that runs
  // everything queued goes on after it).
  static bool parking(const Connection* connection) noexcept {
    return connection && connection->state && connection->state->pending;
  }

 protected:
  Handle(const ServiceOps& ops, RetryPolicy retry);

  // Throws ClosedError naming `function` after close(), when moved from, or in a forked child.
  void check_open(const char* function) const;
  // Opens a connection with `initialize(Connection*, uint64_t* handle)` (the service's
  // *_initialize, passing the Connection as its context) under the retry policy, and gets its
  // fd. Then, holding the handle's mutex, hands it to `adopt` unless close() ran meanwhile
  // (then it is finalized and ClosedError names `function`); if `adopt` throws, it is finalized.
  template <class Init, class Adopt>
  void connect(const std::shared_ptr<Connection>& connection, const char* function,
               Init&& initialize, Adopt&& adopt) {
    check_open(function);
    uint64_t h = 0;
    Connection* c = connection.get();
    cs_error_t rc = state_->retry.run([&] {
      std::lock_guard<std::mutex> table(handle_table_lock());
      return initialize(c, &h);
    });
    if (rc != CS_OK) throw Error(rc, function);
    opened(*connection, h, function);
    HandleLock lock(*state_);
    if (!state_->open) {
      connection->finalize(state_->ops);
      throw ClosedError(function);
    }
    try {
      adopt();
    } catch (...) {
      connection->finalize(state_->ops);  // not kept: nothing else would ever finalize it
      throw;
    }
  }
  // Runs `c(native_handle)`, a corosync call on `connection`, under the retry policy and
  // the connection's call mutex, and throws on failure.
  template <class Call>
  void call(Connection& connection, const char* function, Call&& c) const {
    check_open(function);
    cs_error_t rc = run(connection, std::forward<Call>(c));
    if (rc != CS_OK) fail(rc, function);
  }
  // Like call() but returns the result instead of throwing.
  template <class Call>
  cs_error_t run(Connection& connection, Call&& c) const {
    return run(connection, state_->retry, std::forward<Call>(c));
  }
  // run() under `retry` instead of the handle's policy.
  template <class Call>
  cs_error_t run(Connection& connection, const RetryPolicy& retry, Call&& c) const {
    return retry.run([&] {
      std::lock_guard<std::mutex> lock(connection.call_mutex);
      return run_locked(connection, c);
    });
  }
  // run() once, for a caller that must not wait: no retry, and CS_ERR_TRY_AGAIN without
  // calling when another thread holds the connection's call mutex (it may be waiting for
  // the daemon).
  template <class Call>
  cs_error_t try_run(Connection& connection, Call&& c) const {
    std::unique_lock<std::mutex> lock(connection.call_mutex, std::try_to_lock);
    return lock.owns_lock() ? run_locked(connection, c) : CS_ERR_TRY_AGAIN;
  }
  [[noreturn]] void fail(cs_error_t rc, const char* function) const;
  // One attempt of run(), the call mutex held: a finalized connection answers BAD_HANDLE,
  // and TRY_AGAIN from a connection whose daemon is gone becomes LIBRARY.
  template <class Call>
  static cs_error_t run_locked(Connection& connection, Call& c) {
    if (connection.finalized) return CS_ERR_BAD_HANDLE;
    cs_error_t rc = c(connection.handle);
    if (rc == CS_ERR_TRY_AGAIN && connection.peer_gone()) return CS_ERR_LIBRARY;
    return rc;
  }
  // What one CS_DISPATCH_ONE_NONBLOCKING call on `connection` answered: true if it consumed
  // an event (also when that event's callback finalized the connection, which makes
  // corosync answer BAD_HANDLE), false if nothing was queued or the handle was closed
  // meanwhile; throws for anything else.
  bool consumed_event(const Connection& connection, cs_error_t rc) const;
  HandleState& state() const { return *state_; }
  // Adds a connection's fd to the handle's epoll set, with `tag` as its epoll data, and takes
  // it out again (before it is finalized: a forked child may keep the fd's file open, which
  // would keep it in the set).
  void watch(const Connection& connection, void* tag);
  void unwatch(const Connection& connection) noexcept;

  // The service's part of the dispatch loop, called with the handle's mutex held:
  // one non-blocking C dispatch call; false when nothing was queued,
  virtual bool dispatch_event() = 0;
  // and, at close(), finalizing every connection.
  virtual void finalize_connections() noexcept = 0;
  // Whether dispatch_event() has work due that could wait for the daemon (e.g. finalizing
  // a connection); while state().no_waiting is set, dispatch_event leaves such work.
  virtual bool settle_due() const { return false; }

 private:
  void opened(Connection& connection, uint64_t handle, const char* function);
  // What dispatch and try_dispatch refuse: a closed handle, and a call from a callback.
  void check_dispatchable() const;
  enum class Step { Empty, Consumed, RanCallback };
  // One C dispatch call's worth, for a dispatch of one callback (run_one); `pass_begins`
  // for the first step of a pass over what is queued (see HandleState::pass_begins).
  Step step(bool pass_begins);
  // A step with the handle's mutex already held by this thread; `all` when the dispatch
  // runs everything queued (HandleState::dispatch_all).
  Step step_locked(bool pass_begins, bool all);
  // Steps, as one pass, until a callback has run (true) or nothing is queued (false); the
  // dispatch's turn (HandleState::dispatch_turn) is held.
  bool run_one();
  // run_one() in the dispatch's turn.
  bool run_one_in_turn();
  // Steps, as one pass, until nothing is queued (dispatch All and Blocking), in the
  // dispatch's turn.
  void run_queued();
  // Called by the dispatching thread, holding the handle's mutex once: if HandleLocks
  // wait, lets it go (and the caller lock, if any) until one of them has had it. Inline,
  // as between_events: mostly none waits.
  static void let_waiters_in(HandleState& state) {
    if (state.lockers_waiting.load(std::memory_order_relaxed) != 0) hand_over_to_waiters(state);
  }
  // let_waiters_in's work once some wait.
  static void hand_over_to_waiters(HandleState& state);
  // Lets the caller lock go and takes it back (between_events, every kYieldEvents).
  static void yield_caller_lock(HandleState& state);
  // Waits until the fd is readable; false when the handle was closed meanwhile.
  bool wait_readable(const InterruptCheck& check);

  // Kept beside the state so that a moved-from handle still names its service's calls.
  const ServiceOps* ops_;
  std::unique_ptr<HandleState> state_;
};

}  // namespace corosync
