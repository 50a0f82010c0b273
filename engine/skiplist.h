// SkipList: the memtable's sorted index (Pugh, "Skip Lists: A Probabilistic Alternative to
// Balanced Trees", CACM 1990). Nodes live in an Arena and are never removed, which is what
// lets readers go without locks: a node, once reachable, stays valid until the arena dies.
//
// Thread safety: one writer at a time (Insert needs external synchronization — in the engine
// the group-commit leader) and any number of concurrent readers (Contains, Iterator) with no
// locking. A node is fully built before a release store links it in; readers follow links
// with acquire loads, so they see either the old list or the new node complete.
//
// Key must be trivially copyable and destructible (nodes are never destroyed); in practice a
// pointer to an encoded entry. Comparator: int operator()(const Key&, const Key&) const.
#ifndef LEARNKV_ENGINE_SKIPLIST_H_
#define LEARNKV_ENGINE_SKIPLIST_H_

#include <atomic>
#include <cassert>
#include <cstddef>
#include <cstdint>
#include <new>
#include <type_traits>

#include "util/arena.h"
#include "util/random.h"

namespace learnkv {

template <typename Key, class Comparator>
class SkipList {
 private:
  struct Node;

 public:
  // arena (not owned) supplies node memory and must outlive the list.
  SkipList(Comparator cmp, Arena* arena);
  SkipList(const SkipList&) = delete;
  SkipList& operator=(const SkipList&) = delete;

  // REQUIRES: no key comparing equal to key is in the list; external synchronization with
  // other Inserts.
  void Insert(const Key& key);

  bool Contains(const Key& key) const;

  // A cursor over the list. Sees every key inserted before it was positioned and possibly
  // some inserted since.
  class Iterator {
   public:
    // list must outlive the iterator. Starts invalid.
    explicit Iterator(const SkipList* list) : list_(list), node_(nullptr) {}

    bool Valid() const { return node_ != nullptr; }
    // REQUIRES: Valid()
    const Key& key() const {
      assert(Valid());
      return node_->key;
    }
    // REQUIRES: Valid()
    void Next() {
      assert(Valid());
      node_ = node_->Next(0);
    }
    // REQUIRES: Valid(). The key after the current one, or null at the end: a scan can start
    // loading what that key points to while it still works on the current one. Also starts
    // loading the node after that one, so a scan that peeks at every step finds each node
    // already in the cache.
    const Key* PeekNext() const {
      assert(Valid());
      Node* next = node_->Next(0);
      if (next == nullptr) return nullptr;
      __builtin_prefetch(next->RelaxedNext(0));
      return &next->key;
    }
    // REQUIRES: Valid(). Costs a search from the top: nodes have no back links.
    void Prev() {
      assert(Valid());
      node_ = list_->FindLast(node_->key, /*inclusive=*/false);
    }
    // First key >= target.
    void Seek(const Key& target) { node_ = list_->FindGreaterOrEqual(target, nullptr); }
    // Last key <= target.
    void SeekForPrev(const Key& target) { node_ = list_->FindLast(target, /*inclusive=*/true); }
    void SeekToFirst() { node_ = list_->head_->Next(0); }
    void SeekToLast() { node_ = list_->FindLastNode(); }

   private:
    const SkipList* list_;
    Node* node_;
  };

 private:
  static constexpr int kMaxHeight = 12;
  // Each level holds about 1/kBranching of the nodes of the level below.
  static constexpr uint32_t kBranching = 4;

  static_assert(std::is_trivially_destructible_v<Key> && std::is_trivially_copyable_v<Key>,
                "arena nodes are never destroyed");

  int GetMaxHeight() const { return max_height_.load(std::memory_order_relaxed); }
  Node* NewNode(const Key& key, int height);
  int RandomHeight();

  // First node with key >= target, or null. If prev is set, prev[level] receives the last
  // node before target at every level below GetMaxHeight().
  Node* FindGreaterOrEqual(const Key& target, Node** prev) const;
  // Last node with key < target (<= if inclusive), or null if there is none.
  Node* FindLast(const Key& target, bool inclusive) const;
  // Last node, or null if the list is empty.
  Node* FindLastNode() const;

  Comparator const compare_;
  Arena* const arena_;
  Node* const head_;
  // Height of the tallest node. Written only by Insert; readers may see a stale value, which
  // is harmless: they then start lower, or at a level where head_'s link is still null.
  std::atomic<int> max_height_;
  Random rnd_;  // used only by Insert
};

// A node is allocated with its tower of `height` links directly after it.
template <typename Key, class Comparator>
struct alignas(std::atomic<void*>) SkipList<Key, Comparator>::Node {
  explicit Node(const Key& k) : key(k) {}

  Key const key;

  Node* Next(int level) { return link(level)->load(std::memory_order_acquire); }
  // Publishes n: everything written to n before this call is visible to readers that load it.
  void SetNext(int level, Node* n) { link(level)->store(n, std::memory_order_release); }
  // For the writer, on links no reader can reach yet or that only the writer changes.
  Node* RelaxedNext(int level) { return link(level)->load(std::memory_order_relaxed); }
  void RelaxedSetNext(int level, Node* n) { link(level)->store(n, std::memory_order_relaxed); }

  std::atomic<Node*>* link(int level) {
    return std::launder(reinterpret_cast<std::atomic<Node*>*>(reinterpret_cast<char*>(this) +
                                                              sizeof(Node))) +
           level;
  }
};

template <typename Key, class Comparator>
SkipList<Key, Comparator>::SkipList(Comparator cmp, Arena* arena)
    : compare_(cmp),
      arena_(arena),
      head_(NewNode(Key(), kMaxHeight)),
      max_height_(1),
      rnd_(0xdecafbad) {}

template <typename Key, class Comparator>
typename SkipList<Key, Comparator>::Node* SkipList<Key, Comparator>::NewNode(const Key& key,
                                                                             int height) {
  static_assert(alignof(Node) <= alignof(void*), "Arena::AllocateAligned aligns to pointers");
  char* mem = arena_->AllocateAligned(sizeof(Node) + sizeof(std::atomic<Node*>) * height);
  Node* n = new (mem) Node(key);
  for (int i = 0; i < height; ++i) {
    new (mem + sizeof(Node) + sizeof(std::atomic<Node*>) * i) std::atomic<Node*>(nullptr);
  }
  return n;
}

template <typename Key, class Comparator>
int SkipList<Key, Comparator>::RandomHeight() {
  int height = 1;
  while (height < kMaxHeight && rnd_.OneIn(kBranching)) ++height;
  return height;
}

template <typename Key, class Comparator>
typename SkipList<Key, Comparator>::Node* SkipList<Key, Comparator>::FindGreaterOrEqual(
    const Key& target, Node** prev) const {
  Node* x = head_;
  int level = GetMaxHeight() - 1;
  // The node known to be >= target at the level above. Descending, x's successor is often
  // that same node, and comparing it again would cost a comparison for nothing.
  Node* known_not_less = nullptr;
  while (true) {
    Node* next = x->Next(level);
    if (next != nullptr && next != known_not_less && compare_(next->key, target) < 0) {
      x = next;
    } else {
      if (prev != nullptr) prev[level] = x;
      if (level == 0) return next;
      known_not_less = next;
      --level;
    }
  }
}

template <typename Key, class Comparator>
typename SkipList<Key, Comparator>::Node* SkipList<Key, Comparator>::FindLast(
    const Key& target, bool inclusive) const {
  Node* x = head_;
  int level = GetMaxHeight() - 1;
  while (true) {
    Node* next = x->Next(level);
    if (next != nullptr) {
      const int c = compare_(next->key, target);
      if (c < 0 || (inclusive && c == 0)) {
        x = next;
        continue;
      }
    }
    if (level == 0) return x == head_ ? nullptr : x;
    --level;
  }
}

template <typename Key, class Comparator>
typename SkipList<Key, Comparator>::Node* SkipList<Key, Comparator>::FindLastNode() const {
  Node* x = head_;
  int level = GetMaxHeight() - 1;
  while (true) {
    Node* next = x->Next(level);
    if (next != nullptr) {
      x = next;
    } else if (level == 0) {
      return x == head_ ? nullptr : x;
    } else {
      --level;
    }
  }
}

template <typename Key, class Comparator>
void SkipList<Key, Comparator>::Insert(const Key& key) {
  Node* prev[kMaxHeight];
  [[maybe_unused]] Node* at = FindGreaterOrEqual(key, prev);
  assert(at == nullptr || compare_(at->key, key) != 0);

  const int height = RandomHeight();
  const int max_height = GetMaxHeight();
  if (height > max_height) {
    for (int i = max_height; i < height; ++i) prev[i] = head_;
    max_height_.store(height, std::memory_order_relaxed);
  }

  Node* x = NewNode(key, height);
  for (int i = 0; i < height; ++i) {
    // Link x to its successor before publishing it, bottom level first, so a reader that
    // reaches x at any level can continue from it.
    x->RelaxedSetNext(i, prev[i]->RelaxedNext(i));
    prev[i]->SetNext(i, x);
  }
}

template <typename Key, class Comparator>
bool SkipList<Key, Comparator>::Contains(const Key& key) const {
  Node* x = FindGreaterOrEqual(key, nullptr);
  return x != nullptr && compare_(x->key, key) == 0;
}

}  // namespace learnkv

#endif  // LEARNKV_ENGINE_SKIPLIST_H_
