#include "corosync_cxx/handle.hpp"

#include <poll.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <system_error>

namespace corosync {

namespace {
constexpr int kInterruptCheckMs = 200;

[[noreturn]] void throw_errno(const char* what) {
  throw std::system_error(errno, std::generic_category(), what);
}

// Marks the calling thread as the one dispatching, for the re-entrancy check.
class DispatchingScope {
 public:
  explicit DispatchingScope(HandleShared& shared) : shared_(shared) {
    shared_.dispatching_thread = std::this_thread::get_id();
  }
  ~DispatchingScope() { shared_.dispatching_thread = std::thread::id{}; }
  DispatchingScope(const DispatchingScope&) = delete;
  DispatchingScope& operator=(const DispatchingScope&) = delete;

 private:
  HandleShared& shared_;
};
}  // namespace

HandleShared::HandleShared(const ServiceOps& ops_, RetryPolicy retry_, bool multiplexed)
    : ops(ops_), retry(retry_) {
  wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (wake_fd < 0) throw_errno("eventfd");
  if (multiplexed) {
    epoll_fd = epoll_create1(EPOLL_CLOEXEC);
    if (epoll_fd < 0) {
      ::close(wake_fd);
      throw_errno("epoll_create1");
    }
  }
}

HandleShared::~HandleShared() {
  if (epoll_fd >= 0) ::close(epoll_fd);
  if (wake_fd >= 0) ::close(wake_fd);
}

Handle::Handle(const ServiceOps& ops, RetryPolicy retry, bool multiplexed)
    : shared_(std::make_unique<HandleShared>(ops, retry, multiplexed)) {}

Handle& Handle::operator=(Handle&& other) noexcept {
  if (this != &other) {
    close();
    shared_ = std::move(other.shared_);
  }
  return *this;
}

Handle::~Handle() { close(); }

Connection& Handle::adopt(std::shared_ptr<Connection> connection, uint64_t handle) {
  HandleShared& s = *shared_;
  connection->shared = &s;
  connection->handle = handle;
  cs_error_t rc = s.ops.fd_get(handle, &connection->fd);
  if (rc != CS_OK) {
    s.ops.finalize(handle);
    throw Error(rc, "fd_get");
  }
  if (s.epoll_fd >= 0) {
    epoll_event ev{};
    ev.events = EPOLLIN;
    if (epoll_ctl(s.epoll_fd, EPOLL_CTL_ADD, connection->fd, &ev) != 0) {
      s.ops.finalize(handle);
      throw_errno("epoll_ctl");
    }
  }
  std::lock_guard<std::recursive_mutex> lock(s.mutex);
  // close() ran while this connection was being opened: it would never be finalized.
  if (!s.open) {
    s.ops.finalize(handle);
    throw ClosedError(s.ops.finalize_name);
  }
  if (!s.primary) s.primary = connection;
  s.connections.push_back(std::move(connection));
  return *s.connections.back();
}

void Handle::close() {
  if (!shared_) return;
  HandleShared& s = *shared_;
  std::lock_guard<std::recursive_mutex> lock(s.mutex);
  if (!s.open.exchange(false)) return;
  // A lost daemon makes finalize fail; the local resources are released all the same.
  for (auto& c : s.connections) {
    std::lock_guard<std::mutex> call_lock(c->call_mutex);
    if (!c->finalized) s.ops.finalize(c->handle);
    c->finalized = true;
  }
  uint64_t one = 1;
  [[maybe_unused]] auto n = ::write(s.wake_fd, &one, sizeof one);
}

void Handle::forget(Connection&) noexcept {}

void Handle::sweep() noexcept {
  auto& list = shared_->connections;
  for (auto it = list.begin(); it != list.end();) {
    Connection& c = **it;
    // The first connection stays: native() and fd() hand out its handle and fd.
    if (!c.retired || it == list.begin()) {
      ++it;
      continue;
    }
    forget(c);
    {
      std::lock_guard<std::mutex> call_lock(c.call_mutex);
      if (!c.finalized) shared_->ops.finalize(c.handle);
      c.finalized = true;
    }
    it = list.erase(it);
  }
}

bool Handle::closed() const noexcept { return !shared_ || !shared_->open; }

uint64_t Handle::native(const char* function) const {
  if (closed()) throw ClosedError(function);
  return shared_->primary->handle;
}

int Handle::fd() const {
  native("fd_get");
  return shared_->epoll_fd >= 0 ? shared_->epoll_fd : shared_->primary->fd;
}

void Handle::fail(cs_error_t rc, const char* function) const {
  // A close() from another thread during the call shows up as a bad handle.
  if (rc == CS_ERR_BAD_HANDLE && closed()) throw ClosedError(function);
  throw Error(rc, function);
}

void Handle::dispatch(DispatchFlags flags, const InterruptCheck& check) {
  native(shared_->ops.dispatch_name);
  if (shared_->dispatching_thread.load() == std::this_thread::get_id())
    throw ReentrantDispatchError(shared_->ops.dispatch_name);
  switch (flags) {
    case DispatchFlags::OneNonblocking:
      dispatch_one();
      return;
    case DispatchFlags::All:
      while (dispatch_one()) {
      }
      return;
    case DispatchFlags::One:
      while (!dispatch_one()) {
        if (!wait_readable(check)) return;
      }
      return;
    case DispatchFlags::Blocking:
      for (;;) {
        while (dispatch_one()) {
        }
        if (!wait_readable(check)) return;
      }
  }
  throw Error(CS_ERR_INVALID_PARAM, shared_->ops.dispatch_name);
}

bool Handle::dispatch_one() {
  HandleShared& s = *shared_;
  std::lock_guard<std::recursive_mutex> lock(s.mutex);
  DispatchingScope scope(s);
  // Round robin, so that one busy connection cannot starve the others.
  size_t count = s.connections.size();
  for (size_t tried = 0; tried < count && s.open; ++tried) {
    size_t index = (s.next_to_dispatch + tried) % count;
    Connection& c = *s.connections[index];
    // One event per C call (corosync's ALL cannot be stopped by a callback), so that the
    // events behind a callback that throws stay queued.
    if (c.finalized) continue;
    cs_error_t rc = s.ops.dispatch(c.handle, CS_DISPATCH_ONE_NONBLOCKING);
    if (c.retired && s.open) {
      sweep();
      count = s.connections.size();
    }
    if (s.pending) {
      s.next_to_dispatch = index + 1;
      std::exception_ptr e = std::move(s.pending);
      s.pending = nullptr;
      std::rethrow_exception(e);
    }
    if (!s.open) return false;
    if (rc == CS_OK) {
      s.next_to_dispatch = index + 1;
      return true;
    }
    if (rc != CS_ERR_TRY_AGAIN) fail(rc, s.ops.dispatch_name);
  }
  return false;
}

bool Handle::wait_readable(const InterruptCheck& check) {
  HandleShared& s = *shared_;
  // Not fd(): a close() from another thread must end the wait, not raise.
  int fd = s.epoll_fd >= 0 ? s.epoll_fd : s.primary->fd;
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
