// Mutex, scoped lock and condition variable over the standard ones, annotated for clang's
// -Wthread-safety so that "guarded by mu_" is checked, not just written. Under GCC the
// annotations compile to nothing. AdaptiveMutex is a plain (unannotated) BasicLockable for
// critical sections of a few dozen nanoseconds on hot paths.
//
// Thread safety: these are the synchronization primitives; a CondVar is used with the one
// Mutex given to its constructor.
#ifndef LEARNKV_UTIL_MUTEXLOCK_H_
#define LEARNKV_UTIL_MUTEXLOCK_H_

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>

#include <pthread.h>

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

// A mutex that a thread finding it held spins on briefly before sleeping (glibc's adaptive
// mutex), as RocksDB's port::Mutex does. When the holder is running on another core it lets go
// within the spin, and a futex sleep and wake-up (tens of microseconds on a VM) would cost far
// more than the critical section. For std::lock_guard<AdaptiveMutex>.
class AdaptiveMutex {
 public:
  AdaptiveMutex() {
    pthread_mutexattr_t attr;
    pthread_mutexattr_init(&attr);
#ifdef PTHREAD_ADAPTIVE_MUTEX_INITIALIZER_NP
    pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_ADAPTIVE_NP);
#endif
    pthread_mutex_init(&mu_, &attr);
    pthread_mutexattr_destroy(&attr);
  }
  ~AdaptiveMutex() { pthread_mutex_destroy(&mu_); }
  AdaptiveMutex(const AdaptiveMutex&) = delete;
  AdaptiveMutex& operator=(const AdaptiveMutex&) = delete;

  void lock() { pthread_mutex_lock(&mu_); }
  void unlock() { pthread_mutex_unlock(&mu_); }

 private:
  pthread_mutex_t mu_;
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
