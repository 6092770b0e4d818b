#include "corosync_cxx/cfg.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <cstdlib>
#include <cstring>

namespace corosync {

namespace {

cs_error_t cfg_finalize_u64(uint64_t h) { return corosync_cfg_finalize(h); }
cs_error_t cfg_fd_get_u64(uint64_t h, int* fd) {
  int32_t fd32 = -1;
  cs_error_t rc = corosync_cfg_fd_get(h, &fd32);
  *fd = fd32;
  return rc;
}
cs_error_t cfg_dispatch_u64(uint64_t h, cs_dispatch_flags_t f) {
  return corosync_cfg_dispatch(h, f);
}

const ServiceOps kCfgOps{"corosync_cfg_finalize", "corosync_cfg_fd_get",
                         "corosync_cfg_dispatch", cfg_finalize_u64,
                         cfg_fd_get_u64,          cfg_dispatch_u64};

}  // namespace

struct CfgConnection : Connection {
  CfgListener* listener = nullptr;
  // Whether trackstart is in effect, and whether a shutdown reply was ever sent (both under
  // the call mutex): see finalize_connections.
  bool tracking = false;
  bool replied = false;
};

namespace {

// libcfg has no context pointer: its callback gets only the handle. The connection being
// dispatched in this thread is the one the callback belongs to.
thread_local CfgConnection* dispatching = nullptr;

void shutdown_trampoline(corosync_cfg_handle_t handle, corosync_cfg_shutdown_flags_t flags) {
  CfgConnection* c = dispatching;
  if (!c || c->handle != handle) return;
  Handle::run_callback(c, [&] {
    if (CfgListener* l = c->listener) l->on_shutdown(static_cast<unsigned>(flags));
  });
}

// A fixed-size C text field (NUL-terminated when shorter) as a string.
std::string text_field(const char* field, size_t size) {
  return std::string(field, strnlen(field, size));
}

}  // namespace

void CfgListener::on_shutdown(unsigned) {}

Cfg::Cfg(CfgListener* listener, RetryPolicy retry)
    : ServiceHandle(kCfgOps, retry), connection_state_(std::make_shared<CfgConnection>()) {
  connection_state_->listener = listener;
  open(connection_state_, "corosync_cfg_initialize", [](Connection*, uint64_t* handle) {
    corosync_cfg_callbacks_t callbacks{};
    callbacks.corosync_cfg_shutdown_callback = shutdown_trampoline;
    corosync_cfg_handle_t h = 0;
    cs_error_t rc = corosync_cfg_initialize(&h, &callbacks);
    *handle = h;
    return rc;
  });
}

Cfg::Cfg(Cfg&&) noexcept = default;
Cfg& Cfg::operator=(Cfg&&) noexcept = default;
Cfg::~Cfg() { close(); }

void Cfg::set_listener(CfgListener* listener) {
  if (!connection_state_) throw ClosedError("corosync_cfg_initialize");
  connection_state_->listener = listener;
}

bool Cfg::dispatch_event() {
  CfgConnection* previous = dispatching;
  dispatching = connection_state_.get();
  struct Restore {
    CfgConnection* previous;
    ~Restore() { dispatching = previous; }
  } restore{previous};
  return ServiceHandle::dispatch_event();
}

uint32_t Cfg::local_nodeid() {
  unsigned int nodeid = 0;
  call("corosync_cfg_local_get", [&](uint64_t h) { return corosync_cfg_local_get(h, &nodeid); });
  return nodeid;
}

CfgNodeStatus Cfg::node_status(uint32_t nodeid) {
  check_open("corosync_cfg_node_status_get");
  corosync_cfg_node_status_v1 status{};
  cs_error_t rc = run(connection(), [&](uint64_t h) {
    return corosync_cfg_node_status_get(h, nodeid, CFG_NODE_STATUS_V1, &status);
  });
  // The daemon answers FAILED_OPERATION when knet knows no such node, NOT_EXIST without knet.
  if (rc == CS_ERR_FAILED_OPERATION || rc == CS_ERR_NOT_EXIST)
    throw Error(rc, "corosync_cfg_node_status_get",
                "corosync has no status of node " + std::to_string(nodeid));
  if (rc != CS_OK) fail(rc, "corosync_cfg_node_status_get");
  CfgNodeStatus result{status.nodeid,    status.reachable != 0, status.remote != 0,
                       status.external != 0, status.onwire_min,  status.onwire_max,
                       status.onwire_ver,  {}};
  for (unsigned i = 0; i < CFG_MAX_LINKS; ++i) {
    const corosync_knet_link_status_v1& link = status.link_status[i];
    std::string src = text_field(link.src_ipaddr, sizeof(link.src_ipaddr));
    // corosync zeroes the links that are not configured.
    if (!link.enabled && src.empty()) continue;
    result.links.push_back({i, link.enabled != 0, link.connected != 0, link.dynconnected != 0,
                            link.mtu, std::move(src),
                            text_field(link.dst_ipaddr, sizeof(link.dst_ipaddr))});
  }
  return result;
}

std::vector<CfgNodeAddress> Cfg::node_addrs(uint32_t nodeid) {
  check_open("corosync_cfg_get_node_addrs");
  // INTERFACE_MAX (8 links) is the most the daemon answers.
  corosync_cfg_node_address_t addrs[CFG_MAX_LINKS]{};
  int count = 0;
  cs_error_t rc = run(connection(), [&](uint64_t h) {
    return corosync_cfg_get_node_addrs(h, nodeid, CFG_MAX_LINKS, &count, addrs);
  });
  if (rc == CS_ERR_NOT_EXIST)
    throw Error(rc, "corosync_cfg_get_node_addrs",
                "corosync knows no node " + std::to_string(nodeid));
  if (rc != CS_OK) fail(rc, "corosync_cfg_get_node_addrs");
  std::vector<CfgNodeAddress> result;
  for (int i = 0; i < count && i < CFG_MAX_LINKS; ++i) {
    sockaddr_storage storage{};
    std::memcpy(&storage, addrs[i].address, sizeof(addrs[i].address));
    char text[INET6_ADDRSTRLEN] = "";
    if (storage.ss_family == AF_INET) {
      inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in*>(&storage)->sin_addr, text, sizeof(text));
    } else if (storage.ss_family == AF_INET6) {
      inet_ntop(AF_INET6, &reinterpret_cast<sockaddr_in6*>(&storage)->sin6_addr, text,
                sizeof(text));
    } else {
      continue;  // an unset (all-zero) address
    }
    result.push_back({storage.ss_family, text});
  }
  return result;
}

std::vector<CfgRingStatus> Cfg::ring_status() {
  check_open("corosync_cfg_ring_status_get");
  char** names = nullptr;
  char** statuses = nullptr;
  unsigned int count = 0;
  cs_error_t rc = run(connection(), [&](uint64_t h) {
    return corosync_cfg_ring_status_get(h, &names, &statuses, &count);
  });
  if (rc != CS_OK) fail(rc, "corosync_cfg_ring_status_get");
  std::vector<CfgRingStatus> result;
  for (unsigned int i = 0; i < count; ++i) {
    result.push_back({names[i] ? names[i] : "", statuses[i] ? statuses[i] : ""});
    std::free(names[i]);
    std::free(statuses[i]);
  }
  std::free(names);
  std::free(statuses);
  return result;
}

void Cfg::reload_config() {
  call("corosync_cfg_reload_config", [](uint64_t h) { return corosync_cfg_reload_config(h); });
}

void Cfg::reopen_log_files() {
  call("corosync_cfg_reopen_log_files",
       [](uint64_t h) { return corosync_cfg_reopen_log_files(h); });
}

void Cfg::kill_node(uint32_t nodeid, std::string_view reason) {
  if (reason.size() >= CS_MAX_NAME_LENGTH)
    throw Error(CS_ERR_NAME_TOO_LONG, "corosync_cfg_kill_node",
                "the reason is " + std::to_string(reason.size()) + " bytes, at most " +
                    std::to_string(CS_MAX_NAME_LENGTH - 1) + " fit");
  if (reason.find('\0') != std::string_view::npos)
    throw Error(CS_ERR_INVALID_PARAM, "corosync_cfg_kill_node", "the reason contains a NUL");
  std::string text(reason);
  check_open("corosync_cfg_kill_node");
  unsigned int local = 0;
  auto local_get = [&](uint64_t h) { return corosync_cfg_local_get(h, &local); };
  cs_error_t rc = run(connection(), local_get);
  if (rc == CS_OK)
    rc = run(connection(),
             [&](uint64_t h) { return corosync_cfg_kill_node(h, nodeid, text.c_str()); });
  // libcfg (3.1.7 and later) returns the answer's error field even when no answer came, an
  // uninitialized value: anything but a cs_error_t, or a success that the connection
  // contradicts, is the lost daemon's CS_ERR_LIBRARY. (Killing this very node may end its
  // daemon before the check: that success stands.)
  bool known = rc >= CS_OK && rc <= CS_ERR_SECURITY;
  if (known && rc == CS_OK && nodeid != local) known = run(connection(), local_get) == CS_OK;
  if (!known) rc = CS_ERR_LIBRARY;
  if (rc != CS_OK) fail(rc, "corosync_cfg_kill_node");
}

void Cfg::trackstart() {
  call("corosync_cfg_trackstart", [&](uint64_t h) {
    cs_error_t rc = corosync_cfg_trackstart(h, 0);
    if (rc == CS_OK) connection_state_->tracking = true;
    return rc;
  });
}

void Cfg::trackstop() {
  call("corosync_cfg_trackstop", [&](uint64_t h) {
    cs_error_t rc = corosync_cfg_trackstop(h);
    if (rc == CS_OK) connection_state_->tracking = false;
    return rc;
  });
}

void Cfg::try_shutdown(unsigned flags) {
  call("corosync_cfg_try_shutdown", [&](uint64_t h) {
    return corosync_cfg_try_shutdown(h, static_cast<corosync_cfg_shutdown_flags_t>(flags));
  });
}

void Cfg::reply_to_shutdown(bool yes) {
  call("corosync_cfg_replyto_shutdown", [&](uint64_t h) {
    connection_state_->replied = true;
    return corosync_cfg_replyto_shutdown(
        h, yes ? COROSYNC_CFG_SHUTDOWN_FLAG_YES : COROSYNC_CFG_SHUTDOWN_FLAG_NO);
  });
}

void Cfg::finalize_connections() noexcept {
  // corosync_cfg_replyto_shutdown (3.1.7 and later) takes a reference to the handle that it
  // never gives back, so corosync_cfg_finalize then cannot disconnect: the daemon would keep
  // this connection as a shutdown tracker, and wait for its answer to every later
  // try_shutdown until this process exits. Stop tracking first.
  CfgConnection* c = connection_state_.get();
  if (c && !c->finalized && c->replied && c->tracking) {
    std::lock_guard<std::mutex> lock(c->call_mutex);
    if (corosync_cfg_trackstop(c->handle) == CS_OK) c->tracking = false;
  }
  ServiceHandle::finalize_connections();
}

}  // namespace corosync
