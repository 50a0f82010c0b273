// The CUDA kernels of the back end and their launchers (kernels.cu), for cuda_device.cu only.
// Each kernel evaluates items [begin, begin + count) of a batch, one thread per item, with the
// shared code of inference_ops.h; a pipeline chunk is one launch over its items.
//
// Thread safety: launchers enqueue on the given stream and return its launch error.
#ifndef LEARNKV_LEARNED_ACCEL_CUDA_KERNELS_CUH_
#define LEARNKV_LEARNED_ACCEL_CUDA_KERNELS_CUH_

#include <cuda_runtime.h>

#include <cstddef>
#include <cstdint>

#include "learned/accel/cuda/inference_ops.h"

namespace learnkv::accel::gpu {

// Weights up to this size are copied to shared memory by every block (the default without
// opting in to more).
inline constexpr size_t kMaxSharedWeightBytes = 48 * 1024;

cudaError_t LaunchEmpty(cudaStream_t stream);

// out[i] = {lo, hi} of Rmi::Lookup(keys[i]).
cudaError_t LaunchRmi(const RmiView& rmi, const uint64_t* keys, uint2* out, uint64_t begin,
                      uint64_t count, cudaStream_t stream);

// Key i is bytes[offsets[i], offsets[i + 1]). weight_bytes: 2^log2_slots.
cudaError_t LaunchNgram(const NgramView& ngram, size_t weight_bytes, const uint8_t* bytes,
                        const uint32_t* offsets, int32_t* out, uint64_t begin, uint64_t count,
                        cudaStream_t stream);

cudaError_t LaunchGrid(const GridView& grid, const uint64_t* keys, int32_t* out, uint64_t begin,
                       uint64_t count, cudaStream_t stream);

// Item i's features are words [i * mlp.words[0], (i + 1) * mlp.words[0]). weight_words and
// bias_count size the model's arrays (for the copy to shared memory).
cudaError_t LaunchMlp(const MlpView& mlp, size_t weight_words, size_t bias_count,
                      const uint32_t* features, int32_t* out, uint64_t begin, uint64_t count,
                      cudaStream_t stream);

}  // namespace learnkv::accel::gpu

#endif  // LEARNKV_LEARNED_ACCEL_CUDA_KERNELS_CUH_
