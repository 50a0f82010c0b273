// Tests of the accelerator descriptions (learned/accel/device.h): the presets carry the
// published figures they cite, and description files round-trip and reject mistakes.
#include <gtest/gtest.h>

#include <string>

#include "learned/accel/device.h"
#include "learnkv/env.h"
#include "support/test_util.h"

namespace learnkv::accel {
namespace {

DeviceSpec Preset(const std::string& name) {
  DeviceSpec d;
  EXPECT_TRUE(DevicePreset(name, &d)) << name;
  return d;
}

TEST(AccelDeviceTest, PresetsAreValidDatasheetFigures) {
  ASSERT_EQ(DevicePresetNames().size(), 3u);
  for (const std::string& name : DevicePresetNames()) {
    const DeviceSpec d = Preset(name);
    EXPECT_TRUE(d.Validate().ok()) << name << ": " << d.Validate().ToString();
    EXPECT_EQ(d.name, name);
    EXPECT_FALSE(d.calibrated) << name << " is not measured here";
    EXPECT_FALSE(d.source.empty());
    EXPECT_NE(d.Summary().find("not calibrated"), std::string::npos);
  }
  DeviceSpec unused;
  EXPECT_FALSE(DevicePreset("tpu-v9", &unused));
}

TEST(AccelDeviceTest, PresetPeaksMatchTheirSources) {
  // TPU v1: 256 x 256 MACs at 700 MHz = 92 TOPS (ISCA 2017).
  EXPECT_DOUBLE_EQ(Preset("tpu-v1").MatrixPeakOpsPerS(), 2.0 * 256 * 256 * 700e6);
  EXPECT_NEAR(Preset("tpu-v1").MatrixPeakOpsPerS(), 92e12, 0.5e12);
  // TPU v2: two 128 x 128 MXUs at 700 MHz = 45 TFLOPS per chip; 600 GB/s HBM.
  EXPECT_NEAR(Preset("tpu-v2").MatrixPeakOpsPerS(), 45e12, 1e12);
  EXPECT_DOUBLE_EQ(Preset("tpu-v2").mem_bytes_per_s, 600e9);
  // H200: datasheet figures.
  const DeviceSpec h200 = Preset("h200");
  EXPECT_DOUBLE_EQ(h200.mem_bytes_per_s, 4.8e12);
  EXPECT_DOUBLE_EQ(h200.fp32_ops_per_s, 67e12);
  EXPECT_DOUBLE_EQ(h200.fp64_ops_per_s, 34e12);
  EXPECT_DOUBLE_EQ(h200.MatrixPeakOpsPerS(), 1979e12);
  EXPECT_DOUBLE_EQ(h200.link_bytes_per_s, 64e9);
  EXPECT_FALSE(h200.has_systolic());
  // PCIe Gen3 x16: 15.75 GB/s per direction.
  EXPECT_NEAR(Preset("tpu-v1").link_bytes_per_s, 15.75e9, 0.01e9);
}

TEST(AccelDeviceTest, TextRoundTrips) {
  for (const std::string& name : DevicePresetNames()) {
    const DeviceSpec d = Preset(name);
    DeviceSpec parsed;
    ASSERT_TRUE(DeviceSpec::Parse(d.ToText(), &parsed).ok()) << name;
    EXPECT_EQ(parsed.ToText(), d.ToText());
    EXPECT_EQ(parsed.link_bytes_per_s, d.link_bytes_per_s);  // bit for bit
    EXPECT_EQ(parsed.systolic_arrays, d.systolic_arrays);
  }
}

TEST(AccelDeviceTest, ParseOverridesAPreset) {
  DeviceSpec d;
  ASSERT_TRUE(DeviceSpec::Parse("# a measured H200\nbase = h200\nname = h200-lab\n"
                                "dispatch_ns = 12000   # measured\ncalibrated = true\n",
                                &d)
                  .ok());
  EXPECT_EQ(d.name, "h200-lab");
  EXPECT_TRUE(d.calibrated);
  EXPECT_EQ(d.dispatch_ns, 12000);
  EXPECT_EQ(d.mem_bytes_per_s, 4.8e12);  // kept from the base
}

TEST(AccelDeviceTest, ParseRejectsMistakes) {
  DeviceSpec d;
  EXPECT_TRUE(DeviceSpec::Parse("base = h200\nlink_bandwith = 1e9\n", &d).IsInvalidArgument());
  EXPECT_TRUE(DeviceSpec::Parse("base = h200\ndispatch_ns = fast\n", &d).IsInvalidArgument());
  EXPECT_TRUE(DeviceSpec::Parse("base = h200\ndispatch_ns\n", &d).IsInvalidArgument());
  EXPECT_TRUE(DeviceSpec::Parse("base = h200\ndispatch_ns = -1\n", &d).IsInvalidArgument());
  EXPECT_TRUE(DeviceSpec::Parse("base = h300\n", &d).IsInvalidArgument());
  EXPECT_TRUE(DeviceSpec::Parse("base = h200\nsystolic_rows = 8\n", &d).IsInvalidArgument());
  EXPECT_TRUE(DeviceSpec::Parse("name = empty\n", &d).IsInvalidArgument());  // no link
  EXPECT_TRUE(
      DeviceSpec::Parse("base = h200\nsystolic_cols = 99999999999\n", &d).IsInvalidArgument());
}

TEST(AccelDeviceTest, LoadsPresetsAndFiles) {
  Env* env = Env::Default();
  DeviceSpec d;
  ASSERT_TRUE(LoadDevice(env, "tpu-v2", &d).ok());
  EXPECT_EQ(d.name, "tpu-v2");
  const std::string path = test::NewTempDir("accel_device") + "/mine.device";
  ASSERT_TRUE(
      WriteStringToFile(env, "base = tpu-v1\nname = mine\nclock_hz = 1e9\n", path, false).ok());
  ASSERT_TRUE(LoadDevice(env, path, &d).ok());
  EXPECT_EQ(d.name, "mine");
  EXPECT_DOUBLE_EQ(d.MatrixPeakOpsPerS(), 2.0 * 256 * 256 * 1e9);
  EXPECT_FALSE(LoadDevice(env, path + ".missing", &d).ok());
}

}  // namespace
}  // namespace learnkv::accel
