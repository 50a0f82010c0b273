// CompactionFilter: a hook through which the application drops keys while compactions rewrite
// them, as RocksDB's CompactionFilter does (the Redis-protocol server drops expired keys with
// it, so that a key never read again does not stay on disk forever).
//
// During a compaction the DB shows the filter the newest version of each user key that the
// compaction rewrites, if that version is a value (never a deletion) and no snapshot can see
// it (its sequence number is above that of every snapshot live when the compaction started):
// removing it then changes what the latest state shows, not what those snapshots read. (A
// snapshot taken while the compaction runs may find values it removes gone; RocksDB's
// snapshots do not hold against its compaction filter at all.) A removed value becomes a
// deletion tombstone, so that older versions of the key in deeper levels stay hidden; where no
// deeper level holds the key (and no snapshot needs an older version kept here) nothing at all
// is written. Flushes, trivial moves (a table moved down a level without being rewritten) and
// reads never call the filter, so a value the filter would remove stays readable until a
// compaction reaches it: the application must still hide such values itself when it reads
// them.
//
// Thread safety: Filter is called concurrently from the DB's background threads (one call at a
// time per compaction, several compactions at once) and must be thread-safe; it runs without
// any DB lock held and must not call back into the DB.
#ifndef LEARNKV_INCLUDE_COMPACTION_FILTER_H_
#define LEARNKV_INCLUDE_COMPACTION_FILTER_H_

#include "learnkv/slice.h"

namespace learnkv {

class CompactionFilter {
 public:
  enum class Decision {
    kKeep,    // write the value unchanged
    kRemove,  // the key is gone: as if it had been deleted
  };

  virtual ~CompactionFilter() = default;

  // Decides about the newest version of user `key`, whose value is existing_value, in a
  // compaction writing into `level` (its output level, 1 .. num_levels - 1). The slices are
  // valid during the call only.
  virtual Decision Filter(int level, const Slice& key, const Slice& existing_value) const = 0;

  // For the LOG: which filter ran.
  virtual const char* Name() const = 0;
};

}  // namespace learnkv

#endif  // LEARNKV_INCLUDE_COMPACTION_FILTER_H_
