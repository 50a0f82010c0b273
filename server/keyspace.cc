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
  std::vector<std::string> escaped;
  std::vector<Slice> slices;
  slices.reserve(keys.size());
  for (std::string_view k : keys) {
    if (!k.empty() && static_cast<uint8_t>(k[0]) == 0xFF) {
      escaped.reserve(keys.size());  // no reallocation: slices point into it
      escaped.push_back(EncodeUserKey(k));
      slices.emplace_back(escaped.back());
    } else {
      slices.emplace_back(k);
    }
  }
  db_->MultiGet(ReadOptions(), slices, stored, statuses);
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

Status WriteView::Get(std::string_view key, Entry* entry) {
  std::string stored_key = EncodeUserKey(key);
  auto it = overlay_.find(stored_key);
  Status s;
  if (it != overlay_.end()) {
    if (!it->second.has_value()) return Status::NotFound(Slice());
    s = DecodeValue(*it->second, entry);
  } else {
    std::string stored;
    s = db_->Get(ReadOptions(), stored_key, &stored);
    if (s.ok()) s = DecodeValue(stored, entry);
  }
  if (s.ok() && Expired(entry->expire_ms)) {
    batch_.Delete(stored_key);
    overlay_[std::move(stored_key)] = std::nullopt;
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
  std::string stored_key = EncodeUserKey(key);
  std::string stored = EncodeValue(entry.value, entry.expire_ms);
  Status s = batch_.Put(stored_key, stored);
  if (s.ok()) overlay_[std::move(stored_key)] = std::move(stored);
  return s;
}

Status WriteView::Delete(std::string_view key) {
  std::string stored_key = EncodeUserKey(key);
  Status s = batch_.Delete(stored_key);
  if (s.ok()) overlay_[std::move(stored_key)] = std::nullopt;
  return s;
}

Status WriteView::Commit() {
  Status s;
  if (batch_.Count() > 0) s = db_->Write(options_, &batch_);
  batch_.Clear();
  overlay_.clear();
  return s;
}

Status WriteView::DeleteAllUserKeys() {
  // Keys the batch itself added are deleted too (the overlay's puts).
  for (auto& [stored_key, value] : overlay_) {
    if (value.has_value()) batch_.Delete(stored_key);
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
