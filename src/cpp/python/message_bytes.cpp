#include "message_bytes.hpp"

#include <cstring>
#include <utility>

namespace corosync::python {

namespace {

// The free-threaded build has no single reference count to trust.
#ifdef Py_GIL_DISABLED
constexpr bool kReuse = false;
#else
constexpr bool kReuse = true;
#endif

bool sole_reference(const pybind11::object& o) { return o && Py_REFCNT(o.ptr()) == 1; }

void forget_hash(PyObject* bytes) {
  // A callback may have hashed the old message: the cached hash must not outlive it.
#if defined(__GNUC__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
#endif
  reinterpret_cast<PyBytesObject*>(bytes)->ob_shash = -1;
#if defined(__GNUC__)
#pragma GCC diagnostic pop
#endif
}

}  // namespace

[[gnu::hot]]
pybind11::object MessageBytes::take(const void* data, size_t size) {
  if (kReuse && sole_reference(spare_) &&
      static_cast<size_t>(PyBytes_GET_SIZE(spare_.ptr())) == size) {
    pybind11::object message = std::move(spare_);
    std::memcpy(PyBytes_AS_STRING(message.ptr()), data, size);
    forget_hash(message.ptr());
    return message;
  }
  spare_ = pybind11::object();
  PyObject* fresh =
      PyBytes_FromStringAndSize(static_cast<const char*>(data), static_cast<Py_ssize_t>(size));
  if (!fresh) throw pybind11::error_already_set();
  return pybind11::reinterpret_steal<pybind11::object>(fresh);
}

[[gnu::hot]]
void MessageBytes::give_back(pybind11::object message) noexcept {
  if (kReuse && sole_reference(message)) spare_ = std::move(message);
}

}  // namespace corosync::python
