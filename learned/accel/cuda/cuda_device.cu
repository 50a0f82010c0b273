// CudaDevice over the CUDA runtime (see cuda_device.h).
//
// Buffers: one pinned host input and output area and one device input and output area, grown
// to the largest batch staged so far (allocations are slow: a calibration or validation run
// warms them up before timing). Strings travel as n + 1 32-bit offsets followed by their bytes
// back to back, which is the "key plus a 4-byte offset" of ModelShape::ForNgram, in one copy
// when the batch is not pipelined (two per chunk when it is).
//
// Pipelining: chunk c runs on stream c % kStreams; its H2D copy, kernel and D2H copy are
// issued in that order, so copies of one chunk overlap kernels of others across streams, with
// H2D and D2H on their own copy engines (the cost model's three stages).
#include <cuda_runtime.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>

#include "learned/accel/cuda/cuda_device.h"
#include "learned/accel/cuda/kernels.cuh"

namespace learnkv::accel::gpu {

namespace {

constexpr int kStreams = 4;

using Clock = std::chrono::steady_clock;

double NanosSince(Clock::time_point start) {
  return std::chrono::duration<double, std::nano>(Clock::now() - start).count();
}

Status CudaError(const char* what, cudaError_t e) {
  return Status::IOError(std::string("cuda: ") + what,
                         std::string(cudaGetErrorName(e)) + ": " + cudaGetErrorString(e));
}

#define LEARNKV_CUDA_TRY(call)                          \
  do {                                                  \
    const cudaError_t e_ = (call);                      \
    if (e_ != cudaSuccess) return CudaError(#call, e_); \
  } while (0)

// Where a Buffer's memory lives: on the device, or pinned on the host for fast copies.
struct DeviceMemory {
  static cudaError_t Allocate(void** p, size_t bytes) { return cudaMalloc(p, bytes); }
  static void Free(void* p) { cudaFree(p); }
};
struct PinnedHostMemory {
  static cudaError_t Allocate(void** p, size_t bytes) {
    return cudaHostAlloc(p, bytes, cudaHostAllocDefault);
  }
  static void Free(void* p) { cudaFreeHost(p); }
};

// Grows to at least `bytes`; contents are not kept.
template <typename Memory>
class Buffer {
 public:
  ~Buffer() { Memory::Free(p_); }
  Status Reserve(size_t bytes) {
    if (bytes <= size_) return Status::OK();
    Memory::Free(p_);
    p_ = nullptr;
    size_ = 0;
    LEARNKV_CUDA_TRY(Memory::Allocate(&p_, bytes));
    size_ = bytes;
    return Status::OK();
  }
  template <typename T>
  T* as() const {
    return static_cast<T*>(p_);
  }

 private:
  void* p_ = nullptr;
  size_t size_ = 0;
};
using DeviceBuffer = Buffer<DeviceMemory>;
using PinnedBuffer = Buffer<PinnedHostMemory>;

class CudaModelImpl final : public CudaModel {
 public:
  ~CudaModelImpl() override {
    for (void* p : allocations_) cudaFree(p);
  }
  ModelKind kind() const override { return kind_; }
  size_t weight_bytes() const override { return weight_bytes_; }

  // Copies a host array to a new device allocation.
  template <typename T>
  Status Upload(const std::vector<T>& host, const T** device) {
    *device = nullptr;
    if (host.empty()) return Status::OK();
    void* p = nullptr;
    const size_t bytes = host.size() * sizeof(T);
    LEARNKV_CUDA_TRY(cudaMalloc(&p, bytes));
    allocations_.push_back(p);
    LEARNKV_CUDA_TRY(cudaMemcpy(p, host.data(), bytes, cudaMemcpyHostToDevice));
    weight_bytes_ += bytes;
    *device = static_cast<const T*>(p);
    return Status::OK();
  }

  ModelKind kind_ = ModelKind::kRmi;
  RmiView rmi{};
  NgramView ngram{};
  GridView grid{};
  MlpView mlp{};
  size_t ngram_weight_bytes = 0;
  size_t mlp_weight_words = 0;
  size_t mlp_bias_count = 0;

 private:
  std::vector<void*> allocations_;
  size_t weight_bytes_ = 0;
};

// Bytes of each item's input and output, for the kinds with fixed-size items.
size_t FixedInBytes(ModelKind kind, const CudaModelImpl& m) {
  return kind == ModelKind::kMlp ? 4 * size_t{m.mlp.words[0]} : sizeof(uint64_t);
}
size_t OutBytes(ModelKind kind) {
  return kind == ModelKind::kRmi ? sizeof(uint2) : sizeof(int32_t);
}

class CudaDeviceImpl final : public CudaDevice {
 public:
  ~CudaDeviceImpl() override {
    for (cudaEvent_t e : events_) {
      if (e != nullptr) cudaEventDestroy(e);
    }
    for (cudaStream_t s : streams_) {
      if (s != nullptr) cudaStreamDestroy(s);
    }
  }

  Status Init(int ordinal) {
    LEARNKV_CUDA_TRY(cudaSetDevice(ordinal));
    LEARNKV_CUDA_TRY(cudaGetDeviceProperties(&props_, ordinal));
    for (cudaStream_t& s : streams_)
      LEARNKV_CUDA_TRY(cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking));
    for (cudaEvent_t& e : events_) LEARNKV_CUDA_TRY(cudaEventCreate(&e));
    int driver = 0, runtime = 0;
    cudaDriverGetVersion(&driver);
    cudaRuntimeGetVersion(&runtime);
    char buf[512];
    std::snprintf(buf, sizeof(buf), "%s (sm_%d%d, %d SMs, %.1f GiB), driver %d.%d, runtime %d.%d",
                  props_.name, props_.major, props_.minor, props_.multiProcessorCount,
                  static_cast<double>(props_.totalGlobalMem) / (1u << 30), driver / 1000,
                  (driver % 1000) / 10, runtime / 1000, (runtime % 1000) / 10);
    description_ = buf;
    // A build without code for this device fails here, not in the middle of a measurement.
    cudaError_t e = LaunchEmpty(streams_[0]);
    if (e == cudaSuccess) e = cudaStreamSynchronize(streams_[0]);
    if (e == cudaErrorNoKernelImageForDevice || e == cudaErrorUnsupportedPtxVersion) {
      return Status::NotSupported("no CUDA device this build can run on",
                                  description_ +
                                      ": rebuild with CMAKE_CUDA_ARCHITECTURES including " +
                                      std::to_string(props_.major * 10 + props_.minor) + " (" +
                                      cudaGetErrorString(e) + ")");
    }
    if (e != cudaSuccess) return CudaError("empty kernel", e);
    return Status::OK();
  }

  std::string Describe() const override { return description_; }
  double memory_bytes() const override { return static_cast<double>(props_.totalGlobalMem); }

  Status UploadRmi(const Rmi& rmi, std::unique_ptr<CudaModel>* model) override {
    RmiImage image;
    Status s = RmiImage::FromRmi(rmi, &image);
    if (!s.ok()) return s;
    auto m = std::make_unique<CudaModelImpl>();
    m->kind_ = ModelKind::kRmi;
    m->rmi = image.scalars;
    if (s.ok()) s = m->Upload(image.knot_x, &m->rmi.knot_x);
    if (s.ok()) s = m->Upload(image.knot_y, &m->rmi.knot_y);
    if (s.ok()) s = m->Upload(image.knot_slope, &m->rmi.knot_slope);
    if (s.ok()) s = m->Upload(image.knot_table, &m->rmi.knot_table);
    if (s.ok()) s = m->Upload(image.leaves, &m->rmi.leaves);
    if (s.ok()) *model = std::move(m);
    return s;
  }

  Status UploadClassifier(const FilterClassifier& classifier,
                          std::unique_ptr<CudaModel>* model) override {
    auto m = std::make_unique<CudaModelImpl>();
    Status s;
    if (classifier.kind() == ClassifierKind::kNgram) {
      NgramImage image;
      s = NgramImage::FromClassifier(classifier, &image);
      m->kind_ = ModelKind::kNgram;
      m->ngram = image.scalars;
      m->ngram_weight_bytes = image.weights.size();
      if (s.ok()) s = m->Upload(image.weights, &m->ngram.weights);
    } else {
      GridImage image;
      s = GridImage::FromClassifier(classifier, &image);
      m->kind_ = ModelKind::kGrid;
      m->grid = image.scalars;
      if (s.ok()) s = m->Upload(image.packed, &m->grid.packed);
    }
    if (s.ok()) *model = std::move(m);
    return s;
  }

  Status UploadMlp(const MlpImage& image, std::unique_ptr<CudaModel>* model) override {
    auto m = std::make_unique<CudaModelImpl>();
    m->kind_ = ModelKind::kMlp;
    m->mlp = image.scalars;
    m->mlp_weight_words = image.weights.size();
    m->mlp_bias_count = image.biases.size();
    Status s = m->Upload(image.weights, &m->mlp.weights);
    if (s.ok()) s = m->Upload(image.biases, &m->mlp.biases);
    if (s.ok()) *model = std::move(m);
    return s;
  }

  Status StageIntegers(const CudaModel& model, const uint64_t* keys, size_t n,
                       BatchTiming* timing) override {
    if (model.kind() != ModelKind::kRmi && model.kind() != ModelKind::kGrid) {
      return Status::InvalidArgument("cuda: integer keys are for rmi and grid models");
    }
    const Clock::time_point start = Clock::now();
    Status s = Reserve(static_cast<const CudaModelImpl&>(model), n, n * sizeof(uint64_t));
    if (!s.ok()) return s;
    std::memcpy(host_in_.as<uint64_t>(), keys, n * sizeof(uint64_t));
    return Staged(model, n, n * sizeof(uint64_t), start, timing);
  }

  Status StageStrings(const CudaModel& model, const Slice* keys, size_t n,
                      BatchTiming* timing) override {
    const auto& m = static_cast<const CudaModelImpl&>(model);
    const Clock::time_point start = Clock::now();
    if (model.kind() == ModelKind::kNgram) {
      size_t bytes = 0;
      for (size_t i = 0; i < n; ++i) bytes += keys[i].size();
      if (bytes > UINT32_MAX) return Status::InvalidArgument("cuda: a batch of over 4 GiB of keys");
      const size_t header = OffsetBytes(n);
      Status s = Reserve(m, n, header + bytes);
      if (!s.ok()) return s;
      uint32_t* offsets = host_in_.as<uint32_t>();
      uint8_t* dst = host_in_.as<uint8_t>() + header;
      uint32_t at = 0;
      for (size_t i = 0; i < n; ++i) {
        offsets[i] = at;
        std::memcpy(dst + at, keys[i].data(), keys[i].size());
        at += static_cast<uint32_t>(keys[i].size());
      }
      offsets[n] = at;
      return Staged(model, n, header + bytes, start, timing);
    }
    if (model.kind() == ModelKind::kMlp) {
      const size_t row = FixedInBytes(ModelKind::kMlp, m);
      Status s = Reserve(m, n, n * row);
      if (!s.ok()) return s;
      uint8_t* dst = host_in_.as<uint8_t>();
      const size_t width = m.mlp.dims[0];
      for (size_t i = 0; i < n; ++i, dst += row) {
        const size_t take = std::min(keys[i].size(), width);
        std::memcpy(dst, keys[i].data(), take);
        std::memset(dst + take, 0, row - take);
      }
      return Staged(model, n, n * row, start, timing);
    }
    return Status::InvalidArgument("cuda: string keys are for ngram and mlp models");
  }

  Status Execute(const CudaModel& model, const ExecuteOptions& options,
                 BatchTiming* timing) override {
    const auto& m = static_cast<const CudaModelImpl&>(model);
    if (staged_model_ != &model)
      return Status::InvalidArgument("cuda: no batch of this model staged");
    const size_t n = staged_n_;
    BatchTiming t = timing != nullptr ? *timing : BatchTiming();
    t.items = n;
    if (options.kernel_only) {
      if (!on_device_) return Status::InvalidArgument("cuda: kernel_only before a full Execute");
      const Clock::time_point start = Clock::now();
      LEARNKV_CUDA_TRY(cudaEventRecord(events_[0], streams_[0]));
      LEARNKV_CUDA_TRY(Launch(m, 0, n, streams_[0]));
      LEARNKV_CUDA_TRY(cudaEventRecord(events_[1], streams_[0]));
      LEARNKV_CUDA_TRY(cudaStreamSynchronize(streams_[0]));
      t.device_ns = NanosSince(start);
      t.chunks = 1;
      float ms = 0;
      LEARNKV_CUDA_TRY(cudaEventElapsedTime(&ms, events_[0], events_[1]));
      t.kernel_ns = ms * 1e6;
      if (timing != nullptr) *timing = t;
      return Status::OK();
    }
    // k chunks of n / k items (rounded down or up), none empty unless the batch is.
    const uint64_t k =
        std::max<uint64_t>(1, std::min<uint64_t>(options.chunks, std::max<size_t>(n, 1)));
    const bool events = options.phase_events && k == 1;
    const Clock::time_point start = Clock::now();
    int streams_used = 0;
    for (uint64_t c = 0; c < k; ++c) {
      const uint64_t a = c * n / k;
      const uint64_t b = (c + 1) * n / k;
      cudaStream_t s = streams_[c % kStreams];
      streams_used = static_cast<int>(std::min<uint64_t>(kStreams, c + 1));
      if (events) LEARNKV_CUDA_TRY(cudaEventRecord(events_[0], s));
      LEARNKV_CUDA_TRY(CopyIn(m, a, b, s));
      if (events) LEARNKV_CUDA_TRY(cudaEventRecord(events_[1], s));
      LEARNKV_CUDA_TRY(Launch(m, a, b - a, s));
      if (events) LEARNKV_CUDA_TRY(cudaEventRecord(events_[2], s));
      LEARNKV_CUDA_TRY(CopyOut(m, a, b, s));
      if (events) LEARNKV_CUDA_TRY(cudaEventRecord(events_[3], s));
    }
    for (int i = 0; i < streams_used; ++i) LEARNKV_CUDA_TRY(cudaStreamSynchronize(streams_[i]));
    t.device_ns = NanosSince(start);
    t.chunks = static_cast<uint32_t>(k);
    if (events) {
      float ms[3] = {0, 0, 0};
      for (int i = 0; i < 3; ++i) {
        LEARNKV_CUDA_TRY(cudaEventElapsedTime(&ms[i], events_[i], events_[i + 1]));
      }
      t.h2d_ns = ms[0] * 1e6;
      t.kernel_ns = ms[1] * 1e6;
      t.d2h_ns = ms[2] * 1e6;
    }
    on_device_ = true;
    executed_ = true;
    if (timing != nullptr) *timing = t;
    return Status::OK();
  }

  Status CollectBounds(SearchBound* out, BatchTiming* timing) override {
    if (staged_model_ == nullptr || staged_model_->kind() != ModelKind::kRmi || !executed_) {
      return Status::InvalidArgument("cuda: no executed rmi batch to collect");
    }
    const Clock::time_point start = Clock::now();
    const uint2* r = host_out_.as<uint2>();
    for (size_t i = 0; i < staged_n_; ++i) out[i] = SearchBound{r[i].x, r[i].y};
    if (timing != nullptr) timing->collect_ns = NanosSince(start);
    return Status::OK();
  }

  Status CollectScores(int32_t* out, BatchTiming* timing) override {
    if (staged_model_ == nullptr || staged_model_->kind() == ModelKind::kRmi || !executed_) {
      return Status::InvalidArgument("cuda: no executed classifier or mlp batch to collect");
    }
    const Clock::time_point start = Clock::now();
    std::memcpy(out, host_out_.as<int32_t>(), staged_n_ * sizeof(int32_t));
    if (timing != nullptr) timing->collect_ns = NanosSince(start);
    return Status::OK();
  }

  Status TimeEmptyLaunch(int samples, std::vector<double>* ns) override {
    ns->clear();
    for (int i = 0; i < samples; ++i) {
      const Clock::time_point start = Clock::now();
      LEARNKV_CUDA_TRY(LaunchEmpty(streams_[0]));
      LEARNKV_CUDA_TRY(cudaStreamSynchronize(streams_[0]));
      ns->push_back(NanosSince(start));
    }
    return Status::OK();
  }

  Status TimeCopies(CopyDirection direction, size_t bytes, int copies, int samples,
                    std::vector<double>* ns) override {
    if (bytes == 0 || copies < 1) return Status::InvalidArgument("cuda: empty copy");
    Status s = scratch_host_.Reserve(bytes);
    if (s.ok()) s = scratch_device_.Reserve(bytes);
    if (!s.ok()) return s;
    std::memset(scratch_host_.as<uint8_t>(), 1, bytes);
    ns->clear();
    const bool h2d = direction == CopyDirection::kHostToDevice;
    void* dst = h2d ? scratch_device_.as<void>() : scratch_host_.as<void>();
    const void* src = h2d ? scratch_host_.as<void>() : scratch_device_.as<void>();
    const cudaMemcpyKind kind = h2d ? cudaMemcpyHostToDevice : cudaMemcpyDeviceToHost;
    for (int i = 0; i < samples; ++i) {
      const Clock::time_point start = Clock::now();
      for (int c = 0; c < copies; ++c) {
        LEARNKV_CUDA_TRY(cudaMemcpyAsync(dst, src, bytes, kind, streams_[0]));
      }
      LEARNKV_CUDA_TRY(cudaStreamSynchronize(streams_[0]));
      ns->push_back(NanosSince(start) / copies);
    }
    return Status::OK();
  }

  Status DeviceCopyBandwidth(size_t bytes, int samples, double* bytes_per_s) override {
    Status s = scratch_device_.Reserve(bytes);
    if (s.ok()) s = scratch_device2_.Reserve(bytes);
    if (!s.ok()) return s;
    float best = 0;
    for (int i = 0; i < samples; ++i) {
      LEARNKV_CUDA_TRY(cudaEventRecord(events_[0], streams_[0]));
      LEARNKV_CUDA_TRY(cudaMemcpyAsync(scratch_device2_.as<void>(), scratch_device_.as<void>(),
                                       bytes, cudaMemcpyDeviceToDevice, streams_[0]));
      LEARNKV_CUDA_TRY(cudaEventRecord(events_[1], streams_[0]));
      LEARNKV_CUDA_TRY(cudaEventSynchronize(events_[1]));
      float ms = 0;
      LEARNKV_CUDA_TRY(cudaEventElapsedTime(&ms, events_[0], events_[1]));
      if (i == 0 || ms < best) best = ms;
    }
    *bytes_per_s = best > 0 ? 2.0 * static_cast<double>(bytes) / (best * 1e-3) : 0;
    return Status::OK();
  }

 private:
  // The offsets that open a batch of n strings.
  static size_t OffsetBytes(size_t n) { return (n + 1) * sizeof(uint32_t); }

  // Room for n items of `in_bytes` input in total.
  Status Reserve(const CudaModelImpl& m, size_t n, size_t in_bytes) {
    Status s = host_in_.Reserve(std::max<size_t>(in_bytes, 8));
    if (s.ok()) s = dev_in_.Reserve(std::max<size_t>(in_bytes, 8));
    if (s.ok()) s = host_out_.Reserve(std::max<size_t>(n * OutBytes(m.kind()), 8));
    if (s.ok()) s = dev_out_.Reserve(std::max<size_t>(n * OutBytes(m.kind()), 8));
    return s;
  }

  Status Staged(const CudaModel& model, size_t n, size_t in_bytes, Clock::time_point start,
                BatchTiming* timing) {
    staged_model_ = &model;
    staged_n_ = n;
    staged_in_bytes_ = in_bytes;
    on_device_ = false;
    executed_ = false;
    if (timing != nullptr) {
      *timing = BatchTiming();
      timing->items = n;
      timing->stage_ns = NanosSince(start);
    }
    return Status::OK();
  }

  // Items [a, b) of the staged batch: inputs to the device, results back.
  cudaError_t CopyIn(const CudaModelImpl& m, uint64_t a, uint64_t b, cudaStream_t s) {
    if (a >= b) return cudaSuccess;
    if (m.kind() == ModelKind::kNgram) {
      if (a == 0 && b == staged_n_) {  // the whole batch: one copy
        return cudaMemcpyAsync(dev_in_.as<void>(), host_in_.as<void>(), staged_in_bytes_,
                               cudaMemcpyHostToDevice, s);
      }
      const uint32_t* offsets = host_in_.as<uint32_t>();
      cudaError_t e = cudaMemcpyAsync(dev_in_.as<uint32_t>() + a, offsets + a,
                                      (b - a + 1) * sizeof(uint32_t), cudaMemcpyHostToDevice, s);
      if (e != cudaSuccess || offsets[b] == offsets[a]) return e;
      const size_t at = OffsetBytes(staged_n_) + offsets[a];
      return cudaMemcpyAsync(dev_in_.as<uint8_t>() + at, host_in_.as<uint8_t>() + at,
                             offsets[b] - offsets[a], cudaMemcpyHostToDevice, s);
    }
    const size_t row = FixedInBytes(m.kind(), m);
    return cudaMemcpyAsync(dev_in_.as<uint8_t>() + a * row, host_in_.as<uint8_t>() + a * row,
                           (b - a) * row, cudaMemcpyHostToDevice, s);
  }

  cudaError_t CopyOut(const CudaModelImpl& m, uint64_t a, uint64_t b, cudaStream_t s) {
    if (a >= b) return cudaSuccess;
    const size_t row = OutBytes(m.kind());
    return cudaMemcpyAsync(host_out_.as<uint8_t>() + a * row, dev_out_.as<uint8_t>() + a * row,
                           (b - a) * row, cudaMemcpyDeviceToHost, s);
  }

  cudaError_t Launch(const CudaModelImpl& m, uint64_t begin, uint64_t count, cudaStream_t s) {
    switch (m.kind()) {
      case ModelKind::kRmi:
        return LaunchRmi(m.rmi, dev_in_.as<uint64_t>(), dev_out_.as<uint2>(), begin, count, s);
      case ModelKind::kNgram:
        return LaunchNgram(m.ngram, m.ngram_weight_bytes,
                           dev_in_.as<uint8_t>() + OffsetBytes(staged_n_), dev_in_.as<uint32_t>(),
                           dev_out_.as<int32_t>(), begin, count, s);
      case ModelKind::kGrid:
        return LaunchGrid(m.grid, dev_in_.as<uint64_t>(), dev_out_.as<int32_t>(), begin, count, s);
      case ModelKind::kMlp:
        return LaunchMlp(m.mlp, m.mlp_weight_words, m.mlp_bias_count, dev_in_.as<uint32_t>(),
                         dev_out_.as<int32_t>(), begin, count, s);
      default:
        return cudaErrorInvalidValue;
    }
  }

  cudaDeviceProp props_{};
  std::string description_;
  cudaStream_t streams_[kStreams] = {};
  cudaEvent_t events_[4] = {};

  const CudaModel* staged_model_ = nullptr;
  size_t staged_n_ = 0;
  size_t staged_in_bytes_ = 0;
  bool on_device_ = false;  // the staged inputs are on the device
  bool executed_ = false;   // and the results in host_out_
  PinnedBuffer host_in_, host_out_, scratch_host_;
  DeviceBuffer dev_in_, dev_out_, scratch_device_, scratch_device2_;
};

}  // namespace

Status CudaDevice::Open(int ordinal, std::unique_ptr<CudaDevice>* result) {
  int count = 0;
  const cudaError_t e = cudaGetDeviceCount(&count);
  if (e != cudaSuccess) {
    int runtime = 0;
    cudaRuntimeGetVersion(&runtime);
    std::string why = std::string(cudaGetErrorName(e)) + ": " + cudaGetErrorString(e);
    if (e == cudaErrorInsufficientDriver) {
      why += " (no NVIDIA driver is loaded, or it is older than this build's CUDA runtime " +
             std::to_string(runtime / 1000) + "." + std::to_string((runtime % 1000) / 10) + ")";
    }
    return Status::NotSupported("no CUDA device", why);
  }
  if (count == 0) return Status::NotSupported("no CUDA device", "the CUDA runtime found no GPU");
  if (ordinal < 0 || ordinal >= count) {
    return Status::InvalidArgument("cuda: no device " + std::to_string(ordinal),
                                   std::to_string(count) + " present");
  }
  auto device = std::make_unique<CudaDeviceImpl>();
  Status s = device->Init(ordinal);
  if (s.ok()) *result = std::move(device);
  return s;
}

}  // namespace learnkv::accel::gpu
