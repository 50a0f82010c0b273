// VersionEdit: one change to the set of live tables (files added and removed per level) and to
// the DB's counters (log number, next file number, last sequence). The MANIFEST is a log of
// encoded edits; replaying them in order rebuilds the current version at recovery.
// FileMetaData describes one table, including what its index is, so that the
// learnkv.sstables property can report the learned models without opening the tables.
//
// Thread safety: a value type; callers synchronize changes (the DB mutex).
#ifndef LEARNKV_ENGINE_VERSION_EDIT_H_
#define LEARNKV_ENGINE_VERSION_EDIT_H_

#include <cassert>
#include <cstdint>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "learnkv/slice.h"
#include "learnkv/status.h"
#include "sstable/internal_key.h"

namespace learnkv {

class TableReader;

// Levels 0 .. kNumLevels-1 of the LSM tree.
constexpr int kNumLevels = 7;

struct FileMetaData {
  uint64_t number = 0;
  uint64_t file_size = 0;  // bytes
  std::string smallest;    // internal keys, smallest <= largest
  std::string largest;
  SequenceNumber smallest_seqno = 0;
  SequenceNumber largest_seqno = 0;
  uint64_t num_entries = 0;
  uint64_t num_deletions = 0;

  // The table's index, as its builder reported it. index_kind is the table format's
  // persistent index-type code (sstable/); 0 means unknown. The error fields are positions
  // (entries) between the model's prediction and the truth; 0 for a non-learned index.
  uint8_t index_kind = 0;
  uint64_t index_bytes = 0;
  uint64_t model_max_error = 0;
  double model_mean_error = 0;

  // How the table was built, for the learnkv.sstables property and the LOG: leaves of the
  // model (0 without one), why the classic index was chosen (empty when learned), and the
  // time the builder and the model training took.
  uint64_t model_leaves = 0;
  std::string fallback_reason;
  uint64_t build_micros = 0;
  uint64_t training_micros = 0;

  // The table's membership filter, as its builder reported it: filter_kind is the persistent
  // FilterKind code (learned/filter_policy.h), 0 for none (or unknown: a table written before
  // these fields existed); the rate it was sized for, its bytes and how many keys it holds.
  uint8_t filter_kind = 0;
  uint64_t filter_bytes = 0;
  uint64_t filter_num_keys = 0;
  double filter_target_fpr = 0;

  // The table's open reader, pinned in the TableCache (TableCache::Pin), so that lookups skip
  // the cache's lock and reference count; null when not pinned. Never persisted: the
  // VersionSet sets it on a file's metadata before any Version that lists the file is
  // published, and the reader stays open until the file is deleted.
  std::shared_ptr<const TableReader> table;
};

class VersionEdit {
 public:
  VersionEdit() = default;

  void Clear() { *this = VersionEdit(); }

  void SetComparatorName(const Slice& name) { comparator_ = name.ToString(); }
  void SetLogNumber(uint64_t number) { log_number_ = number; }
  void SetNextFileNumber(uint64_t number) { next_file_number_ = number; }
  void SetLastSequence(SequenceNumber seq) { last_sequence_ = seq; }
  // Where the next compaction of level starts (an internal key).
  // REQUIRES: 0 <= level < kNumLevels, for this and the other per-level calls.
  void SetCompactPointer(int level, const Slice& key) {
    assert(level >= 0 && level < kNumLevels);
    compact_pointers_.emplace_back(level, key.ToString());
  }
  void AddFile(int level, const FileMetaData& f) {
    assert(level >= 0 && level < kNumLevels);
    new_files_.emplace_back(level, f);
  }
  void RemoveFile(int level, uint64_t number) {
    assert(level >= 0 && level < kNumLevels);
    deleted_files_.emplace(level, number);
  }

  const std::optional<std::string>& comparator_name() const { return comparator_; }
  const std::optional<uint64_t>& log_number() const { return log_number_; }
  const std::optional<uint64_t>& next_file_number() const { return next_file_number_; }
  const std::optional<SequenceNumber>& last_sequence() const { return last_sequence_; }
  const std::vector<std::pair<int, std::string>>& compact_pointers() const {
    return compact_pointers_;
  }
  const std::set<std::pair<int, uint64_t>>& deleted_files() const { return deleted_files_; }
  const std::vector<std::pair<int, FileMetaData>>& new_files() const { return new_files_; }

  // Appends the encoding (see version_edit.cc) to *dst.
  void EncodeTo(std::string* dst) const;
  // Replaces *this with the edit encoded in src. Corruption, leaving *this unspecified, if src
  // is malformed, truncated, or has bytes after the edit.
  Status DecodeFrom(const Slice& src);

  // Human-readable, for tools and the info LOG.
  std::string DebugString() const;

 private:
  std::optional<std::string> comparator_;
  std::optional<uint64_t> log_number_;
  std::optional<uint64_t> next_file_number_;
  std::optional<SequenceNumber> last_sequence_;
  std::vector<std::pair<int, std::string>> compact_pointers_;
  std::set<std::pair<int, uint64_t>> deleted_files_;
  std::vector<std::pair<int, FileMetaData>> new_files_;
};

}  // namespace learnkv

#endif  // LEARNKV_ENGINE_VERSION_EDIT_H_
