// Gathers predictions of concurrent callers into batches, one batch per model, so that the
// scheduler sees the batch a device would get: MultiGet's keys of one table, plus the keys of
// concurrent Gets on the same table. The first caller for a model opens its batch and waits
// up to max_wait_micros for others (or until the batch holds max_batch_items items), then
// submits it to the AccelScheduler; every caller of the batch gets the same Decision.
//
// The queue decides and accounts; it does not compute. Each caller computes its own results
// with the model's code after Join returns (which is what makes them exact whatever the
// decision), e.g.
//
//   queue->Run(ModelKind::kRmi, file_number, shape, keys.size(), [&] {
//     for (size_t i = 0; i < keys.size(); ++i) bounds[i] = rmi.Lookup(keys[i]);
//   });
//
// Waiting is real: a Get that joins a batch is delayed by up to max_wait_micros, and that
// wait is reported (measured) in the scheduler's statistics. With max_wait_micros = 0 nothing
// waits and each call is its own batch.
//
// Thread safety: Join and Run may be called concurrently from any number of threads.
// REQUIRES: the scheduler outlives the queue.
#ifndef LEARNKV_LEARNED_ACCEL_INFERENCE_QUEUE_H_
#define LEARNKV_LEARNED_ACCEL_INFERENCE_QUEUE_H_

#include <cstdint>
#include <map>
#include <memory>
#include <utility>

#include "learned/accel/scheduler.h"
#include "util/mutexlock.h"

namespace learnkv::accel {

struct InferenceQueueOptions {
  // How long the first caller of a batch waits for others, in real microseconds. 0: no
  // gathering. Default 0 (gathering delays Gets; turn it on deliberately).
  uint64_t max_wait_micros = 0;
  // A batch stops gathering once it holds this many items; a caller that would take it past
  // the cap starts the next batch, and a single call of at least this many items is a batch
  // of its own. Default 65536.
  uint64_t max_batch_items = 65536;
};

// What a caller learns about the batch it joined.
struct BatchTicket {
  Decision decision;
  uint64_t batch_items = 0;  // items of every caller in the batch
  uint32_t batch_callers = 0;
  double waited_ns = 0;  // real time this caller spent in Join
};

class InferenceQueue {
 public:
  InferenceQueue(AccelScheduler* scheduler, const InferenceQueueOptions& options);
  InferenceQueue(const InferenceQueue&) = delete;
  InferenceQueue& operator=(const InferenceQueue&) = delete;
  ~InferenceQueue();

  // Adds n items of model (kind, model_id) to that model's open batch and returns once the
  // batch has been decided. The first caller's shape stands for the batch. REQUIRES: n > 0.
  BatchTicket Join(ModelKind kind, uint64_t model_id, const ModelShape& shape, uint64_t n);

  // Join, then compute() on the calling thread.
  template <typename Compute>
  BatchTicket Run(ModelKind kind, uint64_t model_id, const ModelShape& shape, uint64_t n,
                  Compute&& compute) {
    BatchTicket ticket = Join(kind, model_id, shape, n);
    compute();
    return ticket;
  }

  const InferenceQueueOptions& options() const { return options_; }

 private:
  struct Batch;
  using Key = std::pair<int, uint64_t>;  // (kind, model_id)

  AccelScheduler* const scheduler_;
  const InferenceQueueOptions options_;

  Mutex mu_;
  std::map<Key, std::shared_ptr<Batch>> open_ GUARDED_BY(mu_);  // batches still gathering
};

}  // namespace learnkv::accel

#endif  // LEARNKV_LEARNED_ACCEL_INFERENCE_QUEUE_H_
