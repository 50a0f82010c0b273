// Key sets for evaluating membership filters: the keys of a table, and two independent draws
// of "likely asked for but absent" keys — one playing the read path's sample of missed lookups
// (what the learned filter trains on), one for measuring. Nothing is downloaded.
//
//  * kUrl: ad and tracker domains as the stored keys — the "||domain^" rules of EasyList and
//    EasyPrivacy as Debian's webext-ublock-origin-firefox package ships them, or, when it is
//    not installed, a deterministic generator of ad-tech-looking domains. The negatives mix two
//    populations: with probability `separability`, ordinary domains built from the words of
//    Debian's wamerican list (or generated syllables) and common TLDs; otherwise look-alikes of
//    stored domains (another TLD, an extra subdomain, a one-letter typo), which no classifier
//    can tell from the keys.
//  * kIdGaps: sequential 64-bit IDs (8-byte big-endian keys) in runs separated by gaps, with
//    a few deleted IDs ("holes") inside runs. Negatives are IDs in the gaps with probability
//    `separability`, else holes.
//  * kYcsb: YCSB-style "user" + 19-digit hashed numbers (util/datasets.h), negatives of the
//    same shape: nothing for a model to learn, so the classic filter must win.
//
// Thread safety: pure functions (they read the system lists when asked to).
#ifndef LEARNKV_LEARNED_FILTER_DATASETS_H_
#define LEARNKV_LEARNED_FILTER_DATASETS_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace learnkv {

enum class FilterDataset {
  kUrl,
  kIdGaps,
  kYcsb,
};
const char* FilterDatasetName(FilterDataset d);  // "url", "id_gaps", "ycsb"
bool ParseFilterDataset(const std::string& name, FilterDataset* d);

struct FilterDatasetOptions {
  // Stored keys. kUrl from the system lists: at most what they hold (0: all of them).
  size_t num_keys = 100000;
  // Keys in each of the two negative sets.
  size_t num_negatives = 50000;
  // Share of negatives from the population a model can tell apart from the keys, in [0, 1].
  double separability = 0.9;
  uint64_t seed = 42;
  // kUrl: read Debian's EasyList/EasyPrivacy and word list when installed; false always
  // generates (what a machine without them gets).
  bool system_lists = true;
  // kIdGaps: mean run and gap lengths (geometric) and the share of IDs deleted inside runs.
  double id_run_mean = 64;
  double id_gap_mean = 64;
  double id_hole_rate = 0.01;
};

struct FilterData {
  std::vector<std::string> keys;             // sorted bytewise, distinct
  std::vector<std::string> train_negatives;  // absent from keys, possibly repeated
  std::vector<std::string> test_negatives;   // an independent draw, same distribution
  std::string source;                        // where the keys came from, for reports
};

FilterData MakeFilterData(FilterDataset d, const FilterDatasetOptions& options);

// Paths of the Debian files kUrl reads, in the order tried (for docs and tests).
const std::vector<std::string>& FilterListPaths();
const char* WordListPath();

}  // namespace learnkv

#endif  // LEARNKV_LEARNED_FILTER_DATASETS_H_
