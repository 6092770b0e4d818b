// corosync::Quorum: whether this node's partition is quorate, and its membership
// (quorum_model_initialize with QUORUM_MODEL_V1, quorum_*).
#pragma once

#include "corosync_cxx/ring_id.hpp"
#include "corosync_cxx/service_handle.hpp"

#include <corosync/quorum.h>

#include <cstdint>
#include <memory>
#include <vector>

namespace corosync {

// Receives a Quorum's callbacks, inside Quorum::dispatch in the dispatching thread, once
// tracking has started. An exception thrown here comes out of dispatch(); later events stay
// queued.
class QuorumListener {
 public:
  virtual ~QuorumListener() = default;
  virtual void on_notify(bool quorate, RingId ring_id, const std::vector<uint32_t>& members);
  virtual void on_nodelist(RingId ring_id, const std::vector<uint32_t>& members,
                           const std::vector<uint32_t>& joined,
                           const std::vector<uint32_t>& left);
};

struct QuorumConnection;

class Quorum : public ServiceHandle {
 public:
  // `listener` (may be null) must outlive the Quorum or be detached with set_listener(nullptr).
  explicit Quorum(QuorumListener* listener, RetryPolicy retry = RetryPolicy());
  Quorum(Quorum&&) noexcept;
  Quorum& operator=(Quorum&&) noexcept;
  ~Quorum() override;

  // Throws ClosedError for a moved-from Quorum.
  void set_listener(QuorumListener* listener);
  // QUORUM_FREE (no quorum provider: always quorate) or QUORUM_SET, as the daemon answered
  // at connect time.
  uint32_t quorum_type() const;
  // quorum_getquorate.
  bool getquorate();
  // quorum_trackstart with CS_TRACK_CURRENT, CS_TRACK_CHANGES and/or CS_TRACK_CHANGES_ONLY;
  // quorum_trackstop.
  void trackstart(unsigned int flags);
  void trackstop();

 private:
  std::shared_ptr<QuorumConnection> connection_state_;
  uint32_t quorum_type_ = 0;
};

}  // namespace corosync
