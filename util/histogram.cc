#include "util/histogram.h"

#include <algorithm>
#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <limits>

namespace learnkv {

namespace {

// Upper bounds of the buckets: 1..9, then 10 12 14 16 18 20 25 30 35 40 45 50 60 70 80 90
// times each power of ten up to 1e12 (11.6 days in microseconds), then infinity.
const std::vector<double>& BucketLimits() {
  static const std::vector<double> kLimits = [] {
    std::vector<double> limits;
    for (int i = 1; i <= 9; ++i) limits.push_back(i);
    static constexpr int kMantissas[] = {10, 12, 14, 16, 18, 20, 25, 30,
                                         35, 40, 45, 50, 60, 70, 80, 90};
    for (double scale = 1; scale <= 1e11; scale *= 10) {
      for (int m : kMantissas) limits.push_back(m * scale);
    }
    limits.push_back(1e12);
    limits.push_back(std::numeric_limits<double>::infinity());
    return limits;
  }();
  return kLimits;
}

}  // namespace

Histogram::Histogram() { Clear(); }

void Histogram::Clear() {
  min_ = std::numeric_limits<double>::max();
  max_ = 0;
  count_ = 0;
  sum_ = 0;
  sum_squares_ = 0;
  buckets_.assign(BucketLimits().size(), 0);
}

void Histogram::Add(double value) {
  const std::vector<double>& limits = BucketLimits();
  const size_t b = std::upper_bound(limits.begin(), limits.end(), value) - limits.begin();
  ++buckets_[std::min(b, limits.size() - 1)];
  min_ = std::min(min_, value);
  max_ = std::max(max_, value);
  ++count_;
  sum_ += value;
  sum_squares_ += value * value;
}

void Histogram::Merge(const Histogram& other) {
  if (other.count_ == 0) return;
  min_ = std::min(min_, other.min_);
  max_ = std::max(max_, other.max_);
  count_ += other.count_;
  sum_ += other.sum_;
  sum_squares_ += other.sum_squares_;
  for (size_t i = 0; i < buckets_.size(); ++i) buckets_[i] += other.buckets_[i];
}

double Histogram::Average() const { return count_ == 0 ? 0 : sum_ / count_; }

double Histogram::StandardDeviation() const {
  if (count_ == 0) return 0;
  const double n = static_cast<double>(count_);
  const double variance = (sum_squares_ * n - sum_ * sum_) / (n * n);
  return std::sqrt(std::max(variance, 0.0));  // rounding can make a zero variance negative
}

double Histogram::Percentile(double p) const {
  if (count_ == 0) return 0;
  const std::vector<double>& limits = BucketLimits();
  const double threshold = count_ * (std::clamp(p, 0.0, 100.0) / 100.0);
  double cumulative = 0;
  for (size_t b = 0; b < buckets_.size(); ++b) {
    if (buckets_[b] == 0) continue;
    cumulative += buckets_[b];
    if (cumulative >= threshold) {
      // Interpolate within the bucket, whose true extent is narrowed by min and max (this
      // also keeps the infinite last bucket finite).
      const double left = std::max(b == 0 ? 0.0 : limits[b - 1], min_);
      const double right = std::min(limits[b], max_);
      const double before = cumulative - buckets_[b];
      const double pos = (threshold - before) / buckets_[b];
      return std::clamp(left + (right - left) * pos, min_, max_);
    }
  }
  return max_;
}

std::string Histogram::ToString() const {
  std::string r;
  char buf[256];
  snprintf(buf, sizeof(buf), "Count: %" PRIu64 "  Average: %.4f  StdDev: %.2f\n", count_, Average(),
           StandardDeviation());
  r.append(buf);
  snprintf(buf, sizeof(buf), "Min: %.4f  Median: %.4f  Max: %.4f\n", Min(), Median(), Max());
  r.append(buf);
  snprintf(buf, sizeof(buf),
           "Percentiles: P50: %.2f P75: %.2f P99: %.2f P99.9: %.2f P99.99: %.2f\n", Percentile(50),
           Percentile(75), Percentile(99), Percentile(99.9), Percentile(99.99));
  r.append(buf);
  r.append("------------------------------------------------------\n");
  if (count_ == 0) return r;
  const std::vector<double>& limits = BucketLimits();
  const double mult = 100.0 / count_;
  uint64_t cumulative = 0;
  for (size_t b = 0; b < buckets_.size(); ++b) {
    if (buckets_[b] == 0) continue;
    cumulative += buckets_[b];
    snprintf(buf, sizeof(buf), "[ %7.0f, %7.0f ) %7" PRIu64 " %7.3f%% %7.3f%% ",
             b == 0 ? 0.0 : limits[b - 1], limits[b], buckets_[b], mult * buckets_[b],
             mult * cumulative);
    r.append(buf);
    // 20 marks for 100%.
    r.append(static_cast<size_t>(20.0 * buckets_[b] / count_ + 0.5), '#');
    r.push_back('\n');
  }
  return r;
}

}  // namespace learnkv
