// ThreadCachedPtr<T>: a published std::shared_ptr<const T> that many threads read, each through
// a slot of its own, so that a read writes no cache line another core is using.
//
// Copying a shared_ptr out from under a mutex takes the mutex and bumps the reference count:
// four atomic writes to two cache lines that every reading thread shares. On a few cores those
// lines bounce between caches on every read, and a reader preempted while holding the mutex
// stalls the others (a DB's point lookups spent a quarter of their time there with 4 threads on
// 2 cores). Here each thread caches its own counted copy in one of kSlots cache-line-sized
// slots, and checks it against a generation number that changes only on Publish. This is how
// RocksDB caches its SuperVersion per thread (ThreadLocalPtr with kSVInUse / kSVObsolete).
//
// A slot holds nothing, kInUse (a thread is using the copy it took out), or a cached copy that
// the slot owns. Acquire swaps kInUse in and owns what it took; the Handle's release puts its
// copy back only if the slot still says kInUse, and deletes it otherwise. Publish swaps every
// slot to empty and deletes the copies it took, so no stale value outlives a Publish by more
// than the reads already holding it. Two threads that map to one slot both stay correct: the
// second one finds kInUse and takes a plain counted copy instead.
//
// Thread safety: Acquire, Get and Handle are thread-safe. Publish calls must not race each
// other (the caller serializes them, e.g. under its own mutex); they may race readers.
#ifndef LEARNKV_UTIL_THREAD_CACHED_PTR_H_
#define LEARNKV_UTIL_THREAD_CACHED_PTR_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <utility>

#include "util/mutexlock.h"

namespace learnkv {

// A small number that identifies the calling thread, dense from 0 in order of first use.
inline size_t ThisThreadIndex() {
  static std::atomic<size_t> next{0};
  thread_local const size_t index = next.fetch_add(1, std::memory_order_relaxed);
  return index;
}

template <typename T>
class ThreadCachedPtr {
  struct Cached {
    std::shared_ptr<const T> value;
    uint64_t generation;
  };
  struct alignas(64) Slot {
    std::atomic<Cached*> cached{nullptr};
  };

 public:
  ThreadCachedPtr() = default;
  ~ThreadCachedPtr() { DropCached(); }
  ThreadCachedPtr(const ThreadCachedPtr&) = delete;
  ThreadCachedPtr& operator=(const ThreadCachedPtr&) = delete;

  // The published value, for as long as the Handle lives. Hold it briefly (one read): while it
  // is held, another thread of the same slot pays for a counted copy.
  class Handle {
   public:
    Handle(Handle&& other) noexcept
        : slot_(std::exchange(other.slot_, nullptr)),
          cached_(std::exchange(other.cached_, nullptr)),
          fallback_(std::move(other.fallback_)),
          value_(other.value_) {}
    Handle(const Handle&) = delete;
    Handle& operator=(const Handle&) = delete;
    Handle& operator=(Handle&&) = delete;
    ~Handle() {
      if (slot_ == nullptr) return;
      Cached* expected = InUse();
      if (!slot_->cached.compare_exchange_strong(expected, cached_, std::memory_order_release,
                                                 std::memory_order_relaxed)) {
        delete cached_;  // a Publish emptied the slot meanwhile: this copy is stale
      }
    }
    const T* get() const { return value_; }
    const T* operator->() const { return value_; }
    const T& operator*() const { return *value_; }

   private:
    friend class ThreadCachedPtr;
    Handle() = default;

    Slot* slot_ = nullptr;
    Cached* cached_ = nullptr;           // owned, when slot_ is set
    std::shared_ptr<const T> fallback_;  // when the slot was busy
    const T* value_ = nullptr;
  };

  Handle Acquire() {
    Handle h;
    Slot& slot = slots_[ThisThreadIndex() % kSlots];
    Cached* cached = slot.cached.exchange(InUse(), std::memory_order_acquire);
    if (cached == InUse()) {  // another thread of this slot is mid-read
      h.fallback_ = Get();
      h.value_ = h.fallback_.get();
      return h;
    }
    if (cached == nullptr || cached->generation != generation_.load(std::memory_order_acquire)) {
      delete cached;
      cached = new Cached;
      MutexLock l(&mu_);
      cached->value = value_;
      cached->generation = generation_.load(std::memory_order_relaxed);
    }
    h.slot_ = &slot;
    h.cached_ = cached;
    h.value_ = cached->value.get();
    return h;
  }

  // A counted copy of the published value, for holders that keep it (an iterator).
  std::shared_ptr<const T> Get() const {
    MutexLock l(&mu_);
    return value_;
  }

  // Makes v the value later reads see, and drops every cached copy of the old one. A read that
  // begins after Publish returns sees v.
  void Publish(std::shared_ptr<const T> v) {
    std::shared_ptr<const T> old;  // released after the lock
    {
      MutexLock l(&mu_);
      old = std::move(value_);
      value_ = std::move(v);
      generation_.store(generation_.load(std::memory_order_relaxed) + 1,
                        std::memory_order_release);
    }
    DropCached();
  }

 private:
  static constexpr size_t kSlots = 64;

  // Marks a slot whose copy a Handle holds; never dereferenced. Not a valid Cached*: the
  // address of a static byte cannot be one that new returned.
  static Cached* InUse() {
    static char marker;
    return reinterpret_cast<Cached*>(&marker);
  }

  void DropCached() {
    for (Slot& slot : slots_) {
      Cached* cached = slot.cached.exchange(nullptr, std::memory_order_acq_rel);
      if (cached != InUse()) delete cached;
    }
  }

  mutable Mutex mu_;
  std::shared_ptr<const T> value_ GUARDED_BY(mu_);
  std::atomic<uint64_t> generation_{0};
  Slot slots_[kSlots];
};

}  // namespace learnkv

#endif  // LEARNKV_UTIL_THREAD_CACHED_PTR_H_
