#include "engine/merging_iterator.h"

#include <utility>

#include "sstable/internal_key.h"

namespace learnkv {

namespace {

// Picks the smallest (forward) or largest (reverse) child by a linear scan: a DB has a few
// dozen children at most, and a scan has no heap to repair when the direction changes.
class MergingIterator final : public Iterator {
 public:
  explicit MergingIterator(std::vector<std::unique_ptr<Iterator>> children)
      : children_(std::move(children)) {}

  bool Valid() const override { return current_ != nullptr; }

  void SeekToFirst() override {
    for (auto& c : children_) c->SeekToFirst();
    FindSmallest();
    direction_ = kForward;
  }

  void SeekToLast() override {
    for (auto& c : children_) c->SeekToLast();
    FindLargest();
    direction_ = kReverse;
  }

  void Seek(const Slice& target) override {
    for (auto& c : children_) c->Seek(target);
    FindSmallest();
    direction_ = kForward;
  }

  void SeekForPrev(const Slice& target) override {
    for (auto& c : children_) c->SeekForPrev(target);
    FindLargest();
    direction_ = kReverse;
  }

  void Next() override {
    if (direction_ != kForward) {
      // The other children sit before key(); move each to its first entry after it. Internal
      // keys are unique across children, so "after" is "at or after".
      const std::string k = key().ToString();
      for (auto& c : children_) {
        if (c.get() == current_) continue;
        c->Seek(k);
        if (c->Valid() && CompareInternalKeys(c->key(), k) == 0) c->Next();
      }
      direction_ = kForward;
    }
    current_->Next();
    FindSmallest();
  }

  void Prev() override {
    if (direction_ != kReverse) {
      const std::string k = key().ToString();
      for (auto& c : children_) {
        if (c.get() == current_) continue;
        c->SeekForPrev(k);
        if (c->Valid() && CompareInternalKeys(c->key(), k) == 0) c->Prev();
      }
      direction_ = kReverse;
    }
    current_->Prev();
    FindLargest();
  }

  Slice key() const override { return current_->key(); }
  Slice value() const override { return current_->value(); }

  Status status() const override {
    for (const auto& c : children_) {
      Status s = c->status();
      if (!s.ok()) return s;
    }
    return Status::OK();
  }

 private:
  enum Direction { kForward, kReverse };

  void FindSmallest() {
    Iterator* smallest = nullptr;
    for (auto& c : children_) {
      if (c->Valid() &&
          (smallest == nullptr || CompareInternalKeys(c->key(), smallest->key()) < 0)) {
        smallest = c.get();
      }
    }
    current_ = smallest;
  }

  void FindLargest() {
    Iterator* largest = nullptr;
    // Scanning backwards keeps the earlier child on ties, mirroring FindSmallest.
    for (auto it = children_.rbegin(); it != children_.rend(); ++it) {
      Iterator* c = it->get();
      if (c->Valid() && (largest == nullptr || CompareInternalKeys(c->key(), largest->key()) > 0)) {
        largest = c;
      }
    }
    current_ = largest;
  }

  std::vector<std::unique_ptr<Iterator>> children_;
  Iterator* current_ = nullptr;
  Direction direction_ = kForward;
};

}  // namespace

std::unique_ptr<Iterator> NewMergingIterator(std::vector<std::unique_ptr<Iterator>> children) {
  if (children.size() == 1) return std::move(children[0]);
  if (children.empty()) return std::unique_ptr<Iterator>(NewEmptyIterator());
  return std::make_unique<MergingIterator>(std::move(children));
}

}  // namespace learnkv
