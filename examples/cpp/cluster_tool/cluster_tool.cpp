// A small C++ cluster tool on the corosync_cxx library: joins a CPG group, sends one message,
// waits until it is delivered back (corosync delivers a member's own messages to it, in the
// group's total order), and reads this node's id and the cluster's name from CMAP.
//
//   cluster_tool <group> <message>
//
// Prints "node N of cluster C", "joined G with K member(s)" and "delivered from node N: M";
// exits 1 with corosync's error on failure.
#include <corosync_cxx/cmap.hpp>
#include <corosync_cxx/cpg.hpp>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

namespace {

class Printer : public corosync::CpgListener {
 public:
  void on_deliver(std::string_view, uint32_t nodeid, uint32_t, const void* message,
                  size_t size) override {
    delivered.assign(static_cast<const char*>(message), size);
    std::printf("delivered from node %u: %s\n", nodeid, delivered.c_str());
  }
  void on_confchg(std::string_view group, const std::vector<corosync::CpgAddress>& members,
                  const std::vector<corosync::CpgAddress>&,
                  const std::vector<corosync::CpgAddress>&) override {
    std::printf("joined %.*s with %zu member(s)\n", static_cast<int>(group.size()),
                group.data(), members.size());
  }
  std::string delivered;
};

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: %s <group> <message>\n", argv[0]);
    return 2;
  }
  try {
    corosync::Cmap cmap;
    // A value comes with its type; numbers are their bytes in host order.
    corosync::CmapValue id = cmap.get("runtime.votequorum.this_node_id");
    uint32_t nodeid = 0;
    if (id.type == CMAP_VALUETYPE_UINT32 && id.data.size() == sizeof nodeid)
      std::memcpy(&nodeid, id.data.data(), sizeof nodeid);
    std::string cluster = cmap.get("totem.cluster_name").data;
    std::printf("node %u of cluster %s\n", nodeid, cluster.c_str());

    Printer printer;
    corosync::Cpg cpg(&printer);
    cpg.join(corosync::CpgName(argv[1]));
    std::string message = argv[2];
    corosync::ConstBuffer part{message.data(), message.size()};
    cpg.mcast_joined(nullptr, CPG_TYPE_AGREED, &part, 1);
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (printer.delivered != message && std::chrono::steady_clock::now() < deadline)
      cpg.dispatch(corosync::DispatchFlags::One);
    return printer.delivered == message ? 0 : 1;
  } catch (const corosync::Error& e) {
    std::fprintf(stderr, "%s\n", e.what());
    return 1;
  }
}
