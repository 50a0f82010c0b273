// WriteBatchInternal: the engine's access to a WriteBatch's header (sequence number, count)
// and raw contents, which the public class keeps private. Used by the write path (assigning
// sequence numbers, group commit), by recovery (rebuilding batches from WAL records) and to
// apply a batch to a memtable.
//
// Thread safety: as WriteBatch — callers synchronize access to a batch they change.
#ifndef LEARNKV_ENGINE_WRITE_BATCH_INTERNAL_H_
#define LEARNKV_ENGINE_WRITE_BATCH_INTERNAL_H_

#include <cstddef>
#include <cstdint>

#include "learnkv/slice.h"
#include "learnkv/status.h"
#include "learnkv/write_batch.h"
#include "sstable/internal_key.h"

namespace learnkv {

class MemTable;

class WriteBatchInternal {
 public:
  // Header: fixed64 sequence number, fixed32 count.
  static constexpr size_t kHeaderSize = 12;

  static uint32_t Count(const WriteBatch& batch);
  static void SetCount(WriteBatch* batch, uint32_t n);

  // The sequence number of the batch's first update; later updates take the following ones.
  static SequenceNumber Sequence(const WriteBatch& batch);
  static void SetSequence(WriteBatch* batch, SequenceNumber seq);

  static Slice Contents(const WriteBatch& batch) { return Slice(batch.rep_); }
  static size_t ByteSize(const WriteBatch& batch) { return batch.rep_.size(); }

  // Replaces the batch with serialized contents (a WAL record). Corruption if they are too
  // short to hold the header; the records themselves are checked when iterated.
  static Status SetContents(WriteBatch* batch, const Slice& contents);

  // Adds every update to mem, numbered from Sequence(batch). Corruption if the batch is
  // malformed; the updates before the damage have then been added.
  // REQUIRES: the caller is mem's single writer.
  static Status InsertInto(const WriteBatch& batch, MemTable* mem);
};

}  // namespace learnkv

#endif  // LEARNKV_ENGINE_WRITE_BATCH_INTERNAL_H_
