// TableReader: an open table file (written by TableBuilder) answering point lookups, batched
// lookups and iteration over its internal keys.
//
// A lookup goes from key to record without a per-block key index. Learned tables map the user
// key to a number (KeyMapper), let the RMI predict its record ordinal with a window [lo, hi)
// that is guaranteed to hold the key's lower bound, and search only the blocks under that
// window, starting at the predicted record's block (block i holds ordinals [iR, (i+1)R); the
// block locator gives its bytes). Tables with the classic index binary-search it for the block
// instead. Both share the data blocks, this interface and every test. Before any of that, a
// table's membership filter (learned or classic; learned/filter_policy.h), loaded at Open,
// lets Get and MultiGet skip keys it rules out without touching the index or a block.
//
// Reading never trusts the file: a truncated, corrupted or foreign file yields
// Status::Corruption naming the file and an offset, never a crash or a read out of bounds.
//
// Thread safety: a TableReader is immutable after Open; Get, MultiGet, NewIterator and the
// accessors may be called concurrently. Each Iterator is single-threaded. Iterators must be
// destroyed before their reader.
#ifndef LEARNKV_SSTABLE_TABLE_READER_H_
#define LEARNKV_SSTABLE_TABLE_READER_H_

#include <cstdint>
#include <memory>
#include <string>

#include "learned/filter_policy.h"
#include "learned/key_mapping.h"
#include "learned/rmi.h"
#include "learnkv/env.h"
#include "learnkv/iterator.h"
#include "learnkv/status.h"
#include "learnkv/table_options.h"
#include "sstable/block.h"
#include "sstable/block_cache.h"
#include "sstable/block_locator.h"
#include "sstable/format.h"
#include "sstable/function_ref.h"
#include "sstable/table_properties.h"

namespace learnkv {

// How one read uses a table, where it may differ from the table's TableOptions (which
// TableReader::DefaultReadOptions returns).
struct TableReadOptions {
  bool verify_checksums = true;
  // Whether the blocks this read loads are added to the block cache. A compaction reads each
  // block of its inputs once; caching them would only push out the blocks lookups use.
  bool fill_cache = true;
};

class TableReader {
 public:
  // Receives one entry of a lookup; returns false to stop. The slices are valid during the
  // call only.
  using EntryCallback = FunctionRef<bool(const Slice& internal_key, const Slice& value)>;
  // The same for MultiGet, with the index of the lookup key the entry answers.
  using MultiEntryCallback =
      FunctionRef<bool(size_t index, const Slice& internal_key, const Slice& value)>;

  // Opens the table in `file` (file_size bytes), reading and validating its footer, metaindex,
  // properties and index. file_name is used in error messages only (e.g. "000012.sst").
  static Status Open(const TableOptions& options, std::string file_name,
                     std::unique_ptr<RandomAccessFile> file, uint64_t file_size,
                     std::unique_ptr<TableReader>* reader);

  TableReader(const TableReader&) = delete;
  TableReader& operator=(const TableReader&) = delete;
  ~TableReader();

  // Point lookup of an internal key (for the engine: LookupKey::internal_key()). Starting at
  // the first entry >= internal_key, calls on_entry for successive entries that have the same
  // user key, until on_entry returns false or such entries run out. Entries of other user keys
  // are never passed, which lets a miss stop inside the model's window without reading past
  // it. Returns OK whether or not anything was found; not OK only for read errors.
  // On a block-cache hit this neither allocates nor copies. use_filter = false skips the
  // filter, for a caller that has asked KeyMayMatch itself.
  Status Get(const Slice& internal_key, EntryCallback on_entry, bool use_filter = true) const;

  // Get for keys[0, n), statuses[i] receiving key i's result. Learned tables first predict all
  // windows in one tight loop over the model (batches of 64), then search; `predicted`, when
  // given, supplies those predictions instead (PredictBounds' output, e.g. computed by an
  // accelerator). Consecutive keys landing in the same block share one block fetch.
  void MultiGet(const Slice* keys, size_t n, MultiEntryCallback on_entry, Status* statuses,
                const ApproxPos* predicted = nullptr) const;

  // The model's prediction for each internal key (learned tables; the whole table as the
  // window otherwise). Pure computation: no I/O.
  void PredictBounds(const Slice* keys, size_t n, ApproxPos* out) const;

  // An iterator over all entries (Seek, SeekForPrev, SeekToFirst/Last, Next, Prev). It pins
  // the block it is positioned on.
  std::unique_ptr<Iterator> NewIterator() const { return NewIterator(DefaultReadOptions()); }
  std::unique_ptr<Iterator> NewIterator(const TableReadOptions& read) const;

  // The table options' verify_checksums and fill_cache, which Get, MultiGet and NewIterator()
  // use.
  TableReadOptions DefaultReadOptions() const {
    return TableReadOptions{options_.verify_checksums, options_.fill_cache};
  }

  // Approximate file offset of the data for internal_key, without reading data blocks: the
  // start of the block holding its (predicted, for learned tables) lower bound, or the end of
  // the data for keys after the last.
  uint64_t ApproximateOffsetOf(const Slice& internal_key) const;

  // False only if the table certainly holds no entry for user_key (its filter rules it out);
  // true when the table has no filter or options.use_filters is off. For the engine, to skip
  // a table before Get; Get and MultiGet also consult the filter themselves.
  bool KeyMayMatch(const Slice& user_key) const {
    return filter_ == nullptr || filter_->KeyMayMatch(user_key);
  }

  // Memory held by the reader (index, model, filter, properties), not counting cached blocks.
  size_t ApproximateMemoryUsage() const;
  // The part of it held by the index: model + locator, or the classic index block.
  size_t IndexMemoryUsage() const;
  // The part of it held by the filter (0 without one), for learnkv.filter-memory.
  size_t FilterMemoryUsage() const { return filter_ == nullptr ? 0 : filter_->MemoryUsage(); }
  // The decoded filter; nullptr when the table has none or filters are not used.
  const Filter* filter() const { return filter_.get(); }

  const TableProperties& properties() const { return props_; }
  // The smallest and largest internal keys (empty when the table has no entries).
  Slice smallest_key() const { return props_.smallest_key; }
  Slice largest_key() const { return props_.largest_key; }
  uint64_t num_entries() const { return num_entries_; }
  IndexType index_type() const { return index_type_; }
  const std::string& file_name() const { return file_name_; }
  // The learned model and key mapping; nullptr for classic-index tables.
  const Rmi* model() const { return model_.get(); }
  const KeyMapper* key_mapper() const { return model_ ? &mapper_ : nullptr; }

 private:
  friend class TableIterator;

  // The data block a lookup or iterator is using: a cache pin, or a private copy when the
  // reader has no cache. Loading the block it already holds is free.
  struct BlockRef {
    explicit BlockRef(const TableReadOptions& r) : read(r) {}
    const TableReadOptions read;  // how LoadBlock fetches blocks into this ref
    uint64_t index = UINT64_MAX;
    const Block* block = nullptr;
    BlockCache::Pin pin;
    Block owned;
    void Reset() {
      index = UINT64_MAX;
      block = nullptr;
      pin.Reset();
      owned = Block();
    }
  };

  TableReader(const TableOptions& options, std::string file_name,
              std::unique_ptr<RandomAccessFile> file);
  // Reads a meta or index block; parses it into *block, or hands back the raw bytes in *raw.
  Status ReadMetaBlock(const BlockHandle& handle, bool internal_keys, Block* block,
                       BlockContents* raw = nullptr);
  Status OpenModel(const BlockHandle& handle);
  Status OpenBlockIndex(const BlockHandle& handle);
  Status OpenFilter(const Block& metaindex, uint64_t metaindex_offset, uint64_t footer_offset);

  uint32_t RecordsInBlock(uint64_t b) const {
    return static_cast<uint32_t>(b + 1 < num_blocks_ ? records_per_block_
                                                     : num_entries_ - b * records_per_block_);
  }
  BlockHandle DataBlockHandle(uint64_t b) const;
  Status LoadBlock(uint64_t b, BlockRef* ref) const;

  static constexpr uint64_t kUnknownBlock = UINT64_MAX;

  // *pos = the ordinal of the first entry >= t. *region_end = the end of the region that was
  // searched (the model's window, or the classic index's block): pos == region_end means no
  // entry with t's user key follows. Learned tables use `predicted` when given; classic ones
  // use `block` (the index's answer for t) unless it is kUnknownBlock.
  Status Locate(const LookupTarget& t, const ApproxPos* predicted, uint64_t block, BlockRef* ref,
                uint64_t* pos, uint64_t* region_end) const;
  Status WindowLowerBound(const LookupTarget& t, uint64_t lo, uint64_t hi, uint64_t hint,
                          BlockRef* ref, uint64_t* pos) const;
  Status GetImpl(const LookupTarget& t, const ApproxPos* predicted, uint64_t block, BlockRef* ref,
                 EntryCallback on_entry) const;

  const TableOptions options_;
  const std::string file_name_;
  const std::unique_ptr<RandomAccessFile> file_;
  BlockCache* const cache_;  // options_.block_cache.get()
  const uint64_t cache_id_;

  TableProperties props_;
  IndexType index_type_ = IndexType::kBlock;
  uint64_t num_entries_ = 0;
  uint64_t records_per_block_ = 1;
  uint64_t num_blocks_ = 0;
  uint64_t data_end_ = 0;

  // Learned index: the model block's bytes (the locator points into them), mapper and model.
  BlockContents model_block_;
  KeyMapper mapper_;
  std::unique_ptr<Rmi> model_;
  BlockLocator locator_;

  // Classic index (when model_ is null).
  Block index_block_;

  // Membership filter (null when the table has none or options_.use_filters is false).
  std::unique_ptr<Filter> filter_;
};

}  // namespace learnkv

#endif  // LEARNKV_SSTABLE_TABLE_READER_H_
