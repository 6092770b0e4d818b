// Python binding of corosync::Cmap as corosync.CMAP (cmap_* of libcmap, cmap.h,
// cmap_overview(3)); values are converted in cmap_values.cpp.
#include "brief_errors.hpp"
#include "cmap_values.hpp"
#include "enum_args.hpp"
#include "gil.hpp"
#include "cxx_handle.hpp"
#include "handle_binding.hpp"
#include "py_types.hpp"
#include "service_binding.hpp"
#include "services.hpp"

#include <corosync_cxx/cmap.hpp>

#include <pybind11/native_enum.h>
#include <pybind11/stl.h>

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>

namespace corosync::python {
// corosync's CMAP_TRACK_* event bits, as the TrackEvent IntFlag.
enum class TrackEvents : int32_t {
  Delete = CMAP_TRACK_DELETE,
  Modify = CMAP_TRACK_MODIFY,
  Add = CMAP_TRACK_ADD,
};

class PyTypedValue : public py::object {
 public:
  PYBIND11_OBJECT_DEFAULT(PyTypedValue, py::object, any_object)
  using py::object::object;
};
// A Track object, as the stubs name it.
class PyTrackObject : public py::object {
 public:
  PYBIND11_OBJECT_DEFAULT(PyTrackObject, py::object, any_object)
  using py::object::object;
};
}  // namespace corosync::python

namespace pybind11::detail {
template <>
struct handle_type_name<corosync::python::PyTypedValue> {
  static constexpr auto name = const_name("corosync.cmap.TypedValue");
};
template <>
struct handle_type_name<corosync::python::PyTrackObject> {
  static constexpr auto name = const_name("Track");
};
}  // namespace pybind11::detail

COROSYNC_INT_ENUM_ARG(cmap_map_t, "map", "CmapMap", CMAP_MAP_ICMAP, CMAP_MAP_STATS)
COROSYNC_INT_ENUM_ARG(cmap_value_types_t, "type", "ValueType", CMAP_VALUETYPE_INT8,
                      CMAP_VALUETYPE_BINARY)
COROSYNC_INT_ENUM_ARG(corosync::python::TrackEvents, "events", "TrackEvent", CMAP_TRACK_DELETE,
                      CMAP_TRACK_DELETE | CMAP_TRACK_MODIFY | CMAP_TRACK_ADD)

namespace corosync::python {

namespace {

using TrackCallback = py::typing::Callable<void(TrackEvents, py::str, std::optional<PyTypedValue>,
                                                std::optional<PyTypedValue>)>;
// What set() takes; its type (and range) is checked against the key's in cmap_values.cpp.
using SetValue = py::typing::Union<py::int_, py::float_, py::str, PyBuffer>;

py::object side(const std::optional<CmapValueView>& value) {
  return value ? typed_value(value->type, value->data) : py::none();
}

// One track: its Python callback, called from the core's notifications.
class PyTrack : public CmapTrackListener {
 public:
  void on_notify(const CmapNotification& n) override {
    // Notifications come only from a dispatch of the handle that made the track, so it
    // exists while this runs.
    callback_with_gil(*cmap, [&] {
      py::object fn = callback;  // keeps it alive if the callback ends its own track
      if (!fn) return;
      call_python(fn, py::cast(static_cast<TrackEvents>(n.event)), key_to_python(n.key),
                  side(n.new_value), side(n.old_value));
    });
  }

  template <class Visit>
  void for_each_callback(Visit&& visit) {
    visit(callback);
  }

  py::object callback;
  std::string key;
  TrackEvents events{};
  bool prefix = false;
  bool active = false;
  cmap_track_handle_t handle = 0;
  const Handle* cmap = nullptr;  // the handle whose dispatch runs on_notify
};

// The Python-facing CMAP: owns the core Cmap and its tracks' Python objects.
class PyCmap {
 public:
  PyCmap(cmap_map_t map, RetryPolicy retry) : cmap(map, retry) {}
  // Runs with the GIL held (tp_dealloc): an unclosed handle is finalized without it.
  ~PyCmap() {
    finalize_collected(cmap, "corosync.CMAP");
    callbacks_dropped();
  }

  // The tracks are the callback slots: the GC sees their callbacks through them.
  template <class Visit>
  void for_each_callback(Visit&& visit) {
    for (auto& entry : tracks) visit(entry.second);
  }
  // At close() (and collection) every track ends.
  void callbacks_dropped() {
    for (auto& entry : tracks)
      if (entry.second) entry.second.cast<PyTrack&>().active = false;
    tracks.clear();
  }

  Cmap cmap;
  std::map<cmap_track_handle_t, py::object> tracks;  // the active tracks' Track objects
};

Handle& handle_of(PyCmap& self) { return self.cmap; }

// keys() and items(): corosync's iteration, finalized at the end, by close(), and when the
// iterator is collected.
template <bool Items>
class PyCmapIterator {
 public:
  using Item = std::conditional_t<Items, py::typing::Tuple<py::str, PyTypedValue>, py::str>;

  PyCmapIterator(py::object owner, PyCmap& cmap, const std::string& prefix)
      : owner_(std::move(owner)), cmap_(&cmap) {
    iterator_ = without_gil([&] { return std::make_unique<CmapIterator>(cmap.cmap, prefix); });
  }
  ~PyCmapIterator() {
    if (!iterator_ || iterator_->done()) return;
    if (interpreter_finalizing())
      iterator_->finalize();
    else
      without_gil([&] { iterator_->finalize(); });
  }

  Item next() {
    CmapKeyInfo info;
    for (;;) {
      if (!without_gil([&] { return iterator_->next(info); })) throw py::stop_iteration();
      py::str key = key_to_python(info.key);
      if constexpr (!Items) {
        return key;
      } else {
        CmapValue value;
        // A key deleted since it was listed is left out.
        if (without_gil([&] { return cmap_->cmap.find(info.key, value); }))
          return Item(py::make_tuple(key, typed_value(value.type, value.data)));
      }
    }
  }
  void close() {
    without_gil([&] { iterator_->finalize(); });
  }

 private:
  py::object owner_;  // keeps the CMAP (and so *cmap_) alive; destroyed after iterator_
  PyCmap* cmap_;
  std::unique_ptr<CmapIterator> iterator_;
};

using KeyIterator = PyCmapIterator<false>;
using ItemIterator = PyCmapIterator<true>;

template <class Iterator>
void bind_iterator(py::module_& m, const char* name, const char* doc, const char* yields) {
  py::class_<Iterator>(m, name, doc)
      .def(
          "__iter__", [](Iterator& self) -> Iterator& { return self; },
          py::return_value_policy::reference_internal)
      .def("__next__", &Iterator::next,
           (std::string("The next ") + yields + " (cmap_iter_next).").c_str())
      .def("close", &Iterator::close,
           "End the iteration early (cmap_iter_finalize); idempotent. Dropping the "
           "iterator does the same.");
}

CmapValue get_value(PyCmap& self, const py::str& key) {
  std::string k = utf8(key, "key");
  return without_gil([&] { return self.cmap.get(k); });
}

PyTypedValue get_typed(PyCmap& self, const py::str& key) {
  CmapValue value = get_value(self, key);
  return PyTypedValue(typed_value(value.type, value.data));
}

// cmap.get(key), the call made once per read, without pybind11's dispatcher
// (fast_calls.hpp); any other call goes on to it.
FastPath get_path;

PyObject* fast_get(PyObject* self, PyObject* const* args, Py_ssize_t nargsf, PyObject* kwnames) {
  if (!kwnames && PyVectorcall_NARGS(nargsf) == 1 && PyUnicode_Check(args[0]))
    if (PyCmap* cmap = get_path.instance<PyCmap>(self))
      return result_or_error(
          [&] { return get_typed(*cmap, py::reinterpret_borrow<py::str>(args[0])); });
  return get_path.fallback(self, args, nargsf, kwnames);
}

void set_value(PyCmap& self, const py::str& key, const SetValue& value,
               std::optional<cmap_value_types_t> type) {
  std::string k = utf8(key, "key");
  CallName what("cmap.set", key);
  if (!type) {
    std::optional<cmap_value_types_t> existing =
        without_gil([&] { return self.cmap.type_of(k); });
    type = existing ? *existing : inferred_type(value, what);
  }
  EncodedValue encoded = encode_value(value, *type, what);
  without_gil([&] {
    self.cmap.set(k, encoded.type, encoded.data.data(), encoded.data.size());
  });
}

// cmap.set(key, value[, type]), the call made once per write, without pybind11's
// dispatcher; any other call (keywords, a type that is no ValueType) goes on to it.
FastPath set_path;

// A set's `type` argument: None, or an int (a ValueType) naming a value type.
bool type_arg(PyObject* o, std::optional<cmap_value_types_t>& type) {
  if (o == Py_None) return true;
  long v = 0;
  if (!int_in_range(o, CMAP_VALUETYPE_INT8, CMAP_VALUETYPE_BINARY, v)) return false;
  type = static_cast<cmap_value_types_t>(v);
  return true;
}

PyObject* fast_set(PyObject* self, PyObject* const* args, Py_ssize_t nargsf, PyObject* kwnames) {
  Py_ssize_t n = PyVectorcall_NARGS(nargsf);
  std::optional<cmap_value_types_t> type;
  if (!kwnames && (n == 2 || (n == 3 && type_arg(args[2], type))) && PyUnicode_Check(args[0]))
    if (PyCmap* cmap = set_path.instance<PyCmap>(self))
      return none_or_error([&] {
        set_value(*cmap, py::reinterpret_borrow<py::str>(args[0]),
                  py::reinterpret_borrow<SetValue>(args[1]), type);
      });
  return set_path.fallback(self, args, nargsf, kwnames);
}

bool contains(PyCmap& self, const py::object& key) {
  if (!PyUnicode_Check(key.ptr())) return false;
  std::string k = utf8(py::reinterpret_borrow<py::str>(key), "key");
  try {
    check_key_name(k, "cmap_get");
  } catch (const Error&) {
    return false;  // a name corosync could never store
  }
  return without_gil([&] { return self.cmap.type_of(k); }).has_value();
}

PyTrackObject track(PyCmap& self, const py::str& key, const TrackCallback& callback,
                    TrackEvents events, bool prefix) {
  auto owned = std::make_unique<PyTrack>();
  PyTrack* t = owned.get();
  t->callback = callback;
  t->key = utf8(key, "key");
  t->events = events;
  t->prefix = prefix;
  t->cmap = &self.cmap;
  // The Track object exists (and keeps its callback) before corosync can report a change.
  PyTrackObject track_object(py::cast(std::move(owned)));
  int32_t track_type = static_cast<int32_t>(events) | (prefix ? CMAP_TRACK_PREFIX : 0);
  t->handle = without_gil([&] { return self.cmap.track_add(t->key, track_type, t); });
  // A close() from another thread meanwhile has ended the track with the handle.
  if (self.cmap.closed()) return track_object;
  t->active = true;
  self.tracks[t->handle] = track_object;
  return track_object;
}

void untrack(PyCmap& self, const PyTrackObject& track_object) {
  if (!py::isinstance<PyTrack>(track_object))
    throw py::type_error(std::string("untrack() argument track must be Track, not ") +
                         Py_TYPE(track_object.ptr())->tp_name);
  PyTrack& t = track_object.cast<PyTrack&>();
  if (self.cmap.closed()) throw ClosedError("cmap_track_delete");
  auto it = self.tracks.find(t.handle);
  if (!t.active || it == self.tracks.end() || !it->second.is(track_object))
    throw py::value_error(t.active ? "untrack(): the track belongs to another CMAP handle"
                                   : "untrack(): the track has ended already");
  without_gil([&] { self.cmap.track_delete(t.handle); });
  t.active = false;
  self.tracks.erase(t.handle);
}

void bind_enums(py::module_& m) {
  py::native_enum<cmap_value_types_t>(m, "ValueType", "enum.IntEnum",
                                      "The type of a CMAP value (cmap_value_types_t).")
      .value("INT8", CMAP_VALUETYPE_INT8)
      .value("UINT8", CMAP_VALUETYPE_UINT8)
      .value("INT16", CMAP_VALUETYPE_INT16)
      .value("UINT16", CMAP_VALUETYPE_UINT16)
      .value("INT32", CMAP_VALUETYPE_INT32)
      .value("UINT32", CMAP_VALUETYPE_UINT32)
      .value("INT64", CMAP_VALUETYPE_INT64)
      .value("UINT64", CMAP_VALUETYPE_UINT64)
      .value("FLOAT", CMAP_VALUETYPE_FLOAT)
      .value("DOUBLE", CMAP_VALUETYPE_DOUBLE)
      .value("STRING", CMAP_VALUETYPE_STRING)
      .value("BINARY", CMAP_VALUETYPE_BINARY)
      .finalize();
  py::native_enum<TrackEvents>(m, "TrackEvent", "enum.IntFlag",
                               "What a CMAP track reports (CMAP_TRACK_ADD, _DELETE, _MODIFY).")
      .value("DELETE", TrackEvents::Delete)
      .value("MODIFY", TrackEvents::Modify)
      .value("ADD", TrackEvents::Add)
      .finalize();
  py::native_enum<cmap_map_t>(m, "CmapMap", "enum.IntEnum",
                              "Which map a CMAP handle reads (cmap_map_t): ICMAP, the "
                              "configuration and runtime keys; STATS, the statistics.")
      .value("ICMAP", CMAP_MAP_ICMAP)
      .value("STATS", CMAP_MAP_STATS)
      .finalize();
}

}  // namespace

void bind_cmap(py::module_& m) {
  bind_enums(m);
  m.attr("CMAP_KEYNAME_MINLEN") = CMAP_KEYNAME_MINLEN;
  m.attr("CMAP_KEYNAME_MAXLEN") = CMAP_KEYNAME_MAXLEN;
  m.attr("CMAP_MAX_VALUE_SIZE") = cmap_max_value_size();

  py::class_<PyTrack>(m, "Track", gc_support<PyTrack>(),
                      "A CMAP track (cmap.track()): its callback runs inside dispatch() for "
                      "every change it follows, until cmap.untrack(track) or cmap.close().")
      .def_property_readonly(
          "key", [](PyTrack& t) { return key_to_python(t.key); },
          "The key followed, or the prefix of the keys followed.")
      .def_property_readonly(
          "events", [](PyTrack& t) { return t.events; }, "The changes reported.")
      .def_property_readonly(
          "prefix", [](PyTrack& t) { return t.prefix; },
          "Whether every key that starts with `key` is followed.")
      .def_property_readonly(
          "active", [](PyTrack& t) { return t.active; },
          "True until untrack() or the handle's close().")
      .def_property_readonly(
          "callback",
          [](PyTrack& t) {
            return py::typing::Optional<TrackCallback>(t.callback ? t.callback : py::none());
          },
          "fn(event, key, new, old): called for each change.")
      .def("__repr__", [](PyTrack& t) {
        return "<corosync.cmap.Track " + py::repr(key_to_python(t.key)).cast<std::string>() +
               (t.prefix ? " prefix" : "") + (t.active ? "" : " ended") + ">";
      });

  bind_iterator<KeyIterator>(m, "KeyIterator",
                             "The keys of a CMAP, in corosync's order (cmap.keys()).", "key");
  bind_iterator<ItemIterator>(m, "ItemIterator",
                              "(key, TypedValue) pairs of a CMAP (cmap.items()).",
                              "(key, TypedValue)");

  py::class_<PyCmap> cls(m, "CMAP", gc_support<PyCmap>(),
                         "A connection to corosync's configuration and runtime database "
                         "(cmap_initialize_map).\n\n"
                         "Keys are str; values are typed (ValueType). The mapping protocol "
                         "reads and writes values; get() gives their types too. Track "
                         "callbacks run inside dispatch() in the calling thread.");
  cls.def(py::init([](cmap_map_t map, double retry_timeout) {
            RetryPolicy retry = retry_policy(retry_timeout);
            return without_gil([&] { return std::make_unique<PyCmap>(map, retry); });
          }),
          py::arg_v("map", CMAP_MAP_ICMAP, "CmapMap.ICMAP"), py::kw_only(),
          py::arg("retry_timeout") = 3.0,
          "Connect to the local corosync's CMAP service (cmap_initialize_map): the "
          "configuration and runtime keys (CmapMap.ICMAP) or the statistics "
          "(CmapMap.STATS, read-only but for stats.clear.*). Calls answered with "
          "CS_ERR_TRY_AGAIN are retried for up to retry_timeout seconds (0 disables "
          "retrying), then raise TryAgainError.");
  bind_handle_methods(cls, "cmap", handle_of);
  def_cxx_handle<Cmap>(cls, COROSYNC_CXX_CAPSULE(Cmap),
                        [](PyCmap& self) -> Cmap& { return self.cmap; });
  cls.def_property_readonly(
         "map", [](PyCmap& self) { return self.cmap.map(); }, "The map this handle reads.")
      .def("__repr__",
           [](PyCmap& self) {
             std::string map = self.cmap.map() == CMAP_MAP_STATS ? "stats" : "icmap";
             return "<corosync.CMAP " + map + (self.cmap.closed() ? " closed>" : ">");
           })
      .def("get", &get_typed, py::arg("key"),
          "The value of `key` with its type, as TypedValue(type, value) (cmap_get). "
          "NotExistError (a KeyError) when it is missing. STRING values are str when they "
          "are UTF-8, else bytes; BINARY values are bytes. Values of every size corosync "
          "stores (up to CMAP_MAX_VALUE_SIZE, 16 KiB) come back whole; those up to 960 "
          "bytes take one round trip to the daemon, larger ones three.")
      .def(
          "__getitem__",
          [](PyCmap& self, const py::str& key) {
            CmapValue value = get_value(self, key);
            return py::typing::Union<int, float, py::str, py::bytes>(
                value_to_python(value.type, value.data));
          },
          py::arg("key"), "cmap[key]: get(key).value (cmap_get).")
      .def("set", &set_value, py::arg("key"), py::arg("value"), py::arg("type") = py::none(),
           "Set `key` to `value` (cmap_set). With type=None an existing key keeps its type "
           "and a new key gets one from the value: int → INT64 (UINT64 above INT64's "
           "range), float → DOUBLE, str → STRING, bytes-like → BINARY; anything else (bool "
           "too) raises TypeError. Integers out of their type's range raise OverflowError, "
           "as do finite floats beyond a C float's for FLOAT; a STRING cannot hold NUL "
           "(ValueError). Values beyond CMAP_MAX_VALUE_SIZE bytes (16 KiB of BINARY or of "
           "STRING text), which corosync refuses, raise TooBigError; read-only keys raise "
           "AccessError.")
      .def(
          "__setitem__",
          [](PyCmap& self, const py::str& key, const SetValue& value) {
            set_value(self, key, value, std::nullopt);
          },
          py::arg("key"), py::arg("value"), "cmap[key] = value: set(key, value) (cmap_set).")
      .def(
          "delete",
          [](PyCmap& self, const py::str& key) {
            std::string k = utf8(key, "key");
            without_gil([&] { self.cmap.delete_key(k); });
          },
          py::arg("key"),
          "Delete `key` (cmap_delete); NotExistError when it is missing, AccessError when "
          "it is read-only.")
      .def(
          "__delitem__",
          [](PyCmap& self, const py::str& key) {
            std::string k = utf8(key, "key");
            without_gil([&] { self.cmap.delete_key(k); });
          },
          py::arg("key"), "del cmap[key] (cmap_delete).")
      .def("__contains__", &contains, py::arg("key"),
           "key in cmap: whether `key` exists (cmap_get without reading the value). False "
           "for anything that is not a key name corosync could store.")
      .def(
          "inc",
          [](PyCmap& self, const py::str& key) {
            std::string k = utf8(key, "key");
            without_gil([&] { self.cmap.inc(k); });
          },
          py::arg("key"),
          "Add 1 to an integer key, wrapping around (cmap_inc); InvalidParamError for other "
          "types.")
      .def(
          "dec",
          [](PyCmap& self, const py::str& key) {
            std::string k = utf8(key, "key");
            without_gil([&] { self.cmap.dec(k); });
          },
          py::arg("key"),
          "Subtract 1 from an integer key, wrapping around (cmap_dec); InvalidParamError "
          "for other types.")
      .def(
          "keys",
          [](py::object self, const py::str& prefix) {
            return std::make_unique<KeyIterator>(self, self.cast<PyCmap&>(),
                                          utf8(prefix, "prefix"));
          },
          py::arg("prefix") = "",
          "An iterator over the keys that start with `prefix` (cmap_iter_init, "
          "cmap_iter_next, cmap_iter_finalize). Dropping it or calling its close() "
          "finalizes corosync's iterator; after the handle's close() it raises ClosedError.")
      .def(
          "items",
          [](py::object self, const py::str& prefix) {
            return std::make_unique<ItemIterator>(self, self.cast<PyCmap&>(),
                                           utf8(prefix, "prefix"));
          },
          py::arg("prefix") = "",
          "An iterator of (key, TypedValue) over the keys that start with `prefix` "
          "(cmap_iter_* and one cmap_get per key); a key deleted between the two is left "
          "out.")
      .def(
          "__iter__",
          [](py::object self) {
            return std::make_unique<KeyIterator>(self, self.cast<PyCmap&>(), "");
          },
          "iter(cmap): keys() (cmap_iter_*).")
      .def(
          "__len__",
          [](PyCmap& self) {
            return without_gil([&] {
              CmapIterator it(self.cmap, "");
              size_t n = 0;
              for (CmapKeyInfo info; it.next(info);) ++n;
              return n;
            });
          },
          "len(cmap): the number of keys, counted by walking the map (cmap_iter_*).")
      .def(
          "track",
          [](py::object self, const py::str& key, const TrackCallback& callback,
             TrackEvents events, bool prefix) {
            return track(self.cast<PyCmap&>(), key, callback, events, prefix);
          },
          py::arg("key"), py::arg("callback"),
          py::arg_v("events",
                    static_cast<TrackEvents>(CMAP_TRACK_ADD | CMAP_TRACK_DELETE |
                                             CMAP_TRACK_MODIFY),
                    "TrackEvent.ADD | TrackEvent.DELETE | TrackEvent.MODIFY"),
          py::arg("prefix") = false,
          "Follow changes of `key`, or of every key it prefixes with prefix=True "
          "(cmap_track_add): callback(event, key, new, old) runs inside dispatch() for each, "
          "with new None for a DELETE and old None for an ADD. Returns the Track, which "
          "untrack() ends. An exception from the callback comes out of dispatch(); later "
          "events stay queued.")
      .def("untrack", &untrack, py::arg("track"),
           "End a track of this handle (cmap_track_delete); its callback is not called "
           "again. ValueError for a track that ended or belongs to another handle.");
  brief_argument_errors(cls);
  FastDispatch<PyCmap, handle_of>::install(cls);
  get_path.install(cls, "get", &fast_get);
  set_path.install(cls, "set", &fast_set);
}

}  // namespace corosync::python
