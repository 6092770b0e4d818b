// cpg_sender: a C++ extension that takes a corosync.CPG made in Python and sends through its
// C++ object (corosync::Cpg), while Python receives on the same handle.
//
//   import corosync, cpg_sender
//   cpg = corosync.CPG(on_deliver=...); cpg.join("g")
//   cpg_sender.send(cpg, "from C++")      # then cpg.dispatch() delivers it
//   cpg_sender.dispatch_pending(cpg)      # or C++ dispatches it, without the GIL
//
// The handle's cxx_handle() capsule carries the corosync::Cpg*; its name holds the ABI tag of
// the corosync_cxx headers the Python package was built with, so headers of another version
// are refused (ValueError) instead of misread. Holding the capsule keeps the handle alive.
#include <corosync_cxx/cpg.hpp>
#include <corosync_cxx/version.hpp>

#include <pybind11/pybind11.h>

#include <string>

namespace py = pybind11;

namespace {

// The handle's C++ object, valid while `capsule` is held.
corosync::Cpg& cpg_of(const py::object& handle, py::object& capsule) {
  capsule = handle.attr("cxx_handle")();
  void* cpg = PyCapsule_GetPointer(capsule.ptr(), COROSYNC_CXX_CAPSULE(Cpg));
  if (!cpg) throw py::error_already_set();
  return *static_cast<corosync::Cpg*>(cpg);
}

}  // namespace

PYBIND11_MODULE(cpg_sender, m) {
  m.doc() = "Sends through a corosync.CPG's C++ object (example of corosync_cxx interop).";
  m.def(
      "send",
      [](const py::object& handle, const std::string& message) {
        py::object capsule;
        corosync::Cpg& cpg = cpg_of(handle, capsule);
        corosync::ConstBuffer part{message.data(), message.size()};
        // The send may wait (flow control): without the GIL, as the binding itself does.
        py::gil_scoped_release released;
        cpg.mcast_joined(nullptr, CPG_TYPE_AGREED, &part, 1);
      },
      py::arg("cpg"), py::arg("message"),
      "Send `message` to the group `cpg` has joined, from C++ (corosync::Cpg::mcast_joined). "
      "corosync's errors come as RuntimeError with corosync's message.");
  m.def(
      "dispatch_pending",
      [](const py::object& handle) {
        py::object capsule;
        corosync::Cpg& cpg = cpg_of(handle, capsule);
        // Without the GIL, as a C++ event loop would run it: the handle's Python callbacks
        // take the GIL themselves.
        py::gil_scoped_release released;
        return cpg.try_dispatch(corosync::DispatchFlags::All) == corosync::Handle::TryResult::Done;
      },
      py::arg("cpg"),
      "Run the callbacks of what is queued, from C++ without the GIL (Handle::try_dispatch); "
      "False if another thread was dispatching the handle, and nothing was done.");
  m.def(
      "local_nodeid",
      [](const py::object& handle) {
        py::object capsule;
        return cpg_of(handle, capsule).local_get();
      },
      py::arg("cpg"), "This node's id, asked through the C++ object (cpg_local_get).");
  // The tag of the headers this module was compiled with, and of the library it runs with.
  m.attr("header_abi_tag") = COROSYNC_CXX_ABI_TAG;
  m.attr("library_abi_tag") = corosync::abi_tag();
}
