// Compaction: one unit of leveled compaction — the input files of `level` and the overlapping
// files of `level + 1`, merged into new files at `level + 1`. It also carries what the merge
// needs to decide: the grandparent files (level + 2) that bound each output file's overlap,
// and the deeper levels that tell whether a tombstone may be dropped.
//
// Invariant kept by every writer of tables: one user key never spans two files of a level
// deeper than 0 (outputs are only cut between user keys), so any file of such a level can be
// compacted without its neighbours.
//
// Thread safety: built by VersionSet under the DB mutex; then used by the one background thread
// that runs it (the stateful IsBaseLevelForKey and ShouldStopBefore). ConflictsWith and the
// accessors are read under the DB mutex by pickers while it runs.
#ifndef LEARNKV_ENGINE_COMPACTION_H_
#define LEARNKV_ENGINE_COMPACTION_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "engine/version_edit.h"
#include "engine/version_set.h"
#include "learnkv/slice.h"

namespace learnkv {

class Compaction {
 public:
  Compaction(int level, std::shared_ptr<Version> input_version, uint64_t max_output_file_size);
  Compaction(const Compaction&) = delete;
  Compaction& operator=(const Compaction&) = delete;

  int level() const { return level_; }
  int output_level() const { return level_ + 1; }
  VersionEdit* edit() { return &edit_; }
  const Version* input_version() const { return input_version_.get(); }
  // The same, for what must keep it (and its files) alive while the compaction runs.
  std::shared_ptr<const Version> shared_input_version() const { return input_version_; }

  // which: 0 for level's inputs, 1 for level + 1's.
  const FileList& inputs(int which) const { return inputs_[which]; }
  FileList* mutable_inputs(int which) { return &inputs_[which]; }
  FileList* mutable_grandparents() { return &grandparents_; }
  uint64_t TotalInputBytes() const;
  uint64_t MaxOutputFileSize() const { return max_output_file_size_; }

  // The user-key range of all inputs. REQUIRES: ComputeRange() after the inputs are set.
  void ComputeRange();
  const std::string& smallest_user_key() const { return smallest_user_key_; }
  const std::string& largest_user_key() const { return largest_user_key_; }

  // A single input file that can move down a level without rewriting: nothing at level + 1
  // overlaps it and it would not overlap too much of level + 2.
  bool IsTrivialMove() const;

  // Adds the removal of every input to *edit.
  void AddInputDeletions(VersionEdit* edit) const;

  // True if no level below the output level holds user_key in the input Version, so a
  // tombstone for it may be dropped. REQUIRES: successive calls in increasing key order.
  bool IsBaseLevelForKey(const Slice& user_key);

  // True if the output file should end before internal_key, because it already overlaps too
  // many grandparent bytes (that would make its later compaction expensive).
  // REQUIRES: successive calls in increasing key order.
  bool ShouldStopBefore(const Slice& internal_key);

  // Whether this compaction may not run concurrently with `other`: they share an input file,
  // both compact level 0, or their key ranges overlap where one writes what the other reads
  // or writes.
  bool ConflictsWith(const Compaction& other) const;

  // "L1 [12 14] + L2 [7 8]".
  std::string InputSummary() const;

  bool is_manual = false;

 private:
  const int level_;
  const uint64_t max_output_file_size_;
  std::shared_ptr<Version> input_version_;
  VersionEdit edit_;

  FileList inputs_[2];
  FileList grandparents_;
  std::string smallest_user_key_;
  std::string largest_user_key_;

  // ShouldStopBefore's position in grandparents_.
  size_t grandparent_index_ = 0;
  bool seen_key_ = false;
  uint64_t overlapped_bytes_ = 0;

  // IsBaseLevelForKey's position in each level: keys only increase, so each level is scanned
  // once overall.
  size_t level_ptrs_[kNumLevels] = {};
};

}  // namespace learnkv

#endif  // LEARNKV_ENGINE_COMPACTION_H_
