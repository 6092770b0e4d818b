#include "fast_calls.hpp"

#include <stdexcept>
#include <string>

namespace corosync::python {

PyMethodDef* fastcall_def(PyObject* function) {
  if (!function || !PyCFunction_Check(function)) return nullptr;
  PyMethodDef* def = reinterpret_cast<PyCFunctionObject*>(function)->m_ml;
  return def->ml_flags == (METH_FASTCALL | METH_KEYWORDS) ? def : nullptr;
}

void put_fast_path(py::handle cls, const char* name, FastCall fast, FastCall* next) {
  // Borrowed: the class keeps its methods.
  PyObject* dict = reinterpret_cast<PyTypeObject*>(cls.ptr())->tp_dict;
  PyObject* member = PyDict_GetItemString(dict, name);
  PyObject* function =
      member && PyInstanceMethod_Check(member) ? PyInstanceMethod_GET_FUNCTION(member) : nullptr;
  PyMethodDef* def = fastcall_def(function);
  if (!def) throw std::logic_error(std::string("put_fast_path: no pybind11 method ") + name);
  *next = reinterpret_cast<FastCall>(reinterpret_cast<void (*)()>(def->ml_meth));
  def->ml_meth = reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(fast));
}

}  // namespace corosync::python
