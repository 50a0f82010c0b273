// Flat images of learnkv's models for the CUDA back end: the parameters of a trained RMI, an
// n-gram or grid classifier, or the reference int8 MLP, laid out as the kernels read them
// (inference_ops.h). An image is built from the model's own serialized form (EncodeTo, the
// bytes a table stores), never from its private members, so it sees exactly what a reader of
// the table sees. Its host methods run the kernels' code on the CPU, which is what lets the
// default build check the images and that code against the CPU models without a GPU.
//
// The MLP has no serialized form: MlpImage::FromSeed regenerates Int8Mlp::Random's weights
// from the same seed (tests/accel_cuda_images_test.cc checks that the two agree on scores).
//
// Thread safety: images are immutable after construction; const methods may be called
// concurrently.
#ifndef LEARNKV_LEARNED_ACCEL_CUDA_MODEL_IMAGES_H_
#define LEARNKV_LEARNED_ACCEL_CUDA_MODEL_IMAGES_H_

#include <cstdint>
#include <vector>

#include "learned/accel/cuda/inference_ops.h"
#include "learned/filter_classifier.h"
#include "learned/rmi.h"
#include "learnkv/slice.h"
#include "learnkv/status.h"

namespace learnkv::accel::gpu {

class RmiImage {
 public:
  // Decodes rmi's encoding (validated by Rmi::DecodeFrom first) and derives the knot table
  // as the CPU does (rmi_internal::FinishKnots).
  static Status FromRmi(const Rmi& rmi, RmiImage* image);

  // The view over this image's host arrays.
  RmiView View() const;
  // The kernel's answer, computed on the host: Rmi::Lookup(x).
  SearchBound Lookup(uint64_t x) const;

  RmiView scalars;  // every field but the pointers
  std::vector<uint64_t> knot_x;
  std::vector<double> knot_y;
  std::vector<double> knot_slope;
  std::vector<uint32_t> knot_table;
  std::vector<RmiLeaf> leaves;
};

class NgramImage {
 public:
  // REQUIRES: classifier.kind() == ClassifierKind::kNgram.
  static Status FromClassifier(const FilterClassifier& classifier, NgramImage* image);

  NgramView View() const;
  int32_t Score(const Slice& key) const;

  NgramView scalars;
  std::vector<int8_t> weights;  // 4-bit weights widened, as the CPU holds them
};

class GridImage {
 public:
  // REQUIRES: classifier.kind() == ClassifierKind::kGrid. The kernel scores mapped keys:
  // callers map with the classifier's own mapper (GridClassifier::mapper()).
  static Status FromClassifier(const FilterClassifier& classifier, GridImage* image);

  GridView View() const;
  int32_t ScoreMapped(uint64_t mapped) const;

  GridView scalars;
  std::vector<uint8_t> packed;
};

class MlpImage {
 public:
  // The network Int8Mlp::Random(dims, seed) builds. InvalidArgument for dims it rejects or
  // more than kMlpMaxLayers layers.
  static Status FromSeed(const std::vector<uint32_t>& dims, uint64_t seed, MlpImage* image);

  MlpView View() const;
  // Bytes of one item's input: dims[0] int8 features, padded to whole words.
  uint32_t FeatureBytes() const { return 4 * scalars.words[0]; }
  // Writes key's features (its first dims[0] bytes, zero padded) to dst[0, FeatureBytes()).
  void Features(const Slice& key, uint8_t* dst) const;
  // The kernel's answer on the host, taking the same path the kernel takes for these widths.
  int32_t Score(const Slice& key) const;

  MlpView scalars;
  std::vector<uint32_t> weights;
  std::vector<int32_t> biases;
};

}  // namespace learnkv::accel::gpu

#endif  // LEARNKV_LEARNED_ACCEL_CUDA_MODEL_IMAGES_H_
