// Tests of the accelerator cost model (learned/accel/cost_model.h): hand-computed batches,
// SCALE-Sim's systolic cycle count, and roofline bounds that every estimate must respect on
// random devices, shapes and batch sizes.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <string>

#include "learned/accel/cost_model.h"
#include "learned/accel/mlp.h"
#include "tests/support/accel_toy_device.h"
#include "util/random.h"

namespace learnkv::accel {
namespace {

ModelShape ToyShape() {
  ModelShape s;
  s.fp32_ops = 10;
  s.in_bytes = 8;
  s.out_bytes = 4;
  s.device_bytes = 12;
  s.dependent_accesses = 1;
  return s;
}

TEST(AccelCostModelTest, HandComputedSerialBatch) {
  const DeviceCost c = EstimateDeviceCost(ToyDevice(), ToyShape(), 100);
  ASSERT_TRUE(c.supported);
  EXPECT_DOUBLE_EQ(c.dispatch_ns, 1000);
  EXPECT_DOUBLE_EQ(c.h2d_ns, 500 + 800);  // latency + 800 bytes at 1 B/ns
  EXPECT_DOUBLE_EQ(c.floor_ns, 100);      // one dependent access
  EXPECT_DOUBLE_EQ(c.ops_ns, 1000);       // 1000 ops at 1 op/ns
  EXPECT_DOUBLE_EQ(c.memory_ns, 120);     // 1200 bytes at 10 B/ns
  EXPECT_DOUBLE_EQ(c.compute_ns, 1000);
  EXPECT_STREQ(c.bound, "compute");
  EXPECT_DOUBLE_EQ(c.d2h_ns, 500 + 400);
  EXPECT_DOUBLE_EQ(c.total_ns, 1000 + 1300 + 1000 + 900);
}

TEST(AccelCostModelTest, HandComputedLatencyAndMemoryBounds) {
  // One item: the dependent access dominates.
  DeviceCost c = EstimateDeviceCost(ToyDevice(), ToyShape(), 1);
  EXPECT_DOUBLE_EQ(c.compute_ns, 100);
  EXPECT_STREQ(c.bound, "latency");
  // Memory-heavy items: 1000 bytes each, 1 op.
  ModelShape s = ToyShape();
  s.fp32_ops = 1;
  s.device_bytes = 1000;
  c = EstimateDeviceCost(ToyDevice(), s, 100);
  EXPECT_DOUBLE_EQ(c.compute_ns, 100 * 1000 / 10.0);
  EXPECT_STREQ(c.bound, "memory");
}

TEST(AccelCostModelTest, HandComputedPipelineWeightsAndResult) {
  CostOptions o;
  o.chunks = 2;  // two chunks of 50
  ModelShape s = ToyShape();
  DeviceCost c = EstimateDeviceCost(ToyDevice(), s, 100, o);
  EXPECT_EQ(c.chunks, 2u);
  EXPECT_DOUBLE_EQ(c.h2d_ns, 500 + 400);
  EXPECT_DOUBLE_EQ(c.compute_ns, 500);
  EXPECT_DOUBLE_EQ(c.d2h_ns, 500 + 200);
  // First chunk through all three stages, then one more of the slowest stage.
  EXPECT_DOUBLE_EQ(c.total_ns, 1000 + (900 + 500 + 700) + 900);

  s.weight_bytes = 1000;
  s.batch_out_bytes = 2000;
  o.chunks = 1;
  o.weights_resident = false;
  c = EstimateDeviceCost(ToyDevice(), s, 100, o);
  EXPECT_DOUBLE_EQ(c.weights_ns, 500 + 1000);
  EXPECT_DOUBLE_EQ(c.result_ns, 500 + 2000);
  EXPECT_DOUBLE_EQ(c.total_ns, 4200 + 1500 + 2500);
}

TEST(AccelCostModelTest, SystolicCycles) {
  // ceil(8/4) * ceil(4/4) = 2 folds of 2*4 + 4 + 10 - 2 = 20 cycles.
  EXPECT_EQ(SystolicCycles(4, 4, 8, 4, 10), 40u);
  // One fold on the TPU v1 array, one row: fill and drain dominate.
  EXPECT_EQ(SystolicCycles(256, 256, 32, 64, 1), 2u * 256 + 256 + 1 - 2);
  EXPECT_EQ(SystolicCycles(256, 256, 257, 257, 5), 4u * (2 * 256 + 256 + 5 - 2));
  EXPECT_EQ(SystolicCycles(4, 4, 8, 4, 0), 0u);
  // Work bound: the array cannot do more than rows * cols MACs per cycle.
  Random rnd(7);
  for (int i = 0; i < 1000; ++i) {
    const uint32_t r = 1 + rnd.Uniform(300), c = 1 + rnd.Uniform(300);
    const uint64_t k = 1 + rnd.Uniform(2000), n = 1 + rnd.Uniform(2000), t = 1 + rnd.Uniform(5000);
    EXPECT_GE(SystolicCycles(r, c, k, n, t) * r * c, k * n * t);
  }
}

TEST(AccelCostModelTest, SystolicDeviceUsesCycleCount) {
  DeviceSpec d = ToyDevice();
  d.systolic_rows = 4;
  d.systolic_cols = 4;
  d.systolic_arrays = 2;
  d.clock_hz = 1e9;
  d.int_ops_per_s = 1e15;    // make the vector work
  d.mem_bytes_per_s = 1e15;  // and the memory traffic negligible
  ModelShape s = ModelShape::ForMlp({8, 4});
  s.dependent_accesses = 0;
  // 20 items over two arrays: T = 10 rows each, 40 cycles at 1 GHz.
  const DeviceCost c = EstimateDeviceCost(d, s, 20);
  EXPECT_DOUBLE_EQ(c.matrix_ns, 40);
  EXPECT_NEAR(c.compute_ns, 40, 1e-3);
}

TEST(AccelCostModelTest, UnsupportedArithmetic) {
  DeviceSpec tpu;
  ASSERT_TRUE(DevicePreset("tpu-v1", &tpu));
  RmiStats stats;
  stats.root_kind = RmiRootKind::kLinear;
  stats.model_bytes = 1000;
  const DeviceCost rmi = EstimateDeviceCost(tpu, ModelShape::ForRmi(stats), 1000);
  EXPECT_FALSE(rmi.supported);  // the bounds need double precision
  EXPECT_NE(std::string(rmi.bound).find("fp64"), std::string::npos);
  EXPECT_TRUE(std::isinf(rmi.total_ns));
  EXPECT_TRUE(EstimateDeviceCost(tpu, ModelShape::ForMlp(Int8Mlp::DefaultDims()), 1000).supported);
  ModelShape huge = ModelShape::ForMlp({4, 4});
  huge.weight_bytes = 2 * tpu.mem_bytes;
  EXPECT_FALSE(EstimateDeviceCost(tpu, huge, 1).supported);
}

TEST(AccelCostModelTest, ShapesFollowTheModels) {
  RmiStats stats;
  stats.model_bytes = 4096;
  stats.root_kind = RmiRootKind::kLinear;
  const ModelShape linear = ModelShape::ForRmi(stats);
  stats.root_kind = RmiRootKind::kLinearSpline;
  const ModelShape spline = ModelShape::ForRmi(stats);
  stats.root_kind = RmiRootKind::kRadix;
  const ModelShape radix = ModelShape::ForRmi(stats);
  EXPECT_GT(spline.dependent_accesses, linear.dependent_accesses);
  EXPECT_GT(spline.device_bytes, linear.device_bytes);
  EXPECT_LT(radix.fp64_ops, linear.fp64_ops);
  EXPECT_EQ(linear.weight_bytes, 4096);
  EXPECT_EQ(linear.in_bytes, 8);
  // Ngram work grows with the key; keys are scored on at most kMaxWholeKey bytes.
  EXPECT_LT(ModelShape::ForNgram(4096, 20).int_ops, ModelShape::ForNgram(4096, 60).int_ops);
  EXPECT_EQ(ModelShape::ForNgram(4096, 500).int_ops, ModelShape::ForNgram(4096, 1000).int_ops);
  const ModelShape mlp = ModelShape::ForMlp(Int8Mlp::DefaultDims());
  EXPECT_EQ(mlp.MacsPerItem(), 32 * 64 + 64 * 64 + 64 * 1);
  EXPECT_EQ(mlp.weight_bytes,
            static_cast<double>(Int8Mlp::Random(Int8Mlp::DefaultDims(), 1)->WeightBytes()));
  EXPECT_EQ(ModelShape::ForRmiTraining(5000).batch_out_bytes, 5000);
}

DeviceSpec RandomDevice(Random* rnd) {
  DeviceSpec d = ToyDevice();
  auto scale = [&](double base) { return base * std::pow(10.0, rnd->Uniform(7)) / 1000; };
  d.link_bytes_per_s = scale(16e9);
  d.link_latency_ns = scale(1000);
  d.dispatch_ns = scale(5000);
  d.mem_bytes = 1e12;
  d.mem_bytes_per_s = scale(1e12);
  d.mem_latency_ns = scale(500);
  d.fp64_ops_per_s = scale(1e13);
  d.fp32_ops_per_s = scale(1e13);
  d.int_ops_per_s = scale(1e13);
  d.matrix_ops_per_s = scale(1e14);
  if (rnd->OneIn(2)) {
    d.systolic_rows = 1 + rnd->Uniform(256);
    d.systolic_cols = 1 + rnd->Uniform(256);
    d.systolic_arrays = 1 + rnd->Uniform(4);
    d.clock_hz = scale(1e9);
  }
  return d;
}

ModelShape RandomShape(Random* rnd) {
  ModelShape s;
  s.fp64_ops = rnd->Uniform(40);
  s.fp32_ops = rnd->Uniform(40);
  s.int_ops = rnd->Uniform(100);
  if (rnd->OneIn(2)) s.layer_dims = {1 + rnd->Uniform(128), 1 + rnd->Uniform(128), 1};
  s.in_bytes = rnd->Uniform(64);
  s.out_bytes = rnd->Uniform(16);
  s.device_bytes = rnd->Uniform(256);
  s.dependent_accesses = rnd->Uniform(5);
  s.weight_bytes = rnd->Uniform(1 << 20);
  s.batch_out_bytes = rnd->OneIn(4) ? rnd->Uniform(1 << 20) : 0;
  return s;
}

// The roofline: compute is the largest of its terms, each term is at least the work over the
// peak rate, and no pipelining beats the slowest stage of the whole batch.
TEST(AccelCostModelTest, RooflineBoundsHoldOnRandomCases) {
  Random rnd(301);
  for (int i = 0; i < 3000; ++i) {
    const DeviceSpec d = RandomDevice(&rnd);
    const ModelShape s = RandomShape(&rnd);
    const uint64_t n = 1 + rnd.Skewed(24);
    CostOptions o;
    o.weights_resident = rnd.OneIn(2);
    const DeviceCost serial = EstimateDeviceCost(d, s, n, o);
    ASSERT_TRUE(serial.supported);
    const double items = static_cast<double>(n);
    EXPECT_DOUBLE_EQ(serial.compute_ns, std::max({serial.floor_ns, serial.ops_ns + serial.matrix_ns,
                                                  serial.memory_ns}));
    EXPECT_GE(serial.compute_ns * (1 + 1e-12), items * s.device_bytes / d.mem_bytes_per_s * 1e9);
    const double max_rate = std::max({d.fp64_ops_per_s, d.fp32_ops_per_s, d.int_ops_per_s});
    EXPECT_GE(serial.ops_ns * (1 + 1e-12),
              items * (s.fp64_ops + s.fp32_ops + s.int_ops) / max_rate * 1e9);
    EXPECT_GE(serial.matrix_ns * (1 + 1e-12),
              2 * items * s.MacsPerItem() / d.MatrixPeakOpsPerS() * 1e9 - 1e-9);
    const double transfer_bytes = items * (s.in_bytes + s.out_bytes) + s.batch_out_bytes;
    EXPECT_GE(serial.total_ns * (1 + 1e-12),
              d.dispatch_ns + serial.compute_ns + transfer_bytes / d.link_bytes_per_s * 1e9);

    const DeviceCost best = BestDeviceCost(d, s, n, o.weights_resident, 64);
    EXPECT_LE(best.total_ns, serial.total_ns);
    const double slowest = std::max({serial.h2d_ns, serial.compute_ns, serial.d2h_ns});
    EXPECT_GE(best.total_ns * (1 + 1e-12),
              best.dispatch_ns + best.weights_ns + slowest + best.result_ns);
    // More items never cost less.
    EXPECT_LE(best.total_ns,
              BestDeviceCost(d, s, n + 1 + n / 3, o.weights_resident, 64).total_ns * (1 + 1e-12));
  }
}

TEST(AccelCostModelTest, BreakEvenIsTheFirstWinningSize) {
  auto cpu = [](uint64_t n) { return 10.0 * static_cast<double>(n); };
  auto device = [](uint64_t n) { return 1000.0 + 2.0 * static_cast<double>(n); };
  // 10 n > 1000 + 2 n  <=>  n > 125.
  EXPECT_EQ(BreakEvenBatchSize(cpu, device, 1 << 20), 126u);
  EXPECT_EQ(BreakEvenBatchSize(cpu, device, 200), 126u);
  EXPECT_EQ(BreakEvenBatchSize(cpu, device, 100), 0u);
  EXPECT_EQ(BreakEvenBatchSize(cpu, device, 126), 126u);
  EXPECT_EQ(BreakEvenBatchSize(
                cpu, [](uint64_t) { return 0.0; }, 10),
            1u);
  // Small batches win on the "device" when the roles are swapped; one always slower never.
  EXPECT_EQ(BreakEvenBatchSize(device, cpu, 1 << 20), 1u);
  EXPECT_EQ(BreakEvenBatchSize(
                cpu, [&](uint64_t n) { return cpu(n) + 1; }, 1 << 20),
            0u);
}

TEST(AccelCostModelTest, KindNamesRoundTrip) {
  for (int i = 0; i < kNumModelKinds; ++i) {
    ModelKind k;
    ASSERT_TRUE(ParseModelKind(ModelKindName(static_cast<ModelKind>(i)), &k));
    EXPECT_EQ(static_cast<int>(k), i);
  }
  ModelKind k;
  EXPECT_FALSE(ParseModelKind("svm", &k));
}

}  // namespace
}  // namespace learnkv::accel
