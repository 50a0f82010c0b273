// DBImpl's read path (Get, MultiGet, iterators, snapshots), properties and Close.

#include "engine/db_impl.h"

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <utility>

#include "engine/db_iter.h"
#include "engine/filename.h"
#include "engine/merging_iterator.h"
#include "learnkv/env.h"
#include "sstable/block_cache.h"

namespace learnkv {

namespace {

// A lookup key (user key, sequence, kValueTypeForSeek) on the stack for ordinary key sizes, so
// that a Get allocates nothing of its own.
class StackLookupKey {
 public:
  StackLookupKey(const Slice& user_key, SequenceNumber seq) {
    const size_t n = user_key.size() + kInternalKeyTrailerSize;
    char* dst = space_;
    if (n > sizeof(space_)) {
      heap_ = std::make_unique<char[]>(n);
      dst = heap_.get();
    }
    std::memcpy(dst, user_key.data(), user_key.size());
    EncodeFixed64(dst + user_key.size(), PackSequenceAndType(seq, kValueTypeForSeek));
    key_ = Slice(dst, n);
  }
  StackLookupKey(const StackLookupKey&) = delete;
  StackLookupKey& operator=(const StackLookupKey&) = delete;
  Slice internal_key() const { return key_; }

 private:
  char space_[200];
  std::unique_ptr<char[]> heap_;
  Slice key_;
};

// Sorts MultiGet's keys by user key. A comparison of whole keys costs a memcmp call behind two
// pointers; instead each key is given, as an integer, the 8 bytes that follow the prefix every
// key of the batch shares (big-endian, zero-padded), and only keys with equal integers are
// compared in full. The shared prefix is skipped because an application's keys usually start
// alike ("user:", "key:0000...") and their first 8 bytes would decide nothing.
void SortByUserKey(std::vector<MultiGetKey*>* keys) {
  if (keys->size() < 2) return;
  const Slice first = (*keys)[0]->user_key;
  size_t shared = first.size();
  for (const MultiGetKey* k : *keys) {
    const size_t limit = std::min(shared, k->user_key.size());
    size_t i = 0;
    while (i < limit && k->user_key[i] == first[i]) ++i;
    shared = i;
  }
  struct Sortable {
    uint64_t order;
    MultiGetKey* key;
  };
  std::vector<Sortable> sorted;
  sorted.reserve(keys->size());
  for (MultiGetKey* k : *keys) {
    const Slice& u = k->user_key;  // at least `shared` bytes long
    sorted.push_back({OrderPrefix64(u.data() + shared, u.size() - shared), k});
  }
  std::sort(sorted.begin(), sorted.end(), [](const Sortable& a, const Sortable& b) {
    if (a.order != b.order) return a.order < b.order;
    return a.key->user_key.compare(b.key->user_key) < 0;
  });
  for (size_t i = 0; i < sorted.size(); ++i) (*keys)[i] = sorted[i].key;
}

}  // namespace

class DBImpl::SnapshotImpl final : public Snapshot {
 public:
  SnapshotImpl(SequenceNumber seq, std::multiset<SequenceNumber>::iterator pos)
      : sequence(seq), position(pos) {}
  ~SnapshotImpl() override = default;
  const SequenceNumber sequence;
  const std::multiset<SequenceNumber>::iterator position;
};

DB::~DB() = default;

DBImpl::SuperVersion::SuperVersion(MemTable* m, std::vector<MemTable*> i,
                                   std::shared_ptr<Version> v)
    : mem(m), imm(std::move(i)), current(std::move(v)) {
  mem->Ref();
  for (MemTable* t : imm) t->Ref();
}

DBImpl::SuperVersion::~SuperVersion() {
  mem->Unref();
  for (MemTable* t : imm) t->Unref();
}

DBImpl::DBImpl(const Options& options, const std::string& dbname)
    : env_(options.env),
      options_(options),
      dbname_(dbname),
      info_log_(InfoLog::Null()),
      bg_work_cv_(&mutex_),
      bg_cv_(&mutex_),
      wal_sync_cv_(&mutex_) {
  // LevelDB keeps a few descriptors for the WAL, MANIFEST and LOG out of the table budget.
  const size_t table_capacity = static_cast<size_t>(std::max(options_.max_open_files - 10, 20));
  table_cache_ =
      std::make_unique<TableCache>(dbname_, env_, options_.table_options, table_capacity);
  if (FilterTypeLearns(options_.table_options.filter.type) &&
      options_.filter_misses_per_level > 0) {
    miss_sampler_ = std::make_unique<LookupMissSampler>(options_.filter_misses_per_level,
                                                        options_.filter_miss_sample_interval);
  }
  // versions_ is made by OpenImpl, once the info LOG it reports to is open.
}

DBImpl::~DBImpl() {
  Close();
  super_version_.Publish(nullptr);
  MutexLock l(&mutex_);
  if (mem_ != nullptr) mem_->Unref();
  for (const ImmMemTable& imm : imm_) imm.mem->Unref();
  imm_.clear();
  log_.reset();
  logfile_.reset();
  spare_wal_.reset();
}

Status DBImpl::CheckOpen() const {
  if (closed_.load(std::memory_order_acquire)) return Status::Aborted(dbname_, "DB is closed");
  return Status::OK();
}

void DBImpl::InstallSuperVersion() {
  mutex_.AssertHeld();
  std::vector<MemTable*> imm;
  for (auto it = imm_.rbegin(); it != imm_.rend(); ++it) imm.push_back(it->mem);
  super_version_.Publish(
      std::make_shared<const SuperVersion>(mem_, std::move(imm), versions_->current()));
}

SequenceNumber DBImpl::SmallestSnapshot() const {
  mutex_.AssertHeld();
  return snapshots_.empty() ? versions_->LastSequence() : *snapshots_.begin();
}

Status DBImpl::Get(const ReadOptions& options, const Slice& key, std::string* value) {
  Status s = CheckOpen();
  if (!s.ok()) return s;
  // The SuperVersion first, then the sequence: every write up to that sequence is then in
  // the SuperVersion's memtables or tables (see VersionSet::LastSequence).
  const ThreadCachedPtr<SuperVersion>::Handle sv = super_version_.Acquire();
  const SequenceNumber seq = options.snapshot != nullptr
                                 ? static_cast<const SnapshotImpl*>(options.snapshot)->sequence
                                 : versions_->LastSequence();
  const StackLookupKey lkey(key, seq);
  if (sv->mem->Get(lkey.internal_key(), value, &s)) return s;
  for (MemTable* imm : sv->imm) {
    if (imm->Get(lkey.internal_key(), value, &s)) return s;
  }
  LookupMissSampler* const misses =
      miss_sampler_ != nullptr && miss_sampler_->ShouldSample() ? miss_sampler_.get() : nullptr;
  return sv->current->Get(table_cache_.get(), lkey.internal_key(), value, misses, accel_.get());
}

void DBImpl::MultiGet(const ReadOptions& options, const std::vector<Slice>& keys,
                      std::vector<std::string>* values, std::vector<Status>* statuses) {
  const size_t n = keys.size();
  // The caller's value strings are cleared, not replaced: one that passes the same vector
  // batch after batch (the server does) then has the values copied into buffers it already
  // owns instead of allocating one per key.
  values->resize(n);
  for (std::string& v : *values) v.clear();
  statuses->assign(n, Status::OK());
  Status s = CheckOpen();
  if (!s.ok()) {
    statuses->assign(n, s);
    return;
  }
  const ThreadCachedPtr<SuperVersion>::Handle sv = super_version_.Acquire();
  const SequenceNumber seq = options.snapshot != nullptr
                                 ? static_cast<const SnapshotImpl*>(options.snapshot)->sequence
                                 : versions_->LastSequence();

  // Every lookup key in one buffer: one allocation per call, where a string per key would
  // allocate for any key over 7 bytes.
  size_t lookup_bytes = 0;
  for (const Slice& key : keys) lookup_bytes += key.size() + kInternalKeyTrailerSize;
  const std::unique_ptr<char[]> lookup_keys(new char[lookup_bytes]);
  const uint64_t trailer = PackSequenceAndType(seq, kValueTypeForSeek);
  std::vector<MultiGetKey> state(n);
  std::vector<MultiGetKey*> pending;
  pending.reserve(n);
  char* lookup_key = lookup_keys.get();
  for (size_t i = 0; i < n; ++i) {
    std::memcpy(lookup_key, keys[i].data(), keys[i].size());
    EncodeFixed64(lookup_key + keys[i].size(), trailer);
    MultiGetKey& k = state[i];
    k.user_key = keys[i];
    k.lookup_key = Slice(lookup_key, keys[i].size() + kInternalKeyTrailerSize);
    lookup_key += k.lookup_key.size();
    k.value = &(*values)[i];
    k.status = &(*statuses)[i];
    // Memtables first: recent writes never need a table.
    bool done = sv->mem->Get(k.lookup_key, k.value, k.status);
    for (size_t j = 0; !done && j < sv->imm.size(); ++j) {
      done = sv->imm[j]->Get(k.lookup_key, k.value, k.status);
    }
    k.done = done;
    if (!done) {
      k.sample_misses = miss_sampler_ != nullptr && miss_sampler_->ShouldSample();
      pending.push_back(&k);
    }
  }
  // Sorted keys let each table take its keys as one contiguous group.
  SortByUserKey(&pending);
  sv->current->MultiGet(table_cache_.get(), &pending, miss_sampler_.get(), accel_.get());
  for (MultiGetKey* k : pending) {
    if (!k->done) *k->status = Status::NotFound(Slice());
  }
}

std::unique_ptr<Iterator> DBImpl::NewIterator(const ReadOptions& options) {
  Status s = CheckOpen();
  if (!s.ok()) return std::unique_ptr<Iterator>(NewErrorIterator(s));
  std::shared_ptr<const SuperVersion> sv;
  SequenceNumber seq;
  {
    // Under the mutex the sequence and the SuperVersion match exactly, so the iterator sees
    // one consistent state even while writes switch memtables.
    MutexLock l(&mutex_);
    sv = GetSuperVersion();
    seq = options.snapshot != nullptr ? static_cast<const SnapshotImpl*>(options.snapshot)->sequence
                                      : versions_->LastSequence();
  }
  std::vector<std::unique_ptr<Iterator>> children;
  children.push_back(sv->mem->NewIterator());
  for (MemTable* imm : sv->imm) children.push_back(imm->NewIterator());
  sv->current->AddIterators(table_cache_.get(), table_cache_->ForRead(options), &children);
  std::unique_ptr<Iterator> iter = NewDBIterator(NewMergingIterator(std::move(children)), seq);
  // The level iterators borrow the Version's file lists: keep it alive as long as they are.
  iter->RegisterCleanup([sv = std::move(sv)]() mutable { sv.reset(); });
  return iter;
}

const Snapshot* DBImpl::GetSnapshot() {
  MutexLock l(&mutex_);
  const SequenceNumber seq = versions_->LastSequence();
  return new SnapshotImpl(seq, snapshots_.insert(seq));
}

void DBImpl::ReleaseSnapshot(const Snapshot* snapshot) {
  if (snapshot == nullptr) return;
  const auto* impl = static_cast<const SnapshotImpl*>(snapshot);
  {
    MutexLock l(&mutex_);
    snapshots_.erase(impl->position);
  }
  delete impl;
}

Status DBImpl::Flush(const FlushOptions& options) {
  Status s = WriteImpl(WriteOptions(), nullptr, /*force_flush=*/true);
  if (!s.ok() || !options.wait) return s;
  MutexLock l(&mutex_);
  const uint64_t target = mem_switches_;
  while (mems_flushed_ < target && bg_error_.ok() && !shutting_down_.load()) bg_cv_.Wait();
  if (!bg_error_.ok()) return bg_error_;
  return mems_flushed_ >= target ? Status::OK() : Status::Aborted("DB is closing");
}

Status DBImpl::CompactRange(const Slice* begin, const Slice* end) {
  Status s = CheckOpen();
  if (!s.ok()) return s;
  s = Flush(FlushOptions());
  if (!s.ok()) return s;
  int max_level_with_files = 1;
  {
    MutexLock l(&mutex_);
    const std::shared_ptr<Version> v = versions_->current();
    for (int level = 1; level < options_.num_levels; ++level) {
      if (v->OverlapInLevel(level, begin, end)) max_level_with_files = level;
    }
  }
  for (int level = 0; level < max_level_with_files && s.ok(); ++level) {
    s = RunManualCompaction(level, begin, end);
  }
  return s;
}

Status DBImpl::TEST_CompactRange(int level, const Slice* begin, const Slice* end) {
  if (level < 0 || level + 1 >= options_.num_levels) {
    return Status::InvalidArgument("TEST_CompactRange", "level out of range");
  }
  return RunManualCompaction(level, begin, end);
}

Status DBImpl::TEST_BackgroundError() {
  MutexLock l(&mutex_);
  return bg_error_;
}

int DBImpl::TEST_NumImmutableMemTables() {
  MutexLock l(&mutex_);
  return static_cast<int>(imm_.size());
}

Status DBImpl::WaitForCompaction() {
  Status s = CheckOpen();
  if (!s.ok()) return s;
  MutexLock l(&mutex_);
  while (bg_error_.ok() && !shutting_down_.load() &&
         (!imm_.empty() || flush_running_ || !running_compactions_.empty() ||
          manual_compaction_ != nullptr || NeedsCompaction())) {
    bg_cv_.Wait();
  }
  // Readers may have held old versions when the last job finished; sweep what they released.
  DeleteObsoleteFiles();
  return bg_error_;
}

void DBImpl::GetApproximateSizes(const Range* ranges, int n, uint64_t* sizes) {
  const std::shared_ptr<const SuperVersion> sv = GetSuperVersion();
  std::string start, limit;
  for (int i = 0; i < n; ++i) {
    start.clear();
    limit.clear();
    AppendInternalKey(&start, ranges[i].start, kMaxSequenceNumber, kValueTypeForSeek);
    AppendInternalKey(&limit, ranges[i].limit, kMaxSequenceNumber, kValueTypeForSeek);
    const uint64_t a = sv->current->ApproximateOffsetOf(table_cache_.get(), start);
    const uint64_t b = sv->current->ApproximateOffsetOf(table_cache_.get(), limit);
    sizes[i] = b >= a ? b - a : 0;
  }
}

bool DBImpl::GetProperty(const Slice& property, std::string* value) {
  value->clear();
  if (!CheckOpen().ok()) return false;
  Slice in = property;
  const Slice prefix("learnkv.");
  if (!in.starts_with(prefix)) return false;
  in.remove_prefix(prefix.size());

  if (in.starts_with("num-files-at-level")) {
    in.remove_prefix(std::strlen("num-files-at-level"));
    const std::string digits = in.ToString();
    if (digits.empty() || digits.size() > 2 ||
        digits.find_first_not_of("0123456789") != std::string::npos) {
      return false;
    }
    const int level = std::stoi(digits);
    if (level >= options_.num_levels) return false;
    MutexLock l(&mutex_);
    *value = std::to_string(versions_->current()->NumFiles(level));
    return true;
  }
  if (in == "stats") {
    MutexLock l(&mutex_);
    *value = stats_.ToString(*versions_->current(), *versions_);
    return true;
  }
  if (in == "sstables") {
    std::shared_ptr<Version> v;
    {
      MutexLock l(&mutex_);
      v = versions_->current();
    }
    char buf[512];
    for (int level = 0; level < options_.num_levels; ++level) {
      for (const auto& f : v->files(level)) {
        const bool learned = f->index_kind == static_cast<uint8_t>(IndexType::kLearned);
        std::snprintf(
            buf, sizeof(buf),
            "level %d #%06" PRIu64 " size %" PRIu64 " entries %" PRIu64
            " index %s%s%s%s leaves %" PRIu64 " max_error %" PRIu64
            " mean_error %.2f index_bytes %" PRIu64 " build_micros %" PRIu64
            " training_micros %" PRIu64 " filter %s filter_bytes %" PRIu64 " filter_fpr %.3g\n",
            level, f->number, f->file_size, f->num_entries, learned ? "rmi" : "block",
            learned || f->fallback_reason.empty() ? "" : " (",
            learned ? "" : f->fallback_reason.c_str(),
            learned || f->fallback_reason.empty() ? "" : ")", f->model_leaves, f->model_max_error,
            f->model_mean_error, f->index_bytes, f->build_micros, f->training_micros,
            FileFilterKindName(f->filter_kind), f->filter_bytes, f->filter_target_fpr);
        value->append(buf);
      }
    }
    return true;
  }
  if (in == "index-memory") {
    *value = std::to_string(table_cache_->IndexMemoryUsage());
    return true;
  }
  if (in == "filter-memory") {
    *value = std::to_string(table_cache_->FilterMemoryUsage());
    return true;
  }
  if (in == "num-open-tables") {
    *value = std::to_string(table_cache_->NumOpen());
    return true;
  }
  if (in == "num-pinned-tables") {
    *value = std::to_string(table_cache_->NumPinned());
    return true;
  }
  if (in == "filters") {
    std::shared_ptr<Version> v;
    {
      MutexLock l(&mutex_);
      v = versions_->current();
    }
    *value = FiltersToString(*v, options_, miss_sampler_.get());
    return true;
  }
  if (in == "accel") {
    *value = accel_ != nullptr ? accel_->ToString() : DBAccelerator::OffString();
    return true;
  }
  if (in == "accel-values") {
    *value = accel_ != nullptr ? accel_->ToValues() : DBAccelerator::OffValues();
    return true;
  }
  if (in == "estimate-num-keys") {
    const std::shared_ptr<const SuperVersion> sv = GetSuperVersion();
    // Entries minus deletions, summed: overwrites are counted twice and a deletion may also
    // cancel an entry of another table, so this is only an estimate.
    auto live = [](uint64_t entries, uint64_t deletions) {
      return entries > 2 * deletions ? entries - 2 * deletions : 0;
    };
    uint64_t total = live(sv->mem->num_entries(), sv->mem->num_deletions());
    for (MemTable* imm : sv->imm) total += live(imm->num_entries(), imm->num_deletions());
    for (int level = 0; level < kNumLevels; ++level) {
      for (const auto& f : sv->current->files(level)) {
        total += live(f->num_entries, f->num_deletions);
      }
    }
    *value = std::to_string(total);
    return true;
  }
  return false;
}

Status DBImpl::Close() {
  {
    MutexLock l(&mutex_);
    if (closed_.load()) return Status::Aborted(dbname_, "DB is closed");
    shutting_down_.store(true, std::memory_order_release);
    bg_work_cv_.SignalAll();
    bg_cv_.SignalAll();
    // Writers queued behind a stall see shutting_down_ and leave; a SyncWAL finishes its
    // fsync (the file may be logfile_ itself).
    while (!writers_.empty()) bg_cv_.Wait();
    while (wal_syncing_ != 0) wal_sync_cv_.Wait();
  }
  for (std::thread& t : bg_threads_) t.join();
  bg_threads_.clear();
  MutexLock l(&mutex_);
  Status s;
  if (logfile_ != nullptr) {
    log_.reset();
    s = logfile_->Close();
    logfile_.reset();
  }
  if (spare_wal_ != nullptr) {
    // Unused: an empty WAL, not worth leaving for the next Open to replay.
    spare_wal_->Close();
    spare_wal_.reset();
    env_->RemoveFile(WalFileName(dbname_, spare_wal_number_));
  }
  info_log_->Log("Closed %s", dbname_.c_str());
  db_lock_.reset();
  closed_.store(true, std::memory_order_release);
  return s;
}

}  // namespace learnkv
