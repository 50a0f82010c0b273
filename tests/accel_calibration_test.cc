// Tests of the CPU calibration (learned/accel/cpu_calibration.h): curve interpolation, the
// calibration file, and the structure of a real (tiny) calibration run. Timings themselves are
// never asserted: only that every curve is there, ascending and positive.
#include <gtest/gtest.h>

#include <cmath>
#include <memory>
#include <string>

#include "learned/accel/cpu_calibration.h"
#include "learned/accel/scheduler.h"
#include "learnkv/env.h"
#include "support/test_util.h"

namespace learnkv::accel {
namespace {

TEST(AccelCalibrationTest, CurveInterpolatesInLogBatchSize) {
  const CpuCurve c{{{1, 10}, {4, 20}, {16, 20}}};
  EXPECT_DOUBLE_EQ(c.NsPerItem(1), 10);
  EXPECT_DOUBLE_EQ(c.NsPerItem(2), 15);  // halfway in log2
  EXPECT_DOUBLE_EQ(c.NsPerItem(4), 20);
  EXPECT_DOUBLE_EQ(c.NsPerItem(8), 20);
  EXPECT_DOUBLE_EQ(c.NsPerItem(1000), 20);  // beyond the last point: its value
  EXPECT_DOUBLE_EQ(c.BatchNs(2), 30);
  const CpuCurve single{{{64, 7}}};
  EXPECT_DOUBLE_EQ(single.NsPerItem(1), 7);
  EXPECT_DOUBLE_EQ(single.NsPerItem(1 << 20), 7);
}

TEST(AccelCalibrationTest, TextRoundTripsAndRejectsMistakes) {
  CpuCalibration c;
  c.set_origin("by hand");
  c.SetCurve(ModelKind::kRmi, CpuCurve{{{1, 31.25}, {4, 24.1}, {16, 22.0000001}}});
  c.SetCurve(ModelKind::kMlp, CpuCurve{{{1, 1234.5}}});
  CpuCalibration parsed;
  ASSERT_TRUE(CpuCalibration::Parse(c.ToText(), &parsed).ok()) << c.ToText();
  EXPECT_EQ(parsed.ToText(), c.ToText());
  EXPECT_EQ(parsed.origin(), "by hand");
  EXPECT_TRUE(parsed.Has(ModelKind::kRmi));
  EXPECT_FALSE(parsed.Has(ModelKind::kNgram));
  EXPECT_EQ(parsed.curve(ModelKind::kRmi).points[2].second, 22.0000001);
  EXPECT_TRUE(std::isinf(parsed.PredictNs(ModelKind::kGrid, 10)));

  CpuCalibration bad;
  EXPECT_TRUE(CpuCalibration::Parse("rmi = 1:2\n", &bad).IsInvalidArgument());  // no version
  EXPECT_TRUE(CpuCalibration::Parse("version = 2\n", &bad).IsInvalidArgument());
  EXPECT_TRUE(CpuCalibration::Parse("version = 1\nsvm = 1:2\n", &bad).IsInvalidArgument());
  EXPECT_TRUE(CpuCalibration::Parse("version = 1\nrmi = 4:2 1:3\n", &bad).IsInvalidArgument());
  EXPECT_TRUE(CpuCalibration::Parse("version = 1\nrmi = 1:0\n", &bad).IsInvalidArgument());
  EXPECT_TRUE(CpuCalibration::Parse("version = 1\nrmi = 1-2\n", &bad).IsInvalidArgument());
  EXPECT_TRUE(CpuCalibration::Parse("version = 1\nrmi =\n", &bad).IsInvalidArgument());
  EXPECT_TRUE(CpuCalibration::Parse("version = 1\n", &bad).ok());
}

TEST(AccelCalibrationTest, SavesAndLoads) {
  Env* env = Env::Default();
  const std::string path = test::NewTempDir("accel_calibration") + "/cpu.calibration";
  CpuCalibration c;
  c.set_origin("by hand");
  c.SetCurve(ModelKind::kGrid, CpuCurve{{{1, 5}, {1024, 4}}});
  ASSERT_TRUE(c.Save(env, path).ok());
  CpuCalibration loaded;
  ASSERT_TRUE(CpuCalibration::Load(env, path, &loaded).ok());
  EXPECT_EQ(loaded.origin(), "by hand; loaded from " + path);
  EXPECT_DOUBLE_EQ(loaded.PredictNs(ModelKind::kGrid, 1024), 4 * 1024);
  EXPECT_FALSE(CpuCalibration::Load(env, path + ".missing", &loaded).ok());
}

CalibrationOptions Tiny() {
  CalibrationOptions o;
  o.max_batch = 64;
  o.model_keys = 4096;
  o.probe_pool = 1024;
  o.max_training_keys = 1024;
  o.min_point_ms = 0.05;
  return o;
}

TEST(AccelCalibrationTest, CalibrationTimesEveryKind) {
  CalibrationOptions o = Tiny();
  int progress_lines = 0;
  o.progress = [&](const std::string&) { ++progress_lines; };
  CpuCalibration c;
  ASSERT_TRUE(CalibrateCpu(o, &c).ok());
  EXPECT_EQ(progress_lines, kNumModelKinds);
  EXPECT_EQ(c.origin().rfind("measured on ", 0), 0u) << c.origin();
  for (int i = 0; i < kNumModelKinds; ++i) {
    const ModelKind kind = static_cast<ModelKind>(i);
    ASSERT_TRUE(c.Has(kind)) << ModelKindName(kind);
    const CpuCurve& curve = c.curve(kind);
    // 1, 4, 16, 64 (training: up to 1024 keys).
    EXPECT_EQ(curve.points.front().first, 1u);
    EXPECT_EQ(curve.points.back().first, kind == ModelKind::kRmiTraining ? 1024u : 64u);
    for (size_t p = 0; p < curve.points.size(); ++p) {
      EXPECT_GT(curve.points[p].second, 0) << ModelKindName(kind);
      if (p > 0) {
        EXPECT_GT(curve.points[p].first, curve.points[p - 1].first);
      }
    }
  }
  // A calibration round-trips through its file.
  CpuCalibration parsed;
  ASSERT_TRUE(CpuCalibration::Parse(c.ToText(), &parsed).ok());
  EXPECT_EQ(parsed.ToText(), c.ToText());

  // Only the kinds asked for.
  o.kinds = {ModelKind::kGrid};
  ASSERT_TRUE(CalibrateCpu(o, &c).ok());
  EXPECT_TRUE(c.Has(ModelKind::kGrid));
  EXPECT_FALSE(c.Has(ModelKind::kRmi));
}

TEST(AccelCalibrationTest, RejectsBadOptions) {
  CpuCalibration c;
  CalibrationOptions o = Tiny();
  o.growth = 1;
  EXPECT_TRUE(CalibrateCpu(o, &c).IsInvalidArgument());
  o = Tiny();
  o.dataset = Dataset::kUrl;  // the RMI needs integer keys
  EXPECT_TRUE(CalibrateCpu(o, &c).IsInvalidArgument());
  o = Tiny();
  o.mlp_dims = {32};
  EXPECT_TRUE(CalibrateCpu(o, &c).IsInvalidArgument());
}

// A measured calibration drives the scheduler on every preset: break-even sizes, where there
// are any, are where the device starts to win.
TEST(AccelCalibrationTest, BreakEvenOnPresetsIsConsistent) {
  CpuCalibration c;
  ASSERT_TRUE(CalibrateCpu(Tiny(), &c).ok());
  RmiStats stats;
  stats.root_kind = RmiRootKind::kLinearSpline;
  stats.model_bytes = 64 * 1024;
  const ModelShape shapes[] = {ModelShape::ForRmi(stats), ModelShape::ForNgram(4096, 60),
                               ModelShape::ForGrid(1 << 20, 8),
                               ModelShape::ForMlp({32, 64, 64, 1})};
  const ModelKind kinds[] = {ModelKind::kRmi, ModelKind::kNgram, ModelKind::kGrid, ModelKind::kMlp};
  for (const std::string& name : DevicePresetNames()) {
    DeviceSpec d;
    ASSERT_TRUE(DevicePreset(name, &d));
    AccelScheduler s(d, c);
    for (int i = 0; i < 4; ++i) {
      const uint64_t be = s.BreakEvenBatchSize(kinds[i], shapes[i]);
      if (be == 0) continue;
      EXPECT_LT(s.PredictDevice(shapes[i], be, true).total_ns, s.PredictCpuNs(kinds[i], be));
      if (be > 1) {
        EXPECT_GE(s.PredictDevice(shapes[i], be - 1, true).total_ns,
                  s.PredictCpuNs(kinds[i], be - 1));
      }
    }
  }
}

TEST(AccelCalibrationTest, OpenCalibratesOnceThenLoads) {
  Env* env = Env::Default();
  AccelSetup setup;
  setup.device = "tpu-v2";
  setup.calibration = Tiny();
  setup.calibration.kinds = {ModelKind::kRmi};
  setup.calibration_file = test::NewTempDir("accel_open") + "/cpu.calibration";
  std::unique_ptr<AccelScheduler> s;
  ASSERT_TRUE(OpenAccelScheduler(env, setup, &s).ok());
  EXPECT_EQ(s->device().name, "tpu-v2");
  EXPECT_EQ(s->calibration().origin().rfind("measured on ", 0), 0u);
  EXPECT_TRUE(env->FileExists(setup.calibration_file));
  ASSERT_TRUE(OpenAccelScheduler(env, setup, &s).ok());
  EXPECT_NE(s->calibration().origin().find("loaded from"), std::string::npos);
  EXPECT_TRUE(s->calibration().Has(ModelKind::kRmi));

  setup.device = "no-such-device";
  EXPECT_FALSE(OpenAccelScheduler(env, setup, &s).ok());
  setup.device = "h200";
  ASSERT_TRUE(WriteStringToFile(env, "version = 9\n", setup.calibration_file, false).ok());
  EXPECT_TRUE(OpenAccelScheduler(env, setup, &s).IsInvalidArgument());
}

}  // namespace
}  // namespace learnkv::accel
