// Fast paths for the calls made once per message: `cpg.mcast(buffer)` and `h.dispatch()`.
//
// pybind11's dispatcher spent about 1,800 instructions per message on these two calls (a
// quarter of the binding's own work): packing `*buffers` into a tuple, filling keyword
// defaults, finding the C++ object behind `self`. A fast path sits in front of it and
// handles the common shape itself (positional arguments only, `self` of exactly the bound
// class); every other call, argument errors included, goes on to pybind11 as before.
#pragma once

#include <pybind11/pybind11.h>

#ifdef __GLIBCXX__
#include <cxxabi.h>
#endif

namespace corosync::python {

namespace py = pybind11;

// A METH_FASTCALL | METH_KEYWORDS function, as pybind11's methods are.
using FastCall = PyObject* (*)(PyObject*, PyObject* const*, Py_ssize_t, PyObject*);

// The PyMethodDef of `function` if it is a METH_FASTCALL | METH_KEYWORDS built-in function
// (as every pybind11 function is), else null.
PyMethodDef* fastcall_def(PyObject* function);

// The pybind11 function behind method `name` of `cls` (borrowed; the class keeps it), which
// fastcall_def accepts; std::logic_error if there is none.
PyObject* pybind11_method(py::handle cls, const char* name);

// Method `name` of `cls` as a method descriptor calling `Fast`; see put_fast_path.
template <FastCall Fast>
struct FastMethod {
  static inline PyMethodDef def{};
  // pybind11's function, kept for good: `Fast` passes its calls on to its dispatcher with the
  // function's own self (its function record).
  static inline PyObject* function = nullptr;

  // CPython calls a method descriptor with the instance apart from the arguments; `Fast`,
  // like pybind11's dispatcher, takes the instance as the first of them.
  static PyObject* call(PyObject* self, PyObject* const* args, Py_ssize_t nargsf,
                        PyObject* kwnames) {
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
    PyObject* result = Fast(PyCFunction_GET_SELF(function), all, nargs + 1, kwnames);
    if (all != small) PyMem_Free(all);
    return result;
  }
};

// Puts `Fast` in front of method `name` of `cls` (after brief_argument_errors(cls)); what
// ran before it is stored in `*next`, for `Fast` to call with the calls it does not take.
//
// The method becomes a method descriptor, as methods written in C are: CPython calls one
// without making a bound method object first, which pybind11's methods (instancemethod
// objects) cost on every `obj.method(...)`: a garbage-collected allocation, its release and
// one more call, about 350 instructions of each (callgrind).
template <FastCall Fast>
void put_fast_path(py::handle cls, const char* name, FastCall* next) {
  PyObject* function = pybind11_method(cls, name);
  PyMethodDef* pybind11_def = fastcall_def(function);
  *next = reinterpret_cast<FastCall>(reinterpret_cast<void (*)()>(pybind11_def->ml_meth));
  using Method = FastMethod<Fast>;
  Method::function = Py_NewRef(function);
  Method::def = {name,
                 reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(&Method::call)),
                 METH_FASTCALL | METH_KEYWORDS, pybind11_def->ml_doc};
  auto* type = reinterpret_cast<PyTypeObject*>(cls.ptr());
  py::object descriptor =
      py::reinterpret_steal<py::object>(PyDescr_NewMethod(type, &Method::def));
  if (!descriptor || PyDict_SetItemString(type->tp_dict, name, descriptor.ptr()) != 0)
    throw py::error_already_set();
  PyType_Modified(type);
}

// The C++ object of `obj` if it is an instance of exactly `type` (a pybind11 class whose
// instances keep the object's pointer in place: one C++ base, holder constructed); else null.
template <class T>
T* exact_instance(PyObject* obj, PyTypeObject* type) {
  if (Py_TYPE(obj) != type) return nullptr;
  auto* inst = reinterpret_cast<py::detail::instance*>(obj);
  if (!inst->simple_layout || !inst->simple_holder_constructed) return nullptr;
  return static_cast<T*>(inst->simple_value_holder[0]);
}

// Runs `call` and returns None, or null with the Python error set: C++ exceptions go
// through the module's translators, as in pybind11's dispatcher.
template <class Call>
PyObject* none_or_error(Call&& call) {
  try {
    call();
    Py_RETURN_NONE;
  }
#ifdef __GLIBCXX__
  catch (abi::__forced_unwind&) {
    throw;  // a thread being ended must go on unwinding
  }
#endif
  catch (py::error_already_set& e) {
    e.restore();
  } catch (...) {
    py::detail::try_translate_exceptions();
  }
  return nullptr;
}

}  // namespace corosync::python
