// The one translator from the core's exceptions to the Python classes of corosync.errors.
#include "errors.hpp"

#include <corosync_cxx/error.hpp>

#include <cstring>
#include <string>
#include <system_error>

namespace corosync::python {

namespace {

bool ends_with(const std::string& text, const char* suffix) {
  size_t n = std::strlen(suffix);
  return text.size() >= n && text.compare(text.size() - n, n, suffix) == 0;
}

// CS_ERR_LIBRARY from a service's *_initialize says only that the IPC connection failed.
std::string message_of(const Error& e) {
  std::string message = e.what();
  if (e.code() == CS_ERR_LIBRARY && ends_with(e.function(), "_initialize"))
    message += ": corosync is not reachable from this process: the daemon is not running, "
               "runs in another network namespace (its IPC sockets are per namespace), or "
               "refused this user (uidgid in corosync.conf). Check with corosync-cfgtool -s "
               "or corosync-quorumtool -s run the same way.";
  return message;
}

void raise(const Error& e, bool closed) {
  py::module_ errors = py::module_::import("corosync.errors");
  py::object cls = closed ? errors.attr("ClosedError")
                          : errors.attr("error_class")(static_cast<int>(e.code()));
  py::object exc = cls(py::str(message_of(e)), py::arg("code") = static_cast<int>(e.code()),
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
    } catch (const std::system_error& e) {
      // An OS call of the core failed (setns, epoll, eventfd): OSError with its errno.
      py::object exc = py::reinterpret_borrow<py::object>(PyExc_OSError)(e.code().value(),
                                                                         py::str(e.what()));
      PyErr_SetObject(PyExc_OSError, exc.ptr());
    }
  });
}

}  // namespace corosync::python
