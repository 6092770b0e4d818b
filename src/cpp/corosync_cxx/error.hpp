// corosync::Error: a failed corosync call, carrying its cs_error_t and the C function's name.
#pragma once

#include <corosync/corotypes.h>

#include <stdexcept>
#include <string>

namespace corosync {

class Error : public std::runtime_error {
 public:
  Error(cs_error_t code, std::string function);
  // `detail` says why, without the function's name, which the message starts with.
  Error(cs_error_t code, std::string function, const std::string& detail);

  cs_error_t code() const noexcept { return code_; }
  // The C call that failed, e.g. "cpg_join".
  const std::string& function() const noexcept { return function_; }

 private:
  cs_error_t code_;
  std::string function_;
};

// A method was called on a handle after close(). Code CS_ERR_BAD_HANDLE, which is what
// corosync itself would answer for a finalized handle.
class ClosedError : public Error {
 public:
  explicit ClosedError(std::string function);
  ClosedError(std::string function, const std::string& detail);
};

// dispatch() was called from inside one of the same handle's callbacks.
class ReentrantDispatchError : public std::runtime_error {
 public:
  explicit ReentrantDispatchError(const std::string& function);
};

// The one choke point every corosync call's result goes through.
inline void check(cs_error_t rc, const char* function) {
  if (rc != CS_OK) throw Error(rc, function);
}

// corosync's own name for a code ("CS_ERR_TRY_AGAIN"), from libcorosync_common.
std::string strerror(cs_error_t code);

}  // namespace corosync
