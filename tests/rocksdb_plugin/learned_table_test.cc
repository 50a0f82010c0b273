// Tests of the LearnedTable plugin through RocksDB's public API only (the test links the shared
// library, as a RocksDB user would): the factory by name in options strings and OPTIONS files,
// option errors, the comparator check, table properties, approximate sizes, memory usage and
// checksum verification.
#include <gtest/gtest.h>
#include <rocksdb/convenience.h>
#include <rocksdb/db.h>
#include <rocksdb/sst_file_writer.h>
#include <rocksdb/table.h>
#include <rocksdb/table_properties.h>
#include <rocksdb/utilities/options_util.h>

#include <string>
#include <vector>

#include "tests/rocksdb_plugin/test_util.h"

namespace learnkv::rocksdb_test {
namespace {

std::string Key(int i) {
  char buf[32];
  snprintf(buf, sizeof(buf), "key%08d", i);
  return buf;
}

rocksdb::Status FromString(const std::string& opts, rocksdb::ColumnFamilyOptions* cf) {
  rocksdb::ConfigOptions config;
  config.ignore_unknown_options = false;
  return rocksdb::GetColumnFamilyOptionsFromString(config, rocksdb::ColumnFamilyOptions(), opts,
                                                   cf);
}

TEST(LearnedTableOptionsTest, ByName) {
  rocksdb::ColumnFamilyOptions cf;
  ASSERT_TRUE(FromString("table_factory=LearnedTable", &cf).ok());
  ASSERT_STREQ(cf.table_factory->Name(), "LearnedTable");
  const auto* o = cf.table_factory->GetOptions<LearnedTableOptions>();
  ASSERT_NE(o, nullptr);
  EXPECT_EQ(o->block_cache_size, size_t{8} << 20);
  ASSERT_NE(o->table.block_cache, nullptr);  // the factory's own cache

  rocksdb::Status s = FromString(
      "table_factory={id=LearnedTable;index_type=learned;filter_type=fuse;filter_fpr=0.02;"
      "block_size=8192;rmi_num_leaves=64;block_cache_size=1M;verify_checksums=false}",
      &cf);
  ASSERT_TRUE(s.ok()) << s.ToString();
  o = cf.table_factory->GetOptions<LearnedTableOptions>();
  ASSERT_NE(o, nullptr);
  EXPECT_EQ(o->table.index_type, IndexType::kLearned);
  EXPECT_EQ(o->table.filter.type, FilterType::kFuse);
  EXPECT_DOUBLE_EQ(o->table.filter.target_fpr, 0.02);
  EXPECT_EQ(o->table.block_size, 8192u);
  EXPECT_EQ(o->table.rmi.num_leaves, 64u);
  EXPECT_FALSE(o->table.verify_checksums);
  EXPECT_EQ(o->block_cache_size, size_t{1} << 20);

  // In code, through the public factory function.
  LearnedTableOptions lto;
  lto.table.index_type = IndexType::kBlock;
  lto.block_cache_size = 0;
  std::unique_ptr<rocksdb::TableFactory> f(NewLearnedTableFactory(lto));
  ASSERT_STREQ(f->Name(), "LearnedTable");
  EXPECT_EQ(f->GetOptions<LearnedTableOptions>()->table.block_cache, nullptr);
  std::string str;
  ASSERT_TRUE(f->GetOptionString(rocksdb::ConfigOptions(), &str).ok());
  EXPECT_NE(str.find("index_type=block"), std::string::npos) << str;
}

TEST(LearnedTableOptionsTest, ErrorsAreErrors) {
  rocksdb::ColumnFamilyOptions cf;
  // Unknown option and unknown value: errors, not a silent fallback to BlockBasedTable.
  EXPECT_FALSE(FromString("table_factory={id=LearnedTable;no_such_option=1}", &cf).ok());
  EXPECT_FALSE(FromString("table_factory={id=LearnedTable;index_type=magic}", &cf).ok());
  EXPECT_FALSE(FromString("table_factory={id=LearnedTable;filter_type=cuckoo}", &cf).ok());
  EXPECT_FALSE(FromString("table_factory={id=LearnedTable;block_size=big}", &cf).ok());
  // An unknown factory: RocksDB's own rule (an error unless unsupported objects are ignored,
  // RocksDB's default, which leaves no table factory at all).
  rocksdb::ConfigOptions strict;
  strict.ignore_unknown_options = false;
  strict.ignore_unsupported_options = false;
  EXPECT_FALSE(rocksdb::GetColumnFamilyOptionsFromString(strict, rocksdb::ColumnFamilyOptions(),
                                                         "table_factory=NoSuchTable", &cf)
                   .ok());

  // Option values RocksDB accepts but the table cannot use fail at DB::Open.
  const std::string dir = ScratchDir("errors");
  rocksdb::Options options = SmallOptions();
  ASSERT_TRUE(FromString("table_factory={id=LearnedTable;filter_fpr=1.5}", &cf).ok());
  options.table_factory = cf.table_factory;
  rocksdb::DB* db = nullptr;
  rocksdb::Status s = rocksdb::DB::Open(options, dir + "/fpr", &db);
  EXPECT_TRUE(s.IsInvalidArgument()) << s.ToString();
  delete db;
  db = nullptr;

  // Keys must be ordered bytewise.
  options = SmallOptions();
  options.table_factory.reset(NewLearnedTableFactory());
  options.comparator = rocksdb::ReverseBytewiseComparator();
  s = rocksdb::DB::Open(options, dir + "/reverse", &db);
  EXPECT_TRUE(s.IsInvalidArgument()) << s.ToString();
  delete db;
}

// A DB made with NewLearnedTableFactory in code; its OPTIONS file names LearnedTable, so that
// LoadLatestOptions (what ldb and db_bench --options_file use) reopens it with the same
// table options.
TEST(LearnedTableOptionsTest, OptionsFileRoundTrip) {
  const std::string dir = ScratchDir("options_file");
  rocksdb::Options options = SmallOptions();
  LearnedTableOptions lto;
  lto.table.index_type = IndexType::kLearned;
  lto.table.filter.type = FilterType::kBloom;
  lto.table.block_size = 2048;
  options.table_factory.reset(NewLearnedTableFactory(lto));
  rocksdb::DB* db = nullptr;
  ASSERT_TRUE(rocksdb::DB::Open(options, dir, &db).ok());
  for (int i = 0; i < 3000; ++i) ASSERT_TRUE(db->Put(rocksdb::WriteOptions(), Key(i), Key(i)).ok());
  ASSERT_TRUE(db->Flush(rocksdb::FlushOptions()).ok());
  ASSERT_TRUE(db->Close().ok());
  delete db;

  rocksdb::ConfigOptions config;
  config.ignore_unknown_options = false;
  rocksdb::DBOptions db_options;
  std::vector<rocksdb::ColumnFamilyDescriptor> cfs;
  rocksdb::Status s = rocksdb::LoadLatestOptions(config, dir, &db_options, &cfs);
  ASSERT_TRUE(s.ok()) << s.ToString();
  const auto* o = cfs[0].options.table_factory->GetOptions<LearnedTableOptions>();
  ASSERT_NE(o, nullptr);
  EXPECT_EQ(o->table.index_type, IndexType::kLearned);
  EXPECT_EQ(o->table.filter.type, FilterType::kBloom);
  EXPECT_EQ(o->table.block_size, 2048u);

  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  s = rocksdb::DB::Open(db_options, dir, cfs, &handles, &db);
  ASSERT_TRUE(s.ok()) << s.ToString();
  std::string value;
  for (int i = 0; i < 3000; i += 7) {
    ASSERT_TRUE(db->Get(rocksdb::ReadOptions(), Key(i), &value).ok());
    EXPECT_EQ(value, Key(i));
  }
  EXPECT_TRUE(db->Get(rocksdb::ReadOptions(), "nope", &value).IsNotFound());
  for (auto* h : handles) db->DestroyColumnFamilyHandle(h);
  ASSERT_TRUE(db->Close().ok());
  delete db;
}

class LearnedTableDbTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = ScratchDir(::testing::UnitTest::GetInstance()->current_test_info()->name());
    options_ = SmallOptions();
    options_.table_factory.reset(NewLearnedTableFactory());
    ASSERT_TRUE(rocksdb::DB::Open(options_, dir_, &db_).ok());
  }
  void TearDown() override {
    if (db_ != nullptr) {
      EXPECT_TRUE(db_->Close().ok());
    }
    delete db_;
  }
  void Fill(int n) {
    for (int i = 0; i < n; ++i) {
      ASSERT_TRUE(db_->Put(rocksdb::WriteOptions(), Key(i), std::string(100, 'a' + i % 26)).ok());
    }
    ASSERT_TRUE(db_->Flush(rocksdb::FlushOptions()).ok());
    ASSERT_TRUE(db_->CompactRange(rocksdb::CompactRangeOptions(), nullptr, nullptr).ok());
  }

  std::string dir_;
  rocksdb::Options options_;
  rocksdb::DB* db_ = nullptr;
};

TEST_F(LearnedTableDbTest, TableProperties) {
  Fill(20000);
  ASSERT_TRUE(
      db_->DeleteRange(rocksdb::WriteOptions(), db_->DefaultColumnFamily(), Key(10), Key(20)).ok());
  ASSERT_TRUE(db_->Flush(rocksdb::FlushOptions()).ok());
  rocksdb::TablePropertiesCollection props;
  ASSERT_TRUE(db_->GetPropertiesOfAllTables(&props).ok());
  ASSERT_FALSE(props.empty());
  uint64_t entries = 0, range_dels = 0;
  for (const auto& [file, p] : props) {
    ASSERT_NE(p, nullptr) << file;
    entries += p->num_entries - p->num_range_deletions;
    range_dels += p->num_range_deletions;
    EXPECT_EQ(p->comparator_name, "leveldb.BytewiseComparator");
    EXPECT_EQ(p->merge_operator_name, AppendOperator::kClassName());
    EXPECT_EQ(p->column_family_name, "default");
    if (p->num_entries > p->num_range_deletions) {  // not a table of range tombstones only
      EXPECT_GT(p->data_size, 0u);
      EXPECT_GT(p->index_size, 0u);
      EXPECT_GT(p->num_data_blocks, 0u);
      // LZ4, or bottommost_compression's ZSTD (flushed files may move there unchanged).
      EXPECT_TRUE(p->compression_name == "LZ4" || p->compression_name == "ZSTD")
          << p->compression_name;
      const auto& u = p->user_collected_properties;
      ASSERT_EQ(u.count("learnkv.index.type"), 1u) << file;
      EXPECT_TRUE(u.at("learnkv.index.type") == "learned" || u.at("learnkv.index.type") == "block");
    }
  }
  EXPECT_EQ(entries, 20000u);
  EXPECT_EQ(range_dels, 1u);

  uint64_t mem = 0;
  ASSERT_TRUE(db_->GetIntProperty("rocksdb.estimate-table-readers-mem", &mem));
  EXPECT_GT(mem, 0u);
}

TEST_F(LearnedTableDbTest, ApproximateSizes) {
  Fill(20000);
  uint64_t total = 0;
  ASSERT_TRUE(db_->GetIntProperty("rocksdb.total-sst-files-size", &total));
  const std::string a = Key(0), m = Key(10000), z = Key(20000);
  rocksdb::Range ranges[3] = {{a, z}, {a, m}, {m, z}};
  uint64_t sizes[3];
  rocksdb::SizeApproximationOptions sao;
  sao.include_files = true;
  sao.include_memtables = false;
  ASSERT_TRUE(db_->GetApproximateSizes(sao, db_->DefaultColumnFamily(), ranges, 3, sizes).ok());
  EXPECT_GT(sizes[0], total / 2);
  EXPECT_LE(sizes[0], total + total / 10);
  // Each half is about half.
  EXPECT_GT(sizes[1], sizes[0] / 4);
  EXPECT_GT(sizes[2], sizes[0] / 4);
  EXPECT_LE(sizes[1], sizes[0]);
}

TEST_F(LearnedTableDbTest, VerifyChecksumAndReopen) {
  Fill(5000);
  ASSERT_TRUE(db_->VerifyChecksum().ok());
  ASSERT_TRUE(db_->Close().ok());
  delete db_;
  db_ = nullptr;
  ASSERT_TRUE(rocksdb::DB::Open(options_, dir_, &db_).ok());
  ASSERT_TRUE(db_->VerifyChecksum().ok());
  std::string value;
  ASSERT_TRUE(db_->Get(rocksdb::ReadOptions(), Key(4999), &value).ok());
}

// SstFileWriter writes LearnedTable files. They have no global sequence number field (RocksDB's
// external file version 1; learned_table_builder.cc says why), so RocksDB ingests them only with
// allow_global_seqno and allow_blocking_flush off, and only where no other data overlaps their
// keys; otherwise the ingestion is refused and the DB keeps its data.
TEST_F(LearnedTableDbTest, IngestExternalFile) {
  auto write_file = [&](const std::string& path, const std::string& value) {
    rocksdb::SstFileWriter writer(rocksdb::EnvOptions(), options_);
    ASSERT_TRUE(writer.Open(path).ok());
    for (int i = 0; i < 100; ++i) ASSERT_TRUE(writer.Put("ext" + Key(i), value).ok());
    ASSERT_TRUE(writer.Finish().ok());
  };
  write_file(dir_ + "/ext1.sst", "v1");
  rocksdb::Status s = db_->IngestExternalFile({dir_ + "/ext1.sst"}, {});
  EXPECT_TRUE(s.IsInvalidArgument()) << s.ToString();
  rocksdb::IngestExternalFileOptions ifo;
  ifo.allow_global_seqno = false;
  ifo.allow_blocking_flush = false;
  s = db_->IngestExternalFile({dir_ + "/ext1.sst"}, ifo);
  ASSERT_TRUE(s.ok()) << s.ToString();
  std::string value;
  ASSERT_TRUE(db_->Get(rocksdb::ReadOptions(), "ext" + Key(5), &value).ok());
  EXPECT_EQ(value, "v1");

  // Over a newer write the file would need a sequence number above it.
  ASSERT_TRUE(db_->Put(rocksdb::WriteOptions(), "ext" + Key(5), "db").ok());
  ASSERT_TRUE(db_->Flush(rocksdb::FlushOptions()).ok());
  write_file(dir_ + "/ext2.sst", "v2");
  s = db_->IngestExternalFile({dir_ + "/ext2.sst"}, ifo);
  EXPECT_TRUE(s.IsInvalidArgument()) << s.ToString();
  ASSERT_TRUE(db_->Get(rocksdb::ReadOptions(), "ext" + Key(5), &value).ok());
  EXPECT_EQ(value, "db");
  ASSERT_TRUE(db_->Get(rocksdb::ReadOptions(), "ext" + Key(6), &value).ok());
  EXPECT_EQ(value, "v1");
  ASSERT_TRUE(db_->VerifyChecksum().ok());
}

}  // namespace
}  // namespace learnkv::rocksdb_test
