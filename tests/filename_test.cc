#include "engine/filename.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "learnkv/env.h"
#include "tests/support/test_util.h"
#include "util/fault_injection_env.h"
#include "util/mem_env.h"

namespace learnkv {
namespace {

TEST(FileNameTest, Construct) {
  EXPECT_EQ("db/000012.sst", TableFileName("db", 12));
  EXPECT_EQ("db/000000.log", WalFileName("db", 0));
  EXPECT_EQ("db/1234567.log", WalFileName("db", 1234567));  // more digits when needed
  EXPECT_EQ("db/MANIFEST-000003", ManifestFileName("db", 3));
  EXPECT_EQ("db/000099.dbtmp", TempFileName("db", 99));
  EXPECT_EQ("db/CURRENT", CurrentFileName("db"));
  EXPECT_EQ("db/LOCK", LockFileName("db"));
  EXPECT_EQ("db/LOG", InfoLogFileName("db"));
  EXPECT_EQ("db/LOG.old", OldInfoLogFileName("db"));
}

TEST(FileNameTest, Parse) {
  struct Case {
    const char* name;
    uint64_t number;
    FileType type;
  };
  const Case cases[] = {
      {"100.log", 100, FileType::kWalFile},
      {"000000.log", 0, FileType::kWalFile},
      {"000123.sst", 123, FileType::kTableFile},
      {"0.sst", 0, FileType::kTableFile},
      {"MANIFEST-000002", 2, FileType::kManifestFile},
      {"MANIFEST-7", 7, FileType::kManifestFile},
      {"000005.dbtmp", 5, FileType::kTempFile},
      {"CURRENT", 0, FileType::kCurrentFile},
      {"LOCK", 0, FileType::kLockFile},
      {"LOG", 0, FileType::kInfoLogFile},
      {"LOG.old", 0, FileType::kInfoLogFile},
      {"18446744073709551615.log", UINT64_MAX, FileType::kWalFile},
  };
  for (const Case& c : cases) {
    uint64_t number = 42;
    FileType type = FileType::kLockFile;
    ASSERT_TRUE(ParseFileName(c.name, &number, &type)) << c.name;
    EXPECT_EQ(c.number, number) << c.name;
    EXPECT_EQ(c.type, type) << c.name;
  }
}

TEST(FileNameTest, ParseRejects) {
  const char* bad[] = {"",
                       "foo",
                       "foo-dx-100.log",
                       ".log",
                       ".sst",
                       "100",
                       "100.",
                       "100.lo",
                       "100.logx",
                       "100.sst.bak",
                       "-1.log",
                       "+1.log",
                       " 1.log",
                       "MANIFEST",
                       "MANIFEST-",
                       "MANIFEST-3x",
                       "MANIFEST-x3",
                       "XMANIFEST-3",
                       "CURRENTX",
                       "CURRENT.dbtmp",
                       "LOCKS",
                       "LOG.older",
                       "18446744073709551616.log",    // UINT64_MAX + 1
                       "99999999999999999999.log",    // 20 digits, too big
                       "184467440737095516150.sst"};  // 21 digits
  for (const char* name : bad) {
    uint64_t number;
    FileType type;
    EXPECT_FALSE(ParseFileName(name, &number, &type)) << name;
  }
}

TEST(FileNameTest, ConstructedNamesParseBack) {
  const std::string db = "some/db";
  for (uint64_t n :
       {uint64_t{0}, uint64_t{7}, uint64_t{999999}, uint64_t{1000000}, uint64_t{1} << 40}) {
    const struct {
      std::string path;
      FileType type;
    } files[] = {{TableFileName(db, n), FileType::kTableFile},
                 {WalFileName(db, n), FileType::kWalFile},
                 {ManifestFileName(db, n), FileType::kManifestFile},
                 {TempFileName(db, n), FileType::kTempFile}};
    for (const auto& f : files) {
      ASSERT_EQ(0u, f.path.rfind(db + "/", 0));
      uint64_t number;
      FileType type;
      ASSERT_TRUE(ParseFileName(f.path.substr(db.size() + 1), &number, &type)) << f.path;
      EXPECT_EQ(n, number);
      EXPECT_EQ(f.type, type);
    }
  }
}

class CurrentFileTest : public testing::Test {
 protected:
  Env* env_ = Env::Default();
  std::string dir_ = test::NewTempDir("current_file");
};

TEST_F(CurrentFileTest, SetThenRead) {
  ASSERT_TRUE(SetCurrentFile(env_, dir_, 5).ok());
  std::string contents;
  ASSERT_TRUE(ReadFileToString(env_, CurrentFileName(dir_), &contents).ok());
  EXPECT_EQ("MANIFEST-000005\n", contents);

  std::string manifest;
  uint64_t number = 0;
  ASSERT_TRUE(ReadCurrentFile(env_, dir_, &manifest, &number).ok());
  EXPECT_EQ("MANIFEST-000005", manifest);
  EXPECT_EQ(5u, number);

  // Replacing it leaves no temporary file behind.
  ASSERT_TRUE(SetCurrentFile(env_, dir_, 12).ok());
  ASSERT_TRUE(ReadCurrentFile(env_, dir_, &manifest, &number).ok());
  EXPECT_EQ(12u, number);
  std::vector<std::string> children;
  ASSERT_TRUE(env_->GetChildren(dir_, &children).ok());
  for (const std::string& child : children) {
    uint64_t n;
    FileType type;
    if (ParseFileName(child, &n, &type)) {
      EXPECT_NE(FileType::kTempFile, type) << child;
    }
  }
  EXPECT_FALSE(env_->FileExists(TempFileName(dir_, 5)));
  EXPECT_FALSE(env_->FileExists(TempFileName(dir_, 12)));
}

TEST_F(CurrentFileTest, MissingDirectoryFails) {
  EXPECT_FALSE(SetCurrentFile(env_, dir_ + "/does-not-exist", 1).ok());
}

TEST_F(CurrentFileTest, MalformedCurrentIsCorruption) {
  std::string manifest;
  uint64_t number;
  EXPECT_FALSE(ReadCurrentFile(env_, dir_, &manifest, &number).ok());  // no CURRENT at all
  for (const char* contents :
       {"", "MANIFEST-000005", "000005.log\n", "MANIFEST-\n", "MANIFEST-5\n\n", "garbage\n"}) {
    ASSERT_TRUE(WriteStringToFile(env_, contents, CurrentFileName(dir_), false).ok());
    Status s = ReadCurrentFile(env_, dir_, &manifest, &number);
    EXPECT_TRUE(s.IsCorruption()) << "'" << contents << "': " << s.ToString();
  }
}

// SetCurrentFile under simulated power loss and I/O errors, on an in-memory file system.
class CurrentFileCrashTest : public testing::Test {
 protected:
  CurrentFileCrashTest() : mem_(NewMemEnv(Env::Default())), env_(mem_.get()) {
    EXPECT_TRUE(env_.CreateDir(kDb).ok());
    EXPECT_TRUE(env_.SyncDir(kDb).ok());
  }

  uint64_t CurrentNumber() {
    std::string manifest;
    uint64_t number = 0;
    Status s = ReadCurrentFile(&env_, kDb, &manifest, &number);
    EXPECT_TRUE(s.ok()) << s.ToString();
    return number;
  }

  const std::string kDb = "/db";
  std::unique_ptr<Env> mem_;
  FaultInjectionEnv env_;
};

TEST_F(CurrentFileCrashTest, SurvivesPowerLossRightAfter) {
  ASSERT_TRUE(SetCurrentFile(&env_, kDb, 3).ok());
  ASSERT_TRUE(env_.DropUnsyncedData().ok());
  ASSERT_TRUE(env_.RemoveUnsyncedCreations().ok());
  EXPECT_EQ(3u, CurrentNumber());

  ASSERT_TRUE(SetCurrentFile(&env_, kDb, 4).ok());
  ASSERT_TRUE(env_.DropUnsyncedData().ok());
  ASSERT_TRUE(env_.RemoveUnsyncedCreations().ok());
  EXPECT_EQ(4u, CurrentNumber());
}

TEST_F(CurrentFileCrashTest, FailedSyncKeepsOldCurrent) {
  ASSERT_TRUE(SetCurrentFile(&env_, kDb, 3).ok());
  env_.FailNextSync(".dbtmp");
  EXPECT_FALSE(SetCurrentFile(&env_, kDb, 4).ok());
  EXPECT_EQ(3u, CurrentNumber());
  EXPECT_FALSE(env_.FileExists(TempFileName(kDb, 4)));  // cleaned up
}

TEST_F(CurrentFileCrashTest, FailedAppendKeepsOldCurrent) {
  ASSERT_TRUE(SetCurrentFile(&env_, kDb, 3).ok());
  env_.FailNextAppend(".dbtmp");
  EXPECT_FALSE(SetCurrentFile(&env_, kDb, 4).ok());
  EXPECT_EQ(3u, CurrentNumber());
  EXPECT_FALSE(env_.FileExists(TempFileName(kDb, 4)));
}

}  // namespace
}  // namespace learnkv
