// The CUDA kernels (see kernels.cuh). They only index and move data; every result comes from
// inference_ops.h, the code the CPU-side tests run against the CPU models.
//
// Built with -fmad=false as a second guard (inference_ops.h already uses non-fusing
// intrinsics for every double operation that matters).
#include "learned/accel/cuda/kernels.cuh"

namespace learnkv::accel::gpu {

namespace {

constexpr int kThreads = 256;
constexpr int kMlpThreads = 128;  // the MLP keeps more state per thread

__device__ __forceinline__ uint64_t ItemIndex(uint64_t begin) {
  return begin + static_cast<uint64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
}

unsigned int Blocks(uint64_t count, int threads) {
  return static_cast<unsigned int>((count + threads - 1) / threads);
}

// Every thread of the block helps copy `words` 32-bit words to shared memory.
__device__ __forceinline__ void CopyToShared(uint32_t* dst, const uint32_t* src, size_t words) {
  for (size_t j = threadIdx.x; j < words; j += blockDim.x) dst[j] = src[j];
}

__global__ void EmptyKernel() {}

__global__ void RmiKernel(RmiView rmi, const uint64_t* __restrict__ keys, uint2* __restrict__ out,
                          uint64_t begin, uint64_t end) {
  const uint64_t i = ItemIndex(begin);
  if (i >= end) return;
  uint32_t lo, hi;
  RmiLookup(rmi, keys[i], &lo, &hi);
  out[i] = make_uint2(lo, hi);
}

__global__ void NgramKernel(NgramView ngram, uint32_t weight_words, bool shared,
                            const uint8_t* __restrict__ bytes, const uint32_t* __restrict__ offsets,
                            int32_t* __restrict__ out, uint64_t begin, uint64_t end) {
  extern __shared__ uint32_t smem[];
  const int8_t* w = ngram.weights;
  if (shared) {
    CopyToShared(smem, reinterpret_cast<const uint32_t*>(ngram.weights), weight_words);
    __syncthreads();
    w = reinterpret_cast<const int8_t*>(smem);
  }
  const uint64_t i = ItemIndex(begin);
  if (i >= end) return;
  const uint32_t from = offsets[i];
  out[i] = NgramScore(ngram, w, bytes + from, offsets[i + 1] - from);
}

__global__ void GridKernel(GridView grid, const uint64_t* __restrict__ keys,
                           int32_t* __restrict__ out, uint64_t begin, uint64_t end) {
  const uint64_t i = ItemIndex(begin);
  if (i >= end) return;
  out[i] = GridScore(grid, keys[i]);
}

template <bool kSmall>
__global__ void MlpKernel(MlpView mlp, uint32_t weight_words, uint32_t bias_count, bool shared,
                          const uint32_t* __restrict__ features, int32_t* __restrict__ out,
                          uint64_t begin, uint64_t end) {
  extern __shared__ uint32_t smem[];
  const uint32_t* w = mlp.weights;
  const int32_t* b = mlp.biases;
  if (shared) {
    CopyToShared(smem, mlp.weights, weight_words);
    CopyToShared(smem + weight_words, reinterpret_cast<const uint32_t*>(mlp.biases), bias_count);
    __syncthreads();
    w = smem;
    b = reinterpret_cast<const int32_t*>(smem + weight_words);
  }
  const uint64_t i = ItemIndex(begin);
  if (i >= end) return;
  const uint32_t* f = features + i * mlp.words[0];
  if constexpr (kSmall) {
    out[i] = MlpScoreSmall<kMlpSmallWords>(mlp, w, b, f);
  } else {
    out[i] = MlpScoreAny(mlp, w, b, f);
  }
}

}  // namespace

cudaError_t LaunchEmpty(cudaStream_t stream) {
  EmptyKernel<<<1, 1, 0, stream>>>();
  return cudaGetLastError();
}

cudaError_t LaunchRmi(const RmiView& rmi, const uint64_t* keys, uint2* out, uint64_t begin,
                      uint64_t count, cudaStream_t stream) {
  if (count == 0) return cudaSuccess;
  RmiKernel<<<Blocks(count, kThreads), kThreads, 0, stream>>>(rmi, keys, out, begin, begin + count);
  return cudaGetLastError();
}

cudaError_t LaunchNgram(const NgramView& ngram, size_t weight_bytes, const uint8_t* bytes,
                        const uint32_t* offsets, int32_t* out, uint64_t begin, uint64_t count,
                        cudaStream_t stream) {
  if (count == 0) return cudaSuccess;
  // The table is read at random once per byte of every key: shared memory when it fits.
  const bool shared = weight_bytes <= kMaxSharedWeightBytes;
  NgramKernel<<<Blocks(count, kThreads), kThreads, shared ? weight_bytes : 0, stream>>>(
      ngram, static_cast<uint32_t>(weight_bytes / 4), shared, bytes, offsets, out, begin,
      begin + count);
  return cudaGetLastError();
}

cudaError_t LaunchGrid(const GridView& grid, const uint64_t* keys, int32_t* out, uint64_t begin,
                       uint64_t count, cudaStream_t stream) {
  if (count == 0) return cudaSuccess;
  GridKernel<<<Blocks(count, kThreads), kThreads, 0, stream>>>(grid, keys, out, begin,
                                                               begin + count);
  return cudaGetLastError();
}

cudaError_t LaunchMlp(const MlpView& mlp, size_t weight_words, size_t bias_count,
                      const uint32_t* features, int32_t* out, uint64_t begin, uint64_t count,
                      cudaStream_t stream) {
  if (count == 0) return cudaSuccess;
  const size_t shared_bytes = 4 * (weight_words + bias_count);
  const bool shared = shared_bytes <= kMaxSharedWeightBytes;
  const size_t smem = shared ? shared_bytes : 0;
  const uint32_t ww = static_cast<uint32_t>(weight_words);
  const uint32_t bc = static_cast<uint32_t>(bias_count);
  if (MlpUsesSmallPath(mlp)) {
    MlpKernel<true><<<Blocks(count, kMlpThreads), kMlpThreads, smem, stream>>>(
        mlp, ww, bc, shared, features, out, begin, begin + count);
  } else {
    MlpKernel<false><<<Blocks(count, kMlpThreads), kMlpThreads, smem, stream>>>(
        mlp, ww, bc, shared, features, out, begin, begin + count);
  }
  return cudaGetLastError();
}

}  // namespace learnkv::accel::gpu
