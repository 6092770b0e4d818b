// corosync::Cmap: the configuration and runtime database (cmap_initialize_map and cmap_*).
#pragma once

#include "corosync_cxx/service_handle.hpp"

#include <corosync/cmap.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace corosync {

// A value as corosync stores it. STRING data is the text without the NUL that corosync keeps
// after it; every other type's data is its bytes in host order.
struct CmapValue {
  cmap_value_types_t type;
  std::string data;
};

// A value seen during a track callback: `data` is valid only while the callback runs.
struct CmapValueView {
  cmap_value_types_t type;
  std::string_view data;
};

// One change reported to a track.
struct CmapNotification {
  cmap_track_handle_t track;
  int32_t event;  // CMAP_TRACK_ADD, CMAP_TRACK_DELETE or CMAP_TRACK_MODIFY
  std::string_view key;
  std::optional<CmapValueView> new_value;  // none for a DELETE
  std::optional<CmapValueView> old_value;  // none for an ADD
};

// Receives one track's changes, inside Cmap::dispatch in the dispatching thread. An exception
// thrown here comes out of dispatch(); later events stay queued.
class CmapTrackListener {
 public:
  virtual ~CmapTrackListener() = default;
  virtual void on_notify(const CmapNotification& notification) = 0;
};

// What cmap_iter_next reports of a key: its name, its value's size and type.
struct CmapKeyInfo {
  std::string key;
  size_t value_len = 0;
  cmap_value_types_t type{};
};

// The checks corosync applies to a key name (icmap_check_key_name): 3 to 255 bytes of
// a-z A-Z 0-9 . _ - / :. Throws Error(CS_ERR_NAME_TOO_LONG) for a longer name and
// Error(CS_ERR_INVALID_PARAM) otherwise, naming `function` and the key. A prefix (iteration,
// prefix tracks) may be shorter, even empty.
void check_key_name(std::string_view key, const char* function, bool prefix = false);

// The largest value corosync stores, in bytes (16 KiB, ICMAP_MAX_VALUE_LEN): of BINARY, or
// of a STRING's text (corosync keeps a NUL after it).
size_t cmap_max_value_size();

struct CmapTrack;

class Cmap : public ServiceHandle {
 public:
  explicit Cmap(cmap_map_t map = CMAP_MAP_ICMAP, RetryPolicy retry = RetryPolicy());
  Cmap(Cmap&&) noexcept;
  Cmap& operator=(Cmap&&) noexcept;
  ~Cmap() override;

  cmap_map_t map() const noexcept { return map_; }

  // cmap_get. Values of up to 960 bytes take one round trip; larger ones (up to 16 KiB) three:
  // the daemon answers a short buffer with CS_ERR_INVALID_PARAM and no size. Throws
  // Error(CS_ERR_NOT_EXIST) for a missing key.
  CmapValue get(std::string_view key);
  // Like get(), but false for a missing key.
  bool find(std::string_view key, CmapValue& value);
  // The type of `key`'s value (cmap_get without a buffer), or none when it is missing.
  std::optional<cmap_value_types_t> type_of(std::string_view key);
  // cmap_set. STRING data must hold no NUL (Error(CS_ERR_INVALID_PARAM) otherwise); every
  // other fixed-size type must have its size. Throws Error(CS_ERR_TOO_BIG) beyond
  // cmap_max_value_size() and Error(CS_ERR_ACCESS) for a read-only key.
  void set(std::string_view key, cmap_value_types_t type, const void* data, size_t size);
  // cmap_delete, cmap_inc, cmap_dec.
  void delete_key(std::string_view key);
  void inc(std::string_view key);
  void dec(std::string_view key);

  // cmap_iter_init / cmap_iter_next / cmap_iter_finalize (CmapIterator wraps them).
  cmap_iter_handle_t iter_init(std::string_view prefix);
  // False at the end of the iteration.
  bool iter_next(cmap_iter_handle_t iter, CmapKeyInfo& info);
  void iter_finalize(cmap_iter_handle_t iter);

  // cmap_track_add: `listener` (not null) gets `key`'s changes, or those of every key it
  // prefixes when track_type has CMAP_TRACK_PREFIX, until track_delete() or close(); it
  // must outlive that. track_type is CMAP_TRACK_ADD | DELETE | MODIFY [| PREFIX].
  cmap_track_handle_t track_add(std::string_view key, int32_t track_type,
                                CmapTrackListener* listener);
  // cmap_track_delete. Throws Error(CS_ERR_NOT_EXIST) for a track this Cmap does not have.
  // Waits for a callback of this handle that runs in another thread; from a callback
  // (even the track's own) it may end any track.
  void track_delete(cmap_track_handle_t track);

 protected:
  bool dispatch_event() override;
  void finalize_connections() noexcept override;

 private:
  cs_error_t get_into(const char* key, CmapValue& value);
  // Throws for `rc`, a failed call on `key`, saying what corosync's code means for a key.
  [[noreturn]] void fail_on_key(cs_error_t rc, const char* function, std::string_view key) const;
  // Like call(), failing through fail_on_key().
  template <class Call>
  void call_on_key(const char* function, std::string_view key, Call&& c) {
    check_open(function);
    cs_error_t rc = run(connection(), std::forward<Call>(c));
    if (rc != CS_OK) fail_on_key(rc, function, key);
  }

  cmap_map_t map_;
  // Every track's state, the user_data of its C notifications; guarded by the handle's
  // mutex. The entries are on the heap: their addresses are what libcmap hands back.
  std::map<cmap_track_handle_t, std::unique_ptr<CmapTrack>> tracks_;
};

// A cmap iteration as a C++ object: finalizes corosync's iterator when destroyed or when
// the iteration ends. Must not outlive its Cmap (nor be used after the Cmap is moved from).
class CmapIterator {
 public:
  CmapIterator(Cmap& cmap, std::string_view prefix);
  ~CmapIterator();
  CmapIterator(const CmapIterator&) = delete;
  CmapIterator& operator=(const CmapIterator&) = delete;

  // The next key, or false at the end. Throws ClosedError once the Cmap is closed.
  bool next(CmapKeyInfo& info);
  // Ends the iteration early (cmap_iter_finalize); idempotent, and a no-op once the Cmap is
  // closed (corosync freed its iterators with the connection).
  void finalize() noexcept;
  bool done() const noexcept { return done_; }

 private:
  Cmap* cmap_;
  cmap_iter_handle_t iter_;
  std::atomic<bool> done_{false};
};

}  // namespace corosync
