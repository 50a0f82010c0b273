// The reference int8 MLP (see mlp.h).
#include "learned/accel/mlp.h"

#include <algorithm>
#include <array>
#include <cassert>

#include "util/random.h"

namespace learnkv::accel {

std::unique_ptr<Int8Mlp> Int8Mlp::Random(const std::vector<uint32_t>& dims, uint64_t seed) {
  assert(dims.size() >= 2);
  std::unique_ptr<Int8Mlp> mlp(new Int8Mlp());
  mlp->dims_ = dims;
  learnkv::Random rnd(seed);
  for (size_t i = 0; i + 1 < dims.size(); ++i) {
    assert(dims[i] >= 1 && dims[i] <= kMaxWidth && dims[i + 1] >= 1 && dims[i + 1] <= kMaxWidth);
    std::vector<int8_t> w(static_cast<size_t>(dims[i]) * dims[i + 1]);
    for (int8_t& v : w) v = static_cast<int8_t>(static_cast<int>(rnd.Uniform(255)) - 127);
    std::vector<int32_t> b(dims[i + 1]);
    for (int32_t& v : b) v = static_cast<int32_t>(rnd.Uniform(2049)) - 1024;
    mlp->weights_.push_back(std::move(w));
    mlp->biases_.push_back(std::move(b));
  }
  return mlp;
}

int32_t Int8Mlp::Score(const Slice& key) const {
  // Two activation buffers, swapped by pointer between layers (no copies, no clearing beyond
  // the features).
  std::array<int8_t, kMaxWidth> a;
  std::array<int8_t, kMaxWidth> b;
  int8_t* in = a.data();
  int8_t* out = b.data();
  const size_t n = std::min<size_t>(key.size(), dims_[0]);
  for (size_t i = 0; i < n; ++i) in[i] = static_cast<int8_t>(key[i]);
  std::fill(in + n, in + dims_[0], int8_t{0});
  const size_t layers = weights_.size();
  int32_t result = 0;
  for (size_t l = 0; l < layers; ++l) {
    const uint32_t width_in = dims_[l];
    const uint32_t width_out = dims_[l + 1];
    const int8_t* w = weights_[l].data();
    for (uint32_t o = 0; o < width_out; ++o) {
      // |sum| <= 4096 * 127 * 127 + 1024 < 2^31: no overflow for any width allowed.
      int32_t acc = biases_[l][o];
      const int8_t* row = w + static_cast<size_t>(o) * width_in;
      for (uint32_t i = 0; i < width_in; ++i) acc += int32_t{row[i]} * in[i];
      if (l + 1 == layers) {
        if (o == 0) result = acc;
      } else {
        out[o] = static_cast<int8_t>(std::min(127, std::max(0, acc) >> kShift));
      }
    }
    std::swap(in, out);
  }
  return result;
}

size_t Int8Mlp::WeightBytes() const {
  size_t bytes = 0;
  for (size_t l = 0; l < weights_.size(); ++l) {
    bytes += weights_[l].size() + biases_[l].size() * sizeof(int32_t);
  }
  return bytes;
}

}  // namespace learnkv::accel
