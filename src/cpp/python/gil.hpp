// The one place where the binding's GIL rules live:
// - every core call that can block (IPC round trip, dispatch wait, finalize) runs with the
//   GIL released (`without_gil`);
// - callbacks from the core take the GIL back (`gil_scoped_acquire` in each listener);
// - a blocking wait wakes up to run Python's signal handlers, so Ctrl-C interrupts it.
#pragma once

#include <corosync_cxx/handle.hpp>

#include <pybind11/pybind11.h>

#include <utility>

namespace corosync::python {

namespace py = pybind11;

template <class Call>
decltype(auto) without_gil(Call&& call) {
  py::gil_scoped_release release;
  return std::forward<Call>(call)();
}

// Runs pending signal handlers (KeyboardInterrupt for Ctrl-C) from a blocking wait.
inline InterruptCheck python_signal_check() {
  return [] {
    py::gil_scoped_acquire gil;
    if (PyErr_CheckSignals() != 0) throw py::error_already_set();
  };
}

}  // namespace corosync::python
