#include "fast_calls.hpp"

#include <stdexcept>
#include <string>

namespace corosync::python {

PyMethodDef* fastcall_def(PyObject* function) {
  if (!function || !PyCFunction_Check(function)) return nullptr;
  PyMethodDef* def = reinterpret_cast<PyCFunctionObject*>(function)->m_ml;
  return def->ml_flags == (METH_FASTCALL | METH_KEYWORDS) ? def : nullptr;
}

PyObject* pybind11_method(py::handle cls, const char* name) {
  // Borrowed: the class keeps its methods.
  PyObject* dict = reinterpret_cast<PyTypeObject*>(cls.ptr())->tp_dict;
  PyObject* member = PyDict_GetItemString(dict, name);
  PyObject* function =
      member && PyInstanceMethod_Check(member) ? PyInstanceMethod_GET_FUNCTION(member) : nullptr;
  if (!fastcall_def(function))
    throw std::logic_error(std::string("put_fast_path: no pybind11 method ") + name);
  return function;
}

}  // namespace corosync::python
