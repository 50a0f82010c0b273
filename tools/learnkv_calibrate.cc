// learnkv-calibrate: calibrates the CPU side of the accelerator scheduler on this machine and
// shows what the cost model predicts for each device preset (docs/accelerator.md); built with
// -DLEARNKV_CUDA=ON, it also calibrates a real GPU and validates the cost model on it.
//
// --device=cpu (the default) times the real inference code (Rmi::Lookup, the filter
// classifiers' Score, the reference int8 MLP, RmiBuilder::Finish) for batch sizes 1, 4, 16, ...
// up to --max_batch, writes the calibration file (--output), then prints for every device
// (--devices) the CPU time (measured), the device time (simulated by the cost model), the
// decision and what bounds the device, per model and batch size, and the break-even batch
// sizes.
//
// --device=cuda (learned/accel/cuda/) measures the GPU — launch overhead, pinned copies both
// ways, device memory bandwidth, each kernel's cost per item, small batches end to end — and
// writes the fitted description (--device_output, named --device_name). With --validate=DESC
// it instead times whole batches of 1 to --max_batch items on the GPU and the CPU, compares
// them with the predictions of DESC and of the CPU calibration (--load, or measured now and
// saved to --output), and writes --validation_csv and --validation_md. bench/accel_validate.sh
// runs both. Exit status 3: no usable CUDA device (the message says why).
//
//   learnkv-calibrate                                   full sweep, 1..16M, a few minutes
//   learnkv-calibrate --max_batch=65536 --min_point_ms=2   a quick look
//   learnkv-calibrate --load=cpu.calibration            reuse a calibration, predict only
//   learnkv-calibrate --devices=h200,my-gpu.device --csv=sweep.csv
//   learnkv-calibrate --device=cuda --device_output=h200.device
//   learnkv-calibrate --device=cuda --validate=h200.device --load=cpu.calibration
#include <gflags/gflags.h>

#include <cinttypes>
#include <cstdio>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "learned/accel/cost_model.h"
#include "learned/accel/cpu_calibration.h"
#include "learned/accel/device.h"
#include "learned/accel/scheduler.h"
#include "learned/filter_classifier.h"
#include "learned/rmi.h"
#include "learnkv/env.h"
#include "util/coding.h"
#include "util/datasets.h"

#ifdef LEARNKV_HAVE_CUDA
#include <unistd.h>

#include <ctime>

#include "learned/accel/cuda/cuda_device.h"
#include "learned/accel/cuda/device_fit.h"
#include "learned/accel/cuda/gpu_bench.h"
#include "learned/accel/cuda/validation_report.h"
#endif

DEFINE_uint64(max_batch, 16ull << 20, "Largest batch size timed and predicted");
DEFINE_uint64(growth, 4, "Batch sizes grow by this factor");
DEFINE_uint64(model_keys, 2ull << 20,
              "Integer keys the RMI and the grid classifier are trained on");
DEFINE_string(dataset, "lognormal", "Integer data set of the RMI (util/datasets.h)");
DEFINE_uint64(probe_pool, 4ull << 20, "Distinct probe keys at most");
DEFINE_double(min_point_ms, 20, "Time each calibration point at least this long");
DEFINE_double(max_point_ms, 300, "Cut a point's batch short after this long");
DEFINE_uint32(trials, 7, "Trials per point; the fastest counts");
DEFINE_string(mlp_dims, "32,64,64,1", "Layer widths of the reference int8 MLP");
DEFINE_string(load, "", "Load this calibration file instead of measuring");
DEFINE_string(output, "learnkv_cpu.calibration", "Write the calibration here (empty: don't)");
DEFINE_string(devices, "tpu-v1,tpu-v2,h200", "Device presets or description files");
DEFINE_string(csv, "", "Also write every prediction as CSV here (bench/accel_plot.py plots it)");
DEFINE_uint32(max_pipeline_chunks, 16, "Pipeline chunks the device may use");
DEFINE_uint64(seed, 42, "Seed of the key sets");
DEFINE_string(device, "cpu",
              "cpu: calibrate the CPU and predict the --devices presets; cuda: calibrate a GPU "
              "(or with --validate, validate a description on it)");
DEFINE_int32(cuda_device, 0, "--device=cuda: the CUDA device ordinal");
DEFINE_string(kinds, "rmi,ngram,grid,mlp", "--device=cuda: the model kinds measured");
DEFINE_string(device_name, "h200", "--device=cuda: name of the fitted description");
DEFINE_string(device_base, "h200",
              "--device=cuda: preset or file whose figures the fit does not measure are kept");
DEFINE_string(device_output, "h200.device", "--device=cuda: write the fitted description here");
DEFINE_string(device_csv, "", "--device=cuda: also write the raw GPU measurements here");
DEFINE_string(validate, "",
              "--device=cuda: validate this description (file or preset) instead of calibrating");
DEFINE_uint64(validate_growth, 2, "--validate: batch sizes grow by this factor");
DEFINE_string(validation_csv, "accel_validation.csv", "--validate: write every point here");
DEFINE_string(validation_md, "accel_validation.md", "--validate: write the markdown report here");

namespace learnkv::accel {
namespace {

std::vector<std::string> Split(const std::string& s) {
  std::vector<std::string> parts;
  std::stringstream in(s);
  std::string part;
  while (std::getline(in, part, ',')) {
    if (!part.empty()) parts.push_back(part);
  }
  return parts;
}

// The models whose predictions are shown, with the shape of the model the calibration timed.
struct Subject {
  ModelKind kind;
  ModelShape shape;
  uint64_t max_batch;
};

std::vector<Subject> Subjects(const std::vector<uint32_t>& mlp_dims, Dataset dataset) {
  // The RMI the calibration timed: same keys, same options, so the same root and leaves.
  std::vector<std::string> keys = GenerateSortedKeys(dataset, FLAGS_model_keys, FLAGS_seed);
  RmiBuilder builder;
  builder.Reserve(keys.size());
  for (const std::string& k : keys) builder.Add(DecodeBigEndian64(k.data()));
  const std::unique_ptr<Rmi> rmi = builder.Finish();
  const double rmi_bytes = static_cast<double>(rmi->stats().model_bytes);
  double url_bytes = 0;
  const std::vector<std::string> urls = GenerateSortedKeys(Dataset::kUrl, 10000, FLAGS_seed + 4);
  for (const std::string& u : urls) url_bytes += static_cast<double>(u.size());
  url_bytes /= static_cast<double>(urls.size());
  std::printf("rmi: %" PRIu64 " %s keys, %s root, %u leaves, %.0f model bytes\n", rmi->num_keys(),
              DatasetName(dataset), RmiRootKindName(rmi->stats().root_kind),
              rmi->stats().num_leaves, rmi_bytes);
  std::printf("ngram and mlp: url keys of %.1f bytes on average\n\n", url_bytes);
  const uint64_t max_fit = std::min(FLAGS_max_batch, FLAGS_model_keys);
  return {
      {ModelKind::kRmi, ModelShape::ForRmi(rmi->stats()), FLAGS_max_batch},
      // 2^12 one-byte weights and the classifier's header.
      {ModelKind::kNgram, ModelShape::ForNgram(4096 + 8, url_bytes), FLAGS_max_batch},
      // About four 2-bit cells per key (cpu_calibration.cc trains it so).
      {ModelKind::kGrid, ModelShape::ForGrid(static_cast<double>(FLAGS_model_keys), 8),
       FLAGS_max_batch},
      {ModelKind::kMlp, ModelShape::ForMlp(mlp_dims), FLAGS_max_batch},
      // The fitted model is about as large per key as the timed one.
      {ModelKind::kRmiTraining,
       ModelShape::ForRmiTraining(rmi_bytes * static_cast<double>(max_fit) /
                                  static_cast<double>(FLAGS_model_keys)),
       max_fit},
  };
}

std::string BreakEven(uint64_t n) { return n == 0 ? "none" : std::to_string(n); }

// The CPU calibration: --load, or measured now (the given kinds) and saved to --output.
// Returns an exit status.
int CpuCalibrationFromFlags(Env* env, Dataset dataset, const std::vector<uint32_t>& mlp_dims,
                            const std::vector<ModelKind>& kinds, CpuCalibration* calibration) {
  if (!FLAGS_load.empty()) {
    Status s = CpuCalibration::Load(env, FLAGS_load, calibration);
    if (!s.ok()) {
      std::fprintf(stderr, "%s\n", s.ToString().c_str());
      return 1;
    }
  } else {
    CalibrationOptions o;
    o.kinds = kinds;
    o.growth = FLAGS_growth;
    o.max_batch = FLAGS_max_batch;
    o.model_keys = FLAGS_model_keys;
    o.dataset = dataset;
    o.probe_pool = FLAGS_probe_pool;
    o.max_training_keys = FLAGS_model_keys;
    o.min_point_ms = FLAGS_min_point_ms;
    o.max_point_ms = FLAGS_max_point_ms;
    o.trials = FLAGS_trials;
    o.mlp_dims = mlp_dims;
    o.seed = FLAGS_seed;
    o.progress = [](const std::string& line) {
      std::printf("calibrated %s\n", line.c_str());
      std::fflush(stdout);
    };
    Status s = CalibrateCpu(o, calibration);
    if (s.ok() && !FLAGS_output.empty()) s = calibration->Save(env, FLAGS_output);
    if (!s.ok()) {
      std::fprintf(stderr, "%s\n", s.ToString().c_str());
      return 1;
    }
    if (!FLAGS_output.empty()) std::printf("wrote %s\n", FLAGS_output.c_str());
  }
  std::printf("cpu calibration: %s\n\n", calibration->origin().c_str());
  return 0;
}

int RunCpu(Env* env, Dataset dataset, const std::vector<uint32_t>& mlp_dims) {
  CpuCalibration calibration;
  const int rc =
      CpuCalibrationFromFlags(env, dataset, mlp_dims, CalibrationOptions().kinds, &calibration);
  if (rc != 0) return rc;

  const std::vector<Subject> subjects = Subjects(mlp_dims, dataset);
  std::string csv = "device,kind,batch,cpu_ns,device_ns,decision,bound,chunks\n";
  std::string summary;
  AccelOptions options;
  options.max_pipeline_chunks = FLAGS_max_pipeline_chunks;
  for (const std::string& name : Split(FLAGS_devices)) {
    DeviceSpec device;
    Status s = LoadDevice(env, name, &device);
    if (!s.ok()) {
      std::fprintf(stderr, "%s: %s\n", name.c_str(), s.ToString().c_str());
      return 1;
    }
    AccelScheduler scheduler(device, calibration, options);
    std::printf("== %s\n   source: %s\n", device.Summary().c_str(), device.source.c_str());
    std::string line = device.name + ":";
    for (const Subject& subject : subjects) {
      if (!calibration.Has(subject.kind)) continue;
      std::printf("-- %s (%s)\n", ModelKindName(subject.kind), subject.shape.ToString().c_str());
      std::printf("%12s %18s %20s %10s %8s %7s\n", "batch", "cpu_us(measured)",
                  "device_us(simulated)", "bound", "chunks", "faster");
      for (uint64_t n = 1;; n = std::min(subject.max_batch, n * FLAGS_growth)) {
        const double cpu = scheduler.PredictCpuNs(subject.kind, n);
        const DeviceCost dev = scheduler.PredictDevice(subject.shape, n, true);
        const bool device_wins = dev.supported && dev.total_ns < cpu;
        std::printf("%12" PRIu64 " %18.3f %20.3f %10s %8u %7s\n", n, cpu / 1e3, dev.total_ns / 1e3,
                    dev.supported ? dev.bound : "-", dev.chunks, device_wins ? "device" : "cpu");
        csv += device.name + "," + ModelKindName(subject.kind) + "," + std::to_string(n) + "," +
               std::to_string(cpu) + "," + (dev.supported ? std::to_string(dev.total_ns) : "inf") +
               "," + (device_wins ? "device" : "cpu") + "," + dev.bound + "," +
               std::to_string(dev.chunks) + "\n";
        if (n >= subject.max_batch) break;
      }
      const uint64_t be = scheduler.BreakEvenBatchSize(subject.kind, subject.shape);
      std::printf("   break-even: %s\n", BreakEven(be).c_str());
      line += " " + std::string(ModelKindName(subject.kind)) + " " + BreakEven(be);
    }
    std::printf("\n");
    summary += line + "\n";
  }
  std::printf("break-even batch sizes (device simulated, cpu measured; weights resident):\n%s",
              summary.c_str());
  if (!FLAGS_csv.empty()) {
    Status s = WriteStringToFile(env, csv, FLAGS_csv, false);
    if (!s.ok()) {
      std::fprintf(stderr, "%s\n", s.ToString().c_str());
      return 1;
    }
    std::printf("wrote %s\n", FLAGS_csv.c_str());
  }
  return 0;
}

#ifdef LEARNKV_HAVE_CUDA

std::string UtcNow() {
  char when[64] = "";
  const std::time_t now = std::time(nullptr);
  std::tm tm;
  gmtime_r(&now, &tm);
  std::strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return when;
}

std::string HostName() {
  char host[256] = "unknown";
  gethostname(host, sizeof(host) - 1);
  return host;
}

void PrintLine(const std::string& line) {
  std::printf("%s\n", line.c_str());
  std::fflush(stdout);
}

int Fail(const Status& s) {
  std::fprintf(stderr, "learnkv-calibrate: %s\n", s.ToString().c_str());
  return 1;
}

int Write(Env* env, const std::string& text, const std::string& path) {
  if (path.empty()) return 0;
  Status s = WriteStringToFile(env, text, path, false);
  if (!s.ok()) return Fail(s);
  std::printf("wrote %s\n", path.c_str());
  return 0;
}

// --device=cuda: calibrate the GPU, or validate a description on it.
int RunCuda(Env* env, Dataset dataset, const std::vector<uint32_t>& mlp_dims,
            const std::vector<ModelKind>& kinds) {
  std::unique_ptr<gpu::CudaDevice> device;
  Status s = gpu::CudaDevice::Open(FLAGS_cuda_device, &device);
  if (s.IsNotSupported()) {
    std::fprintf(stderr, "learnkv-calibrate: %s\n", s.message().c_str());
    return 3;
  }
  if (!s.ok()) return Fail(s);
  std::printf("cuda device %d: %s\n", FLAGS_cuda_device, device->Describe().c_str());
  gpu::WorkloadOptions workload;
  workload.model_keys = FLAGS_model_keys;
  workload.dataset = dataset;
  workload.probe_pool = FLAGS_probe_pool;
  workload.max_batch = FLAGS_max_batch;
  workload.mlp_dims = mlp_dims;
  workload.seed = FLAGS_seed;

  if (FLAGS_validate.empty()) {
    gpu::GpuCalibrationOptions o;
    o.workload = workload;
    o.kinds = kinds;
    o.max_batch = FLAGS_max_batch;
    o.progress = PrintLine;
    gpu::DeviceMeasurements m;
    std::string csv;
    s = gpu::MeasureDevice(device.get(), o, &m, &csv);
    if (!s.ok()) return Fail(s);
    DeviceSpec base;
    s = LoadDevice(env, FLAGS_device_base, &base);
    if (!s.ok()) return Fail(s);
    const std::string source = "measured by learnkv-calibrate --device=cuda on " +
                               device->Describe() + ", host " + HostName() + ", at " + UtcNow() +
                               "; unmeasured figures from " + base.name;
    gpu::DeviceFit fit;
    s = gpu::FitDevice(m, base, FLAGS_device_name, source, &fit);
    if (!s.ok()) return Fail(s);
    std::printf("\n%s", fit.Report().c_str());
    const int rc = Write(env, csv, FLAGS_device_csv);
    return rc != 0 ? rc : Write(env, fit.spec.ToText(), FLAGS_device_output);
  }

  DeviceSpec spec;
  s = LoadDevice(env, FLAGS_validate, &spec);
  if (!s.ok()) return Fail(s);
  std::printf("validating %s\n", spec.Summary().c_str());
  CpuCalibration calibration;
  const int rc = CpuCalibrationFromFlags(env, dataset, mlp_dims, kinds, &calibration);
  if (rc != 0) return rc;
  gpu::GpuValidationOptions o;
  o.workload = workload;
  o.kinds = kinds;
  o.growth = FLAGS_validate_growth;
  o.max_batch = FLAGS_max_batch;
  o.max_pipeline_chunks = FLAGS_max_pipeline_chunks;
  o.progress = PrintLine;
  std::vector<gpu::ValidationRow> rows;
  s = gpu::ValidateDevice(device.get(), spec, calibration, o, &rows);
  if (!s.ok()) return Fail(s);
  const gpu::ValidationSummary summary = gpu::Summarize(rows);
  char context[2048];
  std::snprintf(
      context, sizeof(context),
      "Measured on %s (host %s) at %s by `learnkv-calibrate --device=cuda --validate`. Device "
      "description: %s. CPU calibration: %s. Batch sizes 1 to %llu (each %llu times the last); "
      "a device time is the median of at least %d runs after %d warm-ups of H2D copy, kernel, "
      "D2H copy and synchronization from pinned memory, in the pipeline chunks the cost model "
      "chose; a CPU time is the median of up to %d runs of the model's own CPU code.",
      device->Describe().c_str(), HostName().c_str(), UtcNow().c_str(), spec.Summary().c_str(),
      calibration.origin().c_str(), static_cast<unsigned long long>(FLAGS_max_batch),
      static_cast<unsigned long long>(FLAGS_validate_growth), o.timing.min_runs, o.timing.warmup,
      o.cpu_max_runs);
  std::printf("\n%s\n", summary.verdict.c_str());
  const int rc_csv = Write(env, gpu::ValidationCsv(rows), FLAGS_validation_csv);
  if (rc_csv != 0) return rc_csv;
  return Write(env, gpu::ValidationMarkdown(summary, rows, context), FLAGS_validation_md);
}

#endif  // LEARNKV_HAVE_CUDA

int Run() {
  Env* env = Env::Default();
  Dataset dataset;
  if (!ParseDataset(FLAGS_dataset, &dataset) || !IsIntegerDataset(dataset)) {
    std::fprintf(stderr, "--dataset: not an integer data set: %s\n", FLAGS_dataset.c_str());
    return 2;
  }
  std::vector<uint32_t> mlp_dims;
  for (const std::string& d : Split(FLAGS_mlp_dims)) mlp_dims.push_back(std::stoul(d));
  if (FLAGS_device == "cpu") return RunCpu(env, dataset, mlp_dims);
  if (FLAGS_device != "cuda") {
    std::fprintf(stderr, "--device: cpu or cuda, not %s\n", FLAGS_device.c_str());
    return 2;
  }
  std::vector<ModelKind> kinds;
  for (const std::string& name : Split(FLAGS_kinds)) {
    ModelKind kind;
    if (!ParseModelKind(name, &kind) || kind == ModelKind::kRmiTraining) {
      std::fprintf(stderr, "--kinds: no CUDA kernel for '%s' (rmi, ngram, grid, mlp)\n",
                   name.c_str());
      return 2;
    }
    kinds.push_back(kind);
  }
#ifdef LEARNKV_HAVE_CUDA
  return RunCuda(env, dataset, mlp_dims, kinds);
#else
  std::fprintf(stderr,
               "learnkv-calibrate: built without CUDA; configure with -DLEARNKV_CUDA=ON for "
               "--device=cuda (docs/accelerator.md)\n");
  return 2;
#endif
}

}  // namespace
}  // namespace learnkv::accel

int main(int argc, char** argv) {
  gflags::SetUsageMessage(
      "learnkv-calibrate [--max_batch=16777216] [--devices=tpu-v1,tpu-v2,h200] "
      "[--device=cuda [--validate=DESCRIPTION]]");
  gflags::ParseCommandLineFlags(&argc, &argv, true);
  return learnkv::accel::Run();
}
