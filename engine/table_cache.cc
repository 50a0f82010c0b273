#include "engine/table_cache.h"

#include <algorithm>

#include "engine/filename.h"

namespace learnkv {

TableCache::TableCache(std::string dbname, Env* env, const TableOptions& options, size_t capacity)
    : dbname_(std::move(dbname)),
      env_(env),
      options_(options),
      per_shard_capacity_(std::max<size_t>(1, (capacity + kNumShards - 1) / kNumShards)),
      max_pinned_(capacity / 4) {}

Status TableCache::OpenTable(uint64_t number, uint64_t file_size,
                             std::unique_ptr<TableReader>* reader) {
  const std::string fname = TableFileName(dbname_, number);
  std::unique_ptr<RandomAccessFile> file;
  Status s = env_->NewRandomAccessFile(fname, &file);
  if (!s.ok()) return s;
  const size_t slash = fname.rfind('/');
  return TableReader::Open(options_, slash == std::string::npos ? fname : fname.substr(slash + 1),
                           std::move(file), file_size, reader);
}

bool TableCache::FindLocked(Shard* shard, uint64_t number,
                            std::shared_ptr<const TableReader>* out) {
  auto it = shard->map.find(number);
  if (it != shard->map.end()) {
    shard->lru.splice(shard->lru.begin(), shard->lru, it->second);
    *out = it->second->second;
    return true;
  }
  auto pinned = shard->pinned.find(number);
  if (pinned == shard->pinned.end()) return false;
  *out = pinned->second;
  return true;
}

Status TableCache::FindTable(uint64_t number, uint64_t file_size,
                             std::shared_ptr<const TableReader>* out) {
  Shard& shard = ShardFor(number);
  {
    MutexLock l(&shard.mu);
    if (FindLocked(&shard, number, out)) return Status::OK();
  }
  // Open without the lock: reading a footer and a model is I/O. Two threads may race to open
  // the same table; the second insert simply finds the first.
  std::unique_ptr<TableReader> reader;
  Status s = OpenTable(number, file_size, &reader);
  if (!s.ok()) return s;
  std::shared_ptr<const TableReader> opened(std::move(reader));
  std::vector<std::shared_ptr<const TableReader>> evicted;  // closed after the lock
  MutexLock l(&shard.mu);
  if (FindLocked(&shard, number, out)) return Status::OK();
  shard.lru.emplace_front(number, opened);
  shard.map[number] = shard.lru.begin();
  while (shard.lru.size() > per_shard_capacity_) {
    shard.map.erase(shard.lru.back().first);
    evicted.push_back(std::move(shard.lru.back().second));
    shard.lru.pop_back();
  }
  *out = std::move(opened);
  return Status::OK();
}

Status TableCache::Pin(uint64_t number, uint64_t file_size,
                       std::shared_ptr<const TableReader>* out) {
  out->reset();
  size_t n = num_pinned_.load(std::memory_order_relaxed);
  do {
    if (n >= max_pinned_) return Status::OK();
  } while (!num_pinned_.compare_exchange_weak(n, n + 1, std::memory_order_relaxed));
  std::shared_ptr<const TableReader> table;
  Status s = FindTable(number, file_size, &table);
  Shard& shard = ShardFor(number);
  MutexLock l(&shard.mu);
  if (s.ok() && shard.pinned.count(number) == 0) {
    auto it = shard.map.find(number);
    if (it != shard.map.end()) {  // else evicted since FindTable: pinned from here on all the same
      shard.lru.erase(it->second);
      shard.map.erase(it);
    }
    shard.pinned.emplace(number, table);
    *out = std::move(table);
    return s;
  }
  num_pinned_.fetch_sub(1, std::memory_order_relaxed);  // an error, or pinned already
  if (s.ok()) *out = shard.pinned.find(number)->second;
  return s;
}

std::unique_ptr<Iterator> TableCache::NewIterator(const FileMetaData& f,
                                                  const TableReadOptions& read) {
  std::shared_ptr<const TableReader> table = f.table;
  if (table == nullptr) {
    Status s = FindTable(f.number, f.file_size, &table);
    if (!s.ok()) return std::unique_ptr<Iterator>(NewErrorIterator(s));
  }
  std::unique_ptr<Iterator> iter = table->NewIterator(read);
  // The iterator must be destroyed before its reader; the cleanup runs after it.
  iter->RegisterCleanup([table = std::move(table)]() mutable { table.reset(); });
  return iter;
}

Status TableCache::Get(const FileMetaData& f, const Slice& internal_key,
                       TableReader::EntryCallback on_entry) {
  std::shared_ptr<const TableReader> holder;  // stays empty for a pinned table
  const TableReader* table = nullptr;
  Status s = Reader(f, &holder, &table);
  if (!s.ok()) return s;
  return table->Get(internal_key, on_entry);
}

void TableCache::Evict(uint64_t number) {
  Shard& shard = ShardFor(number);
  std::shared_ptr<const TableReader> victim;  // released after the lock
  MutexLock l(&shard.mu);
  auto pinned = shard.pinned.find(number);
  if (pinned != shard.pinned.end()) {
    victim = std::move(pinned->second);
    shard.pinned.erase(pinned);
    num_pinned_.fetch_sub(1, std::memory_order_relaxed);
    return;
  }
  auto it = shard.map.find(number);
  if (it == shard.map.end()) return;
  victim = std::move(it->second->second);
  shard.lru.erase(it->second);
  shard.map.erase(it);
}

size_t TableCache::SumOverOpen(size_t (TableReader::*usage)() const) {
  size_t total = 0;
  for (Shard& shard : shards_) {
    MutexLock l(&shard.mu);
    for (const Entry& e : shard.lru) total += (e.second.get()->*usage)();
    for (const auto& [number, table] : shard.pinned) total += (table.get()->*usage)();
  }
  return total;
}

size_t TableCache::IndexMemoryUsage() { return SumOverOpen(&TableReader::IndexMemoryUsage); }

size_t TableCache::FilterMemoryUsage() { return SumOverOpen(&TableReader::FilterMemoryUsage); }

size_t TableCache::NumOpen() {
  size_t total = 0;
  for (Shard& shard : shards_) {
    MutexLock l(&shard.mu);
    total += shard.lru.size() + shard.pinned.size();
  }
  return total;
}

}  // namespace learnkv
