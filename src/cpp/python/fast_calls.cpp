#include "fast_calls.hpp"

#include <stdexcept>
#include <string>

namespace corosync::python {

PyMethodDef* fastcall_def(PyObject* function) {
  if (!function || !PyCFunction_Check(function)) return nullptr;
  PyMethodDef* def = reinterpret_cast<PyCFunctionObject*>(function)->m_ml;
  return def->ml_flags == (METH_FASTCALL | METH_KEYWORDS) ? def : nullptr;
}

namespace {

// The pybind11 function behind method `name` of `cls` (borrowed; the class keeps it), which
// fastcall_def accepts; std::logic_error if there is none.
PyObject* pybind11_method(py::handle cls, const char* name) {
  // Borrowed: the class keeps its methods.
  PyObject* dict = reinterpret_cast<PyTypeObject*>(cls.ptr())->tp_dict;
  PyObject* member = PyDict_GetItemString(dict, name);
  PyObject* function =
      member && PyInstanceMethod_Check(member) ? PyInstanceMethod_GET_FUNCTION(member) : nullptr;
  if (!fastcall_def(function))
    throw std::logic_error(std::string("FastPath::install: no pybind11 method ") + name);
  return function;
}

}  // namespace

void FastPath::install(py::handle cls, const char* name, FastCall fast) {
  PyObject* function = pybind11_method(cls, name);
  PyMethodDef* pybind11_def = fastcall_def(function);
  dispatcher_ = reinterpret_cast<FastCall>(reinterpret_cast<void (*)()>(pybind11_def->ml_meth));
  function_ = Py_NewRef(function);
  def_ = {name, reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(fast)),
          METH_FASTCALL | METH_KEYWORDS, pybind11_def->ml_doc};
  type_ = reinterpret_cast<PyTypeObject*>(cls.ptr());
  py::object descriptor = py::reinterpret_steal<py::object>(PyDescr_NewMethod(type_, &def_));
  if (!descriptor || PyDict_SetItemString(type_->tp_dict, name, descriptor.ptr()) != 0)
    throw py::error_already_set();
  PyType_Modified(type_);
}

PyObject* FastPath::fallback(PyObject* self, PyObject* const* args, Py_ssize_t nargsf,
                             PyObject* kwnames) const {
  Py_ssize_t nargs = PyVectorcall_NARGS(nargsf);
  Py_ssize_t n = nargs + (kwnames ? PyTuple_GET_SIZE(kwnames) : 0);
  PyObject* small[8];
  PyObject** all = small;
  if (n + 1 > 8) {
    all = static_cast<PyObject**>(PyMem_Malloc(sizeof(PyObject*) * (n + 1)));
    if (!all) return PyErr_NoMemory();
  }
  all[0] = self;
  for (Py_ssize_t i = 0; i < n; ++i) all[i + 1] = args[i];
  PyObject* result = dispatcher_(PyCFunction_GET_SELF(function_), all, nargs + 1, kwnames);
  if (all != small) PyMem_Free(all);
  return result;
}

}  // namespace corosync::python
