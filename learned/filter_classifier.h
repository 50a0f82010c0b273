// Classifiers of the learned Bloom filter (filter_learned.h): each maps a user key to an integer
// score, higher meaning "more likely a key of the table". Scores are computed with integer
// arithmetic only, so the builder (which scores every key to decide which backup filter holds
// it) and every reader agree bit for bit; that agreement is what makes the learned filter free
// of false negatives.
//
// Two kinds, both small enough for the read path (tens of nanoseconds per probe):
//
//  * NgramClassifier, for byte-string keys: logistic regression over hashed character n-grams
//    of the key (with start and end markers) and a length feature (the "hashing trick":
//    Weinberger et al., ICML 2009), weights quantized to 8 or 4 bits. Trained with Adagrad,
//    each sample's features hashed when it is visited (no feature matrix is kept).
//  * GridClassifier, for keys that map to numbers (learned/key_mapping.h, the mapping of the
//    table's learned index): the mapped key space of the table is cut into 2^shift-wide cells
//    and each cell stores a 1-, 2- or 4-bit class of its local key density — empty (no key:
//    nothing there needs the filter), completely full (every value is a key), or partly full,
//    ranked by how many negatives fell in it per key.
//
// Thread safety: immutable after Train/DecodeFrom; Score may be called concurrently.
#ifndef LEARNKV_LEARNED_FILTER_CLASSIFIER_H_
#define LEARNKV_LEARNED_FILTER_CLASSIFIER_H_

#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "learned/key_mapping.h"
#include "learnkv/slice.h"
#include "learnkv/status.h"

namespace learnkv {

// Persistent: stored in filter blocks. Never renumber.
enum class ClassifierKind : uint8_t {
  kNgram = 1,
  kGrid = 2,
};
const char* ClassifierKindName(ClassifierKind kind);  // "ngram", "grid"

class FilterClassifier {
 public:
  virtual ~FilterClassifier() = default;

  virtual ClassifierKind kind() const = 0;
  virtual int32_t Score(const Slice& key) const = 0;
  // Bytes of the serialized model (what it adds to the filter block).
  virtual size_t EncodedBytes() const = 0;
  virtual size_t MemoryUsage() const = 0;
  // One line for tools, e.g. "ngram orders 3,5, 4096 slots".
  virtual std::string Describe() const = 0;

  // u8 kind | kind's encoding.
  void EncodeTo(std::string* dst) const;
  // Consumes the encoding from the front of *input; Corruption if malformed.
  static Status DecodeFrom(Slice* input, std::unique_ptr<FilterClassifier>* result);

 protected:
  virtual void EncodeBody(std::string* dst) const = 0;
};

struct NgramTrainOptions {
  // Hashed feature slots: 2^log2_slots int8 weights. [6, 20]. Default 12.
  int log2_slots = 12;
  // N-gram orders used, as a bit mask (bit n: n-grams of n bytes, 1 <= n <= 7). Default 3:
  // trigrams alone separated the URL data sets as well as any mix of orders tried, at the
  // lowest probe cost (one feature per byte).
  uint32_t orders = 1u << 3;
  // Passes over the training samples. Default 4.
  int epochs = 4;
  // Adagrad step size. Default 0.2.
  double learning_rate = 0.2;
  // L2 penalty per sample. Default 1e-6.
  double l2 = 1e-6;
  // At most this many samples of each class train the model (a deterministic, evenly spread
  // subsample). Default 60000.
  size_t max_samples_per_class = 60000;
  uint64_t seed = 0x5eed;
};

// Persistent: the weight width of a stored NgramClassifier.
enum class WeightBits : uint8_t {
  k8 = 8,  // int8, one scale
  k4 = 4,  // int4 in [-7, 7], two per byte (low nibble first), clipped at a high percentile
};

class NgramClassifier final : public FilterClassifier {
 public:
  // Keys longer than this are scored on their first kHeadBytes and last kTailBytes bytes.
  static constexpr size_t kMaxWholeKey = 128;  // == kHeadBytes + kTailBytes
  static constexpr size_t kHeadBytes = 96;
  static constexpr size_t kTailBytes = 32;

  // Logistic regression separating positives from negatives, classes weighted equally; one
  // trained model, quantized to each width asked for (in that order).
  static std::vector<std::unique_ptr<NgramClassifier>> Train(const std::vector<Slice>& positives,
                                                             const std::vector<Slice>& negatives,
                                                             const NgramTrainOptions& options,
                                                             const std::vector<WeightBits>& widths);

  ClassifierKind kind() const override { return ClassifierKind::kNgram; }
  int32_t Score(const Slice& key) const override;
  size_t EncodedBytes() const override;
  size_t MemoryUsage() const override { return weights_.size() + sizeof(*this); }
  std::string Describe() const override;

  // u8 log2_slots | u8 orders mask | u8 weight bits (8 or 4) | fixed32 bias (int32)
  // | 2^log2_slots weights (bytes, or nibbles low first).
  static Status DecodeBody(Slice* input, std::unique_ptr<FilterClassifier>* result);

  // Calls f(slot) for every feature of key: one for its length, and one per n-gram of each
  // order over 0x01 key 0x02 (longer keys: 0x01 head tail 0x02), an n-gram being read as the
  // big-endian number of its bytes.
  template <typename F>
  void ForEachFeature(const Slice& key, F&& f) const;

 private:
  NgramClassifier(int log2_slots, uint32_t orders, WeightBits bits);

  void EncodeBody(std::string* dst) const override;
  uint32_t Slot(uint64_t gram, int order) const {
    return static_cast<uint32_t>(
        ((gram + static_cast<uint64_t>(order) * 0x2545f4914f6cdd1dull) * 0x9e3779b97f4a7c15ull) >>
        shift_);
  }

  int log2_slots_;
  int shift_;  // 64 - log2_slots_
  uint32_t orders_;
  WeightBits bits_;  // as stored; in memory every weight is an int8
  int32_t bias_ = 0;
  std::vector<int8_t> weights_;
};

class GridClassifier final : public FilterClassifier {
 public:
  // Cells at most (bounds what a decoded model may allocate).
  static constexpr uint64_t kMaxCells = uint64_t{1} << 30;

  // mapped: Map(key) of every key of the table, ascending (as Map is monotone); negatives:
  // Map of the negatives that rank the partly full cells. class_bits: 1, 2 or 4.
  // REQUIRES: mapped non-empty; ((mapped.back() - mapped.front()) >> shift) < kMaxCells.
  static std::unique_ptr<GridClassifier> Train(const KeyMapper& mapper,
                                               const std::vector<uint64_t>& mapped,
                                               const std::vector<uint64_t>& negatives, int shift,
                                               int class_bits);
  // The same for each class width of class_bits, in that order, counting the cells once.
  static std::vector<std::unique_ptr<GridClassifier>> Train(const KeyMapper& mapper,
                                                            const std::vector<uint64_t>& mapped,
                                                            const std::vector<uint64_t>& negatives,
                                                            int shift,
                                                            const std::vector<int>& class_bits);
  // Bytes a grid of these dimensions takes, without training it.
  static size_t EstimateBytes(const KeyMapper& mapper, uint64_t span, int shift, int class_bits);

  ClassifierKind kind() const override { return ClassifierKind::kGrid; }
  int32_t Score(const Slice& key) const override { return ScoreMapped(mapper_.Map(key)); }
  int32_t ScoreMapped(uint64_t x) const {
    if (x < base_) return 0;
    const uint64_t cell = (x - base_) >> shift_;
    if (cell >= num_cells_) return 0;
    const uint64_t bit = cell * class_bits_;
    return (packed_[bit >> 3] >> (bit & 7)) & ((1 << class_bits_) - 1);
  }
  size_t EncodedBytes() const override;
  size_t MemoryUsage() const override {
    return packed_.size() + mapper_.prefix().size() + sizeof(*this);
  }
  std::string Describe() const override;
  const KeyMapper& mapper() const { return mapper_; }

  // KeyMapper | fixed64 base | u8 shift (0..63) | u8 class_bits (1, 2, 4) | varint64 cells C
  // | ceil(C class_bits / 8) bytes of classes, LSB first.
  static Status DecodeBody(Slice* input, std::unique_ptr<FilterClassifier>* result);

 private:
  GridClassifier() = default;
  void EncodeBody(std::string* dst) const override;

  KeyMapper mapper_;
  uint64_t base_ = 0;
  int shift_ = 0;
  int class_bits_ = 1;
  uint64_t num_cells_ = 0;
  std::vector<uint8_t> packed_;
};

}  // namespace learnkv

#endif  // LEARNKV_LEARNED_FILTER_CLASSIFIER_H_
