// Python binding of corosync::sam (libsam, sam.h, sam_overview(8)) as the sam_* functions of
// corosync._corosync, which corosync.sam re-exports under their short names.
//
// The fork: sam_register forks with the GIL taken back inside fork()'s prepare stage
// (ForkHooks), so that Python's own before/after-fork work runs exactly as for os.fork():
// PyOS_BeforeFork and PyOS_AfterFork_Parent in the supervisor around every fork, and
// PyOS_AfterFork_Child in the child once sam_register has returned there. Between forks the
// supervisor waits inside libsam with the GIL released.
#include "enum_args.hpp"
#include "gil.hpp"
#include "py_types.hpp"
#include "services.hpp"

#include <corosync_cxx/error.hpp>
#include <corosync_cxx/sam.hpp>

#include <pybind11/native_enum.h>

#include <climits>
#include <string>

namespace corosync::python {
enum class RecoveryPolicy : unsigned {
  Quit = SAM_RECOVERY_POLICY_QUIT,
  Restart = SAM_RECOVERY_POLICY_RESTART,
  Quorum = SAM_RECOVERY_POLICY_QUORUM,
  Cmap = SAM_RECOVERY_POLICY_CMAP,
};
}  // namespace corosync::python

// Any C int: the core judges the combination (InvalidParamError, as documented).
COROSYNC_INT_ENUM_ARG(corosync::python::RecoveryPolicy, "policy", "RecoveryPolicy", INT_MIN,
                      INT_MAX)

namespace corosync::python {

namespace {

using HealthCheckFn = py::typing::Callable<py::typing::Optional<bool>()>;

// An int argument that libsam takes as a C int: OverflowError beyond it; the core judges the
// value itself (and raises InvalidParamError, a ValueError).
int int_arg(const py::int_& value, const char* name) {
  PyObject* o = value.ptr();
  if (!PyLong_Check(o) || PyBool_Check(o))
    throw py::type_error(std::string(name) + " must be an int, not " + Py_TYPE(o)->tp_name);
  int overflow = 0;
  long long n = PyLong_AsLongLongAndOverflow(o, &overflow);
  if (overflow || n < INT_MIN || n > INT_MAX) {
    std::string message = std::string(name) + " must be " + std::to_string(INT_MIN) + " to " +
                          std::to_string(INT_MAX) + ", not " +
                          py::repr(value).cast<std::string>();
    PyErr_SetString(PyExc_OverflowError, message.c_str());
    throw py::error_already_set();
  }
  return static_cast<int>(n);
}

void flush_python_streams() {
  py::module_ sys = py::module_::import("sys");
  for (const char* name : {"stdout", "stderr"}) {
    py::object stream = sys.attr(name);
    if (!stream.is_none() && py::hasattr(stream, "flush")) stream.attr("flush")();
  }
}

// Takes the GIL around each fork in the supervisor (see the top of this file). Lives for the
// rest of the process: the supervisor never returns.
class PythonForkHooks : public sam::ForkHooks {
 public:
  void before_fork() noexcept override {
    PyEval_RestoreThread(saved);
    PyOS_BeforeFork();
    // What the before-fork hooks printed must not be copied into every child's buffers.
    try {
      flush_python_streams();
    } catch (py::error_already_set&) {
    }
  }
  void after_fork_in_parent() noexcept override {
    PyOS_AfterFork_Parent();
    saved = PyEval_SaveThread();
  }
  PyThreadState* saved = nullptr;
};

// The health check callable, replaced with the GIL held; one reference, never released
// (libsam's thread may ask until the process exits).
PyObject* health_check = nullptr;

// On the core's checker thread, without the GIL: the callable's verdict. An exception goes
// to sys.unraisablehook and fails the check.
bool run_health_check() {
  PyGILState_STATE gil = acquire_gil();
  bool healthy = true;
  PyObject* fn = health_check;
  Py_INCREF(fn);
  PyObject* result = nullptr;
  try {
    result = PyObject_CallNoArgs(fn);
  } catch (...) {
    park_forever();  // CPython ending this thread during finalization
  }
  if (!result) {
    PyErr_WriteUnraisable(fn);
    healthy = false;
  } else {
    healthy = result != Py_False;
    Py_DECREF(result);
  }
  Py_DECREF(fn);
  PyGILState_Release(gil);
  return healthy;
}

// Every other Python thread would vanish in the child (and could hold locks it needs).
void require_single_thread() {
  py::module_ threading = py::module_::import("threading");
    py::object current = threading.attr("current_thread")();
    std::string others;
    for (py::handle thread : py::list(threading.attr("enumerate")())) {
      if (thread.is(current)) continue;
      others += (others.empty() ? "" : ", ") + py::str(thread.attr("name")).cast<std::string>();
    }
    if (!others.empty()) {
      PyErr_SetString(PyExc_RuntimeError,
                      ("sam.register() forks, and other Python threads are running: " + others)
                          .c_str());
    throw py::error_already_set();
  }
}

int sam_register() {
  require_single_thread();
  flush_python_streams();
  static PythonForkHooks* hooks = new PythonForkHooks();
  hooks->saved = PyEval_SaveThread();
  unsigned id = 0;
  try {
    id = sam::register_process(hooks);
  } catch (...) {
    // Still the supervisor, libsam having failed; between forks it holds no GIL.
    PyEval_RestoreThread(hooks->saved);
    throw;
  }
  // The child: the GIL was taken before the fork, and this process is the copy.
  PyOS_AfterFork_Child();
  return static_cast<int>(id);
}

// A copy of any bytes-like object, contiguous or not (a memoryview slice with a step).
std::string bytes_arg(const py::object& data) {
  if (!PyObject_CheckBuffer(data.ptr()))
    throw py::type_error(std::string("data must be bytes-like or None, not ") +
                         Py_TYPE(data.ptr())->tp_name);
  Py_buffer view;
  if (PyObject_GetBuffer(data.ptr(), &view, PyBUF_FULL_RO) != 0) throw py::error_already_set();
  std::string copy(static_cast<size_t>(view.len), '\0');
  int rc = PyBuffer_ToContiguous(copy.data(), &view, view.len, 'C');
  PyBuffer_Release(&view);
  if (rc != 0) throw py::error_already_set();
  return copy;
}

}  // namespace

void bind_sam(py::module_& m) {
  py::native_enum<RecoveryPolicy>(
      m, "RecoveryPolicy", "enum.IntFlag",
      "What SAM's supervisor does when the supervised process fails "
      "(sam_recovery_policy_t): QUIT or RESTART, optionally with QUORUM (run only while the "
      "node is quorate) and CMAP (publish the state under resources.process.<pid>).")
      .value("QUIT", RecoveryPolicy::Quit)
      .value("RESTART", RecoveryPolicy::Restart)
      .value("QUORUM", RecoveryPolicy::Quorum)
      .value("CMAP", RecoveryPolicy::Cmap)
      .finalize();
  py::native_enum<sam::State>(m, "SamState", "enum.Enum",
                              "Where this process is in SAM's life cycle.")
      .value("NOT_INITIALIZED", sam::State::NotInitialized)
      .value("INITIALIZED", sam::State::Initialized)
      .value("REGISTERED", sam::State::Registered)
      .value("STARTED", sam::State::Started)
      .value("FINALIZED", sam::State::Finalized)
      .finalize();

  m.def("sam_state", &sam::state, "Where this process is in SAM's life cycle.");
  m.def(
      "sam_initialize",
      [](const py::int_& time_interval_ms, RecoveryPolicy policy) {
        int interval = int_arg(time_interval_ms, "time_interval_ms");
        without_gil([&] {
          sam::initialize(interval, static_cast<sam_recovery_policy_t>(policy));
        });
      },
      py::arg("time_interval_ms"), py::arg("policy"),
      "sam_initialize: health checks are due every `time_interval_ms` (> 0) once started; "
      "`policy` is QUIT or RESTART, optionally | QUORUM and/or | CMAP. Once per process. "
      "InvalidParamError (a ValueError) for a bad interval or policy, BadHandleError when "
      "already initialized or finalized.");
  m.def("sam_register", &sam_register,
        "sam_register: forks. Returns the instance number (1, 2, ...) in the supervised child; "
        "the calling process stays SAM's supervisor and never returns (it exits when the "
        "child does under QUIT, and forks a new child after a failure under RESTART). "
        "RuntimeError while other Python threads run. SIGINT, SIGTERM or SIGHUP to the "
        "supervisor are passed on to the child (a second one kills it), and the supervisor "
        "then exits with 128 + the signal's number; a child whose supervisor dies gets "
        "SIGTERM.");
  m.def("sam_start", [] { without_gil(sam::start); },
        "sam_start: health checks are due from now on (with the QUORUM flag, waits until the "
        "node is quorate).");
  m.def("sam_stop", [] { without_gil(sam::stop); }, "sam_stop: no health checks are due.");
  m.def("sam_hc_send", [] { without_gil(sam::hc_send); }, "sam_hc_send: one health check.");
  m.def("sam_mark_failed", [] { without_gil(sam::mark_failed); },
        "sam_mark_failed: the supervisor kills this process and quits, leaving state "
        "'failed' under resources.process.<pid> in CMAP. Needs the CMAP flag "
        "(InvalidParamError otherwise).");
  m.def("sam_finalize", [] { without_gil(sam::finalize); },
        "sam_finalize: stops if started; SAM cannot be initialized again in this process. "
        "Exiting while started counts as a failure: finalize (or stop) first to end "
        "cleanly.");
  m.def(
      "sam_set_warn_signal",
      [](const py::int_& signum) {
        int value = int_arg(signum, "signum");
        without_gil([&] { sam::set_warn_signal(value); });
      },
      py::arg("signum"),
      "sam_warn_signal_set: the signal sent first when health checks stop (SIGTERM unless "
      "set); SIGKILL follows one interval later.");
  m.def(
      "sam_data_store",
      [](const py::typing::Optional<PyBuffer>& data) {
        if (data.is_none()) return without_gil([] { sam::data_store(nullptr, 0); });
        std::string copy = bytes_arg(data);
        without_gil([&] { sam::data_store(copy.data(), copy.size()); });
      },
      py::arg("data").none(true),
      "sam_data_store: keeps `data` (bytes-like, or None to clear) in the supervisor for the "
      "next instance after a failure.");
  m.def(
      "sam_data_restore",
      [] {
        std::string data = without_gil(sam::data_restore);
        return py::bytes(data);
      },
      "sam_data_restore: what was last stored (b'' if nothing).");
  m.def("sam_data_size", [] { return without_gil(sam::data_size); },
        "sam_data_getsize: the size of the stored data.");
  m.def(
      "sam_set_hc_callback",
      [](const HealthCheckFn& fn) {
        if (!PyCallable_Check(fn.ptr()))
          throw py::type_error(std::string("the health check must be callable, not ") +
                               Py_TYPE(fn.ptr())->tp_name);
        PyObject* previous = health_check;
        health_check = fn.inc_ref().ptr();
        try {
          without_gil([] { sam::set_hc_callback(run_health_check); });
        } catch (...) {
          Py_DECREF(health_check);
          health_check = previous;
          throw;
        }
        Py_XDECREF(previous);
      },
      py::arg("fn"),
      "sam_hc_callback_register: event-driven health checks. From start() on, health checks "
      "are sent every time_interval / 4 ms and `fn()` is asked once per interval, on a thread "
      "of the binding's own; returning False or raising (the exception goes to "
      "sys.unraisablehook) stops them, and the supervisor recovers. Only while registered "
      "and not started, with time_interval_ms >= 4.");
}

}  // namespace corosync::python
