// TableIterator: the Iterator of a TableReader. Because every block holds exactly R records,
// a position is just a record ordinal; moving across a block boundary loads the neighbouring
// block by number, with no index iterator alongside. The current block stays pinned (cache
// pin or private copy) so key() and value() point into it.
#include <cassert>

#include "sstable/table_reader.h"

namespace learnkv {

class TableIterator final : public Iterator {
 public:
  TableIterator(const TableReader* table, const TableReadOptions& read)
      : table_(table), n_(table->num_entries_), pos_(n_), ref_(read) {}

  bool Valid() const override { return pos_ < n_; }

  void SeekToFirst() override {
    status_ = Status::OK();
    SetPosition(0);
  }

  void SeekToLast() override {
    status_ = Status::OK();
    SetPosition(n_ == 0 ? n_ : n_ - 1);
  }

  void Seek(const Slice& target) override {
    status_ = Status::OK();
    uint64_t pos, region_end;
    Status s = table_->Locate(LookupTarget::FromInternalKey(target), nullptr,
                              TableReader::kUnknownBlock, &ref_, &pos, &region_end);
    if (!s.ok()) return Fail(s);
    SetPosition(pos);
  }

  void SeekForPrev(const Slice& target) override {
    Seek(target);
    if (!status_.ok()) return;
    const LookupTarget t = LookupTarget::FromInternalKey(target);
    if (!Valid()) {
      SeekToLast();
      return;
    }
    // Past equal keys (a file never holds duplicate internal keys, but stay exact), then back.
    while (Valid() && CompareToTarget(key_, t) == 0) Next();
    if (!status_.ok()) return;
    if (!Valid()) {
      SeekToLast();
    } else {
      Prev();
    }
  }

  void Next() override {
    assert(Valid());
    SetPosition(pos_ + 1);
  }

  void Prev() override {
    assert(Valid());
    if (pos_ == 0) {
      pos_ = n_;
      ref_.Reset();
      return;
    }
    SetPosition(pos_ - 1);
  }

  Slice key() const override {
    assert(Valid());
    return key_;
  }
  Slice value() const override {
    assert(Valid());
    return value_;
  }
  Status status() const override { return status_; }

 private:
  void Fail(const Status& s) {
    status_ = s;
    pos_ = n_;
    ref_.Reset();
  }

  void SetPosition(uint64_t pos) {
    pos_ = pos;
    if (pos_ >= n_) {
      pos_ = n_;
      ref_.Reset();
      return;
    }
    const uint64_t b = pos_ / table_->records_per_block_;
    Status s = table_->LoadBlock(b, &ref_);
    if (!s.ok()) return Fail(s);
    ref_.block->RecordAt(static_cast<uint32_t>(pos_ - b * table_->records_per_block_), &key_,
                         &value_);
  }

  const TableReader* const table_;
  const uint64_t n_;
  uint64_t pos_;  // n_ when not valid
  TableReader::BlockRef ref_;
  Slice key_, value_;
  Status status_;
};

std::unique_ptr<Iterator> TableReader::NewIterator(const TableReadOptions& read) const {
  return std::make_unique<TableIterator>(this, read);
}

}  // namespace learnkv
