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
// The GIL as the try_dispatch caller's lock: let go while the dispatch lets another
// thread's close() or join() in, and for a moment every 64 events.
class Gil final : public CallerLock {
 public:
  void release() noexcept override { saved_ = PyEval_SaveThread(); }
  void reacquire() noexcept override { corosync::python::reacquire(saved_); }

 private:
  PyThreadState* saved_ = nullptr;
};

// Marks this thread as running `handle`'s try_dispatch with the GIL (dispatching_with_gil)
// for its scope; a callback that dispatches another handle marks that one meanwhile.
class GilDispatch {
 public:
  explicit GilDispatch(const Handle& handle) : outer_(dispatching_with_gil) {
    dispatching_with_gil = &handle;
  }
  ~GilDispatch() { dispatching_with_gil = outer_; }
  GilDispatch(const GilDispatch&) = delete;
  GilDispatch& operator=(const GilDispatch&) = delete;

 private:
  const Handle* outer_;
};
}  // namespace

[[gnu::hot]]
void dispatch_from_python(Handle& handle, DispatchFlags flags) {
  // What is queued is dispatched without letting go of the GIL, whichever threads exist:
  // letting it go around the dispatch and taking it back for each callback cost more than
  // the event itself, and with threads sending meanwhile each callback waited for one of
  // them to hand the GIL back (4 sending threads reached 0.8 of one thread's rate; now
  // more than one's). Other threads still run: the interpreter hands them the GIL within
  // a callback's Python code, and a long ALL hands it on every 64 events. What could wait
  // (another thread holding the handle, a connection to finalize, a blocking flag) goes
  // on without the GIL. Callbacks that try_dispatch runs use the GIL this thread holds
  // (callback_with_gil): try_dispatch must never be called here without it.
  Gil gil;
  Handle::TryResult result;
  {
    GilDispatch marked(handle);
    result = handle.try_dispatch(flags, &gil);
  }
  if (result == Handle::TryResult::Done) return;
  // Only the waiting flavours need to wake for signals.
  bool waits = flags == DispatchFlags::One || flags == DispatchFlags::Blocking;
  InterruptCheck check = waits ? python_signal_check() : InterruptCheck{};
  without_gil([&] { handle.dispatch(flags, check); });
}

}  // namespace corosync::python
