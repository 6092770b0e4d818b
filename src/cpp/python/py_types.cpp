#include "py_types.hpp"

#include <pybind11/gil_safe_call_once.h>

#include <corosync/cpg.h>

namespace corosync::python {

std::string utf8(const py::handle& text) {
  Py_ssize_t size = 0;
  const char* data = PyUnicode_AsUTF8AndSize(text.ptr(), &size);
  if (!data) throw py::error_already_set();
  return {data, static_cast<size_t>(size)};
}

const PackageTypes& package_types() {
  PYBIND11_CONSTINIT static py::gil_safe_call_once_and_store<PackageTypes> storage;
  return storage
      .call_once_and_store_result([] {
        py::module_ cpg = py::module_::import("corosync.cpg");
        py::module_ errors = py::module_::import("corosync.errors");
        PackageTypes t;
        t.address = cpg.attr("Address");
        t.group_member = cpg.attr("GroupMember");
        t.reason = cpg.attr("Reason");
        t.ring_id = py::module_::import("corosync.types").attr("RingId");
        for (int r = CPG_REASON_UNDEFINED; r <= CPG_REASON_PROCDOWN; ++r)
          t.reasons.push_back(t.reason(r));
        t.error_class = errors.attr("error_class");
        t.closed_error = errors.attr("ClosedError");
        return t;
      })
      .get_stored();
}

}  // namespace corosync::python
