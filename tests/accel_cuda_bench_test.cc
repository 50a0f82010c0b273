// Tests of the GPU calibration and validation sweeps (learned/accel/cuda/gpu_bench.h) without a
// GPU: a CudaDevice simulated on the CPU answers with the kernels' own code (model_images.h)
// and takes as long as a known description says through the cost model. The sweeps must then
// recover that description (MeasureDevice + FitDevice) and predict every batch of it exactly
// (ValidateDevice), with every answer equal to the CPU models'. This is what
// learnkv-calibrate --device=cuda runs on a real GPU, short of the GPU.
#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "learned/accel/cost_model.h"
#include "learned/accel/cpu_calibration.h"
#include "learned/accel/cuda/cuda_device.h"
#include "learned/accel/cuda/device_fit.h"
#include "learned/accel/cuda/gpu_bench.h"
#include "learned/accel/cuda/model_images.h"
#include "learned/accel/cuda/validation_report.h"
#include "learned/accel/cuda/workload.h"
#include "learned/accel/device.h"

namespace learnkv::accel::gpu {
namespace {

class SimulatedModel final : public CudaModel {
 public:
  ModelKind kind() const override { return kind_; }
  size_t weight_bytes() const override { return 1; }

  ModelKind kind_ = ModelKind::kRmi;
  RmiImage rmi;
  NgramImage ngram;
  GridImage grid;
  MlpImage mlp;
};

// Times: copies take latency + bytes / bandwidth, a kernel its latency floor plus the cost
// model's cost per item, a batch what the cost model predicts under `truth`.
class SimulatedDevice final : public CudaDevice {
 public:
  SimulatedDevice(const DeviceSpec& truth, std::map<ModelKind, ModelShape> shapes)
      : truth_(truth), shapes_(std::move(shapes)) {}

  std::string Describe() const override { return "simulated"; }
  double memory_bytes() const override { return truth_.mem_bytes; }

  Status UploadRmi(const Rmi& rmi, std::unique_ptr<CudaModel>* model) override {
    auto m = std::make_unique<SimulatedModel>();
    m->kind_ = ModelKind::kRmi;
    Status s = RmiImage::FromRmi(rmi, &m->rmi);
    if (s.ok()) *model = std::move(m);
    return s;
  }
  Status UploadClassifier(const FilterClassifier& c, std::unique_ptr<CudaModel>* model) override {
    auto m = std::make_unique<SimulatedModel>();
    Status s;
    if (c.kind() == ClassifierKind::kNgram) {
      m->kind_ = ModelKind::kNgram;
      s = NgramImage::FromClassifier(c, &m->ngram);
    } else {
      m->kind_ = ModelKind::kGrid;
      s = GridImage::FromClassifier(c, &m->grid);
    }
    if (s.ok()) *model = std::move(m);
    return s;
  }
  Status UploadMlp(const MlpImage& mlp, std::unique_ptr<CudaModel>* model) override {
    auto m = std::make_unique<SimulatedModel>();
    m->kind_ = ModelKind::kMlp;
    m->mlp = mlp;
    *model = std::move(m);
    return Status::OK();
  }

  Status StageIntegers(const CudaModel& model, const uint64_t* keys, size_t n,
                       BatchTiming* timing) override {
    staged_ = &model;
    ints_.assign(keys, keys + n);
    strings_.clear();
    n_ = n;
    executed_ = false;
    if (timing != nullptr) *timing = BatchTiming{n, 1, 10.0 * n, 0, 0, 0, 0, 0};
    return Status::OK();
  }
  Status StageStrings(const CudaModel& model, const Slice* keys, size_t n,
                      BatchTiming* timing) override {
    staged_ = &model;
    strings_.clear();
    for (size_t i = 0; i < n; ++i) strings_.push_back(keys[i].ToString());
    ints_.clear();
    n_ = n;
    executed_ = false;
    if (timing != nullptr) *timing = BatchTiming{n, 1, 10.0 * n, 0, 0, 0, 0, 0};
    return Status::OK();
  }

  Status Execute(const CudaModel& model, const ExecuteOptions& o, BatchTiming* timing) override {
    if (staged_ != &model) return Status::InvalidArgument("nothing staged");
    const auto& m = static_cast<const SimulatedModel&>(model);
    const ModelShape& shape = shapes_.at(m.kind());
    BatchTiming t = timing != nullptr ? *timing : BatchTiming();
    if (o.kernel_only) {
      if (!executed_) return Status::InvalidArgument("kernel_only first");
      const double ops = shape.fp64_ops / truth_.fp64_ops_per_s +
                         shape.int_ops / truth_.int_ops_per_s +
                         2 * shape.MacsPerItem() / truth_.matrix_ops_per_s;
      const double per_item = std::max(ops, shape.device_bytes / truth_.mem_bytes_per_s) * 1e9;
      t.kernel_ns = shape.dependent_accesses * truth_.mem_latency_ns + n_ * per_item;
      t.device_ns = t.kernel_ns + 5000;
      if (timing != nullptr) *timing = t;
      return Status::OK();
    }
    bounds_.assign(n_, SearchBound());
    scores_.assign(n_, 0);
    for (size_t i = 0; i < n_; ++i) {
      switch (m.kind()) {
        case ModelKind::kRmi:
          bounds_[i] = m.rmi.Lookup(ints_[i]);
          break;
        case ModelKind::kGrid:
          scores_[i] = m.grid.ScoreMapped(ints_[i]);
          break;
        case ModelKind::kNgram:
          scores_[i] = m.ngram.Score(strings_[i]);
          break;
        default:
          scores_[i] = m.mlp.Score(strings_[i]);
          break;
      }
    }
    ++executes_[o.chunks];
    t.chunks = o.chunks;
    t.device_ns = PredictBatchNs(truth_, shape, BatchPoint{n_, o.chunks, 0});
    executed_ = true;
    if (timing != nullptr) *timing = t;
    return Status::OK();
  }

  Status CollectBounds(SearchBound* out, BatchTiming* timing) override {
    if (!executed_) return Status::InvalidArgument("not executed");
    std::copy(bounds_.begin(), bounds_.end(), out);
    return Status::OK();
  }
  Status CollectScores(int32_t* out, BatchTiming* timing) override {
    if (!executed_) return Status::InvalidArgument("not executed");
    std::copy(scores_.begin(), scores_.end(), out);
    return Status::OK();
  }

  Status TimeEmptyLaunch(int samples, std::vector<double>* ns) override {
    ns->assign(samples, 7000);
    return Status::OK();
  }
  Status TimeCopies(CopyDirection direction, size_t bytes, int copies, int samples,
                    std::vector<double>* ns) override {
    ns->assign(samples,
               truth_.link_latency_ns + static_cast<double>(bytes) / truth_.link_bytes_per_s * 1e9);
    return Status::OK();
  }
  Status DeviceCopyBandwidth(size_t bytes, int samples, double* bytes_per_s) override {
    *bytes_per_s = truth_.mem_bytes_per_s;
    return Status::OK();
  }

  std::map<uint32_t, int> executes_;  // full executions by chunk count

 private:
  const DeviceSpec truth_;
  const std::map<ModelKind, ModelShape> shapes_;
  const CudaModel* staged_ = nullptr;
  size_t n_ = 0;
  bool executed_ = false;
  std::vector<uint64_t> ints_;
  std::vector<std::string> strings_;
  std::vector<SearchBound> bounds_;
  std::vector<int32_t> scores_;
};

const std::vector<ModelKind> kKinds = {ModelKind::kRmi, ModelKind::kNgram, ModelKind::kGrid,
                                       ModelKind::kMlp};

DeviceSpec Truth() {
  DeviceSpec d;
  EXPECT_TRUE(DevicePreset("h200", &d));
  d.name = "truth";
  d.link_bytes_per_s = 52e9;
  d.link_latency_ns = 2500;
  d.dispatch_ns = 11000;
  d.mem_bytes = 140e9;
  d.mem_bytes_per_s = 3.6e12;
  d.mem_latency_ns = 1500;
  d.fp64_ops_per_s = 20e12;
  d.int_ops_per_s = 8e12;
  d.matrix_ops_per_s = 40e12;
  return d;
}

WorkloadOptions SmallWorkload() {
  WorkloadOptions w;
  w.model_keys = 20000;
  w.probe_pool = 8000;
  w.max_batch = 4096;
  return w;
}

std::map<ModelKind, ModelShape> Shapes() {
  std::map<ModelKind, ModelShape> shapes;
  for (ModelKind kind : kKinds) {
    std::unique_ptr<Workload> w;
    EXPECT_TRUE(Workload::Build(kind, SmallWorkload(), &w).ok());
    shapes[kind] = w->shape();
  }
  return shapes;
}

GpuTiming FastTiming() {
  GpuTiming t;
  t.warmup = 1;
  t.min_runs = 2;
  t.max_runs = 3;
  t.min_point_ms = 0;
  return t;
}

TEST(AccelCudaBenchTest, CalibrationRecoversTheSimulatedDevice) {
  const DeviceSpec truth = Truth();
  SimulatedDevice device(truth, Shapes());
  GpuCalibrationOptions o;
  o.workload = SmallWorkload();
  o.max_batch = 4096;
  o.max_copy_bytes = 1 << 20;
  o.timing = FastTiming();
  std::vector<std::string> progress;
  o.progress = [&](const std::string& line) { progress.push_back(line); };
  DeviceMeasurements m;
  std::string csv;
  ASSERT_TRUE(MeasureDevice(&device, o, &m, &csv).ok());
  EXPECT_EQ(m.device, "simulated");
  EXPECT_EQ(m.launch_ns, 7000);
  EXPECT_EQ(m.h2d.size(), 10u);  // 4 B .. 1 MiB by 4
  ASSERT_EQ(m.kinds.size(), 4u);
  for (const KindMeasurements& k : m.kinds) {
    EXPECT_EQ(k.kernel_ns.size(), 7u) << ModelKindName(k.kind);  // 1 .. 4096 by 4
    EXPECT_EQ(k.batches.size(), 7u) << ModelKindName(k.kind);    // 1 .. 4096
  }
  EXPECT_EQ(csv.rfind("what,kind,x,ns\n", 0), 0u);
  for (const char* what :
       {"\nlaunch,", "\nh2d,", "\nd2h,", "\nd2d,", "\nkernel,mlp,4096,", "\nbatch,ngram,16,"}) {
    EXPECT_NE(csv.find(what), std::string::npos) << what;
  }
  EXPECT_FALSE(progress.empty());

  DeviceSpec base;
  ASSERT_TRUE(DevicePreset("h200", &base));
  DeviceFit fit;
  ASSERT_TRUE(FitDevice(m, base, "h200", "simulated", &fit).ok());
  const DeviceSpec& d = fit.spec;
  auto near = [](double a, double b) { return std::fabs(a - b) <= 1e-6 * std::fabs(b); };
  EXPECT_TRUE(near(d.link_bytes_per_s, truth.link_bytes_per_s)) << d.link_bytes_per_s;
  EXPECT_TRUE(near(d.link_latency_ns, truth.link_latency_ns)) << d.link_latency_ns;
  EXPECT_TRUE(near(d.mem_latency_ns, truth.mem_latency_ns)) << d.mem_latency_ns;
  EXPECT_TRUE(near(d.int_ops_per_s, truth.int_ops_per_s)) << d.int_ops_per_s;
  EXPECT_TRUE(near(d.matrix_ops_per_s, truth.matrix_ops_per_s)) << d.matrix_ops_per_s;
  EXPECT_TRUE(near(d.dispatch_ns, truth.dispatch_ns)) << d.dispatch_ns << "\n" << fit.Report();
  for (const KindFit& k : fit.kinds) EXPECT_LT(k.batch_max_rel_error, 1e-6) << fit.Report();
}

TEST(AccelCudaBenchTest, ValidationOfTheTrueDescriptionIsExact) {
  const DeviceSpec truth = Truth();
  SimulatedDevice device(truth, Shapes());
  CpuCalibration cpu;  // a made-up CPU: 40 ns per item of every kind
  for (ModelKind kind : kKinds) cpu.SetCurve(kind, CpuCurve{{{1, 40.0}, {4096, 40.0}}});
  GpuValidationOptions o;
  o.workload = SmallWorkload();
  o.kinds = kKinds;
  o.max_batch = 3000;  // not a power of two: the last size is the maximum itself
  o.timing = FastTiming();
  o.cpu_min_runs = 1;
  o.cpu_max_runs = 2;
  o.cpu_min_point_ms = 0;
  std::vector<ValidationRow> rows;
  ASSERT_TRUE(ValidateDevice(&device, truth, cpu, o, &rows).ok());
  ASSERT_EQ(rows.size(), 4u * 13);  // 1, 2, 4, ... 2048, 3000
  for (const ValidationRow& r : rows) {
    EXPECT_TRUE(r.exact) << ModelKindName(r.kind) << " " << r.items;
    EXPECT_LT(r.DeviceError(), 1e-9) << ModelKindName(r.kind) << " " << r.items;
    EXPECT_EQ(r.predicted_cpu_ns, 40.0 * r.items);
    EXPECT_GT(r.measured_cpu_ns, 0);
    EXPECT_GT(r.staging_ns, 0);
  }
  EXPECT_EQ(rows.back().items, 3000u);
  // Pipelined batches ran with the chunk count the prediction chose.
  bool pipelined = false;
  for (const ValidationRow& r : rows) pipelined |= r.chunks > 1;
  EXPECT_EQ(pipelined, device.executes_.size() > 1);
  const ValidationSummary s = Summarize(rows);
  EXPECT_LT(s.all.worst_error, 1e-9);
  EXPECT_TRUE(s.all.exact);

  // A calibration without one of the kinds is an error, not a silent gap.
  CpuCalibration partial;
  partial.SetCurve(ModelKind::kRmi, CpuCurve{{{1, 40.0}}});
  o.kinds = {ModelKind::kRmi, ModelKind::kMlp};
  rows.clear();
  EXPECT_TRUE(ValidateDevice(&device, truth, partial, o, &rows).IsInvalidArgument());
}

}  // namespace
}  // namespace learnkv::accel::gpu
