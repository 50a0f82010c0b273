// WriteBatch: a group of updates (puts and deletes) applied to the DB atomically, in order.
// A batch is also the unit the write-ahead log records, so its byte layout (Data()) is
// persistent; engine/write_batch.cc draws it.
//
// Thread safety: const methods may be called concurrently; anything that changes the batch
// needs external synchronization.
#ifndef LEARNKV_INCLUDE_WRITE_BATCH_H_
#define LEARNKV_INCLUDE_WRITE_BATCH_H_

#include <cstddef>
#include <cstdint>
#include <string>

#include "learnkv/slice.h"
#include "learnkv/status.h"

namespace learnkv {

class WriteBatch {
 public:
  // Receives a batch's updates, in order, from Iterate().
  class Handler {
   public:
    virtual ~Handler() = default;
    virtual void Put(const Slice& key, const Slice& value) = 0;
    virtual void Delete(const Slice& key) = 0;
  };

  WriteBatch();
  WriteBatch(const WriteBatch&) = default;
  WriteBatch& operator=(const WriteBatch&) = default;
  WriteBatch(WriteBatch&&) = default;
  WriteBatch& operator=(WriteBatch&&) = default;
  ~WriteBatch() = default;

  // Stores key -> value. InvalidArgument (and the batch unchanged) if the value is 4 GiB or
  // longer or the key longer than 4 GiB - 9 bytes, which the record formats cannot express.
  Status Put(const Slice& key, const Slice& value);
  // Erases key if present. InvalidArgument as for Put.
  Status Delete(const Slice& key);

  // Removes every update.
  void Clear();

  // The number of updates.
  uint32_t Count() const;

  // Bytes the batch occupies; its WAL record is about this size.
  size_t ApproximateSize() const { return rep_.size(); }

  // Appends other's updates after this batch's.
  void Append(const WriteBatch& other);

  // Calls handler for each update, in order. Corruption if the contents are malformed (for
  // example a batch rebuilt from a damaged log record); updates before the damage have then
  // been delivered already.
  Status Iterate(Handler* handler) const;

  // The serialized batch, for logging and tools. Valid until the batch is next changed.
  const std::string& Data() const { return rep_; }

 private:
  friend class WriteBatchInternal;

  // See engine/write_batch.cc for the layout.
  std::string rep_;
};

}  // namespace learnkv

#endif  // LEARNKV_INCLUDE_WRITE_BATCH_H_
