// A merging iterator: one sorted view over several iterators of internal keys (memtables,
// level-0 tables, per-level iterators), as LevelDB's table/merger.h. Where children hold the
// same key, the earlier child comes first. It moves in both directions, including SeekForPrev.
//
// Thread safety: as every Iterator, one thread at a time.
#ifndef LEARNKV_ENGINE_MERGING_ITERATOR_H_
#define LEARNKV_ENGINE_MERGING_ITERATOR_H_

#include <memory>
#include <vector>

#include "learnkv/iterator.h"

namespace learnkv {

// Takes ownership of the children, which yield internal keys (sstable/internal_key.h).
std::unique_ptr<Iterator> NewMergingIterator(std::vector<std::unique_ptr<Iterator>> children);

}  // namespace learnkv

#endif  // LEARNKV_ENGINE_MERGING_ITERATOR_H_
