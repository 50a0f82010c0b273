// Tests of the offload scheduler and the inference queue (learned/accel/scheduler.h,
// inference_queue.h): decisions against hand-computed costs, the virtual device clock,
// resident weights, training advice, and batches gathered from concurrent callers. A fake
// clock and synthetic CPU curves make every expectation exact; nothing here times anything.
#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "learned/accel/inference_queue.h"
#include "learned/accel/scheduler.h"
#include "learned/rmi.h"
#include "tests/support/accel_toy_device.h"
#include "util/random.h"

namespace learnkv::accel {
namespace {

// Device time of n items: 1000 + (500 + 8n) + max(100, n) + (500 + 4n) = 2000 + 13n for
// n >= 100 (serial; pipelining is off in these options).
ModelShape ToyShape() {
  ModelShape s;
  s.int_ops = 1;
  s.in_bytes = 8;
  s.out_bytes = 4;
  s.device_bytes = 8;
  return s;
}

CpuCalibration Flat(ModelKind kind, double ns_per_item) {
  CpuCalibration c;
  c.SetCurve(kind, CpuCurve{{{1, ns_per_item}, {1 << 20, ns_per_item}}});
  c.set_origin("synthetic");
  return c;
}

struct FakeClock {
  std::shared_ptr<std::atomic<uint64_t>> now = std::make_shared<std::atomic<uint64_t>>(1000000);
  std::function<uint64_t()> Fn() const {
    auto p = now;
    return [p] { return p->load(); };
  }
};

AccelOptions Options(const FakeClock& clock) {
  AccelOptions o;
  o.max_pipeline_chunks = 1;
  o.now_nanos = clock.Fn();
  return o;
}

// CPU at 23 ns per item: the device (2000 + 13 n) wins from n = 201.
TEST(AccelSchedulerTest, SmallBatchesStayOnTheCpuLargeOnesOffload) {
  FakeClock clock;
  AccelScheduler s(ToyDevice(), Flat(ModelKind::kRmi, 23), Options(clock));
  EXPECT_EQ(s.BreakEvenBatchSize(ModelKind::kRmi, ToyShape()), 201u);

  Decision d = s.Submit(ModelKind::kRmi, 200, ToyShape());
  EXPECT_FALSE(d.run_on_device);
  EXPECT_STREQ(d.reason, "cpu faster");
  EXPECT_DOUBLE_EQ(d.predicted_cpu_ns, 23 * 200);
  EXPECT_DOUBLE_EQ(d.predicted_device_ns, 2000 + 13 * 200);
  EXPECT_DOUBLE_EQ(d.latency_ns, 23 * 200);

  d = s.Submit(ModelKind::kRmi, 1000, ToyShape());
  EXPECT_TRUE(d.run_on_device);
  EXPECT_STREQ(d.reason, "device faster");
  EXPECT_DOUBLE_EQ(d.predicted_device_ns, 15000);
  EXPECT_DOUBLE_EQ(d.device_queue_ns, 0);

  const AccelStats st = s.GetStats();
  const KindStats& k = st.kinds[static_cast<size_t>(ModelKind::kRmi)];
  EXPECT_EQ(k.batches, 2u);
  EXPECT_EQ(k.items, 1200u);
  EXPECT_EQ(k.device_batches, 1u);
  EXPECT_EQ(k.device_items, 1000u);
  EXPECT_DOUBLE_EQ(k.cpu_ns, 23 * 1200);
  EXPECT_DOUBLE_EQ(k.device_ns, 4600 + 15000);
  EXPECT_DOUBLE_EQ(k.chosen_ns, 4600 + 15000);
  EXPECT_DOUBLE_EQ(st.FractionOffloaded(), 1000.0 / 1200);
  EXPECT_DOUBLE_EQ(st.device_busy_ns, 15000);
  EXPECT_EQ(st.latency_with_device_ns.Count(), 2u);
}

TEST(AccelSchedulerTest, VirtualClockQueuesBatchesAndMeasuresUtilization) {
  FakeClock clock;
  AccelScheduler s(ToyDevice(), Flat(ModelKind::kRmi, 100), Options(clock));
  Decision a = s.Submit(ModelKind::kRmi, 1000, ToyShape());  // 15000 ns on the device
  ASSERT_TRUE(a.run_on_device);
  *clock.now += 5000;
  Decision b = s.Submit(ModelKind::kRmi, 1000, ToyShape());
  ASSERT_TRUE(b.run_on_device);  // 10000 + 15000 < 100000 on the CPU
  EXPECT_DOUBLE_EQ(b.device_queue_ns, 10000);
  EXPECT_DOUBLE_EQ(b.latency_ns, 25000);
  // The device is busy until 30000; at 60000 it has been busy half the time.
  *clock.now += 55000;
  AccelStats st = s.GetStats();
  EXPECT_DOUBLE_EQ(st.elapsed_ns, 60000);
  EXPECT_DOUBLE_EQ(st.utilization, 0.5);
  // Before the virtual clock catches up, the span is the clock's.
  s.ResetStats();
  s.Submit(ModelKind::kRmi, 1000, ToyShape());
  s.Submit(ModelKind::kRmi, 1000, ToyShape());
  st = s.GetStats();
  EXPECT_EQ(st.batches, 2u);
  EXPECT_DOUBLE_EQ(st.utilization, 1.0);
}

TEST(AccelSchedulerTest, LatencyTargetPicksTheSideThatMeetsIt) {
  FakeClock clock;
  AccelOptions o = Options(clock);
  o.latency_target_ns = 20000;
  AccelScheduler s(ToyDevice(), Flat(ModelKind::kRmi, 19), o);
  // n = 1000: CPU 19000 meets the target; the device (15000) is faster and meets it too.
  EXPECT_TRUE(s.Submit(ModelKind::kRmi, 1000, ToyShape()).run_on_device);
  // Now the device is busy for 15000 more ns: 30000 misses the target, the CPU meets it.
  Decision d = s.Submit(ModelKind::kRmi, 1000, ToyShape());
  EXPECT_FALSE(d.run_on_device);
  EXPECT_STREQ(d.reason, "device misses latency target");
  // n = 2000: the CPU (38000) misses, the device (15000 queued + 28000) misses too: faster.
  d = s.Submit(ModelKind::kRmi, 2000, ToyShape());
  EXPECT_FALSE(d.run_on_device);
  EXPECT_STREQ(d.reason, "neither meets target, cpu faster");
  // Once the device is idle, 2000 items take 28000 on it: the CPU misses, the device too,
  // but it is faster.
  *clock.now += 1000000;
  d = s.Submit(ModelKind::kRmi, 2000, ToyShape());
  EXPECT_TRUE(d.run_on_device);
  EXPECT_STREQ(d.reason, "neither meets target, device faster");
  // A target only the device meets.
  *clock.now += 1000000;
  d = s.Submit(ModelKind::kRmi, 1200, ToyShape());  // CPU 22800, device 17600
  EXPECT_TRUE(d.run_on_device);
  EXPECT_STREQ(d.reason, "cpu misses latency target");
}

TEST(AccelSchedulerTest, NeverOffloadsWhatItCannotCompare) {
  FakeClock clock;
  AccelOptions o = Options(clock);
  AccelScheduler s(ToyDevice(), Flat(ModelKind::kRmi, 1000), o);
  // Uncalibrated kind: no CPU prediction, no offload.
  Decision d = s.Submit(ModelKind::kNgram, 100000, ToyShape());
  EXPECT_FALSE(d.run_on_device);
  EXPECT_STREQ(d.reason, "cpu not calibrated");
  EXPECT_TRUE(std::isinf(d.predicted_cpu_ns));
  // Unsupported arithmetic: the TPU v1 has no fp64.
  DeviceSpec tpu;
  ASSERT_TRUE(DevicePreset("tpu-v1", &tpu));
  AccelScheduler t(tpu, Flat(ModelKind::kRmi, 1000), o);
  RmiStats stats;
  d = t.Submit(ModelKind::kRmi, 100000, ModelShape::ForRmi(stats));
  EXPECT_FALSE(d.run_on_device);
  EXPECT_NE(std::string(d.reason).find("fp64"), std::string::npos);
  EXPECT_EQ(t.BreakEvenBatchSize(ModelKind::kRmi, ModelShape::ForRmi(stats)), 0u);
  // Offload disabled: predictions and statistics, no offload.
  o.offload = false;
  AccelScheduler off(ToyDevice(), Flat(ModelKind::kRmi, 1000), o);
  d = off.Submit(ModelKind::kRmi, 100000, ToyShape());
  EXPECT_FALSE(d.run_on_device);
  EXPECT_STREQ(d.reason, "offload disabled");
  EXPECT_GT(off.GetStats().kinds[0].device_ns, 0);
  EXPECT_EQ(off.GetStats().device_busy_ns, 0);
}

TEST(AccelSchedulerTest, WeightsUploadOncePerResidentModel) {
  FakeClock clock;
  AccelOptions o = Options(clock);
  o.resident_weight_bytes = 2500;
  AccelScheduler s(ToyDevice(), Flat(ModelKind::kRmi, 1000), o);  // always offloads
  ModelShape shape = ToyShape();
  shape.weight_bytes = 1000;  // 500 + 1000 ns to upload
  Decision first = s.Submit(ModelKind::kRmi, 1000, shape, BatchContext{7});
  Decision again = s.Submit(ModelKind::kRmi, 1000, shape, BatchContext{7});
  ASSERT_TRUE(first.run_on_device && again.run_on_device);
  EXPECT_DOUBLE_EQ(first.predicted_device_ns - again.predicted_device_ns, 1500);
  // Anonymous models upload every time.
  EXPECT_DOUBLE_EQ(s.Submit(ModelKind::kRmi, 1000, shape).predicted_device_ns,
                   first.predicted_device_ns);
  // A third model evicts the least recently used (7 after 8 was used).
  s.Submit(ModelKind::kRmi, 1000, shape, BatchContext{8});
  s.Submit(ModelKind::kRmi, 1000, shape, BatchContext{9});
  EXPECT_DOUBLE_EQ(s.Submit(ModelKind::kRmi, 1000, shape, BatchContext{7}).predicted_device_ns,
                   first.predicted_device_ns);
  const AccelStats st = s.GetStats();
  EXPECT_EQ(st.weight_uploads, 5u);
  EXPECT_LE(st.resident_bytes, 2500);
}

TEST(AccelSchedulerTest, TrainingAdviceReportsWhenOffloadPays) {
  FakeClock clock;
  // Fitting at 400 ns per key on the CPU; the toy device spends 85 ns of arithmetic and
  // 8 ns of transfer per key, after 3000 ns of fixed costs (dispatch, transfer latencies and
  // the 1000-byte model coming back).
  AccelScheduler s(ToyDevice(), Flat(ModelKind::kRmiTraining, 400), Options(clock));
  const TrainingAdvice small = s.AdviseTraining(5, 1000);
  EXPECT_FALSE(small.offload_pays);
  const TrainingAdvice large = s.AdviseTraining(1000000, 50000);
  EXPECT_DOUBLE_EQ(large.predicted_cpu_ns, 400e6);
  EXPECT_TRUE(large.offload_pays) << large.predicted_device_ns;
  const AccelStats st = s.GetStats();
  EXPECT_EQ(st.training_fits, 2u);
  EXPECT_EQ(st.training_offload_pays, 1u);
  EXPECT_EQ(st.largest_fit, 1000000u);
  EXPECT_DOUBLE_EQ(st.training_saving_ns, large.predicted_cpu_ns - large.predicted_device_ns);
  EXPECT_EQ(st.items, 0u);  // advice is not a batch
  EXPECT_NE(s.ToString().find("training: 2 fits"), std::string::npos);
}

TEST(AccelSchedulerTest, ToStringLabelsSimulatedAndPredictedFigures) {
  FakeClock clock;
  AccelScheduler s(ToyDevice(), Flat(ModelKind::kRmi, 23), Options(clock));
  s.Submit(ModelKind::kRmi, 1000, ToyShape());
  const std::string text = s.ToString();
  EXPECT_NE(text.find("toy (datasheet figures, not calibrated)"), std::string::npos) << text;
  EXPECT_NE(text.find("simulated"), std::string::npos);
  EXPECT_NE(text.find("synthetic"), std::string::npos);  // the calibration's origin
  EXPECT_NE(text.find("break_even"), std::string::npos);
  EXPECT_NE(text.find("rmi "), std::string::npos);
  EXPECT_NE(text.find(" 201\n"), std::string::npos);  // the break-even batch size
  EXPECT_EQ(text.find("measured on"), std::string::npos);
}

// ---- InferenceQueue ----

TEST(AccelQueueTest, WithoutWaitingEveryCallIsABatch) {
  FakeClock clock;
  AccelScheduler s(ToyDevice(), Flat(ModelKind::kRmi, 23), Options(clock));
  InferenceQueue q(&s, InferenceQueueOptions());
  const BatchTicket t = q.Join(ModelKind::kRmi, 1, ToyShape(), 10);
  EXPECT_EQ(t.batch_items, 10u);
  EXPECT_EQ(t.batch_callers, 1u);
  EXPECT_FALSE(t.decision.run_on_device);
  EXPECT_EQ(s.GetStats().batches, 1u);
}

// Four callers of 25 items and a cap of 100: one batch, whatever the order of arrival (the
// batch closes when full; the long wait never expires).
TEST(AccelQueueTest, ConcurrentCallersShareOneBatchPerModel) {
  FakeClock clock;
  AccelScheduler s(ToyDevice(), Flat(ModelKind::kRmi, 23), Options(clock));
  InferenceQueueOptions qo;
  qo.max_wait_micros = 60 * 1000 * 1000;
  qo.max_batch_items = 100;
  InferenceQueue q(&s, qo);
  std::vector<BatchTicket> tickets(8);
  std::vector<std::thread> threads;
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&, i] {
      const uint64_t model = i % 2 == 0 ? 1 : 2;  // two models, four callers each
      tickets[i] = q.Join(ModelKind::kRmi, model, ToyShape(), 25);
    });
  }
  for (std::thread& t : threads) t.join();
  for (const BatchTicket& t : tickets) {
    EXPECT_EQ(t.batch_items, 100u);
    EXPECT_EQ(t.batch_callers, 4u);
    EXPECT_FALSE(t.decision.run_on_device);  // 100 items: the CPU is faster
  }
  const AccelStats st = s.GetStats();
  EXPECT_EQ(st.batches, 2u);
  EXPECT_EQ(st.items, 200u);
  EXPECT_EQ(st.gathered_batches, 2u);
  EXPECT_EQ(st.gathered_callers, 8u);
}

// Random sizes and a short wait: whatever the timing, no batch exceeds the cap (unless one
// call alone does), every item is accounted once, and results computed by Run are exact.
TEST(AccelQueueTest, BatchesRespectTheCapUnderConcurrency) {
  FakeClock clock;
  AccelScheduler s(ToyDevice(), Flat(ModelKind::kRmi, 23), Options(clock));
  InferenceQueueOptions qo;
  qo.max_wait_micros = 200;
  qo.max_batch_items = 64;
  InferenceQueue q(&s, qo);
  RmiBuilder builder;
  for (uint64_t i = 0; i < 10000; ++i) builder.Add(i * i);
  std::unique_ptr<Rmi> rmi = builder.Finish();
  const ModelShape shape = ModelShape::ForRmi(rmi->stats());

  std::atomic<uint64_t> submitted{0};
  std::atomic<int> errors{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 6; ++t) {
    threads.emplace_back([&, t] {
      Random rnd(100 + t);
      for (int i = 0; i < 40; ++i) {
        const uint64_t n = 1 + rnd.Uniform(80);
        std::vector<uint64_t> keys(n);
        for (uint64_t& k : keys) k = rnd.Uniform64(10000ull * 10000);
        std::vector<SearchBound> bounds(n);
        const BatchTicket ticket = q.Run(ModelKind::kRmi, rnd.Uniform(2), shape, n, [&] {
          for (uint64_t j = 0; j < n; ++j) bounds[j] = rmi->Lookup(keys[j]);
        });
        submitted += n;
        if (ticket.batch_items < n || ticket.batch_callers == 0) ++errors;
        if (n < qo.max_batch_items && ticket.batch_items > qo.max_batch_items) ++errors;
        for (uint64_t j = 0; j < n; ++j) {
          const SearchBound b = rmi->Lookup(keys[j]);
          if (b.lo != bounds[j].lo || b.hi != bounds[j].hi) ++errors;
        }
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(errors.load(), 0);
  EXPECT_EQ(s.GetStats().items, submitted.load());
}

}  // namespace
}  // namespace learnkv::accel
