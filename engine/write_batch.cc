// WriteBatch layout (persistent: it is the payload of every WAL record):
//
//   +-----------------+---------------+-----------+-----+-----------+
//   | sequence fixed64| count fixed32 | record 1  | ... | record N  |
//   +-----------------+---------------+-----------+-----+-----------+
//   record := kTypeValue    varint32 klen  key  varint32 vlen  value
//           | kTypeDeletion varint32 klen  key
//
// The type byte reuses ValueType (sstable/internal_key.h), so a record's tag is the type its
// memtable entry gets. The sequence number is zero until the write path assigns one.

#include "learnkv/write_batch.h"

#include <cstdint>
#include <limits>

#include "engine/memtable.h"
#include "engine/write_batch_internal.h"
#include "sstable/internal_key.h"
#include "util/coding.h"

namespace learnkv {

namespace {

// Lengths are stored as varint32, and a key grows by its 8-byte trailer in the memtable.
bool ValueFits(const Slice& value) { return value.size() <= std::numeric_limits<uint32_t>::max(); }
bool KeyFits(const Slice& key) {
  return key.size() <= std::numeric_limits<uint32_t>::max() - kInternalKeyTrailerSize;
}

}  // namespace

WriteBatch::WriteBatch() { Clear(); }

Status WriteBatch::Put(const Slice& key, const Slice& value) {
  if (!KeyFits(key) || !ValueFits(value)) {
    return Status::InvalidArgument("WriteBatch::Put: key or value of 4 GiB or more");
  }
  WriteBatchInternal::SetCount(this, Count() + 1);
  rep_.push_back(static_cast<char>(kTypeValue));
  PutLengthPrefixedSlice(&rep_, key);
  PutLengthPrefixedSlice(&rep_, value);
  return Status::OK();
}

Status WriteBatch::Delete(const Slice& key) {
  if (!KeyFits(key)) {
    return Status::InvalidArgument("WriteBatch::Delete: key of 4 GiB or more");
  }
  WriteBatchInternal::SetCount(this, Count() + 1);
  rep_.push_back(static_cast<char>(kTypeDeletion));
  PutLengthPrefixedSlice(&rep_, key);
  return Status::OK();
}

void WriteBatch::Clear() {
  rep_.clear();
  rep_.resize(WriteBatchInternal::kHeaderSize);
}

uint32_t WriteBatch::Count() const { return WriteBatchInternal::Count(*this); }

void WriteBatch::Append(const WriteBatch& other) {
  WriteBatchInternal::SetCount(this, Count() + other.Count());
  // Copy through a Slice first: other may be *this, and append would read what it grows.
  const Slice records(other.rep_.data() + WriteBatchInternal::kHeaderSize,
                      other.rep_.size() - WriteBatchInternal::kHeaderSize);
  if (&other == this) {
    const std::string copy = records.ToString();
    rep_.append(copy);
  } else {
    rep_.append(records.data(), records.size());
  }
}

Status WriteBatch::Iterate(Handler* handler) const {
  if (rep_.size() < WriteBatchInternal::kHeaderSize) {
    return Status::Corruption("WriteBatch: shorter than its header");
  }
  Slice input(rep_);
  input.remove_prefix(WriteBatchInternal::kHeaderSize);
  uint32_t found = 0;
  while (!input.empty()) {
    const uint64_t offset = rep_.size() - input.size();
    const char tag = input[0];
    input.remove_prefix(1);
    Slice key;
    Slice value;
    switch (static_cast<uint8_t>(tag)) {
      case kTypeValue:
        if (!GetLengthPrefixedSlice(&input, &key) || !GetLengthPrefixedSlice(&input, &value)) {
          return Status::Corruption("WriteBatch: truncated Put at offset " +
                                    std::to_string(offset));
        }
        handler->Put(key, value);
        break;
      case kTypeDeletion:
        if (!GetLengthPrefixedSlice(&input, &key)) {
          return Status::Corruption("WriteBatch: truncated Delete at offset " +
                                    std::to_string(offset));
        }
        handler->Delete(key);
        break;
      default:
        return Status::Corruption("WriteBatch: unknown record type " +
                                  std::to_string(static_cast<uint8_t>(tag)) + " at offset " +
                                  std::to_string(offset));
    }
    ++found;
  }
  if (found != Count()) {
    return Status::Corruption("WriteBatch: header says " + std::to_string(Count()) +
                              " records, found " + std::to_string(found));
  }
  return Status::OK();
}

uint32_t WriteBatchInternal::Count(const WriteBatch& batch) {
  return DecodeFixed32(batch.rep_.data() + 8);
}

void WriteBatchInternal::SetCount(WriteBatch* batch, uint32_t n) {
  EncodeFixed32(batch->rep_.data() + 8, n);
}

SequenceNumber WriteBatchInternal::Sequence(const WriteBatch& batch) {
  return DecodeFixed64(batch.rep_.data());
}

void WriteBatchInternal::SetSequence(WriteBatch* batch, SequenceNumber seq) {
  EncodeFixed64(batch->rep_.data(), seq);
}

Status WriteBatchInternal::SetContents(WriteBatch* batch, const Slice& contents) {
  if (contents.size() < kHeaderSize) {
    return Status::Corruption("WriteBatch: record of " + std::to_string(contents.size()) +
                              " bytes is shorter than the batch header");
  }
  batch->rep_.assign(contents.data(), contents.size());
  return Status::OK();
}

namespace {

// Numbers the updates consecutively as it adds them.
class MemTableInserter final : public WriteBatch::Handler {
 public:
  MemTableInserter(SequenceNumber first, MemTable* mem) : sequence_(first), mem_(mem) {}

  void Put(const Slice& key, const Slice& value) override {
    mem_->Add(sequence_++, kTypeValue, key, value);
  }
  void Delete(const Slice& key) override { mem_->Add(sequence_++, kTypeDeletion, key, Slice()); }

 private:
  SequenceNumber sequence_;
  MemTable* mem_;
};

}  // namespace

Status WriteBatchInternal::InsertInto(const WriteBatch& batch, MemTable* mem) {
  MemTableInserter inserter(Sequence(batch), mem);
  return batch.Iterate(&inserter);
}

}  // namespace learnkv
