// Mutex, scoped lock and condition variable over the standard ones, annotated for clang's
// -Wthread-safety so that "guarded by mu_" is checked, not just written. Under GCC the
// annotations compile to nothing.
//
// Thread safety: these are the synchronization primitives; a CondVar is used with the one
// Mutex given to its constructor.
#ifndef LEARNKV_UTIL_MUTEXLOCK_H_
#define LEARNKV_UTIL_MUTEXLOCK_H_

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>

#if defined(__clang__)
#define LEARNKV_THREAD_ANNOTATION(x) __attribute__((x))
#else
#define LEARNKV_THREAD_ANNOTATION(x)
#endif

#define GUARDED_BY(x) LEARNKV_THREAD_ANNOTATION(guarded_by(x))
#define PT_GUARDED_BY(x) LEARNKV_THREAD_ANNOTATION(pt_guarded_by(x))
#define EXCLUSIVE_LOCKS_REQUIRED(...) \
  LEARNKV_THREAD_ANNOTATION(exclusive_locks_required(__VA_ARGS__))
#define LOCKS_EXCLUDED(...) LEARNKV_THREAD_ANNOTATION(locks_excluded(__VA_ARGS__))
#define LOCKABLE LEARNKV_THREAD_ANNOTATION(capability("mutex"))
#define SCOPED_LOCKABLE LEARNKV_THREAD_ANNOTATION(scoped_lockable)
#define EXCLUSIVE_LOCK_FUNCTION(...) LEARNKV_THREAD_ANNOTATION(acquire_capability(__VA_ARGS__))
#define UNLOCK_FUNCTION(...) LEARNKV_THREAD_ANNOTATION(release_capability(__VA_ARGS__))
#define ASSERT_EXCLUSIVE_LOCK(...) LEARNKV_THREAD_ANNOTATION(assert_capability(__VA_ARGS__))
#define NO_THREAD_SAFETY_ANALYSIS LEARNKV_THREAD_ANNOTATION(no_thread_safety_analysis)

namespace learnkv {

class LOCKABLE Mutex {
 public:
  Mutex() = default;
  Mutex(const Mutex&) = delete;
  Mutex& operator=(const Mutex&) = delete;

  void Lock() EXCLUSIVE_LOCK_FUNCTION() { mu_.lock(); }
  void Unlock() UNLOCK_FUNCTION() { mu_.unlock(); }
  // Documents (and tells the analysis) that the caller holds the lock; checks nothing at run
  // time, as std::mutex cannot say who owns it.
  void AssertHeld() ASSERT_EXCLUSIVE_LOCK() {}

 private:
  friend class CondVar;
  std::mutex mu_;
};

// Holds a Mutex for its scope.
class SCOPED_LOCKABLE MutexLock {
 public:
  explicit MutexLock(Mutex* mu) EXCLUSIVE_LOCK_FUNCTION(mu) : mu_(mu) { mu_->Lock(); }
  ~MutexLock() UNLOCK_FUNCTION() { mu_->Unlock(); }
  MutexLock(const MutexLock&) = delete;
  MutexLock& operator=(const MutexLock&) = delete;

 private:
  Mutex* const mu_;
};

class CondVar {
 public:
  explicit CondVar(Mutex* mu) : mu_(mu) {}
  CondVar(const CondVar&) = delete;
  CondVar& operator=(const CondVar&) = delete;

  // REQUIRES: mu held. Releases it while waiting; may wake spuriously, so wait in a loop.
  void Wait() {
    std::unique_lock<std::mutex> l(mu_->mu_, std::adopt_lock);
    cv_.wait(l);
    l.release();  // the caller still holds mu
  }
  // As Wait, for at most micros; false on timeout.
  bool WaitFor(int64_t micros) {
    std::unique_lock<std::mutex> l(mu_->mu_, std::adopt_lock);
    const bool woken =
        cv_.wait_for(l, std::chrono::microseconds(micros)) == std::cv_status::no_timeout;
    l.release();
    return woken;
  }
  void Signal() { cv_.notify_one(); }
  void SignalAll() { cv_.notify_all(); }

 private:
  Mutex* const mu_;
  std::condition_variable cv_;
};

}  // namespace learnkv

#endif  // LEARNKV_UTIL_MUTEXLOCK_H_
