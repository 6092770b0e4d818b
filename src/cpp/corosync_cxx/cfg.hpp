// corosync::Cfg: node and link status, configuration reload, node kill and shutdown
// coordination (corosync_cfg_* of libcfg, cfg.h): what corosync-cfgtool uses.
#pragma once

#include "corosync_cxx/service_handle.hpp"

#include <corosync/cfg.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace corosync {

// One knet link of a node, as corosync_cfg_node_status_get (version 1) reports it.
struct CfgLinkStatus {
  unsigned link;       // the link number, 0 to CFG_MAX_LINKS - 1
  bool enabled;        // configured and administratively enabled
  bool connected;      // connected for data, as this node sees it
  bool dynconnected;   // activated by a remote dynamic address
  unsigned mtu;
  std::string src;     // addresses as corosync prints them
  std::string dst;
};

struct CfgNodeStatus {
  uint32_t nodeid;
  bool reachable, remote, external;
  uint8_t onwire_min, onwire_max, onwire_ver;
  std::vector<CfgLinkStatus> links;  // the configured links only (corosync zeroes the rest)
};

// One entry of corosync_cfg_ring_status_get: a link's name and its status text.
struct CfgRingStatus {
  std::string name;
  std::string status;
};

// An address of corosync_cfg_get_node_addrs: AF_INET or AF_INET6 and its text form.
struct CfgNodeAddress {
  int family;
  std::string text;
};

// Receives a Cfg's shutdown requests, inside Cfg::dispatch in the dispatching thread, once
// trackstart() has run. An exception thrown here comes out of dispatch(); later events stay
// queued.
class CfgListener {
 public:
  virtual ~CfgListener() = default;
  // COROSYNC_CFG_SHUTDOWN_FLAG_REQUEST or _REGARDLESS: answer with reply_to_shutdown (the
  // daemon waits for every answer, or cfg.shutdown_timeout, either way; under REGARDLESS it
  // then shuts down whatever the answers). Trackers are not asked under IMMEDIATE.
  virtual void on_shutdown(unsigned flags);
};

struct CfgConnection;

class Cfg : public ServiceHandle {
 public:
  // `listener` (may be null) must outlive the Cfg or be detached with set_listener(nullptr).
  explicit Cfg(CfgListener* listener, RetryPolicy retry = RetryPolicy());
  Cfg(Cfg&&) noexcept;
  Cfg& operator=(Cfg&&) noexcept;
  ~Cfg() override;

  void set_listener(CfgListener* listener);

  // corosync_cfg_local_get.
  uint32_t local_nodeid();
  // corosync_cfg_node_status_get, version 1. For a node knet does not know, the daemon
  // answers CS_ERR_FAILED_OPERATION (CS_ERR_NOT_EXIST without knet); the error names it.
  CfgNodeStatus node_status(uint32_t nodeid);
  // corosync_cfg_get_node_addrs (nodeid 0: this node); the configured addresses, link order.
  std::vector<CfgNodeAddress> node_addrs(uint32_t nodeid);
  // corosync_cfg_ring_status_get.
  std::vector<CfgRingStatus> ring_status();
  // corosync_cfg_reload_config, corosync_cfg_reopen_log_files.
  void reload_config();
  void reopen_log_files();
  // corosync_cfg_kill_node: the node's daemon exits, logging "Killed by node N: reason";
  // CS_ERR_NOT_EXIST for a node not in the membership. `reason` is text of at most
  // CS_MAX_NAME_LENGTH - 1 bytes, without NUL (checked here: libcfg would cut it at the NUL).
  void kill_node(uint32_t nodeid, std::string_view reason);
  // corosync_cfg_trackstart (shutdown requests reach the listener) and _trackstop.
  void trackstart();
  void trackstop();
  // corosync_cfg_try_shutdown: REQUEST asks every other tracking client first and waits for
  // their replies (up to cfg.shutdown_timeout, 5 s by default; CS_ERR_BUSY when one says no
  // or does not answer in time); REGARDLESS asks and waits alike, then shuts down whatever
  // they said; IMMEDIATE asks no one. CS_ERR_EXIST while another request is pending.
  void try_shutdown(unsigned flags);
  // corosync_cfg_replyto_shutdown: the answer to a REQUEST. libcfg passes on only whether
  // the request reached the daemon, not the daemon's answer (CS_ERR_ACCESS when no shutdown
  // is being asked about), and keeps the connection open until the process exits (it never
  // releases its handle reference): close() then stops tracking, so that the daemon does not
  // wait for this handle's answer to later requests.
  void reply_to_shutdown(bool yes);

 protected:
  bool dispatch_event() override;
  void finalize_connections() noexcept override;

 private:
  std::shared_ptr<CfgConnection> connection_state_;
};

}  // namespace corosync
