// Tests of VersionSet, Version and Compaction without tables on disk: MANIFEST round trips,
// recovery errors, level invariants, overlap queries, compaction picking and the merge's
// decisions (base level, grandparent cuts, conflicts).
#include "engine/version_set.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "engine/compaction.h"
#include "engine/filename.h"
#include "engine/info_log.h"
#include "engine/table_cache.h"
#include "util/mem_env.h"

namespace learnkv {
namespace {

#define ASSERT_OK(expr)                    \
  do {                                     \
    const Status _s = (expr);              \
    ASSERT_TRUE(_s.ok()) << _s.ToString(); \
  } while (0)

std::string IKey(const std::string& user_key, SequenceNumber seq, ValueType type = kTypeValue) {
  std::string k;
  AppendInternalKey(&k, user_key, seq, type);
  return k;
}

FileMetaData File(uint64_t number, const std::string& lo, const std::string& hi,
                  uint64_t size = 1000, SequenceNumber seq = 100) {
  FileMetaData f;
  f.number = number;
  f.file_size = size;
  f.smallest = IKey(lo, seq);
  f.largest = IKey(hi, seq);
  f.smallest_seqno = seq;
  f.largest_seqno = seq;
  f.num_entries = 10;
  return f;
}

class VersionSetTest : public testing::Test {
 protected:
  VersionSetTest() : env_(NewMemEnv(Env::Default())), info_log_(InfoLog::Null()) {
    options_.env = env_.get();
    options_.level0_file_num_compaction_trigger = 2;
    options_.max_bytes_for_level_base = 10000;
    options_.target_file_size_base = 1000;
    cache_ = std::make_unique<TableCache>(dbname_, env_.get(), options_.table_options, 100);
    EXPECT_TRUE(env_->CreateDir(dbname_).ok());
    EXPECT_TRUE(VersionSet::CreateNew(env_.get(), dbname_).ok());
  }

  std::unique_ptr<VersionSet> NewVersionSet() {
    return std::make_unique<VersionSet>(dbname_, &options_, cache_.get(), info_log_.get(), &mu_);
  }

  Status Apply(VersionSet* vset, const VersionEdit& e) {
    VersionEdit edit = e;
    MutexLock l(&mu_);
    return vset->LogAndApply(&edit, &mu_);
  }

  const std::string dbname_ = "/vs";
  std::unique_ptr<Env> env_;
  std::unique_ptr<InfoLog> info_log_;
  Options options_;
  std::unique_ptr<TableCache> cache_;
  Mutex mu_;
};

TEST_F(VersionSetTest, ManifestRoundTrip) {
  auto vset = NewVersionSet();
  {
    MutexLock l(&mu_);
    ASSERT_OK(vset->Recover());
    EXPECT_EQ(0u, vset->LastSequence());
  }
  VersionEdit edit;
  FileMetaData f = File(10, "a", "c");
  f.index_kind = 1;
  f.model_leaves = 64;
  f.fallback_reason = "";
  f.build_micros = 1234;
  f.training_micros = 567;
  edit.AddFile(0, f);
  FileMetaData g = File(11, "m", "z");
  g.index_kind = 2;
  g.fallback_reason = "too few keys";
  edit.AddFile(1, g);
  {
    MutexLock l(&mu_);
    vset->MarkFileNumberUsed(11);
    vset->SetLastSequence(777);
  }
  ASSERT_OK(Apply(vset.get(), edit));
  VersionEdit remove;
  remove.RemoveFile(0, 10);
  remove.AddFile(1, File(12, "a", "c"));
  remove.SetLogNumber(9);
  ASSERT_OK(Apply(vset.get(), remove));
  vset.reset();

  auto again = NewVersionSet();
  MutexLock l(&mu_);
  ASSERT_OK(again->Recover());
  EXPECT_EQ(777u, again->LastSequence());
  EXPECT_EQ(9u, again->LogNumber());
  EXPECT_GT(again->NewFileNumber(), 12u);
  const std::shared_ptr<Version> v = again->current();
  EXPECT_EQ(0, v->NumFiles(0));
  ASSERT_EQ(2, v->NumFiles(1));
  EXPECT_EQ(12u, v->files(1)[0]->number);
  EXPECT_EQ(11u, v->files(1)[1]->number);
  EXPECT_EQ("too few keys", v->files(1)[1]->fallback_reason);
  EXPECT_EQ(2, v->files(1)[1]->index_kind);
}

TEST_F(VersionSetTest, RecoverReportsMissingAndDamagedManifest) {
  ASSERT_OK(SetCurrentFile(env_.get(), dbname_, 42));
  auto vset = NewVersionSet();
  {
    MutexLock l(&mu_);
    Status s = vset->Recover();
    EXPECT_TRUE(s.IsCorruption()) << s.ToString();
    EXPECT_NE(std::string::npos, s.ToString().find("MANIFEST-000042")) << s.ToString();
  }
  ASSERT_OK(
      WriteStringToFile(env_.get(), std::string(100, 'x'), ManifestFileName(dbname_, 42), false));
  MutexLock l(&mu_);
  Status s = vset->Recover();
  EXPECT_FALSE(s.ok());
}

TEST_F(VersionSetTest, OverlappingFilesInALevelAreRejected) {
  auto vset = NewVersionSet();
  {
    MutexLock l(&mu_);
    ASSERT_OK(vset->Recover());
  }
  VersionEdit edit;
  edit.AddFile(1, File(5, "a", "m"));
  edit.AddFile(1, File(6, "k", "z"));
  EXPECT_TRUE(Apply(vset.get(), edit).IsCorruption());
  VersionEdit l0;  // level 0 may overlap
  l0.AddFile(0, File(7, "a", "m"));
  l0.AddFile(0, File(8, "k", "z", 1000, 200));
  ASSERT_OK(Apply(vset.get(), l0));
}

TEST_F(VersionSetTest, OverlapQueries) {
  auto vset = NewVersionSet();
  {
    MutexLock l(&mu_);
    ASSERT_OK(vset->Recover());
  }
  VersionEdit edit;
  edit.AddFile(0, File(1, "c", "e"));
  edit.AddFile(0, File(2, "d", "h", 1000, 200));
  edit.AddFile(0, File(3, "x", "y", 1000, 300));
  edit.AddFile(1, File(4, "a", "b"));
  edit.AddFile(1, File(5, "f", "g"));
  ASSERT_OK(Apply(vset.get(), edit));
  MutexLock l(&mu_);
  const std::shared_ptr<Version> v = vset->current();
  EXPECT_EQ(1u, FindFile(v->files(1), IKey("c", 5)));
  EXPECT_EQ(0u, FindFile(v->files(1), IKey("b", 500)));  // newer than the file's "b"@100
  EXPECT_EQ(1u, FindFile(v->files(1), IKey("b", 5)));    // older: after it
  EXPECT_EQ(2u, FindFile(v->files(1), IKey("h", 5)));
  const Slice c("c"), cc("cc"), h("h"), z("z");
  EXPECT_FALSE(v->OverlapInLevel(1, &c, &cc));
  EXPECT_TRUE(v->OverlapInLevel(1, &c, &h));
  EXPECT_TRUE(v->OverlapInLevel(1, nullptr, nullptr));
  EXPECT_FALSE(v->OverlapInLevel(1, &h, &z));
  // Level 0: "c".."cc" touches file 1, which overlaps file 2: both.
  FileList l0 = v->GetOverlappingInputs(0, &c, &cc);
  ASSERT_EQ(2u, l0.size());
  FileList l1 = v->GetOverlappingInputs(1, &c, &h);
  ASSERT_EQ(1u, l1.size());
  EXPECT_EQ(5u, l1[0]->number);
}

TEST_F(VersionSetTest, PickCompactionByScoreAndConflicts) {
  auto vset = NewVersionSet();
  {
    MutexLock l(&mu_);
    ASSERT_OK(vset->Recover());
  }
  VersionEdit edit;
  edit.AddFile(0, File(1, "c", "e", 1000, 100));
  edit.AddFile(0, File(2, "d", "h", 1000, 200));
  edit.AddFile(1, File(3, "a", "b"));
  edit.AddFile(1, File(4, "f", "g"));
  edit.AddFile(2, File(5, "e", "z"));
  ASSERT_OK(Apply(vset.get(), edit));
  MutexLock l(&mu_);
  std::unique_ptr<Compaction> c = vset->PickCompaction({});
  ASSERT_NE(nullptr, c);
  EXPECT_EQ(0, c->level());
  EXPECT_EQ(2u, c->inputs(0).size());
  ASSERT_EQ(1u, c->inputs(1).size());
  EXPECT_EQ(4u, c->inputs(1)[0]->number);
  EXPECT_EQ(1u, c->mutable_grandparents()->size());
  EXPECT_FALSE(c->IsTrivialMove());
  // While it runs, no second level-0 compaction.
  std::vector<const Compaction*> running = {c.get()};
  EXPECT_EQ(nullptr, vset->PickCompaction(running));

  // Base-level checks look below the output level (level 2 holds "e".."z").
  EXPECT_TRUE(c->IsBaseLevelForKey("a"));
  EXPECT_FALSE(c->IsBaseLevelForKey("f"));
}

TEST_F(VersionSetTest, LevelScoreAndRoundRobin) {
  auto vset = NewVersionSet();
  {
    MutexLock l(&mu_);
    ASSERT_OK(vset->Recover());
  }
  VersionEdit edit;
  // Level 1 holds 3 x 6000 bytes against a 10000-byte target.
  edit.AddFile(1, File(1, "a", "b", 6000));
  edit.AddFile(1, File(2, "c", "d", 6000));
  edit.AddFile(1, File(3, "e", "f", 6000));
  ASSERT_OK(Apply(vset.get(), edit));
  MutexLock l(&mu_);
  EXPECT_GT(vset->current()->CompactionScore(1), 1.0);
  EXPECT_GT(vset->current()->EstimatedPendingCompactionBytes(), 0u);
  std::unique_ptr<Compaction> first = vset->PickCompaction({});
  ASSERT_NE(nullptr, first);
  EXPECT_EQ(1u, first->inputs(0)[0]->number);
  EXPECT_TRUE(first->IsTrivialMove());
  std::unique_ptr<Compaction> second = vset->PickCompaction({first.get()});
  ASSERT_NE(nullptr, second);
  EXPECT_EQ(2u, second->inputs(0)[0]->number);  // the pointer moved past file 1
  EXPECT_FALSE(second->ConflictsWith(*first));
  EXPECT_TRUE(first->ConflictsWith(*first));
}

TEST_F(VersionSetTest, ShouldStopBeforeCutsAtGrandparentOverlap) {
  auto vset = NewVersionSet();
  {
    MutexLock l(&mu_);
    ASSERT_OK(vset->Recover());
  }
  VersionEdit edit;
  edit.AddFile(0, File(1, "a", "z"));
  edit.AddFile(0, File(2, "a", "z", 1000, 200));
  // Grandparents (level 2): 12 files of 5000 bytes, far more than 10 x 1000 bytes.
  for (int i = 0; i < 12; ++i) {
    const std::string lo(1, static_cast<char>('a' + 2 * i));
    const std::string hi = lo + "z";
    edit.AddFile(2, File(10 + i, lo, hi, 5000));
  }
  ASSERT_OK(Apply(vset.get(), edit));
  MutexLock l(&mu_);
  std::unique_ptr<Compaction> c = vset->PickCompaction({});
  ASSERT_NE(nullptr, c);
  int cuts = 0;
  for (char ch = 'a'; ch <= 'z'; ++ch) {
    if (c->ShouldStopBefore(IKey(std::string(1, ch), 1))) ++cuts;
  }
  EXPECT_GT(cuts, 0);
}

TEST_F(VersionSetTest, LiveFilesIncludeOldVersionsStillHeld) {
  auto vset = NewVersionSet();
  {
    MutexLock l(&mu_);
    ASSERT_OK(vset->Recover());
  }
  VersionEdit add;
  add.AddFile(1, File(7, "a", "b"));
  ASSERT_OK(Apply(vset.get(), add));
  std::shared_ptr<Version> held;
  {
    MutexLock l(&mu_);
    held = vset->current();
  }
  VersionEdit remove;
  remove.RemoveFile(1, 7);
  ASSERT_OK(Apply(vset.get(), remove));
  MutexLock l(&mu_);
  std::set<uint64_t> live;
  vset->AddLiveFiles(&live);
  EXPECT_EQ(1u, live.count(7));
  held.reset();
  live.clear();
  vset->AddLiveFiles(&live);
  EXPECT_EQ(0u, live.count(7));
}

}  // namespace
}  // namespace learnkv
