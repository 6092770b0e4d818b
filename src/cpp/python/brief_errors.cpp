#include "brief_errors.hpp"

#include "fast_calls.hpp"

#include <utility>

namespace corosync::python {

namespace {

// pybind11's own dispatcher (METH_FASTCALL | METH_KEYWORDS), which every pybind11
// function's PyMethodDef points to.
FastCall pybind11_dispatcher = nullptr;

// The call's arguments as a tuple and a dict (or None), for the error path only.
std::pair<PyObject*, PyObject*> as_tuple_and_dict(PyObject* const* args, Py_ssize_t nargs,
                                                  PyObject* kwnames) {
  Py_ssize_t nkw = kwnames ? PyTuple_GET_SIZE(kwnames) : 0;
  PyObject* tuple = PyTuple_New(nargs);
  PyObject* dict = nkw ? PyDict_New() : Py_NewRef(Py_None);
  if (!tuple || !dict) {
    Py_XDECREF(tuple);
    Py_XDECREF(dict);
    return {nullptr, nullptr};
  }
  for (Py_ssize_t i = 0; i < nargs; ++i) PyTuple_SET_ITEM(tuple, i, Py_NewRef(args[i]));
  for (Py_ssize_t i = 0; i < nkw; ++i)
    PyDict_SetItem(dict, PyTuple_GET_ITEM(kwnames, i), args[nargs + i]);
  return {tuple, dict};
}

// Called by CPython instead of pybind11's dispatcher: the same call, plus a shorter message
// on the error path. A successful call pays one extra C function call.
PyObject* brief_dispatcher(PyObject* self, PyObject* const* args, Py_ssize_t nargsf,
                           PyObject* kwnames) {
  PyObject* result = pybind11_dispatcher(self, args, nargsf, kwnames);
  if (result || !PyErr_ExceptionMatches(PyExc_TypeError)) return result;
  PyObject *type, *value, *traceback;
  PyErr_Fetch(&type, &value, &traceback);
  PyErr_NormalizeException(&type, &value, &traceback);
  PyObject* message = PyObject_Str(value);
  auto [tuple, dict] = as_tuple_and_dict(args, PyVectorcall_NARGS(nargsf), kwnames);
  PyObject* module =
      message && tuple ? PyImport_ImportModule("corosync._arguments") : nullptr;
  PyObject* brief =
      module ? PyObject_CallMethod(module, "brief", "OOO", message, tuple, dict) : nullptr;
  Py_XDECREF(module);
  Py_XDECREF(message);
  Py_XDECREF(tuple);
  Py_XDECREF(dict);
  if (!brief || !PyUnicode_Check(brief)) {
    // Not pybind11's mismatch report, or the helper failed: the original error stands.
    Py_XDECREF(brief);
    PyErr_Clear();
    PyErr_Restore(type, value, traceback);
    return nullptr;
  }
  Py_XDECREF(type);
  Py_XDECREF(value);
  Py_XDECREF(traceback);
  PyErr_SetObject(PyExc_TypeError, brief);
  Py_DECREF(brief);
  return nullptr;
}

void reroute(PyObject* function) {
  PyMethodDef* def = fastcall_def(function);
  // pybind11 functions keep their function record as `self`.
  if (!def || !py::detail::is_function_record_PyObject(PyCFunction_GET_SELF(function))) return;
  auto meth = reinterpret_cast<FastCall>(reinterpret_cast<void (*)()>(def->ml_meth));
  if (meth == brief_dispatcher) return;
  if (!pybind11_dispatcher) pybind11_dispatcher = meth;
  if (meth != pybind11_dispatcher) return;  // not a pybind11 function
  def->ml_meth = reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(brief_dispatcher));
}

}  // namespace

void brief_argument_errors(py::handle cls) {
  py::dict members = cls.attr("__dict__");
  py::handle property = reinterpret_cast<PyObject*>(&PyProperty_Type);
  for (auto item : members) {
    py::handle member = item.second;
    if (PyInstanceMethod_Check(member.ptr())) {
      reroute(PyInstanceMethod_GET_FUNCTION(member.ptr()));
    } else if (py::isinstance(member, property)) {
      reroute(member.attr("fget").ptr());
      reroute(member.attr("fset").ptr());
    } else {
      reroute(member.ptr());
    }
  }
}

}  // namespace corosync::python
