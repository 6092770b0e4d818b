// CMAP values between Python and corosync's twelve value types: range checks going in,
// str-or-bytes for STRING coming out, and the package's TypedValue and ValueType objects.
#pragma once

#include <corosync_cxx/cmap.hpp>

#include <pybind11/pybind11.h>

#include <string>
#include <string_view>

namespace corosync::python {
namespace py = pybind11;

// A value in the bytes cmap_set sends for its type.
struct EncodedValue {
  cmap_value_types_t type;
  std::string data;
};

// What a value error names: the call and its key, as "cmap.set('totem.token')". Formatted
// only for an error's message: a repr and a string on every set cost about 600 instructions.
class CallName {
 public:
  CallName(const char* function, const py::handle& key) : function_(function), key_(key) {}
  std::string text() const;

 private:
  const char* function_;
  py::handle key_;  // borrowed: the caller's argument, alive for the call
};

// The type a new key gets from a Python value: int → INT64 (UINT64 above INT64's range),
// float → DOUBLE, str → STRING, a bytes-like object → BINARY. TypeError otherwise (bool too);
// `what` names the call for the message.
cmap_value_types_t inferred_type(const py::handle& value, const CallName& what);
// `value` as `type`'s bytes: TypeError for a Python type that does not fit it, OverflowError
// (naming the type and its range) for an integer or float out of its range, ValueError for a
// STRING with a NUL.
EncodedValue encode_value(const py::handle& value, cmap_value_types_t type,
                          const CallName& what);

// The Python value of corosync's bytes: int, float, str (STRING that is UTF-8), bytes.
py::object value_to_python(cmap_value_types_t type, std::string_view data);
// corosync.cmap.TypedValue(ValueType, value).
py::object typed_value(cmap_value_types_t type, std::string_view data);
// A key as Python sees it (keys are ASCII; anything else survives as surrogate escapes).
py::str key_to_python(std::string_view key);
// The ValueType member for `type` (its plain int for a type newer than this binding).
py::object value_type_object(cmap_value_types_t type);

}  // namespace corosync::python
