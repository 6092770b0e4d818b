#include "cmap_values.hpp"

#include "py_types.hpp"

#include <pybind11/gil_safe_call_once.h>

#include <cfloat>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <vector>

namespace corosync::python {

namespace {

struct CmapTypes {
  py::object typed_value;                // corosync.cmap.TypedValue
  std::vector<py::object> value_types;  // ValueType(i), index i, for corosync's 1..12
};

// Looked up once, on first use: the package imports this module before corosync.cmap exists.
const CmapTypes& cmap_types() {
  PYBIND11_CONSTINIT static py::gil_safe_call_once_and_store<CmapTypes> storage;
  return storage
      .call_once_and_store_result([] {
        py::module_ cmap = py::module_::import("corosync.cmap");
        CmapTypes t;
        t.typed_value = cmap.attr("TypedValue");
        py::object value_type = cmap.attr("ValueType");
        t.value_types.emplace_back(py::none());
        for (int i = CMAP_VALUETYPE_INT8; i <= CMAP_VALUETYPE_BINARY; ++i)
          t.value_types.push_back(value_type(i));
        return t;
      })
      .get_stored();
}

const char* type_name(cmap_value_types_t type) {
  static const char* const names[] = {"?",      "INT8",  "UINT8",  "INT16",  "UINT16",
                                      "INT32",  "UINT32", "INT64", "UINT64", "FLOAT",
                                      "DOUBLE", "STRING", "BINARY"};
  return type >= CMAP_VALUETYPE_INT8 && type <= CMAP_VALUETYPE_BINARY ? names[type] : "?";
}

std::string python_type_name(const py::handle& value) { return Py_TYPE(value.ptr())->tp_name; }

bool is_int(const py::handle& value) {
  return PyLong_Check(value.ptr()) && !PyBool_Check(value.ptr());
}

bool is_buffer(const py::handle& value) { return PyObject_CheckBuffer(value.ptr()) != 0; }

[[noreturn]] void wrong_type(const py::handle& value, cmap_value_types_t type,
                             const CallName& what, const char* expected) {
  throw py::type_error(what.text() + ": a " + type_name(type) + " value must be " +
                       expected + ", not " + python_type_name(value));
}

template <class T>
std::string bytes_of(T v) {
  return std::string(reinterpret_cast<const char*>(&v), sizeof v);
}

// `value`, an int, as T; false when T cannot hold it.
template <class T>
bool integer_in_range(const py::handle& value, T& v) {
  if constexpr (std::is_signed_v<T>) {
    int overflow = 0;
    long long n = PyLong_AsLongLongAndOverflow(value.ptr(), &overflow);
    if (n == -1 && PyErr_Occurred()) throw py::error_already_set();
    if (overflow || n < std::numeric_limits<T>::min() || n > std::numeric_limits<T>::max())
      return false;
    v = static_cast<T>(n);
  } else {
    unsigned long long n = PyLong_AsUnsignedLongLong(value.ptr());
    if (n == static_cast<unsigned long long>(-1) && PyErr_Occurred()) {
      PyErr_Clear();  // negative, or above unsigned long long: OverflowError either way
      return false;
    }
    if (n > std::numeric_limits<T>::max()) return false;
    v = static_cast<T>(n);
  }
  return true;
}

// An int as T's bytes; OverflowError naming the type and its range when T cannot hold it.
template <class T>
std::string integer_bytes(const py::handle& value, cmap_value_types_t type, const CallName& what) {
  if (!is_int(value)) wrong_type(value, type, what, "an int");
  T v{};
  if (integer_in_range(value, v)) return bytes_of(v);
  using Wide = std::conditional_t<std::is_signed_v<T>, long long, unsigned long long>;
  std::string message = what.text() + ": value " + py::repr(value).cast<std::string>() +
                        " is out of range for " + type_name(type) + " (" +
                        std::to_string(static_cast<Wide>(std::numeric_limits<T>::min())) +
                        " to " +
                        std::to_string(static_cast<Wide>(std::numeric_limits<T>::max())) + ")";
  PyErr_SetString(PyExc_OverflowError, message.c_str());
  throw py::error_already_set();
}

double float_of(const py::handle& value, cmap_value_types_t type, const CallName& what) {
  if (!PyFloat_Check(value.ptr()) && !is_int(value))
    wrong_type(value, type, what, "a float or an int");
  double d = PyFloat_AsDouble(value.ptr());  // OverflowError for an int beyond a double
  if (d == -1.0 && PyErr_Occurred()) throw py::error_already_set();
  return d;
}

std::string float_bytes(const py::handle& value, const CallName& what) {
  double d = float_of(value, CMAP_VALUETYPE_FLOAT, what);
  // NaN and the infinities are floats too; a finite value beyond FLT_MAX is not.
  if (std::isfinite(d) && std::fabs(d) > FLT_MAX) {
    PyErr_SetString(PyExc_OverflowError,
                    (what.text() + ": value " + py::repr(value).cast<std::string>() +
                     " is out of range for FLOAT (a C float: -3.4028234663852886e+38 to "
                     "3.4028234663852886e+38, inf and nan)")
                        .c_str());
    throw py::error_already_set();
  }
  return bytes_of(static_cast<float>(d));
}

std::string buffer_bytes(const py::handle& value) {
  Py_buffer view;
  if (PyObject_GetBuffer(value.ptr(), &view, PyBUF_SIMPLE) != 0) throw py::error_already_set();
  std::string out(static_cast<const char*>(view.buf), static_cast<size_t>(view.len));
  PyBuffer_Release(&view);
  return out;
}

std::string string_bytes(const py::handle& value, const CallName& what) {
  std::string out;
  if (PyUnicode_Check(value.ptr())) {
    out = utf8(value, "value");
  } else if (PyBytes_Check(value.ptr())) {
    out = buffer_bytes(value);
  } else {
    wrong_type(value, CMAP_VALUETYPE_STRING, what, "a str or bytes");
  }
  if (out.find('\0') != std::string::npos)
    throw py::value_error(what.text() +
                          ": a STRING value cannot contain NUL (corosync stores C strings); "
                          "use ValueType.BINARY");
  return out;
}

template <class T>
py::object number_from(std::string_view data) {
  T v;
  std::memcpy(&v, data.data(), sizeof v);
  if constexpr (std::is_floating_point_v<T>)
    return py::float_(static_cast<double>(v));
  else
    return py::int_(v);
}

}  // namespace

std::string CallName::text() const {
  return std::string(function_) + "(" + py::repr(key_).cast<std::string>() + ")";
}

cmap_value_types_t inferred_type(const py::handle& value, const CallName& what) {
  PyObject* o = value.ptr();
  if (is_int(value)) {
    int overflow = 0;
    PyLong_AsLongLongAndOverflow(o, &overflow);
    if (overflow > 0) return CMAP_VALUETYPE_UINT64;  // encode_value checks its range
    return CMAP_VALUETYPE_INT64;
  }
  if (PyFloat_Check(o)) return CMAP_VALUETYPE_DOUBLE;
  if (PyUnicode_Check(o)) return CMAP_VALUETYPE_STRING;
  if (!PyBool_Check(o) && is_buffer(value)) return CMAP_VALUETYPE_BINARY;
  throw py::type_error(what.text() + ": a new key's type follows from its value (int, "
                                           "float, str or bytes), not " +
                       python_type_name(value) + "; give type=ValueType...");
}

EncodedValue encode_value(const py::handle& value, cmap_value_types_t type, const CallName& what) {
  switch (type) {
    case CMAP_VALUETYPE_INT8:
      return {type, integer_bytes<int8_t>(value, type, what)};
    case CMAP_VALUETYPE_UINT8:
      return {type, integer_bytes<uint8_t>(value, type, what)};
    case CMAP_VALUETYPE_INT16:
      return {type, integer_bytes<int16_t>(value, type, what)};
    case CMAP_VALUETYPE_UINT16:
      return {type, integer_bytes<uint16_t>(value, type, what)};
    case CMAP_VALUETYPE_INT32:
      return {type, integer_bytes<int32_t>(value, type, what)};
    case CMAP_VALUETYPE_UINT32:
      return {type, integer_bytes<uint32_t>(value, type, what)};
    case CMAP_VALUETYPE_INT64:
      return {type, integer_bytes<int64_t>(value, type, what)};
    case CMAP_VALUETYPE_UINT64:
      return {type, integer_bytes<uint64_t>(value, type, what)};
    case CMAP_VALUETYPE_FLOAT:
      return {type, float_bytes(value, what)};
    case CMAP_VALUETYPE_DOUBLE:
      return {type, bytes_of(float_of(value, type, what))};
    case CMAP_VALUETYPE_STRING:
      return {type, string_bytes(value, what)};
    case CMAP_VALUETYPE_BINARY:
      if (PyUnicode_Check(value.ptr()) || !is_buffer(value))
        wrong_type(value, type, what, "a bytes-like object");
      return {type, buffer_bytes(value)};
  }
  throw py::value_error(what.text() + ": unknown value type " + std::to_string(type));
}

py::object value_to_python(cmap_value_types_t type, std::string_view data) {
  auto fits = [&](size_t size) { return data.size() == size; };
  switch (type) {
    case CMAP_VALUETYPE_INT8:
      if (fits(1)) return number_from<int8_t>(data);
      break;
    case CMAP_VALUETYPE_UINT8:
      if (fits(1)) return number_from<uint8_t>(data);
      break;
    case CMAP_VALUETYPE_INT16:
      if (fits(2)) return number_from<int16_t>(data);
      break;
    case CMAP_VALUETYPE_UINT16:
      if (fits(2)) return number_from<uint16_t>(data);
      break;
    case CMAP_VALUETYPE_INT32:
      if (fits(4)) return number_from<int32_t>(data);
      break;
    case CMAP_VALUETYPE_UINT32:
      if (fits(4)) return number_from<uint32_t>(data);
      break;
    case CMAP_VALUETYPE_INT64:
      if (fits(8)) return number_from<int64_t>(data);
      break;
    case CMAP_VALUETYPE_UINT64:
      if (fits(8)) return number_from<uint64_t>(data);
      break;
    case CMAP_VALUETYPE_FLOAT:
      if (fits(4)) return number_from<float>(data);
      break;
    case CMAP_VALUETYPE_DOUBLE:
      if (fits(8)) return number_from<double>(data);
      break;
    case CMAP_VALUETYPE_STRING: {
      PyObject* text =
          PyUnicode_DecodeUTF8(data.data(), static_cast<Py_ssize_t>(data.size()), "strict");
      if (text) return py::reinterpret_steal<py::object>(text);
      PyErr_Clear();
      break;
    }
    default:
      break;
  }
  // BINARY, and whatever does not have its type's size: the bytes as they are.
  return py::bytes(data.data(), data.size());
}

py::object value_type_object(cmap_value_types_t type) {
  const auto& members = cmap_types().value_types;
  if (type >= CMAP_VALUETYPE_INT8 && static_cast<size_t>(type) < members.size())
    return members[static_cast<size_t>(type)];
  return py::int_(static_cast<int>(type));
}

py::object typed_value(cmap_value_types_t type, std::string_view data) {
  // TypedValue is a NamedTuple, a tuple subclass: allocated and filled here as tuple's own
  // constructor does, without running the class's Python-level __new__.
  py::object kind = value_type_object(type);
  py::object value = value_to_python(type, data);
  auto* cls = reinterpret_cast<PyTypeObject*>(cmap_types().typed_value.ptr());
  PyObject* pair = cls->tp_alloc(cls, 2);
  if (!pair) throw py::error_already_set();
  PyTuple_SET_ITEM(pair, 0, kind.release().ptr());
  PyTuple_SET_ITEM(pair, 1, value.release().ptr());
  return py::reinterpret_steal<py::object>(pair);
}

py::str key_to_python(std::string_view key) {
  PyObject* text =
      PyUnicode_DecodeUTF8(key.data(), static_cast<Py_ssize_t>(key.size()), "surrogateescape");
  if (!text) throw py::error_already_set();
  return py::reinterpret_steal<py::str>(text);
}

}  // namespace corosync::python
