#pragma once

#include <pybind11/pybind11.h>

namespace corosync::python {
namespace py = pybind11;

void bind_cpg(py::module_& m);
}  // namespace corosync::python
