#include "engine/compaction.h"

#include <algorithm>
#include <utility>

#include "sstable/internal_key.h"

namespace learnkv {

namespace {

// Grandparent bytes an output file may overlap before it is cut, in target file sizes (as
// LevelDB): bounds the cost of compacting that file one level further down.
constexpr uint64_t kMaxGrandParentOverlapFactor = 10;

bool RangesOverlap(const std::string& a_lo, const std::string& a_hi, const std::string& b_lo,
                   const std::string& b_hi) {
  return !(Slice(a_hi).compare(Slice(b_lo)) < 0 || Slice(b_hi).compare(Slice(a_lo)) < 0);
}

}  // namespace

Compaction::Compaction(int level, std::shared_ptr<Version> input_version,
                       uint64_t max_output_file_size)
    : level_(level),
      max_output_file_size_(max_output_file_size),
      input_version_(std::move(input_version)) {}

uint64_t Compaction::TotalInputBytes() const {
  uint64_t total = 0;
  for (const FileList& files : inputs_) {
    for (const auto& f : files) total += f->file_size;
  }
  return total;
}

void Compaction::ComputeRange() {
  bool first = true;
  for (const FileList& files : inputs_) {
    for (const auto& f : files) {
      const Slice lo = ExtractUserKey(f->smallest);
      const Slice hi = ExtractUserKey(f->largest);
      if (first || lo.compare(Slice(smallest_user_key_)) < 0) smallest_user_key_ = lo.ToString();
      if (first || hi.compare(Slice(largest_user_key_)) > 0) largest_user_key_ = hi.ToString();
      first = false;
    }
  }
}

bool Compaction::IsTrivialMove() const {
  uint64_t grandparent_bytes = 0;
  for (const auto& f : grandparents_) grandparent_bytes += f->file_size;
  return inputs_[0].size() == 1 && inputs_[1].empty() &&
         grandparent_bytes <= kMaxGrandParentOverlapFactor * max_output_file_size_;
}

void Compaction::AddInputDeletions(VersionEdit* edit) const {
  for (int which = 0; which < 2; ++which) {
    for (const auto& f : inputs_[which]) edit->RemoveFile(level_ + which, f->number);
  }
}

bool Compaction::IsBaseLevelForKey(const Slice& user_key) {
  for (int lvl = level_ + 2; lvl < kNumLevels; ++lvl) {
    const FileList& files = input_version_->files(lvl);
    while (level_ptrs_[lvl] < files.size()) {
      const FileMetaData& f = *files[level_ptrs_[lvl]];
      if (user_key.compare(ExtractUserKey(f.largest)) <= 0) {
        // The key is at or before this file's end: it is in the file iff it is not before its
        // start.
        if (user_key.compare(ExtractUserKey(f.smallest)) >= 0) return false;
        break;
      }
      ++level_ptrs_[lvl];
    }
  }
  return true;
}

bool Compaction::ShouldStopBefore(const Slice& internal_key) {
  while (grandparent_index_ < grandparents_.size() &&
         CompareInternalKeys(internal_key, grandparents_[grandparent_index_]->largest) > 0) {
    if (seen_key_) overlapped_bytes_ += grandparents_[grandparent_index_]->file_size;
    ++grandparent_index_;
  }
  seen_key_ = true;
  if (overlapped_bytes_ > kMaxGrandParentOverlapFactor * max_output_file_size_) {
    overlapped_bytes_ = 0;
    return true;
  }
  return false;
}

bool Compaction::ConflictsWith(const Compaction& other) const {
  if (level_ == 0 && other.level_ == 0) return true;
  for (const FileList& mine : inputs_) {
    for (const auto& f : mine) {
      for (const FileList& theirs : other.inputs_) {
        for (const auto& g : theirs) {
          if (f->number == g->number) return true;
        }
      }
    }
  }
  const bool overlap = RangesOverlap(smallest_user_key_, largest_user_key_,
                                     other.smallest_user_key_, other.largest_user_key_);
  if (!overlap) return false;
  // Two writers of one level, or one writing the level the other reads, over common keys.
  return output_level() == other.output_level() || level_ == other.output_level() ||
         other.level_ == output_level();
}

std::string Compaction::InputSummary() const {
  std::string r;
  for (int which = 0; which < 2; ++which) {
    if (which == 1 && inputs_[1].empty()) break;
    if (which == 1) r += " + ";
    r += "L" + std::to_string(level_ + which) + " [";
    for (size_t i = 0; i < inputs_[which].size(); ++i) {
      if (i > 0) r += " ";
      r += std::to_string(inputs_[which][i]->number);
    }
    r += "]";
  }
  return r;
}

}  // namespace learnkv

// ---- Picking compactions (VersionSet members kept with the Compaction they build) ----

namespace learnkv {

namespace {

bool ConflictsWithAny(const Compaction& c, const std::vector<const Compaction*>& running) {
  for (const Compaction* r : running) {
    if (c.ConflictsWith(*r)) return true;
  }
  return false;
}

}  // namespace

std::unique_ptr<Compaction> VersionSet::PickCompaction(
    const std::vector<const Compaction*>& running) {
  mu_->AssertHeld();
  std::vector<std::pair<double, int>> due;
  for (int level = 0; level + 1 < options_->num_levels; ++level) {
    const double score = current_->CompactionScore(level);
    if (score >= 1) due.emplace_back(score, level);
  }
  // Most urgent first; a level whose every candidate conflicts with running work yields to the
  // next.
  std::sort(due.begin(), due.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
  for (const auto& [score, level] : due) {
    std::unique_ptr<Compaction> c = PickLevel(level, running);
    if (c != nullptr) return c;
  }
  return nullptr;
}

std::unique_ptr<Compaction> VersionSet::PickLevel(int level,
                                                  const std::vector<const Compaction*>& running) {
  const FileList& files = current_->files(level);
  if (files.empty()) return nullptr;
  if (level == 0) {
    // Every level-0 file at once: they overlap, and leaving an older one behind a newer one
    // that moved down would let the older version shadow the newer.
    auto c = std::make_unique<Compaction>(0, current_, options_->target_file_size_base);
    *c->mutable_inputs(0) = files;
    SetupOtherInputs(c.get());
    if (ConflictsWithAny(*c, running)) return nullptr;
    return c;
  }
  // Round robin: start after the key where the last compaction of this level ended, so that
  // every part of the key space gets its turn.
  size_t start = 0;
  if (!compact_pointer_[level].empty()) {
    while (start < files.size() &&
           CompareInternalKeys(files[start]->largest, compact_pointer_[level]) <= 0) {
      ++start;
    }
    if (start == files.size()) start = 0;
  }
  for (size_t k = 0; k < files.size(); ++k) {
    auto c = std::make_unique<Compaction>(level, current_, options_->target_file_size_base);
    c->mutable_inputs(0)->push_back(files[(start + k) % files.size()]);
    SetupOtherInputs(c.get());
    if (ConflictsWithAny(*c, running)) continue;
    const std::string& largest = c->inputs(0).back()->largest;
    compact_pointer_[level] = largest;
    c->edit()->SetCompactPointer(level, largest);
    return c;
  }
  return nullptr;
}

void VersionSet::SetupOtherInputs(Compaction* c) {
  const int level = c->level();
  std::string lo, hi;
  bool first = true;
  for (const auto& f : c->inputs(0)) {
    const Slice f_lo = ExtractUserKey(f->smallest), f_hi = ExtractUserKey(f->largest);
    if (first || f_lo.compare(Slice(lo)) < 0) lo = f_lo.ToString();
    if (first || f_hi.compare(Slice(hi)) > 0) hi = f_hi.ToString();
    first = false;
  }
  Slice lo_slice(lo), hi_slice(hi);
  *c->mutable_inputs(1) = current_->GetOverlappingInputs(level + 1, &lo_slice, &hi_slice);
  c->ComputeRange();
  if (level + 2 < kNumLevels) {
    Slice all_lo(c->smallest_user_key()), all_hi(c->largest_user_key());
    *c->mutable_grandparents() = current_->GetOverlappingInputs(level + 2, &all_lo, &all_hi);
  }
}

std::unique_ptr<Compaction> VersionSet::CompactRange(int level, const Slice* begin,
                                                     const Slice* end) {
  mu_->AssertHeld();
  Slice begin_user, end_user;
  if (begin != nullptr) begin_user = ExtractUserKey(*begin);
  if (end != nullptr) end_user = ExtractUserKey(*end);
  FileList inputs = current_->GetOverlappingInputs(level, begin != nullptr ? &begin_user : nullptr,
                                                   end != nullptr ? &end_user : nullptr);
  if (inputs.empty()) return nullptr;
  if (level > 0) {
    // Bound one round's work; files deeper than level 0 are disjoint, so stopping after any
    // of them is safe.
    const uint64_t limit = 25 * options_->target_file_size_base;
    uint64_t total = 0;
    for (size_t i = 0; i < inputs.size(); ++i) {
      total += inputs[i]->file_size;
      if (total >= limit) {
        inputs.resize(i + 1);
        break;
      }
    }
  }
  auto c = std::make_unique<Compaction>(level, current_, options_->target_file_size_base);
  *c->mutable_inputs(0) = std::move(inputs);
  c->is_manual = true;
  SetupOtherInputs(c.get());
  return c;
}

}  // namespace learnkv
