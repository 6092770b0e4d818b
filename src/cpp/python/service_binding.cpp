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

uint64_t at_least_one(const py::int_& value, const char* name) {
  if (PyLong_Check(value.ptr()) && !PyBool_Check(value.ptr()) &&
      PyObject_RichCompareBool(value.ptr(), py::int_(1).ptr(), Py_LT) == 1)
    throw py::value_error(std::string(name) + " must be at least 1");
  return unsigned_arg(value, name, 64, 1);
}

uint64_t unsigned_arg(const py::int_& value, const char* name, unsigned bits, uint64_t min) {
  PyObject* o = value.ptr();
  if (!PyLong_Check(o) || PyBool_Check(o))
    throw py::type_error(std::string(name) + " must be an int, not " + Py_TYPE(o)->tp_name);
  uint64_t max = bits >= 64 ? UINT64_MAX : (uint64_t{1} << bits) - 1;
  uint64_t n = 0;
  bool in_range = PyObject_RichCompareBool(o, py::int_(0).ptr(), Py_GE) == 1;
  if (in_range) {
    n = PyLong_AsUnsignedLongLong(o);
    if (n == static_cast<uint64_t>(-1) && PyErr_Occurred()) {
      PyErr_Clear();
      in_range = false;
    }
  }
  if (!in_range || n < min || n > max) {
    std::string message = std::string(name) + " must be " + std::to_string(min) + " to " +
                          std::to_string(max) + ", not " + py::repr(value).cast<std::string>();
    PyErr_SetString(PyExc_OverflowError, message.c_str());
    throw py::error_already_set();
  }
  return n;
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
