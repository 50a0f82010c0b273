// Model images for the CUDA back end (see model_images.h). The decoders below read the
// layouts documented in learned/rmi.cc and learned/filter_classifier.cc; each image is taken
// from bytes the model's own DecodeFrom has accepted, so only well-formed models get here.
#include "learned/accel/cuda/model_images.h"

#include <cstring>
#include <string>

#include "learned/rmi_internal.h"
#include "util/coding.h"
#include "util/random.h"

namespace learnkv::accel::gpu {

namespace {

double DecodeDouble(const char* p) {
  const uint64_t bits = DecodeFixed64(p);
  double v;
  std::memcpy(&v, &bits, sizeof(v));
  return v;
}

Status Corrupt(const char* what) { return Status::Corruption("cuda model image", what); }

}  // namespace

// ---- RmiImage ----

Status RmiImage::FromRmi(const Rmi& rmi, RmiImage* image) {
  std::string bytes;
  rmi.EncodeTo(&bytes);
  std::unique_ptr<Rmi> check;
  Status s = Rmi::DecodeFrom(bytes, &check);
  if (!s.ok()) return s;
  // Layout (learned/rmi.cc): header of 32 bytes, the root, then 28-byte leaves.
  const char* p = bytes.data();
  RmiImage img;
  RmiView& v = img.scalars;
  v = RmiView{};
  v.root_kind = static_cast<uint8_t>(p[2]);
  v.num_leaves = DecodeFixed32(p + 4);
  v.max_leaf = static_cast<double>(v.num_leaves - 1);
  const uint64_t num_keys = DecodeFixed64(p + 8);
  if (num_keys > UINT32_MAX) return Corrupt("rmi: more keys than 32-bit positions");
  size_t pos = rmi_internal::kHeaderBytes;
  switch (v.root_kind) {
    case kRootLinear:
      v.root_min = DecodeFixed64(p + pos);
      v.root_slope = DecodeDouble(p + pos + 8);
      v.root_intercept = DecodeDouble(p + pos + 16);
      pos += 24;
      break;
    case kRootRadix:
      v.root_min = DecodeFixed64(p + pos);
      v.radix_shift = static_cast<uint8_t>(p[pos + 8]);
      pos += 9;
      break;
    case kRootSpline: {
      const uint32_t k = DecodeFixed32(p + pos);
      pos += 4;
      // The knot table is derived, never stored: let the CPU's own code derive it.
      rmi_internal::Rep rep;
      rep.knot_x.resize(k);
      rep.knot_y.resize(k);
      for (uint32_t i = 0; i < k; ++i, pos += rmi_internal::kKnotBytes) {
        rep.knot_x[i] = DecodeFixed64(p + pos);
        rep.knot_y[i].y = DecodeDouble(p + pos + 8);
      }
      rmi_internal::FinishKnots(&rep);
      v.num_knots = k;
      v.knot_log_buckets = rep.knot_log_buckets ? 1 : 0;
      v.knot_shift = rep.knot_shift;
      v.knot_step = rep.knot_step;
      v.knot_table_size = rep.knot_table.size();
      img.knot_x = rep.knot_x;
      for (const rmi_internal::KnotY& y : rep.knot_y) {
        img.knot_y.push_back(y.y);
        img.knot_slope.push_back(y.slope);
      }
      img.knot_table = rep.knot_table;
      break;
    }
    default:
      return Corrupt("rmi: unknown root kind");
  }
  img.leaves.resize(v.num_leaves);
  for (uint32_t j = 0; j < v.num_leaves; ++j, pos += rmi_internal::kLeafBytes) {
    RmiLeaf& leaf = img.leaves[j];
    leaf.base = DecodeFixed64(p + pos);
    leaf.slope = DecodeDouble(p + pos + 8);
    leaf.min_err = static_cast<int32_t>(DecodeFixed32(p + pos + 16));
    leaf.max_err = static_cast<int32_t>(DecodeFixed32(p + pos + 20));
    leaf.begin = DecodeFixed32(p + pos + 24);
  }
  for (uint32_t j = 0; j < v.num_leaves; ++j) {
    img.leaves[j].end =
        j + 1 < v.num_leaves ? img.leaves[j + 1].begin : static_cast<uint32_t>(num_keys);
  }
  *image = std::move(img);
  return Status::OK();
}

RmiView RmiImage::View() const {
  RmiView v = scalars;
  v.knot_x = knot_x.data();
  v.knot_y = knot_y.data();
  v.knot_slope = knot_slope.data();
  v.knot_table = knot_table.data();
  v.leaves = leaves.data();
  return v;
}

SearchBound RmiImage::Lookup(uint64_t x) const {
  uint32_t lo, hi;
  RmiLookup(View(), x, &lo, &hi);
  return SearchBound{lo, hi};
}

// ---- NgramImage ----

Status NgramImage::FromClassifier(const FilterClassifier& classifier, NgramImage* image) {
  if (classifier.kind() != ClassifierKind::kNgram) return Corrupt("not an ngram classifier");
  std::string bytes;
  classifier.EncodeTo(&bytes);
  // u8 kind | u8 log2_slots | u8 orders | u8 weight bits | fixed32 bias | weights.
  if (bytes.size() < 8) return Corrupt("ngram: truncated");
  const char* p = bytes.data();
  const int log2_slots = static_cast<uint8_t>(p[1]);
  const uint32_t bits = static_cast<uint8_t>(p[3]);
  if (log2_slots < 6 || log2_slots > 20 || (bits != 8 && bits != 4)) return Corrupt("ngram shape");
  const size_t slots = size_t{1} << log2_slots;
  if (bytes.size() < 8 + slots * bits / 8) return Corrupt("ngram: truncated weights");
  NgramImage img;
  img.scalars = NgramView{};
  img.scalars.orders = static_cast<uint8_t>(p[2]);
  img.scalars.shift = 64 - log2_slots;
  img.scalars.bias = static_cast<int32_t>(DecodeFixed32(p + 4));
  img.weights.resize(slots);
  const uint8_t* w = reinterpret_cast<const uint8_t*>(p + 8);
  for (size_t j = 0; j < slots; ++j) {
    if (bits == 8) {
      img.weights[j] = static_cast<int8_t>(w[j]);
    } else {
      const unsigned nibble = (w[j >> 1] >> ((j & 1) * 4)) & 0xf;
      img.weights[j] = static_cast<int8_t>(static_cast<int8_t>(nibble << 4) >> 4);
    }
  }
  *image = std::move(img);
  return Status::OK();
}

NgramView NgramImage::View() const {
  NgramView v = scalars;
  v.weights = weights.data();
  return v;
}

int32_t NgramImage::Score(const Slice& key) const {
  const NgramView v = View();
  return NgramScore(v, v.weights, reinterpret_cast<const uint8_t*>(key.data()),
                    static_cast<uint32_t>(key.size()));
}

// ---- GridImage ----

Status GridImage::FromClassifier(const FilterClassifier& classifier, GridImage* image) {
  if (classifier.kind() != ClassifierKind::kGrid) return Corrupt("not a grid classifier");
  std::string bytes;
  classifier.EncodeTo(&bytes);
  Slice in(bytes);
  in.remove_prefix(1);  // the kind
  KeyMapper mapper;
  Status s = KeyMapper::DecodeFrom(&in, &mapper);
  if (!s.ok()) return s;
  uint64_t base = 0, cells = 0;
  if (!GetFixed64(&in, &base) || in.size() < 2) return Corrupt("grid: truncated header");
  const uint32_t shift = static_cast<uint8_t>(in[0]);
  const uint32_t class_bits = static_cast<uint8_t>(in[1]);
  in.remove_prefix(2);
  if (shift > 63 || (class_bits != 1 && class_bits != 2 && class_bits != 4) ||
      !GetVarint64(&in, &cells) || cells == 0 || cells > GridClassifier::kMaxCells) {
    return Corrupt("grid: bad shape");
  }
  const size_t packed_bytes = (cells * class_bits + 7) / 8;
  if (in.size() < packed_bytes) return Corrupt("grid: truncated cells");
  GridImage img;
  img.scalars = GridView{};
  img.scalars.base = base;
  img.scalars.num_cells = cells;
  img.scalars.shift = shift;
  img.scalars.class_bits = class_bits;
  img.packed.assign(in.data(), in.data() + packed_bytes);
  *image = std::move(img);
  return Status::OK();
}

GridView GridImage::View() const {
  GridView v = scalars;
  v.packed = packed.data();
  return v;
}

int32_t GridImage::ScoreMapped(uint64_t mapped) const { return GridScore(View(), mapped); }

// ---- MlpImage ----

Status MlpImage::FromSeed(const std::vector<uint32_t>& dims, uint64_t seed, MlpImage* image) {
  if (dims.size() < 2 || dims.size() > kMlpMaxLayers + 1) {
    return Status::InvalidArgument("cuda mlp image: 2 to 17 layer widths");
  }
  for (uint32_t d : dims) {
    if (d == 0 || d > kMlpMaxWidth) return Status::InvalidArgument("cuda mlp image: bad width");
  }
  MlpImage img;
  MlpView& v = img.scalars;
  v = MlpView{};
  v.num_layers = static_cast<uint32_t>(dims.size() - 1);
  for (size_t i = 0; i < dims.size(); ++i) {
    v.dims[i] = dims[i];
    v.words[i] = (dims[i] + 3) / 4;
  }
  // Int8Mlp::Random draws, layer by layer, every weight (row-major, dims[i + 1] rows of
  // dims[i]) and then every bias, from one generator.
  Random rnd(seed);
  for (uint32_t l = 0; l < v.num_layers; ++l) {
    const uint32_t in = dims[l], out = dims[l + 1], words = v.words[l];
    v.weight_offset[l] = static_cast<uint32_t>(img.weights.size());
    v.bias_offset[l] = static_cast<uint32_t>(img.biases.size());
    img.weights.resize(img.weights.size() + size_t{out} * words, 0);
    uint32_t* w = img.weights.data() + v.weight_offset[l];
    for (uint32_t o = 0; o < out; ++o) {
      for (uint32_t i = 0; i < in; ++i) {
        const int8_t x = static_cast<int8_t>(static_cast<int>(rnd.Uniform(255)) - 127);
        w[o * words + i / 4] |= uint32_t{static_cast<uint8_t>(x)} << (8 * (i % 4));
      }
    }
    for (uint32_t o = 0; o < out; ++o) {
      img.biases.push_back(static_cast<int32_t>(rnd.Uniform(2049)) - 1024);
    }
  }
  *image = std::move(img);
  return Status::OK();
}

MlpView MlpImage::View() const {
  MlpView v = scalars;
  v.weights = weights.data();
  v.biases = biases.data();
  return v;
}

void MlpImage::Features(const Slice& key, uint8_t* dst) const {
  const size_t n = key.size() < scalars.dims[0] ? key.size() : scalars.dims[0];
  std::memcpy(dst, key.data(), n);
  std::memset(dst + n, 0, FeatureBytes() - n);
}

int32_t MlpImage::Score(const Slice& key) const {
  std::vector<uint32_t> features(scalars.words[0]);
  Features(key, reinterpret_cast<uint8_t*>(features.data()));
  const MlpView v = View();
  return MlpUsesSmallPath(v)
             ? MlpScoreSmall<kMlpSmallWords>(v, v.weights, v.biases, features.data())
             : MlpScoreAny(v, v.weights, v.biases, features.data());
}

}  // namespace learnkv::accel::gpu
