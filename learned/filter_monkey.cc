// Monkey's allocation of false-positive rates across levels (see filter_monkey.h).
//
// Lagrangian: d/dp_i [w_i p_i + lambda c n_i log2(1 / p_i)] = 0 gives p_i = lambda' n_i / w_i,
// clamped to [min_fpr, 1]. The total cost falls as lambda' grows, so lambda' is found by
// bisection (on its logarithm) to spend the whole budget.
#include "learned/filter_monkey.h"

#include <algorithm>
#include <cmath>

namespace learnkv {

namespace {

std::vector<double> RatesFor(const std::vector<LevelFilterLoad>& levels, double log_lambda,
                             double min_fpr) {
  std::vector<double> p(levels.size(), 1.0);
  for (size_t i = 0; i < levels.size(); ++i) {
    if (levels[i].probes <= 0 || levels[i].num_keys == 0) continue;
    const double log_p =
        log_lambda + std::log(static_cast<double>(levels[i].num_keys)) - std::log(levels[i].probes);
    p[i] = std::clamp(std::exp(std::min(0.0, log_p)), min_fpr, 1.0);
  }
  return p;
}

}  // namespace

double FilterBits(const std::vector<LevelFilterLoad>& levels, const std::vector<double>& fprs,
                  double bits_per_halving) {
  double bits = 0;
  for (size_t i = 0; i < levels.size(); ++i) {
    bits += bits_per_halving * static_cast<double>(levels[i].num_keys) * -std::log2(fprs[i]);
  }
  return bits;
}

double ExpectedFalsePositives(const std::vector<LevelFilterLoad>& levels,
                              const std::vector<double>& fprs) {
  double sum = 0;
  for (size_t i = 0; i < levels.size(); ++i) sum += levels[i].probes * fprs[i];
  return sum;
}

std::vector<double> AllocateLevelFprs(const std::vector<LevelFilterLoad>& levels, double total_bits,
                                      double bits_per_halving, double min_fpr) {
  min_fpr = std::clamp(min_fpr, 1e-12, 1.0);
  // log lambda' spans every useful value between "every rate min_fpr" and "every rate 1".
  double lo = std::log(min_fpr) - 64, hi = 64;
  if (FilterBits(levels, RatesFor(levels, lo, min_fpr), bits_per_halving) <= total_bits) {
    return RatesFor(levels, lo, min_fpr);
  }
  for (int i = 0; i < 200 && hi - lo > 1e-9; ++i) {
    const double mid = (lo + hi) / 2;
    if (FilterBits(levels, RatesFor(levels, mid, min_fpr), bits_per_halving) > total_bits) {
      lo = mid;
    } else {
      hi = mid;
    }
  }
  return RatesFor(levels, hi, min_fpr);
}

}  // namespace learnkv
