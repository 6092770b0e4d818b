#include "handle_binding.hpp"

#include <pybind11/native_enum.h>

namespace corosync::python {

void bind_dispatch_flags(py::module_& m) {
  py::native_enum<DispatchFlags>(m, "DispatchFlags", "enum.IntEnum",
                                 "How much dispatch() runs (corosync's CS_DISPATCH_*).")
      .value("ONE", DispatchFlags::One)
      .value("ALL", DispatchFlags::All)
      .value("BLOCKING", DispatchFlags::Blocking)
      .value("ONE_NONBLOCKING", DispatchFlags::OneNonblocking)
      .finalize();
}

namespace {

// Whether this is the interpreter's only thread, so that nobody can be waiting for the GIL.
// Read without the interpreter's lock of its thread list: a thread being created meanwhile
// may be missed, which costs it no more than the wait for one non-blocking dispatch.
bool sole_python_thread() {
  PyThreadState* head = PyInterpreterState_ThreadHead(PyInterpreterState_Get());
  return head && !PyThreadState_Next(head);
}

}  // namespace

void dispatch_from_python(Handle& handle, DispatchFlags flags) {
  // With no other thread, what is queued is dispatched without letting go of the GIL:
  // releasing it around the dispatch and taking it back for each callback cost more than
  // the event itself. With other threads it is let go, so that they run (send) while this
  // one dispatches. A long ALL hands the GIL on every 64 events, for threads started
  // meanwhile.
  auto yield = [] { reacquire(PyEval_SaveThread()); };
  if (sole_python_thread() && handle.try_dispatch(flags, yield) == Handle::TryResult::Done)
    return;
  // Only the waiting flavours need to wake for signals.
  bool waits = flags == DispatchFlags::One || flags == DispatchFlags::Blocking;
  InterruptCheck check = waits ? python_signal_check() : InterruptCheck{};
  without_gil([&] { handle.dispatch(flags, check); });
}

}  // namespace corosync::python
