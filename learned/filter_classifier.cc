// Filter classifiers: scoring, training and serialization (see filter_classifier.h).
//
// Encodings (after the u8 kind byte that FilterClassifier::EncodeTo writes):
//
//   ngram: u8 log2_slots (6..20) | u8 orders mask (bits 1..7) | u8 weight bits (8, 4)
//          | fixed32 bias (int32) | 2^log2_slots weights: int8 bytes, or int4 nibbles (two per
//          byte, low first; readers widen them to int8)
//   grid:  varint32 prefix length | prefix bytes (the KeyMapper) | fixed64 base
//          | u8 shift (0..63) | u8 class_bits (1, 2 or 4) | varint64 cells C (1..2^30)
//          | ceil(C class_bits / 8) bytes of cell classes, LSB first
//
// Score(key) is, for ngram, bias + the sum of the weights of the key's feature slots, a feature
// with n-gram value g of order o (or the length, o = 0) having slot
// ((g + o * 0x2545f4914f6cdd1d) * 0x9e3779b97f4a7c15) >> (64 - log2_slots) (mod 2^64); for
// grid, the class of the cell holding (Map(key) - base) >> shift, or 0 outside the cells.
#include "learned/filter_classifier.h"

#include <Eigen/Dense>
#include <algorithm>
#include <bit>
#include <cmath>
#include <limits>

#include "util/coding.h"
#include "util/random.h"

namespace learnkv {

const char* ClassifierKindName(ClassifierKind kind) {
  switch (kind) {
    case ClassifierKind::kNgram:
      return "ngram";
    case ClassifierKind::kGrid:
      return "grid";
  }
  return "unknown";
}

void FilterClassifier::EncodeTo(std::string* dst) const {
  dst->push_back(static_cast<char>(kind()));
  EncodeBody(dst);
}

Status FilterClassifier::DecodeFrom(Slice* input, std::unique_ptr<FilterClassifier>* result) {
  if (input->empty()) return Status::Corruption("filter classifier: truncated");
  const uint8_t kind = static_cast<uint8_t>((*input)[0]);
  input->remove_prefix(1);
  switch (kind) {
    case static_cast<uint8_t>(ClassifierKind::kNgram):
      return NgramClassifier::DecodeBody(input, result);
    case static_cast<uint8_t>(ClassifierKind::kGrid):
      return GridClassifier::DecodeBody(input, result);
  }
  return Status::Corruption("filter classifier: unknown kind " + std::to_string(kind));
}

// ---- NgramClassifier ----

NgramClassifier::NgramClassifier(int log2_slots, uint32_t orders, WeightBits bits)
    : log2_slots_(log2_slots),
      shift_(64 - log2_slots),
      orders_(orders),
      bits_(bits),
      weights_(size_t{1} << log2_slots, 0) {}

template <typename F>
void NgramClassifier::ForEachFeature(const Slice& key, F&& f) const {
  const size_t n = key.size();
  const uint8_t* p = reinterpret_cast<const uint8_t*>(key.data());
  f(Slot((uint64_t{1} << 40) + std::min<size_t>(n, 255), 0));
  // One pass per order over the framed key, the n-gram rolling through a register.
  for (uint32_t m = orders_; m != 0; m &= m - 1) {
    const int order = std::countr_zero(m);
    const uint64_t mask = (uint64_t{1} << (8 * order)) - 1;
    uint64_t gram = 0x01;
    int have = 1;
    auto feed = [&](const uint8_t* b, size_t len) {
      for (size_t i = 0; i < len; ++i) {
        gram = ((gram << 8) | b[i]) & mask;
        if (++have >= order) f(Slot(gram, order));
      }
    };
    if (n <= kMaxWholeKey) {
      feed(p, n);
    } else {
      feed(p, kHeadBytes);
      feed(p + n - kTailBytes, kTailBytes);
    }
    const uint8_t end = 0x02;
    feed(&end, 1);
  }
}

int32_t NgramClassifier::Score(const Slice& key) const {
  // 64-bit sum, clamped: a decoded bias may be any int32 (built ones stay within +-1e9, far
  // from the limits, so the clamp never changes a built filter's scores).
  int64_t s = bias_;
  const int8_t* w = weights_.data();
  ForEachFeature(key, [&](uint32_t slot) { s += w[slot]; });
  return static_cast<int32_t>(std::clamp<int64_t>(s, INT32_MIN, INT32_MAX));
}

size_t NgramClassifier::EncodedBytes() const {
  return 1 + 3 + 4 + weights_.size() * static_cast<int>(bits_) / 8;
}

std::string NgramClassifier::Describe() const {
  std::string orders;
  for (int o = 1; o <= 8; ++o) {
    if (orders_ & (1u << o)) orders += (orders.empty() ? "" : ",") + std::to_string(o);
  }
  return "ngram orders " + orders + ", " + std::to_string(size_t{1} << log2_slots_) + " int" +
         std::to_string(static_cast<int>(bits_)) + " slots";
}

void NgramClassifier::EncodeBody(std::string* dst) const {
  dst->push_back(static_cast<char>(log2_slots_));
  dst->push_back(static_cast<char>(orders_));
  dst->push_back(static_cast<char>(bits_));
  PutFixed32(dst, static_cast<uint32_t>(bias_));
  if (bits_ == WeightBits::k8) {
    dst->append(reinterpret_cast<const char*>(weights_.data()), weights_.size());
  } else {
    for (size_t j = 0; j < weights_.size(); j += 2) {
      dst->push_back(static_cast<char>((weights_[j] & 0xf) | ((weights_[j + 1] & 0xf) << 4)));
    }
  }
}

Status NgramClassifier::DecodeBody(Slice* input, std::unique_ptr<FilterClassifier>* result) {
  if (input->size() < 7) return Status::Corruption("ngram classifier: truncated header");
  const int log2_slots = static_cast<uint8_t>((*input)[0]);
  const uint32_t orders = static_cast<uint8_t>((*input)[1]);
  const uint8_t bits = static_cast<uint8_t>((*input)[2]);
  input->remove_prefix(3);
  uint32_t bias = 0;
  GetFixed32(input, &bias);
  if (log2_slots < 6 || log2_slots > 20 || orders == 0 || (orders & 1u) != 0 ||
      (bits != 8 && bits != 4)) {
    return Status::Corruption("ngram classifier: bad shape");
  }
  const size_t slots = size_t{1} << log2_slots;
  const size_t bytes = slots * bits / 8;
  if (input->size() < bytes) return Status::Corruption("ngram classifier: truncated weights");
  std::unique_ptr<NgramClassifier> c(
      new NgramClassifier(log2_slots, orders, static_cast<WeightBits>(bits)));
  c->bias_ = static_cast<int32_t>(bias);
  const uint8_t* w = reinterpret_cast<const uint8_t*>(input->data());
  for (size_t j = 0; j < slots; ++j) {
    if (bits == 8) {
      c->weights_[j] = static_cast<int8_t>(w[j]);
    } else {
      // Low nibble first; shifted to the top of a byte and back to sign-extend.
      const unsigned nibble = (w[j >> 1] >> ((j & 1) * 4)) & 0xf;
      c->weights_[j] = static_cast<int8_t>(static_cast<int8_t>(nibble << 4) >> 4);
    }
  }
  input->remove_prefix(bytes);
  *result = std::move(c);
  return Status::OK();
}

std::vector<std::unique_ptr<NgramClassifier>> NgramClassifier::Train(
    const std::vector<Slice>& positives, const std::vector<Slice>& negatives,
    const NgramTrainOptions& options, const std::vector<WeightBits>& widths) {
  const int log2_slots = std::clamp(options.log2_slots, 6, 20);
  uint32_t orders = options.orders & 0xfeu;
  if (orders == 0) orders = 1u << 3;
  std::vector<std::unique_ptr<NgramClassifier>> result;
  for (WeightBits b : widths) result.emplace_back(new NgramClassifier(log2_slots, orders, b));
  if (result.empty()) return result;
  NgramClassifier* const c = result.front().get();  // features only
  const size_t slots = size_t{1} << log2_slots;

  // An evenly spread subsample of each class (positives arrive sorted, so striding keeps every
  // part of the key range), copied back to back: the shuffled passes below visit them in
  // random order, which costs cache misses for keys scattered over the heap.
  std::string bytes;
  std::vector<size_t> ends;
  auto take = [&](const std::vector<Slice>& keys) {
    const size_t want = std::min(keys.size(), options.max_samples_per_class);
    for (size_t i = 0; i < want; ++i) {
      const Slice& k = keys[i * keys.size() / want];
      bytes.append(k.data(), k.size());
      ends.push_back(bytes.size());
    }
    return want;
  };
  const size_t num_pos = take(positives);  // rows [0, num_pos) are positives
  const size_t num_neg = take(negatives);
  if (num_pos == 0 || num_neg == 0) return result;
  const size_t rows = ends.size();
  auto sample = [&](size_t r) {
    const size_t begin = r == 0 ? 0 : ends[r - 1];
    return Slice(bytes.data() + begin, ends[r] - begin);
  };

  // Logistic loss, each class weighted to half of the total, L2-penalized; Adagrad steps
  // (Duchi, Hazan and Singer, JMLR 2011), one sample at a time in a shuffled order. A
  // sample's features are computed when it is visited rather than kept in a feature matrix:
  // hashing a key's n-grams costs less than the update itself, and a matrix of every sample
  // (with the triplets it is built from) takes tens of bytes per byte of sampled key.
  const double half = static_cast<double>(rows) / 2;
  const float weight_pos = static_cast<float>(half / static_cast<double>(num_pos));
  const float weight_neg = static_cast<float>(half / static_cast<double>(num_neg));
  Eigen::VectorXf w = Eigen::VectorXf::Zero(static_cast<Eigen::Index>(slots));
  Eigen::VectorXf g2 = Eigen::VectorXf::Zero(static_cast<Eigen::Index>(slots));
  float bias = 0, bias_g2 = 0;
  const float lr = static_cast<float>(options.learning_rate);
  const float l2 = static_cast<float>(options.l2);
  std::vector<uint32_t> order(rows);
  for (size_t r = 0; r < rows; ++r) order[r] = static_cast<uint32_t>(r);
  // A sample's distinct slots with their counts (a slot hit twice is one feature of value 2):
  // stamp[slot] is the visit that last saw the slot.
  std::vector<uint32_t> stamp(slots, 0), count(slots, 0), row;
  uint32_t visit = 0;
  Random rnd(options.seed);
  for (int epoch = 0; epoch < options.epochs; ++epoch) {
    for (size_t i = rows; i > 1; --i) std::swap(order[i - 1], order[rnd.Uniform64(i)]);
    for (uint32_t r : order) {
      if (++visit == 0) {  // wrapped: no stamp may look current
        std::fill(stamp.begin(), stamp.end(), 0);
        visit = 1;
      }
      row.clear();
      c->ForEachFeature(sample(r), [&](uint32_t slot) {
        if (stamp[slot] != visit) {
          stamp[slot] = visit;
          count[slot] = 0;
          row.push_back(slot);
        }
        ++count[slot];
      });
      float z = bias;
      for (uint32_t j : row) z += static_cast<float>(count[j]) * w[j];
      const bool label = r < num_pos;
      const float p = 1.0f / (1.0f + std::exp(-z));
      const float err = (p - (label ? 1.0f : 0.0f)) * (label ? weight_pos : weight_neg);
      for (uint32_t j : row) {
        const float g = err * static_cast<float>(count[j]) + l2 * w[j];
        g2[j] += g * g;
        w[j] -= lr * g / (std::sqrt(g2[j]) + 1e-6f);
      }
      bias_g2 += err * err;
      bias -= lr * err / (std::sqrt(bias_g2) + 1e-6f);
    }
  }

  // Quantize with one scale per model; the bias keeps it in 32 bits. int8 spans the largest
  // weight; int4 clips the largest 1% of weights, where resolution matters less than for the
  // bulk.
  std::vector<float> magnitudes;
  for (size_t j = 0; j < slots; ++j) {
    if (w[j] != 0) magnitudes.push_back(std::abs(w[j]));
  }
  std::sort(magnitudes.begin(), magnitudes.end());
  for (auto& q : result) {
    const int limit = q->bits_ == WeightBits::k8 ? 127 : 7;
    const float top = magnitudes.empty()           ? 0.0f
                      : q->bits_ == WeightBits::k8 ? magnitudes.back()
                                                   : magnitudes[magnitudes.size() * 99 / 100];
    const double scale = top > 0 ? limit / static_cast<double>(top) : 1.0;
    for (size_t j = 0; j < slots; ++j) {
      const long v = std::clamp(std::lround(w[j] * scale), -static_cast<long>(limit),
                                static_cast<long>(limit));
      q->weights_[j] = static_cast<int8_t>(v);
    }
    q->bias_ = static_cast<int32_t>(std::clamp(std::round(bias * scale), -1e9, 1e9));
  }
  return result;
}

// ---- GridClassifier ----

namespace {

size_t PackedCellBytes(uint64_t cells, int class_bits) {
  return static_cast<size_t>((cells * static_cast<uint64_t>(class_bits) + 7) / 8);
}

}  // namespace

namespace {

size_t GridBytes(const KeyMapper& mapper, uint64_t cells, int class_bits) {
  std::string m;
  mapper.EncodeTo(&m);
  return 1 + m.size() + 8 + 2 + VarintLength(cells) + PackedCellBytes(cells, class_bits);
}

}  // namespace

size_t GridClassifier::EstimateBytes(const KeyMapper& mapper, uint64_t span, int shift,
                                     int class_bits) {
  return GridBytes(mapper, (span >> shift) + 1, class_bits);
}

size_t GridClassifier::EncodedBytes() const { return GridBytes(mapper_, num_cells_, class_bits_); }

std::string GridClassifier::Describe() const {
  return "grid " + std::to_string(num_cells_) + " cells of 2^" + std::to_string(shift_) + ", " +
         std::to_string(class_bits_) + "-bit classes";
}

void GridClassifier::EncodeBody(std::string* dst) const {
  mapper_.EncodeTo(dst);
  PutFixed64(dst, base_);
  dst->push_back(static_cast<char>(shift_));
  dst->push_back(static_cast<char>(class_bits_));
  PutVarint64(dst, num_cells_);
  dst->append(reinterpret_cast<const char*>(packed_.data()),
              PackedCellBytes(num_cells_, class_bits_));
}

Status GridClassifier::DecodeBody(Slice* input, std::unique_ptr<FilterClassifier>* result) {
  std::unique_ptr<GridClassifier> c(new GridClassifier());
  Status s = KeyMapper::DecodeFrom(input, &c->mapper_);
  if (!s.ok()) return s;
  uint64_t base = 0, cells = 0;
  if (!GetFixed64(input, &base) || input->size() < 2) {
    return Status::Corruption("grid classifier: truncated header");
  }
  const int shift = static_cast<uint8_t>((*input)[0]);
  const int class_bits = static_cast<uint8_t>((*input)[1]);
  input->remove_prefix(2);
  if (shift > 63 || (class_bits != 1 && class_bits != 2 && class_bits != 4) ||
      !GetVarint64(input, &cells) || cells == 0 || cells > kMaxCells) {
    return Status::Corruption("grid classifier: bad shape");
  }
  const size_t bytes = PackedCellBytes(cells, class_bits);
  if (input->size() < bytes) return Status::Corruption("grid classifier: truncated cells");
  c->base_ = base;
  c->shift_ = shift;
  c->class_bits_ = class_bits;
  c->num_cells_ = cells;
  c->packed_.assign(input->data(), input->data() + bytes);
  input->remove_prefix(bytes);
  *result = std::move(c);
  return Status::OK();
}

std::unique_ptr<GridClassifier> GridClassifier::Train(const KeyMapper& mapper,
                                                      const std::vector<uint64_t>& mapped,
                                                      const std::vector<uint64_t>& negatives,
                                                      int shift, int class_bits) {
  return std::move(Train(mapper, mapped, negatives, shift, std::vector<int>{class_bits}).front());
}

namespace {

// A non-empty cell of a grid being trained: its key count and whether every value in it is
// a key.
struct GridCell {
  uint64_t id;
  uint64_t keys;
  uint64_t negatives;
  bool full;
};

// The cells that are not full (indexes into cells, which are in cell order), ranked by
// negatives per key, (negatives + 1/2) / keys, fewest first, ties in cell order. Returns
// their keys. Most cells of a large table see no negative: those rank by key count alone (the
// more keys, the lower 1/2 / keys), so only the others need a comparison sort.
uint64_t RankPartialCells(const std::vector<GridCell>& cells, std::vector<size_t>* ranked) {
  auto ratio = [&](size_t i) {
    return (static_cast<double>(cells[i].negatives) + 0.5) / static_cast<double>(cells[i].keys);
  };
  std::vector<size_t> quiet, seen;  // without / with negatives, each in cell order
  uint64_t keys = 0;
  uint64_t max_quiet_keys = 0;
  for (size_t i = 0; i < cells.size(); ++i) {
    if (cells[i].full) continue;
    keys += cells[i].keys;
    if (cells[i].negatives == 0) {
      quiet.push_back(i);
      max_quiet_keys = std::max(max_quiet_keys, cells[i].keys);
    } else {
      seen.push_back(i);
    }
  }
  // Quiet cells: most keys first, stably (a counting sort where the counts are small).
  if (max_quiet_keys <= 4096) {
    std::vector<size_t> start(max_quiet_keys + 2, 0);
    for (size_t i : quiet) start[max_quiet_keys - cells[i].keys + 1]++;
    for (size_t k = 1; k < start.size(); ++k) start[k] += start[k - 1];
    std::vector<size_t> sorted(quiet.size());
    for (size_t i : quiet) sorted[start[max_quiet_keys - cells[i].keys]++] = i;
    quiet.swap(sorted);
  } else {
    std::stable_sort(quiet.begin(), quiet.end(),
                     [&](size_t a, size_t b) { return cells[a].keys > cells[b].keys; });
  }
  std::vector<std::pair<double, size_t>> order(seen.size());
  for (size_t j = 0; j < seen.size(); ++j) order[j] = {ratio(seen[j]), seen[j]};
  std::sort(order.begin(), order.end());
  ranked->clear();
  ranked->reserve(quiet.size() + seen.size());
  size_t q = 0;
  for (const auto& o : order) {
    for (; q < quiet.size(); ++q) {
      const std::pair<double, size_t> next(ratio(quiet[q]), quiet[q]);
      if (!(next < o)) break;
      ranked->push_back(quiet[q]);
    }
    ranked->push_back(o.second);
  }
  for (; q < quiet.size(); ++q) ranked->push_back(quiet[q]);
  return keys;
}

}  // namespace

std::vector<std::unique_ptr<GridClassifier>> GridClassifier::Train(
    const KeyMapper& mapper, const std::vector<uint64_t>& mapped,
    const std::vector<uint64_t>& negatives, int shift, const std::vector<int>& class_bits) {
  const uint64_t base = mapped.front();
  const uint64_t span = mapped.back() - mapped.front();
  const uint64_t num_cells = (span >> shift) + 1;
  const uint64_t cell_mask = shift == 0 ? 0 : (~uint64_t{0} >> (64 - shift));

  // Non-empty cells in order.
  std::vector<GridCell> cells;
  cells.reserve(std::min<uint64_t>(num_cells, mapped.size()));
  for (size_t i = 0; i < mapped.size();) {
    const uint64_t off = mapped[i] - base;
    const uint64_t id = off >> shift;
    const uint64_t first = id << shift;
    const uint64_t last = std::min(first + cell_mask, span);  // no overflow: first <= span
    size_t j = i, distinct = 0;
    for (; j < mapped.size() && ((mapped[j] - base) >> shift) == id; ++j) {
      if (j == i || mapped[j] != mapped[j - 1]) ++distinct;
    }
    cells.push_back(GridCell{id, j - i, 0, distinct - 1 == last - first});
    i = j;
  }
  std::vector<uint64_t> neg(negatives);
  std::sort(neg.begin(), neg.end());
  size_t k = 0;
  for (uint64_t x : neg) {
    if (x < base || x - base > span) continue;
    const uint64_t id = (x - base) >> shift;
    while (k < cells.size() && cells[k].id < id) ++k;
    if (k < cells.size() && cells[k].id == id) cells[k].negatives++;
  }

  // Classes: 0 empty; with 2+ bits the top class is "full"; the partly full cells fill the
  // classes in between in equal shares of keys, fewer negatives per key ranking higher (ties
  // in cell order). One class (1 bit) needs no ranking; 2 and 4 bits share it.
  std::vector<size_t> ranked;  // the cells not full, ranked
  uint64_t ranked_keys = 0;
  std::vector<std::unique_ptr<GridClassifier>> result;
  for (int bits : class_bits) {
    std::unique_ptr<GridClassifier> c(new GridClassifier());
    c->mapper_ = mapper;
    c->base_ = base;
    c->shift_ = shift;
    c->class_bits_ = bits;
    c->num_cells_ = num_cells;
    const int top = (1 << bits) - 1;
    std::vector<uint8_t> cls(cells.size(), static_cast<uint8_t>(top));
    if (bits > 1) {
      if (ranked.empty()) ranked_keys = RankPartialCells(cells, &ranked);
      const int levels = top - 1;
      uint64_t before = 0;
      for (size_t i : ranked) {
        const uint64_t level = before * levels / std::max<uint64_t>(ranked_keys, 1);
        cls[i] = static_cast<uint8_t>(levels - level);
        before += cells[i].keys;
      }
    }
    c->packed_.assign(PackedCellBytes(num_cells, bits), 0);
    for (size_t i = 0; i < cells.size(); ++i) {
      const uint64_t bit = cells[i].id * bits;
      c->packed_[bit >> 3] |= static_cast<uint8_t>(cls[i] << (bit & 7));
    }
    result.push_back(std::move(c));
  }
  return result;
}

}  // namespace learnkv
