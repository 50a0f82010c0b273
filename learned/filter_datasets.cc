// Filter data sets (see filter_datasets.h). Randomness comes only from util/random.h, so a
// (data set, options) pair gives the same keys on every machine with the same system lists.
#include "learned/filter_datasets.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <set>
#include <unordered_set>

#include "util/coding.h"
#include "util/datasets.h"
#include "util/random.h"

namespace learnkv {

namespace {

constexpr char kUblockDir[] =
    "/usr/share/mozilla/extensions/{ec8030f7-c20a-464f-9b0e-13a3a9e97384}/"
    "uBlock0@raymondhill.net/assets/thirdparties/easylist/";

// Ad-tech vocabulary and syllables for the generated fallback, and TLD mixes.
const char* const kAdWords[] = {
    "ad",      "ads",       "adserver",   "adsrv",      "track",    "tracker", "tracking",
    "pixel",   "analytics", "metrics",    "stats",      "stat",     "beacon",  "click",
    "clicks",  "banner",    "promo",      "affiliate",  "cdn",      "tag",     "tags",
    "sync",    "rtb",       "bid",        "bidder",     "media",    "counter", "log",
    "collect", "event",     "cookie",     "measure",    "insight",  "target",  "retarget",
    "popup",   "offer",     "partner",    "network",    "serve",    "data",    "tm",
    "px",      "srv",       "adx",        "dsp",        "ssp",      "visitor", "telemetry",
    "trk",     "audience",  "conversion", "impression", "monetize", "push",    "notify"};
const char* const kSyllables[] = {"ka", "lo", "mi", "zu", "ter", "an", "ex", "ql", "vo", "ri",
                                  "sa", "ne", "bo", "tu", "gy",  "ix", "or", "el", "fa", "de",
                                  "po", "ra", "ki", "mo", "nu",  "ze", "li", "ta", "xo", "qu",
                                  "br", "st", "pl", "on", "in",  "ar", "ca", "ve", "ho", "ju"};
const char* const kAdTlds[] = {"com", "net", "io",  "xyz", "ru",  "cn",     "info",
                               "biz", "co",  "top", "pro", "org", "online", "site"};
const char* const kCommonTlds[] = {"com", "com",   "com",    "com", "com", "org", "org", "net",
                                   "de",  "co.uk", "fr",     "io",  "edu", "gov", "nl",  "it",
                                   "es",  "ca",    "com.au", "jp",  "ch",  "se",  "pl",  "info"};

template <size_t N>
const char* Pick(Random* rnd, const char* const (&list)[N]) {
  return list[rnd->Uniform(static_cast<uint32_t>(N))];
}

uint64_t Geometric(Random* rnd, double mean) {
  // Number of trials until success with p = 1 / mean, at least 1.
  const double p = 1.0 / std::max(1.0, mean);
  if (p >= 1) return 1;
  const double u = std::max(1e-300, 1.0 - rnd->NextDouble());
  return 1 + static_cast<uint64_t>(std::floor(std::log(u) / std::log1p(-p)));
}

bool ValidDomain(const std::string& d) {
  if (d.size() < 4 || d.size() > 253 || d.find('.') == std::string::npos) return false;
  if (d.front() == '.' || d.back() == '.' || d.front() == '-' || d.back() == '-') return false;
  return d.find("..") == std::string::npos;
}

// "||domain^..." rules of an adblock list.
void ReadAdblockDomains(const std::string& path, std::set<std::string>* out) {
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    if (line.size() < 4 || line[0] != '|' || line[1] != '|') continue;
    size_t i = 2;
    std::string d;
    for (; i < line.size(); ++i) {
      const char c = line[i];
      if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-') {
        d.push_back(c);
      } else {
        break;
      }
    }
    if (i < line.size() && line[i] == '^' && ValidDomain(d)) out->insert(d);
  }
}

std::vector<std::string> ReadWords() {
  std::vector<std::string> words;
  std::ifstream in(WordListPath());
  std::string w;
  while (std::getline(in, w)) {
    if (w.size() < 3 || w.size() > 12) continue;
    if (!std::all_of(w.begin(), w.end(), [](char c) { return c >= 'a' && c <= 'z'; })) continue;
    words.push_back(w);
  }
  return words;
}

std::string SyllableWord(Random* rnd, int min_syllables, int max_syllables) {
  std::string w;
  const int n = min_syllables + static_cast<int>(rnd->Uniform(max_syllables - min_syllables + 1));
  for (int i = 0; i < n; ++i) w += Pick(rnd, kSyllables);
  return w;
}

std::string GeneratedAdDomain(Random* rnd) {
  std::string d;
  if (rnd->OneIn(2)) d += std::string(Pick(rnd, kAdWords)) + (rnd->OneIn(3) ? "1." : ".");
  const int shape = static_cast<int>(rnd->Uniform(4));
  if (shape == 0) {
    d += std::string(Pick(rnd, kAdWords)) + SyllableWord(rnd, 1, 3);
  } else if (shape == 1) {
    d += SyllableWord(rnd, 1, 3) + "-" + Pick(rnd, kAdWords);
  } else if (shape == 2) {
    d += SyllableWord(rnd, 2, 4) + Pick(rnd, kAdWords);
  } else {
    for (int i = 0; i < 6 + static_cast<int>(rnd->Uniform(8)); ++i) {
      d.push_back("abcdefghijklmnopqrstuvwxyz0123456789"[rnd->Uniform(36)]);
    }
  }
  return d + "." + Pick(rnd, kAdTlds);
}

std::string BenignDomain(Random* rnd, const std::vector<std::string>& words) {
  auto word = [&]() {
    return words.empty() ? SyllableWord(rnd, 2, 4) : words[rnd->Uniform64(words.size())];
  };
  std::string d;
  const uint32_t r = rnd->Uniform(10);
  if (r < 2) d += "www.";
  if (r == 2) d += word() + ".";
  const uint32_t shape = rnd->Uniform(3);
  d += word();
  if (shape == 1) d += word();
  if (shape == 2) d += "-" + word();
  return d + "." + Pick(rnd, kCommonTlds);
}

std::string LookAlike(Random* rnd, const std::vector<std::string>& keys) {
  std::string d = keys[rnd->Uniform64(keys.size())];
  switch (rnd->Uniform(3)) {
    case 0: {  // another TLD
      const size_t dot = d.rfind('.');
      return d.substr(0, dot + 1) + Pick(rnd, kAdTlds);
    }
    case 1: {  // an extra subdomain taken from another stored domain
      const std::string& other = keys[rnd->Uniform64(keys.size())];
      return other.substr(0, other.find('.')) + "." + d;
    }
    default: {  // a one-letter typo before the TLD
      const size_t dot = d.rfind('.');
      if (dot == 0) return d + "x";
      const size_t i = rnd->Uniform64(dot);
      const char c = "abcdefghijklmnopqrstuvwxyz0123456789"[rnd->Uniform(36)];
      switch (rnd->Uniform(3)) {
        case 0:
          d[i] = c;
          break;
        case 1:
          d.insert(d.begin() + i, c);
          break;
        default:
          if (dot > 1) d.erase(i, 1);
          break;
      }
      return d;
    }
  }
}

// Draws negatives with draw() until `count` absent ones are collected.
template <typename Draw>
std::vector<std::string> DrawAbsent(size_t count, const std::unordered_set<std::string>& keys,
                                    Draw&& draw) {
  std::vector<std::string> out;
  out.reserve(count);
  for (size_t tries = 0; out.size() < count && tries < 100 * count + 1000; ++tries) {
    std::string k = draw();
    if (!keys.contains(k)) out.push_back(std::move(k));
  }
  return out;
}

FilterData MakeUrl(const FilterDatasetOptions& o) {
  FilterData data;
  Random rnd(o.seed);
  std::set<std::string> listed;
  if (o.system_lists) {
    for (const std::string& path : FilterListPaths()) ReadAdblockDomains(path, &listed);
  }
  std::vector<std::string> keys;
  if (!listed.empty()) {
    keys.assign(listed.begin(), listed.end());
    data.source = "EasyList + EasyPrivacy domains (webext-ublock-origin-firefox)";
    if (o.num_keys > 0 && o.num_keys < keys.size()) {
      // A deterministic spread subset.
      std::vector<std::string> subset;
      for (size_t i = 0; i < o.num_keys; ++i) subset.push_back(keys[i * keys.size() / o.num_keys]);
      keys.swap(subset);
    }
  } else {
    std::set<std::string> generated;
    const size_t want = o.num_keys == 0 ? 100000 : o.num_keys;
    for (size_t tries = 0; generated.size() < want && tries < 20 * want; ++tries) {
      std::string d = GeneratedAdDomain(&rnd);
      if (ValidDomain(d)) generated.insert(std::move(d));
    }
    keys.assign(generated.begin(), generated.end());
    data.source = "generated ad-like domains";
  }
  const std::vector<std::string> words = o.system_lists ? ReadWords() : std::vector<std::string>();
  data.source += words.empty() ? "; negatives from generated words" : "; negatives from wamerican";
  const std::unordered_set<std::string> key_set(keys.begin(), keys.end());
  auto draw_set = [&](uint64_t seed) {
    Random r(seed);
    return DrawAbsent(o.num_negatives, key_set, [&]() {
      return r.NextDouble() < o.separability ? BenignDomain(&r, words) : LookAlike(&r, keys);
    });
  };
  data.train_negatives = draw_set(o.seed * 31 + 1);
  data.test_negatives = draw_set(o.seed * 31 + 2);
  data.keys = std::move(keys);
  return data;
}

FilterData MakeIdGaps(const FilterDatasetOptions& o) {
  FilterData data;
  data.source = "generated sequential IDs with gaps";
  Random rnd(o.seed);
  const size_t n = o.num_keys == 0 ? 100000 : o.num_keys;
  std::vector<uint64_t> ids, holes;
  std::vector<std::pair<uint64_t, uint64_t>> gaps;  // [first, first + length)
  uint64_t gap_ids = 0;
  uint64_t id = 1000000000 + rnd.Uniform64(1000000);
  while (ids.size() < n) {
    const uint64_t run = Geometric(&rnd, o.id_run_mean);
    for (uint64_t i = 0; i < run && ids.size() < n; ++i, ++id) {
      if (rnd.NextDouble() < o.id_hole_rate && i > 0 && i + 1 < run) {
        holes.push_back(id);
      } else {
        ids.push_back(id);
      }
    }
    const uint64_t gap = Geometric(&rnd, o.id_gap_mean);
    if (ids.size() < n) {
      gaps.emplace_back(id, gap);
      gap_ids += gap;
      id += gap;
    }
  }
  for (uint64_t v : ids) data.keys.push_back(EncodeIntegerKey(v));
  // Gap IDs uniformly: a gap with probability proportional to its length, then a position.
  std::vector<uint64_t> gap_ends(gaps.size());
  uint64_t acc = 0;
  for (size_t i = 0; i < gaps.size(); ++i) gap_ends[i] = acc += gaps[i].second;
  auto draw_set = [&](uint64_t seed) {
    Random r(seed);
    std::vector<std::string> out;
    for (size_t i = 0; i < o.num_negatives; ++i) {
      const bool from_gap = holes.empty() || r.NextDouble() < o.separability;
      if (from_gap && gap_ids > 0) {
        const uint64_t x = r.Uniform64(gap_ids);
        const size_t g = std::upper_bound(gap_ends.begin(), gap_ends.end(), x) - gap_ends.begin();
        const uint64_t start = g == 0 ? 0 : gap_ends[g - 1];
        out.push_back(EncodeIntegerKey(gaps[g].first + (x - start)));
      } else if (!holes.empty()) {
        out.push_back(EncodeIntegerKey(holes[r.Uniform64(holes.size())]));
      }
    }
    return out;
  };
  data.train_negatives = draw_set(o.seed * 31 + 1);
  data.test_negatives = draw_set(o.seed * 31 + 2);
  return data;
}

FilterData MakeYcsb(const FilterDatasetOptions& o) {
  FilterData data;
  data.source = "generated YCSB user keys";
  const size_t n = o.num_keys == 0 ? 100000 : o.num_keys;
  data.keys = GenerateSortedKeys(Dataset::kYcsb, n, o.seed);
  data.train_negatives = GenerateAbsentKeys(Dataset::kYcsb, data.keys, o.num_negatives, o.seed + 1);
  data.test_negatives = GenerateAbsentKeys(Dataset::kYcsb, data.keys, o.num_negatives, o.seed + 2);
  return data;
}

}  // namespace

const char* FilterDatasetName(FilterDataset d) {
  switch (d) {
    case FilterDataset::kUrl:
      return "url";
    case FilterDataset::kIdGaps:
      return "id_gaps";
    case FilterDataset::kYcsb:
      return "ycsb";
  }
  return "unknown";
}

bool ParseFilterDataset(const std::string& name, FilterDataset* d) {
  for (FilterDataset x : {FilterDataset::kUrl, FilterDataset::kIdGaps, FilterDataset::kYcsb}) {
    if (name == FilterDatasetName(x)) {
      *d = x;
      return true;
    }
  }
  return false;
}

const std::vector<std::string>& FilterListPaths() {
  static const std::vector<std::string> paths = {std::string(kUblockDir) + "easylist.txt",
                                                 std::string(kUblockDir) + "easyprivacy.txt"};
  return paths;
}

const char* WordListPath() { return "/usr/share/dict/american-english"; }

FilterData MakeFilterData(FilterDataset d, const FilterDatasetOptions& options) {
  switch (d) {
    case FilterDataset::kUrl:
      return MakeUrl(options);
    case FilterDataset::kIdGaps:
      return MakeIdGaps(options);
    case FilterDataset::kYcsb:
      return MakeYcsb(options);
  }
  return FilterData();
}

}  // namespace learnkv
