// The keyspace as commands see it: Redis keys holding string values with an optional expiry,
// stored in the learnkv DB. Commands read and write through the Keyspace interface, so one
// handler serves every place it runs: the I/O thread (ReadView: the DB's latest state, reads
// only) and the writer thread (WriteView: the DB plus the uncommitted updates of the batch
// being built, reads and writes).
//
// Layout in the DB (persistent; never change the meaning of a byte):
//
//   user key k      ->  k                  when k does not start with 0xFF
//                       0xFF 0x00 k        when it does
//   server metadata ->  0xFF 0xFF <name>   (SCAN cursors; never a user key, hidden from SCAN)
//
//   value           ->  flags:u8 [expire_ms:u64 big-endian, if flags & kHasExpiry] payload
//                       flags & 0x0F is the type (0 = string)
//
// Expired entries are invisible: Get returns NotFound for them. A ReadView remembers the
// expired keys it met so that the caller can have them deleted (lazy expiry); a WriteView
// deletes them in its batch. An expired key never read again is removed by the next
// compaction that rewrites it (expiry_filter.h).
//
// Thread safety: the free functions are thread-safe. A ReadView or WriteView is used by one
// thread at a time; many views may share one DB.
#ifndef LEARNKV_SERVER_KEYSPACE_H_
#define LEARNKV_SERVER_KEYSPACE_H_

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "learnkv/db.h"
#include "learnkv/status.h"
#include "learnkv/write_batch.h"

namespace learnkv {
namespace server {

// The prefix of server metadata keys (0xFF 0xFF).
inline constexpr std::string_view kMetaPrefix("\xff\xff", 2);

// What a key holds.
struct Entry {
  std::string value;
  int64_t expire_ms = 0;  // absolute Unix time in milliseconds; 0: no expiry
};

std::string EncodeUserKey(std::string_view key);
// False for a metadata key.
bool DecodeUserKey(std::string_view stored, std::string* key);
std::string EncodeValue(std::string_view payload, int64_t expire_ms);
// Corruption if `stored` is not a value this layout produced.
Status DecodeValue(std::string_view stored, Entry* entry);
// The expiry field of a stored value without copying the payload (0 when none); false if
// malformed.
bool PeekExpiry(std::string_view stored, int64_t* expire_ms);
// The payload and expiry of a stored value, without copying; false if malformed.
bool ViewValue(std::string_view stored, std::string_view* payload, int64_t* expire_ms);

// Current Unix time in milliseconds.
int64_t NowMs();

class Keyspace {
 public:
  explicit Keyspace(int64_t now_ms) : now_ms_(now_ms) {}
  virtual ~Keyspace() = default;

  // The time commands compare expiries against (fixed for the view's life, as Redis fixes it
  // per command).
  int64_t now_ms() const { return now_ms_; }
  void set_now_ms(int64_t now_ms) { now_ms_ = now_ms; }

  // OK with *entry, NotFound if absent or expired, or an error.
  virtual Status Get(std::string_view key, Entry* entry) = 0;
  // statuses[i] and entries[i] answer keys[i] as Get would; one DB::MultiGet call.
  virtual void MultiGet(const std::vector<std::string_view>& keys, std::vector<Entry>* entries,
                        std::vector<Status>* statuses) = 0;
  // REQUIRES: a writable view (a ReadView answers NotSupported).
  virtual Status Put(std::string_view key, const Entry& entry) = 0;
  virtual Status Delete(std::string_view key) = 0;
  // Deletes every user key (FLUSHDB). REQUIRES: a writable view.
  virtual Status DeleteAllUserKeys() = 0;

  // Whether the view is expired-at-now for this expiry.
  bool Expired(int64_t expire_ms) const { return expire_ms != 0 && expire_ms <= now_ms_; }

 private:
  int64_t now_ms_;
};

// Reads the DB's latest committed state.
class ReadView : public Keyspace {
 public:
  ReadView(DB* db, int64_t now_ms) : Keyspace(now_ms), db_(db) {}

  Status Get(std::string_view key, Entry* entry) override;
  void MultiGet(const std::vector<std::string_view>& keys, std::vector<Entry>* entries,
                std::vector<Status>* statuses) override;
  Status Put(std::string_view key, const Entry& entry) override;
  Status Delete(std::string_view key) override;
  Status DeleteAllUserKeys() override;

  // As MultiGet, but leaves the stored values undecoded in *stored (use ViewValue): no copy
  // of the payloads. Expired entries are NotFound (and remembered) as for MultiGet. The
  // strings of *stored are reused (DB::MultiGet clears them), and so is the view's own
  // scratch space: a view kept for batch after batch allocates nothing per key.
  void MultiGetStored(const std::vector<std::string_view>& keys, std::vector<std::string>* stored,
                      std::vector<Status>* statuses);

  // User keys found expired by Get/MultiGet since the last call (moved out).
  std::vector<std::string> TakeExpired() { return std::move(expired_); }

 private:
  Status Decode(std::string_view key, const std::string& stored, Entry* entry);

  DB* db_;
  std::vector<std::string> expired_;
  // MultiGetStored's keys as the DB stores them: escaped copies for the few starting with
  // 0xFF, the others as they are.
  std::vector<std::string> escaped_;
  std::vector<Slice> slices_;
};

// Builds one atomic write batch. Reads see the DB overlaid with the batch's own updates.
// Only the writer thread (the DB's only writer of user keys) uses one, so a read followed by a
// write in the same view is atomic.
//
// Put and Delete allocate nothing once the view has warmed up: each update is appended to a
// log (one byte buffer) besides the batch, and the key -> latest update index that reads
// consult is built from that log only when the batch is first read after new updates. A
// batch of plain SETs never builds it.
class WriteView : public Keyspace {
 public:
  // Commits use `options` (sync or not).
  WriteView(DB* db, int64_t now_ms, const WriteOptions& options)
      : Keyspace(now_ms), db_(db), options_(options) {}

  Status Get(std::string_view key, Entry* entry) override;
  void MultiGet(const std::vector<std::string_view>& keys, std::vector<Entry>* entries,
                std::vector<Status>* statuses) override;
  Status Put(std::string_view key, const Entry& entry) override;
  Status Delete(std::string_view key) override;

  // Commits in parts of about 4 MiB along the way, so that a large keyspace does not need
  // one huge batch.
  Status DeleteAllUserKeys() override;

  // Bytes and updates waiting in the batch.
  size_t PendingBytes() const { return batch_.ApproximateSize(); }
  uint32_t PendingUpdates() const { return batch_.Count(); }

  // Writes the batch (if not empty) and starts a new one. The view may be used again (it
  // keeps its buffers).
  Status Commit();

 private:
  // One update of the batch: where its stored key and value lie in log_.
  struct Update {
    size_t key_offset;
    uint32_t key_size;
    uint32_t value_size;  // the value follows the key in log_
    bool deleted;
    std::string_view key(const std::string& log) const {
      return std::string_view(log).substr(key_offset, key_size);
    }
    std::string_view value(const std::string& log) const {
      return std::string_view(log).substr(key_offset + key_size, value_size);
    }
  };
  // Looks the index up by string_view: no std::string built per read.
  struct KeyHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>()(s); }
  };

  // Appends the stored form of `key` to log_ (0xFF-escaped as the layout requires).
  void AppendStoredKey(std::string_view key);
  // Adds the updates appended to log_ since the last call to index_.
  void IndexUpdates();
  // The batch's latest update of a stored key, or null.
  const Update* FindUpdate(std::string_view stored_key);

  DB* db_;
  const WriteOptions options_;
  WriteBatch batch_;
  std::string log_;              // every update's stored key and value, in batch order
  std::vector<Update> updates_;  // into log_, in batch order
  size_t indexed_ = 0;           // updates_[0, indexed_) are in index_
  // Stored key -> position in updates_ of its latest update.
  std::unordered_map<std::string, size_t, KeyHash, std::equal_to<>> index_;
  std::string scratch_;  // a stored key built for a lookup
};

}  // namespace server
}  // namespace learnkv

#endif  // LEARNKV_SERVER_KEYSPACE_H_
