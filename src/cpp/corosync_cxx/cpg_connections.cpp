#include "corosync_cxx/cpg_connections.hpp"

#include <linux/sockios.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <system_error>

namespace corosync {

uint64_t socket_send_buffer(int fd) noexcept {
  int sndbuf = 0;
  socklen_t size = sizeof sndbuf;
  if (fd < 0 || getsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, &size) != 0 || sndbuf <= 0)
    return 0;
  return static_cast<uint64_t>(sndbuf);
}

uint64_t socket_notification_room(int fd, uint64_t send_buffer) noexcept {
  int unread = 0;
  // A socket that cannot be asked is not guarded: one send, and it is asked again.
  if (ioctl(fd, SIOCOUTQ, &unread) != 0 || unread < 0) return 1;
  uint64_t used = static_cast<uint64_t>(unread);
  return used >= send_buffer ? 0 : (send_buffer - used) / kNotificationBytes;
}

[[gnu::hot]]
bool take_notification_room(CpgConnection& c) noexcept {
  if (c.send_buffer == 0) return true;  // its size unknown: not guarded
  if (c.notification_credit == 0)
    c.notification_credit = socket_notification_room(c.fd, c.send_buffer);
  if (c.notification_credit == 0) return false;
  --c.notification_credit;
  return true;
}

CpgGroups::CpgGroups(SendWindow w, int epoll) : window(w), epoll_fd(epoll), parked(epoll) {}

void CpgGroups::add(const std::shared_ptr<CpgConnection>& c) {
  if (c->control) {
    control = c;
    return;
  }
  c->send_buffer = socket_send_buffer(c->fd);
  std::lock_guard<std::mutex> lock(mutex);
  connections.push_back(c);
}

void CpgGroups::remove(CpgConnection& c) {
  std::lock_guard<std::mutex> lock(mutex);
  forget_returned(c);
  sub_unconfirmed(c, c.unconfirmed_messages, c.unconfirmed_bytes);
  auto found = std::find_if(connections.begin(), connections.end(),
                            [&](const auto& p) { return p.get() == &c; });
  if (found != connections.end()) connections.erase(found);
}

std::vector<std::shared_ptr<CpgConnection>> CpgGroups::all() const {
  std::lock_guard<std::mutex> lock(mutex);
  std::vector<std::shared_ptr<CpgConnection>> out;
  out.reserve(connections.size() + 1);
  out.push_back(control);
  out.insert(out.end(), connections.begin(), connections.end());
  return out;
}

[[gnu::hot]]
std::shared_ptr<CpgConnection> CpgGroups::next_to_dispatch() {
  for (;;) {
    // The connection that had the last event goes on until it has none or had its share.
    if (current_ && current_run_ < kStayLimit && !current_->finalized) return current_;
    // Then the others that epoll_wait reported, in its order.
    while (ready_next_ < ready_.size()) {
      std::shared_ptr<CpgConnection> c = std::move(ready_[ready_next_++]);
      if (c && !c->finalized) return c;
    }
    // A connection that had its share asks epoll again, whether or not the pass did: the
    // others go first, then it starts a new run.
    std::shared_ptr<CpgConnection> had_share =
        current_ && !current_->finalized ? std::move(current_) : nullptr;
    current_.reset();
    if ((pass_polled_ && !had_share) || !poll_ready()) return nullptr;
    pass_polled_ = true;
    if (had_share) {
      auto found = std::find(ready_.begin(), ready_.end(), had_share);
      if (found != ready_.end()) std::rotate(found, found + 1, ready_.end());
    }
  }
}

[[gnu::hot]]
void CpgGroups::dispatched(const std::shared_ptr<CpgConnection>& c, bool had_event) {
  if (!had_event || c->finalized) {
    if (current_ == c) current_.reset();
    return;
  }
  if (current_ != c) {
    current_ = c;
    current_run_ = 0;
  }
  ++current_run_;
}

bool CpgGroups::alone(const CpgConnection& c) const noexcept {
  for (size_t i = ready_next_; i < ready_.size(); ++i)
    if (ready_[i] && ready_[i].get() != &c && !ready_[i]->finalized) return false;
  return true;
}

[[gnu::hot]]
bool CpgGroups::poll_ready() {
  epoll_event events[16];
  int n;
  do {
    n = epoll_wait(epoll_fd, events, 16, 0);
  } while (n < 0 && errno == EINTR);
  if (n < 0) throw std::system_error(errno, std::generic_category(), "epoll_wait");
  ready_.clear();
  ready_next_ = 0;
  // The set of connections changes only with the handle's mutex held, as it is here. An
  // entry's data is its connection (resolved against the list, as it may have gone), or
  // null for the handle's wake fd, which is readable once the handle is closed.
  for (int i = 0; i < n; ++i) {
    auto* p = static_cast<CpgConnection*>(events[i].data.ptr);
    if (!p) continue;
    if (control && control.get() == p) {
      ready_.push_back(control);
      continue;
    }
    for (auto& c : connections)
      if (c.get() == p) ready_.push_back(c);
  }
  return !ready_.empty();
}

uint64_t CpgGroups::outstanding_messages() const {
  // Clamped: a message whose failed send took its count back may still come back.
  return unconfirmed_messages -
         std::min(unconfirmed_messages, returned_messages_.load(std::memory_order_relaxed));
}

uint64_t CpgGroups::outstanding_bytes() const {
  return unconfirmed_bytes -
         std::min(unconfirmed_bytes, returned_bytes_.load(std::memory_order_relaxed));
}

bool CpgGroups::fits(uint64_t bytes) const {
  return room_for(outstanding_messages(), outstanding_bytes(), bytes);
}

bool CpgGroups::window_full() const {
  std::lock_guard<std::mutex> lock(mutex);
  return !fits(1);  // not even the smallest message may go
}

bool CpgGroups::any_joined() const {
  for (auto& c : connections)
    if (c->group_state == GroupState::Joined) return true;
  return false;
}

bool CpgGroups::try_reserve(CpgConnection& c, uint64_t bytes) {
  std::lock_guard<std::mutex> lock(mutex);
  return try_reserve_locked(c, bytes);
}

bool CpgGroups::try_reserve_locked(CpgConnection& c, uint64_t bytes) {
  if (!fits(bytes)) return false;
  add_unconfirmed(c, 1, bytes);
  return true;
}

void CpgGroups::release(CpgConnection& c, uint64_t bytes) { release(c, 1, bytes); }

void CpgGroups::release(CpgConnection& c, uint64_t messages, uint64_t bytes) {
  std::lock_guard<std::mutex> lock(mutex);
  sub_unconfirmed(c, messages, bytes);
}

void CpgGroups::settle(CpgConnection& c) {
  if (!c.returned_messages) return;
  std::lock_guard<std::mutex> lock(mutex);
  uint64_t messages = c.returned_messages, bytes = c.returned_bytes;
  forget_returned(c);
  sub_unconfirmed(c, messages, bytes);
}

void CpgGroups::forget_returned(CpgConnection& c) {
  returned_messages_.store(
      returned_messages_.load(std::memory_order_relaxed) - c.returned_messages,
      std::memory_order_relaxed);
  returned_bytes_.store(returned_bytes_.load(std::memory_order_relaxed) - c.returned_bytes,
                        std::memory_order_relaxed);
  c.returned_messages = 0;
  c.returned_bytes = 0;
}

void CpgGroups::wake_senders() {
  std::lock_guard<std::mutex> lock(mutex);
  window_opened.notify_all();
}

void CpgGroups::add_unconfirmed(CpgConnection& c, uint64_t messages, uint64_t bytes) {
  c.unconfirmed_messages += messages;
  c.unconfirmed_bytes += bytes;
  unconfirmed_messages += messages;
  unconfirmed_bytes += bytes;
}

void CpgGroups::sub_unconfirmed(CpgConnection& c, uint64_t messages, uint64_t bytes) {
  // Clamped to what this connection counted: a message sent before a failed send's
  // reservation was taken back must not drive the totals below zero.
  messages = std::min(messages, c.unconfirmed_messages);
  bytes = std::min(bytes, c.unconfirmed_bytes);
  c.unconfirmed_messages -= messages;
  c.unconfirmed_bytes -= bytes;
  unconfirmed_messages -= messages;
  unconfirmed_bytes -= bytes;
  if (messages && senders_waiting()) window_opened.notify_all();
}

}  // namespace corosync
