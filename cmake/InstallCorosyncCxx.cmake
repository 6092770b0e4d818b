# `cmake --install` of the C++ core for C++ users: the library, its headers under
# include/corosync_cxx (never among corosync's own <corosync/*.h>), and a CMake package:
#
#   find_package(corosync_cxx 0.1 CONFIG REQUIRED)
#   target_link_libraries(app PRIVATE corosync_cxx::corosync_cxx)
#
# The package's config file finds corosync's client libraries through pkg-config itself.
include(CMakePackageConfigHelpers)

set(_package_dir ${CMAKE_INSTALL_LIBDIR}/cmake/corosync_cxx)

install(TARGETS corosync_cxx EXPORT corosync_cxxTargets
    LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
    INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(DIRECTORY ${PROJECT_SOURCE_DIR}/src/cpp/corosync_cxx/
    DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/corosync_cxx
    FILES_MATCHING PATTERN "*.hpp")
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/include/corosync_cxx/version.hpp
    DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/corosync_cxx)
install(EXPORT corosync_cxxTargets NAMESPACE corosync_cxx:: DESTINATION ${_package_dir})

# One find per pkg-config module the library links, under the target name it was linked as.
get_property(_modules GLOBAL PROPERTY COROSYNC_PKG_MODULES)
set(COROSYNC_CXX_FIND_MODULES "")
foreach(_entry ${_modules})
  separate_arguments(_fields UNIX_COMMAND "${_entry}")
  list(GET _fields 0 _var)
  list(GET _fields 1 _module)
  list(GET _fields 2 _debian)
  string(APPEND COROSYNC_CXX_FIND_MODULES "_corosync_cxx_require(${_var} ${_module} ${_debian})\n")
endforeach()

configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/corosync_cxxConfig.cmake.in
    ${CMAKE_CURRENT_BINARY_DIR}/corosync_cxxConfig.cmake
    INSTALL_DESTINATION ${_package_dir})
# Before 1.0, only the same minor version is compatible (as the soname says).
write_basic_package_version_file(${CMAKE_CURRENT_BINARY_DIR}/corosync_cxxConfigVersion.cmake
    VERSION ${PROJECT_VERSION} COMPATIBILITY SameMinorVersion)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/corosync_cxxConfig.cmake
    ${CMAKE_CURRENT_BINARY_DIR}/corosync_cxxConfigVersion.cmake
    DESTINATION ${_package_dir})
