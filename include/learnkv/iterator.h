// Iterator: the one cursor interface over sorted key/value sequences — data blocks, tables,
// memtables, merged views and the DB itself (as in LevelDB, the read path is built by
// composing iterators).
//
// Thread safety: an Iterator is not thread-safe; use one per thread. Distinct iterators over
// the same source may be used concurrently.
#ifndef LEARNKV_INCLUDE_ITERATOR_H_
#define LEARNKV_INCLUDE_ITERATOR_H_

#include <functional>

#include "learnkv/slice.h"
#include "learnkv/status.h"

namespace learnkv {

class Iterator {
 public:
  Iterator() = default;
  Iterator(const Iterator&) = delete;
  Iterator& operator=(const Iterator&) = delete;
  virtual ~Iterator();

  // True iff positioned at an entry.
  virtual bool Valid() const = 0;
  virtual void SeekToFirst() = 0;
  virtual void SeekToLast() = 0;
  // Positions at the first entry with key >= target.
  virtual void Seek(const Slice& target) = 0;
  // Positions at the last entry with key <= target.
  virtual void SeekForPrev(const Slice& target) = 0;
  // REQUIRES: Valid()
  virtual void Next() = 0;
  // REQUIRES: Valid()
  virtual void Prev() = 0;
  // REQUIRES: Valid(). The bytes stay valid until the iterator is moved.
  virtual Slice key() const = 0;
  virtual Slice value() const = 0;
  // Not ok() if an error (for example Corruption) stopped the iteration.
  virtual Status status() const = 0;

  // Runs fn when the iterator is destroyed (used to release pinned blocks and tables).
  void RegisterCleanup(std::function<void()> fn);

 private:
  std::function<void()> cleanup_;
};

// An iterator over nothing, carrying `status` (OK by default).
Iterator* NewEmptyIterator();
Iterator* NewErrorIterator(const Status& status);

}  // namespace learnkv

#endif  // LEARNKV_INCLUDE_ITERATOR_H_
