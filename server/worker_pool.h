// WorkerPool: a few threads that run blocking jobs (SCAN, DBSIZE, KEYS: iterations over the
// DB) in FIFO order, so that an event loop never waits for them. A job reports back by
// posting to its loop (EventLoop::Post).
//
// Thread safety: Submit() may be called from any thread; the destructor waits for queued jobs.
#ifndef LEARNKV_SERVER_WORKER_POOL_H_
#define LEARNKV_SERVER_WORKER_POOL_H_

#include <deque>
#include <functional>
#include <thread>
#include <vector>

#include "util/mutexlock.h"

namespace learnkv {
namespace server {

class WorkerPool {
 public:
  explicit WorkerPool(int threads);
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;
  // Runs the jobs still queued, then joins the threads.
  ~WorkerPool();

  void Submit(std::function<void()> job);

 private:
  void Run();

  Mutex mu_;
  CondVar cv_;
  std::deque<std::function<void()>> jobs_ GUARDED_BY(mu_);
  bool stop_ GUARDED_BY(mu_) = false;
  std::vector<std::thread> threads_;
};

}  // namespace server
}  // namespace learnkv

#endif  // LEARNKV_SERVER_WORKER_POOL_H_
