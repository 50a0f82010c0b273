// Runs the real learnkv-sst binary (built next to this test) on tables written here: the
// properties and model report it prints, its commands, and a non-zero exit with a message
// naming the file and offset when the table is damaged.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "learnkv/env.h"
#include "sstable/internal_key.h"
#include "sstable/table_builder.h"
#include "tests/support/test_util.h"
#include "util/datasets.h"

namespace learnkv {
namespace {

struct RunResult {
  int exit_code = -1;
  std::string output;  // stdout and stderr together
};

RunResult RunSst(const std::string& args) {
  const std::string binary = test::BinaryDir() + "/learnkv-sst";
  RunResult r;
  if (!std::filesystem::exists(binary)) {
    ADD_FAILURE() << binary << " is missing: build the learnkv_sst target";
    return r;
  }
  FILE* p = popen((binary + " " + args + " 2>&1").c_str(), "r");
  if (p == nullptr) {
    ADD_FAILURE() << "popen failed";
    return r;
  }
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof(buf), p)) > 0) r.output.append(buf, n);
  const int status = pclose(p);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128;
  return r;
}

class LearnkvSstTest : public testing::Test {
 protected:
  void SetUp() override { dir_ = test::NewTempDir("learnkv_sst_test"); }

  // Writes a table of n lognormal keys (every tenth with a second, older version).
  std::string WriteTable(const std::string& name, IndexType index_type, size_t n) {
    TableOptions options;
    options.index_type = index_type;
    const std::string path = dir_ + "/" + name;
    std::unique_ptr<WritableFile> file;
    EXPECT_TRUE(Env::Default()->NewWritableFile(path, &file).ok());
    TableBuilder builder(options, file.get());
    const std::vector<std::string> keys = GenerateSortedKeys(Dataset::kLognormal, n, 7);
    for (size_t i = 0; i < keys.size(); ++i) {
      for (SequenceNumber seq : {SequenceNumber{100}, SequenceNumber{50}}) {
        if (seq == 50 && i % 10 != 0) continue;
        std::string ikey;
        AppendInternalKey(&ikey, keys[i], seq, kTypeValue);
        builder.Add(ikey, "value-" + std::to_string(i) + "-" + std::to_string(seq));
      }
    }
    EXPECT_TRUE(builder.Finish().ok());
    EXPECT_TRUE(file->Close().ok());
    return path;
  }

  std::string dir_;
};

TEST_F(LearnkvSstTest, VerifyPrintsPropertiesAndHistogram) {
  const std::string path = WriteTable("000001.sst", IndexType::kLearned, 20000);
  const RunResult r = RunSst("--file=" + path + " --command=verify --show_properties");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  for (const char* expected :
       {"verify: OK: 22000 entries iterated", "learnkv.index.kind: rmi\n",
        "learnkv.index.leaves: ", "learnkv.index.max_error: ", "learnkv.index.mean_error: ",
        "learnkv.index.bytes: ", "learnkv.num_entries: 22000\n",
        "learnkv.records_per_block: ", "Model error |position - prediction| over 22000 keys"}) {
    EXPECT_NE(r.output.find(expected), std::string::npos) << expected << "\n" << r.output;
  }
  // A learned table did not fall back.
  EXPECT_EQ(r.output.find("learnkv.index.fallback_reason"), std::string::npos) << r.output;
}

TEST_F(LearnkvSstTest, BlockIndexTableSaysWhy) {
  const std::string path = WriteTable("000002.sst", IndexType::kBlock, 5000);
  const RunResult r = RunSst("--file=" + path + " --command=check --show_properties");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("learnkv.index.kind: block\n"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("learnkv.index.fallback_reason: index_type is kBlock"), std::string::npos)
      << r.output;
  EXPECT_NE(r.output.find("check: OK: 5500 entries in order"), std::string::npos) << r.output;
  EXPECT_EQ(r.output.find("Model error"), std::string::npos) << r.output;  // no model
}

TEST_F(LearnkvSstTest, ScanHonoursReadNumAndShowsVersions) {
  const std::string path = WriteTable("000003.sst", IndexType::kLearned, 1000);
  const RunResult r = RunSst("--file=" + path + " --command=scan --read_num=3");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  // The first user key has two versions, newest first.
  EXPECT_NE(r.output.find("' seq:100, type:1 => value-0-100\n"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("' seq:50, type:1 => value-0-50\n"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("=> value-1-100\n"), std::string::npos) << r.output;
  EXPECT_EQ(r.output.find("=> value-2-100"), std::string::npos) << r.output;
}

TEST_F(LearnkvSstTest, DirectoryCheckAndRaw) {
  WriteTable("000004.sst", IndexType::kLearned, 3000);
  WriteTable("000005.sst", IndexType::kBlock, 3000);
  RunResult r = RunSst("--file=" + dir_ + " --command=check");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("000004.sst"), std::string::npos);
  EXPECT_NE(r.output.find("000005.sst"), std::string::npos);
  r = RunSst("--file=" + dir_ + "/000004.sst --command=raw");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("Index: learned model block: 3300 entries"), std::string::npos)
      << r.output;
}

TEST_F(LearnkvSstTest, CorruptedCopyFailsNamingFileAndOffset) {
  const std::string path = WriteTable("000006.sst", IndexType::kLearned, 20000);
  std::string contents;
  ASSERT_TRUE(ReadFileToString(Env::Default(), path, &contents).ok());
  const std::string bad = dir_ + "/000007.sst";
  contents[contents.size() / 3] ^= 0x5a;  // inside a data block
  ASSERT_TRUE(WriteStringToFile(Env::Default(), contents, bad, false).ok());
  for (const char* command : {"verify", "check", "scan"}) {
    const RunResult r = RunSst("--file=" + bad + " --command=" + std::string(command));
    EXPECT_NE(r.exit_code, 0) << command << "\n" << r.output;
    EXPECT_NE(r.output.find("Corruption: " + bad + ": "), std::string::npos) << r.output;
    EXPECT_NE(r.output.find(" at offset "), std::string::npos) << r.output;
  }
  // A damaged footer fails when the table is opened.
  contents = contents.substr(0, contents.size() - 3);
  ASSERT_TRUE(WriteStringToFile(Env::Default(), contents, bad, false).ok());
  const RunResult r = RunSst("--file=" + bad + " --command=verify");
  EXPECT_NE(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("Corruption: " + bad), std::string::npos) << r.output;
}

TEST_F(LearnkvSstTest, RejectsUnknownCommand) {
  const std::string path = WriteTable("000008.sst", IndexType::kLearned, 100);
  const RunResult r = RunSst("--file=" + path + " --command=frobnicate");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.output.find("unknown --command"), std::string::npos) << r.output;
}

}  // namespace
}  // namespace learnkv
