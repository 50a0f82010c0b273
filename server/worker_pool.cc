#include "server/worker_pool.h"

#include <utility>

namespace learnkv {
namespace server {

WorkerPool::WorkerPool(int threads) : cv_(&mu_) {
  for (int i = 0; i < threads; ++i) threads_.emplace_back([this] { Run(); });
}

WorkerPool::~WorkerPool() {
  {
    MutexLock l(&mu_);
    stop_ = true;
    cv_.SignalAll();
  }
  for (std::thread& t : threads_) t.join();
}

void WorkerPool::Submit(std::function<void()> job) {
  MutexLock l(&mu_);
  jobs_.push_back(std::move(job));
  cv_.Signal();
}

void WorkerPool::Run() {
  while (true) {
    std::function<void()> job;
    {
      MutexLock l(&mu_);
      while (jobs_.empty() && !stop_) cv_.Wait();
      if (jobs_.empty()) return;
      job = std::move(jobs_.front());
      jobs_.pop_front();
    }
    job();
  }
}

}  // namespace server
}  // namespace learnkv
