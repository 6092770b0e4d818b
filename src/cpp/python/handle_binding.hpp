// What every service handle class shares in Python: close/closed, fileno, dispatch and the
// context-manager protocol. Defined once here, applied to each service's class.
#pragma once

#include "gil.hpp"

#include <corosync_cxx/handle.hpp>

#include <pybind11/pybind11.h>

namespace corosync::python {

void bind_dispatch_flags(py::module_& m);
void dispatch_from_python(Handle& handle, DispatchFlags flags);

// `Owner` is the Python-facing class; `handle_of(owner)` gives its corosync::Handle.
template <class Owner, class... Extra, class HandleOf>
void bind_handle_methods(py::class_<Owner, Extra...>& cls, HandleOf handle_of) {
  cls.def(
         "close", [handle_of](Owner& self) { without_gil([&] { handle_of(self).close(); }); },
         "Finalize the connection. Idempotent; later calls raise ClosedError.")
      .def_property_readonly(
          "closed", [handle_of](Owner& self) { return handle_of(self).closed(); },
          "True once close() was called.")
      .def(
          "fileno", [handle_of](Owner& self) { return handle_of(self).fd(); },
          "The connection's fd, to poll for readability (select, selectors, asyncio); "
          "never read from it.")
      .def(
          "dispatch",
          [handle_of](Owner& self, DispatchFlags flags) {
            dispatch_from_python(handle_of(self), flags);
          },
          py::arg_v("flags", DispatchFlags::All, "DispatchFlags.ALL"),
          "Run the callbacks of queued events in this thread.\n\n"
          "ALL runs what is queued and returns; ONE_NONBLOCKING runs at most one event; ONE "
          "waits for one event; BLOCKING runs events until the handle is closed or the "
          "connection is lost (LibraryError). Waiting releases the GIL and reacts to Ctrl-C. "
          "An exception raised by a callback propagates after that callback; later events "
          "stay queued. Calling dispatch from one of this handle's callbacks raises "
          "RuntimeError.")
      .def("__enter__", [handle_of](py::object self) {
        handle_of(self.cast<Owner&>()).fd();  // ClosedError for a closed handle
        return self;
      })
      .def(
          "__exit__",
          [handle_of](Owner& self, const py::object&, const py::object&, const py::object&) {
            without_gil([&] { handle_of(self).close(); });
          },
          py::arg("exc_type"), py::arg("exc_value"), py::arg("traceback"));
}

}  // namespace corosync::python
