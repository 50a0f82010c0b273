// A concatenating iterator over the tables of one level deeper than 0: the files are sorted and
// disjoint, so the level reads as one sequence. Each table is opened (through the table cache)
// only when the iteration reaches it, and released when it moves on.
//
// Thread safety: as every Iterator, one thread at a time.
#ifndef LEARNKV_ENGINE_LEVEL_ITERATOR_H_
#define LEARNKV_ENGINE_LEVEL_ITERATOR_H_

#include <memory>

#include "engine/table_cache.h"
#include "engine/version_set.h"
#include "learnkv/iterator.h"

namespace learnkv {

// files (sorted by key, disjoint) and cache are borrowed: they must outlive the iterator. Each
// table is read with `read`.
std::unique_ptr<Iterator> NewLevelIterator(TableCache* cache, const FileList* files,
                                           const TableReadOptions& read);

}  // namespace learnkv

#endif  // LEARNKV_ENGINE_LEVEL_ITERATOR_H_
