// What every service handle class shares in Python: close/closed, fileno, dispatch and the
// context-manager protocol. Defined once here, applied to each service's class.
#pragma once

#include "enum_args.hpp"
#include "fast_calls.hpp"
#include "gil.hpp"
#include "service_binding.hpp"

#include <corosync_cxx/handle.hpp>

#include <pybind11/pybind11.h>

#include <string>

COROSYNC_INT_ENUM_ARG(corosync::DispatchFlags, "flags", "DispatchFlags", CS_DISPATCH_ONE,
                      CS_DISPATCH_ONE_NONBLOCKING)

namespace corosync::python {

void bind_dispatch_flags(py::module_& m);
void dispatch_from_python(Handle& handle, DispatchFlags flags);

// `Owner` is the Python-facing class; `handle_of(owner)` gives its corosync::Handle;
// `service` is the C prefix ("cpg") that the docstrings name the wrapped calls with.
template <class Owner, class... Extra, class HandleOf>
void bind_handle_methods(py::class_<Owner, Extra...>& cls, const std::string& service,
                         HandleOf handle_of) {
  // pybind11 copies docstrings, so these temporaries may go.
  std::string close_doc = "Finalize the connection (" + service +
                          "_finalize). Idempotent; later calls raise ClosedError.";
  std::string fileno_doc =
      "An fd to poll for readability (select, selectors, asyncio), over the connection's (" +
      service +
      "_fd_get); never read from it. It is the same fd, open, for the handle's life: "
      "readable while an event is queued, and for good once the handle is closed (from any "
      "thread) or the daemon is lost, so that a poll always ends with a dispatch() that "
      "says why (ClosedError, LibraryError).";
  std::string dispatch_doc =
      "Run the callbacks of queued events in this thread (" + service +
      "_dispatch).\n\n"
      "ALL runs what is queued and returns; ONE_NONBLOCKING runs at most one callback; ONE "
      "waits until one callback has run; BLOCKING runs events until the handle is closed or the "
      "connection is lost (LibraryError). Waiting releases the GIL and reacts to Ctrl-C. "
      "An exception raised by a callback propagates after that callback; later events "
      "stay queued. Calling dispatch from one of this handle's callbacks raises "
      "RuntimeError. flags may be a DispatchFlags or its int value.";
  // Closing also lets go of the Python callbacks: none can run any more, and cycles
  // through them need not wait for the garbage collector.
  auto close = [handle_of](Owner& self) {
    without_gil([&] { handle_of(self).close(); });
    drop_callbacks(self);
  };
  cls.def("close", close, close_doc.c_str())
      .def_property_readonly(
          "retry_timeout",
          [handle_of](Owner& self) { return handle_of(self).retry().timeout().count(); },
          "Seconds a call answered with CS_ERR_TRY_AGAIN is retried (the constructor's "
          "retry_timeout).")
      .def_property_readonly(
          "closed", [handle_of](Owner& self) { return handle_of(self).closed(); },
          "True once close() was called.")
      .def(
          "fileno", [handle_of](Owner& self) { return handle_of(self).fd(); },
          fileno_doc.c_str())
      .def(
          "dispatch",
          [handle_of](Owner& self, DispatchFlags flags) {
            dispatch_from_python(handle_of(self), flags);
          },
          py::arg_v("flags", DispatchFlags::All, "DispatchFlags.ALL"), dispatch_doc.c_str())
      .def("__enter__", [handle_of](py::object self) {
        handle_of(self.cast<Owner&>()).fd();  // ClosedError for a closed handle
        return self;
      })
      .def(
          "__exit__",
          [close](Owner& self, const py::object&, const py::object&, const py::object&) {
            close(self);
          },
          py::arg("exc_type"), py::arg("exc_value"), py::arg("traceback"));
}

// `dispatch()` and `dispatch(flags)` with an int or DispatchFlags in range, on an instance
// of exactly Owner's class, skip pybind11's dispatcher (fast_calls.hpp); call after
// brief_argument_errors(cls).
template <class Owner, Handle& (*HandleOf)(Owner&)>
class FastDispatch {
 public:
  template <class... Extra>
  static void install(py::class_<Owner, Extra...>& cls) {
    path_.install(cls, "dispatch", &FastDispatch::call);
  }

 private:
  [[gnu::hot]]
  static PyObject* call(PyObject* self, PyObject* const* args, Py_ssize_t nargsf,
                        PyObject* kwnames) {
    Py_ssize_t n = PyVectorcall_NARGS(nargsf);
    DispatchFlags flags = DispatchFlags::All;
    if (!kwnames && (n == 0 || (n == 1 && flags_of(args[0], flags))))
      if (Owner* owner = path_.instance<Owner>(self))
        return none_or_error([&] { dispatch_from_python(HandleOf(*owner), flags); });
    return path_.fallback(self, args, nargsf, kwnames);
  }

  // An int (or DispatchFlags) naming a flag; anything else is left to the full check.
  static bool flags_of(PyObject* o, DispatchFlags& flags) {
    long v = 0;
    if (!int_in_range(o, CS_DISPATCH_ONE, CS_DISPATCH_ONE_NONBLOCKING, v)) return false;
    flags = static_cast<DispatchFlags>(v);
    return true;
  }

  static inline FastPath path_;
};

}  // namespace corosync::python
