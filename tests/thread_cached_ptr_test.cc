// ThreadCachedPtr: reads see the latest Publish, stale copies are freed promptly, a busy slot
// falls back to a counted copy, and concurrent readers and a publisher agree (run it under the
// thread sanitizer build too).
#include "util/thread_cached_ptr.h"

#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <thread>
#include <vector>

namespace learnkv {
namespace {

// Counts live instances, so that a test can see when the last reference to a value is gone.
struct Tracked {
  explicit Tracked(int v, std::atomic<int>* live) : value(v), live(live) { live->fetch_add(1); }
  ~Tracked() { live->fetch_sub(1); }
  const int value;
  std::atomic<int>* const live;
};

TEST(ThreadCachedPtrTest, AcquireSeesTheLatestPublish) {
  std::atomic<int> live{0};
  ThreadCachedPtr<Tracked> ptr;
  EXPECT_EQ(nullptr, ptr.Acquire().get());
  ptr.Publish(std::make_shared<Tracked>(1, &live));
  EXPECT_EQ(1, ptr.Acquire()->value);
  EXPECT_EQ(1, ptr.Acquire()->value);  // from the slot's cached copy
  ptr.Publish(std::make_shared<Tracked>(2, &live));
  EXPECT_EQ(2, ptr.Acquire()->value);
  EXPECT_EQ(2, ptr.Get()->value);
  EXPECT_EQ(1, live.load());  // the first value went with the Publish that replaced it
  ptr.Publish(nullptr);
  EXPECT_EQ(0, live.load());
}

TEST(ThreadCachedPtrTest, AHandleKeepsItsValueAcrossAPublishAndThenLetsGo) {
  std::atomic<int> live{0};
  ThreadCachedPtr<Tracked> ptr;
  ptr.Publish(std::make_shared<Tracked>(1, &live));
  {
    const ThreadCachedPtr<Tracked>::Handle held = ptr.Acquire();
    ptr.Publish(std::make_shared<Tracked>(2, &live));
    EXPECT_EQ(1, held->value);
    EXPECT_EQ(2, live.load());
  }
  EXPECT_EQ(1, live.load());  // released with the handle, not parked in the slot
  EXPECT_EQ(2, ptr.Acquire()->value);
}

TEST(ThreadCachedPtrTest, ASecondHandleOfTheSameSlotTakesACountedCopy) {
  std::atomic<int> live{0};
  ThreadCachedPtr<Tracked> ptr;
  ptr.Publish(std::make_shared<Tracked>(7, &live));
  {
    const ThreadCachedPtr<Tracked>::Handle a = ptr.Acquire();
    const ThreadCachedPtr<Tracked>::Handle b = ptr.Acquire();  // the slot is busy
    EXPECT_EQ(7, a->value);
    EXPECT_EQ(7, b->value);
    EXPECT_EQ(a.get(), b.get());
  }
  EXPECT_EQ(7, ptr.Acquire()->value);
  ptr.Publish(nullptr);
  EXPECT_EQ(0, live.load());
}

TEST(ThreadCachedPtrTest, ConcurrentReadersNeverGoBackAndNothingLeaks) {
  std::atomic<int> live{0};
  {
    ThreadCachedPtr<Tracked> ptr;
    ptr.Publish(std::make_shared<Tracked>(0, &live));
    std::atomic<bool> stop{false};
    std::atomic<int> errors{0};
    std::vector<std::thread> readers;
    for (int t = 0; t < 4; ++t) {
      readers.emplace_back([&] {
        int last = 0;
        while (!stop.load(std::memory_order_relaxed)) {
          const ThreadCachedPtr<Tracked>::Handle h = ptr.Acquire();
          const int v = h->value;
          if (v < last) errors.fetch_add(1);
          last = v;
        }
      });
    }
    for (int v = 1; v <= 2000; ++v) {
      ptr.Publish(std::make_shared<Tracked>(v, &live));
      if (v % 100 == 0) std::this_thread::yield();
    }
    stop = true;
    for (std::thread& t : readers) t.join();
    EXPECT_EQ(0, errors.load());
    EXPECT_EQ(2000, ptr.Acquire()->value);
    EXPECT_EQ(1, live.load());
  }
  EXPECT_EQ(0, live.load());
}

}  // namespace
}  // namespace learnkv
