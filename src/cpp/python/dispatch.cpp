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

void dispatch_from_python(Handle& handle, DispatchFlags flags) {
  // What is queued is dispatched without letting go of the GIL when nothing can wait:
  // releasing it around the dispatch and taking it back for each callback cost more than
  // the event itself. The GIL is handed on every 64 events of a long ALL.
  auto yield = [] { reacquire(PyEval_SaveThread()); };
  if (handle.try_dispatch(flags, yield) == Handle::TryResult::Done) return;
  // Only the waiting flavours need to wake for signals.
  bool waits = flags == DispatchFlags::One || flags == DispatchFlags::Blocking;
  InterruptCheck check = waits ? python_signal_check() : InterruptCheck{};
  without_gil([&] { handle.dispatch(flags, check); });
}

}  // namespace corosync::python
