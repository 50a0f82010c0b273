// Arena: a bump allocator for the memtable. Entries are appended and never freed one by one;
// all memory goes when the Arena does, which lets the skiplist hand out raw node pointers.
//
// Thread safety: Allocate* need external synchronization (the memtable's single writer).
// MemoryUsage() may be called from any thread concurrently with allocation, because the
// flush decision reads it without the writer's lock.
#ifndef LEARNKV_UTIL_ARENA_H_
#define LEARNKV_UTIL_ARENA_H_

#include <atomic>
#include <cassert>
#include <cstddef>
#include <memory>
#include <vector>

namespace learnkv {

class Arena {
 public:
  Arena() = default;
  Arena(const Arena&) = delete;
  Arena& operator=(const Arena&) = delete;

  // Returns bytes of uninitialized memory, valid until the Arena is destroyed.
  // REQUIRES: bytes > 0.
  char* Allocate(size_t bytes) {
    assert(bytes > 0);
    if (bytes <= remaining_) {
      char* result = ptr_;
      ptr_ += bytes;
      remaining_ -= bytes;
      return result;
    }
    return AllocateFallback(bytes);
  }

  // As Allocate, aligned to alignof(std::max_align_t) (at least that of a pointer).
  char* AllocateAligned(size_t bytes);

  // Bytes obtained from the system, including block bookkeeping; an estimate of the memory
  // this Arena holds.
  size_t MemoryUsage() const { return memory_usage_.load(std::memory_order_relaxed); }

 private:
  static constexpr size_t kBlockSize = 4096;

  char* AllocateFallback(size_t bytes);
  char* AllocateNewBlock(size_t bytes);

  char* ptr_ = nullptr;  // next free byte of the current block
  size_t remaining_ = 0;
  std::vector<std::unique_ptr<char[]>> blocks_;
  std::atomic<size_t> memory_usage_{0};
};

}  // namespace learnkv

#endif  // LEARNKV_UTIL_ARENA_H_
