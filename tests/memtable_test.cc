#include "engine/memtable.h"

#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "sstable/internal_key.h"

namespace learnkv {
namespace {

std::string IKey(const std::string& user_key, SequenceNumber seq, ValueType t) {
  std::string k;
  AppendInternalKey(&k, user_key, seq, t);
  return k;
}

// Owns one reference for the test's duration.
class MemTableTest : public testing::Test {
 protected:
  MemTableTest() : mem_(new MemTable(4 << 20)) { mem_->Ref(); }
  ~MemTableTest() override { mem_->Unref(); }

  // "value", "NOT_FOUND" (a deletion) or "MISSING" (memtable does not decide).
  std::string Get(const std::string& key, SequenceNumber seq) {
    std::string value = "untouched";
    Status s = Status::IOError("untouched");
    if (!mem_->Get(LookupKey(key, seq), &value, &s)) {
      EXPECT_EQ("untouched", value);
      EXPECT_TRUE(s.IsIOError());
      return "MISSING";
    }
    if (s.IsNotFound()) return "NOT_FOUND";
    EXPECT_TRUE(s.ok()) << s.ToString();
    return value;
  }

  MemTable* mem_;
};

TEST_F(MemTableTest, Empty) {
  EXPECT_EQ("MISSING", Get("a", 100));
  std::unique_ptr<Iterator> it = mem_->NewIterator();
  it->SeekToFirst();
  EXPECT_FALSE(it->Valid());
  it->SeekToLast();
  EXPECT_FALSE(it->Valid());
  EXPECT_EQ(0u, mem_->num_entries());
}

TEST_F(MemTableTest, GetSeesNewestVisibleVersion) {
  mem_->Add(1, kTypeValue, "k", "v1");
  mem_->Add(5, kTypeValue, "k", "v5");
  mem_->Add(8, kTypeDeletion, "k", "");
  mem_->Add(10, kTypeValue, "k", "v10");
  EXPECT_EQ("MISSING", Get("k", 0));
  EXPECT_EQ("v1", Get("k", 1));
  EXPECT_EQ("v1", Get("k", 4));
  EXPECT_EQ("v5", Get("k", 5));
  EXPECT_EQ("v5", Get("k", 7));
  EXPECT_EQ("NOT_FOUND", Get("k", 8));
  EXPECT_EQ("NOT_FOUND", Get("k", 9));
  EXPECT_EQ("v10", Get("k", kMaxSequenceNumber));
  EXPECT_EQ(4u, mem_->num_entries());
  EXPECT_EQ(1u, mem_->num_deletions());
}

TEST_F(MemTableTest, NeighbouringKeysDoNotMatch) {
  mem_->Add(1, kTypeValue, "ab", "x");
  mem_->Add(2, kTypeValue, "abc", "y");
  mem_->Add(3, kTypeValue, "", "empty");
  EXPECT_EQ("MISSING", Get("a", 10));
  EXPECT_EQ("x", Get("ab", 10));
  EXPECT_EQ("y", Get("abc", 10));
  EXPECT_EQ("MISSING", Get("abcd", 10));
  EXPECT_EQ("empty", Get("", 10));
  // Binary keys and values, and a long key that does not fit the stack seek buffer.
  const std::string bin("\0\xff\x01", 3);
  const std::string long_key(1000, 'L');
  mem_->Add(4, kTypeValue, bin, bin);
  mem_->Add(5, kTypeValue, long_key, "long");
  EXPECT_EQ(bin, Get(bin, 10));
  EXPECT_EQ("long", Get(long_key, 10));
  EXPECT_EQ("MISSING", Get(long_key + "x", 10));
}

TEST_F(MemTableTest, IteratorOrdersByInternalKey) {
  mem_->Add(3, kTypeValue, "b", "b3");
  mem_->Add(1, kTypeValue, "a", "a1");
  mem_->Add(7, kTypeDeletion, "b", "");
  mem_->Add(2, kTypeValue, "c", "c2");
  mem_->Add(4, kTypeValue, "a", "a4");
  const std::vector<std::pair<std::string, std::string>> want = {{IKey("a", 4, kTypeValue), "a4"},
                                                                 {IKey("a", 1, kTypeValue), "a1"},
                                                                 {IKey("b", 7, kTypeDeletion), ""},
                                                                 {IKey("b", 3, kTypeValue), "b3"},
                                                                 {IKey("c", 2, kTypeValue), "c2"}};

  std::unique_ptr<Iterator> it = mem_->NewIterator();
  size_t i = 0;
  for (it->SeekToFirst(); it->Valid(); it->Next(), ++i) {
    ASSERT_LT(i, want.size());
    EXPECT_EQ(want[i].first, it->key().ToString());
    EXPECT_EQ(want[i].second, it->value().ToString());
  }
  EXPECT_EQ(want.size(), i);
  EXPECT_TRUE(it->status().ok());

  i = want.size();
  for (it->SeekToLast(); it->Valid(); it->Prev()) {
    ASSERT_GT(i, 0u);
    --i;
    EXPECT_EQ(want[i].first, it->key().ToString());
  }
  EXPECT_EQ(0u, i);

  // Seek to a snapshot of "b": the newest version at or below sequence 5.
  it->Seek(LookupKey("b", 5).internal_key());
  ASSERT_TRUE(it->Valid());
  EXPECT_EQ(want[3].first, it->key().ToString());
  it->Prev();
  ASSERT_TRUE(it->Valid());
  EXPECT_EQ(want[2].first, it->key().ToString());

  // SeekForPrev: the last entry <= target.
  it->SeekForPrev(IKey("b", 5, kTypeValue));
  ASSERT_TRUE(it->Valid());
  EXPECT_EQ(want[2].first, it->key().ToString());
  it->SeekForPrev(IKey("a", 100, kTypeValue));
  EXPECT_FALSE(it->Valid());
  it->SeekForPrev(IKey("zzz", 0, kTypeValue));
  ASSERT_TRUE(it->Valid());
  EXPECT_EQ(want[4].first, it->key().ToString());
  it->Seek(IKey("zzz", 0, kTypeValue));
  EXPECT_FALSE(it->Valid());
}

TEST_F(MemTableTest, IteratorKeepsMemTableAlive) {
  MemTable* m = new MemTable(4 << 20);
  m->Ref();
  m->Add(1, kTypeValue, "k", "v");
  std::unique_ptr<Iterator> it = m->NewIterator();
  m->Unref();  // the iterator's reference remains
  it->SeekToFirst();
  ASSERT_TRUE(it->Valid());
  EXPECT_EQ("v", it->value().ToString());
  it.reset();  // deletes the memtable (checked by the sanitizer builds)
}

TEST_F(MemTableTest, MemoryUsageGrows) {
  const size_t before = mem_->ApproximateMemoryUsage();
  for (int i = 0; i < 1000; ++i) {
    mem_->Add(i + 1, kTypeValue, "key" + std::to_string(i), std::string(100, 'v'));
  }
  EXPECT_GT(mem_->ApproximateMemoryUsage(), before + 1000 * 100);
}

// Random puts and deletes at increasing sequence numbers, checked against a model at random
// snapshots.
TEST_F(MemTableTest, MatchesModelAtEverySnapshot) {
  std::mt19937 rng(42);
  // user key -> [(seq, value or nullopt-as-deletion)]
  std::map<std::string, std::vector<std::pair<SequenceNumber, std::string>>> model;
  const std::string kDeleted = "\x01<deleted>";
  SequenceNumber seq = 0;
  for (int i = 0; i < 3000; ++i) {
    const std::string key = "k" + std::to_string(rng() % 300);
    ++seq;
    if (rng() % 4 == 0) {
      mem_->Add(seq, kTypeDeletion, key, "");
      model[key].emplace_back(seq, kDeleted);
    } else {
      const std::string value = "v" + std::to_string(seq);
      mem_->Add(seq, kTypeValue, key, value);
      model[key].emplace_back(seq, value);
    }
  }
  for (int i = 0; i < 3000; ++i) {
    const std::string key = "k" + std::to_string(rng() % 320);  // some never written
    const SequenceNumber snap = rng() % (seq + 2);
    std::string want = "MISSING";
    for (const auto& [s, v] : model[key]) {
      if (s <= snap) want = (v == kDeleted) ? "NOT_FOUND" : v;
    }
    ASSERT_EQ(want, Get(key, snap)) << key << " @ " << snap;
  }

  // The iterator yields exactly the model's entries in internal-key order.
  std::map<std::string, std::string, bool (*)(const std::string&, const std::string&)> ordered(
      [](const std::string& a, const std::string& b) { return CompareInternalKeys(a, b) < 0; });
  for (const auto& [key, versions] : model) {
    for (const auto& [s, v] : versions) {
      ordered[IKey(key, s, v == kDeleted ? kTypeDeletion : kTypeValue)] = v == kDeleted ? "" : v;
    }
  }
  std::unique_ptr<Iterator> it = mem_->NewIterator();
  auto m = ordered.begin();
  for (it->SeekToFirst(); it->Valid(); it->Next(), ++m) {
    ASSERT_NE(ordered.end(), m);
    ASSERT_EQ(m->first, it->key().ToString());
    ASSERT_EQ(m->second, it->value().ToString());
  }
  EXPECT_EQ(ordered.end(), m);
  EXPECT_EQ(3000u, mem_->num_entries());
}

// Lock-free readers while the single writer adds: every published write is visible, with
// its full value, at its sequence number.
TEST_F(MemTableTest, ConcurrentGetsWhileAdding) {
  constexpr int kWrites = 20000;
  std::atomic<int> published{0};  // writes [0, published) are in the memtable
  std::atomic<bool> done{false};
  std::atomic<int> errors{0};
  auto key = [](int i) { return "key" + std::to_string(i % 5000); };
  auto value = [](int i) { return "value-" + std::to_string(i) + std::string(i % 50, '.'); };

  auto reader = [&](int id) {
    std::mt19937 rng(id);
    std::string got;
    while (!done.load(std::memory_order_acquire)) {
      const int n = published.load(std::memory_order_acquire);
      if (n == 0) continue;
      const int i = static_cast<int>(rng() % n);
      Status s;
      // At i's own sequence number, write i is the newest visible version of its key.
      if (!mem_->Get(LookupKey(key(i), i + 1), &got, &s) || !s.ok() || got != value(i)) {
        errors.fetch_add(1);
      }
    }
  };
  std::vector<std::thread> readers;
  for (int r = 0; r < 2; ++r) readers.emplace_back(reader, r);
  for (int i = 0; i < kWrites; ++i) {
    mem_->Add(i + 1, kTypeValue, key(i), value(i));
    published.store(i + 1, std::memory_order_release);
  }
  done.store(true, std::memory_order_release);
  for (std::thread& t : readers) t.join();
  EXPECT_EQ(0, errors.load());
  EXPECT_EQ(static_cast<uint64_t>(kWrites), mem_->num_entries());
}

// Get answers from the hash index, iterators from the skiplist: both must agree, with long
// hash chains (the smallest bucket array), keys sharing more than the 8-byte prefix the
// skiplist compares first, short keys and keys holding zero bytes.
TEST(MemTableIndexTest, GetAgreesWithIteratorSeek) {
  MemTable* mem = new MemTable(0);  // 16 buckets
  mem->Ref();
  std::mt19937 rng(7);
  const std::vector<std::string> stems = {"", "a", std::string("a\0", 2), "ab", "prefix__",
                                          "prefix__long_tail_"};
  std::vector<std::string> keys;
  for (const std::string& stem : stems) {
    for (int i = 0; i < 40; ++i) {
      std::string k = stem;
      if (i > 0) k += std::string(1, static_cast<char>(i % 3 == 0 ? 0 : 'a' + i % 26));
      if (i > 20) k += std::to_string(i);
      keys.push_back(k);
    }
  }
  SequenceNumber seq = 0;
  for (int i = 0; i < 3000; ++i) {
    const std::string& k = keys[rng() % keys.size()];
    const bool del = rng() % 5 == 0;
    ++seq;
    mem->Add(seq, del ? kTypeDeletion : kTypeValue, k, del ? "" : "v" + std::to_string(seq));
  }
  std::unique_ptr<Iterator> it = mem->NewIterator();
  for (int i = 0; i < 5000; ++i) {
    const std::string& k = keys[rng() % keys.size()];
    const SequenceNumber snapshot = rng() % (seq + 2);
    const LookupKey lkey(k, snapshot);
    std::string expected = "MISSING";
    it->Seek(lkey.internal_key());
    if (it->Valid() && ExtractUserKey(it->key()) == Slice(k)) {
      const uint8_t type = static_cast<uint8_t>(DecodeFixed64(it->key().end() - 8) & 0xff);
      expected = type == kTypeValue ? it->value().ToString() : "NOT_FOUND";
    }
    std::string value;
    Status s;
    std::string got = "MISSING";
    if (mem->Get(lkey, &value, &s)) got = s.ok() ? value : (s.IsNotFound() ? "NOT_FOUND" : "?");
    ASSERT_EQ(expected, got) << "key size " << k.size() << " snapshot " << snapshot;
  }
  it.reset();
  mem->Unref();
}

}  // namespace
}  // namespace learnkv
