// corosync::Cpg: a closed process group connection (cpg_model_initialize, model V1).
#pragma once

#include "corosync_cxx/handle.hpp"

#include <corosync/cpg.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace corosync {

// A group name as corosync carries it: up to CPG_MAX_NAME_LENGTH bytes, any bytes.
class CpgName {
 public:
  // Throws Error(CS_ERR_NAME_TOO_LONG) beyond CPG_MAX_NAME_LENGTH bytes, naming `function`
  // (the call the name is for) as the failing call.
  explicit CpgName(std::string_view name, const char* function = "cpg_name");
  explicit CpgName(const cpg_name& name);
  std::string_view view() const noexcept { return {raw_.value, raw_.length}; }
  const cpg_name* c_name() const noexcept { return &raw_; }

 private:
  cpg_name raw_{};
};

struct CpgAddress {
  uint32_t nodeid;
  uint32_t pid;
  cpg_reason_t reason;
};

struct CpgRingId {
  uint32_t nodeid;
  uint64_t seq;
};

struct CpgGroupMember {
  std::string group;
  uint32_t nodeid;
  uint32_t pid;
};

// A memory area of one message part; cpg_mcast_joined gathers them without copying.
struct ConstBuffer {
  const void* data;
  size_t size;
};

// Receives a Cpg's callbacks, called inside Cpg::dispatch in the dispatching thread.
// An exception thrown here comes out of dispatch(); later events stay queued.
class CpgListener {
 public:
  virtual ~CpgListener() = default;
  virtual void on_deliver(std::string_view group, uint32_t nodeid, uint32_t pid,
                          const void* message, size_t size);
  virtual void on_confchg(std::string_view group, const std::vector<CpgAddress>& members,
                          const std::vector<CpgAddress>& left,
                          const std::vector<CpgAddress>& joined);
  virtual void on_totem_confchg(CpgRingId ring_id, const std::vector<uint32_t>& members);
};

struct CpgOptions {
  // The current totem configuration arrives as an on_totem_confchg after the first join.
  bool deliver_initial_totem_conf = false;
  RetryPolicy retry{};
};

struct CpgConnection;

// One Cpg may join several groups. corosync lets one connection join one group, once, so the
// Cpg keeps a control connection (queries, totem changes) and opens a connection per join,
// finalized after its leave confchg was dispatched; one fd (epoll) covers them all.
class Cpg : public Handle {
 public:
  // `listener` (may be null) must outlive the Cpg or be detached with set_listener(nullptr).
  explicit Cpg(CpgListener* listener, CpgOptions options = {});
  Cpg(Cpg&&) noexcept;
  Cpg& operator=(Cpg&&) noexcept;
  ~Cpg() override;

  void set_listener(CpgListener* listener) noexcept;

  // cpg_join. Throws Error(CS_ERR_EXIST) for a group this Cpg already joined,
  // Error(CS_ERR_BUSY) while its leave of that group has not been dispatched yet.
  void join(const CpgName& group);
  // cpg_leave. Throws Error(CS_ERR_NOT_EXIST) for a group this Cpg has not joined.
  void leave(const CpgName& group);
  // cpg_mcast_joined to `group`, or (null) to the one joined group; the buffers form one
  // message, of at most 4 GiB - 1 (Error(CS_ERR_TOO_BIG) beyond). Throws
  // Error(CS_ERR_NOT_EXIST) when not joined, Error(CS_ERR_INVALID_PARAM) for a null group
  // while several are joined.
  void mcast_joined(const CpgName* group, cpg_guarantee_t guarantee, const ConstBuffer* buffers,
                    size_t count);
  std::vector<CpgAddress> membership_get(const CpgName& group);
  uint32_t local_get();
  cpg_flow_control_state_t flow_control_state_get();
  uint32_t max_atomic_msgsize_get();
  // cpg_iteration_initialize/next/finalize. NAME_ONLY leaves nodeid and pid 0;
  // ONE_GROUP lists `group`'s members.
  std::vector<CpgGroupMember> iterate(cpg_iteration_type_t type, const CpgName* group = nullptr);

  struct Groups;  // per-connection group state, shared with the trampolines

 private:
  std::shared_ptr<CpgConnection> open_connection(bool control);
  void forget(Connection& connection) noexcept override;

  std::unique_ptr<Groups> groups_;
};

}  // namespace corosync
