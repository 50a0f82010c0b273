// Tables with membership filters (sstable/table_builder.h, sstable/table_reader.h,
// learned/filter_policy.h): reads with filters answer exactly as reads without, for present
// and absent keys, Get and MultiGet, every filter type and index; filters survive reopening;
// absent keys ruled out by the filter cost no block read; the properties record the choice;
// a damaged filter block is Corruption at open, with or without checksum verification.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "learned/filter_datasets.h"
#include "learnkv/table_options.h"
#include "sstable/format.h"
#include "sstable/internal_key.h"
#include "sstable/table_builder.h"
#include "sstable/table_reader.h"
#include "tests/support/string_file.h"

namespace learnkv {
namespace {

constexpr char kFileName[] = "000077.sst";

std::string Ikey(const std::string& user_key, SequenceNumber seq, ValueType type) {
  std::string k;
  AppendInternalKey(&k, user_key, seq, type);
  return k;
}

struct Table {
  std::string contents;
  TableProperties props;
};

// Every third user key has two versions (a value over a deletion).
Table Build(const TableOptions& options, const std::vector<std::string>& user_keys) {
  test::StringSink sink;
  TableBuilder builder(options, &sink);
  for (size_t i = 0; i < user_keys.size(); ++i) {
    builder.Add(Ikey(user_keys[i], 1000, kTypeValue), "value" + std::to_string(i));
    if (i % 3 == 0) builder.Add(Ikey(user_keys[i], 900, kTypeDeletion), "");
  }
  EXPECT_TRUE(builder.Finish().ok());
  return Table{sink.contents(), builder.properties()};
}

Status Open(const TableOptions& options, const std::string& contents,
            std::unique_ptr<TableReader>* reader, const test::StringSource** source = nullptr) {
  auto file = std::make_unique<test::StringSource>(contents);
  if (source != nullptr) *source = file.get();
  return TableReader::Open(options, kFileName, std::move(file), contents.size(), reader);
}

std::string GetAll(const TableReader& r, const std::string& user_key) {
  std::string out;
  EXPECT_TRUE(r.Get(Ikey(user_key, kMaxSequenceNumber, kValueTypeForSeek), [&](const Slice& k,
                                                                               const Slice& v) {
                 out += k.ToString() + "=" + v.ToString() + ";";
                 return true;
               }).ok());
  return out;
}

std::vector<std::string> MultiGetAll(const TableReader& r, const std::vector<std::string>& keys) {
  std::vector<std::string> lookups;
  for (const std::string& k : keys)
    lookups.push_back(Ikey(k, kMaxSequenceNumber, kValueTypeForSeek));
  std::vector<Slice> slices(lookups.begin(), lookups.end());
  std::vector<std::string> out(keys.size());
  std::vector<Status> statuses(keys.size());
  r.MultiGet(
      slices.data(), slices.size(),
      [&](size_t i, const Slice& k, const Slice& v) {
        out[i] += k.ToString() + "=" + v.ToString() + ";";
        return true;
      },
      statuses.data());
  for (const Status& s : statuses) EXPECT_TRUE(s.ok()) << s.ToString();
  return out;
}

struct Config {
  const char* name;
  FilterType filter;
  IndexType index;
  FilterDataset dataset;
};

class TableFilter : public testing::TestWithParam<Config> {
 protected:
  void SetUp() override {
    FilterDatasetOptions o;
    o.num_keys = 20000;
    o.num_negatives = 20000;
    o.system_lists = false;
    o.separability = 1.0;
    data_ = MakeFilterData(GetParam().dataset, o);
    options_.index_type = GetParam().index;
    options_.block_size = 1024;
    options_.filter.type = GetParam().filter;
    options_.filter.negatives = NewVectorNegativeSource(data_.train_negatives);
    table_ = Build(options_, data_.keys);
  }

  FilterData data_;
  TableOptions options_;
  Table table_;
};

TEST_P(TableFilter, ReadsWithFiltersEqualReadsWithout) {
  std::unique_ptr<TableReader> with, without;
  ASSERT_TRUE(Open(options_, table_.contents, &with).ok());
  TableOptions no_filters = options_;
  no_filters.use_filters = false;
  ASSERT_TRUE(Open(no_filters, table_.contents, &without).ok());
  EXPECT_EQ(without->filter(), nullptr);
  EXPECT_EQ(without->FilterMemoryUsage(), 0u);
  EXPECT_EQ(table_.props.filter_kind, GetParam().filter == FilterType::kNone
                                          ? "none"
                                          : FilterKindName(with->filter()->kind()));

  std::vector<std::string> probes;
  for (size_t i = 0; i < data_.keys.size(); i += 7) probes.push_back(data_.keys[i]);
  for (size_t i = 0; i < 3000; ++i) probes.push_back(data_.test_negatives[i]);
  probes.push_back("");
  probes.push_back(std::string(300, '\xff'));
  for (const std::string& k : probes) {
    ASSERT_EQ(GetAll(*with, k), GetAll(*without, k)) << Slice(k).ToHex();
  }
  for (size_t i = 0; i < data_.keys.size(); i += 7) {
    EXPECT_TRUE(with->KeyMayMatch(data_.keys[i]));
    EXPECT_FALSE(GetAll(*with, data_.keys[i]).empty());
  }
  EXPECT_EQ(MultiGetAll(*with, probes), MultiGetAll(*without, probes));
}

TEST_P(TableFilter, FilterSurvivesReopenAndSavesReads) {
  if (GetParam().filter == FilterType::kNone) GTEST_SKIP();
  const test::StringSource* source = nullptr;
  std::unique_ptr<TableReader> r;
  ASSERT_TRUE(Open(options_, table_.contents, &r, &source).ok());
  ASSERT_NE(r->filter(), nullptr);
  EXPECT_EQ(FilterKindName(r->filter()->kind()), table_.props.filter_kind);
  EXPECT_GT(r->FilterMemoryUsage(), 0u);
  EXPECT_GE(r->ApproximateMemoryUsage(), r->FilterMemoryUsage() + r->IndexMemoryUsage());
  // Absent keys the filter rules out read nothing; at most about the target share pass.
  size_t passed = 0;
  for (size_t i = 0; i < 5000; ++i) {
    const std::string& k = data_.test_negatives[i];
    const uint64_t reads_before = source->reads();
    EXPECT_TRUE(GetAll(*r, k).empty());
    if (r->KeyMayMatch(k)) {
      passed++;
    } else {
      ASSERT_EQ(source->reads(), reads_before) << "a lookup the filter rules out read the file";
    }
  }
  EXPECT_LT(passed, 5000 * 0.02);
  // The properties tell the same story as the filter.
  EXPECT_EQ(table_.props.filter_num_keys, data_.keys.size());
  EXPECT_GT(table_.props.filter_bytes, 0u);
  EXPECT_NEAR(table_.props.filter_bits_per_key, 8.0 * table_.props.filter_bytes / data_.keys.size(),
              1e-9);
  EXPECT_DOUBLE_EQ(table_.props.filter_target_fpr, 0.01);
  EXPECT_LE(table_.props.filter_measured_fpr, 0.0125);
  EXPECT_FALSE(table_.props.filter_reason.empty());
}

INSTANTIATE_TEST_SUITE_P(
    All, TableFilter,
    testing::Values(
        Config{"none", FilterType::kNone, IndexType::kAuto, FilterDataset::kIdGaps},
        Config{"bloom", FilterType::kBloom, IndexType::kLearned, FilterDataset::kUrl},
        Config{"fuse", FilterType::kFuse, IndexType::kBlock, FilterDataset::kYcsb},
        Config{"auto_ids", FilterType::kAuto, IndexType::kLearned, FilterDataset::kIdGaps},
        Config{"auto_urls", FilterType::kAuto, IndexType::kBlock, FilterDataset::kUrl},
        Config{"auto_ycsb", FilterType::kAuto, IndexType::kAuto, FilterDataset::kYcsb},
        Config{"learned_urls", FilterType::kLearned, IndexType::kLearned, FilterDataset::kUrl}),
    [](const testing::TestParamInfo<Config>& info) { return std::string(info.param.name); });

TEST(TableFilterChoice, PropertiesRecordTheChoice) {
  FilterDatasetOptions o;
  o.num_keys = 30000;
  o.num_negatives = 20000;
  TableOptions options;
  options.filter.negatives =
      NewVectorNegativeSource(MakeFilterData(FilterDataset::kIdGaps, o).train_negatives);
  const Table ids = Build(options, MakeFilterData(FilterDataset::kIdGaps, o).keys);
  EXPECT_EQ(ids.props.filter_kind, "learned") << ids.props.filter_reason;
  EXPECT_GT(ids.props.filter_classic_bytes, ids.props.filter_learned_bytes);
  EXPECT_GT(ids.props.filter_heldout_negatives, 0u);
  EXPECT_LT(ids.props.filter_model_fpr + ids.props.filter_model_fnr, 1.0);
  EXPECT_NE(ids.props.ToString().find("learnkv.filter_kind: learned"), std::string::npos);

  const FilterData ycsb = MakeFilterData(FilterDataset::kYcsb, o);
  options.filter.negatives = NewVectorNegativeSource(ycsb.train_negatives);
  const Table random = Build(options, ycsb.keys);
  EXPECT_EQ(random.props.filter_kind, "fuse") << random.props.filter_reason;

  options.filter.type = FilterType::kNone;
  const Table none = Build(options, ycsb.keys);
  EXPECT_EQ(none.props.filter_kind, "none");
  EXPECT_EQ(none.props.filter_bytes, 0u);
}

TEST(TableFilterChoice, EmptyTable) {
  TableOptions options;
  const Table t = Build(options, {});
  std::unique_ptr<TableReader> r;
  ASSERT_TRUE(Open(options, t.contents, &r).ok());
  EXPECT_FALSE(r->KeyMayMatch("anything"));
  EXPECT_TRUE(GetAll(*r, "anything").empty());
}

// Where the filter block lies, from the metaindex.
BlockHandle FilterHandle(const std::string& contents) {
  Footer footer;
  EXPECT_TRUE(footer.DecodeFrom(Slice(contents).ToStringView().substr(contents.size() - 48)).ok());
  // The filter block is written right after the index block.
  BlockHandle h;
  h.offset = footer.index.offset + footer.index.size + kBlockTrailerSize;
  return h;
}

TEST(TableFilterCorruption, DamagedFilterIsCorruptionAtOpen) {
  FilterDatasetOptions o;
  o.num_keys = 2000;
  o.num_negatives = 4000;
  const FilterData data = MakeFilterData(FilterDataset::kIdGaps, o);
  for (FilterType type : {FilterType::kFuse, FilterType::kBloom, FilterType::kLearned}) {
    TableOptions options;
    options.filter.type = type;
    options.filter.negatives = NewVectorNegativeSource(data.train_negatives);
    const Table t = Build(options, data.keys);
    const uint64_t start = FilterHandle(t.contents).offset;
    const uint64_t end = start + t.props.filter_bytes + kBlockTrailerSize;
    for (bool verify : {true, false}) {
      options.verify_checksums = verify;
      for (uint64_t i = start; i < end; ++i) {
        std::string damaged = t.contents;
        damaged[i] ^= static_cast<char>(0x04);
        std::unique_ptr<TableReader> r;
        const Status s = Open(options, damaged, &r);
        if (!verify && i >= end - 4) {
          // The trailer checksum is only read with verification; the filter's own checksum
          // covers its contents either way.
          ASSERT_TRUE(s.ok()) << s.ToString();
          continue;
        }
        ASSERT_TRUE(s.IsCorruption()) << FilterTypeName(type) << " byte " << i - start;
        EXPECT_NE(s.ToString().find(kFileName), std::string::npos);
        EXPECT_NE(s.ToString().find(" at offset "), std::string::npos);
      }
    }
  }
}

}  // namespace
}  // namespace learnkv
