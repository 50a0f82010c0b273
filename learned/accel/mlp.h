// A small multilayer perceptron with int8 weights and activations and int32 accumulation: the
// reference model of the cost model's matrix path (ModelKind::kMlp). Tables do not use it
// yet; it exists so that the CPU calibration times real matrix code rather than a guess, and
// so that the scheduler's matrix path has a model behind it. Integer arithmetic makes its
// score the same on every device, which a simulated offload requires.
//
// Features are the key's first dims[0] bytes (zero padded), read as int8. Each hidden layer
// computes relu(bias + W x) >> kShift, clamped to 127; the last layer returns bias + W x.
//
// Thread safety: immutable after construction; Score may be called concurrently.
#ifndef LEARNKV_LEARNED_ACCEL_MLP_H_
#define LEARNKV_LEARNED_ACCEL_MLP_H_

#include <cstdint>
#include <memory>
#include <vector>

#include "learnkv/slice.h"

namespace learnkv::accel {

class Int8Mlp {
 public:
  static constexpr uint32_t kMaxWidth = 4096;
  static constexpr int kShift = 10;

  // 32 byte features, two hidden layers of 64, one output: a "small MLP classifier".
  static std::vector<uint32_t> DefaultDims() { return {32, 64, 64, 1}; }

  // Weights uniform in [-127, 127] and biases in [-1024, 1024], drawn from seed.
  // REQUIRES: dims.size() >= 2, every width in [1, kMaxWidth].
  static std::unique_ptr<Int8Mlp> Random(const std::vector<uint32_t>& dims, uint64_t seed);

  // The first output of the last layer.
  int32_t Score(const Slice& key) const;

  const std::vector<uint32_t>& dims() const { return dims_; }
  // Bytes of weights and biases.
  size_t WeightBytes() const;

 private:
  Int8Mlp() = default;

  std::vector<uint32_t> dims_;
  std::vector<std::vector<int8_t>> weights_;  // layer i: dims[i + 1] rows of dims[i]
  std::vector<std::vector<int32_t>> biases_;  // layer i: dims[i + 1]
};

}  // namespace learnkv::accel

#endif  // LEARNKV_LEARNED_ACCEL_MLP_H_
