// Python binding of corosync::Cpg as corosync.CPG (cpg_* of libcpg, cpg.h, cpg_overview(3)).
#include "brief_errors.hpp"
#include "enum_args.hpp"
#include "gil.hpp"
#include "cxx_handle.hpp"
#include "handle_binding.hpp"
#include "message_bytes.hpp"
#include "py_types.hpp"
#include "service_binding.hpp"
#include "services.hpp"

#include <corosync_cxx/cpg.hpp>

#include <pybind11/native_enum.h>
#include <pybind11/stl.h>

#include <unistd.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

COROSYNC_INT_ENUM_ARG(cpg_guarantee_t, "guarantee", "Guarantee", CPG_TYPE_UNORDERED,
                      CPG_TYPE_SAFE)

namespace corosync::python {

namespace {

using DeliverCallback = py::typing::Optional<
    py::typing::Callable<void(GroupName, uint32_t, uint32_t, py::bytes)>>;
using ConfchgCallback = py::typing::Optional<py::typing::Callable<void(
    GroupName, py::typing::List<PyAddress>, py::typing::List<PyAddress>,
    py::typing::List<PyAddress>)>>;
using TotemConfchgCallback =
    py::typing::Optional<py::typing::Callable<void(PyRingId, py::typing::List<int>)>>;

// Group names travel as bytes; Python sees str when they are UTF-8.
py::object group_to_python(std::string_view name) {
  PyObject* text = PyUnicode_DecodeUTF8(name.data(), static_cast<Py_ssize_t>(name.size()),
                                        "strict");
  if (text) return py::reinterpret_steal<py::object>(text);
  PyErr_Clear();
  return py::bytes(name.data(), name.size());
}

// An argument's type as error messages name it.
std::string type_name(const py::handle& object) {
  return py::str(py::type::handle_of(object).attr("__name__")).cast<std::string>();
}

CpgName group_from_python(const py::handle& group, const char* function) {
  std::string bytes;
  if (py::isinstance<py::str>(group)) {
    bytes = utf8(group, "group");
  } else if (py::isinstance<py::bytes>(group)) {
    bytes = group.cast<std::string>();
  } else {
    throw py::type_error(std::string(function) + "(): group must be str or bytes, not " +
                         type_name(group));
  }
  return CpgName(bytes, function);
}

// An optional `group=` argument: the name, or none for the one joined group (or all).
std::optional<CpgName> optional_group(const std::optional<GroupName>& group,
                                      const char* function) {
  if (!group) return std::nullopt;
  return group_from_python(*group, function);
}

const CpgName* or_null(const std::optional<CpgName>& name) { return name ? &*name : nullptr; }

py::list addresses_to_python(const std::vector<CpgAddress>& list) {
  const PackageTypes& types = package_types();
  py::list out;
  for (const CpgAddress& a : list) {
    size_t r = static_cast<size_t>(a.reason);
    // A reason newer than this binding keeps its number.
    py::object reason = r < types.reasons.size() ? types.reasons[r] : py::int_(r);
    out.append(types.address(a.nodeid, a.pid, reason));
  }
  return out;
}

// A Python buffer held for the duration of one mcast (GIL held to hold and release it).
struct HeldBuffer {
  // Set by hold() and read only while `held`: not zeroed, as mcast_many makes a batch of
  // these per call (zeroing 64 of them cost about 26 instructions per message).
  Py_buffer view;
  bool held = false;
  bool exported = false;  // through the buffer protocol; else a bytes object's own data
  HeldBuffer() = default;
  HeldBuffer(const HeldBuffer&) = delete;
  HeldBuffer& operator=(const HeldBuffer&) = delete;
  ~HeldBuffer() { release(); }
  // Holds `object`'s buffer; false (Python error cleared) if it is not a contiguous
  // bytes-like object.
  bool hold(PyObject* object) {
    if (PyBytes_CheckExact(object)) {
      // bytes, the common case, is immutable: its data stays put while a reference is held.
      // Its buffer export would fill a whole Py_buffer and release it again: about 60
      // instructions per message (callgrind).
      view.obj = Py_NewRef(object);
      view.buf = PyBytes_AS_STRING(object);
      view.len = PyBytes_GET_SIZE(object);
      exported = false;
    } else if (PyObject_GetBuffer(object, &view, PyBUF_SIMPLE) == 0) {
      exported = true;
    } else {
      PyErr_Clear();
      return false;
    }
    held = true;
    return true;
  }
  void release() {
    if (!held) return;
    held = false;
    if (exported)
      PyBuffer_Release(&view);
    else
      Py_CLEAR(view.obj);
  }
  ConstBuffer part() const { return {view.buf, static_cast<size_t>(view.len)}; }
};

// `count` held buffers and their parts: on the stack for a few (mcast's common case, one
// buffer, allocates nothing), on the heap beyond.
class HeldBuffers {
 public:
  explicit HeldBuffers(size_t count) {
    if (count > kOnStack) {
      heap_held_.reset(new HeldBuffer[count]);
      heap_parts_.reset(new ConstBuffer[count]);
    }
  }
  HeldBuffer& operator[](size_t i) { return heap_held_ ? heap_held_[i] : stack_held_[i]; }
  ConstBuffer* parts() { return heap_parts_ ? heap_parts_.get() : stack_parts_; }

 private:
  static constexpr size_t kOnStack = 4;
  HeldBuffer stack_held_[kOnStack];
  ConstBuffer stack_parts_[kOnStack]{};
  std::unique_ptr<HeldBuffer[]> heap_held_;
  std::unique_ptr<ConstBuffer[]> heap_parts_;
};

// The Python-facing CPG: owns the core Cpg and the Python callbacks it calls.
class PyCpg : public CpgListener {
 public:
  explicit PyCpg(CpgOptions options) : cpg(this, options) {}
  // Runs with the GIL held (tp_dealloc): an unclosed handle is finalized without it.
  ~PyCpg() override {
    finalize_collected(cpg, "corosync.CPG");
    cpg.set_listener(nullptr);
  }

  // Hot, as the core's per-message functions (corosync_cxx/cpg.cpp, deliver_trampoline).
  [[gnu::hot]]
  void on_deliver(std::string_view group, uint32_t nodeid, uint32_t pid, const void* message,
                  size_t size) override {
    callback_with_gil(cpg, [&] {
      py::object fn = deliver;  // keep it alive even if the attribute is replaced meanwhile
      if (!fn || fn.is_none()) return;
      py::object bytes = messages_.take(message, size);
      call_python(fn, group_object(group), int_object(nodeid, last_nodeid_),
                  int_object(pid, last_pid_), bytes);
      messages_.give_back(std::move(bytes));
    });
  }

  void on_confchg(std::string_view group, const std::vector<CpgAddress>& members,
                  const std::vector<CpgAddress>& left,
                  const std::vector<CpgAddress>& joined) override {
    callback_with_gil(cpg, [&] {
      py::object fn = confchg;
      if (!fn || fn.is_none()) return;
      call_python(fn, group_object(group), addresses_to_python(members),
                  addresses_to_python(left), addresses_to_python(joined));
    });
  }

  void on_totem_confchg(CpgRingId ring_id, const std::vector<uint32_t>& members) override {
    callback_with_gil(cpg, [&] {
      py::object fn = totem_confchg;
      if (!fn || fn.is_none()) return;
      py::object ring = package_types().ring_id(ring_id.nodeid, ring_id.seq);
      call_python(fn, ring, py::cast(members));
    });
  }

  template <class Visit>
  void for_each_callback(Visit&& visit) {
    visit(deliver);
    visit(confchg);
    visit(totem_confchg);
  }

  Cpg cpg;
  py::object deliver, confchg, totem_confchg;

 private:
  // The group's name as Python sees it, decoded once per group rather than per message
  // (GIL held; str and bytes are immutable, so one object serves every callback). Returned
  // by reference, as are the ints below, so that passing them costs no reference count
  // traffic: a callback's arguments are taken by the callee, and the objects stay until the
  // next event of this handle, which no callback can dispatch from inside its own.
  const py::object& group_object(std::string_view group) {
    if (!last_group_object_ || group != last_group_) {
      last_group_object_ = group_to_python(group);
      last_group_.assign(group);
    }
    return last_group_object_;
  }

  // The int of a node id or pid, made once per value rather than per message (a pid is
  // beyond CPython's cache of small ints; ints are immutable, so one object serves all).
  struct LastInt {
    uint32_t value = 0;
    py::object object;
  };
  static const py::object& int_object(uint32_t value, LastInt& last) {
    if (!last.object || last.value != value) {
      last.object = py::int_(value);
      last.value = value;
    }
    return last.object;
  }

  std::string last_group_;
  py::object last_group_object_;
  LastInt last_nodeid_, last_pid_;
  MessageBytes messages_;
};

Handle& handle_of(PyCpg& self) { return self.cpg; }

// Cpg::mcast_joined, called with the GIL held: a send that cannot wait goes without letting
// go of the GIL, as handing it to another thread and taking it back costs more than the
// send; one that could wait (a full send window, corosync's TRY_AGAIN, a large message) lets
// it go, so that other threads run meanwhile, among them the one dispatching.
void mcast_joined(Cpg& cpg, const CpgName* group, cpg_guarantee_t guarantee,
                  const ConstBuffer* buffers, size_t count, const RetryPolicy* retry = nullptr) {
  if (cpg.try_mcast_joined(group, guarantee, buffers, count)) return;
  without_gil([&] { cpg.mcast_joined(group, guarantee, buffers, count, retry); });
}

// cpg.mcast(buffer), the call made once per message, without pybind11's dispatcher
// (fast_calls.hpp); any other call goes on to it.
FastPath mcast_path;

PyObject* fast_mcast(PyObject* self, PyObject* const* args, Py_ssize_t nargsf,
                     PyObject* kwnames) {
  if (!kwnames && PyVectorcall_NARGS(nargsf) == 1)
    if (PyCpg* cpg = mcast_path.instance<PyCpg>(self)) {
      HeldBuffer held;
      if (held.hold(args[0])) {
        ConstBuffer part = held.part();
        return none_or_error([&] { mcast_joined(cpg->cpg, nullptr, CPG_TYPE_AGREED, &part, 1); });
      }
    }
  return mcast_path.fallback(self, args, nargsf, kwnames);
}

// Rethrows the exception being handled as a Python one (corosync::Error through the
// module's translator), so that the caller can annotate it.
[[noreturn]] void rethrow_as_python_error() {
  try {
    throw;
  } catch (py::error_already_set&) {
    throw;
  } catch (...) {
    py::detail::try_translate_exceptions();
  }
  throw py::error_already_set();
}

// The items of mcast_many's `messages`, one at a time, with the GIL held. A list or tuple
// is read by index, as its iterator would (a list's size is read again for each item, in
// case it changed meanwhile), without an iterator call and a reference per item (about 20
// instructions a message); anything else goes through its iterator.
class MessageItems {
 public:
  explicit MessageItems(const py::handle& messages) {
    if (PyList_CheckExact(messages.ptr()) || PyTuple_CheckExact(messages.ptr()))
      sequence_ = py::reinterpret_borrow<py::object>(messages);
    else
      iterator_ = py::iter(messages);
  }
  // The next item, or null at the end or on the iterator's error (PyErr_Occurred tells).
  // A list's or tuple's bytes item is borrowed: holding it runs no Python code that could
  // drop it from the list. Any other item is kept in `owned` (its buffer export may run
  // Python, a __buffer__ method), as is an iterator's.
  PyObject* next(py::object& owned) {
    if (sequence_) {
      if (index_ >= size()) return nullptr;
      PyObject* seq = sequence_.ptr();
      Py_ssize_t i = index_++;
      PyObject* item = PyList_CheckExact(seq) ? PyList_GET_ITEM(seq, i) : PyTuple_GET_ITEM(seq, i);
      if (!PyBytes_CheckExact(item)) owned = py::reinterpret_borrow<py::object>(item);
      return item;
    }
    owned = py::reinterpret_steal<py::object>(PyIter_Next(iterator_.ptr()));
    return owned.ptr();
  }

 private:
  Py_ssize_t size() const {
    PyObject* seq = sequence_.ptr();
    return PyList_CheckExact(seq) ? PyList_GET_SIZE(seq) : PyTuple_GET_SIZE(seq);
  }
  py::object sequence_;
  py::object iterator_;
  Py_ssize_t index_ = 0;
};

// One batch of mcast_many's items, held while it is sent (GIL held to hold and release
// them): per message the part cpg_mcast_joined is given and a reference to its bytes
// object, 24 bytes on the stack, where a HeldBuffer (a whole Py_buffer) and its part took
// 104 on the heap (6.6 KB for a batch of 64, allocated per call). An item that is not
// bytes (a bytearray, a memoryview) needs a buffer export: a Py_buffer, kept apart,
// allocated once a batch has one. Nothing is zeroed first: only the first size() entries
// are ever read.
class HeldBatch {
 public:
  static constexpr size_t kCapacity = 256;
  HeldBatch() = default;
  HeldBatch(const HeldBatch&) = delete;
  HeldBatch& operator=(const HeldBatch&) = delete;
  ~HeldBatch() { release(); }
  size_t size() const { return count_; }
  bool full() const { return count_ == kCapacity; }
  const ConstBuffer* parts() const { return parts_; }
  // Holds `item` as the next message; false (Python error cleared) if it is not a
  // contiguous bytes-like object.
  bool hold(PyObject* item) {
    ConstBuffer& part = parts_[count_];
    if (PyBytes_CheckExact(item)) {
      // bytes, the common case, is immutable: its data stays put while a reference is held.
      owners_[count_] = Py_NewRef(item);
      part = {PyBytes_AS_STRING(item), static_cast<size_t>(PyBytes_GET_SIZE(item))};
    } else {
      if (!views_) views_.reset(new Py_buffer[kCapacity]);
      Py_buffer& view = views_[view_count_];
      if (PyObject_GetBuffer(item, &view, PyBUF_SIMPLE) != 0) {
        PyErr_Clear();
        return false;
      }
      ++view_count_;
      owners_[count_] = nullptr;
      part = {view.buf, static_cast<size_t>(view.len)};
    }
    ++count_;
    return true;
  }
  // Lets go of every item held (their sends are over); the batch is empty again.
  void release() {
    for (size_t i = 0; i < count_; ++i) Py_XDECREF(owners_[i]);
    for (size_t i = 0; i < view_count_; ++i) PyBuffer_Release(&views_[i]);
    count_ = view_count_ = 0;
  }

 private:
  ConstBuffer parts_[kCapacity];
  PyObject* owners_[kCapacity];  // null for an item held through views_
  std::unique_ptr<Py_buffer[]> views_;
  size_t count_ = 0;
  size_t view_count_ = 0;
};

// A call's own retry_timeout, if it gives one.
std::optional<RetryPolicy> call_retry(const std::optional<double>& retry_timeout) {
  if (!retry_timeout) return std::nullopt;
  return retry_policy(*retry_timeout);
}

[[gnu::hot]]
size_t mcast_many(PyCpg& self, const py::handle& messages, cpg_guarantee_t guarantee,
                  const CpgName* target, const RetryPolicy* retry) {
  // Items are taken and sent in batches: one GIL release per batch, and a generator of
  // any length needs no more memory than one batch.
  MessageItems items(messages);
  HeldBatch held;
  size_t sent = 0;
  try {
    for (;;) {
      std::string bad_item;
      std::exception_ptr from_iterable;
      try {
        py::object owned;
        for (PyObject* item; !held.full() && (item = items.next(owned));) {
          if (!held.hold(item)) {
            bad_item = type_name(py::handle(item));
            break;
          }
        }
        if (PyErr_Occurred()) throw py::error_already_set();
      } catch (py::error_already_set&) {
        from_iterable = std::current_exception();
      }
      const size_t n = held.size();
      size_t batch_sent = 0;
      try {
        if (n) without_gil([&] {
            self.cpg.mcast_joined_each(target, guarantee, held.parts(), n, batch_sent, retry);
          });
      } catch (...) {
        sent += batch_sent;
        throw;
      }
      sent += batch_sent;
      held.release();
      if (from_iterable) std::rethrow_exception(from_iterable);
      if (!bad_item.empty())
        throw py::type_error("mcast_many() item " + std::to_string(sent) +
                             " must be a contiguous bytes-like object, not " + bad_item);
      // A batch that is not full took the last item (one that is may have, too: the next
      // finds the end at once).
      if (n < HeldBatch::kCapacity) return sent;
    }
  } catch (...) {
    // Tells the caller how many messages went before the one that failed.
    try {
      rethrow_as_python_error();
    } catch (py::error_already_set& e) {
      e.value().attr("sent") = sent;
      throw;
    }
  }
}

size_t mcast_many_from_python(PyCpg& self, const py::typing::Iterable<PyBuffer>& messages,
                              cpg_guarantee_t guarantee, const std::optional<GroupName>& group,
                              const std::optional<double>& retry_timeout) {
  std::optional<CpgName> name = optional_group(group, "cpg_mcast_joined");
  std::optional<RetryPolicy> retry = call_retry(retry_timeout);
  return mcast_many(self, messages, guarantee, or_null(name), retry ? &*retry : nullptr);
}

// cpg.mcast_many(list or tuple), the call a batching sender makes, without pybind11's
// dispatcher: about 1,500 instructions less a call (callgrind, an empty list: 2,350 through
// the dispatcher, 860 here). Any other call goes on to it, where a generator or another
// iterable costs more than the dispatcher anyway.
FastPath mcast_many_path;

[[gnu::hot]]
PyObject* fast_mcast_many(PyObject* self, PyObject* const* args, Py_ssize_t nargsf,
                          PyObject* kwnames) {
  if (!kwnames && PyVectorcall_NARGS(nargsf) == 1 &&
      (PyList_CheckExact(args[0]) || PyTuple_CheckExact(args[0])))
    if (PyCpg* cpg = mcast_many_path.instance<PyCpg>(self))
      return result_or_error([&] {
        return py::int_(mcast_many(*cpg, args[0], CPG_TYPE_AGREED, nullptr, nullptr));
      });
  return mcast_many_path.fallback(self, args, nargsf, kwnames);
}

void bind_enums(py::module_& m) {
  py::native_enum<cpg_guarantee_t>(m, "Guarantee", "enum.IntEnum",
                                   "Delivery guarantee of CPG.mcast (cpg_guarantee_t). corosync "
                                   "implements AGREED; FIFO behaves as AGREED and UNORDERED and "
                                   "SAFE are accepted but not implemented by corosync.")
      .value("UNORDERED", CPG_TYPE_UNORDERED)
      .value("FIFO", CPG_TYPE_FIFO)
      .value("AGREED", CPG_TYPE_AGREED)
      .value("SAFE", CPG_TYPE_SAFE)
      .finalize();
  py::native_enum<cpg_reason_t>(m, "Reason", "enum.IntEnum",
                                "Why a member joined or left a group (cpg_reason_t).")
      .value("UNDEFINED", CPG_REASON_UNDEFINED)
      .value("JOIN", CPG_REASON_JOIN)
      .value("LEAVE", CPG_REASON_LEAVE)
      .value("NODEDOWN", CPG_REASON_NODEDOWN)
      .value("NODEUP", CPG_REASON_NODEUP)
      .value("PROCDOWN", CPG_REASON_PROCDOWN)
      .finalize();
}

}  // namespace

void bind_cpg(py::module_& m) {
  bind_enums(m);
  m.attr("CPG_MAX_NAME_LENGTH") = CPG_MAX_NAME_LENGTH;
  py::class_<PyCpg> cls(m, "CPG", gc_support<PyCpg>(),
                        "A closed process group connection (cpg_model_initialize, model V1).\n\n"
                        "Messages multicast to a group are delivered to every member in one "
                        "total order. Callbacks run inside dispatch() in the calling thread.");
  cls.def(py::init([](const DeliverCallback& on_deliver, const ConfchgCallback& on_confchg,
                      const TotemConfchgCallback& on_totem_confchg,
                      bool deliver_initial_totem_conf, double retry_timeout,
                      const py::int_& send_window_messages, const py::int_& send_window_bytes) {
            CpgOptions options;
            options.deliver_initial_totem_conf = deliver_initial_totem_conf;
            options.retry = retry_policy(retry_timeout);
            options.send_window_messages =
                at_least_one(send_window_messages, "send_window_messages");
            options.send_window_bytes = at_least_one(send_window_bytes, "send_window_bytes");
            py::object d = checked_callback(on_deliver, "on_deliver");
            py::object c = checked_callback(on_confchg, "on_confchg");
            py::object t = checked_callback(on_totem_confchg, "on_totem_confchg");
            auto self = without_gil([&] { return std::make_unique<PyCpg>(options); });
            self->deliver = d;
            self->confchg = c;
            self->totem_confchg = t;
            return self;
          }),
          py::kw_only(), py::arg("on_deliver") = py::none(), py::arg("on_confchg") = py::none(),
          py::arg("on_totem_confchg") = py::none(), py::arg("deliver_initial_totem_conf") = false,
          py::arg("retry_timeout") = 3.0,
          py::arg("send_window_messages") = CpgOptions{}.send_window_messages,
          py::arg("send_window_bytes") = CpgOptions{}.send_window_bytes,
          "Connect to the local corosync's CPG service (cpg_model_initialize).\n\n"
          "on_deliver(group, nodeid, pid, message), on_confchg(group, members, left, joined) "
          "and on_totem_confchg(ring_id, members) run inside dispatch(). With "
          "deliver_initial_totem_conf the current totem configuration arrives as an "
          "on_totem_confchg after the first join's confchg (corosync sends it on join). "
          "Each joined group has a connection of its own, so events of different groups, "
          "and ring changes, have no order among them; within a group they keep "
          "corosync's total order. Calls answered with CS_ERR_TRY_AGAIN are retried for up "
          "to retry_timeout seconds (0 disables retrying), then raise TryAgainError.\n\n"
          "The send window bounds what this handle queues in corosync, which keeps a "
          "client's undispatched events without limit: once send_window_messages of this "
          "handle's messages, or send_window_bytes of them, were sent and not yet delivered "
          "back to it (a member receives its own messages), mcast waits as under flow "
          "control for a dispatch to deliver them, up to retry_timeout, then raises "
          "TryAgainError. A message larger than the byte window is sent once nothing else "
          "is outstanding.");
  bind_handle_methods(cls, "cpg", handle_of);
  def_cxx_handle<Cpg>(cls, COROSYNC_CXX_CAPSULE(Cpg),
                        [](PyCpg& self) -> Cpg& { return self.cpg; });
  cls.def("__repr__", [](PyCpg& self) {
    if (self.cpg.closed()) return std::string("<corosync.CPG closed>");
    py::list groups;
    for (const std::string& g : self.cpg.joined_groups()) groups.append(group_to_python(g));
    return "<corosync.CPG node " + std::to_string(self.cpg.local_get()) + " pid " +
           std::to_string(getpid()) + " groups " + py::repr(groups).cast<std::string>() + ">";
  });
  def_callback<DeliverCallback>(
      cls, "on_deliver", &PyCpg::deliver, handle_of,
      "fn(group, nodeid, pid, message: bytes): a message multicast to a joined group.");
  def_callback<ConfchgCallback>(cls, "on_confchg", &PyCpg::confchg, handle_of,
                                "fn(group, members, left, joined): a joined group's membership "
                                "changed; each list holds Address(nodeid, pid, reason).");
  def_callback<TotemConfchgCallback>(
      cls, "on_totem_confchg", &PyCpg::totem_confchg, handle_of,
      "fn(ring_id, members: list[int]): the totem ring (the cluster's nodes) changed.");
  cls      .def(
          "join",
          [](PyCpg& self, const GroupName& group) {
            CpgName name = group_from_python(group, "cpg_join");
            without_gil([&] { self.cpg.join(name); });
          },
          py::arg("group"),
          "Join a group (cpg_join); a handle may join several (each on a connection of its "
          "own, as corosync allows one group per connection). Names are at most 128 bytes "
          "(NameTooLongError beyond); joining twice raises ExistError. After leave(), "
          "joining again works from the on_confchg that reports the leave or after it was "
          "dispatched (BusyError before).")
      .def(
          "leave",
          [](PyCpg& self, const GroupName& group) {
            CpgName name = group_from_python(group, "cpg_leave");
            without_gil([&] { self.cpg.leave(name); });
          },
          py::arg("group"),
          "Leave a joined group (cpg_leave); NotExistError for a group not joined. The leave "
          "completes with an on_confchg listing this process as left.")
      .def(
          "mcast",
          [](PyCpg& self, const py::Args<PyBuffer>& buffers, cpg_guarantee_t guarantee,
             const std::optional<GroupName>& group, const std::optional<double>& retry_timeout) {
            std::optional<CpgName> name = optional_group(group, "cpg_mcast_joined");
            std::optional<RetryPolicy> retry = call_retry(retry_timeout);
            size_t n = buffers.size();
            HeldBuffers held(n);
            for (size_t i = 0; i < n; ++i) {
              if (!held[i].hold(buffers[i].ptr()))
                throw py::type_error("mcast() argument " + std::to_string(i + 1) +
                                     " must be a contiguous bytes-like object, not " +
                                     type_name(buffers[i]));
              held.parts()[i] = held[i].part();
            }
            mcast_joined(self.cpg, or_null(name), guarantee, held.parts(), n,
                         retry ? &*retry : nullptr);
          },
          py::kw_only(), py::arg_v("guarantee", CPG_TYPE_AGREED, "Guarantee.AGREED"),
          py::arg("group") = py::none(), py::arg("retry_timeout") = py::none(),
          "Multicast one message, the concatenation of the given bytes-like objects, to a "
          "joined group (cpg_mcast_joined): `group`, which may be omitted when this handle "
          "joined exactly one. The buffers are not copied in Python. Messages above "
          "max_atomic_msgsize are fragmented by libcpg and arrive whole; one that a "
          "membership change of the group interrupts is sent again whole (InterruptError "
          "once retry_timeout runs out). NotExistError when "
          "the group was not joined; TooBigError for 4 GiB or more. retry_timeout, if "
          "given, replaces the handle's for this call: 0 raises TryAgainError at once "
          "instead of waiting for the send window or for corosync (what an event loop "
          "wants; corosync.aio.mcast waits without blocking).")
      .def("mcast_many", &mcast_many_from_python, py::arg("messages"), py::kw_only(),
           py::arg_v("guarantee", CPG_TYPE_AGREED, "Guarantee.AGREED"),
           py::arg("group") = py::none(), py::arg("retry_timeout") = py::none(),
           "Multicast each item of `messages` (an iterable of bytes-like objects) as a "
           "message of its own, in order, to a joined group (cpg_mcast_joined per message); "
           "returns how many were sent. The GIL is released once per batch of items, not "
           "per message, and the buffers are not copied in Python. When sending stops "
           "(TryAgainError after retry_timeout, TypeError for an item that is not "
           "bytes-like, or an exception from the iterable), the items before the failing "
           "one have been sent and the exception's `sent` attribute says how many. "
           "retry_timeout, if given, replaces the handle's for this call, as for mcast().")
      .def(
          "membership",
          [](PyCpg& self, const GroupName& group) {
            CpgName name = group_from_python(group, "cpg_membership_get");
            auto members = without_gil([&] { return self.cpg.membership_get(name); });
            return py::typing::List<PyAddress>(addresses_to_python(members));
          },
          py::arg("group"),
          "The members of a group, joined by this handle or not (cpg_membership_get).")
      .def_property_readonly(
          "local_nodeid", [](PyCpg& self) { return self.cpg.local_get(); },
          "This node's id (cpg_local_get, asked once when the handle connects: it cannot "
          "change while the daemon runs).")
      .def_property_readonly(
          "local_address",
          [](PyCpg& self) {
            return py::typing::Tuple<int, int>(
                py::make_tuple(self.cpg.local_get(), static_cast<uint32_t>(getpid())));
          },
          "(local_nodeid, pid): this process as the callbacks name it, e.g. "
          "`(a.nodeid, a.pid) == cpg.local_address` finds it among a confchg's members.")
      .def_property_readonly(
          "send_window_messages",
          [](PyCpg& self) { return self.cpg.options().send_window_messages; },
          "How many of this handle's messages may be on their way back to it before mcast "
          "waits (see the constructor).")
      .def_property_readonly(
          "send_window_bytes", [](PyCpg& self) { return self.cpg.options().send_window_bytes; },
          "How many bytes of this handle's messages may be on their way back to it before "
          "mcast waits (see the constructor).")
      .def_property_readonly(
          "max_atomic_msgsize",
          [](PyCpg& self) {
            return without_gil([&] { return self.cpg.max_atomic_msgsize_get(); });
          },
          "The largest message sent without fragmenting (cpg_max_atomic_msgsize_get).")
      .def_property_readonly(
          "flow_control_enabled",
          [](PyCpg& self) {
            return without_gil([&] { return self.cpg.flow_control_state_get(); }) ==
                   CPG_FLOW_CONTROL_ENABLED;
          },
          "True while this handle's send window is full (see the constructor): mcast then "
          "waits for a dispatch to deliver this handle's own messages back to it. Also true "
          "if corosync itself asks senders to pause (cpg_flow_control_state_get; corosync "
          "3's libcpg always answers disabled).")
      .def(
          "groups",
          [](PyCpg& self, const std::optional<GroupName>& group) {
            std::optional<CpgName> name = optional_group(group, "cpg_iteration_initialize");
            auto members = without_gil([&] {
              return self.cpg.iterate(name ? CPG_ITERATION_ONE_GROUP : CPG_ITERATION_ALL,
                                      or_null(name));
            });
            const py::object& cls = package_types().group_member;
            py::typing::List<PyGroupMember> out;
            for (const CpgGroupMember& g : members)
              out.append(cls(group_to_python(g.group), g.nodeid, g.pid));
            return out;
          },
          py::kw_only(), py::arg("group") = py::none(),
          "Every (group, nodeid, pid) in the cluster, or only the members of `group` "
          "(cpg_iteration_initialize with CPG_ITERATION_ALL or CPG_ITERATION_ONE_GROUP, "
          "cpg_iteration_next, cpg_iteration_finalize).")
      .def(
          "group_names",
          [](PyCpg& self) {
            auto groups =
                without_gil([&] { return self.cpg.iterate(CPG_ITERATION_NAME_ONLY); });
            py::typing::List<GroupName> out;
            for (const CpgGroupMember& g : groups) out.append(group_to_python(g.group));
            return out;
          },
          "The names of every group in the cluster (cpg_iteration_* with "
          "CPG_ITERATION_NAME_ONLY).");
  brief_argument_errors(cls);
  FastDispatch<PyCpg, handle_of>::install(cls);
  mcast_path.install(cls, "mcast", &fast_mcast);
  mcast_many_path.install(cls, "mcast_many", &fast_mcast_many);
}

}  // namespace corosync::python
