#include "service_binding.hpp"

#include <chrono>
#include <cmath>
#include <string>

namespace corosync::python {

RetryPolicy retry_policy(double retry_timeout) {
  if (!(retry_timeout >= 0) || std::isinf(retry_timeout))
    throw py::value_error("retry_timeout must be a finite number of seconds >= 0");
  return RetryPolicy(std::chrono::duration<double>(retry_timeout));
}

uint64_t at_least_one(int64_t value, const char* name) {
  if (value < 1) throw py::value_error(std::string(name) + " must be at least 1");
  return static_cast<uint64_t>(value);
}

void finalize_collected(Handle& handle, const char* type_name) noexcept {
  if (handle.closed()) return;  // closed, moved from, or inherited by a forked child
  // tp_dealloc may run while an exception is being raised: keep it.
  PyObject *type, *value, *traceback;
  PyErr_Fetch(&type, &value, &traceback);
  if (PyErr_WarnFormat(PyExc_ResourceWarning, 1, "unclosed %s handle; close it or use `with`",
                       type_name) != 0)
    PyErr_WriteUnraisable(nullptr);
  PyErr_Restore(type, value, traceback);
  // At interpreter exit this thread must not give up the GIL: taking it back would park it.
  if (interpreter_finalizing())
    handle.close();
  else
    without_gil([&] { handle.close(); });
}

py::object checked_callback(const py::object& fn, const char* name) {
  if (!fn.is_none() && !PyCallable_Check(fn.ptr()))
    throw py::type_error(std::string(name) + " must be callable or None, not " +
                         Py_TYPE(fn.ptr())->tp_name);
  return fn;
}

}  // namespace corosync::python
