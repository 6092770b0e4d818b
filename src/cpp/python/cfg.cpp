// Python binding of corosync::Cfg as corosync.CFG (corosync_cfg_* of libcfg, cfg.h): what
// corosync-cfgtool does, typed.
#include "brief_errors.hpp"
#include "enum_args.hpp"
#include "gil.hpp"
#include "cxx_handle.hpp"
#include "handle_binding.hpp"
#include "py_types.hpp"
#include "service_binding.hpp"
#include "services.hpp"

#include <corosync_cxx/cfg.hpp>

#include <pybind11/native_enum.h>
#include <pybind11/stl.h>

#include <memory>
#include <string>
#include <vector>

namespace corosync::python {
enum class ShutdownFlags : unsigned {
  Request = COROSYNC_CFG_SHUTDOWN_FLAG_REQUEST,
  Regardless = COROSYNC_CFG_SHUTDOWN_FLAG_REGARDLESS,
  Immediate = COROSYNC_CFG_SHUTDOWN_FLAG_IMMEDIATE,
};
enum class ShutdownReply : unsigned {
  No = COROSYNC_CFG_SHUTDOWN_FLAG_NO,
  Yes = COROSYNC_CFG_SHUTDOWN_FLAG_YES,
};

// Objects of corosync.cfg's dataclasses, as the stubs name them.
class PyCfgNodeStatus : public py::object {
 public:
  PYBIND11_OBJECT_DEFAULT(PyCfgNodeStatus, py::object, any_object)
  using py::object::object;
};
class PyRingStatus : public py::object {
 public:
  PYBIND11_OBJECT_DEFAULT(PyRingStatus, py::object, any_object)
  using py::object::object;
};
class PyIpAddress : public py::object {
 public:
  PYBIND11_OBJECT_DEFAULT(PyIpAddress, py::object, any_object)
  using py::object::object;
};
}  // namespace corosync::python

COROSYNC_INT_ENUM_ARG(corosync::python::ShutdownFlags, "flags", "ShutdownFlags",
                      COROSYNC_CFG_SHUTDOWN_FLAG_REQUEST, COROSYNC_CFG_SHUTDOWN_FLAG_IMMEDIATE)
COROSYNC_INT_ENUM_ARG(corosync::python::ShutdownReply, "reply", "ShutdownReply",
                      COROSYNC_CFG_SHUTDOWN_FLAG_NO, COROSYNC_CFG_SHUTDOWN_FLAG_YES)

namespace pybind11::detail {
template <>
struct handle_type_name<corosync::python::PyCfgNodeStatus> {
  static constexpr auto name = const_name("corosync.cfg.NodeStatus");
};
template <>
struct handle_type_name<corosync::python::PyRingStatus> {
  static constexpr auto name = const_name("corosync.cfg.RingStatus");
};
template <>
struct handle_type_name<corosync::python::PyIpAddress> {
  static constexpr auto name = const_name("ipaddress.IPv4Address | ipaddress.IPv6Address");
};
}  // namespace pybind11::detail

namespace corosync::python {

namespace {

using ShutdownCallback = py::typing::Optional<py::typing::Callable<void(ShutdownFlags)>>;

struct CfgTypes {
  py::object node_status;  // corosync.cfg.NodeStatus
  py::object link_status;  // corosync.cfg.LinkStatus
  py::object ring_status;  // corosync.cfg.RingStatus
  py::object ip_address;   // ipaddress.ip_address
};

// Looked up once, on first use: the package imports this module before corosync.cfg.
const CfgTypes& cfg_types() {
  PYBIND11_CONSTINIT static py::gil_safe_call_once_and_store<CfgTypes> storage;
  return storage
      .call_once_and_store_result([] {
        py::module_ cfg = py::module_::import("corosync.cfg");
        py::module_ ipaddress = py::module_::import("ipaddress");
        return CfgTypes{cfg.attr("NodeStatus"), cfg.attr("LinkStatus"), cfg.attr("RingStatus"),
                        ipaddress.attr("ip_address")};
      })
      .get_stored();
}

py::object node_status_object(const CfgNodeStatus& s) {
  const CfgTypes& types = cfg_types();
  py::list links;
  for (const CfgLinkStatus& l : s.links)
    links.append(types.link_status(l.link, l.enabled, l.connected, l.dynconnected, l.mtu,
                                   py::str(l.src), py::str(l.dst)));
  return types.node_status(s.nodeid, s.reachable, s.remote, s.external, s.onwire_min,
                           s.onwire_max, s.onwire_ver, links);
}

// The Python-facing CFG: owns the core Cfg and the Python callback it calls.
class PyCfg : public CfgListener {
 public:
  explicit PyCfg(RetryPolicy retry) : cfg(this, retry) {}
  // Runs with the GIL held (tp_dealloc): an unclosed handle is finalized without it.
  ~PyCfg() override {
    finalize_collected(cfg, "corosync.CFG");
    cfg.set_listener(nullptr);
  }

  void on_shutdown(unsigned flags) override {
    callback_with_gil(cfg, [&] {
      py::object fn = shutdown;  // kept alive even if the attribute is replaced meanwhile
      if (!fn || fn.is_none()) return;
      py::object value = flags <= COROSYNC_CFG_SHUTDOWN_FLAG_IMMEDIATE
                             ? py::cast(static_cast<ShutdownFlags>(flags))
                             : py::object(py::int_(flags));
      call_python(fn, value);
    });
  }

  template <class Visit>
  void for_each_callback(Visit&& visit) {
    visit(shutdown);
  }

  Cfg cfg;
  py::object shutdown;
};

Handle& handle_of(PyCfg& self) { return self.cfg; }

}  // namespace

void bind_cfg(py::module_& m) {
  py::native_enum<ShutdownFlags>(
      m, "ShutdownFlags", "enum.IntEnum",
      "How a shutdown is asked for (corosync_cfg_shutdown_flags_t): REQUEST asks every "
      "tracking client and goes ahead only if all say yes in time; REGARDLESS asks them "
      "alike, waits for the answers, then goes ahead whatever they are; IMMEDIATE asks no "
      "one.")
      .value("REQUEST", ShutdownFlags::Request)
      .value("REGARDLESS", ShutdownFlags::Regardless)
      .value("IMMEDIATE", ShutdownFlags::Immediate)
      .finalize();
  py::native_enum<ShutdownReply>(m, "ShutdownReply", "enum.IntEnum",
                                 "The answer to a shutdown request "
                                 "(corosync_cfg_shutdown_reply_flags_t).")
      .value("NO", ShutdownReply::No)
      .value("YES", ShutdownReply::Yes)
      .finalize();

  py::class_<PyCfg> cls(m, "CFG", gc_support<PyCfg>(),
                        "A connection to corosync's configuration service "
                        "(corosync_cfg_initialize): node and link status, reload, node kill "
                        "and shutdown coordination.\n\n"
                        "on_shutdown runs inside dispatch() in the calling thread once "
                        "trackstart() was called.");
  cls.def(py::init([](const ShutdownCallback& on_shutdown, double retry_timeout) {
            RetryPolicy retry = retry_policy(retry_timeout);
            py::object fn = checked_callback(on_shutdown, "on_shutdown");
            auto self = without_gil([&] { return std::make_unique<PyCfg>(retry); });
            self->shutdown = fn;
            return self;
          }),
          py::kw_only(), py::arg("on_shutdown") = py::none(), py::arg("retry_timeout") = 3.0,
          "Connect to the local corosync's configuration service (corosync_cfg_initialize). "
          "on_shutdown(flags: ShutdownFlags) runs inside dispatch() after trackstart(), when "
          "a shutdown is asked for; answer a REQUEST with reply_to_shutdown(). Calls "
          "answered with CS_ERR_TRY_AGAIN are retried for up to retry_timeout seconds (0 "
          "disables retrying), then raise TryAgainError.");
  bind_handle_methods(cls, "corosync_cfg", handle_of);
  def_cxx_handle<Cfg>(cls, COROSYNC_CXX_CAPSULE(Cfg),
                        [](PyCfg& self) -> Cfg& { return self.cfg; });
  def_callback<ShutdownCallback>(
      cls, "on_shutdown", &PyCfg::shutdown, handle_of,
      "fn(flags: ShutdownFlags): a shutdown is being asked for; answer with "
      "reply_to_shutdown (under REGARDLESS it goes ahead whatever the answer).");
  cls.def_property_readonly(
         "local_nodeid",
         [](PyCfg& self) { return without_gil([&] { return self.cfg.local_nodeid(); }); },
         "This node's id (corosync_cfg_local_get).")
      .def(
          "node_status",
          [](PyCfg& self, const py::int_& nodeid) {
            uint32_t id = uint32_arg(nodeid, "nodeid");
            CfgNodeStatus status = without_gil([&] { return self.cfg.node_status(id); });
            return PyCfgNodeStatus(node_status_object(status));
          },
          py::arg("nodeid"),
          "A node's knet status (corosync_cfg_node_status_get, version 1): reachable, "
          "remote, external, on-wire versions and its configured links, as this node sees "
          "them. FailedOperationError (the daemon's answer) for a node knet does not know.")
      .def(
          "node_addrs",
          [](PyCfg& self, const py::int_& nodeid) {
            uint32_t id = uint32_arg(nodeid, "nodeid");
            std::vector<CfgNodeAddress> addrs =
                without_gil([&] { return self.cfg.node_addrs(id); });
            py::typing::List<PyIpAddress> result;
            for (const CfgNodeAddress& a : addrs)
              result.append(cfg_types().ip_address(py::str(a.text)));
            return result;
          },
          py::arg("nodeid") = 0,
          "A node's configured addresses, one per link, as ipaddress objects "
          "(corosync_cfg_get_node_addrs; nodeid 0: this node). NotExistError for a node "
          "corosync does not know.")
      .def(
          "ring_status",
          [](PyCfg& self) {
            std::vector<CfgRingStatus> rings = without_gil([&] { return self.cfg.ring_status(); });
            py::typing::List<PyRingStatus> result;
            py::object ring_status = cfg_types().ring_status;
            for (const CfgRingStatus& r : rings)
              result.append(ring_status(py::str(r.name), py::str(r.status)));
            return result;
          },
          "Each link's name and status text, as corosync-cfgtool -s printed them before "
          "node_status existed (corosync_cfg_ring_status_get).")
      .def(
          "reload_config", [](PyCfg& self) { without_gil([&] { self.cfg.reload_config(); }); },
          "Every node rereads corosync.conf (corosync_cfg_reload_config).")
      .def(
          "reopen_log_files",
          [](PyCfg& self) { without_gil([&] { self.cfg.reopen_log_files(); }); },
          "This node's daemon reopens its log files, e.g. after logrotate "
          "(corosync_cfg_reopen_log_files).")
      .def(
          "kill_node",
          [](PyCfg& self, const py::int_& nodeid, const py::str& reason) {
            uint32_t id = uint32_arg(nodeid, "nodeid");
            std::string text = utf8(reason, "reason");
            without_gil([&] { self.cfg.kill_node(id, text); });
          },
          py::arg("nodeid"), py::arg("reason"),
          "Make a node's daemon exit; it logs `reason` (corosync_cfg_kill_node). The reason "
          "is at most 255 UTF-8 bytes without NUL (NameTooLongError, InvalidParamError); "
          "NotExistError for a node not in the membership.")
      .def(
          "trackstart", [](PyCfg& self) { without_gil([&] { self.cfg.trackstart(); }); },
          "Receive shutdown requests in on_shutdown (corosync_cfg_trackstart).")
      .def(
          "trackstop", [](PyCfg& self) { without_gil([&] { self.cfg.trackstop(); }); },
          "Stop receiving shutdown requests (corosync_cfg_trackstop).")
      .def(
          "try_shutdown",
          [](PyCfg& self, ShutdownFlags flags) {
            without_gil([&] { self.cfg.try_shutdown(static_cast<unsigned>(flags)); });
          },
          py::arg_v("flags", ShutdownFlags::Request, "ShutdownFlags.REQUEST"),
          "Ask this node's daemon to shut down (corosync_cfg_try_shutdown). REQUEST waits "
          "for every other tracking client's reply (up to cfg.shutdown_timeout, 5 s by "
          "default) and raises BusyError when one says no or does not answer; ExistError "
          "while another request is running.")
      .def(
          "reply_to_shutdown",
          [](PyCfg& self, ShutdownReply reply) {
            without_gil([&] { self.cfg.reply_to_shutdown(reply == ShutdownReply::Yes); });
          },
          py::arg_v("reply", ShutdownReply::Yes, "ShutdownReply.YES"),
          "Answer a shutdown REQUEST (corosync_cfg_replyto_shutdown). libcfg does not pass on "
          "the daemon's answer, and keeps this connection open until the process exits; "
          "close() stops tracking first.")
      .def("__repr__", [](PyCfg& self) {
        return std::string(self.cfg.closed() ? "<corosync.CFG closed>" : "<corosync.CFG>");
      });
  brief_argument_errors(cls);
  FastDispatch<PyCfg, handle_of>::install(cls);
}

}  // namespace corosync::python
