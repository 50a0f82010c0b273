// A simulated device with round numbers, for the accelerator tests: costs are easy to compute
// by hand (1 byte/ns on the link with 500 ns latency, 1000 ns dispatch, 10 bytes/ns on the
// memory with 100 ns latency, 1 op/ns for every kind of operation).
//
// Thread safety: returns a value.
#ifndef LEARNKV_TESTS_SUPPORT_ACCEL_TOY_DEVICE_H_
#define LEARNKV_TESTS_SUPPORT_ACCEL_TOY_DEVICE_H_

#include "learned/accel/device.h"

namespace learnkv::accel {

inline DeviceSpec ToyDevice() {
  DeviceSpec d;
  d.name = "toy";
  d.link_bytes_per_s = 1e9;
  d.link_latency_ns = 500;
  d.dispatch_ns = 1000;
  d.mem_bytes = 1e9;
  d.mem_bytes_per_s = 10e9;
  d.mem_latency_ns = 100;
  d.fp64_ops_per_s = 1e9;
  d.fp32_ops_per_s = 1e9;
  d.int_ops_per_s = 1e9;
  d.matrix_ops_per_s = 1e9;
  return d;
}

}  // namespace learnkv::accel

#endif  // LEARNKV_TESTS_SUPPORT_ACCEL_TOY_DEVICE_H_
