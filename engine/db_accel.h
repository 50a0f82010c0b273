// DBAccelerator: the read path's side of the simulated accelerator (learned/accel/,
// docs/accelerator.md). When Options::accelerator names a device, every batch of model
// inferences a lookup needs goes through the offload scheduler before it is computed:
//
//   - a table's learned filter scoring keys with its classifier (kind ngram or grid), and
//   - a table's RMI predicting the keys' positions (kind rmi),
//
// where a batch is the keys one MultiGet sends to one table, or the one key of a Get (or, with
// Options::accel_max_wait_micros > 0, those of concurrent Gets and MultiGets on the same table,
// gathered by an InferenceQueue; a table with a learned filter has two batches per lookup, one
// per model, so a gathering lookup may wait twice). The scheduler decides CPU or device from a
// measured CPU calibration and the simulated device's cost model, and keeps the statistics that
// learnkv.accel shows. Results never change: every inference is still computed on the CPU by the
// table's own code. An RMI batch decided for the device is computed as one batch up front
// (TableReader::PredictBounds), the way a device would hand its predictions back, and then handed
// to the table's searches; the answers are the same bits either way.
//
// Flushes and compactions report each table's model fit (AdviseTraining): the scheduler says
// whether fitting it on the device would have paid; the fit itself always runs on the CPU.
//
// With Options::accelerator empty there is no DBAccelerator and the read path pays one null
// check per table.
//
// Thread safety: every method may be called concurrently (the scheduler and the queue are
// thread-safe; the fit statistics have their own mutex).
#ifndef LEARNKV_ENGINE_DB_ACCEL_H_
#define LEARNKV_ENGINE_DB_ACCEL_H_

#include <cstdint>
#include <memory>
#include <string>

#include "engine/info_log.h"
#include "engine/table_cache.h"
#include "engine/version_edit.h"
#include "learned/accel/inference_queue.h"
#include "learned/accel/scheduler.h"
#include "learnkv/options.h"
#include "learnkv/status.h"
#include "util/mutexlock.h"

namespace learnkv {

class DBAccelerator {
 public:
  // Loads the device (options.accelerator: a preset or a description file) and the CPU
  // calibration: options.accel_calibration_file, or ACCEL_CALIBRATION in dbname. A missing
  // calibration file is measured now (a quick calibration, under a second) and saved; a
  // damaged one in the default place is measured again, one named explicitly is an error.
  // Errors: an unknown preset, an unreadable or malformed description file, a malformed
  // named calibration file, a calibration that cannot be saved. REQUIRES: options sanitized
  // (env set); dbname exists; log outlives the result.
  static Status Open(const Options& options, const std::string& dbname, InfoLog* log,
                     std::unique_ptr<DBAccelerator>* result);

  DBAccelerator(const DBAccelerator&) = delete;
  DBAccelerator& operator=(const DBAccelerator&) = delete;
  ~DBAccelerator();

  // TableCache::Get with the inferences accounted: the learned filter's score (if the table
  // has a learned filter), the filter's answer, then the RMI's prediction (if the table has
  // a model and the filter let the key through), each a batch of one key or part of a
  // gathered batch.
  Status TableGet(TableCache* cache, const FileMetaData& f, const Slice& internal_key,
                  TableReader::EntryCallback on_entry);

  // Accounts for the inferences of n keys that `table` (table file `number`) is about to
  // answer in one TableReader::MultiGet: the learned filter's scores, then the RMI's
  // predictions (which TableReader::MultiGet computes for every key it is given). True when
  // the RMI batch was decided for the device: the caller then computes the predictions up
  // front (TableReader::PredictBounds) and passes them to MultiGet.
  bool BeforeMultiGet(const TableReader& table, uint64_t number, size_t n);

  // A flush or compaction wrote table `meta`: if a model was fitted for it, asks the
  // scheduler whether fitting it on the device would have paid, counts it, and notes it in
  // the LOG when it would have.
  void AdviseTraining(const FileMetaData& meta);

  // learnkv.accel: the scheduler's statistics (each figure marked measured, predicted or
  // simulated), the queue settings and the model fits.
  std::string ToString() const;
  // learnkv.accel-values: the same figures as "name=value" lines, for tools and the server
  // (docs/accelerator.md lists the names).
  std::string ToValues() const;

  accel::AccelStats GetStats() const { return scheduler_->GetStats(); }
  // The text for Options::accelerator empty, and its values form.
  static std::string OffString();
  static std::string OffValues();

 private:
  DBAccelerator(const Options& options, std::unique_ptr<accel::AccelScheduler> scheduler,
                InfoLog* log);

  // The batch's decision: through the queue when gathering, else submitted alone.
  accel::Decision Decide(accel::ModelKind kind, uint64_t model_id, const accel::ModelShape& shape,
                         uint64_t n);
  void FilterBatch(const TableReader& table, uint64_t number, size_t n);
  bool ModelBatch(const TableReader& table, uint64_t number, size_t n);

  const bool offload_;
  const double latency_target_us_;
  const uint64_t max_wait_micros_;
  const uint64_t batch_cap_;
  InfoLog* const log_;
  const std::unique_ptr<accel::AccelScheduler> scheduler_;
  const std::unique_ptr<accel::InferenceQueue> queue_;  // null without gathering

  // Model fits of flushes and compactions: measured on the CPU, predicted from the
  // calibration, simulated on the device.
  mutable Mutex mu_;
  uint64_t fits_ GUARDED_BY(mu_) = 0;
  uint64_t fit_keys_ GUARDED_BY(mu_) = 0;
  double fit_measured_ns_ GUARDED_BY(mu_) = 0;
  double fit_cpu_predicted_ns_ GUARDED_BY(mu_) = 0;
  double fit_device_simulated_ns_ GUARDED_BY(mu_) = 0;
  uint64_t fits_offload_pays_ GUARDED_BY(mu_) = 0;
};

}  // namespace learnkv

#endif  // LEARNKV_ENGINE_DB_ACCEL_H_
