#include "engine/skiplist.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>
#include <iterator>
#include <random>
#include <set>
#include <thread>
#include <vector>

#include "util/arena.h"

namespace learnkv {
namespace {

struct U64Comparator {
  int operator()(const uint64_t& a, const uint64_t& b) const {
    return a < b ? -1 : (a > b ? +1 : 0);
  }
};
using List = SkipList<uint64_t, U64Comparator>;

TEST(SkipListTest, Empty) {
  Arena arena;
  List list(U64Comparator(), &arena);
  EXPECT_FALSE(list.Contains(10));
  List::Iterator it(&list);
  EXPECT_FALSE(it.Valid());
  it.SeekToFirst();
  EXPECT_FALSE(it.Valid());
  it.SeekToLast();
  EXPECT_FALSE(it.Valid());
  it.Seek(100);
  EXPECT_FALSE(it.Valid());
  it.SeekForPrev(100);
  EXPECT_FALSE(it.Valid());
}

// Random inserts checked against std::set: membership, both directions, and every seek.
TEST(SkipListTest, MatchesStdSet) {
  constexpr int kN = 2000;
  constexpr uint64_t kRange = 5000;
  std::mt19937_64 rng(1000);
  Arena arena;
  List list(U64Comparator(), &arena);
  std::set<uint64_t> model;
  for (int i = 0; i < kN; ++i) {
    const uint64_t k = rng() % kRange;
    if (model.insert(k).second) list.Insert(k);
  }
  for (uint64_t k = 0; k < kRange; ++k) {
    ASSERT_EQ(model.count(k) == 1, list.Contains(k)) << k;
  }

  List::Iterator it(&list);
  it.SeekToFirst();
  for (uint64_t k : model) {
    ASSERT_TRUE(it.Valid());
    ASSERT_EQ(k, it.key());
    it.Next();
  }
  EXPECT_FALSE(it.Valid());

  it.SeekToLast();
  for (auto r = model.rbegin(); r != model.rend(); ++r) {
    ASSERT_TRUE(it.Valid());
    ASSERT_EQ(*r, it.key());
    it.Prev();
  }
  EXPECT_FALSE(it.Valid());

  for (uint64_t target = 0; target < kRange + 2; ++target) {
    it.Seek(target);
    auto lb = model.lower_bound(target);
    if (lb == model.end()) {
      EXPECT_FALSE(it.Valid()) << target;
    } else {
      ASSERT_TRUE(it.Valid()) << target;
      EXPECT_EQ(*lb, it.key());
    }
    it.SeekForPrev(target);
    auto ub = model.upper_bound(target);
    if (ub == model.begin()) {
      EXPECT_FALSE(it.Valid()) << target;
    } else {
      ASSERT_TRUE(it.Valid()) << target;
      EXPECT_EQ(*std::prev(ub), it.key());
    }
  }
}

TEST(SkipListTest, IteratorSeesLaterInserts) {
  Arena arena;
  List list(U64Comparator(), &arena);
  list.Insert(10);
  list.Insert(30);
  List::Iterator it(&list);
  it.Seek(10);
  list.Insert(20);
  it.Next();
  ASSERT_TRUE(it.Valid());
  EXPECT_EQ(20u, it.key());
  it.Prev();
  ASSERT_TRUE(it.Valid());
  EXPECT_EQ(10u, it.key());
}

// One writer inserting while readers run. Keys carry a check value in their low 16 bits, so
// a reader that saw a half-built node (or garbage) would notice.
constexpr int kCheckBits = 16;

uint64_t MakeKey(uint64_t r) {
  r &= (uint64_t{1} << (64 - kCheckBits)) - 1;
  const uint64_t check = (r * 0x9e3779b97f4a7c15ull) >> (64 - kCheckBits);
  return (r << kCheckBits) | check;
}
bool WellFormed(uint64_t k) { return MakeKey(k >> kCheckBits) == k; }

TEST(SkipListTest, ConcurrentReadersWithOneWriter) {
  constexpr int kKeys = 60000;
  constexpr int kReaders = 3;
  std::mt19937_64 rng(7);
  std::set<uint64_t> distinct;
  std::vector<uint64_t> keys;
  while (keys.size() < kKeys) {
    const uint64_t k = MakeKey(rng());
    if (distinct.insert(k).second) keys.push_back(k);
  }

  Arena arena;
  List list(U64Comparator(), &arena);
  std::atomic<int> inserted{0};  // keys[0, inserted) are in the list
  std::atomic<bool> done{false};
  std::atomic<int> errors{0};
  std::atomic<long> checks{0};

  auto reader = [&](int id) {
    std::mt19937_64 r(100 + id);
    List::Iterator it(&list);
    while (!done.load(std::memory_order_acquire)) {
      const int n = inserted.load(std::memory_order_acquire);
      if (n > 0) {
        // Everything published before we looked must be found.
        const uint64_t k = keys[r() % n];
        if (!list.Contains(k)) errors.fetch_add(1);
        it.Seek(k);
        if (!it.Valid() || it.key() != k) errors.fetch_add(1);
      }
      // A forward walk is strictly increasing, well formed, and at least as long as what was
      // published before it started.
      uint64_t prev = 0;
      int count = 0;
      bool first = true;
      for (it.SeekToFirst(); it.Valid(); it.Next()) {
        const uint64_t k = it.key();
        if (!WellFormed(k) || (!first && k <= prev)) errors.fetch_add(1);
        prev = k;
        first = false;
        ++count;
      }
      if (count < n) errors.fetch_add(1);
      // A short backward walk from a random point is strictly decreasing.
      it.SeekForPrev(MakeKey(r()));
      for (int i = 0; i < 50 && it.Valid(); ++i) {
        const uint64_t k = it.key();
        if (!WellFormed(k)) errors.fetch_add(1);
        it.Prev();
        if (it.Valid() && it.key() >= k) errors.fetch_add(1);
      }
      checks.fetch_add(1);
    }
  };

  std::vector<std::thread> readers;
  for (int i = 0; i < kReaders; ++i) readers.emplace_back(reader, i);
  for (int i = 0; i < kKeys; ++i) {
    list.Insert(keys[i]);
    inserted.store(i + 1, std::memory_order_release);
    if (i % 1000 == 0) std::this_thread::yield();
  }
  // Let the readers make at least one full pass over the final list.
  const long before = checks.load();
  while (checks.load() < before + kReaders) std::this_thread::yield();
  done.store(true, std::memory_order_release);
  for (std::thread& t : readers) t.join();

  EXPECT_EQ(0, errors.load());
  EXPECT_GT(checks.load(), 0);
  List::Iterator it(&list);
  int count = 0;
  for (it.SeekToFirst(); it.Valid(); it.Next()) ++count;
  EXPECT_EQ(kKeys, count);
}

}  // namespace
}  // namespace learnkv
