// corosync::Votequorum: votes, expected votes and quorum of the cluster, and the qdevice API
// (votequorum_*).
#pragma once

#include "corosync_cxx/ring_id.hpp"
#include "corosync_cxx/service_handle.hpp"

#include <corosync/votequorum.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace corosync {

// What votequorum_getinfo reports of one node.
struct VotequorumInfo {
  uint32_t nodeid;
  uint32_t state;  // VOTEQUORUM_NODESTATE_*
  uint32_t votes;
  uint32_t expected_votes;
  uint32_t highest_expected;
  uint32_t total_votes;
  uint32_t quorum;
  uint32_t flags;  // VOTEQUORUM_INFO_*
  uint32_t qdevice_votes;
  std::string qdevice_name;
};

struct VotequorumNode {
  uint32_t nodeid;
  uint32_t state;  // VOTEQUORUM_NODESTATE_*
};

// Receives a Votequorum's callbacks, inside dispatch in the dispatching thread, once tracking
// has started. An exception thrown here comes out of dispatch(); later events stay queued.
class VotequorumListener {
 public:
  virtual ~VotequorumListener() = default;
  // corosync's quorum notification carries no ring id: `ring_id` is the one of the last
  // nodelist notification, which corosync sends before the quorum notification of each ring
  // change (and on trackstart with CS_TRACK_CURRENT); {0, 0} before the first.
  virtual void on_notify(bool quorate, RingId ring_id, const std::vector<VotequorumNode>& nodes);
  virtual void on_nodelist(RingId ring_id, const std::vector<uint32_t>& nodes);
  virtual void on_expectedvotes(uint32_t expected_votes);
};

struct VotequorumConnection;

class Votequorum : public ServiceHandle {
 public:
  // `listener` (may be null) must outlive the Votequorum or be detached with
  // set_listener(nullptr).
  explicit Votequorum(VotequorumListener* listener, RetryPolicy retry = RetryPolicy());
  Votequorum(Votequorum&&) noexcept;
  Votequorum& operator=(Votequorum&&) noexcept;
  ~Votequorum() override;

  // Throws ClosedError for a moved-from Votequorum.
  void set_listener(VotequorumListener* listener);
  // votequorum_getinfo; nodeid 0 is this node.
  VotequorumInfo getinfo(uint32_t nodeid);
  // votequorum_setexpected. Values from UINT32_MAX - 1 up, which corosync accepts only
  // because its quorum arithmetic ((expected + 2) / 2 in 32 bits) wraps around, throw
  // Error(CS_ERR_INVALID_PARAM) before anything is sent.
  void setexpected(uint32_t expected_votes);
  // votequorum_setvotes; nodeid 0 is this node (to corosync, 0 is the quorum device).
  void setvotes(uint32_t nodeid, uint32_t votes);
  // votequorum_trackstart (CS_TRACK_* flags) and votequorum_trackstop.
  void trackstart(unsigned int flags);
  void trackstop();
  // The qdevice calls. Names are 1 to VOTEQUORUM_QDEVICE_MAX_NAME_LEN - 1 bytes without a
  // NUL: Error(CS_ERR_INVALID_PARAM) otherwise, before anything is sent.
  void qdevice_register(std::string_view name);
  void qdevice_unregister(std::string_view name);
  void qdevice_update(std::string_view old_name, std::string_view new_name);
  void qdevice_poll(std::string_view name, bool cast_vote, RingId ring_id);
  void qdevice_master_wins(std::string_view name, bool allow);

 private:
  std::shared_ptr<VotequorumConnection> connection_state_;
};

}  // namespace corosync
