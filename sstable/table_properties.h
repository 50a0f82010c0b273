// TableProperties: what a table says about itself — sizes, the index that was chosen and why,
// and how well the learned model fits — stored in the "learnkv.properties" meta block as named
// records, so that new properties never break old readers (unknown names are skipped, missing
// ones keep their defaults).
//
// Thread safety: a plain value.
#ifndef LEARNKV_SSTABLE_TABLE_PROPERTIES_H_
#define LEARNKV_SSTABLE_TABLE_PROPERTIES_H_

#include <cstdint>
#include <string>

#include "learnkv/status.h"
#include "learnkv/table_options.h"
#include "sstable/block_builder.h"

namespace learnkv {

class Block;

struct TableProperties {
  // Contents.
  uint64_t num_entries = 0;
  uint64_t raw_key_bytes = 0;    // sum of internal key sizes
  uint64_t raw_value_bytes = 0;  // sum of value sizes
  std::string smallest_key;      // internal keys; empty when num_entries == 0
  std::string largest_key;

  // Data blocks.
  uint64_t data_bytes = 0;  // bytes of all data blocks as stored, trailers included
  uint64_t num_data_blocks = 0;
  uint64_t records_per_block = 0;                        // R: block i holds ordinals [iR, (i+1)R)
  CompressionType compression = CompressionType::kNone;  // as configured
  uint64_t num_compressed_blocks = 0;                    // blocks that compression shrank enough

  // Index.
  IndexType index_type = IndexType::kBlock;  // what was written: kLearned or kBlock
  uint64_t index_bytes = 0;                  // the model block or the classic index block
  std::string fallback_reason;               // why not learned; empty when learned
  double learned_cost = 0;                   // kAuto's estimates, in key comparisons per lookup
  double block_cost = 0;

  // Learned model (also filled in when the model was trained but not chosen).
  uint64_t rmi_leaf_count = 0;
  RmiRootKind rmi_root_kind = RmiRootKind::kLinear;
  uint64_t rmi_max_error = 0;
  double rmi_mean_error = 0;
  uint64_t rmi_max_window = 0;
  double rmi_mean_window = 0;

  // Membership filter (learned/filter_policy.h, FilterReport): what was built and why.
  std::string filter_kind = "none";  // "none", "bloom", "fuse" or "learned"
  uint64_t filter_bytes = 0;         // the filter block
  uint64_t filter_num_keys = 0;      // distinct user keys in it
  double filter_bits_per_key = 0;
  double filter_target_fpr = 0;
  double filter_measured_fpr = 0;         // on held-out negatives (analytic without any)
  uint64_t filter_heldout_negatives = 0;  // how many measured it
  uint64_t filter_negatives = 0;          // negatives sampled in the key range
  uint64_t filter_classic_bytes = 0;      // the choice's candidates
  uint64_t filter_learned_bytes = 0;      // 0: no learned filter met the target
  uint64_t filter_model_bytes = 0;
  double filter_model_fpr = 0;  // the learned candidate's classifier at its best threshold
  double filter_model_fnr = 0;
  std::string filter_reason;   // why this kind
  std::string filter_detail;   // the learned filter's layout
  uint64_t filter_micros = 0;  // building the filter, training included

  // Build.
  uint64_t build_micros = 0;     // first Add to the end of Finish
  uint64_t training_micros = 0;  // fitting the RMI

  // Appends one record per property to *block (names are fixed; see table_properties.cc).
  void EncodeTo(BlockBuilder* block) const;
  // Corruption names what is malformed, without a file name.
  Status DecodeFrom(const Block& block);

  // One "name: value" per line, for tools and logs.
  std::string ToString() const;
};

}  // namespace learnkv

#endif  // LEARNKV_SSTABLE_TABLE_PROPERTIES_H_
