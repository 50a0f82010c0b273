// A description of an inference accelerator for the cost model (cost_model.h): its host link,
// dispatch overhead, memory and compute rates, and optionally a weight-stationary systolic
// array. Nothing here talks to hardware: the accelerator is simulated, and these figures are
// what the simulation charges.
//
// Presets (DevicePreset): "tpu-v1", "tpu-v2" and "h200", each citing its sources in `source`.
// Every preset is built from published figures, not measured here: `calibrated` is false for
// all of them, and ToString()/the scheduler say so. docs/accelerator.md lists the sources and
// which figures are assumptions.
//
// Description files (Parse/ToText) use the key = value text of kv_text.h, one field per line,
// the field names being the member names below; e.g.
//
//   name = my-gpu
//   link_bytes_per_s = 64e9
//   fp32_ops_per_s = 67e12
//
// A file may start from a preset ("base = h200") and override some fields. Unknown keys are
// errors, so a typo never silently leaves a default in place.
//
// Thread safety: a plain value type; const methods may be called concurrently.
#ifndef LEARNKV_LEARNED_ACCEL_DEVICE_H_
#define LEARNKV_LEARNED_ACCEL_DEVICE_H_

#include <cstdint>
#include <string>
#include <vector>

#include "learnkv/env.h"
#include "learnkv/status.h"

namespace learnkv::accel {

struct DeviceSpec {
  std::string name;    // e.g. "h200"
  std::string source;  // where the figures come from (one line)
  // True only for figures measured on the device itself. Every preset is false.
  bool calibrated = false;

  // ---- host link (per direction) and dispatch ----
  double link_bytes_per_s = 0;  // > 0
  double link_latency_ns = 0;   // fixed cost of one transfer
  double dispatch_ns = 0;       // per batch: launching the work and learning that it finished

  // ---- device memory ----
  double mem_bytes = 0;        // capacity; > 0
  double mem_bytes_per_s = 0;  // bandwidth; > 0
  double mem_latency_ns = 0;   // one dependent access (the per-item latency floor)

  // ---- compute; 0 means the device cannot do that kind of arithmetic ----
  double fp64_ops_per_s = 0;
  double fp32_ops_per_s = 0;
  double int_ops_per_s = 0;     // 32-bit integer operations
  double matrix_ops_per_s = 0;  // dense int8 matrix peak (2 per multiply-accumulate); ignored
                                // when a systolic array is described
  // A weight-stationary systolic array (SCALE-Sim's model), for matrix work: rows x cols
  // processing elements, `systolic_arrays` of them working on separate rows of a batch, one
  // multiply-accumulate per element per clock. rows = 0: none.
  uint32_t systolic_rows = 0;
  uint32_t systolic_cols = 0;
  uint32_t systolic_arrays = 1;
  double clock_hz = 0;

  bool has_systolic() const { return systolic_rows > 0; }
  // Peak dense matrix rate, ops (2 per multiply-accumulate) per second.
  double MatrixPeakOpsPerS() const;

  // OK if every field is in range (rates, sizes and latencies finite and non-negative; link
  // and memory rates and capacity positive; a systolic array has cols, arrays and a clock).
  Status Validate() const;

  // The description file of this device (every field); Parse(ToText()) gives it back.
  std::string ToText() const;
  // Parses a description file; fields not named keep the value of `base` (a preset) or of a
  // default DeviceSpec. InvalidArgument on unknown keys, bad numbers or an invalid result.
  static Status Parse(const std::string& text, DeviceSpec* spec);
  // One line for stats: name, link, memory, peaks, and "datasheet" or "calibrated".
  std::string Summary() const;
};

// The preset of that name ("tpu-v1", "tpu-v2", "h200"); false if there is none.
bool DevicePreset(const std::string& name, DeviceSpec* spec);
std::vector<std::string> DevicePresetNames();

// A preset name, or else the path of a description file read through env.
Status LoadDevice(Env* env, const std::string& name_or_path, DeviceSpec* spec);

}  // namespace learnkv::accel

#endif  // LEARNKV_LEARNED_ACCEL_DEVICE_H_
