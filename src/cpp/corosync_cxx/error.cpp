#include "corosync_cxx/error.hpp"

namespace corosync {

std::string strerror(cs_error_t code) {
  const char* text = cs_strerror(code);
  return text ? text : "unknown error";
}

Error::Error(cs_error_t code, std::string function)
    : Error(code, function,
            function + " failed: " + strerror(code) + " (" + std::to_string(code) + ")") {}

Error::Error(cs_error_t code, std::string function, const std::string& message)
    : std::runtime_error(message), code_(code), function_(std::move(function)) {}

ClosedError::ClosedError(std::string function)
    : Error(CS_ERR_BAD_HANDLE, function, function + ": the handle is closed") {}

ReentrantDispatchError::ReentrantDispatchError(const std::string& function)
    : std::runtime_error(function +
                         ": dispatch called from inside one of this handle's callbacks") {}

}  // namespace corosync
