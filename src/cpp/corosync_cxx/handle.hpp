// corosync::Handle: what every service handle shares (CPG, CMAP, quorum, votequorum, CFG):
// ownership of corosync connections, close/finalize, the fd, the TRY_AGAIN retry policy and
// the dispatch loop with its callback-exception and re-entrancy rules.
//
// A handle usually owns one corosync connection. CPG needs several (corosync lets one
// connection join only one group), so a handle may own more; its fd is then an epoll fd
// that is readable whenever any of them is.
#pragma once

#include "corosync_cxx/error.hpp"
#include "corosync_cxx/retry.hpp"

#include <corosync/corotypes.h>

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
#include <vector>

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
  const char* dispatch_name;
  cs_error_t (*finalize)(uint64_t);
  cs_error_t (*fd_get)(uint64_t, int*);
  cs_error_t (*dispatch)(uint64_t, cs_dispatch_flags_t);
};

struct HandleShared;

// One corosync connection, at a stable heap address: the service's context pointer points
// here, so trampolines find it and a Handle can be moved meanwhile. Services derive from it
// to keep their per-connection state.
struct Connection {
  virtual ~Connection() = default;
  HandleShared* shared = nullptr;
  uint64_t handle = 0;
  int fd = -1;
  bool finalized = false;
  // Set by a callback when the connection has served its purpose; the handle finalizes and
  // drops it once the C dispatch call that ran the callback has returned.
  bool retired = false;
  // libqb's client IPC is not safe for concurrent requests on one connection (two threads
  // sending at once lose messages; request/response pairs can cross): every call but
  // dispatch, which only reads the event channel, holds this.
  std::mutex call_mutex;
};

// State shared by a handle's connections.
struct HandleShared {
  HandleShared(const ServiceOps& ops, RetryPolicy retry, bool multiplexed);
  ~HandleShared();
  HandleShared(const HandleShared&) = delete;
  HandleShared& operator=(const HandleShared&) = delete;

  const ServiceOps& ops;
  RetryPolicy retry;
  std::atomic<bool> open{true};
  // Wakes a blocking dispatch when the handle is closed from another thread.
  int wake_fd = -1;
  // Readable when any connection is; only for handles with several connections.
  int epoll_fd = -1;
  // Serializes dispatch, finalize and changes to `connections`: corosync warns that
  // finalizing from another thread can race a running dispatch. Recursive because a
  // callback may close its own handle or open a connection.
  std::recursive_mutex mutex;
  // Shared, so that a call in progress keeps its connection alive while another thread
  // retires it.
  std::vector<std::shared_ptr<Connection>> connections;
  // The first connection, set once, read without the mutex (fileno() holds the GIL).
  std::shared_ptr<Connection> primary;
  size_t next_to_dispatch = 0;
  std::atomic<std::thread::id> dispatching_thread{};
  // The first exception thrown by a callback during the current C dispatch call.
  std::exception_ptr pending;
};

class Handle {
 public:
  Handle(Handle&&) noexcept = default;
  Handle& operator=(Handle&& other) noexcept;
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;
  virtual ~Handle();

  // Finalizes every connection; idempotent. Safe from another thread while a dispatch runs
  // (it waits for the running callback) and from inside a callback.
  void close();
  bool closed() const noexcept;
  // The fd to poll for readability; never read from it. Stable for the handle's life.
  int fd() const;
  // Runs callbacks in the calling thread. A callback's exception propagates after that one
  // callback; events behind it stay queued. Throws ReentrantDispatchError from a callback.
  void dispatch(DispatchFlags flags = DispatchFlags::All, const InterruptCheck& check = {});
  const RetryPolicy& retry() const noexcept { return shared_->retry; }

  // For trampolines: runs a callback of `connection` (found from the context pointer),
  // keeping its exception for dispatch() to rethrow. Lets no exception into C, except the
  // forced unwinding of a thread that is being cancelled or exited (pthread_exit), which
  // must go on: swallowing it aborts the process.
  template <class Callback>
  static void run_callback(Connection* connection, Callback&& callback) {
    if (!connection || !connection->shared) return;
    try {
      callback();
    }
#ifdef __GLIBCXX__
    catch (abi::__forced_unwind&) {
      throw;
    }
#endif
    catch (...) {
      if (!connection->shared->pending) connection->shared->pending = std::current_exception();
    }
  }

 protected:
  Handle(const ServiceOps& ops, RetryPolicy retry, bool multiplexed = false);

  // Connects with `initialize(Connection*, uint64_t* handle)` (the service's *_initialize,
  // passing the Connection as its context) under the retry policy, and takes ownership.
  template <class Init>
  Connection& connect(std::shared_ptr<Connection> connection, const char* function,
                      Init&& initialize) {
    if (closed()) throw ClosedError(function);
    uint64_t h = 0;
    Connection* c = connection.get();
    cs_error_t rc = shared_->retry.run([&] { return initialize(c, &h); });
    if (rc != CS_OK) throw Error(rc, function);
    return adopt(std::move(connection), h);
  }
  // The first connection's native handle for a call named `function`; ClosedError after close().
  uint64_t native(const char* function) const;
  // Runs `c(native_handle)`, a corosync call on `connection`, under the retry policy and
  // the connection's call mutex, and throws on failure.
  template <class Call>
  void call(Connection& connection, const char* function, Call&& c) const {
    native(function);
    cs_error_t rc = run(connection, std::forward<Call>(c));
    if (rc != CS_OK) fail(rc, function);
  }
  // The same on the first connection.
  template <class Call>
  void call(const char* function, Call&& c) const {
    call(*shared_->primary, function, std::forward<Call>(c));
  }
  // Like call() but returns the result instead of throwing.
  template <class Call>
  cs_error_t run(Connection& connection, Call&& c) const {
    return shared_->retry.run([&] {
      std::lock_guard<std::mutex> lock(connection.call_mutex);
      return c(connection.handle);
    });
  }
  Connection& primary() const { return *shared_->primary; }
  [[noreturn]] void fail(cs_error_t rc, const char* function) const;
  HandleShared& shared() const { return *shared_; }
  // Called (with the handle's mutex held) just before a retired connection is finalized
  // and destroyed, so a service can drop its own references to it.
  virtual void forget(Connection& connection) noexcept;
  // Finalizes and drops retired connections; the mutex is held.
  void sweep() noexcept;

 private:
  Connection& adopt(std::shared_ptr<Connection> connection, uint64_t handle);
  // One non-blocking C dispatch on the next connection with an event; false when none had
  // one or the handle got closed.
  bool dispatch_one();
  // Waits until the fd is readable; false when the handle was closed meanwhile.
  bool wait_readable(const InterruptCheck& check);

  std::unique_ptr<HandleShared> shared_;
};

}  // namespace corosync
