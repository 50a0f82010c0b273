#include "server/scan_cursor.h"

#include <memory>

#include "learnkv/iterator.h"
#include "server/keyspace.h"
#include "util/checksum.h"

namespace learnkv {
namespace server {

namespace {

const std::string& CursorPrefix() {
  static const std::string prefix = std::string(kMetaPrefix) + "scan:";
  return prefix;
}

std::string CursorKey(uint64_t cursor) {
  std::string key = CursorPrefix();
  for (int shift = 56; shift >= 0; shift -= 8) key.push_back(static_cast<char>(cursor >> shift));
  return key;
}

uint64_t Big64(const char* p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | static_cast<uint8_t>(p[i]);
  return v;
}

constexpr uint64_t kCursorMask = (1ull << 62) - 1;
constexpr int kMaxProbes = 64;

}  // namespace

Status ScanCursors::Save(std::string_view stored_key, uint64_t* cursor) {
  MutexLock l(&mu_);
  uint64_t id = Hash64(stored_key.data(), stored_key.size(), 0x5ca7) & kCursorMask;
  for (int probe = 0; probe < kMaxProbes; ++probe, id = (id + 1) & kCursorMask) {
    if (id == 0) continue;
    std::string existing;
    Status s = db_->Get(ReadOptions(), CursorKey(id), &existing);
    if (s.ok() && existing.size() >= 8 && std::string_view(existing).substr(8) == stored_key) {
      *cursor = id;  // the same key: reuse
      return Status::OK();
    }
    if (s.ok()) continue;  // taken by another key
    if (!s.IsNotFound()) return s;
    std::string value;
    const uint64_t now = static_cast<uint64_t>(NowMs());
    for (int shift = 56; shift >= 0; shift -= 8) value.push_back(static_cast<char>(now >> shift));
    value.append(stored_key);
    WriteOptions options;
    options.sync = sync_;
    s = db_->Put(options, CursorKey(id), value);
    if (s.ok()) *cursor = id;
    return s;
  }
  return Status::Busy("no free scan cursor slot");
}

Status ScanCursors::Load(uint64_t cursor, std::string* stored_key) {
  std::string value;
  Status s = db_->Get(ReadOptions(), CursorKey(cursor), &value);
  if (!s.ok()) return s;
  if (value.size() < 8) return Status::Corruption("scan cursor entry");
  stored_key->assign(value, 8, std::string::npos);
  return Status::OK();
}

Status ScanCursors::Sweep(int64_t max_age_ms) {
  const int64_t cutoff = NowMs() - max_age_ms;
  std::unique_ptr<Iterator> it = db_->NewIterator(ReadOptions());
  WriteBatch batch;
  for (it->Seek(CursorPrefix()); it->Valid() && it->key().starts_with(CursorPrefix()); it->Next()) {
    const Slice v = it->value();
    if (v.size() < 8 || static_cast<int64_t>(Big64(v.data())) < cutoff) batch.Delete(it->key());
  }
  if (!it->status().ok()) return it->status();
  if (batch.Count() == 0) return Status::OK();
  return db_->Write(WriteOptions(), &batch);
}

}  // namespace server
}  // namespace learnkv
