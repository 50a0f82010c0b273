// libFuzzer target for the filter decoders (learned/filter_policy.h and the filters it holds):
// on arbitrary bytes, Filter::DecodeFrom must return Corruption or a filter that answers any
// probe without reading out of bounds. Each input is also tried with a valid block checksum,
// and the first byte picks one payload decoder (Bloom, fuse, fractional fuse, learned, or a
// classifier) to run on the rest directly, since the block checksum otherwise stops almost
// everything before the field checks.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>

#include "learned/filter_bloom.h"
#include "learned/filter_classifier.h"
#include "learned/filter_fuse.h"
#include "learned/filter_learned.h"
#include "learned/filter_policy.h"
#include "util/checksum.h"
#include "util/coding.h"

namespace {

using learnkv::Slice;
using learnkv::Status;

// Keys to probe with: slices of the input itself (so stored keys and prefixes get hit), and a
// few fixed ones.
template <typename Probe>
void ProbeKeys(const Slice& bytes, Probe&& probe) {
  probe(Slice());
  probe(Slice("a"));
  probe(Slice(std::string(300, 'x')));
  for (size_t i = 0; i + 1 < bytes.size() && i < 2048; i += 3) {
    probe(Slice(bytes.data() + i, std::min<size_t>(bytes.size() - i, 1 + bytes[i] % 24)));
  }
}

void CheckStatus(const Status& s) {
  if (!s.ok() && !s.IsCorruption()) abort();
}

void CheckBlock(const Slice& bytes) {
  std::unique_ptr<learnkv::Filter> f;
  const Status s = learnkv::Filter::DecodeFrom(bytes, &f);
  CheckStatus(s);
  if (!s.ok()) {
    if (f != nullptr) abort();
    return;
  }
  f->MemoryUsage();
  f->Describe();
  ProbeKeys(bytes, [&](const Slice& k) { f->KeyMayMatch(k); });
}

void CheckPayload(uint8_t which, const Slice& payload) {
  Slice in = payload;
  switch (which % 5) {
    case 0: {
      learnkv::BloomFilter f;
      const Status s = learnkv::BloomFilter::DecodeFrom(&in, &f);
      CheckStatus(s);
      if (s.ok()) ProbeKeys(payload, [&](const Slice& k) { f.MayContain(learnkv::Hash64(k)); });
      break;
    }
    case 1: {
      learnkv::FuseFilter f;
      const Status s = learnkv::FuseFilter::DecodeFrom(&in, &f);
      CheckStatus(s);
      if (s.ok()) ProbeKeys(payload, [&](const Slice& k) { f.MayContain(learnkv::Hash64(k)); });
      break;
    }
    case 2: {
      learnkv::FractionalFuseFilter f;
      const Status s = learnkv::FractionalFuseFilter::DecodeFrom(&in, &f);
      CheckStatus(s);
      if (s.ok()) ProbeKeys(payload, [&](const Slice& k) { f.MayContain(learnkv::Hash64(k)); });
      break;
    }
    case 3: {
      learnkv::LearnedFilter f;
      const Status s = learnkv::LearnedFilter::DecodeFrom(&in, &f);
      CheckStatus(s);
      if (s.ok()) {
        f.Describe();
        ProbeKeys(payload, [&](const Slice& k) { f.MayContain(k, learnkv::Hash64(k)); });
      }
      break;
    }
    default: {
      std::unique_ptr<learnkv::FilterClassifier> c;
      const Status s = learnkv::FilterClassifier::DecodeFrom(&in, &c);
      CheckStatus(s);
      if (s.ok()) {
        std::string again;
        c->EncodeTo(&again);
        if (again.size() != c->EncodedBytes()) abort();
        c->Describe();
        ProbeKeys(payload, [&](const Slice& k) { c->Score(k); });
      }
      break;
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const Slice raw(reinterpret_cast<const char*>(data), size);
  CheckBlock(raw);
  if (size >= 4) {
    std::string fixed = raw.ToString();
    const uint32_t crc = learnkv::Checksum32(fixed.data(), size - 4);
    learnkv::EncodeFixed32(fixed.data() + size - 4, learnkv::MaskChecksum(crc));
    CheckBlock(fixed);
  }
  if (size >= 1) CheckPayload(data[0], Slice(raw.data() + 1, size - 1));
  return 0;
}
