#include "server/keyspace.h"

#include <chrono>
#include <memory>

#include "learnkv/iterator.h"

namespace learnkv {
namespace server {

namespace {

constexpr uint8_t kTypeString = 0;
constexpr uint8_t kHasExpiry = 0x10;
constexpr uint8_t kKnownFlags = 0x1F;

void PutBigEndian64(std::string* dst, uint64_t v) {
  char buf[8];
  for (int i = 7; i >= 0; --i) {
    buf[i] = static_cast<char>(v & 0xFF);
    v >>= 8;
  }
  dst->append(buf, 8);
}

uint64_t GetBigEndian64(const char* p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | static_cast<uint8_t>(p[i]);
  return v;
}

}  // namespace

std::string EncodeUserKey(std::string_view key) {
  if (key.empty() || static_cast<uint8_t>(key[0]) != 0xFF) return std::string(key);
  std::string out("\xff\x00", 2);
  out.append(key);
  return out;
}

bool DecodeUserKey(std::string_view stored, std::string* key) {
  if (stored.empty() || static_cast<uint8_t>(stored[0]) != 0xFF) {
    key->assign(stored);
    return true;
  }
  if (stored.size() >= 2 && stored[1] == '\0') {
    key->assign(stored.substr(2));
    return true;
  }
  return false;
}

std::string EncodeValue(std::string_view payload, int64_t expire_ms) {
  std::string out;
  out.reserve(payload.size() + 9);
  if (expire_ms != 0) {
    out.push_back(static_cast<char>(kTypeString | kHasExpiry));
    PutBigEndian64(&out, static_cast<uint64_t>(expire_ms));
  } else {
    out.push_back(static_cast<char>(kTypeString));
  }
  out.append(payload);
  return out;
}

bool PeekExpiry(std::string_view stored, int64_t* expire_ms) {
  if (stored.empty()) return false;
  const uint8_t flags = static_cast<uint8_t>(stored[0]);
  if ((flags & ~kKnownFlags) != 0 || (flags & 0x0F) != kTypeString) return false;
  if ((flags & kHasExpiry) == 0) {
    *expire_ms = 0;
    return true;
  }
  if (stored.size() < 9) return false;
  *expire_ms = static_cast<int64_t>(GetBigEndian64(stored.data() + 1));
  return true;
}

bool ViewValue(std::string_view stored, std::string_view* payload, int64_t* expire_ms) {
  if (!PeekExpiry(stored, expire_ms)) return false;
  *payload = stored.substr(*expire_ms != 0 ? 9 : 1);
  return true;
}

Status DecodeValue(std::string_view stored, Entry* entry) {
  if (!PeekExpiry(stored, &entry->expire_ms)) return Status::Corruption("malformed value");
  const size_t header = entry->expire_ms != 0 ? 9 : 1;
  entry->value.assign(stored.substr(header));
  return Status::OK();
}

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// ---- ReadView ----

Status ReadView::Decode(std::string_view key, const std::string& stored, Entry* entry) {
  Status s = DecodeValue(stored, entry);
  if (!s.ok()) return s;
  if (Expired(entry->expire_ms)) {
    expired_.emplace_back(key);
    return Status::NotFound("expired");
  }
  return Status::OK();
}

Status ReadView::Get(std::string_view key, Entry* entry) {
  std::string stored;
  Status s = db_->Get(ReadOptions(), EncodeUserKey(key), &stored);
  if (!s.ok()) return s;
  return Decode(key, stored, entry);
}

void ReadView::MultiGetStored(const std::vector<std::string_view>& keys,
                              std::vector<std::string>* stored, std::vector<Status>* statuses) {
  // Only keys starting with 0xFF need an encoded copy; the others are stored as they are.
  escaped_.clear();
  slices_.clear();
  for (std::string_view k : keys) {
    if (!k.empty() && static_cast<uint8_t>(k[0]) == 0xFF) {
      escaped_.reserve(keys.size());  // no reallocation: slices point into it
      escaped_.push_back(EncodeUserKey(k));
      slices_.emplace_back(escaped_.back());
    } else {
      slices_.emplace_back(k);
    }
  }
  db_->MultiGet(ReadOptions(), slices_, stored, statuses);
  for (size_t i = 0; i < keys.size(); ++i) {
    if (!(*statuses)[i].ok()) continue;
    int64_t expire_ms = 0;
    if (!PeekExpiry((*stored)[i], &expire_ms)) {
      (*statuses)[i] = Status::Corruption("malformed value");
    } else if (Expired(expire_ms)) {
      expired_.emplace_back(keys[i]);
      (*statuses)[i] = Status::NotFound("expired");
    }
  }
}

void ReadView::MultiGet(const std::vector<std::string_view>& keys, std::vector<Entry>* entries,
                        std::vector<Status>* statuses) {
  std::vector<std::string> values;
  MultiGetStored(keys, &values, statuses);
  entries->assign(keys.size(), Entry());
  for (size_t i = 0; i < keys.size(); ++i) {
    if ((*statuses)[i].ok()) (*statuses)[i] = DecodeValue(values[i], &(*entries)[i]);
  }
}

Status ReadView::Put(std::string_view, const Entry&) {
  return Status::NotSupported("write through a read view");
}

Status ReadView::Delete(std::string_view) {
  return Status::NotSupported("write through a read view");
}

Status ReadView::DeleteAllUserKeys() { return Status::NotSupported("write through a read view"); }

// ---- WriteView ----

void WriteView::AppendStoredKey(std::string_view key) {
  if (!key.empty() && static_cast<uint8_t>(key[0]) == 0xFF) log_.append("\xff\x00", 2);
  log_.append(key);
}

void WriteView::IndexUpdates() {
  for (; indexed_ < updates_.size(); ++indexed_) {
    const std::string_view key = updates_[indexed_].key(log_);
    auto it = index_.find(key);
    if (it != index_.end()) {
      it->second = indexed_;
    } else {
      index_.emplace(std::string(key), indexed_);
    }
  }
}

const WriteView::Update* WriteView::FindUpdate(std::string_view stored_key) {
  if (updates_.empty()) return nullptr;
  IndexUpdates();
  auto it = index_.find(stored_key);
  return it == index_.end() ? nullptr : &updates_[it->second];
}

Status WriteView::Get(std::string_view key, Entry* entry) {
  std::string_view stored_key = key;
  if (!key.empty() && static_cast<uint8_t>(key[0]) == 0xFF) {
    scratch_ = EncodeUserKey(key);
    stored_key = scratch_;
  }
  Status s;
  if (const Update* u = FindUpdate(stored_key)) {
    if (u->deleted) return Status::NotFound(Slice());
    s = DecodeValue(u->value(log_), entry);
  } else {
    std::string stored;
    s = db_->Get(ReadOptions(), Slice(stored_key.data(), stored_key.size()), &stored);
    if (s.ok()) s = DecodeValue(stored, entry);
  }
  if (s.ok() && Expired(entry->expire_ms)) {
    Status ds = Delete(key);
    if (!ds.ok()) return ds;
    return Status::NotFound("expired");
  }
  return s;
}

void WriteView::MultiGet(const std::vector<std::string_view>& keys, std::vector<Entry>* entries,
                         std::vector<Status>* statuses) {
  entries->assign(keys.size(), Entry());
  statuses->assign(keys.size(), Status());
  for (size_t i = 0; i < keys.size(); ++i) (*statuses)[i] = Get(keys[i], &(*entries)[i]);
}

Status WriteView::Put(std::string_view key, const Entry& entry) {
  const size_t key_offset = log_.size();
  AppendStoredKey(key);
  const size_t value_offset = log_.size();
  if (entry.expire_ms != 0) {
    log_.push_back(static_cast<char>(kTypeString | kHasExpiry));
    PutBigEndian64(&log_, static_cast<uint64_t>(entry.expire_ms));
  } else {
    log_.push_back(static_cast<char>(kTypeString));
  }
  log_.append(entry.value);
  const size_t key_size = value_offset - key_offset;
  const size_t value_size = log_.size() - value_offset;
  Status s = batch_.Put(Slice(log_.data() + key_offset, key_size),
                        Slice(log_.data() + value_offset, value_size));
  if (!s.ok()) {
    log_.resize(key_offset);
    return s;
  }
  updates_.push_back(
      {key_offset, static_cast<uint32_t>(key_size), static_cast<uint32_t>(value_size), false});
  return s;
}

Status WriteView::Delete(std::string_view key) {
  const size_t key_offset = log_.size();
  AppendStoredKey(key);
  const size_t key_size = log_.size() - key_offset;
  Status s = batch_.Delete(Slice(log_.data() + key_offset, key_size));
  if (!s.ok()) {
    log_.resize(key_offset);
    return s;
  }
  updates_.push_back({key_offset, static_cast<uint32_t>(key_size), 0, true});
  return s;
}

Status WriteView::Commit() {
  Status s;
  if (batch_.Count() > 0) s = db_->Write(options_, &batch_);
  batch_.Clear();
  log_.clear();
  updates_.clear();
  indexed_ = 0;
  index_.clear();
  return s;
}

Status WriteView::DeleteAllUserKeys() {
  // Keys the batch itself added are deleted too (its latest update of each key is a put).
  IndexUpdates();
  for (const auto& [stored_key, pos] : index_) {
    if (!updates_[pos].deleted) batch_.Delete(stored_key);
  }
  Status s = Commit();
  if (!s.ok()) return s;
  std::unique_ptr<Iterator> it = db_->NewIterator(ReadOptions());
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    if (it->key().starts_with(Slice(kMetaPrefix))) break;  // metadata sorts last
    batch_.Delete(it->key());
    if (batch_.ApproximateSize() >= (4u << 20)) {
      s = Commit();
      if (!s.ok()) return s;
    }
  }
  if (!it->status().ok()) return it->status();
  return Commit();
}

}  // namespace server
}  // namespace learnkv
