// libFuzzer target for Rmi::DecodeFrom (learned/rmi.h): on arbitrary bytes it must return
// Corruption or a model that re-encodes to the same bytes and whose every bound lies within
// [0, num_keys]. Each input is also tried with a valid checksum trailer, since otherwise almost
// nothing gets past the checksum to the field validation.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <limits>
#include <memory>
#include <string>

#include "learned/rmi.h"
#include "util/checksum.h"
#include "util/coding.h"

namespace {

void Check(const learnkv::Slice& bytes) {
  std::unique_ptr<learnkv::Rmi> rmi;
  const learnkv::Status s = learnkv::Rmi::DecodeFrom(bytes, &rmi);
  if (!s.ok()) {
    if (!s.IsCorruption()) abort();
    return;
  }
  std::string again;
  rmi->EncodeTo(&again);
  if (learnkv::Slice(again) != bytes) abort();

  const uint64_t n = rmi->num_keys();
  auto probe = [&](uint64_t x) {
    const learnkv::SearchBound b = rmi->Lookup(x);
    if (b.lo > b.hi || b.hi > n) abort();
    const learnkv::ApproxPos a = rmi->Predict(x);
    if (a.bound.lo != b.lo || a.bound.hi != b.hi || a.pos < b.lo || a.pos > b.hi) abort();
  };
  probe(0);
  probe(std::numeric_limits<uint64_t>::max());
  // Values read at every offset hit the stored keys (root minimum, knots, leaf bases) and
  // their neighbours, where rounding and clamping edges are.
  for (size_t i = 0; i + 8 <= bytes.size() && i < 4096; ++i) {
    const uint64_t x = learnkv::DecodeFixed64(bytes.data() + i);
    probe(x);
    probe(x - 1);
    probe(x + 1);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const learnkv::Slice raw(reinterpret_cast<const char*>(data), size);
  Check(raw);
  if (size >= 4) {
    std::string fixed = raw.ToString();
    const uint32_t crc = learnkv::Checksum32(fixed.data(), size - 4);
    learnkv::EncodeFixed32(fixed.data() + size - 4, learnkv::MaskChecksum(crc));
    Check(fixed);
  }
  return 0;
}
