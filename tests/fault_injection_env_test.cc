#include "util/fault_injection_env.h"

#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "tests/support/test_util.h"
#include "util/mem_env.h"

namespace learnkv {
namespace {

#define ASSERT_OK(expr)                    \
  do {                                     \
    const Status _s = (expr);              \
    ASSERT_TRUE(_s.ok()) << _s.ToString(); \
  } while (0)

class FaultInjectionEnvTest : public testing::Test {
 protected:
  FaultInjectionEnvTest() : base_(NewMemEnv(Env::Default())), env_(base_.get()) {
    base_->CreateDir(kDir);
  }

  std::unique_ptr<WritableFile> Open(const std::string& name) {
    std::unique_ptr<WritableFile> f;
    EXPECT_TRUE(env_.NewWritableFile(kDir + name, &f).ok());
    return f;
  }

  std::string Contents(const std::string& name) {
    std::string data;
    const Status s = ReadFileToString(base_.get(), kDir + name, &data);
    return s.ok() ? data : "<" + s.ToString() + ">";
  }

  const std::string kDir = "/db/";
  std::unique_ptr<Env> base_;
  FaultInjectionEnv env_;
};

TEST_F(FaultInjectionEnvTest, FailNextAppendFailsOnce) {
  auto f = Open("000001.log");
  ASSERT_OK(f->Append("a"));
  env_.FailNextAppend();
  const Status s = f->Append("b");
  EXPECT_TRUE(s.IsIOError()) << s.ToString();
  EXPECT_NE(std::string::npos, s.ToString().find("000001.log")) << s.ToString();
  ASSERT_OK(f->Append("c"));
  ASSERT_OK(f->Close());
  EXPECT_EQ("ac", Contents("000001.log"));  // the failed append wrote nothing
  EXPECT_EQ(3u, env_.append_count());
  EXPECT_EQ(2u, env_.appended_bytes());
  EXPECT_EQ(1u, env_.injected_failures());
}

TEST_F(FaultInjectionEnvTest, FiltersSelectFiles) {
  auto log = Open("000003.log");
  auto sst = Open("000004.sst");
  env_.SetAppendsFail(true, ".log");
  EXPECT_TRUE(log->Append("x").IsIOError());
  EXPECT_TRUE(log->Append("x").IsIOError());  // every time, not once
  ASSERT_OK(sst->Append("y"));
  env_.FailNextAppend(".sst");
  ASSERT_OK(log->Close());
  auto other = Open("MANIFEST-000005");
  ASSERT_OK(other->Append("z"));  // the .sst fault is still pending, for .sst files only
  EXPECT_TRUE(sst->Append("y").IsIOError());
  ASSERT_OK(sst->Append("y"));
  env_.SetAppendsFail(false);
  log = Open("000006.log");
  ASSERT_OK(log->Append("x"));

  env_.SetSyncsFail(true, "MANIFEST");
  ASSERT_OK(sst->Sync());
  EXPECT_TRUE(other->Sync().IsIOError());
  EXPECT_TRUE(other->Sync().IsIOError());
  env_.ClearFaults();
  ASSERT_OK(other->Sync());
  env_.FailNextSync();
  EXPECT_TRUE(log->Sync().IsIOError());
  ASSERT_OK(log->Sync());
  env_.FailNextSync("db");
  EXPECT_TRUE(env_.SyncDir("/db").IsIOError());  // directories match by their own name
  ASSERT_OK(env_.SyncDir("/db"));
  EXPECT_EQ(6u, env_.sync_count());
  EXPECT_EQ(7u, env_.injected_failures());
  env_.ResetCounters();
  EXPECT_EQ(0u, env_.sync_count() + env_.append_count() + env_.injected_failures());
}

TEST_F(FaultInjectionEnvTest, DropUnsyncedDataKeepsSyncedPrefix) {
  ASSERT_OK(WriteStringToFile(base_.get(), "old", kDir + "appended", true));
  auto synced = Open("synced");
  auto never = Open("never");
  std::unique_ptr<WritableFile> appended;
  ASSERT_OK(env_.NewAppendableFile(kDir + "appended", &appended));
  ASSERT_OK(synced->Append("durable"));
  ASSERT_OK(synced->Sync());
  ASSERT_OK(synced->Append("-lost"));
  ASSERT_OK(synced->Flush());
  ASSERT_OK(never->Append("gone"));
  ASSERT_OK(appended->Append("+new"));
  env_.FailNextSync();
  EXPECT_FALSE(appended->Sync().ok());  // a failed sync makes nothing durable
  ASSERT_OK(synced->Close());
  ASSERT_OK(never->Close());
  ASSERT_OK(appended->Close());
  ASSERT_EQ("durable-lost", Contents("synced"));

  ASSERT_OK(env_.DropUnsyncedData());
  EXPECT_EQ("durable", Contents("synced"));
  EXPECT_EQ("", Contents("never"));
  EXPECT_EQ("old", Contents("appended"));
  ASSERT_OK(env_.DropUnsyncedData());  // idempotent
  EXPECT_EQ("durable", Contents("synced"));
}

TEST_F(FaultInjectionEnvTest, RenameCarriesSyncStateAndRemoveForgets) {
  auto f = Open("CURRENT.tmp");
  ASSERT_OK(f->Append("MANIFEST-1\n"));
  ASSERT_OK(f->Sync());
  ASSERT_OK(f->Append("junk"));
  ASSERT_OK(f->Close());
  ASSERT_OK(env_.RenameFile(kDir + "CURRENT.tmp", kDir + "CURRENT"));
  auto doomed = Open("doomed");
  ASSERT_OK(doomed->Append("x"));
  ASSERT_OK(doomed->Close());
  ASSERT_OK(env_.RemoveFile(kDir + "doomed"));
  ASSERT_OK(env_.DropUnsyncedData());
  EXPECT_EQ("MANIFEST-1\n", Contents("CURRENT"));
  EXPECT_FALSE(base_->FileExists(kDir + "doomed"));
}

TEST_F(FaultInjectionEnvTest, RemoveUnsyncedCreations) {
  ASSERT_OK(WriteStringToFile(base_.get(), "pre", kDir + "existing", true));
  auto kept = Open("kept");
  ASSERT_OK(kept->Sync());
  ASSERT_OK(kept->Close());
  ASSERT_OK(env_.SyncDir("/db/"));
  auto lost = Open("lost");
  ASSERT_OK(lost->Append("data"));
  ASSERT_OK(lost->Sync());  // the data is durable, its directory entry is not
  ASSERT_OK(lost->Close());
  auto rewritten = Open("existing");
  ASSERT_OK(rewritten->Close());
  ASSERT_OK(env_.RemoveUnsyncedCreations());
  EXPECT_TRUE(base_->FileExists(kDir + "kept"));
  EXPECT_FALSE(base_->FileExists(kDir + "lost"));
  EXPECT_TRUE(base_->FileExists(kDir + "existing"));
}

TEST(FaultInjectionPosixTest, DropUnsyncedDataOnDisk) {
  const std::string dir = test::NewTempDir("fault_env");
  FaultInjectionEnv env(Env::Default());
  std::unique_ptr<WritableFile> f;
  ASSERT_OK(env.NewWritableFile(dir + "/000007.log", &f));
  const std::string big(100000, 'r');
  ASSERT_OK(f->Append(big));
  ASSERT_OK(f->Sync());
  ASSERT_OK(f->Append("tail"));
  ASSERT_OK(f->Close());
  uint64_t size = 0;
  ASSERT_OK(Env::Default()->GetFileSize(dir + "/000007.log", &size));
  ASSERT_EQ(big.size() + 4, size);
  ASSERT_OK(env.DropUnsyncedData());
  std::string data;
  ASSERT_OK(ReadFileToString(Env::Default(), dir + "/000007.log", &data));
  EXPECT_EQ(big, data);
}

// Faults toggled while other threads write; run under TSan to check the locking.
TEST_F(FaultInjectionEnvTest, ConcurrentWritersAndFaultChanges) {
  constexpr int kThreads = 4;
  constexpr int kAppends = 2000;
  std::atomic<uint64_t> failures{0};
  std::atomic<uint64_t> appended{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      auto f = Open("file" + std::to_string(t) + (t % 2 == 0 ? ".log" : ".sst"));
      for (int i = 0; i < kAppends; ++i) {
        if (f->Append("abcd").ok()) {
          ++appended;
        } else {
          ++failures;
        }
        if (i % 100 == 0 && !f->Sync().ok()) ++failures;
      }
      f->Close();
    });
  }
  for (int i = 0; i < 200; ++i) {
    env_.SetAppendsFail(i % 2 == 0, ".log");
    env_.FailNextSync();
  }
  for (auto& th : threads) th.join();
  env_.ClearFaults();
  EXPECT_EQ(uint64_t{kThreads} * kAppends, env_.append_count());
  EXPECT_EQ(failures.load(), env_.injected_failures());
  EXPECT_EQ(4 * appended.load(), env_.appended_bytes());
  uint64_t on_disk = 0;
  for (int t = 0; t < kThreads; ++t) {
    on_disk += Contents("file" + std::to_string(t) + (t % 2 == 0 ? ".log" : ".sst")).size();
  }
  EXPECT_EQ(env_.appended_bytes(), on_disk);
}

}  // namespace
}  // namespace learnkv
