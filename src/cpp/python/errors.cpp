// The one translator from the core's exceptions to the Python classes of corosync.errors.
#include "errors.hpp"
#include "py_types.hpp"

#include <corosync_cxx/error.hpp>

#include <pybind11/native_enum.h>

#include <unistd.h>

#include <cstring>
#include <string>
#include <system_error>

namespace corosync::python {

namespace {

bool ends_with(const std::string& text, const char* suffix) {
  size_t n = std::strlen(suffix);
  return text.size() >= n && text.compare(text.size() - n, n, suffix) == 0;
}

// Whether `e` comes from opening a connection (sam_register opens one to CMAP).
bool from_connecting(const Error& e) {
  return ends_with(e.function(), "_initialize") || ends_with(e.function(), "_initialize_map") ||
         e.function() == "sam_register";
}

// What failing to connect means, which the codes alone do not say: CS_ERR_LIBRARY only
// that the IPC connection failed; CS_ERR_ACCESS that corosync refused this process's user.
std::string message_of(const Error& e) {
  std::string message = e.what();
  if (!from_connecting(e)) return message;
  if (e.code() == CS_ERR_LIBRARY)
    message += ": corosync is not reachable from this process: the daemon is not running, "
               "or runs in another network namespace (its IPC sockets are per namespace). "
               "Check with corosync-cfgtool -s or corosync-quorumtool -s run the same way.";
  if (e.code() == CS_ERR_ACCESS)
    message += ": corosync admits root and the users and groups its configuration names, "
               "and this process runs as uid " + std::to_string(getuid()) + ", gid " +
               std::to_string(getgid()) +
               ". Grant access with uidgid { uid: USER } or uidgid { gid: GROUP } in "
               "corosync.conf or a file in /etc/corosync/uidgid.d/ (then corosync-cfgtool "
               "-R), or at run time with corosync-cmapctl -s uidgid.uid.<uid> u8 1 (or "
               "uidgid.gid.<gid>).";
  return message;
}

void raise(const Error& e, bool closed) {
  const PackageTypes& types = package_types();
  py::object cls = closed ? types.closed_error : types.error_class(static_cast<int>(e.code()));
  // A message may quote bytes that are not UTF-8 (a name from C++): shown escaped.
  std::string message = message_of(e);
  py::object text = py::reinterpret_steal<py::object>(PyUnicode_DecodeUTF8(
      message.data(), static_cast<Py_ssize_t>(message.size()), "backslashreplace"));
  if (!text) throw py::error_already_set();
  py::object exc = cls(text, py::arg("code") = static_cast<int>(e.code()),
                       py::arg("function") = e.function());
  PyErr_SetObject(cls.ptr(), exc.ptr());
}

}  // namespace

void bind_cs_error(py::module_& m) {
  // From corotypes.h, so that a corosync that adds a code is seen, not hand-copied.
  py::native_enum<cs_error_t>(m, "CsError", "enum.IntEnum",
                              "corosync's cs_error_t codes (CS_OK, CS_ERR_* in corotypes.h).")
      .value("OK", CS_OK)
      .value("LIBRARY", CS_ERR_LIBRARY)
      .value("VERSION", CS_ERR_VERSION)
      .value("INIT", CS_ERR_INIT)
      .value("TIMEOUT", CS_ERR_TIMEOUT)
      .value("TRY_AGAIN", CS_ERR_TRY_AGAIN)
      .value("INVALID_PARAM", CS_ERR_INVALID_PARAM)
      .value("NO_MEMORY", CS_ERR_NO_MEMORY)
      .value("BAD_HANDLE", CS_ERR_BAD_HANDLE)
      .value("BUSY", CS_ERR_BUSY)
      .value("ACCESS", CS_ERR_ACCESS)
      .value("NOT_EXIST", CS_ERR_NOT_EXIST)
      .value("NAME_TOO_LONG", CS_ERR_NAME_TOO_LONG)
      .value("EXIST", CS_ERR_EXIST)
      .value("NO_SPACE", CS_ERR_NO_SPACE)
      .value("INTERRUPT", CS_ERR_INTERRUPT)
      .value("NAME_NOT_FOUND", CS_ERR_NAME_NOT_FOUND)
      .value("NO_RESOURCES", CS_ERR_NO_RESOURCES)
      .value("NOT_SUPPORTED", CS_ERR_NOT_SUPPORTED)
      .value("BAD_OPERATION", CS_ERR_BAD_OPERATION)
      .value("FAILED_OPERATION", CS_ERR_FAILED_OPERATION)
      .value("MESSAGE_ERROR", CS_ERR_MESSAGE_ERROR)
      .value("QUEUE_FULL", CS_ERR_QUEUE_FULL)
      .value("QUEUE_NOT_AVAILABLE", CS_ERR_QUEUE_NOT_AVAILABLE)
      .value("BAD_FLAGS", CS_ERR_BAD_FLAGS)
      .value("TOO_BIG", CS_ERR_TOO_BIG)
      .value("NO_SECTIONS", CS_ERR_NO_SECTIONS)
      .value("CONTEXT_NOT_FOUND", CS_ERR_CONTEXT_NOT_FOUND)
      .value("TOO_MANY_GROUPS", CS_ERR_TOO_MANY_GROUPS)
      .value("SECURITY", CS_ERR_SECURITY)
      .finalize();
}

void bind_errors(py::module_& m) {
  bind_cs_error(m);
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
