// Per-level false-positive rates for an LSM tree's filters under one memory budget, as Monkey
// does (Dayan, Athanassoulis and Idreos, "Monkey: Optimal Navigable Key-Value Store", SIGMOD
// 2017): a lookup of an absent key probes one filter per level (per table in L0), so the
// expected wasted reads are sum_i w_i p_i, and a level of n_i keys at rate p_i costs about
// c n_i log2(1 / p_i) bits (c: bits per key per halving of the rate — 1.44 for Bloom, about
// 1.13 for a binary fuse filter). Minimizing the first under a bound on the second gives
// p_i proportional to n_i / w_i: larger, deeper levels get higher rates, and the total cost
// is lower than with one rate everywhere.
//
// The engine calls AllocateLevelFprs when it plans a flush or compaction and passes the level's
// rate to the table build as FilterOptions::target_fpr. The learned filter is then sized for
// that rate like the classic one.
//
// Thread safety: pure functions.
#ifndef LEARNKV_LEARNED_FILTER_MONKEY_H_
#define LEARNKV_LEARNED_FILTER_MONKEY_H_

#include <cstdint>
#include <vector>

namespace learnkv {

struct LevelFilterLoad {
  uint64_t num_keys = 0;  // keys in the level's filters
  // How many filter probes per absent-key lookup reach the level: 1 for a level of
  // non-overlapping tables, the number of tables for L0; less when lookups rarely get there.
  double probes = 1.0;
};

// The rates p_i in [min_fpr, 1] minimizing sum_i probes_i p_i subject to
// sum_i bits_per_halving * num_keys_i * log2(1 / p_i) <= total_bits. A level with no probes
// gets 1 (no filter). With a budget too small for any filter every rate is 1; with a budget
// large enough, every rate is min_fpr.
std::vector<double> AllocateLevelFprs(const std::vector<LevelFilterLoad>& levels, double total_bits,
                                      double bits_per_halving = 1.13, double min_fpr = 1e-6);

// The bits those rates cost: sum_i bits_per_halving * num_keys_i * log2(1 / p_i).
double FilterBits(const std::vector<LevelFilterLoad>& levels, const std::vector<double>& fprs,
                  double bits_per_halving = 1.13);

// The expected number of filters that let an absent key through: sum_i probes_i p_i.
double ExpectedFalsePositives(const std::vector<LevelFilterLoad>& levels,
                              const std::vector<double>& fprs);

}  // namespace learnkv

#endif  // LEARNKV_LEARNED_FILTER_MONKEY_H_
