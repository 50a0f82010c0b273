// Tests of the CUDA back end's model images and kernel code without a GPU
// (learned/accel/cuda/model_images.h, inference_ops.h): the kernels' inference code, run on
// the CPU over an image decoded from a model's serialized form, gives exactly the CPU model's
// answers — every root kind of the RMI on several key sets, n-gram classifiers of every weight
// width and several orders, grid classifiers of every class width with legacy and mixed-radix
// mappers, and MLPs on both kernel paths. tests/cuda/accel_cuda_test.cc checks the GPU against
// the same CPU models.
#include <gtest/gtest.h>

#include <limits>
#include <string>
#include <vector>

#include "learned/accel/cuda/model_images.h"
#include "learned/accel/cuda/workload.h"
#include "learned/accel/mlp.h"
#include "learned/filter_classifier.h"
#include "learned/key_mapping.h"
#include "learned/rmi.h"
#include "util/coding.h"
#include "util/datasets.h"
#include "util/random.h"

namespace learnkv::accel::gpu {
namespace {

constexpr uint64_t kMax = std::numeric_limits<uint64_t>::max();

std::vector<uint64_t> IntegerKeys(Dataset d, size_t n, uint64_t seed) {
  std::vector<uint64_t> keys;
  for (const std::string& k : GenerateSortedKeys(d, n, seed)) {
    keys.push_back(DecodeBigEndian64(k.data()));
  }
  return keys;
}

// Present keys, their neighbours, random values and the extremes.
std::vector<uint64_t> Probes(const std::vector<uint64_t>& keys, uint64_t seed) {
  Random rnd(seed);
  std::vector<uint64_t> probes = {0, 1, kMax, kMax - 1};
  if (keys.empty()) return probes;
  probes.push_back(keys.front() - 1);
  probes.push_back(keys.back() + 1);
  for (int i = 0; i < 20000; ++i) {
    const uint64_t k = keys[rnd.Uniform64(keys.size())];
    probes.push_back(k);
    probes.push_back(k + 1);
    probes.push_back(k - 1);
    probes.push_back(rnd.Next64());
  }
  return probes;
}

void ExpectSameBounds(const Rmi& rmi, const std::vector<uint64_t>& probes,
                      const std::string& what) {
  RmiImage image;
  ASSERT_TRUE(RmiImage::FromRmi(rmi, &image).ok()) << what;
  size_t mismatches = 0;
  for (uint64_t x : probes) {
    const SearchBound cpu = rmi.Lookup(x);
    const SearchBound img = image.Lookup(x);
    if (cpu.lo != img.lo || cpu.hi != img.hi) {
      if (++mismatches <= 3) {
        ADD_FAILURE() << what << ": x=" << x << " cpu [" << cpu.lo << ", " << cpu.hi << ") image ["
                      << img.lo << ", " << img.hi << ")";
      }
    }
  }
  EXPECT_EQ(mismatches, 0u) << what;
}

TEST(AccelCudaImagesTest, RmiEveryRootKindMatchesLookup) {
  for (Dataset d : {Dataset::kLognormal, Dataset::kUniformDense, Dataset::kUniformSparse,
                    Dataset::kOsmLike, Dataset::kNormal}) {
    const std::vector<uint64_t> keys = IntegerKeys(d, 50000, 7);
    const std::vector<uint64_t> probes = Probes(keys, 11);
    for (RmiRootKind kind :
         {RmiRootKind::kLinear, RmiRootKind::kLinearSpline, RmiRootKind::kRadix}) {
      for (uint32_t leaves : {0u, 1u, 300u}) {
        RmiOptions o;
        o.auto_root = false;
        o.root_kind = kind;
        o.num_leaves = leaves;
        std::vector<uint64_t> copy = keys;
        const std::unique_ptr<Rmi> rmi = RmiBuilder(o, std::move(copy)).Finish();
        ExpectSameBounds(*rmi, probes,
                         std::string(DatasetName(d)) + "/" + RmiRootKindName(kind) + "/" +
                             std::to_string(leaves));
      }
    }
    std::vector<uint64_t> copy = keys;
    ExpectSameBounds(*RmiBuilder(RmiOptions(), std::move(copy)).Finish(), probes,
                     std::string(DatasetName(d)) + "/auto");
  }
}

TEST(AccelCudaImagesTest, RmiDuplicatesEmptyAndTinyModels) {
  std::vector<uint64_t> dups;
  for (uint64_t i = 0; i < 3000; ++i) dups.push_back((i / 7) * 1000003);
  for (const std::vector<uint64_t>& keys :
       {dups, std::vector<uint64_t>{}, std::vector<uint64_t>{42}, std::vector<uint64_t>{0, kMax}}) {
    std::vector<uint64_t> copy = keys;
    ExpectSameBounds(*RmiBuilder(RmiOptions(), std::move(copy)).Finish(), Probes(keys, 3),
                     "keys " + std::to_string(keys.size()));
  }
}

std::vector<std::string> UrlKeys(size_t n, uint64_t seed) {
  std::vector<std::string> keys = GenerateSortedKeys(Dataset::kUrl, n, seed);
  // Lengths around the head/tail split and the length feature's cap.
  for (size_t len : {0, 1, 2, 95, 96, 127, 128, 129, 200, 255, 256, 300, 1000}) {
    keys.push_back(std::string(len, static_cast<char>('a' + len % 26)));
  }
  Random rnd(seed);
  for (int i = 0; i < 200; ++i) {  // random binary bytes, high bits included
    std::string k(rnd.Uniform(300), '\0');
    for (char& c : k) c = static_cast<char>(rnd.Uniform(256));
    keys.push_back(k);
  }
  return keys;
}

TEST(AccelCudaImagesTest, NgramEveryWidthAndOrdersMatchScore) {
  const std::vector<std::string> pos_keys = GenerateSortedKeys(Dataset::kUrl, 3000, 5);
  const std::vector<std::string> neg_keys = GenerateAbsentKeys(Dataset::kUrl, pos_keys, 3000, 6);
  const std::vector<Slice> pos(pos_keys.begin(), pos_keys.end());
  const std::vector<Slice> neg(neg_keys.begin(), neg_keys.end());
  const std::vector<std::string> probes = UrlKeys(2000, 9);
  for (uint32_t orders : {1u << 3, (1u << 3) | (1u << 5), (1u << 1) | (1u << 2) | (1u << 7)}) {
    for (int log2_slots : {6, 12, 16}) {
      NgramTrainOptions t;
      t.orders = orders;
      t.log2_slots = log2_slots;
      t.epochs = 2;
      for (const auto& c : NgramClassifier::Train(pos, neg, t, {WeightBits::k8, WeightBits::k4})) {
        NgramImage image;
        ASSERT_TRUE(NgramImage::FromClassifier(*c, &image).ok());
        for (const std::string& k : probes) {
          ASSERT_EQ(image.Score(k), c->Score(k)) << c->Describe() << " key of " << k.size();
        }
      }
    }
  }
}

TEST(AccelCudaImagesTest, GridEveryClassWidthAndMapperMatchScore) {
  // Integer keys under the legacy mapper.
  const std::vector<uint64_t> keys = IntegerKeys(Dataset::kLognormal, 20000, 3);
  const std::vector<uint64_t> negatives = Probes(keys, 4);
  std::vector<std::string> int_probes;
  for (uint64_t x : Probes(keys, 5)) int_probes.push_back(EncodeIntegerKey(x));
  // String keys under a mixed-radix mapper with a common prefix.
  KeyMapperBuilder builder;
  const std::vector<std::string> ycsb = GenerateSortedKeys(Dataset::kYcsb, 20000, 8);
  for (const std::string& k : ycsb) builder.Add(k);
  std::vector<uint64_t> mapped;
  const KeyMapper mapper = builder.Finish(&mapped);
  std::vector<uint64_t> ycsb_negatives;
  std::vector<std::string> ycsb_probes = GenerateAbsentKeys(Dataset::kYcsb, ycsb, 5000, 9);
  for (const std::string& k : ycsb_probes) ycsb_negatives.push_back(mapper.Map(k));
  ycsb_probes.insert(ycsb_probes.end(), ycsb.begin(), ycsb.begin() + 5000);
  ycsb_probes.push_back("");
  ycsb_probes.push_back("zzzz");
  ycsb_probes.push_back("user");

  struct Case {
    KeyMapper mapper;
    const std::vector<uint64_t>* mapped;
    const std::vector<uint64_t>* negatives;
    const std::vector<std::string>* probes;
  };
  for (const Case& c : {Case{KeyMapper(), &keys, &negatives, &int_probes},
                        Case{mapper, &mapped, &ycsb_negatives, &ycsb_probes}}) {
    const uint64_t span = c.mapped->back() - c.mapped->front();
    int shift = 0;
    while (shift < 63 && (span >> shift) >= 4 * c.mapped->size()) ++shift;
    for (int bits : {1, 2, 4}) {
      const std::unique_ptr<GridClassifier> grid =
          GridClassifier::Train(c.mapper, *c.mapped, *c.negatives, shift, bits);
      GridImage image;
      ASSERT_TRUE(GridImage::FromClassifier(*grid, &image).ok());
      for (const std::string& k : *c.probes) {
        ASSERT_EQ(image.ScoreMapped(grid->mapper().Map(k)), grid->Score(k)) << grid->Describe();
      }
    }
  }
}

TEST(AccelCudaImagesTest, MlpBothPathsMatchScore) {
  const std::vector<std::string> probes = UrlKeys(1000, 12);
  const std::vector<std::vector<uint32_t>> shapes = {
      Int8Mlp::DefaultDims(), {1, 1}, {5, 7, 3, 2}, {32, 64, 64, 1}, {64, 64, 1},
      {33, 130, 17, 1},  // wider than the fast path: MlpScoreAny
      {200, 300, 5}};
  for (const std::vector<uint32_t>& dims : shapes) {
    for (uint64_t seed : {1ull, 50ull}) {
      const std::unique_ptr<Int8Mlp> mlp = Int8Mlp::Random(dims, seed);
      MlpImage image;
      ASSERT_TRUE(MlpImage::FromSeed(dims, seed, &image).ok());
      const bool wide = dims.size() > 1 && (dims[1] > 64 || dims[0] > 64);
      EXPECT_EQ(MlpUsesSmallPath(image.View()), !wide);
      for (const std::string& k : probes) {
        ASSERT_EQ(image.Score(k), mlp->Score(k)) << "dims " << dims.size() << " seed " << seed;
      }
    }
  }
  MlpImage unused;
  EXPECT_FALSE(MlpImage::FromSeed({32}, 1, &unused).ok());
  EXPECT_FALSE(MlpImage::FromSeed({32, 0, 1}, 1, &unused).ok());
  EXPECT_FALSE(MlpImage::FromSeed({32, 5000, 1}, 1, &unused).ok());
}

TEST(AccelCudaImagesTest, ImagesRejectTheWrongKind) {
  const std::vector<uint64_t> keys = IntegerKeys(Dataset::kLognormal, 1000, 3);
  const std::unique_ptr<GridClassifier> grid = GridClassifier::Train(KeyMapper(), keys, {}, 40, 2);
  NgramImage ngram;
  EXPECT_TRUE(NgramImage::FromClassifier(*grid, &ngram).IsCorruption());
}

// The workloads' shapes describe what the CUDA path moves, and their CPU answers are the
// models' own (what the validation compares the GPU with).
TEST(AccelCudaImagesTest, WorkloadsDescribeTheirBatches) {
  WorkloadOptions o;
  o.model_keys = 20000;
  o.probe_pool = 4000;
  o.max_batch = 3000;
  for (ModelKind kind : {ModelKind::kRmi, ModelKind::kNgram, ModelKind::kGrid, ModelKind::kMlp}) {
    std::unique_ptr<Workload> w;
    ASSERT_TRUE(Workload::Build(kind, o, &w).ok()) << ModelKindName(kind);
    EXPECT_EQ(w->kind(), kind);
    EXPECT_FALSE(w->Describe().empty());
    const uint64_t n = 2500;  // more than the string pool (a quarter of probe_pool): cycles
    std::vector<uint64_t> cpu(n);
    w->CpuBatch(n, cpu.data());
    if (w->string_keys()) {
      std::vector<Slice> batch;
      w->StringBatch(n, &batch);
      ASSERT_EQ(batch.size(), n);
      for (uint64_t i = 0; i < n; ++i) {
        const int32_t s = kind == ModelKind::kNgram ? w->classifier()->Score(batch[i])
                                                    : w->mlp_image().Score(batch[i]);
        ASSERT_EQ(static_cast<uint32_t>(s), cpu[i]);
      }
    } else {
      std::vector<uint64_t> batch;
      w->IntegerBatch(n, &batch);
      ASSERT_EQ(batch.size(), n);
      GridImage grid;
      if (kind == ModelKind::kGrid) {
        ASSERT_TRUE(GridImage::FromClassifier(*w->classifier(), &grid).ok());
      }
      for (uint64_t i = 0; i < n; ++i) {
        uint64_t answer;
        if (kind == ModelKind::kRmi) {
          const SearchBound b = w->rmi()->Lookup(batch[i]);
          answer = b.lo | (b.hi << 32);
        } else {
          answer = static_cast<uint32_t>(grid.ScoreMapped(batch[i]));
        }
        ASSERT_EQ(answer, cpu[i]) << ModelKindName(kind) << " item " << i;
      }
    }
  }
  std::unique_ptr<Workload> w;
  EXPECT_TRUE(Workload::Build(ModelKind::kRmiTraining, o, &w).IsInvalidArgument());
  o.mlp_dims = {32};
  EXPECT_TRUE(Workload::Build(ModelKind::kMlp, o, &w).IsInvalidArgument());
}

}  // namespace
}  // namespace learnkv::accel::gpu
