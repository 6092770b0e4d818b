#include "gil.hpp"

#include <chrono>
#include <thread>

namespace corosync::python {

namespace {
bool interpreter_finalizing() noexcept {
#if PY_VERSION_HEX >= 0x030D0000
  return Py_IsFinalizing() != 0;
#else
  return _Py_IsFinalizing() != 0;  // reads an atomic: safe without the GIL
#endif
}
}  // namespace

void park_if_finalizing() noexcept {
  if (!interpreter_finalizing()) return;
  for (;;) std::this_thread::sleep_for(std::chrono::hours(1));
}

void reacquire(PyThreadState* state) {
  park_if_finalizing();
  PyEval_RestoreThread(state);
}

}  // namespace corosync::python
