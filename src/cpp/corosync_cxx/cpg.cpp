#include "corosync_cxx/cpg.hpp"

#include "corosync_cxx/cpg_connections.hpp"

#include <sys/uio.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <mutex>

namespace corosync {

namespace {

cs_error_t cpg_finalize_u64(uint64_t h) { return cpg_finalize(h); }
cs_error_t cpg_fd_get_u64(uint64_t h, int* fd) { return cpg_fd_get(h, fd); }
cs_error_t cpg_dispatch_u64(uint64_t h, cs_dispatch_flags_t f) { return cpg_dispatch(h, f); }

const ServiceOps kCpgOps{"cpg_finalize", "cpg_fd_get", "cpg_dispatch", cpg_finalize_u64,
                         cpg_fd_get_u64, cpg_dispatch_u64};

// cpg_mcast_joined copies the caller's iovecs into a fixed array of 64 beside its header.
constexpr size_t kMaxIovecs = 63;
// cpg_membership_get copies as many entries as the daemon sends (up to the reply's
// PROCESSOR_COUNT_MAX = 384) into the caller's array without a bound.
constexpr size_t kMembershipCapacity = 384;

// The connection whose C dispatch call runs in this thread: its trampolines find it here
// without cpg_context_get (a locked handle-table lookup per event). Initial-exec: the
// default model for a shared library calls __tls_get_addr on each of the three uses per
// event; 8 bytes of the static TLS that glibc keeps spare for libraries loaded later.
__attribute__((tls_model("initial-exec"))) thread_local CpgConnection* dispatching_connection =
    nullptr;

class DispatchingConnection {
 public:
  explicit DispatchingConnection(CpgConnection* c) : saved_(dispatching_connection) {
    dispatching_connection = c;
  }
  ~DispatchingConnection() { dispatching_connection = saved_; }
  DispatchingConnection(const DispatchingConnection&) = delete;
  DispatchingConnection& operator=(const DispatchingConnection&) = delete;

 private:
  CpgConnection* saved_;  // a callback may dispatch another handle
};

CpgConnection* connection_of(cpg_handle_t handle) {
  CpgConnection* c = dispatching_connection;
  if (c && c->handle == handle) return c;
  void* context = nullptr;
  if (cpg_context_get(handle, &context) != CS_OK) return nullptr;
  return static_cast<CpgConnection*>(context);
}

// A name as the daemon sent it, without copying it into a CpgName.
std::string_view name_view(const cpg_name& name) {
  return {name.value, std::min<size_t>(name.length, CPG_MAX_NAME_LENGTH)};
}

std::vector<CpgAddress> addresses(const cpg_address* list, size_t count) {
  std::vector<CpgAddress> out;
  out.reserve(count);
  for (size_t i = 0; i < count; ++i)
    out.push_back({list[i].nodeid, list[i].pid, static_cast<cpg_reason_t>(list[i].reason)});
  return out;
}

// What every trampoline does after its event, on every path out: in a C dispatch call of
// everything queued (CS_DISPATCH_ALL, which returns only once the queue is empty), lets
// the threads waiting for the handle in between two events (Handle::between_events).
// libcpg holds nothing of its own across a callback but the instance's reference, so a
// close() let in here finalizes the connection safely: libcpg checks for that after the
// callback and ends the call.
class AfterEvent {
 public:
  explicit AfterEvent(CpgConnection* c) : c_(c) {}
  ~AfterEvent() {
    if (c_ && c_->groups->in_all_call) Handle::between_events(*c_->state);
  }
  AfterEvent(const AfterEvent&) = delete;
  AfterEvent& operator=(const AfterEvent&) = delete;

 private:
  CpgConnection* c_;
};

// [[gnu::hot]] marks the functions that run per message or per batch of CPG's send and
// dispatch paths (here, in cpg_connections.cpp and handle.cpp, and the binding's): the
// compiler puts them in .text.hot, which the linker lays out together, so that a message
// touches a few pages of this library's code rather than lines spread over all of it. A
// client sharing its CPUs with the daemons finds little of its code still cached after each
// switch (docs/performance.md has what this measured).
[[gnu::hot]]
void deliver_trampoline(cpg_handle_t handle, const cpg_name* group, uint32_t nodeid,
                        uint32_t pid, void* msg, size_t msg_len) {
  CpgConnection* c = connection_of(handle);
  if (!c) return;
  CpgGroups& g = *c->groups;
  AfterEvent after(c);
  ++g.events_seen;
  // One of this process's own messages is back: it no longer counts against the window.
  if (nodeid == g.local_nodeid && pid == static_cast<uint32_t>(c->state->owner))
    g.note_returned(*c, msg_len);
  // A sender waiting for room is woken now, not when this C call returns (an ALL call may
  // run long), whoever sent this event.
  if (c->returned_messages && g.senders_waiting()) g.settle(*c);
  if (Handle::parking(c)) {
    g.parked.deliver(name_view(*group), nodeid, pid, msg, msg_len);
    return;
  }
  Handle::run_callback(c, [&] {
    if (CpgListener* l = g.listener)
      l->on_deliver(name_view(*group), nodeid, pid, msg, msg_len);
  });
}

void confchg_trampoline(cpg_handle_t handle, const cpg_name* group, const cpg_address* members,
                        size_t n_members, const cpg_address* left, size_t n_left,
                        const cpg_address* joined, size_t n_joined) {
  CpgConnection* c = connection_of(handle);
  if (!c) return;
  CpgGroups& g = *c->groups;
  AfterEvent after(c);
  ++g.events_seen;
  CpgName name(*group);
  {
    // This connection's own leave has completed: the dispatch loop drops it once this
    // C dispatch call has returned (`retired` is guarded by the handle's mutex, held here).
    std::lock_guard<std::mutex> lock(g.mutex);
    for (size_t i = 0; i < n_left; ++i) {
      if (c->group_state == GroupState::Leaving && c->group == name.view() &&
          left[i].nodeid == g.local_nodeid &&
          left[i].pid == static_cast<uint32_t>(c->state->owner) &&
          left[i].reason == CPG_REASON_LEAVE) {
        c->retired = true;
        g.retired_pending = true;
      }
    }
  }
  if (Handle::parking(c)) {
    g.parked.confchg(name.view(), addresses(members, n_members), addresses(left, n_left),
                     addresses(joined, n_joined));
    return;
  }
  Handle::run_callback(c, [&] {
    if (CpgListener* l = g.listener)
      l->on_confchg(name.view(), addresses(members, n_members), addresses(left, n_left),
                    addresses(joined, n_joined));
  });
}

void totem_confchg_trampoline(cpg_handle_t handle, cpg_ring_id ring_id, uint32_t n_members,
                              const uint32_t* members) {
  CpgConnection* c = connection_of(handle);
  if (!c) return;
  CpgGroups& g = *c->groups;
  AfterEvent after(c);
  ++g.events_seen;
  {
    // corosync sends each totem change to every connection, in order with that
    // connection's events: the old ring's messages, then the change, then the new ring's
    // confchgs and messages. It is reported once per Cpg (ring seqs only grow), from a
    // joined group's connection while there is one, so that it keeps its place among that
    // group's events (which a program checking virtual synchrony needs), and from the
    // control connection otherwise. With DELIVER_INITIAL_TOTEM_CONF, a group connection's
    // first one is the ring at its join, reported for the handle's first join only.
    std::lock_guard<std::mutex> lock(g.mutex);
    bool first = !c->totem_seen;
    c->totem_seen = true;
    bool initial = !c->control && first && g.deliver_initial_totem_conf;
    if (initial) {
      if (g.initial_totem_conf_reported) return;
      g.initial_totem_conf_reported = true;
    } else {
      if (c->control && g.any_joined()) return;
      if (g.totem_reported && ring_id.seq <= g.last_totem_seq) return;
    }
    g.totem_reported = true;
    g.last_totem_seq = std::max(g.last_totem_seq, ring_id.seq);
  }
  if (Handle::parking(c)) {
    g.parked.totem_confchg({ring_id.nodeid, ring_id.seq},
                           std::vector<uint32_t>(members, members + n_members));
    return;
  }
  Handle::run_callback(c, [&] {
    if (CpgListener* l = g.listener)
      l->on_totem_confchg({ring_id.nodeid, ring_id.seq},
                          std::vector<uint32_t>(members, members + n_members));
  });
}

void check_window(uint64_t value, const char* name) {
  if (value < 1)
    throw Error(CS_ERR_INVALID_PARAM, "cpg_model_initialize",
                std::string(name) + " must be at least 1");
}

}  // namespace

CpgName::CpgName(std::string_view name, const char* function) {
  if (name.size() > CPG_MAX_NAME_LENGTH)
    throw Error(CS_ERR_NAME_TOO_LONG, function,
                "group name is " + std::to_string(name.size()) +
                    " bytes; corosync allows at most " + std::to_string(CPG_MAX_NAME_LENGTH));
  raw_.length = static_cast<uint32_t>(name.size());
  std::memcpy(raw_.value, name.data(), name.size());
}

CpgName::CpgName(const cpg_name& name) : raw_(name) {
  if (raw_.length > CPG_MAX_NAME_LENGTH) raw_.length = CPG_MAX_NAME_LENGTH;
}

void CpgListener::on_deliver(std::string_view, uint32_t, uint32_t, const void*, size_t) {}
void CpgListener::on_confchg(std::string_view, const std::vector<CpgAddress>&,
                             const std::vector<CpgAddress>&, const std::vector<CpgAddress>&) {}
void CpgListener::on_totem_confchg(CpgRingId, const std::vector<uint32_t>&) {}

std::shared_ptr<CpgConnection> Cpg::open_connection(bool control, const char* function,
                                                    std::string group) {
  CpgGroups* groups = groups_.get();
  auto c = std::make_shared<CpgConnection>(groups, control);
  c->group = std::move(group);  // before others can see it: a concurrent join of it is EXIST
  auto initialize = [groups](Connection* context, uint64_t* handle) {
    return groups->netns.run_inside([&] {
      return cpg_model_initialize(handle, CPG_MODEL_V1,
                                  reinterpret_cast<cpg_model_data_t*>(&groups->model), context);
    });
  };
  if (control)
    open(c, function, initialize, [&] { groups->add(c); });
  else
    connect(c, function, initialize, [&] {
      watch(*c, c.get());  // the control connection's is watched by open()
      groups->add(c);
    });
  return c;
}

Cpg::Cpg(CpgListener* listener, CpgOptions options)
    : ServiceHandle(kCpgOps, options.retry), options_(options) {
  check_window(options.send_window_messages, "send_window_messages");
  check_window(options.send_window_bytes, "send_window_bytes");
  groups_ = std::make_unique<CpgGroups>(
      SendWindow{options.send_window_messages, options.send_window_bytes}, state().epoll_fd);
  groups_->listener = listener;
  cpg_model_v1_data_t& model = groups_->model;
  model.model = CPG_MODEL_V1;
  model.cpg_deliver_fn = deliver_trampoline;
  model.cpg_confchg_fn = confchg_trampoline;
  model.cpg_totem_confchg_fn = totem_confchg_trampoline;
  model.flags = options.deliver_initial_totem_conf ? CPG_MODEL_V1_DELIVER_INITIAL_TOTEM_CONF : 0;
  groups_->deliver_initial_totem_conf = options.deliver_initial_totem_conf;
  open_connection(/*control=*/true, "cpg_model_initialize");
  unsigned int nodeid = 0;
  call("cpg_local_get", [&](uint64_t h) { return cpg_local_get(h, &nodeid); });
  groups_->local_nodeid = nodeid;
}

Cpg::Cpg(Cpg&&) noexcept = default;
Cpg& Cpg::operator=(Cpg&& other) noexcept {
  if (this != &other) {
    close();  // while groups_ is still the one its connections point into
    ServiceHandle::operator=(std::move(other));
    options_ = other.options_;
    groups_ = std::move(other.groups_);
  }
  return *this;
}
// Finalize before groups_ goes: the connections' trampolines point into it.
Cpg::~Cpg() { close(); }

void Cpg::set_listener(CpgListener* listener) {
  if (!groups_) throw ClosedError("cpg_context_set");
  groups_->listener = listener;
}

[[gnu::hot]]
bool Cpg::dispatch_event() {
  const ServiceOps& ops = kCpgOps;
  CpgGroups& g = *groups_;
  sweep();  // one a try_dispatch left (no_waiting)
  if (state().pass_begins) g.begin_pass();
  // What a C call handed over behind a callback that threw goes before anything libcpg
  // still holds: one per step, as a callback that throws again keeps the rest.
  if (!g.parked.empty()) {
    Handle::run_callback(state(), [&] { g.parked.run_oldest(g.listener); });
    return true;
  }
  // The handle's mutex is held: the connection list changes only in this thread (callbacks
  // that join or leave), so it is read without the groups' mutex.
  while (std::shared_ptr<CpgConnection> c = g.next_to_dispatch()) {
    // A dispatch of everything queued hands a connection that no other waits behind its
    // whole queue in one C call (ALL): the events behind a callback that throws are kept
    // (ParkedCpgEvents). Otherwise one event per C call, so that a busy connection gives
    // way to the others after its share.
    bool all = state().dispatch_all && g.alone(*c);
    uint64_t seen = g.events_seen;
    cs_error_t rc;
    {
      DispatchingConnection scope(c.get());
      g.in_all_call = all;
      rc = ops.dispatch(c->handle, all ? CS_DISPATCH_ALL : CS_DISPATCH_ONE_NONBLOCKING);
      g.in_all_call = false;
      g.settle(*c);
    }
    // Only now, with the C call returned, may connections whose leave it delivered go.
    sweep();
    // A connection finalized by its own callback (close(), or a rejoin) ran that callback.
    bool had_event = consumed_event(*c, rc);
    if (all && rc == CS_OK) {
      // ALL ran until the connection had nothing more: no second call to find that out.
      g.dispatched(c, false);
      if (g.events_seen != seen) return true;
      continue;
    }
    g.dispatched(c, had_event);
    if (had_event) return true;
    if (closed()) return false;
  }
  return false;
}

bool Cpg::settle_due() const { return groups_ && groups_->retired_pending; }

void Cpg::finalize_connections() noexcept {
  if (!groups_) return;
  groups_->parked.clear();  // the handle's mutex is held (close())
  for (auto& c : groups_->all())
    if (c) c->finalize(kCpgOps);
  groups_->wake_senders();
}

void Cpg::drop(CpgConnection& c) noexcept {
  unwatch(c);
  c.finalize(kCpgOps);
  groups_->remove(c);
}

void Cpg::sweep() noexcept {
  // Finalizing a left connection waits for the daemon: not while no_waiting.
  if (!groups_->retired_pending || state().no_waiting) return;
  groups_->retired_pending = false;
  auto& list = groups_->connections;
  for (size_t i = 0; i < list.size();) {
    if (list[i]->retired)
      drop(*list[i]);
    else
      ++i;
  }
}

void Cpg::join(const CpgName& group) {
  check_open("cpg_join");
  std::string name(group.view());
  {
    HandleLock dispatch_lock(state());
    std::shared_ptr<CpgConnection> left_behind;
    {
      std::lock_guard<std::mutex> lock(groups_->mutex);
      for (auto& c : groups_->connections) {
        if (c->group != name) continue;
        if (c->retired) {
          left_behind = c;
          continue;
        }
        if (c->group_state != GroupState::Leaving)
          throw Error(CS_ERR_EXIST, "cpg_join", "this handle already joined the group");
        // corosync refuses the rejoin while the leaving connection exists, and it is
        // finalized once its leave confchg has been dispatched.
        throw Error(CS_ERR_BUSY, "cpg_join",
                    "this handle is still leaving the group; dispatch its leave confchg first");
      }
    }
    // A retired connection is seen only while the C dispatch call that ran the confchg of
    // this handle's own leave has not returned: this join comes from that callback, or
    // from another thread that call let in between two events. Finalizing the connection
    // now makes corosync forget it (cpg_finalize waits for the daemon's answer), so the
    // join below is accepted; libcpg allows a finalize during a connection's dispatch
    // between callbacks (it ends the call), and the dispatch loop drops the object once
    // that C call has returned.
    if (left_behind) {
      unwatch(*left_behind);
      left_behind->finalize(kCpgOps);
    }
  }
  std::shared_ptr<CpgConnection> c = open_connection(/*control=*/false, "cpg_join", name);
  cs_error_t rc = run(*c, [&](uint64_t h) { return cpg_join(h, group.c_name()); });
  if (rc != CS_OK) {
    // Only this new connection goes: no dispatch of it can be running (the mutex).
    HandleLock dispatch_lock(state());
    drop(*c);
    fail(rc, "cpg_join");
  }
  std::lock_guard<std::mutex> lock(groups_->mutex);
  c->group_state = GroupState::Joined;
}

std::vector<std::string> Cpg::joined_groups() const {
  check_open("cpg_iteration_initialize");
  std::lock_guard<std::mutex> lock(groups_->mutex);
  std::vector<std::string> out;
  for (auto& c : groups_->connections)
    if (c->group_state == GroupState::Joined) out.push_back(c->group);
  return out;
}

std::shared_ptr<CpgConnection> Cpg::joined_connection(const CpgName* group,
                                                      const char* function) const {
  std::lock_guard<std::mutex> lock(groups_->mutex);
  return joined_locked(group, function);
}

std::shared_ptr<CpgConnection> Cpg::joined_locked(const CpgName* group,
                                                  const char* function) const {
  std::shared_ptr<CpgConnection> found;
  size_t joined = 0;
  for (auto& c : groups_->connections) {
    if (c->group_state != GroupState::Joined) continue;
    ++joined;
    if (group ? c->group == group->view() : !found) found = c;
  }
  if (!group && joined > 1)
    throw Error(CS_ERR_INVALID_PARAM, function,
                "this handle joined several groups; name the group");
  if (!found)
    throw Error(CS_ERR_NOT_EXIST, function,
                group ? "this handle has not joined the group"
                      : "this handle has not joined any group");
  return found;
}

void Cpg::leave(const CpgName& group) {
  check_open("cpg_leave");
  std::shared_ptr<CpgConnection> c = joined_connection(&group, "cpg_leave");
  auto set_state = [&](GroupState to) {
    std::lock_guard<std::mutex> lock(groups_->mutex);
    c->group_state = to;
  };
  // Marked before the call: the confchg that completes the leave may be dispatched by
  // another thread before cpg_leave returns here.
  set_state(GroupState::Leaving);
  try {
    call(*c, "cpg_leave", [&](uint64_t h) { return cpg_leave(h, group.c_name()); });
  } catch (...) {
    set_state(GroupState::Joined);
    throw;
  }
}

namespace {

// A message's parts as cpg_mcast_joined takes them, on the stack for the common case.
// Empty parts are dropped: cpg's fragmenting path (messages above max_atomic_msgsize)
// would send an empty fragment for them and restart the reassembly on the receivers.
class MessageParts {
 public:
  MessageParts(const ConstBuffer* buffers, size_t count) {
    size_t parts = 0;
    for (size_t i = 0; i < count; ++i) {
      if (buffers[i].size == 0) continue;
      total_ += buffers[i].size;
      if (++parts <= kMaxIovecs)
        iov_[parts - 1] = {const_cast<void*>(buffers[i].data), buffers[i].size};
    }
    // corosync carries the message length as a uint32_t.
    if (total_ > UINT32_MAX)
      throw Error(CS_ERR_TOO_BIG, "cpg_mcast_joined",
                  "a message of " + std::to_string(total_) +
                      " bytes; corosync carries at most 4 GiB - 1");
    count_ = parts;
    if (parts <= kMaxIovecs) return;
    // More parts than corosync's fixed iovec array takes: gather them here (a copy in C++).
    gathered_.reserve(total_);
    for (size_t i = 0; i < count; ++i)
      gathered_.append(static_cast<const char*>(buffers[i].data), buffers[i].size);
    iov_[0] = {gathered_.data(), gathered_.size()};
    count_ = 1;
  }
  MessageParts(const MessageParts&) = delete;
  MessageParts& operator=(const MessageParts&) = delete;

  const iovec* iov() const noexcept { return iov_; }
  unsigned count() const noexcept { return static_cast<unsigned>(count_); }
  uint64_t total() const noexcept { return total_; }

 private:
  iovec iov_[kMaxIovecs];
  size_t count_ = 0;
  uint64_t total_ = 0;
  std::string gathered_;
};

// cpg_mcast_joined on `c` (its call mutex held), or CS_ERR_TRY_AGAIN without sending when
// the socket has no room for libqb's notification (take_notification_room). Every send of a
// message goes through here, so that the socket's counted room stays a lower bound.
[[gnu::hot]]
cs_error_t mcast_with_room(CpgConnection& c, cpg_guarantee_t guarantee, const iovec* iov,
                           unsigned count) {
  if (!take_notification_room(c)) return CS_ERR_TRY_AGAIN;
  return cpg_mcast_joined(c.handle, guarantee, iov, count);
}

}  // namespace

void Cpg::send(CpgConnection& c, cpg_guarantee_t guarantee, const iovec* iov, unsigned count,
               uint64_t total, const RetryPolicy& retry) {
  if (!groups_->reserve(c, total, retry.timeout(),
                        [&] { return !closed() && !c.peer_gone(); })) {
    check_open("cpg_mcast_joined");
    // No message of this handle will come back to open the window.
    if (c.peer_gone()) throw Error(CS_ERR_LIBRARY, "cpg_mcast_joined");
    throw Error(CS_ERR_TRY_AGAIN, "cpg_mcast_joined",
                "the send window is full: this handle's messages are not being delivered "
                "back to it; dispatch to let them arrive");
  }
  // A confchg of the group during a fragmented send (a message above max_atomic_msgsize)
  // makes corosync refuse the fragments after it with CS_ERR_INTERRUPT (exec/cpg.c,
  // transition_counter): nothing was delivered (receivers drop the incomplete copy when
  // the next first fragment comes), so the message is sent again whole, under the same
  // retry policy as TRY_AGAIN; InterruptError only when that policy gives up.
  bool interrupted = false;
  cs_error_t rc = run(c, retry, [&](uint64_t) {
    cs_error_t sent = mcast_with_room(c, guarantee, iov, count);
    interrupted = sent == CS_ERR_INTERRUPT;
    return interrupted ? CS_ERR_TRY_AGAIN : sent;
  });
  if (rc == CS_ERR_TRY_AGAIN && interrupted) rc = CS_ERR_INTERRUPT;
  if (rc != CS_OK) {
    groups_->release(c, total);
    fail(rc, "cpg_mcast_joined");
  }
}

void Cpg::mcast_joined(const CpgName* group, cpg_guarantee_t guarantee,
                       const ConstBuffer* buffers, size_t count, const RetryPolicy* retry) {
  check_open("cpg_mcast_joined");
  MessageParts parts(buffers, count);
  // The daemon drops, with only a log line, messages from a connection that joined nothing.
  std::shared_ptr<CpgConnection> c = joined_connection(group, "cpg_mcast_joined");
  send(*c, guarantee, parts.iov(), parts.count(), parts.total(),
       retry ? *retry : state().retry);
}

bool Cpg::try_mcast_joined(const CpgName* group, cpg_guarantee_t guarantee,
                           const ConstBuffer* buffers, size_t count) {
  check_open("cpg_mcast_joined");
  MessageParts parts(buffers, count);
  if (parts.total() > kNeverWaitLargest) return false;
  std::shared_ptr<CpgConnection> c;
  {
    // The groups' mutex is never held across a wait or a callback, so taking it cannot wait
    // long; the call mutex is held across calls that wait for the daemon (a leave). One
    // hold finds the connection and takes its room in the send window.
    std::lock_guard<std::mutex> lock(groups_->mutex);
    c = joined_locked(group, "cpg_mcast_joined");
    if (!groups_->try_reserve_locked(*c, parts.total())) return false;
  }
  cs_error_t rc = try_run(*c, [&](uint64_t) {
    return mcast_with_room(*c, guarantee, parts.iov(), parts.count());
  });
  if (rc == CS_OK) return true;
  groups_->release(*c, parts.total());
  if (rc == CS_ERR_TRY_AGAIN) return false;  // mcast_joined tries again
  fail(rc, "cpg_mcast_joined");
}

[[gnu::hot]]
void Cpg::mcast_joined_each(const CpgName* group, cpg_guarantee_t guarantee,
                            const ConstBuffer* messages, size_t count, size_t& sent,
                            const RetryPolicy* retry) {
  check_open("cpg_mcast_joined");
  std::shared_ptr<CpgConnection> c = joined_connection(group, "cpg_mcast_joined");
  const RetryPolicy& policy = retry ? *retry : state().retry;
  for (size_t i = 0; i < count;) {
    // What goes without waiting goes in one run; the message that would wait takes send()'s
    // path, under the retry policy, and the run starts again behind it.
    size_t went = send_at_once(*c, guarantee, messages + i, count - i);
    sent += went;
    i += went;
    if (i == count) break;
    MessageParts parts(&messages[i], 1);
    send(*c, guarantee, parts.iov(), parts.count(), parts.total(), policy);
    ++sent;
    ++i;
  }
}

[[gnu::hot]]
size_t Cpg::send_at_once(CpgConnection& c, cpg_guarantee_t guarantee,
                         const ConstBuffer* messages, size_t count) {
  size_t reserved = groups_->try_reserve_each(c, count, kNeverWaitLargest,
                                              [&](size_t i) { return messages[i].size; });
  size_t went = 0;
  if (reserved) {
    // Each call only queues the message in libqb's ring (at most kNeverWaitLargest), so the
    // mutex is held for microseconds per message.
    std::unique_lock<std::mutex> lock(c.call_mutex, std::try_to_lock);
    if (lock.owns_lock() && !c.finalized) {
      for (; went < reserved; ++went) {
        // One buffer of at most kNeverWaitLargest: its iovec needs none of MessageParts'
        // work (about 20 instructions a message); an empty message is sent without parts,
        // as MessageParts sends it.
        const ConstBuffer& m = messages[went];
        iovec part{const_cast<void*>(m.data), m.size};
        if (mcast_with_room(c, guarantee, &part, m.size ? 1 : 0) != CS_OK) break;
      }
    }
  }
  // The rest's room in the window, until send() takes it again for the next.
  if (went < reserved) {
    uint64_t bytes = 0;
    for (size_t i = went; i < reserved; ++i) bytes += messages[i].size;
    groups_->release(c, reserved - went, bytes);
  }
  return went;
}

std::vector<CpgAddress> Cpg::membership_get(const CpgName& group) {
  check_open("cpg_membership_get");
  std::vector<cpg_address> members(kMembershipCapacity);
  int count = 0;
  cpg_name name = *group.c_name();
  call("cpg_membership_get",
       [&](uint64_t h) { return cpg_membership_get(h, &name, members.data(), &count); });
  return addresses(members.data(), static_cast<size_t>(count));
}

uint32_t Cpg::local_get() const {
  check_open("cpg_local_get");
  return groups_->local_nodeid;
}

cpg_flow_control_state_t Cpg::flow_control_state_get() {
  cpg_flow_control_state_t state = CPG_FLOW_CONTROL_DISABLED;
  call("cpg_flow_control_state_get",
       [&](uint64_t h) { return cpg_flow_control_state_get(h, &state); });
  return groups_->window_full() ? CPG_FLOW_CONTROL_ENABLED : state;
}

uint32_t Cpg::max_atomic_msgsize_get() {
  uint32_t size = 0;
  call("cpg_max_atomic_msgsize_get",
       [&](uint64_t h) { return cpg_max_atomic_msgsize_get(h, &size); });
  return size;
}

std::vector<CpgGroupMember> Cpg::iterate(cpg_iteration_type_t type, const CpgName* group) {
  cpg_iteration_handle_t it = 0;
  cpg_name name{};
  if (group) name = *group->c_name();
  call("cpg_iteration_initialize", [&](uint64_t h) {
    std::lock_guard<std::mutex> table(handle_table_lock());
    return cpg_iteration_initialize(h, type, group ? &name : nullptr, &it);
  });
  // The iteration talks over the control connection: its calls take that connection's lock.
  Connection& control = connection();
  auto finalize_iteration = [&](uint64_t) {
    std::lock_guard<std::mutex> table(handle_table_lock());
    return cpg_iteration_finalize(it);
  };
  std::vector<CpgGroupMember> out;
  try {
    for (;;) {
      cpg_iteration_description_t d{};
      cs_error_t rc = run(control, [&](uint64_t) { return cpg_iteration_next(it, &d); });
      if (rc == CS_ERR_NO_SECTIONS) break;
      if (rc != CS_OK) fail(rc, "cpg_iteration_next");
      out.push_back({std::string(CpgName(d.group).view()), d.nodeid, d.pid});
    }
  } catch (...) {
    run(control, finalize_iteration);
    throw;
  }
  cs_error_t rc = run(control, finalize_iteration);
  if (rc != CS_OK) fail(rc, "cpg_iteration_finalize");
  return out;
}

}  // namespace corosync
