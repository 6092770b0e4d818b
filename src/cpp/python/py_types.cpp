#include "py_types.hpp"

#include <pybind11/gil_safe_call_once.h>

#include <corosync/cpg.h>

namespace corosync::python {

namespace {
// Appends " in <name>" to the reason of the UnicodeEncodeError being raised, so that its
// message says which argument it was about ("...: surrogates not allowed in group"); the
// exception stays what it was, as do its other attributes.
void name_argument_in_encode_error(const char* name) {
  PyObject *type, *value, *traceback;
  PyErr_Fetch(&type, &value, &traceback);
  PyErr_NormalizeException(&type, &value, &traceback);
  if (PyObject* reason = value ? PyUnicodeEncodeError_GetReason(value) : nullptr) {
    if (PyObject* named = PyUnicode_FromFormat("%U in %s", reason, name)) {
      if (const char* text = PyUnicode_AsUTF8(named))
        PyUnicodeEncodeError_SetReason(value, text);
      Py_DECREF(named);
    }
    Py_DECREF(reason);
  }
  PyErr_Clear();  // whatever went wrong above: the original exception goes on as it is
  PyErr_Restore(type, value, traceback);
}
}  // namespace

std::string utf8(const py::handle& text, const char* name) {
  Py_ssize_t size = 0;
  const char* data = PyUnicode_AsUTF8AndSize(text.ptr(), &size);
  if (!data) {
    if (PyErr_ExceptionMatches(PyExc_UnicodeEncodeError)) name_argument_in_encode_error(name);
    throw py::error_already_set();
  }
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
