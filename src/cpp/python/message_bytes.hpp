// Received messages as bytes objects, without a fresh allocation per message.
//
// A fresh 1 MiB bytes object per message costs glibc an mmap, or a heap that grows and is
// trimmed again, and a page fault on each of its pages when the message is copied in: more
// time than the copy itself (measured: 42 % of the binding's time at 1 MiB). So the bytes
// object of the last message is kept when the callback kept no reference to it, and the
// next message of the same size is copied into it. Nothing can see the reuse: with a
// reference count of one, this class holds the only reference (bytes objects have no weak
// references, and a buffer export or a slice holds a reference of its own). Messages of
// other sizes get a new object. Small messages are reused too: pymalloc serves them
// cheaply, but making and freeing one still cost about 110 instructions per message where
// the copy into the kept one costs 25 (callgrind, 64 B). Empty and one-byte messages are
// CPython's shared objects, never this class's alone, so they are never reused.
#pragma once

#include <pybind11/pybind11.h>

#include <cstddef>

namespace corosync::python {

class MessageBytes {
 public:
  // A bytes object holding a copy of `size` bytes at `data` (GIL held).
  pybind11::object take(const void* data, size_t size);
  // Hands back a message after the callback returned (GIL held): kept for reuse if nothing
  // else refers to it.
  void give_back(pybind11::object message) noexcept;

 private:
  pybind11::object spare_;
};

}  // namespace corosync::python
