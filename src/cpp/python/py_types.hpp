// Python classes defined in the typed package (dataclasses, enums) that the binding creates
// or accepts, with the names the generated stubs show for them.
#pragma once

#include <pybind11/pybind11.h>
#include <pybind11/typing.h>

#include <string>
#include <vector>

namespace corosync::python {
namespace py = pybind11;

inline bool any_object(PyObject*) { return true; }

// A py::object whose stub annotation is `Name::value`.
#define COROSYNC_PY_TYPE(Cls)                                  \
  class Cls : public py::object {                             \
   public:                                                    \
    PYBIND11_OBJECT_DEFAULT(Cls, py::object, any_object)      \
    using py::object::object;                                 \
  };

COROSYNC_PY_TYPE(PyAddress)
COROSYNC_PY_TYPE(PyGroupMember)
COROSYNC_PY_TYPE(PyRingId)
COROSYNC_PY_TYPE(PyBuffer)
#undef COROSYNC_PY_TYPE

using GroupName = py::typing::Union<py::str, py::bytes>;

// A str's UTF-8: UnicodeEncodeError (a ValueError) for lone surrogates, which have none,
// its message naming the argument `name` ("... surrogates not allowed in key").
std::string utf8(const py::handle& text, const char* name);

// The package's Python types that the binding creates, looked up once, on first use (the
// package imports this module before its own modules exist, so not at module init), and
// kept for the process's life: no import on the path of an event.
struct PackageTypes {
  py::object address;       // corosync.cpg.Address
  py::object group_member;  // corosync.cpg.GroupMember
  py::object ring_id;       // corosync.types.RingId
  py::object reason;        // corosync.cpg.Reason
  std::vector<py::object> reasons;  // Reason(i) for each of corosync's cpg_reason_t
  py::object error_class;   // corosync.errors.error_class
  py::object closed_error;  // corosync.errors.ClosedError
};
const PackageTypes& package_types();

}  // namespace corosync::python

namespace pybind11::detail {
template <>
struct handle_type_name<corosync::python::PyAddress> {
  static constexpr auto name = const_name("corosync.cpg.Address");
};
template <>
struct handle_type_name<corosync::python::PyGroupMember> {
  static constexpr auto name = const_name("corosync.cpg.GroupMember");
};
// Any object of the buffer protocol (collections.abc.Buffer from Python 3.12 on).
template <>
struct handle_type_name<corosync::python::PyBuffer> {
  static constexpr auto name = const_name("typing_extensions.Buffer");
};
template <>
struct handle_type_name<corosync::python::PyRingId> {
  static constexpr auto name = const_name("corosync.types.RingId");
};
}  // namespace pybind11::detail
