#include "engine/version_set.h"

#include <algorithm>
#include <cassert>
#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <map>
#include <optional>
#include <utility>

#include "engine/db_accel.h"
#include "engine/filename.h"
#include "engine/level_filters.h"
#include "engine/level_iterator.h"
#include "engine/log_reader.h"
#include "sstable/internal_key.h"

namespace learnkv {

namespace {

// Stored in every MANIFEST; a DB written with another key order must not be opened.
constexpr char kComparatorName[] = "learnkv.BytewiseComparator";

// A MANIFEST larger than this is replaced by a fresh one holding only the current state, so
// that recovery does not replay an ever-growing history.
constexpr uint64_t kMaxManifestSize = 64ull << 20;

Slice UserKeyOf(const std::string& internal_key) { return ExtractUserKey(internal_key); }

bool BeforeFile(const Slice& user_key, const FileMetaData& f) {
  return user_key.compare(UserKeyOf(f.smallest)) < 0;
}
bool AfterFile(const Slice& user_key, const FileMetaData& f) {
  return user_key.compare(UserKeyOf(f.largest)) > 0;
}


// std::lower_bound without branches on the data: the halving step is a conditional move. A
// point lookup of a random key takes each branch of std::lower_bound's search at random, and
// its mispredictions were most of FindTableFor's time (perf annotate, readmissing).
size_t BranchlessLowerBound(const uint64_t* values, size_t n, uint64_t target) {
  if (n == 0) return 0;
  size_t lo = 0;
  while (n > 1) {
    const size_t half = n / 2;
    lo = values[lo + half - 1] < target ? lo + half : lo;
    n -= half;
  }
  return lo + (values[lo] < target ? 1 : 0);
}

}  // namespace

size_t FindFile(const FileList& files, const Slice& internal_key) {
  size_t lo = 0, hi = files.size();
  while (lo < hi) {
    const size_t mid = lo + (hi - lo) / 2;
    if (CompareInternalKeys(files[mid]->largest, internal_key) < 0) {
      lo = mid + 1;
    } else {
      hi = mid;
    }
  }
  return lo;
}

// ---- Version ----

uint64_t Version::NumLevelBytes(int level) const {
  uint64_t total = 0;
  for (const auto& f : files_[level]) total += f->file_size;
  return total;
}

Status Version::Get(TableCache* cache, const Slice& lookup_key, std::string* value,
                    LookupMissSampler* misses, DBAccelerator* accel) const {
  const Slice user_key = ExtractUserKey(lookup_key);
  enum class State { kMissing, kFound, kDeleted, kBad };
  State state = State::kMissing;
  // The first entry a table passes is the newest visible version of the key.
  auto on_entry = [&](const Slice& ikey, const Slice& v) {
    ParsedInternalKey parsed;
    if (!ParseInternalKey(ikey, &parsed)) {
      state = State::kBad;
    } else if (parsed.type == kTypeValue) {
      value->assign(v.data(), v.size());
      state = State::kFound;
    } else if (parsed.type == kTypeDeletion) {
      state = State::kDeleted;
    } else {
      state = State::kBad;
    }
    return false;
  };
  auto search = [&](const FileMetaData& f) -> Status {
    Status s = accel == nullptr ? cache->Get(f, lookup_key, on_entry)
                                : accel->TableGet(cache, f, lookup_key, on_entry);
    if (s.ok() && state == State::kBad) {
      s = Status::Corruption("table #" + std::to_string(f.number), "entry of unknown type");
    }
    return s;
  };

  // Level 0: files may overlap; newest first.
  const FileList& l0 = files_[0];
  bool missed_l0 = false;
  for (size_t i = l0.size(); i-- > 0;) {
    const FileMetaData& f = *l0[i];
    if (BeforeFile(user_key, f) || AfterFile(user_key, f)) continue;
    Status s = search(f);
    if (!s.ok()) return s;
    if (state != State::kMissing) break;
    missed_l0 = true;
  }
  if (missed_l0 && misses != nullptr) misses->RecordMiss(0, user_key);
  const uint64_t key_prefix = OrderPrefix64(user_key.data(), user_key.size());
  for (int level = 1; level < kNumLevels && state == State::kMissing; ++level) {
    const FileList& files = files_[level];
    const size_t index = FindTableFor(level, lookup_key, user_key, key_prefix);
    if (index == files.size()) continue;
    Status s = search(*files[index]);
    if (!s.ok()) return s;
    if (state == State::kMissing && misses != nullptr) misses->RecordMiss(level, user_key);
  }
  if (state == State::kFound) return Status::OK();
  return Status::NotFound(Slice());
}

size_t Version::FindTableFor(int level, const Slice& lookup_key, const Slice& user_key,
                             uint64_t key_prefix) const {
  const FileList& files = files_[level];
  const std::vector<uint64_t>& largest = largest_prefix_[level];
  // The first file whose largest key is >= the lookup key: those with a smaller largest prefix
  // end before it, those with a larger one after it; only equal prefixes need the keys.
  size_t index = BranchlessLowerBound(largest.data(), largest.size(), key_prefix);
  while (index < files.size() && largest[index] == key_prefix &&
         CompareInternalKeys(files[index]->largest, lookup_key) < 0) {
    ++index;
  }
  if (index == files.size()) return index;
  const uint64_t smallest = smallest_prefix_[level][index];
  const bool before = key_prefix != smallest ? key_prefix < smallest
                                             : BeforeFile(user_key, *files[index]);
  return before ? files.size() : index;
}

void Version::MultiGet(TableCache* cache, std::vector<MultiGetKey*>* keys,
                       LookupMissSampler* misses, DBAccelerator* accel) const {
  std::vector<MultiGetKey*>& pending = *keys;
  std::vector<Slice> batch;
  std::vector<MultiGetKey*> batch_keys;
  std::vector<Status> statuses;
  std::vector<ApproxPos> predictions;  // a batch decided for the (simulated) device

  // Asks table f of `level` for the keys pending[begin, end) that are not done yet, all in one
  // call.
  auto probe = [&](int level, const FileMetaData& f, size_t begin, size_t end) {
    batch.clear();
    batch_keys.clear();
    for (size_t i = begin; i < end; ++i) {
      if (pending[i]->done) continue;
      batch.push_back(pending[i]->lookup_key);
      batch_keys.push_back(pending[i]);
    }
    if (batch.empty()) return;
    std::shared_ptr<const TableReader> holder;
    const TableReader* table = nullptr;
    Status s = cache->Reader(f, &holder, &table);
    if (!s.ok()) {
      for (MultiGetKey* k : batch_keys) {
        *k->status = s;
        k->done = true;
      }
      return;
    }
    statuses.assign(batch.size(), Status::OK());
    const ApproxPos* predicted = nullptr;
    if (accel != nullptr && accel->BeforeMultiGet(*table, f.number, batch.size())) {
      // As a device would return them: the whole batch's predictions before any search.
      predictions.resize(batch.size());
      table->PredictBounds(batch.data(), batch.size(), predictions.data());
      predicted = predictions.data();
    }
    table->MultiGet(
        batch.data(), batch.size(),
        [&](size_t i, const Slice& ikey, const Slice& v) {
          MultiGetKey* k = batch_keys[i];
          ParsedInternalKey parsed;
          if (!ParseInternalKey(ikey, &parsed) ||
              (parsed.type != kTypeValue && parsed.type != kTypeDeletion)) {
            *k->status = Status::Corruption(table->file_name(), "entry of unknown type");
          } else if (parsed.type == kTypeValue) {
            k->value->assign(v.data(), v.size());
            *k->status = Status::OK();
          } else {
            *k->status = Status::NotFound(Slice());
          }
          k->done = true;
          return false;
        },
        statuses.data(), predicted);
    for (size_t i = 0; i < batch_keys.size(); ++i) {
      MultiGetKey* k = batch_keys[i];
      if (!statuses[i].ok() && !k->done) {
        *k->status = statuses[i];
        k->done = true;
      }
      if (!k->done && k->sample_misses && misses != nullptr && (level > 0 || !k->missed_l0)) {
        misses->RecordMiss(level, k->user_key);
        if (level == 0) k->missed_l0 = true;
      }
    }
  };
  auto drop_done = [&]() {
    pending.erase(std::remove_if(pending.begin(), pending.end(),
                                 [](const MultiGetKey* k) { return k->done; }),
                  pending.end());
  };
  auto key_less = [](const MultiGetKey* k, const Slice& user_key) {
    return k->user_key.compare(user_key) < 0;
  };
  auto key_greater = [](const Slice& user_key, const MultiGetKey* k) {
    return user_key.compare(k->user_key) < 0;
  };

  const FileList& l0 = files_[0];
  for (size_t i = l0.size(); i-- > 0 && !pending.empty();) {
    const FileMetaData& f = *l0[i];
    const auto begin =
        std::lower_bound(pending.begin(), pending.end(), UserKeyOf(f.smallest), key_less);
    const auto end = std::upper_bound(begin, pending.end(), UserKeyOf(f.largest), key_greater);
    probe(0, f, begin - pending.begin(), end - pending.begin());
    drop_done();
  }
  for (int level = 1; level < kNumLevels && !pending.empty(); ++level) {
    size_t begin = 0;
    for (const auto& fp : files_[level]) {
      const FileMetaData& f = *fp;
      while (begin < pending.size() && BeforeFile(pending[begin]->user_key, f)) ++begin;
      if (begin == pending.size()) break;
      size_t end = begin;
      while (end < pending.size() && !AfterFile(pending[end]->user_key, f)) ++end;
      probe(level, f, begin, end);
    }
    drop_done();
  }
}

void Version::AddIterators(TableCache* cache, const TableReadOptions& read,
                           std::vector<std::unique_ptr<Iterator>>* iters) const {
  const FileList& l0 = files_[0];
  for (size_t i = l0.size(); i-- > 0;) {
    iters->push_back(cache->NewIterator(*l0[i], read));
  }
  for (int level = 1; level < kNumLevels; ++level) {
    if (!files_[level].empty()) iters->push_back(NewLevelIterator(cache, &files_[level], read));
  }
}

bool Version::OverlapInLevel(int level, const Slice* smallest_user_key,
                             const Slice* largest_user_key) const {
  const FileList& files = files_[level];
  if (level == 0) {
    for (const auto& f : files) {
      if ((smallest_user_key == nullptr || !AfterFile(*smallest_user_key, *f)) &&
          (largest_user_key == nullptr || !BeforeFile(*largest_user_key, *f))) {
        return true;
      }
    }
    return false;
  }
  size_t index = 0;
  if (smallest_user_key != nullptr) {
    std::string probe;
    AppendInternalKey(&probe, *smallest_user_key, kMaxSequenceNumber, kValueTypeForSeek);
    index = FindFile(files, probe);
  }
  if (index >= files.size()) return false;
  return largest_user_key == nullptr || !BeforeFile(*largest_user_key, *files[index]);
}

FileList Version::GetOverlappingInputs(int level, const Slice* begin, const Slice* end) const {
  std::string lo = begin != nullptr ? begin->ToString() : std::string();
  std::string hi = end != nullptr ? end->ToString() : std::string();
  bool has_lo = begin != nullptr, has_hi = end != nullptr;
  FileList result;
  const FileList& files = files_[level];
  for (size_t i = 0; i < files.size();) {
    const auto& f = files[i++];
    const Slice f_lo = UserKeyOf(f->smallest);
    const Slice f_hi = UserKeyOf(f->largest);
    if ((has_lo && f_hi.compare(Slice(lo)) < 0) || (has_hi && f_lo.compare(Slice(hi)) > 0)) {
      continue;
    }
    result.push_back(f);
    if (level == 0) {
      // Level-0 files overlap each other: widen the range and start over if f extends it.
      if (has_lo && f_lo.compare(Slice(lo)) < 0) {
        lo = f_lo.ToString();
        result.clear();
        i = 0;
      } else if (has_hi && f_hi.compare(Slice(hi)) > 0) {
        hi = f_hi.ToString();
        result.clear();
        i = 0;
      }
    }
  }
  return result;
}

uint64_t Version::ApproximateOffsetOf(TableCache* cache, const Slice& internal_key) const {
  uint64_t result = 0;
  for (int level = 0; level < kNumLevels; ++level) {
    for (const auto& f : files_[level]) {
      if (CompareInternalKeys(f->largest, internal_key) <= 0) {
        result += f->file_size;  // entirely before the key
      } else if (CompareInternalKeys(f->smallest, internal_key) > 0) {
        if (level > 0) break;  // sorted: the rest are after it too
      } else {
        std::shared_ptr<const TableReader> holder;
        const TableReader* table = nullptr;
        if (cache->Reader(*f, &holder, &table).ok()) {
          result += table->ApproximateOffsetOf(internal_key);
        }
      }
    }
  }
  return result;
}

std::string Version::LevelSummary() const {
  std::string r = "files[";
  for (int level = 0; level < kNumLevels; ++level) r += " " + std::to_string(NumFiles(level));
  return r + " ]";
}

// ---- VersionSet::Builder: a base Version plus a sequence of edits ----

class VersionSet::Builder {
 public:
  explicit Builder(const Version* base) {
    for (int level = 0; level < kNumLevels; ++level) {
      for (const auto& f : base->files_[level]) files_[level][f->number] = f;
    }
  }

  void Apply(const VersionEdit& edit) {
    for (const auto& [level, number] : edit.deleted_files()) files_[level].erase(number);
    for (const auto& [level, f] : edit.new_files()) {
      files_[level][f.number] = std::make_shared<const FileMetaData>(f);
    }
  }

  // Corruption if two files of a level deeper than 0 overlap.
  Status SaveTo(Version* v) const {
    for (int level = 0; level < kNumLevels; ++level) {
      FileList& out = v->files_[level];
      out.clear();
      for (const auto& [number, f] : files_[level]) out.push_back(f);
      if (level == 0) {
        // Oldest first: a newer flush holds newer sequence numbers.
        std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) {
          return a->largest_seqno != b->largest_seqno ? a->largest_seqno < b->largest_seqno
                                                      : a->number < b->number;
        });
        continue;
      }
      std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) {
        const int r = CompareInternalKeys(a->smallest, b->smallest);
        return r != 0 ? r < 0 : a->number < b->number;
      });
      v->smallest_prefix_[level].clear();
      v->largest_prefix_[level].clear();
      for (const auto& f : out) {
        const Slice smallest = UserKeyOf(f->smallest), largest = UserKeyOf(f->largest);
        v->smallest_prefix_[level].push_back(OrderPrefix64(smallest.data(), smallest.size()));
        v->largest_prefix_[level].push_back(OrderPrefix64(largest.data(), largest.size()));
      }
      for (size_t i = 1; i < out.size(); ++i) {
        if (CompareInternalKeys(out[i - 1]->largest, out[i]->smallest) >= 0) {
          return Status::Corruption(
              "overlapping tables at level " + std::to_string(level),
              std::to_string(out[i - 1]->number) + " and " + std::to_string(out[i]->number));
        }
      }
    }
    return Status::OK();
  }

 private:
  std::map<uint64_t, std::shared_ptr<const FileMetaData>> files_[kNumLevels];
};

// ---- VersionSet ----

VersionSet::VersionSet(std::string dbname, const Options* options, TableCache* table_cache,
                       InfoLog* info_log, Mutex* mu)
    : env_(options->env),
      dbname_(std::move(dbname)),
      options_(options),
      table_cache_(table_cache),
      info_log_(info_log),
      mu_(mu),
      current_(new Version()),
      manifest_cv_(mu) {}

VersionSet::~VersionSet() {
  if (descriptor_file_ != nullptr) descriptor_file_->Close();
}

Status VersionSet::CreateNew(Env* env, const std::string& dbname) {
  VersionEdit edit;
  edit.SetComparatorName(kComparatorName);
  edit.SetLogNumber(0);
  edit.SetNextFileNumber(2);
  edit.SetLastSequence(0);
  const std::string manifest = ManifestFileName(dbname, 1);
  std::unique_ptr<WritableFile> file;
  Status s = env->NewWritableFile(manifest, &file);
  if (!s.ok()) return s;
  std::string record;
  edit.EncodeTo(&record);
  log::Writer writer(file.get());
  s = writer.AddRecord(record);
  if (s.ok()) s = file->Sync();
  if (s.ok()) s = file->Close();
  file.reset();
  if (s.ok()) s = SetCurrentFile(env, dbname, 1);
  if (!s.ok()) env->RemoveFile(manifest);
  return s;
}

Status VersionSet::Recover() {
  mu_->AssertHeld();
  std::string manifest;
  uint64_t manifest_number;
  Status s = ReadCurrentFile(env_, dbname_, &manifest, &manifest_number);
  if (!s.ok()) return s;
  const std::string dscname = dbname_ + "/" + manifest;
  std::unique_ptr<SequentialFile> file;
  s = env_->NewSequentialFile(dscname, &file);
  if (!s.ok()) {
    if (!env_->FileExists(dscname)) {
      return Status::Corruption(CurrentFileName(dbname_), "names missing file " + dscname);
    }
    return s;
  }

  InfoLogReporter reporter(info_log_, "");
  // A torn last record is an edit whose LogAndApply never completed; anything else is damage.
  log::Reader reader(file.get(), dscname, &reporter,
                     WalRecoveryMode::kTolerateCorruptedTailRecords);
  Version empty;
  Builder builder(&empty);
  std::optional<uint64_t> log_number, next_file, last_sequence;
  Slice record;
  std::string scratch;
  while (reader.ReadRecord(&record, &scratch)) {
    VersionEdit edit;
    s = edit.DecodeFrom(record);
    if (!s.ok()) {
      return Status::Corruption(
          dscname,
          "bad record at offset " + std::to_string(reader.LastRecordOffset()) + ": " + s.message());
    }
    if (edit.comparator_name() && *edit.comparator_name() != kComparatorName) {
      return Status::InvalidArgument(
          dscname,
          "was written with key order " + *edit.comparator_name() + ", not " + kComparatorName);
    }
    builder.Apply(edit);
    for (const auto& [level, key] : edit.compact_pointers()) compact_pointer_[level] = key;
    for (const auto& [level, f] : edit.new_files()) MarkFileNumberUsed(f.number);
    if (edit.log_number()) log_number = edit.log_number();
    if (edit.next_file_number()) next_file = edit.next_file_number();
    if (edit.last_sequence()) last_sequence = edit.last_sequence();
  }
  if (!reader.status().ok()) return reader.status();
  if (!next_file || !log_number || !last_sequence) {
    return Status::Corruption(dscname, "lacks the next file number, log number or last sequence");
  }

  std::shared_ptr<Version> v(new Version());
  s = builder.SaveTo(v.get());
  if (!s.ok()) return Status::Corruption(dscname, s.ToString());
  // Open is single-threaded, so opening the tables under the mutex holds nobody up.
  PinTables(v.get(), nullptr);
  Finalize(v.get());
  AppendVersion(std::move(v));
  manifest_file_number_ = manifest_number;
  MarkFileNumberUsed(*next_file - 1);
  MarkFileNumberUsed(manifest_number);
  MarkFileNumberUsed(*log_number);
  log_number_ = *log_number;
  last_sequence_.store(*last_sequence, std::memory_order_release);
  info_log_->Log("Recovered %s: next file %" PRIu64 ", log %" PRIu64 ", last sequence %" PRIu64
                 ", %s",
                 manifest.c_str(), next_file_number_, log_number_, *last_sequence,
                 current_->LevelSummary().c_str());
  return Status::OK();
}

Status VersionSet::WriteSnapshot(log::Writer* log) {
  VersionEdit edit;
  edit.SetComparatorName(kComparatorName);
  for (int level = 0; level < kNumLevels; ++level) {
    if (!compact_pointer_[level].empty()) edit.SetCompactPointer(level, compact_pointer_[level]);
    for (const auto& f : current_->files_[level]) edit.AddFile(level, *f);
  }
  std::string record;
  edit.EncodeTo(&record);
  return log->AddRecord(record);
}

Status VersionSet::LogAndApply(VersionEdit* edit, Mutex* mu) {
  assert(mu == mu_);
  mu_->AssertHeld();
  while (manifest_busy_) manifest_cv_.Wait();
  manifest_busy_ = true;

  if (!edit->log_number()) edit->SetLogNumber(log_number_);
  std::shared_ptr<Version> v(new Version());
  Status s;
  {
    Builder builder(current_.get());
    builder.Apply(*edit);
    s = builder.SaveTo(v.get());
  }
  if (s.ok()) Finalize(v.get());

  // A fresh MANIFEST on first use, after a failed write (its tail is unknown) or when large.
  uint64_t new_manifest = 0;
  std::string snapshot_state;
  std::unique_ptr<WritableFile> new_file;
  std::unique_ptr<log::Writer> new_log;
  if (s.ok() && (descriptor_log_ == nullptr || descriptor_log_->FileSize() > kMaxManifestSize)) {
    new_manifest = NewFileNumber();
  }
  edit->SetNextFileNumber(next_file_number_);
  edit->SetLastSequence(LastSequence());
  std::string record;
  edit->EncodeTo(&record);
  log::Writer* log = descriptor_log_.get();
  WritableFile* file = descriptor_file_.get();
  const bool adds_files = !edit->new_files().empty();

  if (s.ok() && new_manifest != 0) {
    s = env_->NewWritableFile(ManifestFileName(dbname_, new_manifest), &new_file);
    if (s.ok()) {
      new_log = std::make_unique<log::Writer>(new_file.get());
      // current_ cannot change before we are done: manifest_busy_ keeps other callers out.
      s = WriteSnapshot(new_log.get());
      log = new_log.get();
      file = new_file.get();
    }
  }
  mu->Unlock();
  if (s.ok() && adds_files) {
    std::set<uint64_t> added;
    for (const auto& [level, f] : edit->new_files()) added.insert(f.number);
    PinTables(v.get(), &added);
  }
  // The new tables' directory entries must be durable before the MANIFEST names them.
  if (s.ok() && adds_files) s = env_->SyncDir(dbname_);
  if (s.ok()) s = log->AddRecord(record);
  if (s.ok()) s = file->Sync();
  if (s.ok() && new_manifest != 0) s = SetCurrentFile(env_, dbname_, new_manifest);
  mu->Lock();
  mu_->AssertHeld();

  if (s.ok()) {
    if (new_manifest != 0) {
      if (descriptor_file_ != nullptr) descriptor_file_->Close();
      descriptor_file_ = std::move(new_file);
      descriptor_log_ = std::move(new_log);
      manifest_file_number_ = new_manifest;
    }
    for (const auto& [level, key] : edit->compact_pointers()) compact_pointer_[level] = key;
    log_number_ = *edit->log_number();
    AppendVersion(std::move(v));
  } else {
    info_log_->Log("MANIFEST write failed: %s", s.ToString().c_str());
    // A new MANIFEST that failed is left for obsolete-file deletion: CURRENT may name it if
    // only the final directory sync failed. A failed append to the old one leaves its tail
    // unknown, so the next edit starts a fresh MANIFEST.
    if (new_manifest == 0) {
      descriptor_log_.reset();
      descriptor_file_.reset();
    }
  }
  manifest_busy_ = false;
  manifest_cv_.SignalAll();
  return s;
}

void VersionSet::PinTables(Version* v, const std::set<uint64_t>* numbers) const {
  if (table_cache_ == nullptr) return;
  for (FileList& files : v->files_) {
    for (std::shared_ptr<const FileMetaData>& f : files) {
      if (f->table != nullptr || (numbers != nullptr && numbers->count(f->number) == 0)) continue;
      std::shared_ptr<const TableReader> table;
      // A table that cannot be opened stays unpinned; lookups then report the error.
      if (!table_cache_->Pin(f->number, f->file_size, &table).ok() || table == nullptr) continue;
      auto pinned = std::make_shared<FileMetaData>(*f);
      pinned->table = std::move(table);
      f = std::move(pinned);
    }
  }
}

void VersionSet::AppendVersion(std::shared_ptr<Version> v) {
  versions_.emplace_back(v);
  current_ = std::move(v);
}

void VersionSet::AddLiveFiles(std::set<uint64_t>* live) {
  mu_->AssertHeld();
  size_t kept = 0;
  for (size_t i = 0; i < versions_.size(); ++i) {
    std::shared_ptr<Version> v = versions_[i].lock();
    if (v == nullptr) continue;
    for (const FileList& files : v->files_) {
      for (const auto& f : files) live->insert(f->number);
    }
    versions_[kept++] = versions_[i];
  }
  versions_.resize(kept);
}

uint64_t VersionSet::MaxBytesForLevel(int level) const {
  double result = static_cast<double>(options_->max_bytes_for_level_base);
  for (int l = 1; l < level; ++l) result *= options_->max_bytes_for_level_multiplier;
  return result >= 1.8e19 ? UINT64_MAX : static_cast<uint64_t>(result);
}

void VersionSet::Finalize(Version* v) const {
  const int last = options_->num_levels - 1;
  for (double& score : v->compaction_score_) score = 0;
  // Level 0 counts files, not bytes: every lookup probes each of them.
  const int trigger = std::max(1, options_->level0_file_num_compaction_trigger);
  v->compaction_score_[0] = last > 0 ? static_cast<double>(v->NumFiles(0)) / trigger : 0;
  for (int level = 1; level < last; ++level) {
    v->compaction_score_[level] =
        static_cast<double>(v->NumLevelBytes(level)) / static_cast<double>(MaxBytesForLevel(level));
  }

  // Estimated rewrite work (as RocksDB estimates it): level 0's bytes plus level 1's if level 0
  // is due, and for each level over target its excess times the fan-out into the next level.
  double pending = 0;
  uint64_t incoming = 0;
  if (last > 0 && v->NumFiles(0) >= trigger) {
    incoming = v->NumLevelBytes(0);
    pending += static_cast<double>(incoming + v->NumLevelBytes(1));
  }
  for (int level = 1; level < last; ++level) {
    const uint64_t size = v->NumLevelBytes(level) + incoming;
    incoming = 0;
    const uint64_t target = MaxBytesForLevel(level);
    if (size <= target) continue;
    incoming = size - target;
    const uint64_t next = v->NumLevelBytes(level + 1);
    pending += static_cast<double>(incoming) *
               (1.0 + static_cast<double>(next) / static_cast<double>(size));
  }
  v->pending_compaction_bytes_ = pending >= 1.8e19 ? UINT64_MAX : static_cast<uint64_t>(pending);
}

}  // namespace learnkv
