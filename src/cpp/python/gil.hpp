// The one place where the binding's GIL rules live:
// - every core call that can block (IPC round trip, dispatch wait, finalize) runs with the
//   GIL released (`without_gil`);
// - callbacks from the core take the GIL back (`callback_with_gil`), unless the dispatch
//   running them is dispatch_from_python's try_dispatch, whose thread holds it already;
// - a blocking wait wakes up to run Python's signal handlers, so Ctrl-C interrupts it;
// - daemon threads at interpreter exit: Python 3.11-3.13 end a thread that wants the GIL
//   back during finalization with pthread_exit. Its forced unwinding aborts the process in a
//   noexcept destructor (gil_scoped_release's) and crashes it in destructors that touch
//   reference counts without the GIL (pybind11's argument holders). So the GIL is only ever
//   taken where that unwinding is caught at once (`reacquire`, `acquire_gil`, `call_python`),
//   and the thread then parks for good (as Python 3.14 does itself) until the process exits.
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

// Whether the interpreter is finalizing; safe without the GIL.
bool interpreter_finalizing() noexcept;
[[noreturn]] void park_forever() noexcept;
// Blocks the calling thread for good if the interpreter is finalizing. Called without the GIL.
void park_if_finalizing() noexcept;

// Takes the GIL back after PyEval_SaveThread, or parks if CPython ends the thread instead.
void reacquire(PyThreadState* state) noexcept;
// PyGILState_Ensure, or parks if CPython ends the thread instead.
PyGILState_STATE acquire_gil() noexcept;
// Calls fn(*args) with the GIL held (vectorcall: no argument tuple); a Python exception
// becomes py::error_already_set. Parks if CPython ends the thread inside the call (a
// callback that sleeps releases the GIL, and asking for it back during finalization ends
// the thread).
void call_python_array(const py::handle& fn, PyObject* const* args, size_t count);
template <class... Args>
void call_python(const py::handle& fn, const Args&... args) {
  PyObject* argv[] = {args.ptr()...};
  call_python_array(fn, argv, sizeof...(Args));
}

// Runs `call`, then `after`: on return and on an ordinary exception, but not when the thread
// is being ended (forced unwinding, e.g. pthread_cancel), which must leave the GIL alone.
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

// Takes the GIL (from a thread running without it) and runs `call`. Python callables are
// called through call_python, so that no pybind11 temporary is destroyed without the GIL.
template <class Call>
decltype(auto) with_gil(Call&& call) {
  PyGILState_STATE gil = acquire_gil();
  return then_always(std::forward<Call>(call), [gil] { PyGILState_Release(gil); });
}

// The handle whose try_dispatch dispatch_from_python runs on this thread with the GIL held
// (GilDispatch), else null. It marks the thread rather than asking PyGILState_Check per
// event (about 35 instructions), and a C++ module that dispatches through cxx_handle() never
// sets it. Initial-exec, as the core's dispatching connection (cpg.cpp): the default model
// for a shared library calls __tls_get_addr in ld.so on each use, once per event.
__attribute__((tls_model("initial-exec"))) inline thread_local const Handle*
    dispatching_with_gil = nullptr;

// Runs a callback of `handle` with the GIL. dispatch_from_python calls try_dispatch only
// with the GIL held, so a callback it runs has it already (the handle's dispatch turn keeps
// every other thread out of this handle's callbacks), and need not pay a PyGILState_Ensure
// and Release per event. Any other dispatch (a blocking one, or a C++ module's through
// cxx_handle(), which may run without the GIL) takes it.
template <class Call>
decltype(auto) callback_with_gil(const Handle& handle, Call&& call) {
  if (dispatching_with_gil == &handle) return std::forward<Call>(call)();
  return with_gil(std::forward<Call>(call));
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
