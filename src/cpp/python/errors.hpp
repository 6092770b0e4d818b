#pragma once

#include <pybind11/pybind11.h>

namespace corosync::python {
namespace py = pybind11;

// Registers the translator that raises corosync.errors' classes for corosync::Error.
void bind_errors(py::module_& m);
}  // namespace corosync::python
