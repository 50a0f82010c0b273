// The validation of a device description against a real device: rows of (batch size,
// measured and predicted times on both sides), and what the issue asks of them (issue 8):
// a mean prediction error of at most 10% over the batch sizes, a worst point of at most 30%,
// and the offload decision right for at least 95% of the batch sizes.
//
// Plain C++ without CUDA, so that the summary, the CSV and the markdown table are tested in
// CI (tests/accel_cuda_fit_test.cc); learnkv-calibrate --device=cuda --validate fills the rows
// on a GPU (gpu_bench.h) and bench/accel_validate.sh puts the table into
// docs/accelerator.md.
//
// Definitions. A point's prediction error is |predicted - measured| / measured of the device's
// batch time. The scheduler's decision is "device" when the predicted device time is below the
// predicted CPU time (ties go to the CPU, as in AccelScheduler::Submit with no latency
// target); it is right when the measured times order the two sides the same way. A break-even
// is the smallest measured batch size from which the device is faster at every larger size
// measured (0: none).
//
// Thread safety: pure functions over value types.
#ifndef LEARNKV_LEARNED_ACCEL_CUDA_VALIDATION_REPORT_H_
#define LEARNKV_LEARNED_ACCEL_CUDA_VALIDATION_REPORT_H_

#include <cstdint>
#include <string>
#include <vector>

#include "learned/accel/cost_model.h"
#include "learnkv/status.h"

namespace learnkv::accel::gpu {

struct ValidationRow {
  ModelKind kind = ModelKind::kRmi;
  uint64_t items = 0;
  uint32_t chunks = 1;             // pipeline chunks the prediction chose and the run used
  double measured_device_ns = 0;   // median of many runs after warm-up
  double predicted_device_ns = 0;  // the cost model, from the calibrated description
  double measured_cpu_ns = 0;      // the models' CPU code, median
  double predicted_cpu_ns = 0;     // the CPU calibration
  // Host time to copy the batch into and out of pinned memory: outside both the measured
  // device time and the cost model, reported so that it is visible.
  double staging_ns = 0;
  bool exact = true;  // the GPU's answers equal the CPU's, item for item

  double DeviceError() const;
  bool PredictedDevice() const { return predicted_device_ns < predicted_cpu_ns; }
  bool MeasuredDevice() const { return measured_device_ns < measured_cpu_ns; }
  bool DecisionRight() const { return PredictedDevice() == MeasuredDevice(); }
};

struct ValidationGoals {
  double mean_error = 0.10;
  double worst_error = 0.30;
  double decisions_right = 0.95;
};

struct ValidationStats {
  std::string name;  // a kind's name, or "all"
  size_t points = 0;
  double mean_error = 0;
  double worst_error = 0;
  uint64_t worst_items = 0;  // the batch size of the worst point
  size_t decisions_right = 0;
  uint64_t measured_break_even = 0;   // per kind only
  uint64_t predicted_break_even = 0;  // per kind only
  bool exact = true;

  double DecisionFraction() const {
    return points == 0 ? 0 : static_cast<double>(decisions_right) / static_cast<double>(points);
  }
};

struct ValidationSummary {
  std::vector<ValidationStats> kinds;  // in the order the rows first name them
  ValidationStats all;
  ValidationGoals goals;
  bool meets_goals = false;  // over all rows, and every answer exact
  std::string verdict;       // one line
};

ValidationSummary Summarize(const std::vector<ValidationRow>& rows,
                            const ValidationGoals& goals = ValidationGoals());

// CSV with a header line; ParseValidationCsv reads it back (bench/accel_plot.py reads it too).
std::string ValidationCsv(const std::vector<ValidationRow>& rows);
Status ParseValidationCsv(const std::string& text, std::vector<ValidationRow>* rows);

// Markdown for docs/accelerator.md: the summary table, the verdict, and every point in a
// collapsed table. `context` (what was measured, where, when) opens it.
std::string ValidationMarkdown(const ValidationSummary& summary,
                               const std::vector<ValidationRow>& rows, const std::string& context);

}  // namespace learnkv::accel::gpu

#endif  // LEARNKV_LEARNED_ACCEL_CUDA_VALIDATION_REPORT_H_
