// The inference code of the CUDA back end, written once for both sides: every function here is
// `__host__ __device__` under nvcc and a plain inline function under the host compiler. The
// kernels (kernels.cu) run it on the GPU; model_images.h runs the very same code on the CPU,
// which is how the default build (no CUDA) checks in CI that it reproduces the CPU models bit
// for bit (tests/accel_cuda_images_test.cc), and the GPU test checks that the GPU agrees.
//
// Each function mirrors one CPU routine line by line, and says which:
//   RmiLookup    Rmi::Lookup (learned/rmi_internal.h: Route, LeafBound)
//   NgramScore   NgramClassifier::Score (learned/filter_classifier.cc: ForEachFeature)
//   GridScore    GridClassifier::ScoreMapped
//   MlpScore*    Int8Mlp::Score (learned/accel/mlp.cc), on int8 values packed four to a word
//
// Exactness. The RMI's bounds are exact only if every double operation rounds exactly as on
// the CPU, where learned/ is built with -ffp-contract=off. A GPU fuses a*b+c into one FMA
// unless told not to, so the double arithmetic below goes through Mul/Add, which are
// __dmul_rn/__dadd_rn on the device (never fused, whatever the flags) and plain operators on
// the host (this header's users are built with -ffp-contract=off). Conversions between
// integers and doubles round as C++ prescribes on both sides. Integer code is exact anyway.
//
// Views are plain structs of scalars and pointers, passed to kernels by value; the pointers
// are device pointers in a kernel and host pointers in model_images.h.
//
// Thread safety: pure functions over read-only views.
#ifndef LEARNKV_LEARNED_ACCEL_CUDA_INFERENCE_OPS_H_
#define LEARNKV_LEARNED_ACCEL_CUDA_INFERENCE_OPS_H_

#include <stdint.h>

#if defined(__CUDACC__)
#define LEARNKV_HD __host__ __device__ __forceinline__
#else
#define LEARNKV_HD inline
#endif

// Full unrolling where it keeps small arrays in registers; only the device compiler needs it.
#if defined(__CUDA_ARCH__)
#define LEARNKV_UNROLL _Pragma("unroll")
#else
#define LEARNKV_UNROLL
#endif

namespace learnkv::accel::gpu {

// ---- arithmetic that rounds the same on both sides ----

LEARNKV_HD double Mul(double a, double b) {
#if defined(__CUDA_ARCH__)
  return __dmul_rn(a, b);
#else
  return a * b;
#endif
}

LEARNKV_HD double Add(double a, double b) {
#if defined(__CUDA_ARCH__)
  return __dadd_rn(a, b);
#else
  return a + b;
#endif
}

LEARNKV_HD int CountLeadingZeros64(uint64_t v) {  // REQUIRES: v != 0
#if defined(__CUDA_ARCH__)
  return __clzll(static_cast<long long>(v));
#else
  return __builtin_clzll(v);
#endif
}

LEARNKV_HD int CountTrailingZeros32(uint32_t v) {  // REQUIRES: v != 0
#if defined(__CUDA_ARCH__)
  return __ffs(static_cast<int>(v)) - 1;
#else
  return __builtin_ctz(v);
#endif
}

// c + the sum of the products of the four signed bytes of a and b (CUDA's __dp4a).
LEARNKV_HD int32_t Dp4a(uint32_t a, uint32_t b, int32_t c) {
#if defined(__CUDA_ARCH__)
  return __dp4a(static_cast<int>(a), static_cast<int>(b), c);
#else
  for (int i = 0; i < 4; ++i) {
    c += int32_t{static_cast<int8_t>(a >> (8 * i))} * int32_t{static_cast<int8_t>(b >> (8 * i))};
  }
  return c;
#endif
}

// ---- RMI (learned/rmi_internal.h) ----

// Persistent values of RmiRootKind.
inline constexpr uint32_t kRootLinear = 0;
inline constexpr uint32_t kRootSpline = 1;
inline constexpr uint32_t kRootRadix = 2;

// rmi_internal::Leaf, field for field (32 bytes, so a leaf is one aligned load).
struct alignas(32) RmiLeaf {
  uint64_t base;
  double slope;
  int32_t min_err;
  int32_t max_err;
  uint32_t begin;
  uint32_t end;
};
static_assert(sizeof(RmiLeaf) == 32, "one leaf per 32-byte sector");

struct RmiView {
  uint32_t root_kind;
  uint32_t num_leaves;
  double max_leaf;
  uint64_t root_min;
  double root_slope;
  double root_intercept;
  uint32_t radix_shift;
  // Spline root: knot_x, knot_y and knot_slope have num_knots entries; knot_table has
  // knot_table_size entries (rmi_internal::Rep documents the table).
  uint32_t num_knots;
  uint32_t knot_log_buckets;
  uint32_t knot_shift;
  uint32_t knot_step;
  uint64_t knot_table_size;
  const uint64_t* knot_x;
  const double* knot_y;
  const double* knot_slope;
  const uint32_t* knot_table;
  const RmiLeaf* leaves;
};

LEARNKV_HD uint64_t Above(uint64_t x, uint64_t base) { return (x > base ? x : base) - base; }

// rmi_internal::ToDouble: exactly static_cast<double>(v).
LEARNKV_HD double ToDouble(uint64_t v) {
  return Add(Mul(static_cast<double>(static_cast<int64_t>(v >> 32)), 4294967296.0),
             static_cast<double>(static_cast<int64_t>(v & 0xffffffffu)));
}

LEARNKV_HD uint32_t ClampLeaf(double v, double max_leaf) {
  v = v > 0.0 ? v : 0.0;
  v = v < max_leaf ? v : max_leaf;
  return static_cast<uint32_t>(v);
}

LEARNKV_HD uint64_t LogBucket(uint64_t d) {
  const int lz = CountLeadingZeros64(d | 1);
  const uint64_t mantissa = ((d << lz) << 1) >> (64 - 4);
  return (static_cast<uint64_t>(64 - lz) << 4) | mantissa;
}

LEARNKV_HD uint32_t SplineSegment(const RmiView& r, uint64_t x) {
  const uint64_t d = Above(x, r.knot_x[0]);
  uint64_t b;
  if (r.knot_log_buckets) {
    b = LogBucket(d);
  } else {
    const uint64_t last_bucket = r.knot_table_size - 2;
    b = d >> r.knot_shift;
    b = b < last_bucket ? b : last_bucket;
  }
  const uint32_t lo = r.knot_table[b] > 0 ? r.knot_table[b] - 1 : 0;
  const uint32_t hi = r.knot_table[b + 1];
  uint32_t s = lo;
  for (uint32_t step = r.knot_step; step > 0; step >>= 1) {
    const uint32_t probe = s + step;
    const uint64_t knot = r.knot_x[probe < hi ? probe : hi - 1];
    s = ((probe < hi) & (knot <= x)) ? probe : s;
  }
  const uint32_t last_segment = r.num_knots - 2;
  return s < last_segment ? s : last_segment;
}

LEARNKV_HD uint32_t RmiRoute(const RmiView& r, uint64_t x) {
  if (r.root_kind == kRootSpline) {
    const uint32_t s = SplineSegment(r, x);
    double v = Add(r.knot_y[s], Mul(r.knot_slope[s], ToDouble(Above(x, r.knot_x[s]))));
    const double next = r.knot_y[s + 1];
    v = v < next ? v : next;
    return ClampLeaf(v, r.max_leaf);
  }
  if (r.root_kind == kRootRadix) {
    const uint64_t v = Above(x, r.root_min) >> r.radix_shift;
    return v < r.num_leaves - 1 ? static_cast<uint32_t>(v) : r.num_leaves - 1;
  }
  return ClampLeaf(Add(Mul(r.root_slope, ToDouble(Above(x, r.root_min))), r.root_intercept),
                   r.max_leaf);
}

LEARNKV_HD int64_t ClampOffset(int64_t v, int64_t size) {
  v = v > 0 ? v : 0;
  return v < size ? v : size;
}

// Rmi::Lookup(x) = [*lo, *hi). Positions fit in 32 bits (RmiBuilder::kMaxKeys).
LEARNKV_HD void RmiLookup(const RmiView& r, uint64_t x, uint32_t* lo, uint32_t* hi) {
  const RmiLeaf leaf = r.leaves[RmiRoute(r, x)];
  double v = Mul(leaf.slope, ToDouble(Above(x, leaf.base)));
  const double size_d = static_cast<double>(leaf.end - leaf.begin);
  v = v < size_d ? v : size_d;
  const int64_t q = static_cast<int64_t>(v);
  const int64_t size = leaf.end - leaf.begin;
  *lo = leaf.begin + static_cast<uint32_t>(ClampOffset(q + leaf.min_err, size));
  *hi = leaf.begin + static_cast<uint32_t>(ClampOffset(q + leaf.max_err + 1, size));
}

// ---- NgramClassifier::Score ----

struct NgramView {
  uint32_t orders;  // bit n: n-grams of n bytes
  uint32_t shift;   // 64 - log2_slots
  int32_t bias;
  const int8_t* weights;  // 2^log2_slots
};

LEARNKV_HD uint32_t NgramSlot(const NgramView& m, uint64_t gram, int order) {
  return static_cast<uint32_t>(
      ((gram + static_cast<uint64_t>(order) * 0x2545f4914f6cdd1dull) * 0x9e3779b97f4a7c15ull) >>
      m.shift);
}

// Feeds len bytes into the rolling n-gram, adding the weight of every complete n-gram.
LEARNKV_HD void NgramFeed(const NgramView& m, const int8_t* w, const uint8_t* b, uint32_t len,
                          int order, uint64_t mask, uint64_t* gram, int* have, int64_t* sum) {
  for (uint32_t i = 0; i < len; ++i) {
    *gram = ((*gram << 8) | b[i]) & mask;
    if (++*have >= order) *sum += w[NgramSlot(m, *gram, order)];
  }
}

// Weights are read through w, which a kernel may point at a copy in shared memory.
LEARNKV_HD int32_t NgramScore(const NgramView& m, const int8_t* w, const uint8_t* key, uint32_t n) {
  // NgramClassifier::kMaxWholeKey, kHeadBytes, kTailBytes.
  constexpr uint32_t kMaxWholeKey = 128, kHeadBytes = 96, kTailBytes = 32;
  int64_t sum = m.bias;
  sum += w[NgramSlot(m, (uint64_t{1} << 40) + (n < 255 ? n : 255), 0)];
  for (uint32_t orders = m.orders; orders != 0; orders &= orders - 1) {
    const int order = CountTrailingZeros32(orders);
    const uint64_t mask = (uint64_t{1} << (8 * order)) - 1;
    uint64_t gram = 0x01;
    int have = 1;
    if (n <= kMaxWholeKey) {
      NgramFeed(m, w, key, n, order, mask, &gram, &have, &sum);
    } else {
      NgramFeed(m, w, key, kHeadBytes, order, mask, &gram, &have, &sum);
      NgramFeed(m, w, key + n - kTailBytes, kTailBytes, order, mask, &gram, &have, &sum);
    }
    const uint8_t end = 0x02;
    NgramFeed(m, w, &end, 1, order, mask, &gram, &have, &sum);
  }
  sum = sum > INT32_MIN ? sum : INT32_MIN;
  sum = sum < INT32_MAX ? sum : INT32_MAX;
  return static_cast<int32_t>(sum);
}

// ---- GridClassifier::ScoreMapped ----

struct GridView {
  uint64_t base;
  uint64_t num_cells;
  uint32_t shift;
  uint32_t class_bits;  // 1, 2 or 4: a class never straddles a byte
  const uint8_t* packed;
};

LEARNKV_HD int32_t GridScore(const GridView& g, uint64_t x) {
  if (x < g.base) return 0;
  const uint64_t cell = (x - g.base) >> g.shift;
  if (cell >= g.num_cells) return 0;
  const uint64_t bit = cell * g.class_bits;
  return (g.packed[bit >> 3] >> (bit & 7)) & ((1 << g.class_bits) - 1);
}

// ---- Int8Mlp::Score ----
//
// Values are int8 packed four to a little-endian word, so one Dp4a is four multiply-adds.
// Layer l maps dims[l] values to dims[l + 1]; its weights are dims[l + 1] rows of
// words[l] = ceil(dims[l] / 4) words (zero padded), starting at word weight_offset[l]; its
// biases start at bias_offset[l]. Sums are exact in int32 (mlp.cc bounds them), so the order
// in which Dp4a adds the products does not matter.

inline constexpr int kMlpMaxLayers = 16;
inline constexpr int kMlpShift = 10;            // Int8Mlp::kShift
inline constexpr uint32_t kMlpMaxWidth = 4096;  // Int8Mlp::kMaxWidth

struct MlpView {
  uint32_t num_layers;  // dims has num_layers + 1 entries
  uint32_t dims[kMlpMaxLayers + 1];
  uint32_t words[kMlpMaxLayers + 1];  // ceil(dims[i] / 4)
  uint32_t weight_offset[kMlpMaxLayers];
  uint32_t bias_offset[kMlpMaxLayers];
  const uint32_t* weights;
  const int32_t* biases;
};

// One hidden unit: relu(acc) >> kShift, at most 127.
LEARNKV_HD uint32_t MlpActivation(int32_t acc) {
  const int32_t v = (acc > 0 ? acc : 0) >> kMlpShift;
  return static_cast<uint32_t>(v < 127 ? v : 127);
}

// For networks whose every width is at most 4 * kWords: activations stay in registers on the
// device (the loops unroll over constant bounds; widths are checked at run time).
// `features` holds words[0] words; weights and biases are read through w and b, which a
// kernel may point at shared memory.
template <int kWords>
LEARNKV_HD int32_t MlpScoreSmall(const MlpView& m, const uint32_t* w, const int32_t* b,
                                 const uint32_t* features) {
  uint32_t in[kWords];
  uint32_t out[kWords];
  LEARNKV_UNROLL
  for (int j = 0; j < kWords; ++j) in[j] = j < static_cast<int>(m.words[0]) ? features[j] : 0;
  const uint32_t last = m.num_layers - 1;
  for (uint32_t l = 0; l < last; ++l) {
    const uint32_t words_in = m.words[l];
    const uint32_t width_out = m.dims[l + 1];
    const uint32_t* wl = w + m.weight_offset[l];
    const int32_t* bl = b + m.bias_offset[l];
    LEARNKV_UNROLL
    for (int ow = 0; ow < kWords; ++ow) {
      uint32_t packed = 0;
      LEARNKV_UNROLL
      for (int t = 0; t < 4; ++t) {
        const uint32_t o = 4 * ow + t;
        if (o < width_out) {
          int32_t acc = bl[o];
          const uint32_t* row = wl + o * words_in;
          LEARNKV_UNROLL
          for (int j = 0; j < kWords; ++j) {
            if (j < static_cast<int>(words_in)) acc = Dp4a(row[j], in[j], acc);
          }
          packed |= MlpActivation(acc) << (8 * t);
        }
      }
      out[ow] = packed;
    }
    LEARNKV_UNROLL
    for (int j = 0; j < kWords; ++j) in[j] = out[j];
  }
  // The last layer: only its first output is the score.
  int32_t acc = b[m.bias_offset[last]];
  const uint32_t* row = w + m.weight_offset[last];
  LEARNKV_UNROLL
  for (int j = 0; j < kWords; ++j) {
    if (j < static_cast<int>(m.words[last])) acc = Dp4a(row[j], in[j], acc);
  }
  return acc;
}

// Any widths up to kMlpMaxWidth; the activations live in (device-local) memory.
LEARNKV_HD int32_t MlpScoreAny(const MlpView& m, const uint32_t* w, const int32_t* b,
                               const uint32_t* features) {
  uint32_t buf_a[kMlpMaxWidth / 4];
  uint32_t buf_b[kMlpMaxWidth / 4];
  uint32_t* in = buf_a;
  uint32_t* out = buf_b;
  for (uint32_t j = 0; j < m.words[0]; ++j) in[j] = features[j];
  const uint32_t last = m.num_layers - 1;
  for (uint32_t l = 0; l < last; ++l) {
    const uint32_t words_in = m.words[l];
    const uint32_t* wl = w + m.weight_offset[l];
    const int32_t* bl = b + m.bias_offset[l];
    for (uint32_t ow = 0; ow < m.words[l + 1]; ++ow) {
      uint32_t packed = 0;
      for (uint32_t t = 0; t < 4; ++t) {
        const uint32_t o = 4 * ow + t;
        if (o >= m.dims[l + 1]) break;
        int32_t acc = bl[o];
        const uint32_t* row = wl + o * words_in;
        for (uint32_t j = 0; j < words_in; ++j) acc = Dp4a(row[j], in[j], acc);
        packed |= MlpActivation(acc) << (8 * t);
      }
      out[ow] = packed;
    }
    uint32_t* t = in;
    in = out;
    out = t;
  }
  int32_t acc = b[m.bias_offset[last]];
  const uint32_t* row = w + m.weight_offset[last];
  for (uint32_t j = 0; j < m.words[last]; ++j) acc = Dp4a(row[j], in[j], acc);
  return acc;
}

// The largest width of the network.
LEARNKV_HD uint32_t MlpMaxWidth(const MlpView& m) {
  uint32_t w = 0;
  for (uint32_t i = 0; i <= m.num_layers; ++i) w = m.dims[i] > w ? m.dims[i] : w;
  return w;
}

// The fast path (MlpScoreSmall) takes networks whose every width is at most
// 4 * kMlpSmallWords; wider ones take MlpScoreAny.
inline constexpr int kMlpSmallWords = 16;
LEARNKV_HD bool MlpUsesSmallPath(const MlpView& m) { return MlpMaxWidth(m) <= 4 * kMlpSmallWords; }

}  // namespace learnkv::accel::gpu

#endif  // LEARNKV_LEARNED_ACCEL_CUDA_INFERENCE_OPS_H_
