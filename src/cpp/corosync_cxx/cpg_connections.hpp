// CPG's connections. corosync lets one connection join one group, once (corosync 3.1.7 and
// later, exec/cpg.c: a connection's group and pid are never reset after a leave, and a join
// by the same pid to that group answers EXIST while that connection exists). So a Cpg keeps
// a control connection (queries, totem changes) and opens a connection per join, finalized
// once its leave confchg has been dispatched; one epoll fd covers them all.
//
// It also keeps the send window: corosync queues a client's events without limit, so a
// sender that never dispatches would grow the daemon without bound. A member always receives
// its own messages, so the messages sent and not yet delivered back measure what this
// handle has queued in the daemon.
#pragma once

#include "corosync_cxx/cpg_parked.hpp"
#include "corosync_cxx/handle.hpp"
#include "corosync_cxx/netns.hpp"

#include <corosync/cpg.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace corosync {

class CpgListener;

enum class GroupState { Joining, Joined, Leaving };

struct CpgGroups;

struct CpgConnection : Connection {
  CpgConnection(CpgGroups* g, bool control) : groups(g), control(control) {}
  CpgGroups* groups;
  // The control connection joins nothing: it answers queries and reports totem changes.
  const bool control;
  // Guarded by the handle's mutex (the dispatch mutex): set by the confchg that reports
  // this connection's own leave; the dispatch loop drops the connection once that C
  // dispatch call has returned, never earlier.
  bool retired = false;
  // Guarded by the handle's mutex: this connection's own messages delivered back and not yet
  // taken off the send window's counts (CpgGroups::note_returned, settle).
  uint64_t returned_messages = 0;
  uint64_t returned_bytes = 0;
  // The rest is guarded by CpgGroups::mutex.
  bool totem_seen = false;
  GroupState group_state = GroupState::Joining;
  std::string group;
  uint64_t unconfirmed_messages = 0;
  uint64_t unconfirmed_bytes = 0;
  // Set once by CpgGroups::add: the socket's SO_SNDBUF (0: unknown).
  uint64_t send_buffer = 0;
  // Guarded by the call mutex: notifications the socket is known to take (from the last
  // socket_notification_room, less the sends since), so that the socket is asked once per
  // run of about a hundred sends, not per message (take_notification_room).
  uint64_t notification_credit = 0;
};

// For each request libqb's client also sends the daemon a byte on the connection's socket
// (qb_ipcc_sendv), and while the socket's buffer is full it sends again at once, for as long
// as the daemon does not read (stopped, or far behind): a send would wait there without
// end, holding whatever its caller holds. So a message is sent only while the socket has
// room, and is otherwise refused as corosync refuses one it cannot take (CS_ERR_TRY_AGAIN,
// under the caller's retry policy). Each unread byte holds a buffer of its own (768 bytes
// of SO_SNDBUF on Linux 6.1: 278 of them fill the default 212,992); counted here at 2 KiB
// each, for other kernels and a margin.
constexpr uint64_t kNotificationBytes = 2048;
// The connection socket's SO_SNDBUF, 0 if it cannot be asked.
uint64_t socket_send_buffer(int fd) noexcept;
// How many more notifications the socket surely takes now (SIOCOUTQ: what the daemon has
// not read, against `send_buffer`).
uint64_t socket_notification_room(int fd, uint64_t send_buffer) noexcept;
// Takes the room of one notification on `c`'s socket before a cpg_mcast_joined (`c`'s call
// mutex held), asking the socket when the known room is used up; false if there is none.
// Every send of a message on `c` takes it, so that the count stays a lower bound (the
// daemon's reads only add room; a request that waits for its answer leaves none unread).
bool take_notification_room(CpgConnection& c) noexcept;

struct SendWindow {
  uint64_t messages;
  uint64_t bytes;
};

struct CpgGroups {
  // `epoll_fd` is the handle's epoll set (HandleState::epoll_fd), which the Cpg adds each
  // connection's fd to with the connection as its data.
  CpgGroups(SendWindow window, int epoll_fd);
  CpgGroups(const CpgGroups&) = delete;
  CpgGroups& operator=(const CpgGroups&) = delete;

  // Keeps a new connection (unless it is the control connection, in `connections`); the
  // handle's mutex is held.
  void add(const std::shared_ptr<CpgConnection>& c);
  // Drops a connection (finalized by the caller); the handle's mutex is held.
  void remove(CpgConnection& c);
  // The connections the dispatch loop visits, control first; the handle's mutex is held.
  std::vector<std::shared_ptr<CpgConnection>> all() const;
  // A dispatch pass begins (handle's mutex held): see HandleState::pass_begins.
  void begin_pass() noexcept { pass_polled_ = false; }
  // Whether the current pass has asked epoll_wait.
  bool pass_polled() const noexcept { return pass_polled_; }
  // The next connection to dispatch (handle's mutex held), or null when the pass is over.
  // A pass asks epoll_wait once, for the connections that have events, so that idle ones
  // (the control connection, mostly) are not polled one by one; each is then dispatched
  // until it has no more, as libcpg's own ALL does (corosync's dispatch call polls its
  // connection anyway, so the call that finds nothing is the check), and the pass ends
  // when they all had none, without asking epoll again: what came meanwhile on another
  // connection keeps the handle's fd readable for the next pass. A connection with a burst
  // gives way after kStayLimit events in a row: epoll_wait is asked again, and the others
  // it reports go before the burst's next run.
  std::shared_ptr<CpgConnection> next_to_dispatch();
  // What dispatching `c` gave: an event (it stays current) or none (it is left).
  void dispatched(const std::shared_ptr<CpgConnection>& c, bool had_event);
  // Whether no other connection waits in this pass for its turn after `c` (the last one
  // next_to_dispatch gave): `c` may then have its whole queue run in one C call.
  bool alone(const CpgConnection& c) const noexcept;

  // The send window, all under `mutex`.
  bool window_full() const;
  // Counts a message of `bytes` about to be sent on `c`, waiting while the window is full
  // for up to `timeout`; false if it stayed full or `open` turned false. The clock is read
  // only when it must wait. `open` is asked again at least every kOpenCheck: it may turn
  // false with nothing to notify the wait (a lost daemon delivers nothing).
  template <class Open>
  bool reserve(CpgConnection& c, uint64_t bytes, std::chrono::duration<double> timeout,
               Open&& open) {
    std::unique_lock<std::mutex> lock(mutex);
    if (!fits(bytes)) {
      using Clock = std::chrono::steady_clock;
      auto deadline = Clock::now() + std::chrono::duration_cast<Clock::duration>(timeout);
      for (;;) {
        if (!open()) return false;
        if (fits(bytes)) break;
        auto now = Clock::now();
        if (now >= deadline) return false;
        window_waiters.fetch_add(1, std::memory_order_relaxed);
        window_opened.wait_until(lock, std::min<Clock::time_point>(deadline, now + kOpenCheck));
        window_waiters.fetch_sub(1, std::memory_order_relaxed);
      }
    }
    add_unconfirmed(c, 1, bytes);
    return true;
  }
  static constexpr std::chrono::milliseconds kOpenCheck{100};
  // reserve() that never waits: false, with nothing counted, while `bytes` do not fit.
  bool try_reserve(CpgConnection& c, uint64_t bytes);
  // try_reserve() with `mutex` held.
  bool try_reserve_locked(CpgConnection& c, uint64_t bytes);
  // try_reserve() for `count` messages in turn, the i-th of size_of(i) bytes, under one
  // lock: how many were counted, stopping at the first that does not fit or is larger than
  // `largest`.
  template <class SizeOf>
  size_t try_reserve_each(CpgConnection& c, size_t count, uint64_t largest, SizeOf&& size_of) {
    std::lock_guard<std::mutex> lock(mutex);
    // What is outstanding, read once for the run (the unsettled returns are atomics).
    uint64_t messages = outstanding_messages(), bytes = outstanding_bytes();
    size_t n = 0;
    uint64_t taken = 0;
    for (; n < count; ++n) {
      uint64_t size = size_of(n);
      if (size > largest || !room_for(messages + n, bytes + taken, size)) break;
      taken += size;
    }
    add_unconfirmed(c, n, taken);
    return n;
  }
  // A message of `bytes` on `c` is no longer outstanding: its send failed.
  void release(CpgConnection& c, uint64_t bytes);
  // The same for `messages` messages of `bytes` in all (reserved, then not sent).
  void release(CpgConnection& c, uint64_t messages, uint64_t bytes);
  // One of `c`'s own messages, of `bytes`, came back (the handle's mutex is held: a
  // dispatch's trampoline). Counted without `mutex`, which each own message took before
  // (about 100 instructions of a 64 B message's 3,100, callgrind); the window's checks see
  // it at once (fits), and settle() takes it off the counts under `mutex`.
  void note_returned(CpgConnection& c, uint64_t bytes) noexcept {
    ++c.returned_messages;
    c.returned_bytes += bytes;
    // One writer at a time (the handle's mutex): a load and a store, no atomic add.
    returned_messages_.store(returned_messages_.load(std::memory_order_relaxed) + 1,
                             std::memory_order_relaxed);
    returned_bytes_.store(returned_bytes_.load(std::memory_order_relaxed) + bytes,
                          std::memory_order_relaxed);
  }
  // Takes what note_returned counted for `c` off the window's counts and wakes the senders
  // waiting for room (the handle's mutex is held). A dispatch calls it when its C call
  // returns, and between two events while a sender waits (senders_waiting).
  void settle(CpgConnection& c);
  // Whether a sender waits for the window (read without `mutex`: a waiter that this misses
  // is woken when the C dispatch call returns, or finds the room itself within kOpenCheck).
  bool senders_waiting() const noexcept {
    return window_waiters.load(std::memory_order_relaxed) != 0;
  }
  // Wakes senders waiting for the window (close()).
  void wake_senders();

  CpgListener* listener = nullptr;
  uint32_t local_nodeid = 0;
  // Where the first connection was opened; later ones (one per group) open there too.
  NetnsPin netns;
  cpg_model_v1_data_t model{};
  bool deliver_initial_totem_conf = false;
  bool initial_totem_conf_reported = false;
  // The ring of the last totem change reported (totem_confchg_trampoline): each ring is
  // reported once, from whichever connection brings it first. Ring seqs only grow.
  bool totem_reported = false;
  uint64_t last_totem_seq = 0;
  // Whether a group connection is joined (`mutex` held).
  bool any_joined() const;
  const SendWindow window;
  const int epoll_fd;  // the handle's, not owned
  // Events of a C dispatch call behind a callback that threw (handle's mutex).
  ParkedCpgEvents parked;
  // Events the trampolines got so far (handle's mutex): whether a C dispatch call of
  // everything queued found any.
  uint64_t events_seen = 0;
  // Set while a C dispatch call of everything queued runs (handle's mutex): its
  // trampolines let waiting threads in between events.
  bool in_all_call = false;
  // Guards the group connections' states and the send window; never held while a callback
  // runs, so that mcast and join need not wait for a dispatch in another thread.
  mutable std::mutex mutex;
  std::condition_variable window_opened;
  // Senders waiting on window_opened (changed under `mutex`): a release notifies only when
  // there are some, and a dispatch settles returned messages at once only then.
  std::atomic<unsigned> window_waiters{0};
  uint64_t unconfirmed_messages = 0;
  uint64_t unconfirmed_bytes = 0;
  // The group connections, in the order joined (guarded by `mutex`; changed only with the
  // handle's mutex held too).
  std::vector<std::shared_ptr<CpgConnection>> connections;
  std::shared_ptr<CpgConnection> control;
  // Set by a confchg that retired a connection; the dispatch loop's sweep clears it
  // (handle's mutex).
  bool retired_pending = false;

 private:
  // Whether a message of `bytes` may be sent now (`mutex` held): always when nothing is
  // outstanding, so that a message larger than the byte window can go at all.
  bool fits(uint64_t bytes) const;
  // Whether a message of `bytes` fits beside `messages` outstanding of `outstanding` bytes.
  bool room_for(uint64_t messages, uint64_t outstanding, uint64_t bytes) const noexcept {
    return messages == 0 ||
           (messages < window.messages && outstanding + bytes <= window.bytes);
  }
  void add_unconfirmed(CpgConnection& c, uint64_t messages, uint64_t bytes);
  void sub_unconfirmed(CpgConnection& c, uint64_t messages, uint64_t bytes);
  // Forgets what note_returned counted for `c` (both mutexes held).
  void forget_returned(CpgConnection& c);
  // The messages and bytes outstanding (`mutex` held): sent, and neither delivered back nor
  // failed.
  uint64_t outstanding_messages() const;
  uint64_t outstanding_bytes() const;
  // note_returned's counts of all connections, not yet settled: written only with the
  // handle's mutex held, read by senders under `mutex` alone.
  std::atomic<uint64_t> returned_messages_{0};
  std::atomic<uint64_t> returned_bytes_{0};
  // Refills `ready_` from a non-blocking epoll_wait; false when nothing is readable.
  bool poll_ready();

  // A busy connection gives way after this many events in a row, so that it cannot starve
  // the others.
  static constexpr unsigned kStayLimit = 64;
  // The dispatch loop's position (handle's mutex): the connection that had the last event,
  // and how many it had in a row; whether the current pass asked epoll_wait.
  std::shared_ptr<CpgConnection> current_;
  unsigned current_run_ = 0;
  bool pass_polled_ = false;
  std::vector<std::shared_ptr<CpgConnection>> ready_;
  size_t ready_next_ = 0;
};

}  // namespace corosync
