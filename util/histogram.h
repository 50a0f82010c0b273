// Histogram: a latency distribution with exponentially growing buckets (1, 2, ... 9, 10, 12,
// 14, ... 90, 100, 120, ...), so it is equally precise, about 10-20% per bucket, at every
// scale from microseconds to hours. Values are usually microseconds but any non-negative
// doubles work. Percentiles interpolate linearly inside a bucket.
//
// Thread safety: none. Benchmarks keep one per thread and Merge them at the end.
#ifndef LEARNKV_UTIL_HISTOGRAM_H_
#define LEARNKV_UTIL_HISTOGRAM_H_

#include <cstdint>
#include <string>
#include <vector>

namespace learnkv {

class Histogram {
 public:
  Histogram();

  void Clear();
  // REQUIRES: value >= 0 (negative values are counted in the first bucket).
  void Add(double value);
  void Merge(const Histogram& other);

  uint64_t Count() const { return count_; }
  // Min, Max, Average and StandardDeviation are 0 for an empty histogram.
  double Min() const { return count_ == 0 ? 0 : min_; }
  double Max() const { return count_ == 0 ? 0 : max_; }
  double Sum() const { return sum_; }
  double Average() const;
  double StandardDeviation() const;
  // The value below which p percent of the values fall, p in [0, 100]; 0 if empty.
  double Percentile(double p) const;
  double Median() const { return Percentile(50); }

  // The summary and one line per non-empty bucket, as db_bench prints it:
  //   Count: 1000  Average: 12.3456  StdDev: 4.56
  //   Min: 3.0000  Median: 11.2000  Max: 80.0000
  //   Percentiles: P50: 11.20 P75: 14.80 P99: 45.00 P99.9: 78.00 P99.99: 80.00
  //   ------------------------------------------------------
  //   [      10,      12 )      97   9.700%  30.400% ##
  std::string ToString() const;

 private:
  double min_;
  double max_;
  uint64_t count_;
  double sum_;
  double sum_squares_;
  std::vector<uint64_t> buckets_;  // buckets_[i] counts values in [limit(i-1), limit(i))
};

}  // namespace learnkv

#endif  // LEARNKV_UTIL_HISTOGRAM_H_
