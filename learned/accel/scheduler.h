// The offload decision: for each batch of inferences the scheduler predicts the time on the
// CPU (from a measured CpuCalibration) and on the simulated device (the cost model over a
// DeviceSpec), and picks the faster side that meets the latency target. A batch sent to the
// device is charged to a virtual device clock, so that batches queue behind each other and
// the device's utilization can be reported; nothing runs anywhere else.
//
// Results are always exact: whichever side is chosen, the caller computes the answer itself
// with the model's own code on the CPU (the simulated device would compute the same bits; the
// models it can run use integer arithmetic, or double precision on a device that has it). The
// decision only changes which time is reported. Device times are simulated and CPU times are
// predicted; nothing here is reported as measured except the calibration's own points and
// the real time callers waited in an InferenceQueue.
//
// Typical use, from a MultiGet over n keys of one table:
//
//   Decision d = scheduler->Submit(ModelKind::kRmi, n, ModelShape::ForRmi(rmi.stats()),
//                                  BatchContext{file_number});
//   for (...) bounds[i] = rmi.Lookup(keys[i]);  // exact, whatever d says
//
// and from compaction, before fitting a model of n keys:
//
//   TrainingAdvice a = scheduler->AdviseTraining(n, expected_model_bytes);
//
// Thread safety: every method may be called concurrently; one mutex is taken per batch (not
// per key).
#ifndef LEARNKV_LEARNED_ACCEL_SCHEDULER_H_
#define LEARNKV_LEARNED_ACCEL_SCHEDULER_H_

#include <array>
#include <cstdint>
#include <functional>
#include <list>
#include <memory>
#include <string>
#include <unordered_map>

#include "learned/accel/cost_model.h"
#include "learned/accel/cpu_calibration.h"
#include "learned/accel/device.h"
#include "util/histogram.h"
#include "util/mutexlock.h"

namespace learnkv::accel {

struct AccelOptions {
  // Offload batches at all. False: the scheduler still predicts both sides and keeps its
  // statistics (what the device would have done), but always answers the CPU. Default true.
  bool offload = true;
  // Predicted latency a batch should meet, in ns, the device's queue included. Among the
  // sides that meet it the faster is chosen; if neither does, the faster. 0 (default): none.
  double latency_target_ns = 0;
  // Pipeline chunks the device may split a batch into (transfers overlap compute). Default 16.
  uint32_t max_pipeline_chunks = 16;
  // Device memory for resident model weights (least recently used evicted first); 0
  // (default): the device's capacity.
  double resident_weight_bytes = 0;
  // Largest batch the break-even search considers. Default 2^30.
  uint64_t break_even_limit = uint64_t{1} << 30;
  // The clock of the virtual device, in ns. Empty (default): std::chrono::steady_clock.
  // Tests pass a fake one.
  std::function<uint64_t()> now_nanos;
};

// Where a batch comes from, beyond its size.
struct BatchContext {
  // Identity of the model (e.g. the table's file number), for resident weights: a model
  // offloaded before does not upload its weights again. 0: anonymous, uploaded every time.
  uint64_t model_id = 0;
  // Callers whose items form the batch (InferenceQueue) and how long the first waited for
  // the others, measured in real time (added to the batch's read-path latency).
  uint32_t callers = 1;
  double gather_wait_ns = 0;
};

struct Decision {
  bool run_on_device = false;
  double predicted_cpu_ns = 0;     // from the measured calibration; +inf if uncalibrated
  double predicted_device_ns = 0;  // simulated; +inf if the device cannot run the model
  double device_queue_ns = 0;      // simulated wait behind earlier batches on the device;
                                   // 0 where the device loses even with an empty queue
  double latency_ns = 0;           // predicted time to results on the chosen side
  const char* reason = "";         // e.g. "device faster", "cpu faster"
};

struct TrainingAdvice {
  bool offload_pays = false;
  double predicted_cpu_ns = 0;     // from the measured calibration of RmiBuilder::Finish
  double predicted_device_ns = 0;  // simulated
};

// Per model kind. Times are sums over batches, in ns.
struct KindStats {
  uint64_t batches = 0;
  uint64_t items = 0;
  uint64_t device_batches = 0;
  uint64_t device_items = 0;
  uint64_t largest_batch = 0;
  double cpu_ns = 0;     // predicted CPU time of every batch: the CPU-only cost
  double device_ns = 0;  // simulated device time of every batch the device could run
  double chosen_ns = 0;  // predicted time of the chosen sides, device queueing included
  bool has_shape = false;
  ModelShape last_shape;  // of the latest batch, for the break-even size
};

struct AccelStats {
  std::array<KindStats, kNumModelKinds> kinds;
  uint64_t batches = 0;
  uint64_t items = 0;
  uint64_t device_items = 0;
  double device_busy_ns = 0;  // simulated
  double elapsed_ns = 0;      // real time since the scheduler started or stats were reset
  double utilization = 0;     // busy / the virtual clock's span, in [0, 1]
  // Predicted read-path latency per batch, in ns (a Get's batch of one takes tens of ns,
  // below the histogram's first bucket in us): with the device as decided, and had every
  // batch run on the CPU. Gathering waits (measured) are included in both.
  Histogram latency_with_device_ns;
  Histogram latency_cpu_only_ns;
  uint64_t gathered_batches = 0;  // batches of more than one caller
  uint64_t gathered_callers = 0;
  double gather_wait_ns = 0;  // measured
  uint64_t weight_uploads = 0;
  double resident_bytes = 0;
  uint64_t training_fits = 0;
  uint64_t training_offload_pays = 0;
  double training_saving_ns = 0;  // predicted CPU minus simulated device time where it pays
  uint64_t largest_fit = 0;

  double FractionOffloaded() const {
    return items == 0 ? 0 : static_cast<double>(device_items) / static_cast<double>(items);
  }
};

class AccelScheduler {
 public:
  AccelScheduler(const DeviceSpec& device, CpuCalibration calibration,
                 AccelOptions options = AccelOptions());
  AccelScheduler(const AccelScheduler&) = delete;
  AccelScheduler& operator=(const AccelScheduler&) = delete;

  // Decides where a batch of batch_size items of one model runs and accounts for it. The
  // caller then computes the results itself (see the header comment).
  Decision Submit(ModelKind kind, uint64_t batch_size, const ModelShape& shape,
                  const BatchContext& context = BatchContext());

  // Whether fitting a model over num_keys keys on the device would pay (compaction's fit is
  // one large batch). Advisory: the fit runs on the CPU; only the statistics record it.
  TrainingAdvice AdviseTraining(uint64_t num_keys, double model_bytes);

  // The smallest batch at which the device beats the CPU for this model with its weights
  // resident, or 0 if none up to AccelOptions::break_even_limit.
  uint64_t BreakEvenBatchSize(ModelKind kind, const ModelShape& shape) const;
  // Both sides' predictions for a batch, without deciding or accounting (tools, tests).
  double PredictCpuNs(ModelKind kind, uint64_t n) const;
  DeviceCost PredictDevice(const ModelShape& shape, uint64_t n, bool weights_resident) const;

  AccelStats GetStats() const;
  void ResetStats();
  // The statistics as text, for a DB property and the server's INFO.
  std::string ToString() const;

  const DeviceSpec& device() const { return device_; }
  const CpuCalibration& calibration() const { return calibration_; }

 private:
  uint64_t NowNs() const;
  bool IsResident(uint64_t model_id) const EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Marks the model's weights resident, evicting the least recently used beyond the budget.
  void MakeResident(uint64_t model_id, double bytes) EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const DeviceSpec device_;
  const CpuCalibration calibration_;
  const AccelOptions options_;
  const double weight_budget_;

  mutable Mutex mu_;
  AccelStats stats_ GUARDED_BY(mu_);
  uint64_t start_ns_ GUARDED_BY(mu_);
  double device_free_at_ns_ GUARDED_BY(mu_) = 0;  // virtual clock, relative to start_ns_
  std::list<uint64_t> lru_ GUARDED_BY(mu_);       // resident models, most recent first
  struct Resident {
    std::list<uint64_t>::iterator pos;
    double bytes;
  };
  std::unordered_map<uint64_t, Resident> resident_ GUARDED_BY(mu_);
};

// Everything needed to start a scheduler, for the engine's Options.
struct AccelSetup {
  // A preset name (device.h) or a description file. Default "h200".
  std::string device = "h200";
  // A saved CPU calibration. If it exists it is loaded; otherwise the CPU is calibrated now
  // (with `calibration`) and the result saved there. Empty (default): calibrate, save nothing.
  std::string calibration_file;
  CalibrationOptions calibration;
  AccelOptions options;
};

// Loads the device and the calibration (or calibrates; see AccelSetup) and creates the
// scheduler. Errors: the device or calibration file is unreadable or malformed, or the
// calibration could not be saved.
Status OpenAccelScheduler(Env* env, const AccelSetup& setup,
                          std::unique_ptr<AccelScheduler>* result);

}  // namespace learnkv::accel

#endif  // LEARNKV_LEARNED_ACCEL_SCHEDULER_H_
