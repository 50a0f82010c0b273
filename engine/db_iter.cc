#include "engine/db_iter.h"

#include <string>
#include <utility>

namespace learnkv {

namespace {

// Moving forward, the internal iterator sits on the entry that is the current user entry.
// Moving backward, it sits just before all entries of the current user key, whose key and
// value are then copied into saved_key_ / saved_value_ (the entry itself is behind us).
class DBIter final : public Iterator {
 public:
  DBIter(std::unique_ptr<Iterator> iter, SequenceNumber sequence)
      : iter_(std::move(iter)), sequence_(sequence) {}

  bool Valid() const override { return valid_; }

  Slice key() const override {
    return direction_ == kForward ? ExtractUserKey(iter_->key()) : Slice(saved_key_);
  }
  Slice value() const override {
    return direction_ == kForward ? iter_->value() : Slice(saved_value_);
  }
  Status status() const override { return status_.ok() ? iter_->status() : status_; }

  void SeekToFirst() override {
    direction_ = kForward;
    saved_value_.clear();
    iter_->SeekToFirst();
    FindNextUserEntry(false);
  }

  void SeekToLast() override {
    direction_ = kReverse;
    saved_value_.clear();
    iter_->SeekToLast();
    FindPrevUserEntry();
  }

  void Seek(const Slice& target) override {
    direction_ = kForward;
    saved_value_.clear();
    saved_key_.clear();
    // The first entry of target visible at our sequence.
    AppendInternalKey(&saved_key_, target, sequence_, kValueTypeForSeek);
    iter_->Seek(saved_key_);
    FindNextUserEntry(false);
  }

  void SeekForPrev(const Slice& target) override {
    direction_ = kReverse;
    saved_value_.clear();
    saved_key_.clear();
    // The last entry of target (sequence 0 and type 0 sort last for a user key).
    AppendInternalKey(&saved_key_, target, 0, static_cast<ValueType>(0));
    iter_->SeekForPrev(saved_key_);
    FindPrevUserEntry();
  }

  void Next() override {
    if (direction_ == kReverse) {
      // iter_ is just before the current key's entries: step into them, then past them.
      direction_ = kForward;
      if (iter_->Valid()) {
        iter_->Next();
      } else {
        iter_->SeekToFirst();
      }
      // saved_key_ holds the current user key, which FindNextUserEntry skips.
    } else {
      saved_key_.assign(ExtractUserKey(iter_->key()).data(), ExtractUserKey(iter_->key()).size());
      iter_->Next();
    }
    FindNextUserEntry(true);
  }

  void Prev() override {
    if (direction_ == kForward) {
      // iter_ is on the current entry: back up to the last entry of an earlier user key.
      saved_key_.assign(ExtractUserKey(iter_->key()).data(), ExtractUserKey(iter_->key()).size());
      while (true) {
        iter_->Prev();
        if (!iter_->Valid()) {
          valid_ = false;
          saved_key_.clear();
          saved_value_.clear();
          return;
        }
        if (ExtractUserKey(iter_->key()).compare(Slice(saved_key_)) < 0) break;
      }
      direction_ = kReverse;
    }
    FindPrevUserEntry();
  }

 private:
  enum Direction { kForward, kReverse };

  bool ParseKey(ParsedInternalKey* ikey) {
    if (ParseInternalKey(iter_->key(), ikey)) return true;
    status_ = Status::Corruption("DB iterator", "internal key without a trailer");
    return false;
  }

  // Moves forward to the first visible, undeleted entry; with skipping, entries of user keys
  // <= saved_key_ are passed over (the key just left, or a deleted one).
  void FindNextUserEntry(bool skipping) {
    for (; iter_->Valid(); iter_->Next()) {
      ParsedInternalKey ikey;
      if (!ParseKey(&ikey)) break;
      if (ikey.sequence > sequence_) continue;  // newer than our view
      if (ikey.type == kTypeDeletion) {
        // Hide this key's older versions.
        saved_key_.assign(ikey.user_key.data(), ikey.user_key.size());
        skipping = true;
      } else if (ikey.type == kTypeValue) {
        if (!skipping || ikey.user_key.compare(Slice(saved_key_)) > 0) {
          valid_ = true;
          saved_key_.clear();
          return;
        }
      }
    }
    saved_key_.clear();
    valid_ = false;
  }

  // Moves backward over the entries of one user key (oldest to newest), remembering the newest
  // visible one; stops on reaching an earlier user key after a visible value was found.
  void FindPrevUserEntry() {
    ValueType found = kTypeDeletion;
    for (; iter_->Valid(); iter_->Prev()) {
      ParsedInternalKey ikey;
      if (!ParseKey(&ikey)) break;
      if (ikey.sequence > sequence_) continue;
      if (found != kTypeDeletion && ikey.user_key.compare(Slice(saved_key_)) < 0) {
        break;  // the entry for saved_key_ is complete
      }
      found = ikey.type;
      if (found == kTypeDeletion) {
        saved_key_.clear();
        saved_value_.clear();
      } else {
        saved_key_.assign(ikey.user_key.data(), ikey.user_key.size());
        const Slice v = iter_->value();
        saved_value_.assign(v.data(), v.size());
      }
    }
    if (found == kTypeDeletion || !status_.ok()) {
      valid_ = false;
      saved_key_.clear();
      saved_value_.clear();
      direction_ = kForward;
    } else {
      valid_ = true;
    }
  }

  std::unique_ptr<Iterator> iter_;
  const SequenceNumber sequence_;
  Status status_;
  std::string saved_key_;    // see the class comment; scratch while moving forward
  std::string saved_value_;  // the current value while moving backward
  Direction direction_ = kForward;
  bool valid_ = false;
};

}  // namespace

std::unique_ptr<Iterator> NewDBIterator(std::unique_ptr<Iterator> internal,
                                        SequenceNumber sequence) {
  return std::make_unique<DBIter>(std::move(internal), sequence);
}

}  // namespace learnkv
