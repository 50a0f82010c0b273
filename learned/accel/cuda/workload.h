// The models and probe keys that the GPU calibration and validation time (gpu_bench.h), one
// Workload per model kind: the same models, built from the same generators and seeds, that
// CalibrateCpu times (learned/accel/cpu_calibration.cc), so that the CPU calibration's
// predictions and the measurements here describe the same work. A batch of n items takes the
// first n probes, cycling through the pool, as a calibration point does.
//
// Also the CPU's answers (CpuBatch), which the validation times as the measured CPU side and
// compares with the GPU's answers item by item.
//
// Thread safety: immutable after Build; const methods may be called concurrently.
#ifndef LEARNKV_LEARNED_ACCEL_CUDA_WORKLOAD_H_
#define LEARNKV_LEARNED_ACCEL_CUDA_WORKLOAD_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "learned/accel/cost_model.h"
#include "learned/accel/cuda/model_images.h"
#include "learned/accel/mlp.h"
#include "learned/filter_classifier.h"
#include "learned/rmi.h"
#include "learnkv/slice.h"
#include "learnkv/status.h"
#include "util/datasets.h"

namespace learnkv::accel::gpu {

struct WorkloadOptions {
  // As CalibrationOptions (and learnkv-calibrate's flags of the same names).
  uint64_t model_keys = uint64_t{2} << 20;
  Dataset dataset = Dataset::kLognormal;
  uint64_t probe_pool = uint64_t{4} << 20;  // integer probes; string probes: a quarter
  uint64_t max_batch = uint64_t{16} << 20;  // probes beyond it are never used
  std::vector<uint32_t> mlp_dims = {32, 64, 64, 1};
  uint64_t seed = 42;
};

class Workload {
 public:
  // The kinds with a CUDA kernel: kRmi, kNgram, kGrid, kMlp. InvalidArgument otherwise.
  static Status Build(ModelKind kind, const WorkloadOptions& options,
                      std::unique_ptr<Workload>* result);

  ModelKind kind() const { return kind_; }
  // What the CUDA path moves and computes per item (cost_model.h). It is the kind's
  // ModelShape factory, with the inputs the kernel really receives: a grid is handed mapped
  // keys (8 bytes, ForGrid(..., 4): the 4-byte offset of its string form is not sent), an
  // MLP its feature rows padded to whole words.
  const ModelShape& shape() const { return shape_; }
  // One line: the model and the probes.
  std::string Describe() const;

  bool string_keys() const { return kind_ == ModelKind::kNgram || kind_ == ModelKind::kMlp; }
  // The inputs of a batch of n items. Integer kinds: mapped keys (the RMI's and the grid's
  // mapper applied). String kinds: slices into the pool.
  void IntegerBatch(uint64_t n, std::vector<uint64_t>* keys) const;
  void StringBatch(uint64_t n, std::vector<Slice>* keys) const;

  // The CPU's answers to a batch of n items, with the models' own code (Rmi::Lookup,
  // FilterClassifier::Score, Int8Mlp::Score) on the pool's inputs, as CalibrateCpu times it:
  // out[i] = lo | hi << 32 for the RMI, the score as uint32 otherwise.
  void CpuBatch(uint64_t n, uint64_t* out) const;

  const Rmi* rmi() const { return rmi_.get(); }
  const FilterClassifier* classifier() const { return classifier_.get(); }
  const MlpImage& mlp_image() const { return mlp_image_; }

 private:
  Workload() = default;

  ModelKind kind_ = ModelKind::kRmi;
  ModelShape shape_;
  std::string description_;
  std::unique_ptr<Rmi> rmi_;
  std::unique_ptr<FilterClassifier> classifier_;
  std::unique_ptr<Int8Mlp> mlp_;
  MlpImage mlp_image_;
  std::vector<uint64_t> int_probes_;     // rmi: keys; grid: mapped keys
  std::string grid_keys_;                // grid: the probes as 8-byte big-endian keys
  std::vector<std::string> str_probes_;  // ngram, mlp
};

}  // namespace learnkv::accel::gpu

#endif  // LEARNKV_LEARNED_ACCEL_CUDA_WORKLOAD_H_
