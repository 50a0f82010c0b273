// ExpiryFilter: the compaction filter (learnkv/compaction_filter.h) the server opens its DB
// with. It removes a user key whose stored value (keyspace.h's layout) carries an expiry that
// has passed, so that an expired key nobody reads again leaves the disk at the next compaction
// that rewrites it. Reads hide expired keys and have them deleted lazily; this catches the
// keys reads never reach (Redis's active expiry does that job in Redis).
//
// An expiry has passed as the read path judges it: expire_ms <= NowMs(), the wall-clock Unix
// time in milliseconds when the compaction looks at the key. Everything else is kept: values
// without an expiry, server metadata keys (0xFF 0xFF ..., whose values are not in the value
// layout), and every value that does not decode, since a parse error must never drop data.
// (If the clock is set back, a key removed meanwhile stays removed, as in Redis.)
//
// Thread safety: Filter is const and may run concurrently on the DB's compaction threads; the
// removal counter is a relaxed atomic.
#ifndef LEARNKV_SERVER_EXPIRY_FILTER_H_
#define LEARNKV_SERVER_EXPIRY_FILTER_H_

#include <atomic>
#include <cstdint>

#include "learnkv/compaction_filter.h"

namespace learnkv {
namespace server {

class ExpiryFilter : public CompactionFilter {
 public:
  // Adds one to *removed (if not null) per key removed, for INFO. REQUIRES: *removed outlives
  // every DB using the filter.
  explicit ExpiryFilter(std::atomic<uint64_t>* removed = nullptr) : removed_(removed) {}

  Decision Filter(int level, const Slice& key, const Slice& existing_value) const override;
  const char* Name() const override { return "learnkv.server.ExpiryFilter"; }

 private:
  std::atomic<uint64_t>* const removed_;
};

}  // namespace server
}  // namespace learnkv

#endif  // LEARNKV_SERVER_EXPIRY_FILTER_H_
