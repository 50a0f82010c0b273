// Runs one set of behaviours over every Env (POSIX and in-memory), so that tests written
// against the fast in-memory Env mean the same thing on disk.

#include "learnkv/env.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "tests/support/test_util.h"
#include "util/mem_env.h"
#include "util/random.h"

namespace learnkv {
namespace {

#define ASSERT_OK(expr)                    \
  do {                                     \
    const Status _s = (expr);              \
    ASSERT_TRUE(_s.ok()) << _s.ToString(); \
  } while (0)

std::string RandomBytes(Random* rnd, size_t n) {
  std::string s(n, '\0');
  for (char& c : s) c = static_cast<char>(rnd->Uniform(256));
  return s;
}

class EnvTest : public testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    if (GetParam() == "posix") {
      env_ = Env::Default();
      dir_ = test::NewTempDir("env_test");
    } else {
      mem_env_.reset(NewMemEnv(Env::Default()));
      env_ = mem_env_.get();
      dir_ = "/mem/env_test";
      ASSERT_OK(env_->CreateDir(dir_));
    }
  }

  std::string Path(const std::string& name) const { return dir_ + "/" + name; }

  std::string Read(const std::string& name) {
    std::string data;
    const Status s = ReadFileToString(env_, Path(name), &data);
    return s.ok() ? data : "<" + s.ToString() + ">";
  }

  std::unique_ptr<Env> mem_env_;
  Env* env_ = nullptr;
  std::string dir_;
};

TEST_P(EnvTest, WriteReadAcrossBufferBoundaries) {
  // Appends of every size from tiny to several buffers long, so buffering and direct writes
  // are both exercised; then every reader must return exactly the bytes written.
  Random rnd(301);
  std::string expected;
  std::unique_ptr<WritableFile> f;
  ASSERT_OK(env_->NewWritableFile(Path("data"), &f));
  for (size_t len : {0, 1, 7, 100, 4096, 65535, 65536, 65537, 300000, 3}) {
    const std::string piece = RandomBytes(&rnd, len);
    ASSERT_OK(f->Append(piece));
    expected += piece;
    ASSERT_EQ(expected.size(), f->Size());
  }
  ASSERT_OK(f->Sync());
  ASSERT_OK(f->Close());
  EXPECT_FALSE(f->Append("x").ok());  // closed

  uint64_t size = 0;
  ASSERT_OK(env_->GetFileSize(Path("data"), &size));
  EXPECT_EQ(expected.size(), size);
  EXPECT_EQ(expected, Read("data"));

  std::unique_ptr<SequentialFile> seq;
  ASSERT_OK(env_->NewSequentialFile(Path("data"), &seq));
  std::vector<char> scratch(expected.size() + 10);
  Slice got;
  ASSERT_OK(seq->Read(10, &got, scratch.data()));
  EXPECT_EQ(expected.substr(0, 10), got.ToString());
  ASSERT_OK(seq->Skip(1000));
  ASSERT_OK(seq->Read(20, &got, scratch.data()));
  EXPECT_EQ(expected.substr(1010, 20), got.ToString());
  ASSERT_OK(seq->Read(expected.size(), &got, scratch.data()));  // short read: end of file
  EXPECT_EQ(expected.substr(1030), got.ToString());
  ASSERT_OK(seq->Read(10, &got, scratch.data()));
  EXPECT_TRUE(got.empty());

  std::unique_ptr<RandomAccessFile> ra;
  ASSERT_OK(env_->NewRandomAccessFile(Path("data"), &ra));
  EXPECT_EQ(expected.size(), ra->Size());
  for (int i = 0; i < 100; ++i) {
    const uint64_t off = rnd.Uniform64(expected.size());
    const size_t n = rnd.Uniform(70000);
    ASSERT_OK(ra->Read(off, n, &got, scratch.data()));
    ASSERT_EQ(expected.substr(off, n), got.ToString()) << off << " " << n;
  }
  ASSERT_OK(ra->Read(expected.size() + 5, 10, &got, scratch.data()));  // past the end
  EXPECT_TRUE(got.empty());
}

TEST_P(EnvTest, ConcurrentRandomReads) {
  Random rnd(7);
  const std::string data = RandomBytes(&rnd, 200000);
  ASSERT_OK(WriteStringToFile(env_, data, Path("shared"), false));
  std::unique_ptr<RandomAccessFile> ra;
  ASSERT_OK(env_->NewRandomAccessFile(Path("shared"), &ra));
  std::atomic<int> mismatches{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      Random r(t + 1);
      char scratch[512];
      for (int i = 0; i < 2000; ++i) {
        const uint64_t off = r.Uniform64(data.size());
        Slice got;
        if (!ra->Read(off, sizeof(scratch), &got, scratch).ok() ||
            got != Slice(data.substr(off, sizeof(scratch)))) {
          ++mismatches;
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(0, mismatches.load());
}

TEST_P(EnvTest, AppendableAndTruncatingOpens) {
  ASSERT_OK(WriteStringToFile(env_, "abc", Path("f"), true));
  std::unique_ptr<WritableFile> f;
  ASSERT_OK(env_->NewAppendableFile(Path("f"), &f));
  EXPECT_EQ(3u, f->Size());
  ASSERT_OK(f->Append("def"));
  ASSERT_OK(f->Flush());
  uint64_t size = 0;
  ASSERT_OK(env_->GetFileSize(Path("f"), &size));
  EXPECT_EQ(6u, size);  // flushed bytes are visible to others
  ASSERT_OK(f->Close());
  EXPECT_EQ("abcdef", Read("f"));

  ASSERT_OK(env_->NewAppendableFile(Path("new"), &f));  // creates
  EXPECT_EQ(0u, f->Size());
  ASSERT_OK(f->Close());
  EXPECT_TRUE(env_->FileExists(Path("new")));

  ASSERT_OK(env_->NewWritableFile(Path("f"), &f));  // truncates
  ASSERT_OK(f->Close());
  EXPECT_EQ("", Read("f"));
}

TEST_P(EnvTest, RenameReplacesTarget) {
  ASSERT_OK(WriteStringToFile(env_, "new", Path("tmp"), true));
  ASSERT_OK(WriteStringToFile(env_, "old", Path("CURRENT"), true));
  ASSERT_OK(env_->RenameFile(Path("tmp"), Path("CURRENT")));
  EXPECT_FALSE(env_->FileExists(Path("tmp")));
  EXPECT_EQ("new", Read("CURRENT"));
  const Status s = env_->RenameFile(Path("tmp"), Path("other"));
  EXPECT_TRUE(s.IsNotFound()) << s.ToString();
}

TEST_P(EnvTest, ChildrenRemoveAndDirectories) {
  ASSERT_OK(WriteStringToFile(env_, "1", Path("a"), false));
  ASSERT_OK(WriteStringToFile(env_, "22", Path("b"), false));
  ASSERT_OK(env_->CreateDir(Path("sub")));
  ASSERT_OK(env_->CreateDir(Path("sub")));  // exists: fine
  ASSERT_OK(WriteStringToFile(env_, "3", Path("sub/c"), false));

  std::vector<std::string> children;
  ASSERT_OK(env_->GetChildren(dir_, &children));
  std::sort(children.begin(), children.end());
  EXPECT_EQ((std::vector<std::string>{"a", "b", "sub"}), children);

  bool is_dir = false;
  ASSERT_OK(env_->IsDirectory(Path("sub"), &is_dir));
  EXPECT_TRUE(is_dir);
  ASSERT_OK(env_->IsDirectory(Path("a"), &is_dir));
  EXPECT_FALSE(is_dir);
  EXPECT_FALSE(env_->IsDirectory(Path("missing"), &is_dir).ok());

  EXPECT_FALSE(env_->RemoveDir(Path("sub")).ok());  // not empty
  ASSERT_OK(env_->RemoveFile(Path("sub/c")));
  ASSERT_OK(env_->SyncDir(Path("sub")));
  ASSERT_OK(env_->RemoveDir(Path("sub")));
  ASSERT_OK(env_->RemoveFile(Path("a")));
  EXPECT_TRUE(env_->RemoveFile(Path("a")).IsNotFound());
  ASSERT_OK(env_->GetChildren(dir_, &children));
  EXPECT_EQ((std::vector<std::string>{"b"}), children);
  ASSERT_OK(env_->SyncDir(dir_));
  EXPECT_FALSE(env_->SyncDir(Path("missing")).ok());
  EXPECT_FALSE(env_->GetChildren(Path("missing"), &children).ok());
}

TEST_P(EnvTest, MissingFileIsNotFoundNamingIt) {
  std::unique_ptr<SequentialFile> seq;
  Status s = env_->NewSequentialFile(Path("nope"), &seq);
  EXPECT_TRUE(s.IsNotFound()) << s.ToString();
  EXPECT_NE(std::string::npos, s.ToString().find(Path("nope"))) << s.ToString();
  std::unique_ptr<RandomAccessFile> ra;
  EXPECT_TRUE(env_->NewRandomAccessFile(Path("nope"), &ra).IsNotFound());
  uint64_t size = 1;
  EXPECT_FALSE(env_->GetFileSize(Path("nope"), &size).ok());
  EXPECT_FALSE(env_->FileExists(Path("nope")));
}

TEST_P(EnvTest, LockIsExclusiveWithinProcess) {
  std::unique_ptr<FileLock> lock;
  ASSERT_OK(env_->LockFile(Path("LOCK"), &lock));
  std::unique_ptr<FileLock> second;
  const Status s = env_->LockFile(Path("LOCK"), &second);
  EXPECT_TRUE(s.IsIOError()) << s.ToString();
  EXPECT_NE(std::string::npos, s.ToString().find(Path("LOCK"))) << s.ToString();
  lock.reset();
  ASSERT_OK(env_->LockFile(Path("LOCK"), &second));
}

TEST_P(EnvTest, ThreadsAndClock) {
  std::atomic<bool> ran{false};
  env_->StartThread([&ran] { ran = true; });
  const uint64_t start = env_->NowMicros();
  for (int i = 0; i < 5000 && !ran; ++i) env_->SleepForMicroseconds(1000);
  EXPECT_TRUE(ran.load());
  const uint64_t before = env_->NowMicros();
  env_->SleepForMicroseconds(20000);
  EXPECT_GE(env_->NowMicros() - before, 15000u);
  EXPECT_GE(before, start);
}

INSTANTIATE_TEST_SUITE_P(AllEnvs, EnvTest, testing::Values("posix", "mem"),
                         [](const testing::TestParamInfo<std::string>& info) {
                           return info.param;
                         });

// ---- POSIX only: behaviour the in-memory Env cannot show.

// Exit codes of the helper process that tries to take the lock.
constexpr int kChildGotIOErrorNamingFile = 10;
constexpr int kChildGotLock = 11;
constexpr int kChildOther = 12;
constexpr char kLockHelperVar[] = "LEARNKV_ENV_TEST_LOCK_FILE";

// A copy of this binary started with kLockHelperVar set only tries that lock, then exits with
// the outcome. It must be a fresh program: a forked child would inherit this process's table
// of held locks and fail for the wrong reason.
[[maybe_unused]] const bool kIsLockHelper = [] {
  const char* fname = getenv(kLockHelperVar);
  if (fname == nullptr) return false;
  std::unique_ptr<FileLock> lock;
  const Status s = Env::Default()->LockFile(fname, &lock);
  int code = kChildOther;
  if (s.ok()) {
    code = kChildGotLock;
  } else if (s.IsIOError() && s.ToString().find(fname) != std::string::npos) {
    code = kChildGotIOErrorNamingFile;
  }
  _exit(code);
}();

int LockInOtherProcess(const std::string& fname) {
  const pid_t pid = fork();
  if (pid == 0) {
    setenv(kLockHelperVar, fname.c_str(), 1);
    execl("/proc/self/exe", "env_test_lock_helper", static_cast<char*>(nullptr));
    _exit(kChildOther);
  }
  int status = 0;
  if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status)) return -1;
  return WEXITSTATUS(status);
}

TEST(PosixEnvTest, LockExcludesOtherProcesses) {
  const std::string fname = test::NewTempDir("env_lock") + "/LOCK";
  std::unique_ptr<FileLock> lock;
  ASSERT_OK(Env::Default()->LockFile(fname, &lock));
  EXPECT_EQ(kChildGotIOErrorNamingFile, LockInOtherProcess(fname));
  lock.reset();
  EXPECT_EQ(kChildGotLock, LockInOtherProcess(fname));
}

TEST(PosixEnvTest, ErrorsNameFileAndErrno) {
  Env* env = Env::Default();
  const std::string missing_dir = test::NewTempDir("env_err") + "/no/such/dir";
  std::unique_ptr<WritableFile> f;
  const Status s = env->NewWritableFile(missing_dir + "/f", &f);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(std::string::npos, s.ToString().find(missing_dir + "/f")) << s.ToString();
  EXPECT_NE(std::string::npos, s.ToString().find("No such file or directory")) << s.ToString();
  EXPECT_FALSE(env->CreateDir(missing_dir).ok());  // parents are not created
}

TEST(PosixEnvTest, UnflushedBytesStayBuffered) {
  Env* env = Env::Default();
  const std::string fname = test::NewTempDir("env_buf") + "/f";
  std::unique_ptr<WritableFile> f;
  ASSERT_OK(env->NewWritableFile(fname, &f));
  ASSERT_OK(f->Append("hello"));
  uint64_t size = 99;
  ASSERT_OK(env->GetFileSize(fname, &size));
  EXPECT_EQ(0u, size);  // one write(2) per 64 KiB, not per Append
  ASSERT_OK(f->Flush());
  ASSERT_OK(env->GetFileSize(fname, &size));
  EXPECT_EQ(5u, size);
}

}  // namespace
}  // namespace learnkv
