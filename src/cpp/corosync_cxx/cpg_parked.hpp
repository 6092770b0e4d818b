// The events libcpg hands over after a callback has thrown, kept for the next dispatch.
//
// A dispatch of everything queued gives one connection's whole queue to one cpg_dispatch
// call with CS_DISPATCH_ALL: per event that saves libcpg's handle lookup and entry and the
// dispatch loop's own step (about 580 instructions per message in a batch-send loop,
// callgrind). But libcpg's ALL cannot be stopped by a callback, and a callback's exception
// must come out of dispatch() with the events behind it kept. So once a callback has
// thrown, the trampolines copy each further event of that call here instead of running its
// callback, and the dispatch loop runs these, one per step and in order, before it asks
// libcpg for more. While any are kept, an eventfd in the handle's epoll set keeps the
// handle's fd readable, so that a program polling it dispatches them.
#pragma once

#include "corosync_cxx/cpg.hpp"

#include <cstdint>
#include <deque>
#include <string>
#include <string_view>
#include <vector>

namespace corosync {

class ParkedCpgEvents {
 public:
  // Adds an eventfd to `epoll_fd` (the handle's, which outlives this object's use of it).
  explicit ParkedCpgEvents(int epoll_fd);
  ~ParkedCpgEvents();
  ParkedCpgEvents(const ParkedCpgEvents&) = delete;
  ParkedCpgEvents& operator=(const ParkedCpgEvents&) = delete;

  // Keeps a copy of an event (the handle's mutex held, as for everything here).
  void deliver(std::string_view group, uint32_t nodeid, uint32_t pid, const void* message,
               size_t size);
  void confchg(std::string_view group, std::vector<CpgAddress> members,
               std::vector<CpgAddress> left, std::vector<CpgAddress> joined);
  void totem_confchg(CpgRingId ring, std::vector<uint32_t> members);

  bool empty() const noexcept { return events_.empty(); }
  // Takes the oldest event out and runs its callback on `listener` (may be null: then it
  // is only dropped); its exception propagates. False if there was none.
  bool run_oldest(CpgListener* listener);
  // Drops every kept event (the handle is closing).
  void clear() noexcept;

 private:
  enum class Kind { Deliver, Confchg, TotemConfchg };
  struct Event {
    Kind kind = Kind::Deliver;
    std::string group;
    uint32_t nodeid = 0;
    uint32_t pid = 0;
    std::string message;
    std::vector<CpgAddress> members, left, joined;
    CpgRingId ring{};
    std::vector<uint32_t> totem_members;
  };
  void keep(Event event);
  void set_readable(bool readable) noexcept;

  std::deque<Event> events_;
  int event_fd_ = -1;
};

}  // namespace corosync
