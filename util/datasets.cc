// Key-set generators. Randomness comes only from std::mt19937_64, whose output sequence the
// C++ standard fixes; every distribution is computed here, because std:: distributions may
// give different values on different standard libraries and the sets must not.

#include "util/datasets.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <iterator>
#include <limits>
#include <random>
#include <string_view>

#include "util/coding.h"

namespace learnkv {

namespace {

using Rng = std::mt19937_64;

constexpr uint64_t kMaxU64 = std::numeric_limits<uint64_t>::max();
// Normal quantiles are clamped to ±kNormalLimit before scaling; a 53-bit uniform never maps
// beyond about ±8.3, so the clamp only fixes the scale.
constexpr double kNormalLimit = 8.5;
constexpr double kLognormalSigma = 2.0;
constexpr double kTwoTo64 = 18446744073709551616.0;

// Distinct seeds for the streams of one data set, so GenerateAbsentKeys(seed) never replays
// GenerateSortedKeys(seed).
constexpr uint64_t kAbsentStream = 0x5bd1e9955bd1e995ull;

// Uniform in the open interval (0, 1), from the top 53 bits.
double UniformOpen(Rng& rng) { return (static_cast<double>(rng() >> 11) + 0.5) * 0x1.0p-53; }

// Uniform in [0, n) without modulo bias worth caring about (n is far below 2^64).
uint64_t UniformBelow(Rng& rng, uint64_t n) {
  return static_cast<uint64_t>((static_cast<unsigned __int128>(rng()) * n) >> 64);
}

// Inverse of the standard normal CDF, P. J. Acklam's rational approximation (relative error
// below 1.2e-9), which is ample for shaping a key distribution.
double InverseNormalCdf(double p) {
  static constexpr double a[] = {-3.969683028665376e+01, 2.209460984245205e+02,
                                 -2.759285104469687e+02, 1.383577518672690e+02,
                                 -3.066479806614716e+01, 2.506628277459239e+00};
  static constexpr double b[] = {-5.447609879822406e+01, 1.615858368580409e+02,
                                 -1.556989798598866e+02, 6.680131188771972e+01,
                                 -1.328068155288572e+01};
  static constexpr double c[] = {-7.784894002430293e-03, -3.223964580411365e-01,
                                 -2.400758277161838e+00, -2.549732539343734e+00,
                                 4.374664141464968e+00,  2.938163982698783e+00};
  static constexpr double d[] = {7.784695709041462e-03, 3.224671290700398e-01,
                                 2.445134137142996e+00, 3.754408661907416e+00};
  constexpr double kLow = 0.02425;
  auto tail = [&](double q) {
    return (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
           ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
  };
  if (p < kLow) return tail(std::sqrt(-2 * std::log(p)));
  if (p > 1 - kLow) return -tail(std::sqrt(-2 * std::log(1 - p)));
  const double q = p - 0.5;
  const double r = q * q;
  return (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q /
         (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
}

// Maps f in [0, 1] onto [0, 2^64). A double carries 53 bits, so the bits below its precision
// are filled at random; otherwise large keys would all be multiples of 2^11 and collide.
uint64_t ScaleToU64(double f, Rng& rng) {
  const double x = std::clamp(f, 0.0, 1.0) * kTwoTo64;
  if (x >= kTwoTo64) return kMaxU64;
  uint64_t v = static_cast<uint64_t>(x);
  int exp = 0;
  std::frexp(x, &exp);
  if (exp > 53) v |= rng() & ((uint64_t{1} << (exp - 53)) - 1);
  return v;
}

// Sorting ten million heap-allocated strings with std::sort is dominated by memcmp cache
// misses. Instead, sort compact records holding the next 8 bytes as an integer, and only
// descend (8 bytes deeper) into runs that tie: a radix sort whose digits are 8 bytes wide.
struct StringRef {
  uint64_t head;  // bytes [depth, depth + 8) big-endian, zero-padded
  uint32_t rest;  // bytes left from depth, capped at 9 (= "more than 8, look deeper")
  uint32_t index;
};

void SortStringRefs(const std::vector<std::string>& v, StringRef* begin, StringRef* end,
                    size_t depth) {
  if (end - begin < 2) return;
  bool all_same = true;
  for (StringRef* r = begin; r != end; ++r) {
    const std::string& s = v[r->index];
    const size_t rest = s.size() > depth ? s.size() - depth : 0;
    char buf[8] = {};
    memcpy(buf, s.data() + std::min(depth, s.size()), std::min<size_t>(rest, 8));
    r->head = DecodeBigEndian64(buf);
    r->rest = static_cast<uint32_t>(std::min<size_t>(rest, 9));
    all_same = all_same && r->head == begin->head && r->rest == begin->rest;
  }
  // A shared prefix ("https://www.") needs no sorting pass, only a deeper look.
  if (all_same) {
    if (begin->rest == 9) SortStringRefs(v, begin, end, depth + 8);
    return;
  }
  // With equal heads, a string that ends within these 8 bytes is a prefix of the longer one
  // (padding is zero), so it sorts first: order by (head, rest).
  std::sort(begin, end, [](const StringRef& a, const StringRef& b) {
    return a.head != b.head ? a.head < b.head : a.rest < b.rest;
  });
  for (StringRef* run = begin; run != end;) {
    StringRef* run_end = run + 1;
    while (run_end != end && run_end->head == run->head && run_end->rest == run->rest) ++run_end;
    if (run->rest == 9 && run_end - run > 1) SortStringRefs(v, run, run_end, depth + 8);
    run = run_end;
  }
}

void SortTail(std::vector<uint64_t>* v, size_t from) { std::sort(v->begin() + from, v->end()); }

void SortTail(std::vector<std::string>* v, size_t from) {
  std::vector<StringRef> refs(v->size() - from);
  for (size_t i = 0; i < refs.size(); ++i) refs[i].index = static_cast<uint32_t>(from + i);
  SortStringRefs(*v, refs.data(), refs.data() + refs.size(), 0);
  std::vector<std::string> sorted;
  sorted.reserve(refs.size());
  for (const StringRef& r : refs) sorted.push_back(std::move((*v)[r.index]));
  std::move(sorted.begin(), sorted.end(), v->begin() + from);
}

// Sorts and deduplicates `*v`, then calls gen(rng) for as many extra values as are missing
// until there are n distinct ones. Only the shortfall is drawn each round, so the result is a
// sample of the generator's distribution conditioned on distinctness.
template <typename T, typename Gen>
void FillUniqueSorted(size_t n, Rng& rng, Gen&& gen, std::vector<T>* v) {
  v->reserve(n);
  size_t sorted = 0;
  while (true) {
    SortTail(v, sorted);
    std::inplace_merge(v->begin(), v->begin() + sorted, v->end());
    v->erase(std::unique(v->begin(), v->end()), v->end());
    if (v->size() >= n) break;
    sorted = v->size();
    for (size_t i = sorted; i < n; ++i) v->push_back(gen(rng));
  }
}

std::vector<uint64_t> UniformDense(size_t n, Rng& rng) {
  // Away from both ends so that absent keys exist on either side of the run.
  const uint64_t start = (uint64_t{1} << 32) + UniformBelow(rng, uint64_t{1} << 62);
  std::vector<uint64_t> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = start + i;
  return v;
}

// Clustered keys in the spirit of OpenStreetMap cell ids: a few thousand centres, themselves
// grouped into regions, each growing a run whose gaps vary from 1 (dense) to a few hundred,
// with rare long jumps that split a run into sub-runs. Cluster sizes are lognormal.
class OsmGenerator {
 public:
  OsmGenerator(size_t n, Rng& rng) {
    const size_t clusters = std::clamp<size_t>(n / 256, 1, 4096);
    const size_t regions = std::max<size_t>(1, static_cast<size_t>(std::sqrt(clusters)));
    std::vector<uint64_t> region_base(regions);
    for (auto& r : region_base) r = rng();
    double total = 0;
    for (size_t i = 0; i < clusters; ++i) {
      Cluster c;
      c.cursor = region_base[UniformBelow(rng, regions)] + UniformBelow(rng, uint64_t{1} << 48);
      c.max_gap = uint64_t{1} << UniformBelow(rng, 9);
      total += std::exp(1.5 * InverseNormalCdf(UniformOpen(rng)));
      cumulative_.push_back(total);
      clusters_.push_back(c);
    }
    for (double& w : cumulative_) w /= total;
  }

  uint64_t operator()(Rng& rng) {
    const double u = UniformOpen(rng);
    size_t i = std::upper_bound(cumulative_.begin(), cumulative_.end(), u) - cumulative_.begin();
    Cluster& c = clusters_[std::min(i, clusters_.size() - 1)];
    if (UniformBelow(rng, 1000) == 0) c.cursor += uint64_t{1} << (10 + UniformBelow(rng, 11));
    c.cursor += 1 + UniformBelow(rng, c.max_gap);
    return c.cursor;
  }

 private:
  struct Cluster {
    uint64_t cursor;
    uint64_t max_gap;
  };
  std::vector<Cluster> clusters_;
  std::vector<double> cumulative_;
};

std::vector<uint64_t> IntegerKeys(Dataset d, size_t n, Rng& rng) {
  if (d == Dataset::kUniformDense) return UniformDense(n, rng);
  std::vector<uint64_t> v;
  switch (d) {
    case Dataset::kUniformSparse:
      FillUniqueSorted(
          n, rng, [](Rng& r) { return r(); }, &v);
      break;
    case Dataset::kNormal:
      FillUniqueSorted(
          n, rng,
          [](Rng& r) {
            const double x = InverseNormalCdf(UniformOpen(r));
            return ScaleToU64((x + kNormalLimit) / (2 * kNormalLimit), r);
          },
          &v);
      break;
    case Dataset::kLognormal:
      // exp(sigma * x) / exp(sigma * limit), computed as one exp so it cannot overflow.
      FillUniqueSorted(
          n, rng,
          [](Rng& r) {
            const double x = std::min(InverseNormalCdf(UniformOpen(r)), kNormalLimit);
            return ScaleToU64(std::exp(kLognormalSigma * (x - kNormalLimit)), r);
          },
          &v);
      break;
    case Dataset::kOsmLike: {
      OsmGenerator gen(n, rng);
      FillUniqueSorted(n, rng, gen, &v);
      break;
    }
    default:
      break;
  }
  return v;
}

// ---- String key shapes ----

// 64-bit FNV-1a over the eight little-endian bytes of v, then made non-negative as a Java
// long, which is how YCSB turns a record number into its hashed key.
uint64_t YcsbHash(uint64_t v) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (int i = 0; i < 8; ++i) {
    h ^= v & 0xff;
    h *= 0x100000001b3ull;
    v >>= 8;
  }
  const int64_t s = static_cast<int64_t>(h);
  return s < 0 ? static_cast<uint64_t>(0) - h : h;
}

// prefix followed by v in decimal, zero-padded to width digits.
std::string PrefixedNumber(std::string_view prefix, uint64_t v, size_t width) {
  std::string s(prefix.size() + width, '0');
  memcpy(s.data(), prefix.data(), prefix.size());
  for (size_t i = s.size(); i > prefix.size() && v != 0; --i, v /= 10) {
    s[i - 1] = static_cast<char>('0' + v % 10);
  }
  return s;
}

class YcsbGenerator {
 public:
  explicit YcsbGenerator(Rng& rng) : next_(rng() >> 24) {}
  std::string operator()(Rng&) { return PrefixedNumber("user", YcsbHash(next_++), 19); }

 private:
  uint64_t next_;  // YCSB's record counter
};

// Host names are drawn from a pool with a skewed popularity, so that (as in real crawls) many
// keys share a host prefix and differ only in their paths.
class UrlGenerator {
 public:
  UrlGenerator(size_t n, Rng& rng) {
    const size_t hosts = std::clamp<size_t>(n / 40, 8, 1 << 20);
    hosts_.reserve(hosts);
    for (size_t i = 0; i < hosts; ++i) hosts_.push_back(Host(rng));
  }

  std::string operator()(Rng& rng) {
    const double u = UniformOpen(rng);
    std::string s;
    s.reserve(96);
    s = hosts_[static_cast<size_t>(u * u * u * hosts_.size())];
    // Bare host names are rare: a popular host has only one.
    const size_t segments = UniformBelow(rng, 50) == 0 ? 0 : 1 + UniformBelow(rng, 4);
    for (size_t i = 0; i < segments; ++i) {
      s.push_back('/');
      if (UniformBelow(rng, 4) == 0) {
        AppendNumber(UniformBelow(rng, 1000000), &s);
      } else {
        AppendWord(rng, 1 + UniformBelow(rng, 3), &s);
        if (UniformBelow(rng, 3) == 0) {
          s.push_back('-');
          AppendWord(rng, 1 + UniformBelow(rng, 2), &s);
        }
      }
    }
    if (segments > 0 && UniformBelow(rng, 3) == 0) {
      static const char* const kExt[] = {".html", ".php", ".htm", ".pdf", ".jpg", ".aspx"};
      s += kExt[UniformBelow(rng, std::size(kExt))];
    }
    if (UniformBelow(rng, 8) == 0) {
      s += "?id=";
      AppendNumber(UniformBelow(rng, 100000), &s);
    }
    return s;
  }

 private:
  static void AppendNumber(uint64_t v, std::string* s) {
    char buf[20];
    char* p = std::end(buf);
    do {
      *--p = static_cast<char>('0' + v % 10);
      v /= 10;
    } while (v != 0);
    s->append(p, std::end(buf) - p);
  }

  static void AppendWord(Rng& rng, size_t syllables, std::string* s) {
    static const char* const kSyllables[] = {
        "ka",  "lo",   "mi",   "ne",  "ro",  "sa",   "ti",   "vu",  "ber",  "con",
        "dor", "fen",  "gal",  "har", "in",  "jet",  "lan",  "mar", "net",  "or",
        "pel", "quin", "ran",  "sol", "tek", "un",   "ver",  "wes", "xo",   "yan",
        "zen", "al",   "bro",  "cla", "dex", "ex",   "for",  "gen", "hub",  "ion",
        "lab", "max",  "news", "on",  "pro", "shop", "tech", "web", "world"};
    for (size_t i = 0; i < syllables; ++i) {
      s->append(kSyllables[UniformBelow(rng, std::size(kSyllables))]);
    }
  }

  static std::string Host(Rng& rng) {
    static const char* const kTlds[] = {".com", ".com",   ".com", ".org", ".net",  ".de",  ".io",
                                        ".edu", ".co.uk", ".fr",  ".jp",  ".info", ".gov", ".ru"};
    std::string h = UniformBelow(rng, 5) == 0 ? "http://" : "https://";
    const uint64_t sub = UniformBelow(rng, 6);
    if (sub < 3) h += "www.";
    if (sub == 3) {
      AppendWord(rng, 1, &h);
      h.push_back('.');
    }
    AppendWord(rng, 2 + UniformBelow(rng, 3), &h);
    h += kTlds[UniformBelow(rng, std::size(kTlds))];
    return h;
  }

  std::vector<std::string> hosts_;
};

std::string RandomBinary(Rng& rng) {
  std::string s(1 + UniformBelow(rng, 32), '\0');
  for (size_t i = 0; i < s.size(); i += 8) {
    const uint64_t r = rng();
    memcpy(s.data() + i, &r, std::min<size_t>(8, s.size() - i));
  }
  return s;
}

// A fixed prefix rather than a seeded one: absent keys must share it, and GenerateAbsentKeys
// is given only the key set.
constexpr std::string_view kLongPrefix = "tenant=00042/region=eu-west/table=users/";
static_assert(kLongPrefix.size() == 40);

std::string LongPrefixKey(Rng& rng) { return PrefixedNumber(kLongPrefix, rng(), 20); }

// Calls fn with a generator for string data set d sized for n keys.
template <typename Fn>
void WithStringGenerator(Dataset d, size_t n, Rng& rng, Fn&& fn) {
  switch (d) {
    case Dataset::kYcsb:
      fn(YcsbGenerator(rng));
      break;
    case Dataset::kUrl:
      fn(UrlGenerator(n, rng));
      break;
    case Dataset::kRandomBinary:
      fn(RandomBinary);
      break;
    default:
      fn(LongPrefixKey);
      break;
  }
}

// Absent integer keys: mostly drawn strictly between two neighbouring stored keys (where
// a lookup must search hardest), the rest just below or above the stored range (all of them
// for uniform_dense, which has no gaps).
std::vector<std::string> AbsentIntegerKeys(const std::vector<std::string>& sorted_keys, size_t m,
                                           Rng& rng) {
  std::vector<uint64_t> keys(sorted_keys.size());
  for (size_t i = 0; i < keys.size(); ++i) keys[i] = DecodeBigEndian64(sorted_keys[i].data());
  auto absent = [&](uint64_t v) { return !std::binary_search(keys.begin(), keys.end(), v); };
  std::vector<std::string> out;
  out.reserve(m);
  while (out.size() < m) {
    uint64_t v = rng();  // stands in when no other choice applies (a key set that is one run)
    if (!keys.empty()) {
      const uint64_t lo = keys.front(), hi = keys.back();
      const uint64_t mode = UniformBelow(rng, 10);
      // Clustered sets have many adjacent pairs; a few tries find a pair with room between.
      size_t i = 0;
      uint64_t gap = 0;
      for (int tries = 0; mode < 8 && gap <= 1 && keys.size() > 1 && tries < 8; ++tries) {
        i = UniformBelow(rng, keys.size() - 1);
        gap = keys[i + 1] - keys[i];
      }
      if (gap > 1) {
        v = keys[i] + 1 + UniformBelow(rng, gap - 1);
      } else if (mode % 2 == 0 && lo > 0) {
        v = lo - 1 - UniformBelow(rng, std::min<uint64_t>(lo, 1 + keys.size()));
      } else if (hi < kMaxU64) {
        v = hi + 1 + UniformBelow(rng, std::min<uint64_t>(kMaxU64 - hi, 1 + keys.size()));
      }
    }
    if (absent(v)) out.push_back(EncodeIntegerKey(v));
  }
  return out;
}

}  // namespace

const std::vector<Dataset>& AllDatasets() {
  static const std::vector<Dataset> kAll = {
      Dataset::kUniformDense, Dataset::kUniformSparse, Dataset::kNormal,
      Dataset::kLognormal,    Dataset::kOsmLike,       Dataset::kYcsb,
      Dataset::kUrl,          Dataset::kRandomBinary,  Dataset::kLongPrefix};
  return kAll;
}

const char* DatasetName(Dataset d) {
  switch (d) {
    case Dataset::kUniformDense:
      return "uniform_dense";
    case Dataset::kUniformSparse:
      return "uniform_sparse";
    case Dataset::kNormal:
      return "normal";
    case Dataset::kLognormal:
      return "lognormal";
    case Dataset::kOsmLike:
      return "osm";
    case Dataset::kYcsb:
      return "ycsb";
    case Dataset::kUrl:
      return "url";
    case Dataset::kRandomBinary:
      return "random_binary";
    case Dataset::kLongPrefix:
      return "long_prefix";
  }
  return "unknown";
}

bool ParseDataset(const std::string& name, Dataset* d) {
  for (Dataset candidate : AllDatasets()) {
    if (name == DatasetName(candidate)) {
      *d = candidate;
      return true;
    }
  }
  return false;
}

bool IsIntegerDataset(Dataset d) {
  switch (d) {
    case Dataset::kUniformDense:
    case Dataset::kUniformSparse:
    case Dataset::kNormal:
    case Dataset::kLognormal:
    case Dataset::kOsmLike:
      return true;
    default:
      return false;
  }
}

std::string EncodeIntegerKey(uint64_t v) {
  std::string s(8, '\0');
  EncodeBigEndian64(s.data(), v);
  return s;
}

std::vector<std::string> GenerateSortedKeys(Dataset d, size_t n, uint64_t seed) {
  Rng rng(seed);
  if (IsIntegerDataset(d)) {
    const std::vector<uint64_t> ints = IntegerKeys(d, n, rng);
    std::vector<std::string> out;
    out.reserve(ints.size());
    for (uint64_t v : ints) out.push_back(EncodeIntegerKey(v));
    return out;
  }
  std::vector<std::string> out;
  WithStringGenerator(d, n, rng, [&](auto&& gen) { FillUniqueSorted(n, rng, gen, &out); });
  return out;
}

std::vector<std::string> GenerateAbsentKeys(Dataset d, const std::vector<std::string>& sorted_keys,
                                            size_t m, uint64_t seed) {
  Rng rng(seed ^ kAbsentStream);
  if (IsIntegerDataset(d)) return AbsentIntegerKeys(sorted_keys, m, rng);
  std::vector<std::string> out;
  out.reserve(m);
  WithStringGenerator(d, sorted_keys.size(), rng, [&](auto&& gen) {
    while (out.size() < m) {
      std::string k = gen(rng);
      if (!std::binary_search(sorted_keys.begin(), sorted_keys.end(), k)) {
        out.push_back(std::move(k));
      }
    }
  });
  return out;
}

}  // namespace learnkv
