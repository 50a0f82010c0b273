// The inference queue (see inference_queue.h). A batch moves through three states: open
// (in open_, gathering), closed (out of open_, its leader submitting it) and done (decided;
// members may return). The leader is the caller that opened it; it alone submits.
#include "learned/accel/inference_queue.h"

#include <chrono>

namespace learnkv::accel {

namespace {

using Clock = std::chrono::steady_clock;

double NanosSince(Clock::time_point start) {
  return std::chrono::duration<double, std::nano>(Clock::now() - start).count();
}

}  // namespace

struct InferenceQueue::Batch {
  explicit Batch(Mutex* mu, const ModelShape& s) : cv(mu), shape(s) {}

  CondVar cv;  // signalled when the batch closes (to the leader) and when it is done
  const ModelShape shape;
  uint64_t items = 0;
  uint32_t callers = 0;
  bool closed = false;
  bool done = false;
  Decision decision;
};

InferenceQueue::InferenceQueue(AccelScheduler* scheduler, const InferenceQueueOptions& options)
    : scheduler_(scheduler), options_(options) {}

InferenceQueue::~InferenceQueue() = default;

BatchTicket InferenceQueue::Join(ModelKind kind, uint64_t model_id, const ModelShape& shape,
                                 uint64_t n) {
  const Clock::time_point start = Clock::now();
  BatchTicket ticket;
  if (options_.max_wait_micros == 0 || n >= options_.max_batch_items) {
    ticket.decision = scheduler_->Submit(kind, n, shape, BatchContext{model_id, 1, 0});
    ticket.batch_items = n;
    ticket.batch_callers = 1;
    ticket.waited_ns = NanosSince(start);
    return ticket;
  }

  const Key key(static_cast<int>(kind), model_id);
  MutexLock l(&mu_);
  auto it = open_.find(key);
  if (it != open_.end() && it->second->items + n > options_.max_batch_items) {
    // Full for this caller: close it (its leader submits it) and start the next one.
    it->second->closed = true;
    it->second->cv.SignalAll();
    open_.erase(it);
    it = open_.end();
  }
  if (it != open_.end()) {
    // A member: add the items and wait for the leader's decision.
    std::shared_ptr<Batch> batch = it->second;
    batch->items += n;
    ++batch->callers;
    if (batch->items >= options_.max_batch_items) {
      batch->closed = true;
      open_.erase(it);
      batch->cv.SignalAll();
    }
    while (!batch->done) batch->cv.Wait();
    ticket.decision = batch->decision;
    ticket.batch_items = batch->items;
    ticket.batch_callers = batch->callers;
    ticket.waited_ns = NanosSince(start);
    return ticket;
  }

  // The leader: open a batch, gather until it is closed or the wait is over, submit.
  auto batch = std::make_shared<Batch>(&mu_, shape);
  batch->items = n;
  batch->callers = 1;
  open_[key] = batch;
  const Clock::time_point deadline = start + std::chrono::microseconds(options_.max_wait_micros);
  while (!batch->closed) {
    const auto left =
        std::chrono::duration_cast<std::chrono::microseconds>(deadline - Clock::now()).count();
    if (left <= 0) break;
    batch->cv.WaitFor(left);
  }
  if (!batch->closed) {
    batch->closed = true;
    open_.erase(key);
  }
  const uint64_t items = batch->items;
  const uint32_t callers = batch->callers;
  const double gathered_ns = NanosSince(start);
  mu_.Unlock();
  // Submitting outside the queue's lock lets other models' batches proceed meanwhile; no
  // caller can join this batch any more (it is closed), so items and callers are final.
  const Decision decision =
      scheduler_->Submit(kind, items, batch->shape, BatchContext{model_id, callers, gathered_ns});
  mu_.Lock();
  batch->decision = decision;
  batch->done = true;
  batch->cv.SignalAll();
  ticket.decision = decision;
  ticket.batch_items = items;
  ticket.batch_callers = callers;
  ticket.waited_ns = NanosSince(start);
  return ticket;
}

}  // namespace learnkv::accel
