// learnkv-calibrate: calibrates the CPU side of the accelerator scheduler on this machine and
// shows what the cost model predicts for each device preset (docs/accelerator.md).
//
// It times the real inference code (Rmi::Lookup, the filter classifiers' Score, the reference
// int8 MLP, RmiBuilder::Finish) for batch sizes 1, 4, 16, ... up to --max_batch, writes the
// calibration file (--output), then prints for every device (--devices) the CPU time
// (measured), the device time (simulated by the cost model), the decision and what bounds the
// device, per model and batch size, and the break-even batch sizes. Without a GPU (the
// LEARNKV_CUDA backend is not part of this tool) nothing on the device side is measured.
//
//   learnkv-calibrate                                   full sweep, 1..16M, a few minutes
//   learnkv-calibrate --max_batch=65536 --min_point_ms=2   a quick look
//   learnkv-calibrate --load=cpu.calibration            reuse a calibration, predict only
//   learnkv-calibrate --devices=h200,my-gpu.device --csv=sweep.csv
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

int Run() {
  Env* env = Env::Default();
  Dataset dataset;
  if (!ParseDataset(FLAGS_dataset, &dataset) || !IsIntegerDataset(dataset)) {
    std::fprintf(stderr, "--dataset: not an integer data set: %s\n", FLAGS_dataset.c_str());
    return 2;
  }
  std::vector<uint32_t> mlp_dims;
  for (const std::string& d : Split(FLAGS_mlp_dims)) mlp_dims.push_back(std::stoul(d));

  CpuCalibration calibration;
  if (!FLAGS_load.empty()) {
    Status s = CpuCalibration::Load(env, FLAGS_load, &calibration);
    if (!s.ok()) {
      std::fprintf(stderr, "%s\n", s.ToString().c_str());
      return 1;
    }
  } else {
    CalibrationOptions o;
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
    Status s = CalibrateCpu(o, &calibration);
    if (s.ok() && !FLAGS_output.empty()) s = calibration.Save(env, FLAGS_output);
    if (!s.ok()) {
      std::fprintf(stderr, "%s\n", s.ToString().c_str());
      return 1;
    }
    if (!FLAGS_output.empty()) std::printf("wrote %s\n", FLAGS_output.c_str());
  }
  std::printf("cpu calibration: %s\n\n", calibration.origin().c_str());

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

}  // namespace
}  // namespace learnkv::accel

int main(int argc, char** argv) {
  gflags::SetUsageMessage(
      "learnkv-calibrate [--max_batch=16777216] [--devices=tpu-v1,tpu-v2,h200]");
  gflags::ParseCommandLineFlags(&argc, &argv, true);
  return learnkv::accel::Run();
}
