// Filter block encoding, the build-time choice between filters, and decoding (see
// filter_policy.h).
//
// Filter block ("learnkv.filter" meta block of a table):
//
//   u8 version (1) | u8 kind (FilterKind: 1 bloom, 2 fuse, 3 learned) | varint64 num_keys
//   | payload: the kind's encoding (filter_bloom.cc, filter_fuse.cc, filter_learned.h)
//   | fixed32 MaskChecksum(XXH3-low32 of every byte before it)
//
// The payload must be consumed exactly. The block's own checksum is verified on every decode,
// so a damaged filter is Corruption even when a table is read without checksum verification:
// a filter must never turn a present key into "absent".
#include "learned/filter_policy.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>

#include "learned/filter_hash.h"
#include "util/checksum.h"
#include "util/coding.h"

namespace learnkv {

namespace {

constexpr uint8_t kFilterBlockVersion = 1;
constexpr size_t kChecksumBytes = 4;

class VectorNegativeSource final : public NegativeSampleSource {
 public:
  explicit VectorNegativeSource(std::vector<std::string> keys) : keys_(std::move(keys)) {
    std::sort(keys_.begin(), keys_.end());
  }

  void Sample(const Slice& smallest, const Slice& largest, size_t max_keys,
              std::vector<std::string>* out) const override {
    const auto lo =
        std::lower_bound(keys_.begin(), keys_.end(), smallest,
                         [](const std::string& k, const Slice& s) { return Slice(k) < s; });
    const auto hi =
        std::upper_bound(keys_.begin(), keys_.end(), largest,
                         [](const Slice& s, const std::string& k) { return s < Slice(k); });
    const size_t count = hi > lo ? static_cast<size_t>(hi - lo) : 0;
    const size_t take = std::min(count, max_keys);
    for (size_t i = 0; i < take; ++i) out->push_back(*(lo + i * count / take));
  }

 private:
  std::vector<std::string> keys_;
};

uint64_t MicrosSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() -
                                                               start)
      .count();
}

std::string Format(const char* fmt, double a, double b) {
  char buf[200];
  snprintf(buf, sizeof(buf), fmt, a, b);
  return buf;
}

}  // namespace

const char* FilterTypeName(FilterType type) {
  switch (type) {
    case FilterType::kNone:
      return "none";
    case FilterType::kBloom:
      return "bloom";
    case FilterType::kFuse:
      return "fuse";
    case FilterType::kAuto:
      return "auto";
    case FilterType::kLearned:
      return "learned";
  }
  return "unknown";
}

const char* FilterKindName(FilterKind kind) {
  switch (kind) {
    case FilterKind::kBloom:
      return "bloom";
    case FilterKind::kFuse:
      return "fuse";
    case FilterKind::kLearned:
      return "learned";
  }
  return "unknown";
}

std::shared_ptr<const NegativeSampleSource> NewVectorNegativeSource(std::vector<std::string> keys) {
  return std::make_shared<VectorNegativeSource>(std::move(keys));
}

void EncodeFilterBlock(FilterKind kind, uint64_t num_keys, const std::string& payload,
                       std::string* block) {
  const size_t start = block->size();
  block->push_back(static_cast<char>(kFilterBlockVersion));
  block->push_back(static_cast<char>(kind));
  PutVarint64(block, num_keys);
  block->append(payload);
  PutFixed32(block, MaskChecksum(Checksum32(block->data() + start, block->size() - start)));
}

// ---- Building ----

FilterBuilder::FilterBuilder(const FilterOptions& options)
    : options_(options),
      keep_keys_((options.type == FilterType::kAuto || options.type == FilterType::kLearned) &&
                 options.negatives != nullptr) {}

void FilterBuilder::AddKey(const Slice& user_key) {
  if (options_.type == FilterType::kNone) return;
  if (!hashes_.empty() && user_key == Slice(last_key_)) return;
  last_key_.assign(user_key.data(), user_key.size());
  hashes_.push_back(FilterKeyHash(user_key));
  if (keep_keys_) {
    keys_.Add(user_key);
    if (keys_.bytes() > UINT32_MAX / 2) {
      // Too many key bytes to keep for training: the classic filter will do.
      keys_.Clear();
      keep_keys_ = false;
    }
  }
}

namespace {

// The hashes of keys that are also among the negatives, sorted: a table of the negatives'
// hashes (open addressing; the hashes are uniform already) probed with every key's.
std::vector<uint64_t> HashesOfKeysAmongNegatives(const std::vector<uint64_t>& neg_hashes,
                                                 const std::vector<uint64_t>& key_hashes) {
  int log2_slots = 4;
  while ((size_t{1} << log2_slots) < 2 * neg_hashes.size()) ++log2_slots;
  const uint64_t mask = (uint64_t{1} << log2_slots) - 1;
  // 0 marks an empty slot; a hash of 0 is remembered on the side.
  std::vector<uint64_t> table(mask + 1, 0);
  bool has_zero = false;
  for (uint64_t h : neg_hashes) {
    if (h == 0) {
      has_zero = true;
      continue;
    }
    uint64_t slot = h >> (64 - log2_slots);
    while (table[slot] != 0 && table[slot] != h) slot = (slot + 1) & mask;
    table[slot] = h;
  }
  std::vector<uint64_t> found;
  for (uint64_t h : key_hashes) {
    if (h == 0) {
      if (has_zero) found.push_back(h);
      continue;
    }
    for (uint64_t slot = h >> (64 - log2_slots); table[slot] != 0; slot = (slot + 1) & mask) {
      if (table[slot] == h) {
        found.push_back(h);
        break;
      }
    }
  }
  std::sort(found.begin(), found.end());
  return found;
}

}  // namespace

void FilterBuilder::Finish(std::string* block, FilterReport* report) {
  const auto start = std::chrono::steady_clock::now();
  *report = FilterReport();
  if (options_.type == FilterType::kNone) return;
  const double target = std::clamp(options_.target_fpr, 1e-6, 0.999);
  const size_t n = hashes_.size();
  report->num_keys = n;
  report->target_fpr = target;

  // The classic filter: the Bloom filter or the fuse filter, whichever is smaller at the
  // target (the fuse filter at the width, from the exact one up to the next whole bit, that
  // takes the fewest bytes: splitting into two widths costs small sets more than it saves).
  // Only sized here; built at the end if it is the one chosen.
  int fuse_eighths = FractionalFuseFilter::EighthsFor(target);
  size_t fuse_bytes = FractionalFuseFilter::EncodedBytes(n, fuse_eighths);
  for (int e = fuse_eighths + 1; e % 8 != 1 && e <= FractionalFuseFilter::kMaxEighths; ++e) {
    const size_t bytes = FractionalFuseFilter::EncodedBytes(n, e);
    if (bytes < fuse_bytes) {
      fuse_bytes = bytes;
      fuse_eighths = e;
    }
  }
  const double bloom_bpk = BloomFilter::BitsPerKeyFor(target);
  const size_t bloom_bytes = BloomFilter::EncodedBytes(n, bloom_bpk);
  const FilterKind classic = options_.type == FilterType::kBloom  ? FilterKind::kBloom
                             : options_.type == FilterType::kFuse ? FilterKind::kFuse
                             : bloom_bytes < fuse_bytes           ? FilterKind::kBloom
                                                                  : FilterKind::kFuse;
  if (classic == FilterKind::kBloom) {
    report->classic_bytes = bloom_bytes;
  } else {
    // Exact, from how the keys split between the two widths.
    uint64_t split_counts[8] = {};
    for (uint64_t h : hashes_) split_counts[FractionalFuseFilter::SplitValue(h)]++;
    report->classic_bytes = FractionalFuseFilter::EncodedBytes(split_counts, fuse_eighths);
  }

  // Negatives in the table's key range, minus the table's own keys, split at random by sample:
  // a key asked for again and again appears in every part as it will in the workload (split
  // by key, the parts that judge the classifier would never hold the keys it learned from, and
  // would underrate how often those come back).
  std::vector<std::string> negs;
  if (keep_keys_ && n > 0) {
    options_.negatives->Sample(keys_.first(), keys_.last(), options_.max_negatives, &negs);
  }
  NegativeSplit split;
  if (!negs.empty()) {
    std::vector<uint64_t> neg_hashes(negs.size());
    for (size_t i = 0; i < negs.size(); ++i) neg_hashes[i] = FilterKeyHash(negs[i]);
    const std::vector<uint64_t> own = HashesOfKeysAmongNegatives(neg_hashes, hashes_);
    const double holdout = std::clamp(options_.holdout_fraction, 0.05, 0.9);
    std::vector<Slice> heldout;
    for (size_t i = 0; i < negs.size(); ++i) {
      const uint64_t h = neg_hashes[i];
      if (std::binary_search(own.begin(), own.end(), h)) continue;
      const uint64_t r = Remix64(h + (i + 1) * 0x9e3779b97f4a7c15ull);
      const double u = static_cast<double>(r >> 11) * 0x1.0p-53;
      if (u < holdout) {
        heldout.emplace_back(negs[i]);
      } else if (u < holdout + (1 - holdout) / 2) {
        split.fit.emplace_back(negs[i]);
      } else {
        split.calibration.emplace_back(negs[i]);
      }
    }
    split.heldout.Set(std::move(heldout));
  }
  const size_t num_negs = split.fit.size() + split.calibration.size() + split.heldout.total;
  report->negatives = num_negs;

  // The learned filter.
  const double limit = (1 - std::clamp(options_.min_learned_saving, 0.0, 1.0)) *
                       static_cast<double>(report->classic_bytes);
  LearnedSearchResult learned;
  if (options_.type != FilterType::kAuto && options_.type != FilterType::kLearned) {
    learned.why_not = std::string("filter type is ") + FilterTypeName(options_.type);
  } else if (options_.negatives == nullptr) {
    learned.why_not = "no negatives to train on";
  } else if (!keep_keys_) {
    learned.why_not = "too many key bytes to train on";
  } else if (num_negs < std::max<size_t>(options_.min_negatives, 3) || n == 0 ||
             split.fit.empty() || split.calibration.empty() || split.heldout.empty()) {
    learned.why_not = "only " + std::to_string(num_negs) +
                      " negatives in the key range (fewer than " +
                      std::to_string(options_.min_negatives) + ")";
  } else {
    learned = SearchLearnedFilter(options_, target, keys_, hashes_, split, report->classic_bytes,
                                  static_cast<size_t>(std::ceil(limit)));
  }

  FilterKind kind = classic;
  std::string payload;
  if (learned.found) {
    report->learned_bytes = learned.payload.size();
    report->model_bytes = learned.model_bytes;
    report->model_fpr = learned.model_fpr;
    report->model_fnr = learned.model_fnr;
    report->detail = learned.filter.Describe();
    if (options_.type == FilterType::kLearned ||
        static_cast<double>(learned.payload.size()) < limit) {
      kind = FilterKind::kLearned;
      payload = std::move(learned.payload);
      report->measured_fpr = learned.measured_fpr;
      report->heldout_negatives = split.heldout.total;
      report->reason = options_.type == FilterType::kLearned
                           ? "filter type is learned"
                           : Format("learned %.0f bytes < classic %.0f bytes",
                                    static_cast<double>(report->learned_bytes),
                                    static_cast<double>(report->classic_bytes));
    } else {
      report->reason = Format("learned %.0f bytes saves too little on classic %.0f bytes",
                              static_cast<double>(report->learned_bytes),
                              static_cast<double>(report->classic_bytes));
    }
  } else if (learned.planned_bytes > 0) {
    report->learned_bytes = learned.planned_bytes;
    report->reason = Format("learned %.0f bytes (planned) saves too little on classic %.0f bytes",
                            static_cast<double>(report->learned_bytes),
                            static_cast<double>(report->classic_bytes));
  } else {
    report->reason = learned.why_not;
  }

  if (kind != FilterKind::kLearned) {
    // The classic filter; measured on the held-out negatives when there are some.
    std::unique_ptr<Filter> classic_filter(new Filter());
    classic_filter->kind_ = classic;
    if (classic == FilterKind::kBloom) {
      classic_filter->bloom_ = BloomFilter::Build(hashes_.data(), n, bloom_bpk);
      classic_filter->bloom_.EncodeTo(&payload);
      report->measured_fpr = BloomFilter::ExpectedFpr(
          static_cast<double>(classic_filter->bloom_.num_blocks()) * BloomFilter::kBlockBits /
              static_cast<double>(std::max<size_t>(n, 1)),
          classic_filter->bloom_.num_probes());
    } else {
      classic_filter->fuse_ = FractionalFuseFilter::Build(hashes_, fuse_eighths);
      classic_filter->fuse_.EncodeTo(&payload);
      report->measured_fpr = FractionalFuseFilter::Fpr(fuse_eighths);
    }
    report->classic_bytes = payload.size();
    if (!split.heldout.empty()) {
      report->measured_fpr = HeldoutFpr(split.heldout, [&](size_t i) {
        return classic_filter->KeyMayMatch(split.heldout.keys[i]) ? 1.0 : 0.0;
      });
      report->heldout_negatives = split.heldout.total;
    }
  }
  report->kind = FilterKindName(kind);
  const size_t before = block->size();
  EncodeFilterBlock(kind, n, payload, block);
  report->bytes = block->size() - before;
  report->bits_per_key =
      n == 0 ? 0 : 8.0 * static_cast<double>(report->bytes) / static_cast<double>(n);
  report->build_micros = MicrosSince(start);
}

// ---- Reading ----

Status Filter::DecodeFrom(const Slice& block, std::unique_ptr<Filter>* result) {
  result->reset();
  if (block.size() < 2 + 1 + kChecksumBytes) return Status::Corruption("filter block: too short");
  const size_t body = block.size() - kChecksumBytes;
  if (UnmaskChecksum(DecodeFixed32(block.data() + body)) != Checksum32(block.data(), body)) {
    return Status::Corruption("filter block: checksum mismatch");
  }
  if (static_cast<uint8_t>(block[0]) != kFilterBlockVersion) {
    return Status::Corruption("filter block: unsupported version " +
                              std::to_string(static_cast<uint8_t>(block[0])));
  }
  std::unique_ptr<Filter> f(new Filter());
  const uint8_t kind = static_cast<uint8_t>(block[1]);
  Slice input(block.data() + 2, body - 2);
  if (!GetVarint64(&input, &f->num_keys_)) return Status::Corruption("filter block: bad key count");
  Status s;
  switch (kind) {
    case static_cast<uint8_t>(FilterKind::kBloom):
      s = BloomFilter::DecodeFrom(&input, &f->bloom_);
      break;
    case static_cast<uint8_t>(FilterKind::kFuse):
      s = FractionalFuseFilter::DecodeFrom(&input, &f->fuse_);
      break;
    case static_cast<uint8_t>(FilterKind::kLearned):
      s = LearnedFilter::DecodeFrom(&input, &f->learned_);
      break;
    default:
      return Status::Corruption("filter block: unknown kind " + std::to_string(kind));
  }
  if (!s.ok()) return s;
  if (!input.empty()) return Status::Corruption("filter block: trailing bytes");
  f->kind_ = static_cast<FilterKind>(kind);
  *result = std::move(f);
  return Status::OK();
}

bool Filter::KeyMayMatch(const Slice& user_key) const {
  const uint64_t h = FilterKeyHash(user_key);
  switch (kind_) {
    case FilterKind::kBloom:
      return bloom_.MayContain(h);
    case FilterKind::kFuse:
      return fuse_.MayContain(h);
    case FilterKind::kLearned:
      return learned_.MayContain(user_key, h);
  }
  return true;
}

size_t Filter::MemoryUsage() const {
  switch (kind_) {
    case FilterKind::kBloom:
      return sizeof(*this) + bloom_.MemoryUsage();
    case FilterKind::kFuse:
      return sizeof(*this) + fuse_.MemoryUsage();
    case FilterKind::kLearned:
      return sizeof(*this) + learned_.MemoryUsage();
  }
  return sizeof(*this);
}

std::string Filter::Describe() const {
  switch (kind_) {
    case FilterKind::kBloom:
      return "bloom " + std::to_string(bloom_.num_blocks()) + " blocks, " +
             std::to_string(bloom_.num_probes()) + " probes";
    case FilterKind::kFuse:
      return "fuse " + std::to_string(fuse_.eighths() / 8.0) + "-bit fingerprints";
    case FilterKind::kLearned:
      return "learned: " + learned_.Describe();
  }
  return "unknown";
}

}  // namespace learnkv
