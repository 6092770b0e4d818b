#include "corosync_cxx/cmap.hpp"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <utility>

namespace corosync {

namespace {

cs_error_t cmap_finalize_u64(uint64_t h) { return cmap_finalize(h); }
cs_error_t cmap_fd_get_u64(uint64_t h, int* fd) { return cmap_fd_get(h, fd); }
cs_error_t cmap_dispatch_u64(uint64_t h, cs_dispatch_flags_t f) { return cmap_dispatch(h, f); }

const ServiceOps kCmapOps{"cmap_finalize", "cmap_fd_get", "cmap_dispatch", cmap_finalize_u64,
                          cmap_fd_get_u64, cmap_dispatch_u64};

// The buffer a get offers first: nearly every value fits, so one round trip reads it. Not
// much larger: the daemon allocates, zeroes and sends back the whole buffer whatever the
// value's size, and the stats map copies its values without looking at the buffer's size.
// 960 bytes, not 1,024: libcmap allocates the answer, this buffer and a 40-byte header, per
// get, and glibc serves up to 1,032 bytes from its per-thread cache, more from the heap's
// bins: 1,024 cost libcmap about 400 instructions more per get than 990 (callgrind).
constexpr size_t kFirstGetBuffer = 960;
// How many times a get reads a value that keeps outgrowing the size it just asked for.
constexpr int kGetAttempts = 8;
// The daemon refuses larger values with CS_ERR_INVALID_PARAM (exec/icmap.c,
// ICMAP_MAX_VALUE_LEN); a STRING is sent without its NUL, so this is its text's limit too.
constexpr size_t kMaxValueSize = 16 * 1024;

// icmap_is_valid_name_char as a table: every get and set checks each byte of its key.
struct KeyChars {
  bool allowed[256] = {};
  KeyChars() {
    for (unsigned char c = 0; c < 128; ++c)
      allowed[c] = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                   c == '.' || c == '_' || c == '-' || c == '/' || c == ':';
  }
};
const KeyChars kKeyChars;

bool valid_key_char(char c) { return kKeyChars.allowed[static_cast<unsigned char>(c)]; }

// A key as the C calls take it: checked, NUL-terminated, on the stack.
class KeyName {
 public:
  KeyName(std::string_view key, const char* function, bool prefix = false) {
    check_key_name(key, function, prefix);
    std::memcpy(value_, key.data(), key.size());
    value_[key.size()] = '\0';
  }
  const char* c_str() const noexcept { return value_; }

 private:
  char value_[CMAP_KEYNAME_MAXLEN + 1];
};

size_t fixed_size(cmap_value_types_t type) {
  switch (type) {
    case CMAP_VALUETYPE_INT8:
    case CMAP_VALUETYPE_UINT8:
      return 1;
    case CMAP_VALUETYPE_INT16:
    case CMAP_VALUETYPE_UINT16:
      return 2;
    case CMAP_VALUETYPE_INT32:
    case CMAP_VALUETYPE_UINT32:
    case CMAP_VALUETYPE_FLOAT:
      return 4;
    case CMAP_VALUETYPE_INT64:
    case CMAP_VALUETYPE_UINT64:
    case CMAP_VALUETYPE_DOUBLE:
      return 8;
    default:
      return 0;
  }
}

// corosync keeps a NUL after a STRING; the value is the text before it.
std::string_view stored_data(cmap_value_types_t type, const char* data, size_t size) {
  if (type == CMAP_VALUETYPE_STRING && size > 0 && data[size - 1] == '\0') --size;
  return {data, size};
}

std::optional<CmapValueView> view_of(const cmap_notify_value& value, bool present) {
  // The side an event does not have comes with type 0.
  if (!present || value.type < CMAP_VALUETYPE_INT8) return std::nullopt;
  return CmapValueView{value.type,
                       stored_data(value.type, static_cast<const char*>(value.data), value.len)};
}

// A key for a message: quoted, backslashes and control bytes escaped as Python writes them
// (a NUL would end the message), UTF-8 kept, cut short at a character boundary.
std::string quoted(std::string_view key) {
  size_t keep = std::min<size_t>(key.size(), 64);
  while (keep < key.size() && keep > 0 && (static_cast<unsigned char>(key[keep]) & 0xc0) == 0x80)
    --keep;
  std::string out = "'";
  for (unsigned char c : key.substr(0, keep)) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\t' || c == '\n' || c == '\r') {
      out += c == '\t' ? "\\t" : c == '\n' ? "\\n" : "\\r";
    } else if (c < 0x20 || c == 0x7f) {
      char escaped[5];
      std::snprintf(escaped, sizeof escaped, "\\x%02x", c);
      out += escaped;
    } else {
      out += static_cast<char>(c);
    }
  }
  if (keep < key.size()) out += "...";
  return out + "'";
}

}  // namespace

// One track's state: libcmap hands it back as the notification's user_data.
struct CmapTrack {
  Connection* connection;
  CmapTrackListener* listener;
};

namespace {

void notify_trampoline(cmap_handle_t, cmap_track_handle_t track, int32_t event,
                       const char* key, cmap_notify_value new_value, cmap_notify_value old_value,
                       void* user_data) {
  auto* t = static_cast<CmapTrack*>(user_data);
  if (!t) return;
  // Copied out: the callback may end its own track (or close the handle), which frees *t.
  Connection* connection = t->connection;
  CmapTrackListener* listener = t->listener;
  CmapNotification n{track,
                     event,
                     {key, strnlen(key, CS_MAX_NAME_LENGTH)},
                     view_of(new_value, event != CMAP_TRACK_DELETE),
                     view_of(old_value, event != CMAP_TRACK_ADD)};
  Handle::run_callback(connection, [&] { listener->on_notify(n); });
}

}  // namespace

void check_key_name(std::string_view key, const char* function, bool prefix) {
  if (key.size() > CMAP_KEYNAME_MAXLEN)
    throw Error(CS_ERR_NAME_TOO_LONG, function,
                "key " + quoted(key) + " is " + std::to_string(key.size()) +
                    " bytes; corosync allows at most " + std::to_string(CMAP_KEYNAME_MAXLEN));
  if (!prefix && key.size() < CMAP_KEYNAME_MINLEN)
    throw Error(CS_ERR_INVALID_PARAM, function,
                "key " + quoted(key) + " is " + std::to_string(key.size()) +
                    " bytes; corosync needs at least " + std::to_string(CMAP_KEYNAME_MINLEN));
  auto bad = std::find_if_not(key.begin(), key.end(), valid_key_char);
  if (bad != key.end())
    throw Error(CS_ERR_INVALID_PARAM, function,
                std::string(prefix ? "prefix " : "key ") + quoted(key) +
                    " has a character corosync does not allow in key names (byte " +
                    std::to_string(static_cast<unsigned char>(*bad)) +
                    "); allowed are a-z A-Z 0-9 . _ - / :");
}

size_t cmap_max_value_size() { return kMaxValueSize; }

Cmap::Cmap(cmap_map_t map, RetryPolicy retry) : ServiceHandle(kCmapOps, retry), map_(map) {
  if (map != CMAP_MAP_ICMAP && map != CMAP_MAP_STATS)
    throw Error(CS_ERR_INVALID_PARAM, "cmap_initialize_map",
                "map must be CMAP_MAP_ICMAP or CMAP_MAP_STATS, not " + std::to_string(map));
  open(std::make_shared<Connection>(), "cmap_initialize_map",
       [map](Connection*, uint64_t* handle) {
         cmap_handle_t h = 0;
         cs_error_t rc = cmap_initialize_map(&h, map);
         // cmap_initialize_map leaves its new handle open when choosing the map fails (as
         // with TRY_AGAIN during sync): finalize it, still under the handle-table lock, so
         // that a retry does not leak one connection per attempt.
         if (rc != CS_OK && h != 0) cmap_finalize(h);
         *handle = h;
         return rc;
       });
}

Cmap::Cmap(Cmap&&) noexcept = default;
Cmap& Cmap::operator=(Cmap&&) noexcept = default;
// Finalize before tracks_ goes: libcmap holds their addresses until then.
Cmap::~Cmap() { close(); }

bool Cmap::dispatch_event() {
  Connection& c = connection();
  cs_error_t rc = cmap_dispatch(c.handle, CS_DISPATCH_ONE_NONBLOCKING);
  // An event queued for a track deleted since makes libcmap answer CS_ERR_BAD_HANDLE (the
  // error of its track lookup is left as the result) after consuming it; the connection is
  // fine, which cmap_fd_get confirms.
  int fd = -1;
  if (rc == CS_ERR_BAD_HANDLE && !c.finalized && cmap_fd_get(c.handle, &fd) == CS_OK) rc = CS_OK;
  return consumed_event(c, rc);
}

void Cmap::finalize_connections() noexcept {
  ServiceHandle::finalize_connections();
  tracks_.clear();
}

void Cmap::fail_on_key(cs_error_t rc, const char* function, std::string_view key) const {
  std::string detail;
  if (rc == CS_ERR_NOT_EXIST) {
    detail = "no key " + quoted(key);
  } else if (rc == CS_ERR_ACCESS) {
    detail = map_ == CMAP_MAP_STATS ? "the stats map is read-only but for stats.clear.*"
                                    : "key " + quoted(key) + " is read-only";
  } else if (rc == CS_ERR_INVALID_PARAM && (std::strcmp(function, "cmap_inc") == 0 ||
                                            std::strcmp(function, "cmap_dec") == 0)) {
    detail = "key " + quoted(key) + " does not hold an integer";
  }
  if (detail.empty() || closed()) fail(rc, function);
  throw Error(rc, function, detail);
}

cs_error_t Cmap::get_into(const char* key, CmapValue& value) {
  char first[kFirstGetBuffer];
  size_t size = 0;
  cmap_value_types_t type{};
  cs_error_t rc = run(connection(), [&](uint64_t h) {
    size = sizeof first;
    return cmap_get(h, key, first, &size, &type);
  });
  if (rc == CS_OK) {
    value.type = type;
    value.data.assign(stored_data(type, first, size));
    return rc;
  }
  // CS_ERR_INVALID_PARAM: the value is larger than the buffer, and the daemon does not say
  // by how much. Ask its size, then read it whole.
  std::string buffer;
  for (int attempt = 0; rc == CS_ERR_INVALID_PARAM && attempt < kGetAttempts; ++attempt) {
    rc = run(connection(), [&](uint64_t h) { return cmap_get(h, key, nullptr, &size, &type); });
    if (rc != CS_OK) return rc;
    buffer.resize(std::max<size_t>(size, 1));
    rc = run(connection(), [&](uint64_t h) {
      size = buffer.size();
      return cmap_get(h, key, buffer.data(), &size, &type);
    });
  }
  if (rc == CS_OK) {
    value.type = type;
    value.data.assign(stored_data(type, buffer.data(), size));
  } else if (rc == CS_ERR_INVALID_PARAM) {
    rc = CS_ERR_TRY_AGAIN;  // it grew faster than it could be read
  }
  return rc;
}

bool Cmap::find(std::string_view key, CmapValue& value) {
  check_open("cmap_get");
  KeyName name(key, "cmap_get");
  cs_error_t rc = get_into(name.c_str(), value);
  if (rc == CS_ERR_NOT_EXIST) return false;
  if (rc != CS_OK) fail_on_key(rc, "cmap_get", key);
  return true;
}

CmapValue Cmap::get(std::string_view key) {
  CmapValue value{};
  if (!find(key, value))
    throw Error(CS_ERR_NOT_EXIST, "cmap_get", "no key " + quoted(key));
  return value;
}

std::optional<cmap_value_types_t> Cmap::type_of(std::string_view key) {
  check_open("cmap_get");
  KeyName name(key, "cmap_get");
  size_t size = 0;
  cmap_value_types_t type{};
  cs_error_t rc = run(connection(), [&](uint64_t h) {
    return cmap_get(h, name.c_str(), nullptr, &size, &type);
  });
  if (rc == CS_ERR_NOT_EXIST) return std::nullopt;
  if (rc != CS_OK) fail_on_key(rc, "cmap_get", key);
  return type;
}

void Cmap::set(std::string_view key, cmap_value_types_t type, const void* data, size_t size) {
  KeyName name(key, "cmap_set");
  const char* bytes = size ? static_cast<const char*>(data) : "";
  if (type == CMAP_VALUETYPE_STRING) {
    // Sent without its NUL, as libcmap's cmap_set_string (and corosync-cmapctl) send it:
    // the daemon adds one when it stores the text, so 16 KiB of text fit.
    if (std::memchr(bytes, '\0', size))
      throw Error(CS_ERR_INVALID_PARAM, "cmap_set",
                  "a STRING value cannot contain NUL (corosync stores C strings); "
                  "use BINARY for " + quoted(key));
  } else if (type != CMAP_VALUETYPE_BINARY && size != fixed_size(type)) {
    throw Error(CS_ERR_INVALID_PARAM, "cmap_set",
                "a value of type " + std::to_string(type) + " cannot be " +
                    std::to_string(size) + " bytes");
  }
  if (size > kMaxValueSize)
    throw Error(CS_ERR_TOO_BIG, "cmap_set",
                "the value for " + quoted(key) + " is " + std::to_string(size) +
                    " bytes; corosync stores at most " + std::to_string(kMaxValueSize));
  call_on_key("cmap_set", key, [&](uint64_t h) {
    return cmap_set(h, name.c_str(), bytes, size, type);
  });
}

void Cmap::delete_key(std::string_view key) {
  KeyName name(key, "cmap_delete");
  call_on_key("cmap_delete", key, [&](uint64_t h) { return cmap_delete(h, name.c_str()); });
}

void Cmap::inc(std::string_view key) {
  KeyName name(key, "cmap_inc");
  call_on_key("cmap_inc", key, [&](uint64_t h) { return cmap_inc(h, name.c_str()); });
}

void Cmap::dec(std::string_view key) {
  KeyName name(key, "cmap_dec");
  call_on_key("cmap_dec", key, [&](uint64_t h) { return cmap_dec(h, name.c_str()); });
}

cmap_iter_handle_t Cmap::iter_init(std::string_view prefix) {
  // Checked here: cmap_iter_init returns NAME_TOO_LONG still holding the handle's reference.
  KeyName name(prefix, "cmap_iter_init", /*prefix=*/true);
  cmap_iter_handle_t iter = 0;
  call("cmap_iter_init", [&](uint64_t h) { return cmap_iter_init(h, name.c_str(), &iter); });
  return iter;
}

bool Cmap::iter_next(cmap_iter_handle_t iter, CmapKeyInfo& info) {
  check_open("cmap_iter_next");
  // cmap_iter_next writes a NUL after as many bytes as the daemon's name field holds.
  char key[CS_MAX_NAME_LENGTH + 1];
  cs_error_t rc = run(connection(), [&](uint64_t h) {
    return cmap_iter_next(h, iter, key, &info.value_len, &info.type);
  });
  if (rc == CS_ERR_NO_SECTIONS) return false;
  if (rc != CS_OK) fail(rc, "cmap_iter_next");
  info.key.assign(key);
  return true;
}

void Cmap::iter_finalize(cmap_iter_handle_t iter) {
  call("cmap_iter_finalize", [&](uint64_t h) { return cmap_iter_finalize(h, iter); });
}

cmap_track_handle_t Cmap::track_add(std::string_view key, int32_t track_type,
                                    CmapTrackListener* listener) {
  constexpr int32_t kEvents = CMAP_TRACK_ADD | CMAP_TRACK_DELETE | CMAP_TRACK_MODIFY;
  if (!listener || (track_type & ~(kEvents | CMAP_TRACK_PREFIX)) || !(track_type & kEvents))
    throw Error(CS_ERR_INVALID_PARAM, "cmap_track_add",
                listener ? "track_type must have ADD, DELETE or MODIFY, and nothing but "
                           "them and PREFIX"
                         : "the listener is null");
  // Checked here: cmap_track_add returns NAME_TOO_LONG holding references it never gives
  // back.
  KeyName name(key, "cmap_track_add", (track_type & CMAP_TRACK_PREFIX) != 0);
  check_open("cmap_track_add");
  // The handle's mutex keeps dispatch out while tracks_ changes, so that no callback runs on
  // an entry being added or removed.
  HandleLock lock(state());
  auto entry = std::make_unique<CmapTrack>(CmapTrack{&connection(), listener});
  cmap_track_handle_t track = 0;
  call("cmap_track_add", [&](uint64_t h) {
    // Adds to libcmap's process-wide table of tracks.
    std::lock_guard<std::mutex> table(handle_table_lock());
    return cmap_track_add(h, name.c_str(), track_type, notify_trampoline, entry.get(), &track);
  });
  tracks_.emplace(track, std::move(entry));
  return track;
}

void Cmap::track_delete(cmap_track_handle_t track) {
  // The handle's mutex first: a close() between the check and the lookup would have
  // emptied the table, and the track would look unknown instead of the handle closed.
  HandleLock lock(state());
  check_open("cmap_track_delete");
  auto it = tracks_.find(track);
  if (it == tracks_.end())
    throw Error(CS_ERR_NOT_EXIST, "cmap_track_delete", "this handle has no such track");
  call("cmap_track_delete", [&](uint64_t h) {
    std::lock_guard<std::mutex> table(handle_table_lock());
    return cmap_track_delete(h, track);
  });
  tracks_.erase(it);
}

CmapIterator::CmapIterator(Cmap& cmap, std::string_view prefix)
    : cmap_(&cmap), iter_(cmap.iter_init(prefix)) {}

CmapIterator::~CmapIterator() { finalize(); }

bool CmapIterator::next(CmapKeyInfo& info) {
  if (done_) return false;
  if (cmap_->iter_next(iter_, info)) return true;
  finalize();
  return false;
}

void CmapIterator::finalize() noexcept {
  if (done_.exchange(true) || cmap_->closed()) return;
  try {
    cmap_->iter_finalize(iter_);
  } catch (const Error&) {
    // The daemon is gone or the handle closed meanwhile: the iterator went with them.
  }
}

}  // namespace corosync
