// The C++ core used from plain C++ (no Python): its retry policy and errors on their own,
// then a Cpg, a Cmap, a Quorum, a Votequorum and a Cfg against the real corosync daemon of
// the network namespace it runs in, and SAM's argument and state checks (SAM forks, which
// the Python tests exercise in processes of their own).
// Built by CMake with -DCOROSYNC_BUILD_TESTS=ON; run by tests/test_cpp_core.py.
#include <corosync_cxx/cfg.hpp>
#include <corosync_cxx/cmap.hpp>
#include <corosync_cxx/cpg.hpp>
#include <corosync_cxx/cpg_connections.hpp>
#include <corosync_cxx/quorum.hpp>
#include <corosync_cxx/sam.hpp>
#include <corosync_cxx/votequorum.hpp>

#include <poll.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace {

int failures = 0;

void expect(bool ok, const char* what) {
  std::printf("%s %s\n", ok ? "ok  " : "FAIL", what);
  if (!ok) ++failures;
}

void retry_policy() {
  using namespace std::chrono_literals;
  int calls = 0;
  cs_error_t rc = corosync::RetryPolicy(1s).run([&] {
    return ++calls < 3 ? CS_ERR_TRY_AGAIN : CS_OK;
  });
  expect(rc == CS_OK && calls == 3, "retry: TRY_AGAIN is retried until it succeeds");

  calls = 0;
  rc = corosync::RetryPolicy(0s).run([&] { return ++calls, CS_ERR_TRY_AGAIN; });
  expect(rc == CS_ERR_TRY_AGAIN && calls == 1, "retry: a zero timeout disables retrying");

  calls = 0;
  auto start = std::chrono::steady_clock::now();
  rc = corosync::RetryPolicy(50ms).run([&] { return ++calls, CS_ERR_TRY_AGAIN; });
  auto took = std::chrono::steady_clock::now() - start;
  expect(rc == CS_ERR_TRY_AGAIN && calls > 2 && took >= 50ms,
         "retry: gives up with TRY_AGAIN once the timeout has passed");

  calls = 0;
  rc = corosync::RetryPolicy(1s).run([&] { return ++calls, CS_ERR_ACCESS; });
  expect(rc == CS_ERR_ACCESS && calls == 1, "retry: other errors are returned at once");
}

void errors() {
  corosync::Error e(CS_ERR_TRY_AGAIN, "cpg_join");
  expect(e.code() == CS_ERR_TRY_AGAIN && e.function() == "cpg_join", "error: code and function");
  expect(std::string(e.what()).find("CS_ERR_TRY_AGAIN") != std::string::npos,
         "error: message carries corosync's text");
  bool threw = false;
  try {
    corosync::CpgName(std::string(CPG_MAX_NAME_LENGTH + 1, 'x'));
  } catch (const corosync::Error& too_long) {
    threw = too_long.code() == CS_ERR_NAME_TOO_LONG;
  }
  expect(threw, "cpg: a name over 128 bytes throws NAME_TOO_LONG");
}

class Collect : public corosync::CpgListener {
 public:
  void on_deliver(std::string_view group, uint32_t, uint32_t, const void* data,
                  size_t size) override {
    messages.emplace_back(static_cast<const char*>(data), size);
    groups.emplace_back(group);
  }
  void on_confchg(std::string_view, const std::vector<corosync::CpgAddress>&,
                  const std::vector<corosync::CpgAddress>&,
                  const std::vector<corosync::CpgAddress>& joined) override {
    joins += joined.size();
    if (throw_on_confchg) throw std::runtime_error("from the listener");
  }
  std::vector<std::string> messages, groups;
  size_t joins = 0;
  bool throw_on_confchg = false;
};

// How CpgGroups picks the connection to dispatch, without a daemon: an eventfd that stays
// readable stands in for a connection with a long queue of events.
void cpg_dispatch_order() {
  int epoll = epoll_create1(EPOLL_CLOEXEC);
  corosync::CpgGroups groups({8192, 32u << 20}, epoll);
  auto readable = [&](const std::shared_ptr<corosync::CpgConnection>& c) {
    int fd = eventfd(1, EFD_CLOEXEC);
    epoll_event event{};
    event.events = EPOLLIN;
    event.data.ptr = c.get();
    epoll_ctl(epoll, EPOLL_CTL_ADD, fd, &event);
    return fd;
  };
  auto busy = std::make_shared<corosync::CpgConnection>(&groups, false);
  auto quiet = std::make_shared<corosync::CpgConnection>(&groups, false);
  groups.add(busy);
  groups.add(quiet);
  int busy_fd = readable(busy);
  // Each call is a pass that dispatches one event; `polls` counts those that asked epoll.
  auto next = [&](unsigned& polls) {
    groups.begin_pass();
    std::shared_ptr<corosync::CpgConnection> c = groups.next_to_dispatch();
    polls += groups.pass_polled();
    if (c) groups.dispatched(c, true);
    return c;
  };
  unsigned polls = 0;
  bool only_busy = true;
  for (int i = 0; i < 1000; ++i) only_busy = next(polls) == busy && only_busy;
  expect(only_busy && polls <= 1000 / 63 + 2,
         "cpg: a burst on one connection asks epoll once per 64 events, not per event");
  int quiet_fd = readable(quiet);
  int until_quiet = 1;
  for (unsigned ignored = 0; next(ignored) != quiet && until_quiet <= 200;) ++until_quiet;
  expect(until_quiet <= 66, "cpg: a burst gives way to another readable connection");
  for (int fd : {busy_fd, quiet_fd, epoll}) close(fd);
}

// A pass over what is queued asks epoll once: the connection it reports is dispatched until
// it has no more, and then the pass ends without asking epoll again (libcpg's ALL makes
// one readiness check per event and one at the end; asking epoll after each event made
// the binding's send-and-dispatch loop pay a third system call).
void cpg_dispatch_pass() {
  int epoll = epoll_create1(EPOLL_CLOEXEC);
  corosync::CpgGroups groups({8192, 32u << 20}, epoll);
  auto c = std::make_shared<corosync::CpgConnection>(&groups, false);
  groups.add(c);
  int fd = eventfd(1, EFD_CLOEXEC);  // stays readable: epoll would report it every time
  epoll_event event{};
  event.events = EPOLLIN;
  event.data.ptr = c.get();
  epoll_ctl(epoll, EPOLL_CTL_ADD, fd, &event);
  groups.begin_pass();
  // Dispatches what next_to_dispatch picks (it had an event, or not); null if it picks none.
  auto next = [&](bool had_event) {
    std::shared_ptr<corosync::CpgConnection> picked = groups.next_to_dispatch();
    if (picked) groups.dispatched(picked, had_event);
    return picked;
  };
  auto first = next(true);
  bool asked = groups.pass_polled();
  auto second = next(true);
  auto third = next(false);  // it had no more
  auto after = next(false);
  expect(asked && first == c && second == c && third == c,
         "cpg: a pass dispatches the connection epoll reported until it has no more");
  expect(third && after == nullptr, "cpg: a pass ends once that connection had no more");
  groups.begin_pass();  // the next pass asks epoll again
  expect(groups.next_to_dispatch() == c && groups.pass_polled(),
         "cpg: the next pass asks epoll again");
  close(fd);
  close(epoll);
}

void cpg_against_the_daemon() {
  Collect listener;
  corosync::Cpg cpg(&listener);
  expect(cpg.local_get() >= 1, "cpg: local_get answers");
  cpg.join(corosync::CpgName("cxx-core-test"));
  std::string big(3 * 1024 * 1024, 'b');
  corosync::ConstBuffer parts[] = {{"he", 2}, {"llo", 3}};
  cpg.mcast_joined(nullptr, CPG_TYPE_AGREED, parts, 2);
  corosync::ConstBuffer whole[] = {{big.data(), big.size()}};
  cpg.mcast_joined(nullptr, CPG_TYPE_AGREED, whole, 1);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (listener.messages.size() < 2 && std::chrono::steady_clock::now() < deadline)
    cpg.dispatch(corosync::DispatchFlags::One);
  expect(listener.joins == 1, "cpg: the join confchg arrived");
  expect(listener.messages.size() == 2 && listener.messages[0] == "hello",
         "cpg: gathered buffers arrive as one message");
  expect(listener.messages.size() == 2 && listener.messages[1] == big,
         "cpg: a 3 MiB message arrives whole");

  // try_mcast_joined sends what cannot wait and refuses, sending nothing, what could.
  {
    Collect own;
    corosync::CpgOptions one_message;
    one_message.send_window_messages = 1;
    corosync::Cpg narrow(&own, one_message);
    narrow.join(corosync::CpgName("cxx-core-test-try"));
    corosync::ConstBuffer first[] = {{"first", 5}}, second[] = {{"second", 6}};
    std::string large(corosync::Cpg::kNeverWaitLargest + 1, 'l');
    corosync::ConstBuffer too_large[] = {{large.data(), large.size()}};
    bool sent = narrow.try_mcast_joined(nullptr, CPG_TYPE_AGREED, first, 1);
    bool window_full = !narrow.try_mcast_joined(nullptr, CPG_TYPE_AGREED, second, 1);
    bool large_refused = !narrow.try_mcast_joined(nullptr, CPG_TYPE_AGREED, too_large, 1);
    auto until = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (own.messages.size() < 1 && std::chrono::steady_clock::now() < until)
      narrow.dispatch(corosync::DispatchFlags::One);
    expect(sent && own.messages == std::vector<std::string>{"first"},
           "cpg: try_mcast_joined sends a small message at once");
    expect(window_full && large_refused,
           "cpg: try_mcast_joined refuses a full window and a large message");
    bool sent_after = narrow.try_mcast_joined(nullptr, CPG_TYPE_AGREED, second, 1);
    while (own.messages.size() < 2 && std::chrono::steady_clock::now() < until)
      narrow.dispatch(corosync::DispatchFlags::One);
    expect(sent_after && own.messages == std::vector<std::string>{"first", "second"},
           "cpg: try_mcast_joined sends once the window has room, what it refused never went");
  }

  // A callback can tell whether a try_dispatch runs it: its thread holds the caller's lock.
  {
    struct Seen : Collect {
      const corosync::Handle* handle = nullptr;
      std::vector<bool> in_try;
      void on_deliver(std::string_view group, uint32_t nodeid, uint32_t pid, const void* data,
                      size_t size) override {
        in_try.push_back(handle->in_try_dispatch());
        Collect::on_deliver(group, nodeid, pid, data, size);
      }
    } seen;
    corosync::Cpg h(&seen);
    seen.handle = &h;
    h.join(corosync::CpgName("cxx-core-test-in-try"));
    corosync::ConstBuffer one[] = {{"one", 3}}, two[] = {{"two", 3}};
    h.mcast_joined(nullptr, CPG_TYPE_AGREED, one, 1);
    auto until = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (seen.messages.size() < 1 && std::chrono::steady_clock::now() < until)
      h.dispatch(corosync::DispatchFlags::One);
    h.mcast_joined(nullptr, CPG_TYPE_AGREED, two, 1);
    while (seen.messages.size() < 2 && std::chrono::steady_clock::now() < until) {
      pollfd readable{h.fd(), POLLIN, 0};
      ::poll(&readable, 1, 100);
      h.try_dispatch(corosync::DispatchFlags::All);
    }
    expect(seen.in_try == std::vector<bool>{false, true} && !h.in_try_dispatch(),
           "cpg: in_try_dispatch() is true in a callback of try_dispatch only");
  }

  // A listener's exception comes out of dispatch, not through corosync's C code.
  Collect throwing;
  throwing.throw_on_confchg = true;
  corosync::Cpg second(&throwing);
  second.join(corosync::CpgName("cxx-core-test-2"));
  bool propagated = false;
  try {
    second.dispatch(corosync::DispatchFlags::One);
  } catch (const std::runtime_error& e) {
    propagated = std::string(e.what()) == "from the listener";
  }
  expect(propagated, "cpg: a listener's exception propagates out of dispatch");

  // Moving keeps the connection working; the moved-from Cpg is closed.
  corosync::Cpg moved(std::move(cpg));
  expect(cpg.closed() && !moved.closed(), "cpg: a moved-from handle is closed");
  // Every method of a moved-from handle throws ClosedError instead of dereferencing null.
  auto closed_error_from = [](auto&& call) {
    try {
      call();
    } catch (const corosync::ClosedError&) {
      return true;
    }
    return false;
  };
  expect(closed_error_from([&] { cpg.dispatch(); }) &&
             closed_error_from([&] { cpg.set_listener(nullptr); }) &&
             closed_error_from([&] { cpg.retry(); }) && closed_error_from([&] { cpg.fd(); }) &&
             closed_error_from([&] { cpg.join(corosync::CpgName("x")); }) &&
             closed_error_from([&] { cpg.mcast_joined(nullptr, CPG_TYPE_AGREED, parts, 2); }),
         "cpg: a moved-from handle throws ClosedError from every method");
  moved.mcast_joined(nullptr, CPG_TYPE_AGREED, parts, 2);
  moved.close();
  moved.close();
  bool closed_error = false;
  try {
    moved.local_get();
  } catch (const corosync::ClosedError& e) {
    closed_error = e.code() == CS_ERR_BAD_HANDLE;
  }
  expect(closed_error, "cpg: calls after close throw ClosedError");
}

class Changes : public corosync::CmapTrackListener {
 public:
  void on_notify(const corosync::CmapNotification& n) override {
    events.push_back(n.event);
    if (n.new_value) values.emplace_back(n.new_value->data);
  }
  std::vector<int32_t> events;
  std::vector<std::string> values;
};

void cmap_against_the_daemon() {
  corosync::Cmap cmap;
  corosync::CmapValue name = cmap.get("totem.cluster_name");
  expect(name.type == CMAP_VALUETYPE_STRING && !name.data.empty() &&
             name.data.back() != '\0',
         "cmap: a STRING comes without its NUL");
  Changes changes;
  cmap.track_add("cxx.core.", CMAP_TRACK_ADD | CMAP_TRACK_MODIFY | CMAP_TRACK_PREFIX,
                 &changes);
  uint32_t value = 42;
  cmap.set("cxx.core.u32", CMAP_VALUETYPE_UINT32, &value, sizeof value);
  std::string text(5000, 't');  // beyond get()'s first buffer
  cmap.set("cxx.core.text", CMAP_VALUETYPE_STRING, text.data(), text.size());
  expect(cmap.get("cxx.core.text").data == text, "cmap: a 5000-byte STRING comes back whole");
  corosync::CmapValue u32 = cmap.get("cxx.core.u32");
  expect(u32.type == CMAP_VALUETYPE_UINT32 && u32.data.size() == 4, "cmap: a UINT32 reads back");
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (changes.events.size() < 2 && std::chrono::steady_clock::now() < deadline)
    cmap.dispatch(corosync::DispatchFlags::One);
  expect(changes.events.size() == 2 && changes.events[0] == CMAP_TRACK_ADD &&
             changes.values.size() == 2 && changes.values[1] == text,
         "cmap: a prefix track reports both additions");
  size_t keys = 0;
  corosync::CmapIterator it(cmap, "cxx.core.");
  for (corosync::CmapKeyInfo info; it.next(info);) ++keys;
  expect(keys == 2, "cmap: iteration lists the keys under a prefix");
  bool missing = false;
  try {
    cmap.get("cxx.core.none");
  } catch (const corosync::Error& e) {
    missing = e.code() == CS_ERR_NOT_EXIST;
  }
  expect(missing, "cmap: a missing key throws NOT_EXIST");
  cmap.delete_key("cxx.core.u32");
  cmap.delete_key("cxx.core.text");
}

class Ring : public corosync::QuorumListener {
 public:
  void on_nodelist(corosync::RingId ring, const std::vector<uint32_t>& members,
                   const std::vector<uint32_t>&, const std::vector<uint32_t>&) override {
    ring_id = ring;
    nodes = members;
  }
  corosync::RingId ring_id{0, 0};
  std::vector<uint32_t> nodes;
};

void quorum_against_the_daemon() {
  Ring ring;
  corosync::Quorum quorum(&ring);
  expect(quorum.quorum_type() == QUORUM_SET && quorum.getquorate(),
         "quorum: a one-node cluster with votequorum is quorate");
  quorum.trackstart(CS_TRACK_CURRENT);
  quorum.dispatch(corosync::DispatchFlags::One);
  expect(ring.nodes == std::vector<uint32_t>{1} && ring.ring_id.nodeid == 1,
         "quorum: trackstart(CURRENT) reports the ring");
  corosync::Votequorum votequorum(nullptr);
  corosync::VotequorumInfo info = votequorum.getinfo(0);
  expect(info.nodeid == 1 && info.votes == 1 && info.state == VOTEQUORUM_NODESTATE_MEMBER &&
             (info.flags & VOTEQUORUM_INFO_QUORATE),
         "votequorum: getinfo of this node");
}

void cfg_against_the_daemon() {
  corosync::Cfg cfg(nullptr);
  uint32_t local = cfg.local_nodeid();
  corosync::CfgNodeStatus status = cfg.node_status(local);
  expect(local == 1 && status.reachable && !status.links.empty() && status.links[0].link == 0,
         "cfg: node_status of this node");
  std::vector<corosync::CfgNodeAddress> addrs = cfg.node_addrs(0);
  expect(addrs.size() == 1 && addrs[0].text == "127.0.0.1", "cfg: node_addrs of this node");
  bool refused = false;
  try {
    cfg.kill_node(1, std::string(300, 'x'));
  } catch (const corosync::Error& e) {
    refused = e.code() == CS_ERR_NAME_TOO_LONG;
  }
  expect(refused, "cfg: a reason too long for kill_node is refused before the daemon");
}

void sam_checks() {
  auto code_of = [](auto call) {
    try {
      call();
    } catch (const corosync::Error& e) {
      return e.code();
    }
    return CS_OK;
  };
  expect(code_of([] { corosync::sam::start(); }) == CS_ERR_BAD_HANDLE &&
             corosync::sam::state() == corosync::sam::State::NotInitialized,
         "sam: start before initialize is refused");
  expect(code_of([] { corosync::sam::initialize(0, SAM_RECOVERY_POLICY_QUIT); }) ==
             CS_ERR_INVALID_PARAM,
         "sam: a zero interval is refused");
  expect(code_of([] { corosync::sam::initialize(100, SAM_RECOVERY_POLICY_QUORUM); }) ==
             CS_ERR_INVALID_PARAM,
         "sam: QUORUM alone is no policy");
}

}  // namespace

// A thread sending without pause keeps a dispatch(All) in another thread from ever finding
// the queue empty; join() and close() from a third thread still get in between two events.
void cpg_flooded_dispatch_lets_others_in() {
  struct Slow : corosync::CpgListener {
    std::atomic<uint64_t> delivered{0};
    void on_deliver(std::string_view, uint32_t, uint32_t, const void*, size_t) override {
      ++delivered;
      std::this_thread::sleep_for(std::chrono::microseconds(200));  // slower than the sender
    }
  } slow;
  corosync::Cpg h(&slow);
  h.join(corosync::CpgName("cxx-core-test-flood"));
  std::atomic<bool> stop{false};
  std::thread sender([&] {
    corosync::ConstBuffer m[] = {{"x", 1}};
    try {
      while (!stop) h.mcast_joined(nullptr, CPG_TYPE_AGREED, m, 1);
    } catch (const corosync::Error&) {  // ClosedError once closed
    }
  });
  std::thread dispatcher([&] {
    try {
      while (!stop) h.dispatch(corosync::DispatchFlags::All);
    } catch (const corosync::Error&) {
    }
  });
  auto until = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (slow.delivered < 200 && std::chrono::steady_clock::now() < until)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  bool flooding = slow.delivered >= 200;
  // Each call runs in a thread of its own, watched for 60 s: a hang ends the test run.
  auto finishes = [](const char* what, auto call) {
    std::atomic<bool> done{false};
    std::thread t([&] {
      call();
      done = true;
    });
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (!done && std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    if (!done) {
      std::printf("FAIL cpg: %s waited for a flooded dispatch(All) for good\n", what);
      std::fflush(stdout);
      std::_Exit(1);
    }
    t.join();
  };
  finishes("join()", [&] { h.join(corosync::CpgName("cxx-core-test-flood-2")); });
  finishes("close()", [&] { h.close(); });
  stop = true;
  sender.join();
  dispatcher.join();
  expect(flooding && h.closed(),
         "cpg: join and close from other threads get in while a flooded dispatch(All) runs");
}

int main(int argc, char** argv) {
  retry_policy();
  errors();
  sam_checks();
  cpg_dispatch_order();
  cpg_dispatch_pass();
  if (argc > 1 && std::string(argv[1]) == "--with-daemon") {
    cpg_against_the_daemon();
    cpg_flooded_dispatch_lets_others_in();
    cmap_against_the_daemon();
    quorum_against_the_daemon();
    cfg_against_the_daemon();
  }
  std::printf("%d failure(s)\n", failures);
  return failures ? EXIT_FAILURE : EXIT_SUCCESS;
}
