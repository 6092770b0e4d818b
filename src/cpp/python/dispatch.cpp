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
  // Only the waiting flavours need to wake for signals.
  bool waits = flags == DispatchFlags::One || flags == DispatchFlags::Blocking;
  InterruptCheck check = waits ? python_signal_check() : InterruptCheck{};
  without_gil([&] { handle.dispatch(flags, check); });
}

}  // namespace corosync::python
