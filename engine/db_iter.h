// The DB's user-facing iterator: turns the merged stream of internal keys (every version of
// every key, newest first per key) into the user's view at one sequence number — the newest
// version of each key visible at that sequence, with deleted keys and shadowed versions
// hidden. Moves both ways; Seek and SeekForPrev take user keys.
//
// Thread safety: as every Iterator, one thread at a time.
#ifndef LEARNKV_ENGINE_DB_ITER_H_
#define LEARNKV_ENGINE_DB_ITER_H_

#include <memory>

#include "learnkv/iterator.h"
#include "sstable/internal_key.h"

namespace learnkv {

// internal: an iterator over internal keys (takes ownership).
std::unique_ptr<Iterator> NewDBIterator(std::unique_ptr<Iterator> internal,
                                        SequenceNumber sequence);

}  // namespace learnkv

#endif  // LEARNKV_ENGINE_DB_ITER_H_
