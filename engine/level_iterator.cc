#include "engine/level_iterator.h"

#include <utility>

#include "sstable/internal_key.h"

namespace learnkv {

namespace {

class LevelIterator final : public Iterator {
 public:
  LevelIterator(TableCache* cache, const FileList* files, const TableReadOptions& read)
      : cache_(cache), files_(*files), read_(read) {}

  bool Valid() const override { return data_ != nullptr && data_->Valid(); }

  void SeekToFirst() override {
    OpenFile(0);
    if (data_ != nullptr) data_->SeekToFirst();
    SkipEmptyForward();
  }

  void SeekToLast() override {
    OpenFile(files_.empty() ? kNone : files_.size() - 1);
    if (data_ != nullptr) data_->SeekToLast();
    SkipEmptyBackward();
  }

  void Seek(const Slice& target) override {
    OpenFile(FindFile(files_, target));
    if (data_ != nullptr) data_->Seek(target);
    SkipEmptyForward();
  }

  void SeekForPrev(const Slice& target) override {
    // The last file whose smallest key is <= target.
    size_t lo = 0, hi = files_.size();
    while (lo < hi) {
      const size_t mid = lo + (hi - lo) / 2;
      if (CompareInternalKeys(files_[mid]->smallest, target) <= 0) {
        lo = mid + 1;
      } else {
        hi = mid;
      }
    }
    OpenFile(lo == 0 ? kNone : lo - 1);
    if (data_ != nullptr) data_->SeekForPrev(target);
    SkipEmptyBackward();
  }

  void Next() override {
    data_->Next();
    SkipEmptyForward();
  }

  void Prev() override {
    data_->Prev();
    SkipEmptyBackward();
  }

  Slice key() const override { return data_->key(); }
  Slice value() const override { return data_->value(); }

  Status status() const override {
    if (!status_.ok()) return status_;
    return data_ != nullptr ? data_->status() : Status::OK();
  }

 private:
  static constexpr size_t kNone = ~size_t{0};

  // Positions on file index (kNone or past the end: no file), keeping the first error of the
  // iterator it replaces so that status() still reports it.
  void OpenFile(size_t index) {
    if (index >= files_.size()) index = kNone;
    if (index == index_ && data_ != nullptr) return;
    if (data_ != nullptr) SaveError(data_->status());
    data_.reset();
    index_ = index;
    if (index == kNone) return;
    const FileMetaData& f = *files_[index];
    data_ = cache_->NewIterator(f, read_);
  }

  void SaveError(const Status& s) {
    if (status_.ok() && !s.ok()) status_ = s;
  }

  void SkipEmptyForward() {
    while (data_ != nullptr && !data_->Valid()) {
      if (index_ + 1 >= files_.size() || !data_->status().ok()) {
        SaveError(data_->status());
        data_.reset();
        index_ = kNone;
        return;
      }
      OpenFile(index_ + 1);
      data_->SeekToFirst();
    }
  }

  void SkipEmptyBackward() {
    while (data_ != nullptr && !data_->Valid()) {
      if (index_ == 0 || !data_->status().ok()) {
        SaveError(data_->status());
        data_.reset();
        index_ = kNone;
        return;
      }
      OpenFile(index_ - 1);
      data_->SeekToLast();
    }
  }

  TableCache* const cache_;
  const FileList& files_;
  const TableReadOptions read_;
  size_t index_ = kNone;
  std::unique_ptr<Iterator> data_;
  Status status_;
};

}  // namespace

std::unique_ptr<Iterator> NewLevelIterator(TableCache* cache, const FileList* files,
                                           const TableReadOptions& read) {
  return std::make_unique<LevelIterator>(cache, files, read);
}

}  // namespace learnkv
