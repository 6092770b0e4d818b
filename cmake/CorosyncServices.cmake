# The registry of corosync services the C++ core and the Python extension are built from.

# Finds pkg-config module `module` as imported target PkgConfig::<var>, or stops naming the
# Debian package that provides it.
function(corosync_require module debian_package var)
  pkg_check_modules(${var} IMPORTED_TARGET ${module})
  if(NOT ${var}_FOUND)
    message(FATAL_ERROR
      "corosync's ${module} was not found by pkg-config. "
      "On Debian/Ubuntu: apt-get install ${debian_package}")
  endif()
  # Remembered for the installed package's config file, which finds the same modules under
  # the same target names (the library's link interface names them).
  set_property(GLOBAL APPEND PROPERTY COROSYNC_PKG_MODULES "${var} ${module} ${debian_package}")
endfunction()

# corosync_service(name module debian_package core_sources...): a service whose client
# library is `module`, its core sources in src/cpp/corosync_cxx, and its binding in
# src/cpp/python/<name>.cpp. The Python package imports every service, so each one listed
# here is required; C++ users linking only the core get the same set.
macro(corosync_service name module debian_package)
  string(TOUPPER "${name}" _upper)
  corosync_require(${module} ${debian_package} COROSYNC_${_upper})
  list(APPEND COROSYNC_SERVICES ${name})
  list(APPEND COROSYNC_SERVICE_TARGETS PkgConfig::COROSYNC_${_upper})
  foreach(_source ${ARGN})
    list(APPEND COROSYNC_SERVICE_SOURCES ${_source})
  endforeach()
endmacro()
