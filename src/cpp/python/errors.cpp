// The one translator from the core's exceptions to the Python classes of corosync.errors.
#include "errors.hpp"

#include <corosync_cxx/error.hpp>

namespace corosync::python {

namespace {

void raise(const Error& e, bool closed) {
  py::module_ errors = py::module_::import("corosync.errors");
  py::object cls = closed ? errors.attr("ClosedError")
                          : errors.attr("error_class")(static_cast<int>(e.code()));
  py::object exc = cls(py::str(e.what()), py::arg("code") = static_cast<int>(e.code()),
                       py::arg("function") = e.function());
  PyErr_SetObject(cls.ptr(), exc.ptr());
}

}  // namespace

void bind_errors(py::module_& m) {
  (void)m;
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const ClosedError& e) {
      raise(e, true);
    } catch (const Error& e) {
      raise(e, false);
    } catch (const ReentrantDispatchError& e) {
      PyErr_SetString(PyExc_RuntimeError, e.what());
    }
  });
}

}  // namespace corosync::python
