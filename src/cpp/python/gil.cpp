#include "gil.hpp"

#include <chrono>
#include <thread>

namespace corosync::python {

bool interpreter_finalizing() noexcept {
#if PY_VERSION_HEX >= 0x030D0000
  return Py_IsFinalizing() != 0;
#else
  return _Py_IsFinalizing() != 0;  // reads an atomic: safe without the GIL
#endif
}

void park_forever() noexcept {
  for (;;) std::this_thread::sleep_for(std::chrono::hours(1));
}

void park_if_finalizing() noexcept {
  if (interpreter_finalizing()) park_forever();
}

// Each of these may be where CPython ends the thread (pthread_exit). Letting that forced
// unwinding go on would run the destructors of the frames above (pybind11's argument
// holders) without the GIL while the main thread finalizes, so the thread parks inside the
// handler: it neither returns nor rethrows, and the process exit ends it.

void reacquire(PyThreadState* state) noexcept {
  park_if_finalizing();
  try {
    PyEval_RestoreThread(state);
  } catch (...) {
    park_forever();
  }
}

PyGILState_STATE acquire_gil() noexcept {
  park_if_finalizing();
  try {
    return PyGILState_Ensure();
  } catch (...) {
    park_forever();
  }
}

[[gnu::hot]]
void call_python_array(const py::handle& fn, PyObject* const* args, size_t count) {
  PyObject* result = nullptr;
  try {
    result = PyObject_Vectorcall(fn.ptr(), args, count, nullptr);
  } catch (...) {
    park_forever();  // only pthread_exit's unwinding gets out of CPython's C code
  }
  if (!result) throw py::error_already_set();
  Py_DECREF(result);
}

}  // namespace corosync::python
