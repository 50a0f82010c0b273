// Tests of the sharded block cache: hits and misses, pins outliving eviction and replacement,
// capacity and second-chance eviction, a random workload against a model (which exercises the
// hash table's deletions), and concurrent use.
#include "sstable/block_cache.h"

#include <gtest/gtest.h>

#include <map>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "sstable/block_builder.h"

namespace learnkv {
namespace {

// A block whose single record says which (id, key) it was made for.
Block MakeBlock(uint64_t id, uint64_t key, size_t padding = 0) {
  BlockBuilder builder;
  builder.Add(std::to_string(id) + ":" + std::to_string(key), std::string(padding, 'p'));
  const Slice contents = builder.Finish();
  BlockContents raw;
  raw.data.reset(new char[contents.size()]);
  memcpy(raw.data.get(), contents.data(), contents.size());
  raw.size = contents.size();
  Block block;
  EXPECT_TRUE(Block::Parse(std::move(raw), false, "test", 0, &block).ok());
  return block;
}

std::string Label(const BlockCache::Pin& pin) {
  if (!pin) return "(none)";
  Slice k, v;
  pin.block()->RecordAt(0, &k, &v);
  return k.ToString();
}

TEST(BlockCache, HitsAndMisses) {
  BlockCache cache(1 << 20);
  EXPECT_FALSE(cache.Lookup(1, 7));
  {
    BlockCache::Pin pin = cache.Insert(1, 7, MakeBlock(1, 7), 100);
    EXPECT_EQ(Label(pin), "1:7");
  }
  EXPECT_EQ(Label(cache.Lookup(1, 7)), "1:7");
  EXPECT_FALSE(cache.Lookup(2, 7));  // another reader's block 7
  EXPECT_FALSE(cache.Lookup(1, 8));
  EXPECT_EQ(cache.TotalCharge(), 100u);
  EXPECT_EQ(cache.PinnedCharge(), 0u);
}

TEST(BlockCache, IdsAreUnique) {
  BlockCache cache(0);
  const uint64_t a = cache.NewId(), b = cache.NewId();
  EXPECT_NE(a, b);
}

TEST(BlockCache, PinsOutliveEraseAndReplacement) {
  BlockCache cache(1 << 20);
  BlockCache::Pin first = cache.Insert(1, 1, MakeBlock(1, 1), 10);
  EXPECT_EQ(cache.PinnedCharge(), 10u);
  BlockCache::Pin second = cache.Insert(1, 1, MakeBlock(9, 9), 20);  // replaces the entry
  EXPECT_EQ(Label(first), "1:1");                                    // still readable
  EXPECT_EQ(Label(cache.Lookup(1, 1)), "9:9");
  EXPECT_EQ(cache.TotalCharge(), 20u);
  cache.Erase(1, 1);
  EXPECT_FALSE(cache.Lookup(1, 1));
  EXPECT_EQ(Label(second), "9:9");
  EXPECT_EQ(cache.TotalCharge(), 0u);
  EXPECT_EQ(cache.PinnedCharge(), 0u);
  first.Reset();
  second.Reset();
  EXPECT_FALSE(second);
}

TEST(BlockCache, PinsMove) {
  BlockCache cache(1 << 20);
  BlockCache::Pin a = cache.Insert(1, 1, MakeBlock(1, 1), 10);
  BlockCache::Pin b = std::move(a);
  EXPECT_FALSE(a);  // NOLINT: testing the moved-from state
  EXPECT_EQ(Label(b), "1:1");
  BlockCache::Pin c;
  c = std::move(b);
  EXPECT_EQ(Label(c), "1:1");
  EXPECT_EQ(cache.PinnedCharge(), 10u);
  c = BlockCache::Pin();
  EXPECT_EQ(cache.PinnedCharge(), 0u);
}

TEST(BlockCache, EvictsToCapacityOldestUnreferencedFirst) {
  BlockCache cache(1000, 0);  // one shard, so the order is global
  for (uint64_t k = 0; k < 10; ++k) cache.Insert(1, k, MakeBlock(1, k), 100);
  EXPECT_EQ(cache.TotalCharge(), 1000u);
  cache.Lookup(1, 0);  // referenced: gets a second chance
  for (uint64_t k = 10; k < 13; ++k) cache.Insert(1, k, MakeBlock(1, k), 100);
  EXPECT_LE(cache.TotalCharge(), 1000u);
  EXPECT_TRUE(cache.Lookup(1, 0));
  EXPECT_FALSE(cache.Lookup(1, 1));
  EXPECT_FALSE(cache.Lookup(1, 2));
  EXPECT_FALSE(cache.Lookup(1, 3));
  EXPECT_TRUE(cache.Lookup(1, 4));
  EXPECT_TRUE(cache.Lookup(1, 12));
}

TEST(BlockCache, PinnedEntriesAreNotEvicted) {
  BlockCache cache(250, 0);
  BlockCache::Pin a = cache.Insert(1, 1, MakeBlock(1, 1), 100);
  BlockCache::Pin b = cache.Insert(1, 2, MakeBlock(1, 2), 100);
  BlockCache::Pin c = cache.Insert(1, 3, MakeBlock(1, 3), 100);
  EXPECT_EQ(cache.TotalCharge(), 300u);  // over capacity while everything is pinned
  EXPECT_EQ(cache.PinnedCharge(), 300u);
  EXPECT_TRUE(cache.Lookup(1, 1));
  a.Reset();  // now evictable, and evicted to get back under capacity
  EXPECT_LE(cache.TotalCharge(), 250u);
  EXPECT_EQ(Label(b), "1:2");
  EXPECT_EQ(Label(c), "1:3");
}

TEST(BlockCache, ZeroCapacityKeepsOnlyPinnedBlocks) {
  BlockCache cache(0);
  {
    BlockCache::Pin pin = cache.Insert(1, 1, MakeBlock(1, 1), 10);
    EXPECT_EQ(Label(pin), "1:1");
  }
  EXPECT_FALSE(cache.Lookup(1, 1));
  EXPECT_EQ(cache.TotalCharge(), 0u);
}

TEST(BlockCache, PruneDropsUnpinned) {
  BlockCache cache(1 << 20);
  BlockCache::Pin kept = cache.Insert(1, 1, MakeBlock(1, 1), 10);
  cache.Insert(1, 2, MakeBlock(1, 2), 10);
  cache.Prune();
  EXPECT_TRUE(cache.Lookup(1, 1));
  EXPECT_FALSE(cache.Lookup(1, 2));
  EXPECT_EQ(cache.TotalCharge(), 10u);
}

// Random inserts, erases and lookups against a model, with a capacity large enough that
// nothing is evicted: every answer must match, through many deletions from the hash table.
TEST(BlockCache, RandomWorkloadMatchesModel) {
  BlockCache cache(size_t{1} << 30, 2);
  std::map<std::pair<uint64_t, uint64_t>, uint64_t> model;  // -> version
  std::mt19937_64 rng(5);
  for (int i = 0; i < 200000; ++i) {
    const uint64_t id = rng() % 4, key = rng() % 2000;
    const int op = static_cast<int>(rng() % 10);
    if (op < 4) {
      const uint64_t version = rng() % 1000;
      cache.Insert(id, key, MakeBlock(version, key), 1);
      model[{id, key}] = version;
    } else if (op < 6) {
      cache.Erase(id, key);
      model.erase({id, key});
    } else {
      BlockCache::Pin pin = cache.Lookup(id, key);
      auto it = model.find({id, key});
      if (it == model.end()) {
        ASSERT_FALSE(pin) << id << ":" << key;
      } else {
        ASSERT_EQ(Label(pin), std::to_string(it->second) + ":" + std::to_string(key));
      }
    }
  }
  EXPECT_EQ(cache.TotalCharge(), model.size());
}

TEST(BlockCache, ConcurrentUse) {
  BlockCache cache(64 * 100, 2);  // small: constant eviction
  std::vector<std::thread> threads;
  std::atomic<int> errors{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      std::mt19937_64 rng(t);
      std::vector<BlockCache::Pin> held;
      for (int i = 0; i < 20000; ++i) {
        const uint64_t key = rng() % 300;
        BlockCache::Pin pin = cache.Lookup(1, key);
        if (!pin) pin = cache.Insert(1, key, MakeBlock(1, key), 64);
        if (Label(pin) != "1:" + std::to_string(key)) errors++;
        if (rng() % 8 == 0) held.push_back(std::move(pin));
        if (held.size() > 10) held.erase(held.begin());
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(errors.load(), 0);
  EXPECT_EQ(cache.PinnedCharge(), 0u);
  EXPECT_LE(cache.TotalCharge(), 64u * 100);
}

}  // namespace
}  // namespace learnkv
