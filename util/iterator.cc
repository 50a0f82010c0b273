#include "learnkv/iterator.h"

#include <utility>

namespace learnkv {

Iterator::~Iterator() {
  if (cleanup_) cleanup_();
}

void Iterator::RegisterCleanup(std::function<void()> fn) {
  if (!cleanup_) {
    cleanup_ = std::move(fn);
    return;
  }
  // Later registrations run first, as a stack of releases.
  cleanup_ = [first = std::move(cleanup_), second = std::move(fn)]() {
    second();
    first();
  };
}

namespace {

class EmptyIterator final : public Iterator {
 public:
  explicit EmptyIterator(const Status& s) : status_(s) {}
  bool Valid() const override { return false; }
  void SeekToFirst() override {}
  void SeekToLast() override {}
  void Seek(const Slice&) override {}
  void SeekForPrev(const Slice&) override {}
  void Next() override {}
  void Prev() override {}
  Slice key() const override { return Slice(); }
  Slice value() const override { return Slice(); }
  Status status() const override { return status_; }

 private:
  Status status_;
};

}  // namespace

Iterator* NewEmptyIterator() { return new EmptyIterator(Status::OK()); }
Iterator* NewErrorIterator(const Status& status) { return new EmptyIterator(status); }

}  // namespace learnkv
