// corosync._corosync: one module, one init function per service.
#include "errors.hpp"
#include "handle_binding.hpp"
#include "services.hpp"
#include "track_flags.hpp"

#include <corosync_cxx/version.hpp>

PYBIND11_MODULE(_corosync, m) {
  m.doc() = "Compiled core of the corosync package; import `corosync` instead.";
  corosync::python::bind_errors(m);
  corosync::python::bind_dispatch_flags(m);
  corosync::python::bind_track_flags(m);
  corosync::python::bind_services(m);
  // The ABI tag in the names of cxx_handle()'s capsules (<corosync_cxx/version.hpp>).
  m.attr("CXX_ABI_TAG") = COROSYNC_CXX_ABI_TAG;
  // The version this module was built as: pyproject.toml's, which CMake writes into
  // version.hpp. corosync.__version__ is this, so it always names the code that runs.
  m.attr("__version__") = COROSYNC_CXX_VERSION;
}
