// Enum parameters that take the IntEnum or its plain int value (`guarantee=2`,
// `dispatch(2)`), checked with a one-line error naming the parameter. The stubs keep the
// enum types: the caster's name is pybind11's own for a native enum.
//
// Include this (through the header that declares the enum's binding) in every file that
// binds a function taking one of these enums: a caster must be the same in every file.
#pragma once

#include <pybind11/pybind11.h>

#include <string>

namespace corosync::python {

// Specialize for each enum bound this way: the parameter's name and its valid range.
template <class Enum>
struct EnumArg;

// `o` as a long if it is an int (an IntEnum too, not a bool) from `lo` to `hi`; false for
// anything else (Python error cleared). The casters below and the fast paths
// (fast_calls.hpp), which leave anything else to the full check and its error, share it.
inline bool int_in_range(PyObject* o, long lo, long hi, long& value) {
  if (!PyLong_Check(o) || PyBool_Check(o)) return false;
  long v = PyLong_AsLong(o);
  if (v == -1 && PyErr_Occurred()) {
    PyErr_Clear();
    return false;
  }
  if (v < lo || v > hi) return false;
  value = v;
  return true;
}

}  // namespace corosync::python

namespace pybind11::detail {

template <class Enum>
class int_enum_caster {
  using Arg = corosync::python::EnumArg<Enum>;

 public:
  static constexpr auto name = const_name<Enum>();

  template <class Source>
  static handle cast(Source&& src, return_value_policy policy, handle parent) {
    return type_caster_enum_type<Enum>::cast(std::forward<Source>(src), policy, parent);
  }

  // An IntEnum is an int: one check and one read, no attribute lookups.
  bool load(handle src, bool) {
    PyObject* o = src.ptr();
    if (!PyLong_Check(o) || PyBool_Check(o))
      throw type_error(std::string(Arg::parameter) + " must be " + Arg::type_name +
                       " or an int, not " + Py_TYPE(o)->tp_name);
    long v = 0;
    if (!corosync::python::int_in_range(o, Arg::min, Arg::max, v))
      throw value_error(std::string(Arg::parameter) + " must be a " + Arg::type_name + " (" +
                        std::to_string(Arg::min) + " to " + std::to_string(Arg::max) +
                        "), not " + str(src).cast<std::string>());
    value_ = static_cast<Enum>(v);
    return true;
  }

  template <typename T>
  using cast_op_type = detail::cast_op_type<T>;
  operator Enum*() { return &value_; }
  operator Enum&() { return value_; }

 private:
  Enum value_{};
};

}  // namespace pybind11::detail

// Declares the caster of `Enum` (a C or C++ enum bound with py::native_enum).
#define COROSYNC_INT_ENUM_ARG(Enum, param, type, lo, hi)                          \
  namespace corosync::python {                                                   \
  template <>                                                                    \
  struct EnumArg<Enum> {                                                         \
    static constexpr const char* parameter = param;                              \
    static constexpr const char* type_name = type;                               \
    static constexpr long min = lo;                                              \
    static constexpr long max = hi;                                              \
  };                                                                             \
  }                                                                              \
  namespace pybind11::detail {                                                   \
  template <>                                                                    \
  class type_caster<Enum> : public int_enum_caster<Enum> {};                     \
  }
