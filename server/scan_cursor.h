// ScanCursors: SCAN's cursors, kept in the DB so that they survive a restart.
//
// A SCAN walks the keys in the DB's order; a cursor stands for "resume after this stored key".
// Clients parse a cursor as an unsigned 64-bit number (redis-cli does), so keys cannot be put
// in it directly: the cursor is a 62-bit hash of the key (probing on collision) and the key is
// stored under a metadata key:
//
//   0xFF 0xFF "scan:" cursor:u64 big-endian  ->  created_ms:u64 big-endian  stored_key
//
// Resuming from the key returns every key present for the whole scan, whatever was written
// meanwhile. A cursor for the same key is the same number, so repeated scans reuse entries.
// Entries older than max_age are dropped by Sweep().
//
// Thread safety: safe for concurrent use.
#ifndef LEARNKV_SERVER_SCAN_CURSOR_H_
#define LEARNKV_SERVER_SCAN_CURSOR_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "learnkv/db.h"
#include "util/mutexlock.h"

namespace learnkv {
namespace server {

class ScanCursors {
 public:
  ScanCursors(DB* db, bool sync) : db_(db), sync_(sync) {}

  // Stores stored_key and sets *cursor (never 0).
  Status Save(std::string_view stored_key, uint64_t* cursor);
  // NotFound if the cursor is unknown.
  Status Load(uint64_t cursor, std::string* stored_key);
  // Deletes cursors created more than max_age_ms ago.
  Status Sweep(int64_t max_age_ms);

 private:
  DB* const db_;
  const bool sync_;
  Mutex mu_;  // serializes Save's probe-then-put
};

}  // namespace server
}  // namespace learnkv

#endif  // LEARNKV_SERVER_SCAN_CURSOR_H_
