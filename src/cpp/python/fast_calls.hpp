// Fast paths for the calls made once per message, per batch or per operation:
// `cpg.mcast(buffer)`, `cpg.mcast_many(list or tuple)`, `h.dispatch()`, `cmap.get(key)` and
// `cmap.set(key, value, type)`.
//
// pybind11's dispatcher spent about 1,800 instructions per message on the first two (a
// quarter of the binding's own work), and about 600 per CMAP get or set: packing `*buffers`
// into a tuple, filling keyword defaults, finding the C++ object behind `self`. A fast path
// sits in front of it and handles the common shape itself (positional arguments only, `self`
// of exactly the bound class); every other call, argument errors included, goes on to
// pybind11 as before.
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

// A fast path in front of one pybind11 method. Keep it in a variable of static storage: the
// method descriptor it makes refers to its PyMethodDef for as long as the class lives.
class FastPath {
 public:
  // Puts `fast` in front of method `name` of `cls` (after brief_argument_errors(cls)).
  // `fast` is called as a method written in C is, with the instance apart from the
  // arguments; the calls it does not take it passes on to fallback().
  //
  // The method becomes a method descriptor, as methods written in C are: CPython calls one
  // without making a bound method object first, which pybind11's methods (instancemethod
  // objects) cost on every `obj.method(...)`: a garbage-collected allocation, its release
  // and one more call, about 350 instructions of each (callgrind).
  void install(py::handle cls, const char* name, FastCall fast);

  // The C++ object of `self` if it is an instance of exactly the class the path was
  // installed on (a pybind11 class whose instances keep the object's pointer in place: one
  // C++ base, holder constructed); else null, and the call is for fallback().
  template <class T>
  T* instance(PyObject* self) const {
    if (Py_TYPE(self) != type_) return nullptr;
    auto* inst = reinterpret_cast<py::detail::instance*>(self);
    if (!inst->simple_layout || !inst->simple_holder_constructed) return nullptr;
    return static_cast<T*>(inst->simple_value_holder[0]);
  }

  // Calls what ran before the fast path, pybind11's dispatcher, which takes the instance as
  // the first of the arguments.
  PyObject* fallback(PyObject* self, PyObject* const* args, Py_ssize_t nargsf,
                     PyObject* kwnames) const;

 private:
  PyMethodDef def_{};
  PyTypeObject* type_ = nullptr;
  // pybind11's function, kept for good: the fallback passes it (its function record) to
  // the dispatcher as the dispatcher's own self.
  PyObject* function_ = nullptr;
  FastCall dispatcher_ = nullptr;
};

// Runs `call`, which returns a py::object, and returns that object (a new reference), or
// null with the Python error set: C++ exceptions go through the module's translators, as in
// pybind11's dispatcher.
template <class Call>
PyObject* result_or_error(Call&& call) {
  try {
    return call().release().ptr();
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

// Runs `call` and returns None, or null with the Python error set, as result_or_error.
template <class Call>
PyObject* none_or_error(Call&& call) {
  return result_or_error([&] {
    call();
    return py::none();
  });
}

}  // namespace corosync::python
