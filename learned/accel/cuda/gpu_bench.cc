// GPU calibration measurements and the validation sweep (see gpu_bench.h).
#include "learned/accel/cuda/gpu_bench.h"

#include <algorithm>
#include <chrono>
#include <cinttypes>
#include <cstdarg>
#include <cstdio>
#include <memory>

namespace learnkv::accel::gpu {

namespace {

using Clock = std::chrono::steady_clock;

double MillisSince(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

double Median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

void Progress(const std::function<void(const std::string&)>& progress, const std::string& line) {
  if (progress) progress(line);
}

std::vector<uint64_t> Sizes(uint64_t growth, uint64_t max) {
  std::vector<uint64_t> sizes;
  for (uint64_t n = 1; n < max; n *= growth) sizes.push_back(n);
  sizes.push_back(max);
  return sizes;
}

Status Upload(CudaDevice* gpu, const Workload& w, std::unique_ptr<CudaModel>* model) {
  switch (w.kind()) {
    case ModelKind::kRmi:
      return gpu->UploadRmi(*w.rmi(), model);
    case ModelKind::kMlp:
      return gpu->UploadMlp(w.mlp_image(), model);
    default:
      return gpu->UploadClassifier(*w.classifier(), model);
  }
}

// Stages the workload's batch of n items.
Status Stage(CudaDevice* gpu, const Workload& w, const CudaModel& model, uint64_t n,
             BatchTiming* timing) {
  if (w.string_keys()) {
    std::vector<Slice> keys;
    w.StringBatch(n, &keys);
    return gpu->StageStrings(model, keys.data(), keys.size(), timing);
  }
  std::vector<uint64_t> keys;
  w.IntegerBatch(n, &keys);
  return gpu->StageIntegers(model, keys.data(), keys.size(), timing);
}

// The executed batch's answers, packed as Workload::CpuBatch packs the CPU's.
Status Collect(CudaDevice* gpu, const Workload& w, uint64_t n, std::vector<uint64_t>* out) {
  out->resize(n);
  if (w.kind() == ModelKind::kRmi) {
    std::vector<SearchBound> bounds(n);
    Status s = gpu->CollectBounds(bounds.data(), nullptr);
    for (uint64_t i = 0; s.ok() && i < n; ++i) (*out)[i] = bounds[i].lo | (bounds[i].hi << 32);
    return s;
  }
  std::vector<int32_t> scores(n);
  Status s = gpu->CollectScores(scores.data(), nullptr);
  for (uint64_t i = 0; s.ok() && i < n; ++i) (*out)[i] = static_cast<uint32_t>(scores[i]);
  return s;
}

// Median over timed Executes of the staged batch: the host's device_ns, or with kernel_only
// the device's kernel_ns.
Status TimeGpu(CudaDevice* gpu, const CudaModel& model, const ExecuteOptions& options,
               const GpuTiming& t, double* median) {
  BatchTiming timing;
  for (int i = 0; i < t.warmup; ++i) {
    Status s = gpu->Execute(model, options, &timing);
    if (!s.ok()) return s;
  }
  std::vector<double> samples;
  const Clock::time_point start = Clock::now();
  while (static_cast<int>(samples.size()) < t.max_runs &&
         (static_cast<int>(samples.size()) < t.min_runs || MillisSince(start) < t.min_point_ms)) {
    Status s = gpu->Execute(model, options, &timing);
    if (!s.ok()) return s;
    samples.push_back(options.kernel_only ? timing.kernel_ns : timing.device_ns);
  }
  *median = Median(samples);
  return Status::OK();
}

// Median CPU time of a batch of n items (answers left in *out).
double TimeCpu(const Workload& w, uint64_t n, const GpuValidationOptions& o,
               std::vector<uint64_t>* out) {
  out->assign(n, 0);                                       // touches the pages before timing
  const uint64_t group = std::max<uint64_t>(1, 4096 / n);  // tiny batches: several per clock read
  std::vector<double> samples;
  double total_ms = 0;
  bool first = true;
  while (true) {
    const Clock::time_point start = Clock::now();
    for (uint64_t g = 0; g < group; ++g) w.CpuBatch(n, out->data());
    const double ms = MillisSince(start);
    if (first && ms <= o.cpu_max_point_ms) {  // a warm-up, unless it is all there will be
      first = false;
      continue;
    }
    first = false;
    samples.push_back(ms * 1e6 / static_cast<double>(group));
    total_ms += ms;
    if (ms > o.cpu_max_point_ms || static_cast<int>(samples.size()) >= o.cpu_max_runs) break;
    if (static_cast<int>(samples.size()) >= o.cpu_min_runs && total_ms >= o.cpu_min_point_ms) break;
  }
  return Median(samples);
}

std::string Line(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
std::string Line(const char* fmt, ...) {
  char buf[512];
  va_list args;
  va_start(args, fmt);
  std::vsnprintf(buf, sizeof(buf), fmt, args);
  va_end(args);
  return buf;
}

}  // namespace

Status MeasureDevice(CudaDevice* gpu, const GpuCalibrationOptions& o, DeviceMeasurements* m,
                     std::string* csv) {
  *m = DeviceMeasurements();
  m->device = gpu->Describe();
  m->mem_bytes = gpu->memory_bytes();
  *csv += "what,kind,x,ns\n";

  std::vector<double> ns;
  Status s = gpu->TimeEmptyLaunch(200, &ns);  // warm-up
  if (s.ok()) s = gpu->TimeEmptyLaunch(2000, &ns);
  if (!s.ok()) return s;
  m->launch_ns = Median(ns);
  *csv += Line("launch,,1,%.1f\n", m->launch_ns);
  Progress(o.progress, Line("empty kernel, launched and synchronized: %.2f us (median of 2000)",
                            m->launch_ns / 1e3));

  for (size_t bytes = 4; bytes <= o.max_copy_bytes; bytes *= 4) {
    // Enough copies per sample to last about 2 ms, so that the synchronization at its end
    // adds little to each copy.
    const double guess_ns = 5000 + static_cast<double>(bytes) / 20.0;
    const int copies = static_cast<int>(std::clamp(2e6 / guess_ns, 1.0, 500.0));
    for (CopyDirection dir : {CopyDirection::kHostToDevice, CopyDirection::kDeviceToHost}) {
      const bool h2d = dir == CopyDirection::kHostToDevice;
      s = gpu->TimeCopies(dir, bytes, copies, 2, &ns);  // warm-up
      if (s.ok()) s = gpu->TimeCopies(dir, bytes, copies, 9, &ns);
      if (!s.ok()) return s;
      const double median = Median(ns);
      (h2d ? m->h2d : m->d2h).emplace_back(static_cast<double>(bytes), median);
      *csv += Line("%s,,%zu,%.1f\n", h2d ? "h2d" : "d2h", bytes, median);
    }
    Progress(o.progress, Line("copies of %zu bytes: h2d %.2f us, d2h %.2f us", bytes,
                              m->h2d.back().second / 1e3, m->d2h.back().second / 1e3));
  }
  s = gpu->DeviceCopyBandwidth(std::min<size_t>(o.max_copy_bytes, size_t{256} << 20), 10,
                               &m->device_copy_bytes_per_s);
  if (!s.ok()) return s;
  *csv += Line("d2d,,%zu,%.1f\n", std::min<size_t>(o.max_copy_bytes, size_t{256} << 20),
               m->device_copy_bytes_per_s);
  Progress(o.progress,
           Line("device-to-device copy: %.0f GB/s of traffic", m->device_copy_bytes_per_s / 1e9));

  WorkloadOptions wo = o.workload;
  wo.max_batch = o.max_batch;
  for (ModelKind kind : o.kinds) {
    std::unique_ptr<Workload> w;
    s = Workload::Build(kind, wo, &w);
    std::unique_ptr<CudaModel> model;
    if (s.ok()) s = Upload(gpu, *w, &model);
    if (!s.ok()) return s;
    Progress(o.progress, w->Describe());
    KindMeasurements km;
    km.kind = kind;
    km.shape = w->shape();
    for (uint64_t n : Sizes(4, o.max_batch)) {
      ExecuteOptions full;
      ExecuteOptions kernel;
      kernel.kernel_only = true;
      BatchTiming t;
      double median = 0;
      s = Stage(gpu, *w, *model, n, &t);
      if (s.ok()) s = gpu->Execute(*model, full, &t);  // puts the inputs on the device
      if (s.ok()) s = TimeGpu(gpu, *model, kernel, o.timing, &median);
      if (!s.ok()) return s;
      km.kernel_ns.emplace_back(static_cast<double>(n), median);
      *csv += Line("kernel,%s,%" PRIu64 ",%.1f\n", ModelKindName(kind), n, median);
      Progress(o.progress, Line("%s kernel alone, %" PRIu64 " items: %.2f us", ModelKindName(kind),
                                n, median / 1e3));
    }
    for (uint64_t n : o.batch_sizes) {
      if (n == 0 || n > o.max_batch) continue;
      BatchTiming t;
      double median = 0;
      s = Stage(gpu, *w, *model, n, &t);
      if (s.ok()) s = TimeGpu(gpu, *model, ExecuteOptions(), o.timing, &median);
      if (!s.ok()) return s;
      km.batches.push_back(BatchPoint{n, 1, median});
      *csv += Line("batch,%s,%" PRIu64 ",%.1f\n", ModelKindName(kind), n, median);
      Progress(o.progress, Line("%s batch end to end, %" PRIu64 " items: %.2f us",
                                ModelKindName(kind), n, median / 1e3));
    }
    m->kinds.push_back(std::move(km));
  }
  return Status::OK();
}

Status ValidateDevice(CudaDevice* gpu, const DeviceSpec& spec, const CpuCalibration& cpu,
                      const GpuValidationOptions& o, std::vector<ValidationRow>* rows) {
  if (o.growth < 2 || o.max_batch == 0) return Status::InvalidArgument("validation: batch sizes");
  WorkloadOptions wo = o.workload;
  wo.max_batch = o.max_batch;
  for (ModelKind kind : o.kinds) {
    if (!cpu.Has(kind)) {
      return Status::InvalidArgument("validation: the cpu calibration has no curve for",
                                     ModelKindName(kind));
    }
    std::unique_ptr<Workload> w;
    Status s = Workload::Build(kind, wo, &w);
    std::unique_ptr<CudaModel> model;
    if (s.ok()) s = Upload(gpu, *w, &model);
    if (!s.ok()) return s;
    Progress(o.progress, w->Describe());
    std::vector<uint64_t> gpu_out, cpu_out;
    for (uint64_t n : Sizes(o.growth, o.max_batch)) {
      const DeviceCost cost = BestDeviceCost(spec, w->shape(), n, true, o.max_pipeline_chunks);
      ValidationRow r;
      r.kind = kind;
      r.items = n;
      r.chunks = cost.chunks;
      r.predicted_device_ns = cost.total_ns;
      r.predicted_cpu_ns = cpu.PredictNs(kind, n);
      BatchTiming t;
      ExecuteOptions eo;
      eo.chunks = cost.chunks;
      s = Stage(gpu, *w, *model, n, &t);
      if (s.ok()) s = TimeGpu(gpu, *model, eo, o.timing, &r.measured_device_ns);
      if (s.ok()) s = Collect(gpu, *w, n, &gpu_out);
      if (!s.ok()) return s;
      r.staging_ns = t.stage_ns;
      r.measured_cpu_ns = TimeCpu(*w, n, o, &cpu_out);
      r.exact = gpu_out == cpu_out;
      rows->push_back(r);
      Progress(o.progress,
               Line("%s %" PRIu64 " items, %u chunks: device %.2f us measured, %.2f predicted "
                    "(%.1f%%); cpu %.2f us measured, %.2f predicted; faster: %s measured, %s "
                    "predicted%s",
                    ModelKindName(kind), n, r.chunks, r.measured_device_ns / 1e3,
                    r.predicted_device_ns / 1e3, 100 * r.DeviceError(), r.measured_cpu_ns / 1e3,
                    r.predicted_cpu_ns / 1e3, r.MeasuredDevice() ? "device" : "cpu",
                    r.PredictedDevice() ? "device" : "cpu",
                    r.exact ? "" : "; ANSWERS DIFFER FROM THE CPU"));
    }
  }
  return Status::OK();
}

}  // namespace learnkv::accel::gpu
