// DB::Open and reads on damaged or misused DB directories: every failure must be a clear
// Status naming the file at fault, and damage that a crash can cause (a torn WAL tail) must
// not stop the DB from opening. Works on real files (the lock test needs a second process),
// written against the public API plus the documented file names (CURRENT, MANIFEST-*,
// *.log, *.sst, LOCK).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "learnkv/db.h"
#include "learnkv/env.h"
#include "learnkv/options.h"
#include "tests/support/test_util.h"
#include "util/mem_env.h"

extern char** environ;

namespace learnkv {
namespace {

namespace fs = std::filesystem;

#define ASSERT_OK(expr)                    \
  do {                                     \
    const Status _s = (expr);              \
    ASSERT_TRUE(_s.ok()) << _s.ToString(); \
  } while (0)

// Expects s to have failed with a message mentioning `name`; logs the message, whose
// clarity is the point of these tests.
#define EXPECT_FAILS_NAMING(s, name)                                           \
  do {                                                                         \
    const Status _st = (s);                                                    \
    std::printf("  status: %s\n", _st.ToString().c_str());                     \
    EXPECT_FALSE(_st.ok()) << "expected an error naming " << (name);           \
    EXPECT_NE(std::string::npos, _st.ToString().find(name)) << _st.ToString(); \
  } while (0)

std::string Key(int i) { return "key" + std::to_string(100000 + i); }
std::string Value(int i, size_t len = 40) {
  std::string v = "value" + std::to_string(i) + ":";
  v.resize(len, static_cast<char>('a' + i % 26));
  return v;
}

// The file in dir whose name ends with suffix (or starts with it, for "MANIFEST-") and has
// the highest number; "" if none.
std::string NewestFile(const std::string& dir, const std::string& affix) {
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(dir)) {
    const std::string n = e.path().filename().string();
    const bool prefix = affix.back() == '-';
    if (prefix ? n.rfind(affix, 0) == 0
               : n.size() > affix.size() &&
                     n.compare(n.size() - affix.size(), affix.size(), affix) == 0) {
      names.push_back(n);
    }
  }
  if (names.empty()) return "";
  // Numbers are zero-padded to the same width, so the longest, then greatest, name wins.
  return *std::max_element(names.begin(), names.end(), [](const auto& a, const auto& b) {
    return a.size() != b.size() ? a.size() < b.size() : a < b;
  });
}

void FlipByte(const std::string& path, uint64_t offset) {
  std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
  ASSERT_TRUE(f.good()) << path;
  f.seekg(offset);
  char c = 0;
  f.read(&c, 1);
  ASSERT_TRUE(f.good()) << path << " has no byte " << offset;
  c = static_cast<char>(c ^ 0x5a);
  f.seekp(offset);
  f.write(&c, 1);
  ASSERT_TRUE(f.good());
}

void WriteFile(const std::string& path, const std::string& contents) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f << contents;
  ASSERT_TRUE(f.good()) << path;
}

class DBBadInputTest : public testing::Test {
 protected:
  DBBadInputTest() {
    options_.create_if_missing = true;
    options_.table_options.compression = CompressionType::kNone;
  }
  void SetUp() override { dbname_ = test::NewTempDir("db_bad_input") + "/db"; }
  void TearDown() override { db_.reset(); }

  Status Open() {
    db_.reset();
    return DB::Open(options_, dbname_, &db_);
  }
  void Close() {
    if (db_ != nullptr) {
      ASSERT_OK(db_->Close());
      db_.reset();
    }
  }
  // Creates the DB holding keys [0, n), optionally flushed, and closes it.
  void Fill(int n, bool flush, size_t value_len = 40) {
    ASSERT_OK(Open());
    for (int i = 0; i < n; ++i) ASSERT_OK(db_->Put(WriteOptions(), Key(i), Value(i, value_len)));
    if (flush) ASSERT_OK(db_->Flush(FlushOptions()));
    Close();
  }
  // Which of keys [0, n) read back (with the right value); fails on a wrong value or error.
  std::vector<bool> Present(int n) {
    std::vector<bool> present(n, false);
    for (int i = 0; i < n; ++i) {
      std::string v;
      const Status s = db_->Get(ReadOptions(), Key(i), &v);
      if (s.ok()) {
        EXPECT_EQ(Value(i, v.size()), v) << Key(i);
        present[i] = true;
      } else {
        EXPECT_TRUE(s.IsNotFound()) << Key(i) << ": " << s.ToString();
      }
    }
    return present;
  }

  Options options_;
  std::string dbname_;
  std::unique_ptr<DB> db_;
};

// ---- Opening what is not a DB, or is one when it should not be

TEST_F(DBBadInputTest, PathIsARegularFile) {
  fs::create_directories(fs::path(dbname_).parent_path());
  WriteFile(dbname_, "not a database\n");
  EXPECT_FAILS_NAMING(Open(), dbname_);
  options_.create_if_missing = false;
  EXPECT_FAILS_NAMING(Open(), dbname_);
  EXPECT_EQ(nullptr, db_);
}

TEST_F(DBBadInputTest, MissingWithoutCreateIfMissing) {
  options_.create_if_missing = false;
  const Status s = Open();
  EXPECT_TRUE(s.IsInvalidArgument()) << s.ToString();
  EXPECT_FAILS_NAMING(s, dbname_);
  EXPECT_FALSE(fs::exists(fs::path(dbname_) / "CURRENT"));  // nothing was created
}

TEST_F(DBBadInputTest, ErrorIfExists) {
  ASSERT_NO_FATAL_FAILURE(Fill(10, false));
  options_.error_if_exists = true;
  const Status s = Open();
  EXPECT_TRUE(s.IsInvalidArgument()) << s.ToString();
  EXPECT_FAILS_NAMING(s, dbname_);
  options_.error_if_exists = false;
  ASSERT_OK(Open());  // untouched by the refused Open
  EXPECT_EQ(std::vector<bool>(10, true), Present(10));
}

TEST_F(DBBadInputTest, EmptyDirectoryIsCreated) {
  fs::create_directories(dbname_);
  ASSERT_OK(Open());
  ASSERT_OK(db_->Put(WriteOptions(), "a", "b"));
}

// ---- CURRENT and MANIFEST

TEST_F(DBBadInputTest, CurrentNamesAMissingManifest) {
  ASSERT_NO_FATAL_FAILURE(Fill(10, true));
  WriteFile(dbname_ + "/CURRENT", "MANIFEST-999999\n");
  EXPECT_FAILS_NAMING(Open(), "MANIFEST-999999");
}

TEST_F(DBBadInputTest, CurrentIsGarbage) {
  ASSERT_NO_FATAL_FAILURE(Fill(10, true));
  WriteFile(dbname_ + "/CURRENT", "");
  const Status s = Open();
  EXPECT_FAILS_NAMING(s, "CURRENT");
  WriteFile(dbname_ + "/CURRENT", "\x01\x02garbage/../../etc/passwd");  // no newline
  EXPECT_FAILS_NAMING(Open(), "CURRENT");
}

TEST_F(DBBadInputTest, CorruptedManifest) {
  ASSERT_NO_FATAL_FAILURE(Fill(100, true));
  ASSERT_OK(Open());  // a second session appends more edits
  ASSERT_OK(db_->Put(WriteOptions(), "x", "y"));
  ASSERT_OK(db_->Flush(FlushOptions()));
  Close();
  const std::string manifest = NewestFile(dbname_, "MANIFEST-");
  ASSERT_FALSE(manifest.empty());
  // Damage the first record (the base version), which intact records follow.
  for (int off = 9; off < 13; ++off) FlipByte(dbname_ + "/" + manifest, off);
  const Status s = Open();
  EXPECT_TRUE(s.IsCorruption()) << s.ToString();
  EXPECT_FAILS_NAMING(s, manifest);
  // Recovery modes are for the WAL; they do not make a damaged MANIFEST acceptable.
  options_.wal_recovery_mode = WalRecoveryMode::kSkipAnyCorruptedRecords;
  EXPECT_FAILS_NAMING(Open(), manifest);
}

TEST_F(DBBadInputTest, EmptyManifest) {
  ASSERT_NO_FATAL_FAILURE(Fill(10, true));
  const std::string manifest = NewestFile(dbname_, "MANIFEST-");
  ASSERT_FALSE(manifest.empty());
  fs::resize_file(dbname_ + "/" + manifest, 0);
  EXPECT_FAILS_NAMING(Open(), manifest);
}

TEST_F(DBBadInputTest, MissingTable) {
  options_.paranoid_checks = true;
  ASSERT_NO_FATAL_FAILURE(Fill(100, true));
  const std::string table = NewestFile(dbname_, ".sst");
  ASSERT_FALSE(table.empty());
  fs::remove(dbname_ + "/" + table);
  Status s = Open();
  if (s.ok()) {  // a lazy Open: the first read of the table must then fail
    std::string v;
    s = db_->Get(ReadOptions(), Key(0), &v);
  }
  EXPECT_FAILS_NAMING(s, table);
}

// ---- The WAL

TEST_F(DBBadInputTest, TornWalTailLosesOnlyTheTornRecord) {
  ASSERT_NO_FATAL_FAILURE(Fill(100, false));  // one WAL record per Put, nothing flushed
  const std::string wal = NewestFile(dbname_, ".log");
  ASSERT_FALSE(wal.empty());
  const std::string path = dbname_ + "/" + wal;
  ASSERT_GT(fs::file_size(path), 100u);
  fs::resize_file(path, fs::file_size(path) - 5);  // a crash mid-append
  ASSERT_OK(Open());
  std::vector<bool> want(100, true);
  want[99] = false;
  EXPECT_EQ(want, Present(100));
  ASSERT_OK(db_->Put(WriteOptions(), Key(99), Value(99)));  // and the DB carries on
  Close();
  ASSERT_OK(Open());
  EXPECT_EQ(std::vector<bool>(100, true), Present(100));
}

TEST_F(DBBadInputTest, TornWalTailWithAbsoluteConsistency) {
  ASSERT_NO_FATAL_FAILURE(Fill(20, false));
  const std::string wal = NewestFile(dbname_, ".log");
  ASSERT_FALSE(wal.empty());
  fs::resize_file(dbname_ + "/" + wal, fs::file_size(dbname_ + "/" + wal) - 3);
  options_.wal_recovery_mode = WalRecoveryMode::kAbsoluteConsistency;
  const Status s = Open();
  EXPECT_TRUE(s.IsCorruption()) << s.ToString();
  EXPECT_FAILS_NAMING(s, wal);
}

// Damage in the middle of the WAL (intact records follow) is not a crash: Corruption naming
// the file, unless kSkipAnyCorruptedRecords, which drops the damaged block and keeps the rest.
TEST_F(DBBadInputTest, WalCorruptionInTheMiddle) {
  constexpr int kN = 400;
  constexpr size_t kValueLen = 400;  // ~420-byte records: about 78 per 32 KiB block, 5 blocks
  ASSERT_NO_FATAL_FAILURE(Fill(kN, false, kValueLen));
  const std::string wal = NewestFile(dbname_, ".log");
  ASSERT_FALSE(wal.empty());
  ASSERT_GT(fs::file_size(dbname_ + "/" + wal), 4u * 32768);
  FlipByte(dbname_ + "/" + wal, 200);  // inside the first record's value

  for (WalRecoveryMode mode :
       {WalRecoveryMode::kTolerateCorruptedTailRecords, WalRecoveryMode::kAbsoluteConsistency}) {
    options_.wal_recovery_mode = mode;
    const Status s = Open();
    EXPECT_TRUE(s.IsCorruption()) << static_cast<int>(mode) << ": " << s.ToString();
    EXPECT_FAILS_NAMING(s, wal);
  }

  options_.wal_recovery_mode = WalRecoveryMode::kSkipAnyCorruptedRecords;
  ASSERT_OK(Open());
  const std::vector<bool> present = Present(kN);
  EXPECT_FALSE(present[0]) << "the damaged record was replayed";
  const int lost = static_cast<int>(std::count(present.begin(), present.end(), false));
  EXPECT_LE(lost, 32768 / static_cast<int>(kValueLen) + 2) << "more than the damaged block lost";
  for (int i = 32768 / static_cast<int>(kValueLen) + 2; i < kN; ++i) {
    EXPECT_TRUE(present[i]) << Key(i) << " lies beyond the damaged block";
  }
}

// ---- Tables

TEST_F(DBBadInputTest, CorruptedTableBlockIsReportedByReads) {
  ASSERT_OK(Open());
  for (int i = 0; i < 2000; ++i) ASSERT_OK(db_->Put(WriteOptions(), Key(i), Value(i)));
  ASSERT_OK(db_->CompactRange(nullptr, nullptr));  // one table, Key(0) in its first block
  Close();
  const std::string table = NewestFile(dbname_, ".sst");
  ASSERT_FALSE(table.empty());
  FlipByte(dbname_ + "/" + table, 60);

  ASSERT_OK(Open());
  std::string v;
  Status s = db_->Get(ReadOptions(), Key(0), &v);
  EXPECT_TRUE(s.IsCorruption()) << s.ToString() << " '" << v << "'";
  EXPECT_FAILS_NAMING(s, table);

  std::unique_ptr<Iterator> it = db_->NewIterator(ReadOptions());
  int n = 0;
  for (it->SeekToFirst(); it->Valid() && n < 5000; it->Next()) ++n;
  EXPECT_TRUE(it->status().IsCorruption()) << it->status().ToString() << " after " << n;
  EXPECT_FAILS_NAMING(it->status(), table);
}

// ---- The LOCK

TEST_F(DBBadInputTest, SecondOpenInTheSameProcess) {
  ASSERT_OK(Open());
  std::unique_ptr<DB> second;
  const Status s = DB::Open(options_, dbname_, &second);
  EXPECT_TRUE(s.IsIOError()) << s.ToString();
  EXPECT_FAILS_NAMING(s, "LOCK");
  EXPECT_EQ(nullptr, second);
  std::string v;
  ASSERT_OK(db_->Put(WriteOptions(), "still", "mine"));  // the refused Open changed nothing
}

TEST(DBBadInputMemEnvTest, SecondOpenWithMemEnv) {
  std::unique_ptr<Env> env(NewMemEnv(Env::Default()));
  Options options;
  options.env = env.get();
  options.create_if_missing = true;
  std::unique_ptr<DB> first, second;
  ASSERT_OK(DB::Open(options, "/db", &first));
  const Status s = DB::Open(options, "/db", &second);
  EXPECT_TRUE(s.IsIOError()) << s.ToString();
  EXPECT_FAILS_NAMING(s, "LOCK");
  ASSERT_OK(first->Close());
  first.reset();
  ASSERT_OK(DB::Open(options, "/db", &second));  // released by Close
}

// Run by LockHeldByAnotherProcess in a child process (this test binary, run again with a
// filter): opens the DB named by $LEARNKV_LOCK_HELPER_DB, reports on the descriptor
// $LEARNKV_LOCK_HELPER_FD, and holds the DB until its standard input closes.
TEST(DBBadInputHelper, HoldLock) {
  const char* db = std::getenv("LEARNKV_LOCK_HELPER_DB");
  const char* fd = std::getenv("LEARNKV_LOCK_HELPER_FD");
  if (db == nullptr || fd == nullptr) GTEST_SKIP() << "only run as a child process";
  Options options;
  std::unique_ptr<DB> held;
  const Status s = DB::Open(options, db, &held);
  const char reply = s.ok() ? 'R' : 'E';
  ASSERT_EQ(1, write(std::atoi(fd), &reply, 1));
  ASSERT_OK(s);
  char c;
  while (read(0, &c, 1) > 0) {
  }
  ASSERT_OK(held->Close());
}

TEST_F(DBBadInputTest, LockHeldByAnotherProcess) {
  ASSERT_NO_FATAL_FAILURE(Fill(10, false));

  int ready[2], hold[2];
  ASSERT_EQ(0, pipe2(ready, O_CLOEXEC));
  ASSERT_EQ(0, pipe2(hold, O_CLOEXEC));
  std::vector<std::string> env_strings;
  for (char** e = environ; *e != nullptr; ++e) env_strings.push_back(*e);
  env_strings.push_back("LEARNKV_LOCK_HELPER_DB=" + dbname_);
  env_strings.push_back("LEARNKV_LOCK_HELPER_FD=" + std::to_string(ready[1]));
  std::vector<char*> envp;
  for (std::string& s : env_strings) envp.push_back(s.data());
  envp.push_back(nullptr);
  std::string self = fs::read_symlink("/proc/self/exe").string();
  std::string filter = "--gtest_filter=DBBadInputHelper.HoldLock";
  char* argv[] = {self.data(), filter.data(), nullptr};

  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    dup2(hold[0], 0);
    const int devnull = open("/dev/null", O_WRONLY);
    if (devnull >= 0) dup2(devnull, 1);  // the child's test log; its errors go to stderr
    fcntl(ready[1], F_SETFD, 0);         // keep the reply descriptor across exec
    execve(argv[0], argv, envp.data());
    _exit(127);
  }
  close(ready[1]);
  close(hold[0]);

  pollfd p = {ready[0], POLLIN, 0};
  ASSERT_EQ(1, poll(&p, 1, 30000)) << "the child did not open the DB within 30 s";
  char reply = 0;
  ASSERT_EQ(1, read(ready[0], &reply, 1));
  close(ready[0]);
  ASSERT_EQ('R', reply) << "the child could not open the DB";

  const Status s = Open();
  EXPECT_TRUE(s.IsIOError()) << s.ToString();
  EXPECT_FAILS_NAMING(s, "LOCK");
  EXPECT_EQ(nullptr, db_);

  close(hold[1]);  // the child closes the DB and exits
  int status = 0;
  ASSERT_EQ(pid, waitpid(pid, &status, 0));
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  ASSERT_OK(Open());
  EXPECT_EQ(std::vector<bool>(10, true), Present(10));
}

}  // namespace
}  // namespace learnkv
