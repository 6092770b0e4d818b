// Python binding of corosync::Quorum as corosync.Quorum (quorum_* of libquorum, quorum.h,
// quorum_overview(3)).
#include "brief_errors.hpp"
#include "gil.hpp"
#include "cxx_handle.hpp"
#include "handle_binding.hpp"
#include "py_types.hpp"
#include "service_binding.hpp"
#include "services.hpp"
#include "track_flags.hpp"

#include <corosync_cxx/quorum.hpp>

#include <pybind11/native_enum.h>
#include <pybind11/stl.h>

#include <memory>
#include <vector>

namespace corosync::python {
enum class QuorumType : uint32_t { Free = QUORUM_FREE, Set = QUORUM_SET };
}  // namespace corosync::python

namespace corosync::python {

namespace {

using NotifyCallback = py::typing::Optional<
    py::typing::Callable<void(bool, PyRingId, py::typing::List<int>)>>;
using NodelistCallback = py::typing::Optional<py::typing::Callable<void(
    PyRingId, py::typing::List<int>, py::typing::List<int>, py::typing::List<int>)>>;

py::object ring_object(RingId ring) { return package_types().ring_id(ring.nodeid, ring.seq); }

// The Python-facing Quorum: owns the core Quorum and the Python callbacks it calls.
class PyQuorum : public QuorumListener {
 public:
  explicit PyQuorum(RetryPolicy retry) : quorum(this, retry) {}
  // Runs with the GIL held (tp_dealloc): an unclosed handle is finalized without it.
  ~PyQuorum() override {
    finalize_collected(quorum, "corosync.Quorum");
    quorum.set_listener(nullptr);
  }

  void on_notify(bool quorate, RingId ring_id, const std::vector<uint32_t>& members) override {
    callback_with_gil(quorum, [&] {
      py::object fn = notify;  // kept alive even if the attribute is replaced meanwhile
      if (!fn || fn.is_none()) return;
      call_python(fn, py::bool_(quorate), ring_object(ring_id), py::cast(members));
    });
  }

  void on_nodelist(RingId ring_id, const std::vector<uint32_t>& members,
                   const std::vector<uint32_t>& joined,
                   const std::vector<uint32_t>& left) override {
    callback_with_gil(quorum, [&] {
      py::object fn = nodelist;
      if (!fn || fn.is_none()) return;
      call_python(fn, ring_object(ring_id), py::cast(members), py::cast(joined),
                  py::cast(left));
    });
  }

  template <class Visit>
  void for_each_callback(Visit&& visit) {
    visit(notify);
    visit(nodelist);
  }

  Quorum quorum;
  py::object notify, nodelist;
};

Handle& handle_of(PyQuorum& self) { return self.quorum; }

}  // namespace

void bind_quorum(py::module_& m) {
  py::native_enum<QuorumType>(m, "QuorumType", "enum.IntEnum",
                              "Whether the cluster has a quorum provider: FREE (none, so "
                              "always quorate; QUORUM_FREE) or SET (QUORUM_SET).")
      .value("FREE", QuorumType::Free)
      .value("SET", QuorumType::Set)
      .finalize();
  py::class_<PyQuorum> cls(m, "Quorum", gc_support<PyQuorum>(),
                           "A connection to corosync's quorum service "
                           "(quorum_model_initialize, model V1).\n\n"
                           "Callbacks run inside dispatch() in the calling thread once "
                           "trackstart() was called.");
  cls.def(py::init([](const NotifyCallback& on_notify, const NodelistCallback& on_nodelist,
                      double retry_timeout) {
            RetryPolicy retry = retry_policy(retry_timeout);
            py::object n = checked_callback(on_notify, "on_notify");
            py::object l = checked_callback(on_nodelist, "on_nodelist");
            auto self = without_gil([&] { return std::make_unique<PyQuorum>(retry); });
            self->notify = n;
            self->nodelist = l;
            return self;
          }),
          py::kw_only(), py::arg("on_notify") = py::none(), py::arg("on_nodelist") = py::none(),
          py::arg("retry_timeout") = 3.0,
          "Connect to the local corosync's quorum service (quorum_model_initialize with "
          "QUORUM_MODEL_V1). on_notify(quorate, ring_id, members) and on_nodelist(ring_id, "
          "members, joined, left) run inside dispatch() after trackstart(). Calls answered "
          "with CS_ERR_TRY_AGAIN are retried for up to retry_timeout seconds (0 disables "
          "retrying), then raise TryAgainError.");
  bind_handle_methods(cls, "quorum", handle_of);
  def_cxx_handle<Quorum>(cls, COROSYNC_CXX_CAPSULE(Quorum),
                        [](PyQuorum& self) -> Quorum& { return self.quorum; });
  def_callback<NotifyCallback>(
      cls, "on_notify", &PyQuorum::notify, handle_of,
      "fn(quorate: bool, ring_id, members: list[int]): the quorum state of a ring.");
  def_callback<NodelistCallback>(
      cls, "on_nodelist", &PyQuorum::nodelist, handle_of,
      "fn(ring_id, members, joined, left: list[int]): the nodes of a new ring.");
  cls.def_property_readonly(
         "quorum_type",
         [](PyQuorum& self) { return static_cast<QuorumType>(self.quorum.quorum_type()); },
         "QuorumType.SET when a quorum provider decides quorum, FREE when none is "
         "configured (then always quorate), as quorum_model_initialize reported.")
      .def_property_readonly(
          "quorate",
          [](PyQuorum& self) { return without_gil([&] { return self.quorum.getquorate(); }); },
          "Whether this node's partition is quorate (quorum_getquorate).")
      .def(
          "trackstart",
          [](PyQuorum& self, TrackFlags flags) {
            without_gil([&] { self.quorum.trackstart(static_cast<unsigned int>(flags)); });
          },
          py::arg_v("flags", TrackFlags::Changes, "TrackFlags.CHANGES"),
          "Start reporting to the callbacks (quorum_trackstart): CURRENT, the state now; "
          "CHANGES, every change from now on (with the state now); CHANGES_ONLY, the "
          "changes alone.")
      .def(
          "trackstop", [](PyQuorum& self) { without_gil([&] { self.quorum.trackstop(); }); },
          "Stop reporting (quorum_trackstop).")
      .def("__repr__", [](PyQuorum& self) {
        return std::string(self.quorum.closed() ? "<corosync.Quorum closed>"
                                                : "<corosync.Quorum>");
      });
  brief_argument_errors(cls);
  FastDispatch<PyQuorum, handle_of>::install(cls);
}

}  // namespace corosync::python
