// corosync::Cpg: a closed process group handle (cpg_model_initialize, model V1).
#pragma once

#include "corosync_cxx/ring_id.hpp"
#include "corosync_cxx/service_handle.hpp"

#include <corosync/cpg.h>
#include <sys/uio.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace corosync {

// A group name as corosync carries it: up to CPG_MAX_NAME_LENGTH bytes, any bytes.
class CpgName {
 public:
  // Throws Error(CS_ERR_NAME_TOO_LONG) beyond CPG_MAX_NAME_LENGTH bytes, naming `function`
  // (the call the name is for) as the failing call.
  explicit CpgName(std::string_view name, const char* function = "cpg_join");
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

using CpgRingId = RingId;

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
  // Once per ring change, in its place among a joined group's events (the old ring's
  // messages before it); before any join, from the control connection.
  virtual void on_totem_confchg(CpgRingId ring_id, const std::vector<uint32_t>& members);
};

struct CpgOptions {
  // The current totem configuration arrives as an on_totem_confchg after the first join.
  bool deliver_initial_totem_conf = false;
  RetryPolicy retry{};
  // The send window: how many of this handle's messages, and how many bytes of them, may
  // be sent and not yet delivered back to it (a member receives its own messages) before
  // mcast waits, as under flow control, for a dispatch to deliver them. corosync queues a
  // client's undispatched events without limit; this bounds what one handle queues. A
  // message larger than the byte window is sent once nothing else is outstanding.
  uint64_t send_window_messages = 8192;
  uint64_t send_window_bytes = 32u << 20;
};

struct CpgGroups;
struct CpgConnection;

// One Cpg may join several groups, each over a connection of its own behind one fd
// (cpg_connections.hpp says why).
class Cpg : public ServiceHandle {
 public:
  // `listener` (may be null) must outlive the Cpg or be detached with set_listener(nullptr).
  explicit Cpg(CpgListener* listener, CpgOptions options = {});
  Cpg(Cpg&&) noexcept;
  Cpg& operator=(Cpg&&) noexcept;
  ~Cpg() override;

  // Throws ClosedError for a moved-from Cpg.
  void set_listener(CpgListener* listener);

  // cpg_join. Throws Error(CS_ERR_EXIST) for a group this Cpg already joined,
  // Error(CS_ERR_BUSY) while its leave of that group has not been dispatched yet. From the
  // confchg that reports this Cpg's own leave of `group`, joining it again works.
  void join(const CpgName& group);
  // cpg_leave. Throws Error(CS_ERR_NOT_EXIST) for a group this Cpg has not joined.
  void leave(const CpgName& group);
  // cpg_mcast_joined to `group`, or (null) to the one joined group; the buffers form one
  // message, of at most 4 GiB - 1 (Error(CS_ERR_TOO_BIG) beyond). Throws
  // Error(CS_ERR_NOT_EXIST) when not joined, Error(CS_ERR_INVALID_PARAM) for a null group
  // while several are joined, Error(CS_ERR_TRY_AGAIN) when the send window stayed full, or
  // the daemon did not take the message (corosync's TRY_AGAIN, or a socket full of requests
  // it has not read: kNotificationBytes), for the retry timeout: the handle's, or `retry`
  // when given (a zero one never waits).
  void mcast_joined(const CpgName* group, cpg_guarantee_t guarantee, const ConstBuffer* buffers,
                    size_t count, const RetryPolicy* retry = nullptr);
  // mcast_joined for a caller that must never wait (a language binding holding its
  // interpreter's lock, which a thread running a callback may be waiting for): sends the
  // message and returns true, or sends nothing and returns false where mcast_joined could
  // wait: the send window full, corosync answering CS_ERR_TRY_AGAIN, another thread in a
  // call on the connection, a message above kNeverWaitLargest (a long copy; above
  // max_atomic_msgsize, libcpg waits for the daemon to answer each fragment), or the
  // connection's socket full of the notifications libqb sends the daemon with each request
  // (kNotificationBytes in cpg_connections.hpp: mcast_joined treats that as CS_ERR_TRY_AGAIN
  // too, where libqb would wait without end). The caller then sends with mcast_joined, free
  // to wait. Errors throw as from mcast_joined.
  bool try_mcast_joined(const CpgName* group, cpg_guarantee_t guarantee,
                        const ConstBuffer* buffers, size_t count);
  // Below the smallest max_atomic_msgsize of any corosync build (64 KiB - 1024: lib/util.h).
  static constexpr uint64_t kNeverWaitLargest = 16 << 10;
  // Like mcast_joined for each of `messages` in turn, each its own message. `sent` grows by
  // one per message that went, so that after an exception it tells how many did.
  void mcast_joined_each(const CpgName* group, cpg_guarantee_t guarantee,
                         const ConstBuffer* messages, size_t count, size_t& sent,
                         const RetryPolicy* retry = nullptr);
  std::vector<CpgAddress> membership_get(const CpgName& group);
  // cpg_local_get, asked once at construction: a node's id does not change.
  uint32_t local_get() const;
  // CPG_FLOW_CONTROL_ENABLED while the send window is full (or corosync says so; corosync
  // 3's libcpg always answers disabled).
  cpg_flow_control_state_t flow_control_state_get();
  uint32_t max_atomic_msgsize_get();
  // cpg_iteration_initialize/next/finalize. NAME_ONLY leaves nodeid and pid 0;
  // ONE_GROUP lists `group`'s members.
  std::vector<CpgGroupMember> iterate(cpg_iteration_type_t type, const CpgName* group = nullptr);
  const CpgOptions& options() const noexcept { return options_; }
  // The names of the groups joined (not those being left).
  std::vector<std::string> joined_groups() const;

 protected:
  bool dispatch_event() override;
  void finalize_connections() noexcept override;
  bool settle_due() const override;

 private:
  std::shared_ptr<CpgConnection> open_connection(bool control, const char* function,
                                                 std::string group = {});
  // The connection that joined `group` (null: the one group joined); Error NOT_EXIST or
  // INVALID_PARAM, naming `function`, if there is none or several and no name.
  std::shared_ptr<CpgConnection> joined_connection(const CpgName* group,
                                                   const char* function) const;
  // joined_connection() with `groups_->mutex` held.
  std::shared_ptr<CpgConnection> joined_locked(const CpgName* group,
                                               const char* function) const;
  // Finalizes and drops the connections whose leave has been dispatched, unless none was
  // or the dispatch may not wait (no_waiting); the handle's mutex is held and no C
  // dispatch call of theirs is running.
  void sweep() noexcept;
  // Sends one message on a joined connection: takes its room in the send window, then
  // cpg_mcast_joined.
  void send(CpgConnection& c, cpg_guarantee_t guarantee, const iovec* iov, unsigned count,
            uint64_t total, const RetryPolicy& retry);
  // Sends, in order, the messages at the front of `messages` that go without waiting: as
  // many as the send window takes (counted under one lock), each at most
  // kNeverWaitLargest, under one hold of the call mutex (none if another thread holds it).
  // Returns how many went; it stops at the first that would wait or failed.
  size_t send_at_once(CpgConnection& c, cpg_guarantee_t guarantee, const ConstBuffer* messages,
                      size_t count);
  void drop(CpgConnection& c) noexcept;

  CpgOptions options_;
  std::unique_ptr<CpgGroups> groups_;
};

}  // namespace corosync
