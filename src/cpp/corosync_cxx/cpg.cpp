#include "corosync_cxx/cpg.hpp"

#include "corosync_cxx/netns.hpp"

#include <unistd.h>

#include <cstdint>
#include <cstring>
#include <mutex>

namespace corosync {

// A group connection joins once and leaves once: corosync (3.1.7 and later, exec/cpg.c
// notify_lib_joinlist) never resets a connection's state after a leave, so it can neither
// join again nor let this process rejoin that group until it is finalized.
enum class GroupState { Joining, Joined, Leaving };

struct CpgConnection : Connection {
  CpgConnection(Cpg::Groups* g, bool control) : groups(g), control(control) {}
  Cpg::Groups* groups;
  // The control connection joins nothing: it answers queries and reports totem changes.
  bool control;
  bool totem_seen = false;
  GroupState state = GroupState::Joining;
  std::string group;
};

struct Cpg::Groups {
  CpgListener* listener = nullptr;
  uint32_t local_nodeid = 0;
  // Where the first connection was opened; later ones (one per group) open there too.
  NetnsPin netns;
  cpg_model_v1_data_t model{};
  // Guards `connections` and their group states; never held while a callback runs, so
  // that mcast and join need not wait for a dispatch in another thread.
  mutable std::mutex mutex;
  // The group connections (not the control connection), in the order joined. Removed
  // here (Cpg::forget) when the handle retires them.
  std::vector<std::shared_ptr<CpgConnection>> connections;
  bool deliver_initial_totem_conf = false;
  bool initial_totem_conf_reported = false;
};

namespace {

cs_error_t cpg_finalize_u64(uint64_t h) { return cpg_finalize(h); }
cs_error_t cpg_fd_get_u64(uint64_t h, int* fd) { return cpg_fd_get(h, fd); }
cs_error_t cpg_dispatch_u64(uint64_t h, cs_dispatch_flags_t f) { return cpg_dispatch(h, f); }

const ServiceOps kCpgOps{"cpg_finalize", "cpg_dispatch", cpg_finalize_u64, cpg_fd_get_u64,
                         cpg_dispatch_u64};

// cpg_mcast_joined copies the caller's iovecs into a fixed array of 64 beside its header.
constexpr size_t kMaxIovecs = 63;
// cpg_membership_get copies as many entries as the daemon sends (up to the reply's
// PROCESSOR_COUNT_MAX = 384) into the caller's array without a bound.
constexpr size_t kMembershipCapacity = 384;

CpgConnection* connection_of(cpg_handle_t handle) {
  void* context = nullptr;
  if (cpg_context_get(handle, &context) != CS_OK) return nullptr;
  return static_cast<CpgConnection*>(context);
}

std::vector<CpgAddress> addresses(const cpg_address* list, size_t count) {
  std::vector<CpgAddress> out;
  out.reserve(count);
  for (size_t i = 0; i < count; ++i)
    out.push_back({list[i].nodeid, list[i].pid, static_cast<cpg_reason_t>(list[i].reason)});
  return out;
}

void deliver_trampoline(cpg_handle_t handle, const cpg_name* group, uint32_t nodeid,
                        uint32_t pid, void* msg, size_t msg_len) {
  CpgConnection* c = connection_of(handle);
  Handle::run_callback(c, [&] {
    if (CpgListener* l = c->groups->listener)
      l->on_deliver(CpgName(*group).view(), nodeid, pid, msg, msg_len);
  });
}

void confchg_trampoline(cpg_handle_t handle, const cpg_name* group, const cpg_address* members,
                        size_t n_members, const cpg_address* left, size_t n_left,
                        const cpg_address* joined, size_t n_joined) {
  CpgConnection* c = connection_of(handle);
  if (!c) return;
  CpgName name(*group);
  {
    // Our own leave has completed: once this callback returns, the connection goes.
    std::lock_guard<std::mutex> lock(c->groups->mutex);
    for (size_t i = 0; i < n_left; ++i) {
      if (c->state == GroupState::Leaving && c->group == name.view() &&
          left[i].nodeid == c->groups->local_nodeid &&
          left[i].pid == static_cast<uint32_t>(getpid()) && left[i].reason == CPG_REASON_LEAVE)
        c->retired = true;
    }
  }
  Handle::run_callback(c, [&] {
    if (CpgListener* l = c->groups->listener)
      l->on_confchg(name.view(), addresses(members, n_members), addresses(left, n_left),
                    addresses(joined, n_joined));
  });
}

void totem_confchg_trampoline(cpg_handle_t handle, cpg_ring_id ring_id, uint32_t n_members,
                              const uint32_t* members) {
  CpgConnection* c = connection_of(handle);
  if (!c) return;
  {
    // corosync sends totem changes to every connection: report them once per Cpg, from the
    // control connection, which joins nothing and so never gets the initial configuration
    // that DELIVER_INITIAL_TOTEM_CONF sends on join: that one comes from the first group
    // connection's first totem change.
    std::lock_guard<std::mutex> lock(c->groups->mutex);
    bool first = !c->totem_seen;
    c->totem_seen = true;
    if (!c->control) {
      Cpg::Groups& g = *c->groups;
      if (!first || !g.deliver_initial_totem_conf || g.initial_totem_conf_reported) return;
      g.initial_totem_conf_reported = true;
    }
  }
  Handle::run_callback(c, [&] {
    if (CpgListener* l = c->groups->listener)
      l->on_totem_confchg({ring_id.nodeid, ring_id.seq},
                          std::vector<uint32_t>(members, members + n_members));
  });
}

}  // namespace

CpgName::CpgName(std::string_view name, const char* function) {
  if (name.size() > CPG_MAX_NAME_LENGTH)
    throw Error(CS_ERR_NAME_TOO_LONG, function,
                std::string(function) + "(): group name is " + std::to_string(name.size()) +
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

std::shared_ptr<CpgConnection> Cpg::open_connection(bool control) {
  Groups* groups = groups_.get();
  auto c = std::make_shared<CpgConnection>(groups, control);
  connect(c, "cpg_model_initialize", [groups](Connection* context, uint64_t* handle) {
    return groups->netns.run_inside([&] {
      return cpg_model_initialize(handle, CPG_MODEL_V1,
                                  reinterpret_cast<cpg_model_data_t*>(&groups->model), context);
    });
  });
  if (!control) {
    std::lock_guard<std::mutex> lock(groups->mutex);
    groups->connections.push_back(c);
  }
  return c;
}

void Cpg::forget(Connection& connection) noexcept {
  std::lock_guard<std::mutex> lock(groups_->mutex);
  auto& list = groups_->connections;
  for (auto it = list.begin(); it != list.end(); ++it) {
    if (it->get() == &connection) {
      list.erase(it);
      return;
    }
  }
}

Cpg::Cpg(CpgListener* listener, CpgOptions options)
    : Handle(kCpgOps, options.retry, /*multiplexed=*/true), groups_(std::make_unique<Groups>()) {
  groups_->listener = listener;
  cpg_model_v1_data_t& model = groups_->model;
  model.model = CPG_MODEL_V1;
  model.cpg_deliver_fn = deliver_trampoline;
  model.cpg_confchg_fn = confchg_trampoline;
  model.cpg_totem_confchg_fn = totem_confchg_trampoline;
  model.flags = options.deliver_initial_totem_conf ? CPG_MODEL_V1_DELIVER_INITIAL_TOTEM_CONF : 0;
  groups_->deliver_initial_totem_conf = options.deliver_initial_totem_conf;
  open_connection(/*control=*/true);
  groups_->local_nodeid = local_get();
}

Cpg::Cpg(Cpg&&) noexcept = default;
Cpg& Cpg::operator=(Cpg&&) noexcept = default;
// Finalize before groups_ goes: the connections' trampolines point into it.
Cpg::~Cpg() { close(); }

void Cpg::set_listener(CpgListener* listener) noexcept { groups_->listener = listener; }

void Cpg::join(const CpgName& group) {
  native("cpg_join");
  std::string name(group.view());
  {
    std::lock_guard<std::mutex> lock(groups_->mutex);
    for (auto& c : groups_->connections) {
      if (c->group != name || c->retired) continue;
      if (c->state != GroupState::Leaving)
        throw Error(CS_ERR_EXIST, "cpg_join", "cpg_join: this handle already joined the group");
      // corosync refuses the rejoin until the leaving connection is finalized, which
      // happens once its leave confchg has been dispatched.
      throw Error(CS_ERR_BUSY, "cpg_join",
                  "cpg_join: this handle is still leaving the group; dispatch its leave "
                  "confchg first");
    }
  }
  std::shared_ptr<CpgConnection> c = open_connection(/*control=*/false);
  {
    std::lock_guard<std::mutex> lock(groups_->mutex);
    c->group = name;
  }
  cs_error_t rc = run(*c, [&](uint64_t h) { return cpg_join(h, group.c_name()); });
  std::lock_guard<std::recursive_mutex> dispatch_lock(shared().mutex);
  if (rc != CS_OK) {
    c->retired = true;
    sweep();
    fail(rc, "cpg_join");
  }
  std::lock_guard<std::mutex> lock(groups_->mutex);
  c->state = GroupState::Joined;
}

namespace {
// The connection joined to `group` (or to the only joined group).
std::shared_ptr<CpgConnection> joined_connection(const Cpg::Groups& groups, const CpgName* group,
                                                 const char* function) {
  std::lock_guard<std::mutex> lock(groups.mutex);
  std::shared_ptr<CpgConnection> found;
  size_t joined = 0;
  for (auto& c : groups.connections) {
    if (c->state == GroupState::Leaving) continue;
    ++joined;
    if (group ? c->group == group->view() : !found) found = c;
  }
  std::string fn(function);
  if (!group && joined > 1)
    throw Error(CS_ERR_INVALID_PARAM, function,
                fn + ": this handle joined several groups; name the group");
  if (!found)
    throw Error(CS_ERR_NOT_EXIST, function,
                fn + (group ? ": this handle has not joined the group"
                            : ": this handle has not joined any group"));
  return found;
}

void set_state(Cpg::Groups& groups, CpgConnection& c, GroupState to) {
  std::lock_guard<std::mutex> lock(groups.mutex);
  c.state = to;
}
}  // namespace

void Cpg::leave(const CpgName& group) {
  native("cpg_leave");
  std::shared_ptr<CpgConnection> c = joined_connection(*groups_, &group, "cpg_leave");
  // Marked before the call: the confchg that completes the leave may be dispatched by
  // another thread before cpg_leave returns here.
  set_state(*groups_, *c, GroupState::Leaving);
  try {
    call(*c, "cpg_leave", [&](uint64_t h) { return cpg_leave(h, group.c_name()); });
  } catch (...) {
    set_state(*groups_, *c, GroupState::Joined);
    throw;
  }
}

void Cpg::mcast_joined(const CpgName* group, cpg_guarantee_t guarantee,
                       const ConstBuffer* buffers, size_t count) {
  native("cpg_mcast_joined");
  // Empty parts are dropped: cpg's fragmenting path (messages above max_atomic_msgsize)
  // would send an empty fragment for them and restart the reassembly on the receivers.
  std::vector<iovec> iov;
  iov.reserve(count);
  size_t total = 0;
  for (size_t i = 0; i < count; ++i) {
    if (buffers[i].size == 0) continue;
    iov.push_back({const_cast<void*>(buffers[i].data), buffers[i].size});
    total += buffers[i].size;
  }
  // corosync carries the message length as a uint32_t.
  if (total > UINT32_MAX)
    throw Error(CS_ERR_TOO_BIG, "cpg_mcast_joined",
                "cpg_mcast_joined: a message of " + std::to_string(total) +
                    " bytes; corosync carries at most 4 GiB - 1");
  // More parts than corosync's fixed iovec array takes: gather them here (a copy in C++).
  std::string gathered;
  if (iov.size() > kMaxIovecs) {
    gathered.reserve(total);
    for (const iovec& part : iov)
      gathered.append(static_cast<const char*>(part.iov_base), part.iov_len);
    iov.assign(1, {gathered.data(), gathered.size()});
  }
  // The daemon drops, with only a log line, messages from a connection that joined nothing.
  std::shared_ptr<CpgConnection> c = joined_connection(*groups_, group, "cpg_mcast_joined");
  call(*c, "cpg_mcast_joined", [&](uint64_t h) {
    return cpg_mcast_joined(h, guarantee, iov.data(), static_cast<unsigned>(iov.size()));
  });
}

std::vector<CpgAddress> Cpg::membership_get(const CpgName& group) {
  native("cpg_membership_get");
  std::vector<cpg_address> members(kMembershipCapacity);
  int count = 0;
  cpg_name name = *group.c_name();
  call("cpg_membership_get",
       [&](uint64_t h) { return cpg_membership_get(h, &name, members.data(), &count); });
  return addresses(members.data(), static_cast<size_t>(count));
}

uint32_t Cpg::local_get() {
  unsigned int nodeid = 0;
  call("cpg_local_get", [&](uint64_t h) { return cpg_local_get(h, &nodeid); });
  return nodeid;
}

cpg_flow_control_state_t Cpg::flow_control_state_get() {
  cpg_flow_control_state_t state = CPG_FLOW_CONTROL_DISABLED;
  call("cpg_flow_control_state_get",
       [&](uint64_t h) { return cpg_flow_control_state_get(h, &state); });
  return state;
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
    return cpg_iteration_initialize(h, type, group ? &name : nullptr, &it);
  });
  // The iteration talks over the control connection: its calls take that connection's lock.
  Connection& control = primary();
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
    run(control, [&](uint64_t) { return cpg_iteration_finalize(it); });
    throw;
  }
  cs_error_t rc = run(control, [&](uint64_t) { return cpg_iteration_finalize(it); });
  if (rc != CS_OK) fail(rc, "cpg_iteration_finalize");
  return out;
}

}  // namespace corosync
