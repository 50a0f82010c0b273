// Device descriptions: presets, validation and the description file (see device.h).
//
// Preset figures and where each comes from (docs/accelerator.md has the full list). Figures
// marked "assumption" are not published for the device; they are round numbers of the usual
// order of magnitude and the first thing a calibration on real hardware should replace.
#include "learned/accel/device.h"

#include <cmath>
#include <cstdio>

#include "learned/accel/kv_text.h"

namespace learnkv::accel {

namespace {

constexpr double kGiB = 1024.0 * 1024.0 * 1024.0;
// PCIe Gen3 x16, one direction: 8 GT/s x 16 lanes x 128/130 encoding / 8 bits.
constexpr double kPcieGen3x16 = 8e9 * 16 * 128.0 / 130.0 / 8.0;

DeviceSpec TpuV1() {
  DeviceSpec d;
  d.name = "tpu-v1";
  d.source =
      "Jouppi et al., In-Datacenter Performance Analysis of a Tensor Processing Unit, ISCA 2017: "
      "256x256 8-bit MACs at 700 MHz (92 TOPS), 8 GiB DDR3 at 34 GB/s, PCIe Gen3 x16; "
      "latencies, dispatch and the activation unit's integer rate are assumptions";
  d.link_bytes_per_s = kPcieGen3x16;
  d.link_latency_ns = 1000;  // assumption: one PCIe round trip
  d.dispatch_ns = 10000;     // assumption: the host driver issues the instructions over PCIe
  d.mem_bytes = 8 * kGiB;
  d.mem_bytes_per_s = 34e9;
  d.mem_latency_ns = 100;  // assumption: a DDR3 access
  // No floating point at all; the activation unit's 256 lanes are the only general integer
  // path (assumption: one 32-bit operation per lane per clock).
  d.int_ops_per_s = 256 * 700e6;
  d.systolic_rows = 256;
  d.systolic_cols = 256;
  d.systolic_arrays = 1;
  d.clock_hz = 700e6;
  return d;
}

DeviceSpec TpuV2() {
  DeviceSpec d;
  d.name = "tpu-v2";
  d.source =
      "Jouppi et al., A Domain-Specific Supercomputer for Training Deep Neural Networks, CACM "
      "2020; Norrie et al., IEEE Micro 2021: two TensorCores per chip, each with one 128x128 "
      "bf16 MXU at 700 MHz (45 TFLOPS) and an 8x128-lane vector unit, 16 GiB HBM at 600 GB/s; "
      "the PCIe Gen3 x16 host link, latencies and dispatch are assumptions";
  d.link_bytes_per_s = kPcieGen3x16;  // assumption
  d.link_latency_ns = 1000;           // assumption
  d.dispatch_ns = 10000;              // assumption
  d.mem_bytes = 16 * kGiB;
  d.mem_bytes_per_s = 600e9;
  d.mem_latency_ns = 500;  // assumption: an HBM access
  // Vector unit: 8 x 128 32-bit lanes per core, two cores. No double precision.
  d.fp32_ops_per_s = 2 * 8 * 128 * 700e6;
  d.int_ops_per_s = 2 * 8 * 128 * 700e6;
  d.systolic_rows = 128;
  d.systolic_cols = 128;
  d.systolic_arrays = 2;
  d.clock_hz = 700e6;
  return d;
}

DeviceSpec H200() {
  DeviceSpec d;
  d.name = "h200";
  d.source =
      "NVIDIA H200 Tensor Core GPU datasheet (SXM): FP64 34 TFLOPS, FP32 67 TFLOPS, INT8 tensor "
      "1979 TOPS dense (3958 with sparsity), 141 GB HBM3e at 4.8 TB/s, PCIe Gen5 x16 (128 GB/s "
      "both ways); INT32 at half the FP32 rate (Hopper SM: 64 INT32 and 128 FP32 lanes); "
      "latencies and dispatch are assumptions. Datasheet figures, not calibrated";
  d.link_bytes_per_s = 64e9;
  d.link_latency_ns = 2000;  // assumption: a small pinned cudaMemcpyAsync
  d.dispatch_ns = 5000;      // assumption: kernel launch plus stream synchronization
  d.mem_bytes = 141e9;
  d.mem_bytes_per_s = 4.8e12;
  d.mem_latency_ns = 600;  // assumption: published H100 pointer chases are ~0.5 us
  d.fp64_ops_per_s = 34e12;
  d.fp32_ops_per_s = 67e12;
  d.int_ops_per_s = 33.5e12;
  d.matrix_ops_per_s = 1979e12;
  d.clock_hz = 1.98e9;  // boost clock; unused without a systolic array
  return d;
}

// The numeric fields, by their file names.
struct DoubleField {
  const char* name;
  double DeviceSpec::*member;
};
constexpr DoubleField kDoubleFields[] = {
    {"link_bytes_per_s", &DeviceSpec::link_bytes_per_s},
    {"link_latency_ns", &DeviceSpec::link_latency_ns},
    {"dispatch_ns", &DeviceSpec::dispatch_ns},
    {"mem_bytes", &DeviceSpec::mem_bytes},
    {"mem_bytes_per_s", &DeviceSpec::mem_bytes_per_s},
    {"mem_latency_ns", &DeviceSpec::mem_latency_ns},
    {"fp64_ops_per_s", &DeviceSpec::fp64_ops_per_s},
    {"fp32_ops_per_s", &DeviceSpec::fp32_ops_per_s},
    {"int_ops_per_s", &DeviceSpec::int_ops_per_s},
    {"matrix_ops_per_s", &DeviceSpec::matrix_ops_per_s},
    {"clock_hz", &DeviceSpec::clock_hz},
};
struct UintField {
  const char* name;
  uint32_t DeviceSpec::*member;
};
constexpr UintField kUintFields[] = {
    {"systolic_rows", &DeviceSpec::systolic_rows},
    {"systolic_cols", &DeviceSpec::systolic_cols},
    {"systolic_arrays", &DeviceSpec::systolic_arrays},
};

Status Invalid(const std::string& name, const std::string& what) {
  return Status::InvalidArgument("device " + name + ": " + what);
}

std::string Si(double v, const char* unit) {
  const char* prefixes[] = {"", "K", "M", "G", "T", "P"};
  int i = 0;
  while (std::fabs(v) >= 1000 && i < 5) {
    v /= 1000;
    ++i;
  }
  char buf[48];
  std::snprintf(buf, sizeof(buf), "%.3g %s%s", v, prefixes[i], unit);
  return buf;
}

}  // namespace

double DeviceSpec::MatrixPeakOpsPerS() const {
  if (!has_systolic()) return matrix_ops_per_s;
  return 2.0 * systolic_rows * systolic_cols * systolic_arrays * clock_hz;
}

Status DeviceSpec::Validate() const {
  if (name.empty()) return Invalid("(unnamed)", "name is empty");
  for (const DoubleField& f : kDoubleFields) {
    const double v = this->*f.member;
    if (!std::isfinite(v) || v < 0) return Invalid(name, std::string(f.name) + " must be >= 0");
  }
  if (link_bytes_per_s <= 0) return Invalid(name, "link_bytes_per_s must be > 0");
  if (mem_bytes <= 0) return Invalid(name, "mem_bytes must be > 0");
  if (mem_bytes_per_s <= 0) return Invalid(name, "mem_bytes_per_s must be > 0");
  if (has_systolic() && (systolic_cols == 0 || systolic_arrays == 0 || clock_hz <= 0)) {
    return Invalid(name, "a systolic array needs systolic_cols, systolic_arrays and clock_hz > 0");
  }
  return Status::OK();
}

std::string DeviceSpec::ToText() const {
  std::string out = "# learnkv accelerator description (docs/accelerator.md)\n";
  AppendKeyValue(&out, "name", name);
  AppendKeyValue(&out, "source", source);
  AppendKeyValue(&out, "calibrated", calibrated ? "true" : "false");
  for (const DoubleField& f : kDoubleFields)
    AppendKeyValue(&out, f.name, FormatDouble(this->*f.member));
  for (const UintField& f : kUintFields)
    AppendKeyValue(&out, f.name, std::to_string(this->*f.member));
  return out;
}

Status DeviceSpec::Parse(const std::string& text, DeviceSpec* spec) {
  KeyValues entries;
  Status s = ParseKeyValueText(text, "device description", &entries);
  if (!s.ok()) return s;
  DeviceSpec d;
  for (const auto& [key, value] : entries) {
    if (key == "base") {
      if (!DevicePreset(value, &d)) return Invalid(value, "no such preset (base)");
      continue;
    }
    if (key == "name" || key == "source") {
      (key == "name" ? d.name : d.source) = value;
      continue;
    }
    if (key == "calibrated") {
      if (value != "true" && value != "false") return Invalid(d.name, "calibrated: true or false");
      d.calibrated = value == "true";
      continue;
    }
    bool known = false;
    for (const DoubleField& f : kDoubleFields) {
      if (key != f.name) continue;
      if (!ParseDouble(value, &(d.*f.member))) return Invalid(d.name, key + ": not a number");
      known = true;
    }
    for (const UintField& f : kUintFields) {
      if (key != f.name) continue;
      uint64_t v;
      if (!ParseUint64(value, &v) || v > UINT32_MAX) return Invalid(d.name, key + ": not a count");
      d.*f.member = static_cast<uint32_t>(v);
      known = true;
    }
    if (!known) return Invalid(d.name, "unknown key '" + key + "'");
  }
  s = d.Validate();
  if (s.ok()) *spec = d;
  return s;
}

std::string DeviceSpec::Summary() const {
  std::string out = name + (calibrated ? " (calibrated)" : " (datasheet figures, not calibrated)");
  char latencies[96];
  std::snprintf(latencies, sizeof(latencies), " + %.3g us per transfer, dispatch %.3g us",
                link_latency_ns / 1e3, dispatch_ns / 1e3);
  out += ": link " + Si(link_bytes_per_s, "B/s") + latencies + ", memory " + Si(mem_bytes, "B") +
         " at " + Si(mem_bytes_per_s, "B/s");
  if (has_systolic()) {
    out += ", " + std::to_string(systolic_arrays) + "x " + std::to_string(systolic_rows) + "x" +
           std::to_string(systolic_cols) + " systolic at " + Si(clock_hz, "Hz");
  }
  out += ", matrix " + Si(MatrixPeakOpsPerS(), "op/s") + ", fp64 " + Si(fp64_ops_per_s, "op/s") +
         ", fp32 " + Si(fp32_ops_per_s, "op/s") + ", int " + Si(int_ops_per_s, "op/s");
  return out;
}

bool DevicePreset(const std::string& name, DeviceSpec* spec) {
  if (name == "tpu-v1") {
    *spec = TpuV1();
  } else if (name == "tpu-v2") {
    *spec = TpuV2();
  } else if (name == "h200") {
    *spec = H200();
  } else {
    return false;
  }
  return true;
}

std::vector<std::string> DevicePresetNames() { return {"tpu-v1", "tpu-v2", "h200"}; }

Status LoadDevice(Env* env, const std::string& name_or_path, DeviceSpec* spec) {
  if (DevicePreset(name_or_path, spec)) return Status::OK();
  std::string text;
  Status s = ReadFileToString(env, name_or_path, &text);
  if (!s.ok()) return s;
  return DeviceSpec::Parse(text, spec);
}

}  // namespace learnkv::accel
