// One-line TypeErrors for calls pybind11 cannot match (see corosync/_arguments.py).
#pragma once

#include <pybind11/pybind11.h>

namespace corosync::python {
namespace py = pybind11;

// Routes every pybind11 function of `cls` (methods, __init__, property accessors) through a
// dispatcher that, only when pybind11 reports that no signature matched, replaces its
// multi-line report by corosync._arguments.brief's one line. Call once the class is complete.
void brief_argument_errors(py::handle cls);

}  // namespace corosync::python
