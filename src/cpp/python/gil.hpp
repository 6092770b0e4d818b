// The one place where the binding's GIL rules live:
// - every core call that can block (IPC round trip, dispatch wait, finalize) runs with the
//   GIL released (`without_gil`);
// - callbacks from the core take the GIL back (`with_gil`);
// - a blocking wait wakes up to run Python's signal handlers, so Ctrl-C interrupts it;
// - daemon threads at interpreter exit: Python 3.11-3.13 end a thread that wants the GIL
//   back during finalization with pthread_exit, whose forced unwinding aborts the process
//   when it meets a noexcept destructor (gil_scoped_release's) or a catch (...) that does not
//   rethrow it. So the GIL is taken back in an ordinary function (`reacquire`), forced
//   unwinding is always rethrown, and a thread that finds the interpreter finalizing parks
//   for good instead (as Python 3.14 does itself) until the process exits.
#pragma once

#include <corosync_cxx/handle.hpp>

#include <pybind11/pybind11.h>

#include <type_traits>
#include <utility>

#ifdef __GLIBCXX__
#include <cxxabi.h>
#endif

namespace corosync::python {

namespace py = pybind11;

// Blocks the calling thread for good if the interpreter is finalizing. Called without the GIL.
void park_if_finalizing() noexcept;

// Takes the GIL back after PyEval_SaveThread. During finalization CPython may end the thread
// right here (pthread_exit): the forced unwinding then leaves through this ordinary function,
// which is allowed, where gil_scoped_release's noexcept destructor would abort.
void reacquire(PyThreadState* state);

// Runs `call`, then `after`: on return and on an ordinary exception, but not when the thread
// is being ended (forced unwinding), which must leave the GIL alone.
template <class Call, class After>
decltype(auto) then_always(Call&& call, After&& after) {
  using Result = decltype(std::forward<Call>(call)());
  try {
    if constexpr (std::is_void_v<Result>) {
      std::forward<Call>(call)();
      after();
    } else {
      Result result = std::forward<Call>(call)();
      after();
      return result;
    }
  }
#ifdef __GLIBCXX__
  catch (abi::__forced_unwind&) {
    throw;
  }
#endif
  catch (...) {
    after();
    throw;
  }
}

template <class Call>
decltype(auto) without_gil(Call&& call) {
  PyThreadState* state = PyEval_SaveThread();
  return then_always(std::forward<Call>(call), [state] { reacquire(state); });
}

// Takes the GIL (from a thread running without it) and runs `call`. Not gil_scoped_acquire:
// if the thread is ended inside `call` (a callback that sleeps or does I/O releases the GIL,
// and CPython exits the thread when it asks for it back during finalization), its destructor
// would give back a GIL this thread no longer holds.
template <class Call>
decltype(auto) with_gil(Call&& call) {
  park_if_finalizing();
  PyGILState_STATE gil = PyGILState_Ensure();
  return then_always(std::forward<Call>(call), [gil] { PyGILState_Release(gil); });
}

// Runs pending signal handlers (KeyboardInterrupt for Ctrl-C) from a blocking wait.
inline InterruptCheck python_signal_check() {
  return [] {
    with_gil([] {
      if (PyErr_CheckSignals() != 0) throw py::error_already_set();
    });
  };
}

}  // namespace corosync::python
