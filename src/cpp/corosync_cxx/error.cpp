#include "corosync_cxx/error.hpp"

namespace corosync {

std::string strerror(cs_error_t code) {
  const char* text = cs_strerror(code);
  return text ? text : "unknown error";
}

// One format for every message: "<C function> failed: <why> (<corosync's name for the code>)".
Error::Error(cs_error_t code, std::string function)
    : std::runtime_error(function + " failed: " + strerror(code) + " (" +
                         std::to_string(code) + ")"),
      code_(code),
      function_(std::move(function)) {}

Error::Error(cs_error_t code, std::string function, const std::string& detail)
    : std::runtime_error(function + " failed: " + detail + " (" + strerror(code) + ")"),
      code_(code),
      function_(std::move(function)) {}

ClosedError::ClosedError(std::string function)
    : Error(CS_ERR_BAD_HANDLE, std::move(function), "the handle is closed") {}

ClosedError::ClosedError(std::string function, const std::string& detail)
    : Error(CS_ERR_BAD_HANDLE, std::move(function), detail) {}

ReentrantDispatchError::ReentrantDispatchError(const std::string& function)
    : std::runtime_error(function +
                         " failed: dispatch called from inside one of this handle's callbacks") {}

}  // namespace corosync
