#include "corosync_cxx/error.hpp"

namespace corosync {

std::string strerror(cs_error_t code) {
  const char* text = cs_strerror(code);
  return text ? text : "unknown error";
}

namespace {

// What a code says when the call has nothing more specific to add (cs_error_t's names, in
// words; corosync's own strerror gives only the name).
const char* meaning(cs_error_t code) {
  switch (code) {
    case CS_ERR_LIBRARY: return "the connection to corosync failed or was lost";
    case CS_ERR_VERSION: return "version mismatch";
    case CS_ERR_INIT: return "not initialized";
    case CS_ERR_TIMEOUT: return "timed out";
    case CS_ERR_TRY_AGAIN: return "corosync is busy, try again";
    case CS_ERR_INVALID_PARAM: return "invalid argument";
    case CS_ERR_NO_MEMORY: return "out of memory";
    case CS_ERR_BAD_HANDLE: return "bad handle";
    case CS_ERR_BUSY: return "busy";
    case CS_ERR_ACCESS: return "access denied";
    case CS_ERR_NOT_EXIST: return "does not exist";
    case CS_ERR_NAME_TOO_LONG: return "name too long";
    case CS_ERR_EXIST: return "already exists";
    case CS_ERR_NO_SPACE: return "no space";
    case CS_ERR_INTERRUPT: return "interrupted";
    case CS_ERR_NAME_NOT_FOUND: return "name not found";
    case CS_ERR_NO_RESOURCES: return "no resources";
    case CS_ERR_NOT_SUPPORTED: return "not supported";
    case CS_ERR_BAD_OPERATION: return "bad operation";
    case CS_ERR_FAILED_OPERATION: return "the operation failed";
    case CS_ERR_MESSAGE_ERROR: return "message error";
    case CS_ERR_QUEUE_FULL: return "queue full";
    case CS_ERR_QUEUE_NOT_AVAILABLE: return "queue not available";
    case CS_ERR_BAD_FLAGS: return "bad flags";
    case CS_ERR_TOO_BIG: return "too big";
    case CS_ERR_NO_SECTIONS: return "no sections";
    case CS_ERR_CONTEXT_NOT_FOUND: return "context not found";
    case CS_ERR_TOO_MANY_GROUPS: return "too many groups";
    case CS_ERR_SECURITY: return "security error";
    default: return "unknown error";
  }
}

// An unknown code (a newer corosync's, or garbage) keeps its number.
std::string code_name(cs_error_t code) {
  std::string name = strerror(code);
  return name.rfind("CS_", 0) == 0 ? name : "error " + std::to_string(code);
}

}  // namespace

// One format for every message: "<C function> failed: <why> (<corosync's name for the code>)".
Error::Error(cs_error_t code, std::string function)
    : std::runtime_error(function + " failed: " + meaning(code) + " (" + code_name(code) + ")"),
      code_(code),
      function_(std::move(function)) {}

Error::Error(cs_error_t code, std::string function, const std::string& detail)
    : std::runtime_error(function + " failed: " + detail + " (" + code_name(code) + ")"),
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
