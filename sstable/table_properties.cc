// Properties block: one record per property, key = name, value = varint64 (counts and enums),
// fixed64 IEEE-754 bits (doubles) or raw bytes (strings).
#include "sstable/table_properties.h"

#include <bit>
#include <cstring>
#include <type_traits>

#include "sstable/block.h"
#include "util/coding.h"

namespace learnkv {

namespace {

// Every property with its persistent name. Names never change; new ones may be added.
template <typename P, typename F>
void VisitProperties(P& p, F&& f) {
  f("learnkv.block_cost", p.block_cost);
  f("learnkv.build_micros", p.build_micros);
  f("learnkv.compression", p.compression);
  f("learnkv.data_bytes", p.data_bytes);
  f("learnkv.fallback_reason", p.fallback_reason);
  f("learnkv.filter_bits_per_key", p.filter_bits_per_key);
  f("learnkv.filter_bytes", p.filter_bytes);
  f("learnkv.filter_classic_bytes", p.filter_classic_bytes);
  f("learnkv.filter_detail", p.filter_detail);
  f("learnkv.filter_heldout_negatives", p.filter_heldout_negatives);
  f("learnkv.filter_kind", p.filter_kind);
  f("learnkv.filter_learned_bytes", p.filter_learned_bytes);
  f("learnkv.filter_measured_fpr", p.filter_measured_fpr);
  f("learnkv.filter_micros", p.filter_micros);
  f("learnkv.filter_model_bytes", p.filter_model_bytes);
  f("learnkv.filter_model_fnr", p.filter_model_fnr);
  f("learnkv.filter_model_fpr", p.filter_model_fpr);
  f("learnkv.filter_negatives", p.filter_negatives);
  f("learnkv.filter_num_keys", p.filter_num_keys);
  f("learnkv.filter_reason", p.filter_reason);
  f("learnkv.filter_target_fpr", p.filter_target_fpr);
  f("learnkv.index_bytes", p.index_bytes);
  f("learnkv.index_type", p.index_type);
  f("learnkv.largest_key", p.largest_key);
  f("learnkv.learned_cost", p.learned_cost);
  f("learnkv.num_compressed_blocks", p.num_compressed_blocks);
  f("learnkv.num_data_blocks", p.num_data_blocks);
  f("learnkv.num_entries", p.num_entries);
  f("learnkv.raw_key_bytes", p.raw_key_bytes);
  f("learnkv.raw_value_bytes", p.raw_value_bytes);
  f("learnkv.records_per_block", p.records_per_block);
  f("learnkv.rmi_leaf_count", p.rmi_leaf_count);
  f("learnkv.rmi_max_error", p.rmi_max_error);
  f("learnkv.rmi_max_window", p.rmi_max_window);
  f("learnkv.rmi_mean_error", p.rmi_mean_error);
  f("learnkv.rmi_mean_window", p.rmi_mean_window);
  f("learnkv.rmi_root_kind", p.rmi_root_kind);
  f("learnkv.smallest_key", p.smallest_key);
  f("learnkv.training_micros", p.training_micros);
}

template <typename T>
constexpr bool kIsEnum = std::is_enum_v<std::remove_cv_t<T>>;

// Largest valid value of each persistent enum.
uint64_t MaxValue(CompressionType) { return static_cast<uint64_t>(CompressionType::kZstd); }
uint64_t MaxValue(IndexType) { return static_cast<uint64_t>(IndexType::kBlock); }
uint64_t MaxValue(RmiRootKind) { return static_cast<uint64_t>(RmiRootKind::kRadix); }

}  // namespace

void TableProperties::EncodeTo(BlockBuilder* block) const {
  std::string value;
  VisitProperties(*this, [&](const char* name, const auto& field) {
    using T = std::remove_cvref_t<decltype(field)>;
    value.clear();
    if constexpr (std::is_same_v<T, std::string>) {
      value = field;
    } else if constexpr (std::is_same_v<T, double>) {
      PutFixed64(&value, std::bit_cast<uint64_t>(field));
    } else if constexpr (kIsEnum<T>) {
      PutVarint64(&value, static_cast<uint64_t>(field));
    } else {
      PutVarint64(&value, field);
    }
    block->Add(name, value);
  });
}

Status TableProperties::DecodeFrom(const Block& block) {
  *this = TableProperties();
  for (uint32_t i = 0; i < block.num_records(); ++i) {
    Slice name, value;
    block.RecordAt(i, &name, &value);
    bool ok = true;
    VisitProperties(*this, [&](const char* field_name, auto& field) {
      if (name != Slice(field_name)) return;
      using T = std::remove_cvref_t<decltype(field)>;
      Slice in = value;
      if constexpr (std::is_same_v<T, std::string>) {
        field = value.ToString();
      } else if constexpr (std::is_same_v<T, double>) {
        uint64_t bits = 0;
        ok = in.size() == 8 && GetFixed64(&in, &bits);
        field = std::bit_cast<double>(bits);
      } else if constexpr (kIsEnum<T>) {
        uint64_t v = 0;
        ok = GetVarint64(&in, &v) && in.empty() && v <= MaxValue(T{});
        if (ok) field = static_cast<T>(v);
      } else {
        ok = GetVarint64(&in, &field) && in.empty();
      }
    });
    if (!ok) return Status::Corruption("malformed table property " + name.ToString());
  }
  return Status::OK();
}

std::string TableProperties::ToString() const {
  std::string out;
  VisitProperties(*this, [&](const char* name, const auto& field) {
    using T = std::remove_cvref_t<decltype(field)>;
    out.append(name);
    out.append(": ");
    if constexpr (std::is_same_v<T, std::string>) {
      const bool binary = strstr(name, "_key") != nullptr;  // keys may hold any bytes
      out.append(binary ? Slice(field).ToHex() : field);
    } else if constexpr (std::is_same_v<T, double>) {
      out.append(std::to_string(field));
    } else if constexpr (std::is_same_v<T, CompressionType>) {
      out.append(CompressionTypeName(field));
    } else if constexpr (std::is_same_v<T, IndexType>) {
      out.append(IndexTypeName(field));
    } else if constexpr (std::is_same_v<T, RmiRootKind>) {
      out.append(RmiRootKindName(field));
    } else {
      out.append(std::to_string(field));
    }
    out.push_back('\n');
  });
  return out;
}

}  // namespace learnkv
