#include "util/arena.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>
#include <thread>
#include <utility>
#include <vector>

#include "util/random.h"

namespace learnkv {
namespace {

TEST(ArenaTest, Empty) {
  Arena arena;
  EXPECT_EQ(0u, arena.MemoryUsage());
}

// Every allocation keeps its own bytes: fill each with a pattern derived from its index and
// check them all at the end, so overlapping allocations would be caught.
TEST(ArenaTest, AllocationsAreDisjointAndStable) {
  Arena arena;
  Random rnd(301);
  std::vector<std::pair<size_t, char*>> allocated;
  size_t bytes = 0;
  for (int i = 0; i < 100000; ++i) {
    size_t s = i % (100000 / 10) == 0
                   ? i
                   : (rnd.OneIn(4000) ? rnd.Uniform(6000)
                                      : (rnd.OneIn(10) ? rnd.Uniform(100) : rnd.Uniform(20)));
    if (s == 0) s = 1;  // Allocate(0) is not allowed
    char* r = rnd.OneIn(10) ? arena.AllocateAligned(s) : arena.Allocate(s);
    for (size_t b = 0; b < s; ++b) r[b] = static_cast<char>(i % 256);
    bytes += s;
    allocated.emplace_back(s, r);
    ASSERT_GE(arena.MemoryUsage(), bytes);
  }
  EXPECT_LE(arena.MemoryUsage(), bytes * 1.10);  // little waste at the ends of blocks
  for (size_t i = 0; i < allocated.size(); ++i) {
    const auto [size, p] = allocated[i];
    for (size_t b = 0; b < size; ++b) ASSERT_EQ(static_cast<char>(i % 256), p[b]) << i;
  }
}

TEST(ArenaTest, AlignedAllocationsAreAligned) {
  Arena arena;
  for (size_t s : {1, 3, 7, 8, 13, 100, 1025, 5000, 1, 2}) {
    arena.Allocate(s);  // misalign the bump pointer
    const char* p = arena.AllocateAligned(s);
    EXPECT_EQ(0u, reinterpret_cast<uintptr_t>(p) % alignof(std::max_align_t)) << s;
  }
}

TEST(ArenaTest, LargeAllocationGetsItsOwnBlock) {
  Arena arena;
  char* small = arena.Allocate(10);
  const size_t after_small = arena.MemoryUsage();
  char* big = arena.Allocate(100000);
  EXPECT_GE(arena.MemoryUsage(), after_small + 100000);
  // The current block is kept: the next small allocation follows the first one.
  char* next = arena.Allocate(10);
  EXPECT_EQ(small + 10, next);
  EXPECT_NE(nullptr, big);
}

// MemoryUsage is read by other threads (the flush decision) while the writer allocates.
TEST(ArenaTest, MemoryUsageReadableConcurrently) {
  Arena arena;
  std::atomic<bool> done{false};
  std::atomic<bool> went_backwards{false};
  std::thread reader([&] {
    size_t last = 0;
    while (!done) {
      const size_t now = arena.MemoryUsage();
      if (now < last) went_backwards = true;
      last = now;
    }
  });
  for (int i = 0; i < 200000; ++i) arena.Allocate(1 + i % 300);
  done = true;
  reader.join();
  EXPECT_FALSE(went_backwards.load());
  EXPECT_GT(arena.MemoryUsage(), 200000u);
}

}  // namespace
}  // namespace learnkv
