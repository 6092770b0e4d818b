// Python binding of corosync::Votequorum as corosync.Votequorum (votequorum_* of
// libvotequorum, votequorum.h, votequorum_overview(3)).
#include "brief_errors.hpp"
#include "gil.hpp"
#include "cxx_handle.hpp"
#include "handle_binding.hpp"
#include "py_types.hpp"
#include "service_binding.hpp"
#include "services.hpp"
#include "track_flags.hpp"

#include <corosync_cxx/votequorum.hpp>

#include <pybind11/gil_safe_call_once.h>
#include <pybind11/native_enum.h>
#include <pybind11/stl.h>

#include <memory>
#include <string>
#include <vector>

namespace corosync::python {
enum class NodeState : uint32_t {
  Member = VOTEQUORUM_NODESTATE_MEMBER,
  Dead = VOTEQUORUM_NODESTATE_DEAD,
  Leaving = VOTEQUORUM_NODESTATE_LEAVING,
};
enum class InfoFlag : uint32_t {
  TwoNode = VOTEQUORUM_INFO_TWONODE,
  Quorate = VOTEQUORUM_INFO_QUORATE,
  WaitForAll = VOTEQUORUM_INFO_WAIT_FOR_ALL,
  LastManStanding = VOTEQUORUM_INFO_LAST_MAN_STANDING,
  AutoTieBreaker = VOTEQUORUM_INFO_AUTO_TIE_BREAKER,
  AllowDownscale = VOTEQUORUM_INFO_ALLOW_DOWNSCALE,
  QdeviceRegistered = VOTEQUORUM_INFO_QDEVICE_REGISTERED,
  QdeviceAlive = VOTEQUORUM_INFO_QDEVICE_ALIVE,
  QdeviceCastVote = VOTEQUORUM_INFO_QDEVICE_CAST_VOTE,
  QdeviceMasterWins = VOTEQUORUM_INFO_QDEVICE_MASTER_WINS,
};

// Objects of corosync.votequorum's dataclasses, as the stubs name them.
class PyNodeInfo : public py::object {
 public:
  PYBIND11_OBJECT_DEFAULT(PyNodeInfo, py::object, any_object)
  using py::object::object;
};
class PyNodeStatus : public py::object {
 public:
  PYBIND11_OBJECT_DEFAULT(PyNodeStatus, py::object, any_object)
  using py::object::object;
};
}  // namespace corosync::python

namespace pybind11::detail {
template <>
struct handle_type_name<corosync::python::PyNodeInfo> {
  static constexpr auto name = const_name("corosync.votequorum.NodeInfo");
};
template <>
struct handle_type_name<corosync::python::PyNodeStatus> {
  static constexpr auto name = const_name("corosync.votequorum.NodeStatus");
};
}  // namespace pybind11::detail

namespace corosync::python {

namespace {

using NotifyCallback = py::typing::Optional<
    py::typing::Callable<void(bool, PyRingId, py::typing::List<PyNodeStatus>)>>;
using NodelistCallback =
    py::typing::Optional<py::typing::Callable<void(PyRingId, py::typing::List<int>)>>;
using ExpectedVotesCallback = py::typing::Optional<py::typing::Callable<void(int)>>;

struct VotequorumTypes {
  py::object node_info;    // corosync.votequorum.NodeInfo
  py::object node_status;  // corosync.votequorum.NodeStatus
};

// Looked up once, on first use: the package imports this module before corosync.votequorum.
const VotequorumTypes& votequorum_types() {
  PYBIND11_CONSTINIT static py::gil_safe_call_once_and_store<VotequorumTypes> storage;
  return storage
      .call_once_and_store_result([] {
        py::module_ vq = py::module_::import("corosync.votequorum");
        return VotequorumTypes{vq.attr("NodeInfo"), vq.attr("NodeStatus")};
      })
      .get_stored();
}

py::object ring_object(RingId ring) { return package_types().ring_id(ring.nodeid, ring.seq); }

// A state corosync added after this binding keeps its number.
py::object state_object(uint32_t state) {
  if (state >= VOTEQUORUM_NODESTATE_MEMBER && state <= VOTEQUORUM_NODESTATE_LEAVING)
    return py::cast(static_cast<NodeState>(state));
  return py::int_(state);
}

// Flags corosync added after this binding stay in the IntFlag as unknown bits.
py::object info_object(const VotequorumInfo& i) {
  return votequorum_types().node_info(
      i.nodeid, state_object(i.state), i.votes, i.expected_votes, i.highest_expected,
      i.total_votes, i.quorum, py::cast(static_cast<InfoFlag>(i.flags)),
      i.qdevice_votes, py::str(i.qdevice_name));
}

// The Python-facing Votequorum: owns the core Votequorum and the Python callbacks it calls.
class PyVotequorum : public VotequorumListener {
 public:
  explicit PyVotequorum(RetryPolicy retry) : votequorum(this, retry) {}
  // Runs with the GIL held (tp_dealloc): an unclosed handle is finalized without it.
  ~PyVotequorum() override {
    finalize_collected(votequorum, "corosync.Votequorum");
    votequorum.set_listener(nullptr);
  }

  void on_notify(bool quorate, RingId ring_id,
                 const std::vector<VotequorumNode>& nodes) override {
    callback_with_gil(votequorum, [&] {
      py::object fn = notify;  // kept alive even if the attribute is replaced meanwhile
      if (!fn || fn.is_none()) return;
      py::list list;
      for (const VotequorumNode& n : nodes)
        list.append(votequorum_types().node_status(n.nodeid, state_object(n.state)));
      call_python(fn, py::bool_(quorate), ring_object(ring_id), list);
    });
  }

  void on_nodelist(RingId ring_id, const std::vector<uint32_t>& nodes) override {
    callback_with_gil(votequorum, [&] {
      py::object fn = nodelist;
      if (!fn || fn.is_none()) return;
      call_python(fn, ring_object(ring_id), py::cast(nodes));
    });
  }

  void on_expectedvotes(uint32_t expected_votes) override {
    callback_with_gil(votequorum, [&] {
      py::object fn = expectedvotes;
      if (!fn || fn.is_none()) return;
      call_python(fn, py::int_(expected_votes));
    });
  }

  template <class Visit>
  void for_each_callback(Visit&& visit) {
    visit(notify);
    visit(nodelist);
    visit(expectedvotes);
  }

  Votequorum votequorum;
  py::object notify, nodelist, expectedvotes;
};

Handle& handle_of(PyVotequorum& self) { return self.votequorum; }

void bind_enums(py::module_& m) {
  py::native_enum<NodeState>(m, "NodeState", "enum.IntEnum",
                             "A node's state in votequorum (VOTEQUORUM_NODESTATE_*).")
      .value("MEMBER", NodeState::Member)
      .value("DEAD", NodeState::Dead)
      .value("LEAVING", NodeState::Leaving)
      .finalize();
  py::native_enum<InfoFlag>(m, "InfoFlag", "enum.IntFlag",
                            "The flags of votequorum's node information "
                            "(VOTEQUORUM_INFO_*).")
      .value("TWO_NODE", InfoFlag::TwoNode)
      .value("QUORATE", InfoFlag::Quorate)
      .value("WAIT_FOR_ALL", InfoFlag::WaitForAll)
      .value("LAST_MAN_STANDING", InfoFlag::LastManStanding)
      .value("AUTO_TIE_BREAKER", InfoFlag::AutoTieBreaker)
      .value("ALLOW_DOWNSCALE", InfoFlag::AllowDownscale)
      .value("QDEVICE_REGISTERED", InfoFlag::QdeviceRegistered)
      .value("QDEVICE_ALIVE", InfoFlag::QdeviceAlive)
      .value("QDEVICE_CAST_VOTE", InfoFlag::QdeviceCastVote)
      .value("QDEVICE_MASTER_WINS", InfoFlag::QdeviceMasterWins)
      .finalize();
}

// A corosync.types.RingId whose fields fit corosync's (TypeError, OverflowError otherwise).
RingId ring_from(const py::handle& ring) {
  if (!py::isinstance(ring, package_types().ring_id))
    throw py::type_error(std::string("ring_id must be a corosync.RingId, not ") +
                         Py_TYPE(ring.ptr())->tp_name);
  auto field = [&](const char* name, unsigned bits) {
    py::object value = ring.attr(name);
    if (!PyLong_Check(value.ptr()))
      throw py::type_error(std::string("ring_id.") + name + " must be an int, not " +
                           Py_TYPE(value.ptr())->tp_name);
    return unsigned_arg(value, (std::string("ring_id.") + name).c_str(), bits);
  };
  return {static_cast<uint32_t>(field("nodeid", 32)), field("seq", 64)};
}

}  // namespace

void bind_votequorum(py::module_& m) {
  bind_enums(m);
  m.attr("VOTEQUORUM_QDEVICE_MAX_NAME_LEN") = VOTEQUORUM_QDEVICE_MAX_NAME_LEN;
  m.attr("VOTEQUORUM_QDEVICE_NODEID") = VOTEQUORUM_QDEVICE_NODEID;
  py::class_<PyVotequorum> cls(m, "Votequorum", gc_support<PyVotequorum>(),
                               "A connection to corosync's votequorum service "
                               "(votequorum_initialize): votes, expected votes, quorum, and "
                               "the qdevice API.\n\nCallbacks run inside dispatch() in the "
                               "calling thread once trackstart() was called.");
  cls.def(py::init([](const NotifyCallback& on_notify, const NodelistCallback& on_nodelist,
                      const ExpectedVotesCallback& on_expectedvotes, double retry_timeout) {
            RetryPolicy retry = retry_policy(retry_timeout);
            py::object n = checked_callback(on_notify, "on_notify");
            py::object l = checked_callback(on_nodelist, "on_nodelist");
            py::object e = checked_callback(on_expectedvotes, "on_expectedvotes");
            auto self = without_gil([&] { return std::make_unique<PyVotequorum>(retry); });
            self->notify = n;
            self->nodelist = l;
            self->expectedvotes = e;
            return self;
          }),
          py::kw_only(), py::arg("on_notify") = py::none(), py::arg("on_nodelist") = py::none(),
          py::arg("on_expectedvotes") = py::none(), py::arg("retry_timeout") = 3.0,
          "Connect to the local corosync's votequorum service (votequorum_initialize). "
          "on_notify(quorate, ring_id, nodes), on_nodelist(ring_id, nodes) and "
          "on_expectedvotes(expected_votes) run inside dispatch() after trackstart(); "
          "corosync's quorum notification has no ring id of its own, so on_notify gets the "
          "one of the last on_nodelist, which corosync sends first at every ring change "
          "(RingId(0, 0) before any). Calls answered with CS_ERR_TRY_AGAIN are retried for "
          "up to retry_timeout seconds (0 disables retrying), then raise TryAgainError.");
  bind_handle_methods(cls, "votequorum", handle_of);
  def_cxx_handle<Votequorum>(cls, COROSYNC_CXX_CAPSULE(Votequorum),
                        [](PyVotequorum& self) -> Votequorum& { return self.votequorum; });
  def_callback<NotifyCallback>(
      cls, "on_notify", &PyVotequorum::notify, handle_of,
      "fn(quorate: bool, ring_id, nodes: list[NodeStatus]): the cluster's quorum state.");
  def_callback<NodelistCallback>(cls, "on_nodelist", &PyVotequorum::nodelist, handle_of,
                                 "fn(ring_id, nodes: list[int]): the nodes of a new ring.");
  def_callback<ExpectedVotesCallback>(cls, "on_expectedvotes", &PyVotequorum::expectedvotes,
                                      handle_of, "fn(expected_votes: int): they changed.");
  cls.def(
         "info",
         [](PyVotequorum& self, const py::int_& nodeid_arg) {
           uint32_t nodeid = uint32_arg(nodeid_arg, "nodeid");
           VotequorumInfo info = without_gil([&] { return self.votequorum.getinfo(nodeid); });
           return PyNodeInfo(info_object(info));
         },
         py::arg("nodeid") = 0,
         "What votequorum knows of a node (votequorum_getinfo): 0 (the default) is this "
         "node; NotExistError for a node id votequorum does not know.")
      .def(
          "set_expected",
          [](PyVotequorum& self, const py::int_& votes_arg) {
            uint32_t votes = uint32_arg(votes_arg, "votes");
            without_gil([&] { self.votequorum.setexpected(votes); });
          },
          py::arg("votes"),
          "Set the expected votes of the cluster (votequorum_setexpected). corosync refuses "
          "(InvalidParamError) fewer than the votes present, and values that would make a "
          "quorate cluster inquorate; values from 2**32 - 2 up, which it takes only because "
          "its arithmetic wraps around, are refused here.")
      .def(
          "set_votes",
          [](PyVotequorum& self, const py::int_& votes_arg, const py::int_& nodeid_arg) {
            uint32_t votes = uint32_arg(votes_arg, "votes");
            uint32_t nodeid = uint32_arg(nodeid_arg, "nodeid");
            without_gil([&] { self.votequorum.setvotes(nodeid, votes); });
          },
          py::arg("votes"), py::arg("nodeid") = 0,
          "Set a node's votes (votequorum_setvotes); nodeid 0 (the default) is this node. "
          "NameNotFoundError for a node votequorum does not know; InvalidParamError for "
          "votes that would leave the cluster inquorate.")
      .def(
          "trackstart",
          [](PyVotequorum& self, TrackFlags flags) {
            without_gil(
                [&] { self.votequorum.trackstart(static_cast<unsigned int>(flags)); });
          },
          py::arg_v("flags", TrackFlags::Changes, "TrackFlags.CHANGES"),
          "Start reporting to the callbacks (votequorum_trackstart).")
      .def(
          "trackstop",
          [](PyVotequorum& self) { without_gil([&] { self.votequorum.trackstop(); }); },
          "Stop reporting (votequorum_trackstop).")
      .def(
          "qdevice_register",
          [](PyVotequorum& self, const py::str& name) {
            std::string n = utf8(name, "name");
            without_gil([&] { self.votequorum.qdevice_register(n); });
          },
          py::arg("name"),
          "Register this process as the node's quorum device `name` "
          "(votequorum_qdevice_register); names are 1 to 254 bytes.")
      .def(
          "qdevice_unregister",
          [](PyVotequorum& self, const py::str& name) {
            std::string n = utf8(name, "name");
            without_gil([&] { self.votequorum.qdevice_unregister(n); });
          },
          py::arg("name"), "Unregister the quorum device (votequorum_qdevice_unregister).")
      .def(
          "qdevice_update",
          [](PyVotequorum& self, const py::str& old_name, const py::str& new_name) {
            std::string o = utf8(old_name, "old_name"), n = utf8(new_name, "new_name");
            without_gil([&] { self.votequorum.qdevice_update(o, n); });
          },
          py::arg("old_name"), py::arg("new_name"),
          "Rename the quorum device (votequorum_qdevice_update).")
      .def(
          "qdevice_poll",
          [](PyVotequorum& self, const py::str& name, bool cast_vote, const PyRingId& ring_id) {
            // Checked before the name: a bad ring id is what corosync answers first too.
            RingId ring = ring_from(ring_id);
            std::string n = utf8(name, "name");
            without_gil([&] { self.votequorum.qdevice_poll(n, cast_vote, ring); });
          },
          py::arg("name"), py::arg("cast_vote"), py::arg("ring_id"),
          "Tell votequorum the device is alive and whether it casts its vote "
          "(votequorum_qdevice_poll), for the ring `ring_id` (the current one, from "
          "on_nodelist; corosync answers a stale one with MessageError).")
      .def(
          "qdevice_master_wins",
          [](PyVotequorum& self, const py::str& name, bool allow) {
            std::string n = utf8(name, "name");
            without_gil([&] { self.votequorum.qdevice_master_wins(n, allow); });
          },
          py::arg("name"), py::arg("allow"),
          "Set the device's master_wins (votequorum_qdevice_master_wins).")
      .def("__repr__", [](PyVotequorum& self) {
        return std::string(self.votequorum.closed() ? "<corosync.Votequorum closed>"
                                                    : "<corosync.Votequorum>");
      });
  brief_argument_errors(cls);
  FastDispatch<PyVotequorum, handle_of>::install(cls);
}

}  // namespace corosync::python
