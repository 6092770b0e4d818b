#include "fast_calls.hpp"

#include <stdexcept>
#include <string>

namespace corosync::python {

void put_fast_path(py::handle cls, const char* name, FastCall fast, FastCall* next) {
  // Borrowed: the class keeps its methods.
  PyObject* member = PyDict_GetItemString(reinterpret_cast<PyTypeObject*>(cls.ptr())->tp_dict, name);
  PyObject* function =
      member && PyInstanceMethod_Check(member) ? PyInstanceMethod_GET_FUNCTION(member) : nullptr;
  if (!function || !PyCFunction_Check(function))
    throw std::logic_error(std::string("put_fast_path: no pybind11 method ") + name);
  PyMethodDef* def = reinterpret_cast<PyCFunctionObject*>(function)->m_ml;
  if (def->ml_flags != (METH_FASTCALL | METH_KEYWORDS))
    throw std::logic_error(std::string("put_fast_path: ") + name + " is not a fastcall method");
  *next = reinterpret_cast<FastCall>(reinterpret_cast<void (*)()>(def->ml_meth));
  def->ml_meth = reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(fast));
}

}  // namespace corosync::python
