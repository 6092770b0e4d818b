#include "corosync_cxx/votequorum.hpp"

#include <atomic>
#include <cstdint>
#include <cstring>

namespace corosync {

namespace {

cs_error_t votequorum_finalize_u64(uint64_t h) { return votequorum_finalize(h); }
cs_error_t votequorum_fd_get_u64(uint64_t h, int* fd) { return votequorum_fd_get(h, fd); }
cs_error_t votequorum_dispatch_u64(uint64_t h, cs_dispatch_flags_t f) {
  return votequorum_dispatch(h, f);
}

const ServiceOps kVotequorumOps{"votequorum_finalize", "votequorum_fd_get",
                                "votequorum_dispatch",  votequorum_finalize_u64,
                                votequorum_fd_get_u64,  votequorum_dispatch_u64};

}  // namespace

// The connection, found from the handle's context by the trampolines.
struct VotequorumConnection : Connection {
  VotequorumListener* listener = nullptr;
  // The ring id of the last nodelist notification (only the dispatching thread, which
  // holds the handle's mutex, touches it).
  RingId last_ring{0, 0};
  // This node's id, asked on first need: it does not change while the daemon runs.
  std::atomic<uint32_t> local_nodeid{0};
};

namespace {

VotequorumConnection* connection_of(votequorum_handle_t handle) {
  void* context = nullptr;
  if (votequorum_context_get(handle, &context) != CS_OK) return nullptr;
  return static_cast<VotequorumConnection*>(context);
}

void notify_trampoline(votequorum_handle_t handle, uint64_t, uint32_t quorate,
                       uint32_t node_count, votequorum_node_t nodes[]) {
  VotequorumConnection* c = connection_of(handle);
  if (!c) return;
  std::vector<VotequorumNode> list;
  list.reserve(node_count);
  for (uint32_t i = 0; i < node_count; ++i) list.push_back({nodes[i].nodeid, nodes[i].state});
  Handle::run_callback(c, [&] {
    if (VotequorumListener* l = c->listener) l->on_notify(quorate != 0, c->last_ring, list);
  });
}

void nodelist_trampoline(votequorum_handle_t handle, uint64_t, votequorum_ring_id_t ring_id,
                         uint32_t node_count, uint32_t nodes[]) {
  VotequorumConnection* c = connection_of(handle);
  if (!c) return;
  c->last_ring = {ring_id.nodeid, ring_id.seq};
  std::vector<uint32_t> list(nodes, nodes + node_count);
  Handle::run_callback(c, [&] {
    if (VotequorumListener* l = c->listener) l->on_nodelist(c->last_ring, list);
  });
}

void expectedvotes_trampoline(votequorum_handle_t handle, uint64_t, uint32_t expected_votes) {
  VotequorumConnection* c = connection_of(handle);
  if (!c) return;
  Handle::run_callback(c, [&] {
    if (VotequorumListener* l = c->listener) l->on_expectedvotes(expected_votes);
  });
}

// A qdevice name as the C calls take it: checked (libvotequorum strcpy's it into a fixed
// field after checking only strlen), NUL-terminated.
class DeviceName {
 public:
  DeviceName(std::string_view name, const char* function) {
    if (name.empty() || name.size() >= VOTEQUORUM_QDEVICE_MAX_NAME_LEN ||
        name.find('\0') != std::string_view::npos)
      throw Error(CS_ERR_INVALID_PARAM, function,
                  "a qdevice name is 1 to " + std::to_string(VOTEQUORUM_QDEVICE_MAX_NAME_LEN - 1) +
                      " bytes without NUL, not " + std::to_string(name.size()) + " bytes");
    value_.assign(name);
  }
  const char* c_str() const noexcept { return value_.c_str(); }

 private:
  std::string value_;
};

}  // namespace

void VotequorumListener::on_notify(bool, RingId, const std::vector<VotequorumNode>&) {}
void VotequorumListener::on_nodelist(RingId, const std::vector<uint32_t>&) {}
void VotequorumListener::on_expectedvotes(uint32_t) {}

Votequorum::Votequorum(VotequorumListener* listener, RetryPolicy retry)
    : ServiceHandle(kVotequorumOps, retry),
      connection_state_(std::make_shared<VotequorumConnection>()) {
  connection_state_->listener = listener;
  open(connection_state_, "votequorum_initialize", [](Connection* context, uint64_t* handle) {
    votequorum_callbacks_t callbacks{};
    callbacks.votequorum_quorum_notify_fn = notify_trampoline;
    callbacks.votequorum_expectedvotes_notify_fn = expectedvotes_trampoline;
    callbacks.votequorum_nodelist_notify_fn = nodelist_trampoline;
    votequorum_handle_t h = 0;
    cs_error_t rc = votequorum_initialize(&h, &callbacks);
    if (rc == CS_OK) rc = votequorum_context_set(h, context);
    if (rc != CS_OK && h != 0) votequorum_finalize(h);
    *handle = h;
    return rc;
  });
}

Votequorum::Votequorum(Votequorum&&) noexcept = default;
Votequorum& Votequorum::operator=(Votequorum&&) noexcept = default;
Votequorum::~Votequorum() { close(); }

void Votequorum::set_listener(VotequorumListener* listener) {
  if (!connection_state_) throw ClosedError("votequorum_context_set");
  connection_state_->listener = listener;
}

VotequorumInfo Votequorum::getinfo(uint32_t nodeid) {
  votequorum_info info{};
  call("votequorum_getinfo", [&](uint64_t h) { return votequorum_getinfo(h, nodeid, &info); });
  return {info.node_id,         info.node_state,       info.node_votes,
          info.node_expected_votes, info.highest_expected, info.total_votes,
          info.quorum,          info.flags,            info.qdevice_votes,
          std::string(info.qdevice_name, strnlen(info.qdevice_name, sizeof info.qdevice_name))};
}

void Votequorum::setexpected(uint32_t expected_votes) {
  if (expected_votes > UINT32_MAX - 2)
    throw Error(CS_ERR_INVALID_PARAM, "votequorum_setexpected",
                "expected votes of " + std::to_string(expected_votes) +
                    " overflow corosync's quorum arithmetic (at most " +
                    std::to_string(UINT32_MAX - 2) + ")");
  call("votequorum_setexpected",
       [&](uint64_t h) { return votequorum_setexpected(h, expected_votes); });
}

void Votequorum::setvotes(uint32_t nodeid, uint32_t votes) {
  check_open("votequorum_setvotes");
  if (nodeid == 0) {
    uint32_t local = connection_state_->local_nodeid;
    if (local == 0) connection_state_->local_nodeid = local = getinfo(0).nodeid;
    nodeid = local;
  }
  call("votequorum_setvotes", [&](uint64_t h) { return votequorum_setvotes(h, nodeid, votes); });
}

void Votequorum::trackstart(unsigned int flags) {
  call("votequorum_trackstart", [&](uint64_t h) { return votequorum_trackstart(h, 0, flags); });
}

void Votequorum::trackstop() {
  call("votequorum_trackstop", [&](uint64_t h) { return votequorum_trackstop(h); });
}

void Votequorum::qdevice_register(std::string_view name) {
  DeviceName n(name, "votequorum_qdevice_register");
  call("votequorum_qdevice_register",
       [&](uint64_t h) { return votequorum_qdevice_register(h, n.c_str()); });
}

void Votequorum::qdevice_unregister(std::string_view name) {
  DeviceName n(name, "votequorum_qdevice_unregister");
  call("votequorum_qdevice_unregister",
       [&](uint64_t h) { return votequorum_qdevice_unregister(h, n.c_str()); });
}

void Votequorum::qdevice_update(std::string_view old_name, std::string_view new_name) {
  DeviceName o(old_name, "votequorum_qdevice_update");
  DeviceName n(new_name, "votequorum_qdevice_update");
  call("votequorum_qdevice_update",
       [&](uint64_t h) { return votequorum_qdevice_update(h, o.c_str(), n.c_str()); });
}

void Votequorum::qdevice_poll(std::string_view name, bool cast_vote, RingId ring_id) {
  DeviceName n(name, "votequorum_qdevice_poll");
  votequorum_ring_id_t ring{ring_id.nodeid, ring_id.seq};
  call("votequorum_qdevice_poll", [&](uint64_t h) {
    return votequorum_qdevice_poll(h, n.c_str(), cast_vote ? 1 : 0, ring);
  });
}

void Votequorum::qdevice_master_wins(std::string_view name, bool allow) {
  DeviceName n(name, "votequorum_qdevice_master_wins");
  call("votequorum_qdevice_master_wins", [&](uint64_t h) {
    return votequorum_qdevice_master_wins(h, n.c_str(), allow ? 1 : 0);
  });
}

}  // namespace corosync
