// TableOptions: every tunable of learnkv's table format (sstable/), for building and for
// reading. The engine passes them through from its Options; the RocksDB TableFactory adapter
// exposes them as its own options. Each field documents its default.
//
// Thread safety: plain values. A TableOptions may be shared read-only between threads; the
// block cache it points to is itself thread-safe.
#ifndef LEARNKV_INCLUDE_TABLE_OPTIONS_H_
#define LEARNKV_INCLUDE_TABLE_OPTIONS_H_

#include <cstddef>
#include <cstdint>
#include <memory>

#include "learned/filter_options.h"
#include "learned/rmi.h"

namespace learnkv {

class BlockCache;

// How a block's contents are stored. Persistent: the value is each block trailer's type byte.
// Never renumber.
enum class CompressionType : uint8_t {
  kNone = 0,
  kLz4 = 1,
  kZstd = 2,
};
const char* CompressionTypeName(CompressionType type);  // "none", "lz4", "zstd"

// Which index leads from a key to its data block. Persistent: kLearned and kBlock are stored in
// each table's footer (kAuto never is: it is a request, resolved when the table is built).
enum class IndexType : uint8_t {
  kAuto = 0,     // learned, unless a cost estimate says the classic block index is cheaper
  kLearned = 1,  // RMI + block locator (still falls back when no model can be built)
  kBlock = 2,    // classic LevelDB-style index: one separator key and handle per data block
};
const char* IndexTypeName(IndexType type);  // "auto", "learned", "block"

struct TableOptions {
  // ---- Building ----

  // Target uncompressed size of a data block, in bytes. The builder fixes the number of
  // records per block from the first records so that a block is about this size; every block
  // then holds that many records (the last may hold fewer). Default 4096.
  size_t block_size = 4096;

  // Compression of data blocks. A block is stored raw when compression saves less than
  // min_compression_saving of its size. Default kLz4.
  CompressionType compression = CompressionType::kLz4;
  // zstd compression level (1..19). Default 3.
  int zstd_level = 3;
  // Fraction of a block's size that compression must save to be kept. Default 0.125.
  double min_compression_saving = 0.125;

  // Index of new tables. Default kAuto.
  IndexType index_type = IndexType::kAuto;
  // Model options for the learned index (leaf count, root kind, size budget). Default: automatic.
  RmiOptions rmi;
  // Size target of the learned index (model + block locator) as a fraction of the classic
  // index the same table would have: the model's byte budget per key is lowered to fit it
  // (rmi.max_bytes_per_key still caps it). Tiny tables may exceed it — a model has a minimum
  // size of about a hundred bytes. 0 disables the target. Default 0.1.
  double max_learned_index_ratio = 0.1;
  // The cost, in key comparisons, that the kAuto decision charges for touching one data block
  // (a cache lookup and a block search setup). Default 8.
  double block_touch_cost = 8.0;

  // Membership filter of new tables, so that lookups of absent keys skip them: its type
  // (default kAuto: a learned filter when the negatives supplied in filter.negatives make one
  // smaller than the classic filter, else the smaller of a blocked Bloom and a binary fuse
  // filter), its target false-positive rate (default 0.01), and where the negatives come from
  // (default none: classic only). See learned/filter_options.h.
  FilterOptions filter;

  // ---- Reading ----

  // Cache of uncompressed data blocks, shared between readers. Default nullptr: no cache, each
  // read decompresses a private copy of its block.
  std::shared_ptr<BlockCache> block_cache;
  // Whether reads verify each data and meta block's checksum. The footer's is always verified.
  // Default true.
  bool verify_checksums = true;
  // Whether blocks read by lookups and iterators are added to block_cache. Default true.
  bool fill_cache = true;
  // Whether readers load tables' filters and let Get/MultiGet skip tables they rule out.
  // A filter block is always validated when loaded (its own checksum included). Default true.
  bool use_filters = true;
};

}  // namespace learnkv

#endif  // LEARNKV_INCLUDE_TABLE_OPTIONS_H_
