// cxx_handle(): a handle's C++ object (corosync::Cpg, Cmap, ...) for other extension modules,
// as a PyCapsule named COROSYNC_CXX_CAPSULE(Type) (corosync_cxx/version.hpp). Its name holds
// the library's ABI tag, so a module compiled against other headers gets an error instead
// of a wrong object; it keeps the Python handle (and so the C++ object) alive.
//
// Why a capsule and not pybind11's shared type registry: the Python classes (PyCpg, ...)
// are this module's private types, and pybind11 shares registrations only between modules
// built with the same pybind11 internals version and compiler; a capsule carries a plain
// pointer to the installed library's public type and asks nothing of the other module but
// the same corosync_cxx headers. There is one copy of the core: libcorosync_cxx is a shared
// library, and a process loads one library per soname.
#pragma once

#include "gil.hpp"

#include <corosync_cxx/error.hpp>
#include <corosync_cxx/version.hpp>

#include <pybind11/pybind11.h>

namespace corosync::python {

template <class Core, class Owner, class... Extra, class CoreOf>
void def_cxx_handle(py::class_<Owner, Extra...>& cls, const char* capsule_name,
                    CoreOf core_of) {
  cls.def(
      "cxx_handle",
      [capsule_name, core_of](const py::object& self) {
        Core& core = core_of(self.cast<Owner&>());
        if (core.closed()) throw ClosedError("cxx_handle");
        PyObject* capsule = PyCapsule_New(&core, capsule_name, [](PyObject* c) {
          Py_XDECREF(static_cast<PyObject*>(PyCapsule_GetContext(c)));
        });
        if (!capsule) throw py::error_already_set();
        PyCapsule_SetContext(capsule, self.inc_ref().ptr());
        return py::reinterpret_steal<py::capsule>(capsule);
      },
      (std::string("This handle's C++ object (corosync_cxx), for another extension module "
                   "built against the installed corosync_cxx package: a capsule named '") +
       capsule_name +
       "' (COROSYNC_CXX_CAPSULE in <corosync_cxx/version.hpp>) that keeps the handle alive. "
       "ClosedError once closed.")
          .c_str());
}

}  // namespace corosync::python
