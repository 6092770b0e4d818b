#include "corosync_cxx/quorum.hpp"

namespace corosync {

namespace {

cs_error_t quorum_finalize_u64(uint64_t h) { return quorum_finalize(h); }
cs_error_t quorum_fd_get_u64(uint64_t h, int* fd) { return quorum_fd_get(h, fd); }
cs_error_t quorum_dispatch_u64(uint64_t h, cs_dispatch_flags_t f) {
  return quorum_dispatch(h, f);
}

const ServiceOps kQuorumOps{"quorum_finalize", "quorum_fd_get", "quorum_dispatch",
                            quorum_finalize_u64, quorum_fd_get_u64, quorum_dispatch_u64};

}  // namespace

// The connection, found from the handle's context by the trampolines.
struct QuorumConnection : Connection {
  QuorumListener* listener = nullptr;
};

namespace {

QuorumConnection* connection_of(quorum_handle_t handle) {
  const void* context = nullptr;
  if (quorum_context_get(handle, &context) != CS_OK) return nullptr;
  return static_cast<QuorumConnection*>(const_cast<void*>(context));
}

std::vector<uint32_t> list(const uint32_t* ids, uint32_t count) {
  return count ? std::vector<uint32_t>(ids, ids + count) : std::vector<uint32_t>();
}

void notify_trampoline(quorum_handle_t handle, uint32_t quorate, quorum_ring_id ring_id,
                       uint32_t member_count, const uint32_t* members) {
  QuorumConnection* c = connection_of(handle);
  if (!c) return;
  Handle::run_callback(c, [&] {
    if (QuorumListener* l = c->listener)
      l->on_notify(quorate != 0, {ring_id.nodeid, ring_id.seq}, list(members, member_count));
  });
}

void nodelist_trampoline(quorum_handle_t handle, quorum_ring_id ring_id, uint32_t member_count,
                         const uint32_t* members, uint32_t joined_count, const uint32_t* joined,
                         uint32_t left_count, const uint32_t* left) {
  QuorumConnection* c = connection_of(handle);
  if (!c) return;
  Handle::run_callback(c, [&] {
    if (QuorumListener* l = c->listener)
      l->on_nodelist({ring_id.nodeid, ring_id.seq}, list(members, member_count),
                     list(joined, joined_count), list(left, left_count));
  });
}

}  // namespace

void QuorumListener::on_notify(bool, RingId, const std::vector<uint32_t>&) {}
void QuorumListener::on_nodelist(RingId, const std::vector<uint32_t>&,
                                 const std::vector<uint32_t>&, const std::vector<uint32_t>&) {}

Quorum::Quorum(QuorumListener* listener, RetryPolicy retry)
    : ServiceHandle(kQuorumOps, retry), connection_state_(std::make_shared<QuorumConnection>()) {
  connection_state_->listener = listener;
  uint32_t type = 0;
  open(connection_state_, "quorum_model_initialize", [&](Connection* context, uint64_t* handle) {
    quorum_model_v1_data_t model{};
    model.model = QUORUM_MODEL_V1;
    model.quorum_notify_fn = notify_trampoline;
    model.nodelist_notify_fn = nodelist_trampoline;
    quorum_handle_t h = 0;
    cs_error_t rc =
        quorum_model_initialize(&h, QUORUM_MODEL_V1, reinterpret_cast<quorum_model_data_t*>(&model),
                                &type, context);
    // quorum_model_initialize leaves its handle open when the daemon refuses the model
    // (answering TRY_AGAIN during sync, say): finalize it, still under the handle-table
    // lock, so that a retry does not leak one connection per attempt.
    if (rc != CS_OK && h != 0) quorum_finalize(h);
    *handle = h;
    return rc;
  });
  quorum_type_ = type;
}

Quorum::Quorum(Quorum&&) noexcept = default;
Quorum& Quorum::operator=(Quorum&&) noexcept = default;
Quorum::~Quorum() { close(); }

void Quorum::set_listener(QuorumListener* listener) {
  if (!connection_state_) throw ClosedError("quorum_context_set");
  connection_state_->listener = listener;
}

uint32_t Quorum::quorum_type() const {
  check_open("quorum_model_initialize");
  return quorum_type_;
}

bool Quorum::getquorate() {
  int quorate = 0;
  call("quorum_getquorate", [&](uint64_t h) { return quorum_getquorate(h, &quorate); });
  return quorate != 0;
}

void Quorum::trackstart(unsigned int flags) {
  call("quorum_trackstart", [&](uint64_t h) { return quorum_trackstart(h, flags); });
}

void Quorum::trackstop() {
  call("quorum_trackstop", [&](uint64_t h) { return quorum_trackstop(h); });
}

}  // namespace corosync
