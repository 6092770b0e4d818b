#include "corosync_cxx/cpg_parked.hpp"

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <system_error>
#include <utility>

namespace corosync {

ParkedCpgEvents::ParkedCpgEvents(int epoll_fd) {
  event_fd_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (event_fd_ < 0) throw std::system_error(errno, std::generic_category(), "eventfd");
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.ptr = this;  // neither a connection nor null (the wake fd): the dispatch loop skips it
  if (epoll_ctl(epoll_fd, EPOLL_CTL_ADD, event_fd_, &ev) != 0) {
    int error = errno;
    ::close(event_fd_);
    throw std::system_error(error, std::generic_category(), "epoll_ctl");
  }
}

// Closing the eventfd takes it out of the epoll set.
ParkedCpgEvents::~ParkedCpgEvents() { ::close(event_fd_); }

void ParkedCpgEvents::deliver(std::string_view group, uint32_t nodeid, uint32_t pid,
                              const void* message, size_t size) {
  Event event;
  event.group = group;
  event.nodeid = nodeid;
  event.pid = pid;
  event.message.assign(static_cast<const char*>(message), size);
  keep(std::move(event));
}

void ParkedCpgEvents::confchg(std::string_view group, std::vector<CpgAddress> members,
                              std::vector<CpgAddress> left, std::vector<CpgAddress> joined) {
  Event event;
  event.kind = Kind::Confchg;
  event.group = group;
  event.members = std::move(members);
  event.left = std::move(left);
  event.joined = std::move(joined);
  keep(std::move(event));
}

void ParkedCpgEvents::totem_confchg(CpgRingId ring, std::vector<uint32_t> members) {
  Event event;
  event.kind = Kind::TotemConfchg;
  event.ring = ring;
  event.totem_members = std::move(members);
  keep(std::move(event));
}

void ParkedCpgEvents::keep(Event event) {
  events_.push_back(std::move(event));
  if (events_.size() == 1) set_readable(true);
}

bool ParkedCpgEvents::run_oldest(CpgListener* listener) {
  if (events_.empty()) return false;
  Event event = std::move(events_.front());
  events_.pop_front();
  if (events_.empty()) set_readable(false);
  if (!listener) return true;
  switch (event.kind) {
    case Kind::Deliver:
      listener->on_deliver(event.group, event.nodeid, event.pid, event.message.data(),
                           event.message.size());
      break;
    case Kind::Confchg:
      listener->on_confchg(event.group, event.members, event.left, event.joined);
      break;
    case Kind::TotemConfchg:
      listener->on_totem_confchg(event.ring, event.totem_members);
      break;
  }
  return true;
}

void ParkedCpgEvents::clear() noexcept {
  events_.clear();
  set_readable(false);
}

void ParkedCpgEvents::set_readable(bool readable) noexcept {
  uint64_t value = 1;
  // Non-blocking: a write cannot fail short of a counter at its maximum, a read only when
  // the counter is zero already; either way the fd ends as asked.
  [[maybe_unused]] ssize_t n = readable ? ::write(event_fd_, &value, sizeof value)
                                        : ::read(event_fd_, &value, sizeof value);
}

}  // namespace corosync
