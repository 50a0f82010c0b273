#include "util/arena.h"

#include <cstdint>

namespace learnkv {

char* Arena::AllocateAligned(size_t bytes) {
  constexpr size_t kAlign = alignof(std::max_align_t);
  static_assert((kAlign & (kAlign - 1)) == 0, "alignment must be a power of two");
  const size_t misalignment = reinterpret_cast<uintptr_t>(ptr_) & (kAlign - 1);
  const size_t slop = misalignment == 0 ? 0 : kAlign - misalignment;
  if (bytes + slop <= remaining_) {
    char* result = ptr_ + slop;
    ptr_ += bytes + slop;
    remaining_ -= bytes + slop;
    return result;
  }
  // New blocks come from operator new[], which aligns to max_align_t.
  char* result = AllocateFallback(bytes);
  assert((reinterpret_cast<uintptr_t>(result) & (kAlign - 1)) == 0);
  return result;
}

char* Arena::AllocateFallback(size_t bytes) {
  if (bytes > kBlockSize / 4) {
    // A large object gets a block of its own, so the rest of the current block is not wasted.
    return AllocateNewBlock(bytes);
  }
  // The remainder of the current block is abandoned.
  ptr_ = AllocateNewBlock(kBlockSize);
  remaining_ = kBlockSize - bytes;
  char* result = ptr_;
  ptr_ += bytes;
  return result;
}

char* Arena::AllocateNewBlock(size_t bytes) {
  blocks_.push_back(std::make_unique_for_overwrite<char[]>(bytes));
  memory_usage_.fetch_add(bytes + sizeof(std::unique_ptr<char[]>), std::memory_order_relaxed);
  return blocks_.back().get();
}

}  // namespace learnkv
