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
// (as every pybind11 function is), else null. Swapping its ml_meth reroutes every call.
PyMethodDef* fastcall_def(PyObject* function);

// Puts `fast` in front of method `name` of `cls` (after brief_argument_errors(cls)); what
// ran before it is stored in `*next`, for `fast` to call with the calls it does not take.
void put_fast_path(py::handle cls, const char* name, FastCall fast, FastCall* next);

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
