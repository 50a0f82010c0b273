#include "tools/bench/key_space.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <vector>

#include "util/coding.h"
#include "util/datasets.h"

namespace learnkv::bench {

namespace {

constexpr char kIntegerPad = '0';
constexpr char kMissingPad = '1';

// Absent keys kept for readmissing on a data set (chosen from at random).
constexpr uint64_t kMaxMissing = 1 << 20;

// SplitMix64's finalizer: spreads zipfian ranks over the key space.
uint64_t Mix64(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

// Zero-pads or truncates k to n bytes, into out. Keeps the (non-strict) order of sorted keys:
// two keys that differ within the first n bytes still differ there, and a key that is a
// prefix of another stays <= it because the padding is the smallest byte.
void FitKey(const std::string& k, size_t n, char* out) {
  const size_t m = std::min(k.size(), n);
  memcpy(out, k.data(), m);
  memset(out + m, 0, n - m);
}

// The smallest n-byte string greater than s; false if s is all 0xff.
bool ByteSuccessor(char* s, size_t n) {
  for (size_t i = n; i-- > 0;) {
    if (static_cast<unsigned char>(s[i]) != 0xff) {
      s[i] = static_cast<char>(static_cast<unsigned char>(s[i]) + 1);
      return true;
    }
    s[i] = 0;
  }
  return false;
}

std::string FormatDouble(double v) {
  char buf[32];
  snprintf(buf, sizeof(buf), "%g", v);
  return buf;
}

}  // namespace

Status KeySpace::Create(const BenchConfig& config, std::unique_ptr<KeySpace>* space) {
  std::unique_ptr<KeySpace> ks(new KeySpace);
  ks->num_ = config.num;
  ks->key_size_ = config.key_size;
  if (config.key_dist == "sequential") {
    ks->access_ = Access::kSequential;
  } else if (config.key_dist == "zipfian") {
    ks->access_ = Access::kZipfian;
  } else if (config.key_dist != "uniform") {
    Status s = ks->BuildDataset(config);
    if (!s.ok()) return s;
  }
  if (ks->access_ == Access::kZipfian && ks->num_ >= 2) {
    const double theta = config.zipf_theta;
    double zeta_n = 0;
    for (uint64_t i = ks->num_; i >= 1; --i)
      zeta_n += 1.0 / std::pow(static_cast<double>(i), theta);
    const double zeta_2 = 1.0 + 1.0 / std::pow(2.0, theta);
    ks->theta_ = theta;
    ks->zeta_n_ = zeta_n;
    ks->alpha_ = 1.0 / (1.0 - theta);
    ks->eta_ = (1.0 - std::pow(2.0 / static_cast<double>(ks->num_), 1.0 - theta)) /
               (1.0 - zeta_2 / zeta_n);
  }
  *space = std::move(ks);
  return Status::OK();
}

Status KeySpace::BuildDataset(const BenchConfig& config) {
  Dataset d;
  if (!ParseDataset(config.key_dist, &d)) return Status::InvalidArgument("unknown data set");
  dataset_ = config.key_dist;
  std::vector<std::string> sorted = GenerateSortedKeys(d, num_, config.seed);
  if (sorted.size() != num_) return Status::InvalidArgument("data set generated too few keys");

  const size_t n = key_size_;
  keys_.resize(num_ * n);
  for (uint64_t i = 0; i < num_; ++i) {
    char* k = keys_.data() + i * n;
    FitKey(sorted[i], n, k);
    if (i > 0 && memcmp(k, k - n, n) <= 0) {
      memcpy(k, k - n, n);
      if (!ByteSuccessor(k, n)) return Status::InvalidArgument("--key_size too small for data set");
      ++adjusted_;
    }
  }

  // A few ties are harmless; many mean the data set's keys lost their shape.
  if (adjusted_ > num_ / 100) {
    size_t longest = 0;
    for (const std::string& k : sorted) longest = std::max(longest, k.size());
    return Status::InvalidArgument(
        "--key_dist=" + dataset_ + ": " + std::to_string(adjusted_) + " of " +
            std::to_string(num_) + " keys tie after truncation to --key_size=" + std::to_string(n),
        "use --key_size=" + std::to_string(longest) + " (its longest key)");
  }

  const uint64_t m = std::min<uint64_t>(num_, kMaxMissing);
  std::vector<std::string> absent = GenerateAbsentKeys(d, sorted, m, config.seed + 1);
  sorted.clear();
  sorted.shrink_to_fit();
  missing_.resize(absent.size() * n);
  std::string k(n, '\0');
  for (const std::string& a : absent) {
    FitKey(a, n, k.data());
    // Present after fitting? Binary search over the fixed-size keys.
    uint64_t lo = 0, hi = num_;
    while (lo < hi) {
      const uint64_t mid = lo + (hi - lo) / 2;
      if (memcmp(keys_.data() + mid * n, k.data(), n) < 0) {
        lo = mid + 1;
      } else {
        hi = mid;
      }
    }
    if (lo < num_ && memcmp(keys_.data() + lo * n, k.data(), n) == 0) continue;
    memcpy(missing_.data() + num_missing_ * n, k.data(), n);
    ++num_missing_;
  }
  missing_.resize(num_missing_ * n);
  if (num_missing_ == 0) {
    return Status::InvalidArgument("no absent keys of the data set survive --key_size");
  }
  return Status::OK();
}

Slice KeySpace::Key(uint64_t i, std::string* scratch) const {
  if (!dataset_.empty()) return Slice(keys_.data() + i * key_size_, key_size_);
  scratch->assign(key_size_, kIntegerPad);
  EncodeBigEndian64(scratch->data(), i);
  return Slice(*scratch);
}

Slice KeySpace::MissingKey(uint64_t r, std::string* scratch) const {
  if (!dataset_.empty()) {
    return Slice(missing_.data() + (r % num_missing_) * key_size_, key_size_);
  }
  Key(r % num_, scratch);
  if (key_size_ > 8) {
    (*scratch)[key_size_ - 1] = kMissingPad;
  } else {
    scratch->push_back(kMissingPad);
  }
  return Slice(*scratch);
}

std::string KeySpace::Describe() const {
  std::string out;
  if (dataset_.empty()) {
    out = "integers 0.." + std::to_string(num_ - 1) + " (8 bytes big-endian, '0'-padded), ";
    out += access_ == Access::kSequential ? "sequential"
           : access_ == Access::kZipfian  ? "zipfian (theta " + FormatDouble(theta_) + ")"
                                          : "uniform";
    out += " access";
  } else {
    out = dataset_ + " data set, uniform access";
    if (adjusted_ > 0) {
      out += " (" + std::to_string(adjusted_) + " keys adjusted after truncation)";
    }
  }
  return out;
}

KeyChooser::KeyChooser(const KeySpace& space, uint64_t seed, uint64_t start)
    : space_(space), rng_(seed), next_seq_(start % space.num()) {}

uint64_t KeyChooser::Next() {
  const uint64_t n = space_.num();
  switch (space_.access()) {
    case KeySpace::Access::kSequential: {
      const uint64_t i = next_seq_;
      next_seq_ = next_seq_ + 1 == n ? 0 : next_seq_ + 1;
      return i;
    }
    case KeySpace::Access::kZipfian: {
      if (n < 2) return 0;
      const double u = rng_.NextDouble();
      const double uz = u * space_.zeta_n();
      uint64_t rank;
      if (uz < 1.0) {
        rank = 0;
      } else if (uz < 1.0 + std::pow(0.5, space_.theta())) {
        rank = 1;
      } else {
        const double eta = space_.zipf_eta();
        rank = static_cast<uint64_t>(static_cast<double>(n) *
                                     std::pow(eta * u - eta + 1.0, space_.zipf_alpha()));
        if (rank >= n) rank = n - 1;
      }
      return Mix64(rank) % n;
    }
    case KeySpace::Access::kUniform:
      break;
  }
  return rng_.Uniform64(n);
}

ValueGenerator::ValueGenerator(double compression_ratio, uint64_t seed) {
  Random rng(seed);
  constexpr size_t kSize = 1 << 20;
  constexpr size_t kPiece = 100;
  const size_t fresh = std::max<size_t>(1, static_cast<size_t>(kPiece * compression_ratio));
  std::string piece;
  while (data_.size() < kSize) {
    piece.clear();
    for (size_t i = 0; i < fresh; ++i) piece.push_back(static_cast<char>(' ' + rng.Uniform(95)));
    while (piece.size() < kPiece) piece.append(piece, 0, std::min(fresh, kPiece - piece.size()));
    data_.append(piece);
  }
}

Slice ValueGenerator::Next(size_t len) {
  if (len > data_.size()) {
    while (data_.size() < len) data_.append(data_);
  }
  if (pos_ + len > data_.size()) pos_ = 0;
  Slice s(data_.data() + pos_, len);
  pos_ += len;
  return s;
}

}  // namespace learnkv::bench
