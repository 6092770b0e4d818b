// What every service's Python class shares beyond the handle methods (handle_binding.hpp):
// constructor argument checks, callback properties, cyclic-GC support and finalizing an
// unclosed handle that is collected. Written once here so that no service copies it wrong.
//
// An `Owner` (the Python-facing class of a service, e.g. PyCpg) provides
//   template <class Visit> void for_each_callback(Visit&& visit)  // visit(py::object&)
// over its callback slots; drop_callbacks() and the GC hooks are built from it.
#pragma once

#include "gil.hpp"

#include <corosync_cxx/handle.hpp>
#include <corosync_cxx/retry.hpp>

#include <pybind11/pybind11.h>

#include <cstdint>
#include <string>
#include <type_traits>
#include <utility>

namespace corosync::python {

// retry_timeout (seconds, finite, >= 0) as the core's policy; ValueError naming it otherwise.
RetryPolicy retry_policy(double retry_timeout);
// An int argument `name` that corosync takes as an unsigned integer of `bits` bits, at least
// `min`: TypeError for a bool or a non-int, OverflowError (one line naming the argument and
// the range) outside it.
uint64_t unsigned_arg(const py::int_& value, const char* name, unsigned bits, uint64_t min = 0);
inline uint32_t uint32_arg(const py::int_& value, const char* name) {
  return static_cast<uint32_t>(unsigned_arg(value, name, 32));
}
// A count that must be >= 1 (ValueError naming `name` below) and fit 64 bits.
uint64_t at_least_one(const py::int_& value, const char* name);
// For an Owner's destructor (GIL held): an unclosed handle that is being collected gets a
// ResourceWarning and is finalized, without the GIL unless the interpreter is finalizing,
// so that a stalled daemon stops only this thread.
void finalize_collected(Handle& handle, const char* type_name) noexcept;
// `fn` if it is callable or None; TypeError naming `name` otherwise.
py::object checked_callback(const py::object& fn, const char* name);

// An Owner may also provide `void callbacks_dropped()`, run (GIL held) before its slots are
// emptied at close() or by the garbage collector.
template <class Owner, class = void>
struct has_callbacks_dropped : std::false_type {};
template <class Owner>
struct has_callbacks_dropped<
    Owner, std::void_t<decltype(std::declval<Owner&>().callbacks_dropped())>>
    : std::true_type {};

template <class Owner>
void drop_callbacks(Owner& owner) {
  if constexpr (has_callbacks_dropped<Owner>::value) owner.callbacks_dropped();
  owner.for_each_callback([](py::object& slot) { slot = py::object(); });
}

// py::custom_type_setup for an Owner's class: lets the cyclic GC see (and break) cycles
// through the callbacks, e.g. a bound method of an object that owns the handle.
template <class Owner>
py::custom_type_setup gc_support() {
  return py::custom_type_setup([](PyHeapTypeObject* heap_type) {
    auto* type = &heap_type->ht_type;
    type->tp_flags |= Py_TPFLAGS_HAVE_GC;
    type->tp_traverse = [](PyObject* self, visitproc visit, void* arg) {
      Py_VISIT(Py_TYPE(self));
      if (!py::detail::is_holder_constructed(self)) return 0;
      int result = 0;
      py::handle(self).cast<Owner&>().for_each_callback([&](py::object& slot) {
        if (!result && slot) result = visit(slot.ptr(), arg);
      });
      return result;
    };
    type->tp_clear = [](PyObject* self) {
      if (py::detail::is_holder_constructed(self)) drop_callbacks(py::handle(self).cast<Owner&>());
      return 0;
    };
  });
}

// A read-write callback property `name` stored in `Owner::*slot`, typed `Callback` (an
// Optional<Callable<...>>) in the stubs. Setting one on a closed handle raises ClosedError:
// it could never run.
template <class Callback, class Owner, class... Extra, class HandleOf>
void def_callback(py::class_<Owner, Extra...>& cls, const char* name, py::object Owner::*slot,
                  HandleOf handle_of, const char* doc) {
  cls.def_property(
      name,
      [slot](Owner& self) { return Callback(self.*slot ? self.*slot : py::none()); },
      [slot, name, handle_of](Owner& self, const Callback& fn) {
        Handle& handle = handle_of(self);
        // Callbacks run from the service's dispatch: that is the C call this one serves.
        if (handle.closed())
          throw ClosedError(handle.ops().dispatch_name,
                            std::string(name) + " cannot be set: the handle is closed");
        self.*slot = checked_callback(fn, name);
      },
      doc);
}

}  // namespace corosync::python
