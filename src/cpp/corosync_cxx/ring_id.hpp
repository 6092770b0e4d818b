// corosync::RingId: a totem ring's identity, as CPG, quorum and votequorum report it.
#pragma once

#include <cstdint>

namespace corosync {

struct RingId {
  uint32_t nodeid;  // the node that formed the ring
  uint64_t seq;
};

}  // namespace corosync
