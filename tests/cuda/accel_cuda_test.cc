// The GPU test of the CUDA back end (learned/accel/cuda/cuda_device.h): on a real GPU, every
// kernel's answers equal the CPU models' bit for bit — RMIs of every root kind on several key
// sets, n-gram classifiers of both weight widths, grid classifiers, MLPs on both kernel paths
// — for batch sizes from 1 to a few hundred thousand, unpipelined and in pipeline chunks, and
// the microbenchmarks return sane times. Built only with -DLEARNKV_CUDA=ON; without a usable
// GPU every test is skipped with the runtime's reason.
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "learned/accel/cpu_calibration.h"
#include "learned/accel/cuda/cuda_device.h"
#include "learned/accel/cuda/model_images.h"
#include "learned/accel/mlp.h"
#include "learned/filter_classifier.h"
#include "learned/key_mapping.h"
#include "learned/rmi.h"
#include "util/datasets.h"
#include "util/random.h"

namespace learnkv::accel::gpu {
namespace {

class AccelCudaTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const Status s = CudaDevice::Open(0, &gpu_);
    if (s.IsNotSupported()) GTEST_SKIP() << s.message();
    ASSERT_TRUE(s.ok()) << s.ToString();
  }

  std::unique_ptr<CudaDevice> gpu_;
};

const std::vector<uint64_t> kBatchSizes = {1, 2, 31, 1000, 65536, 300007};
const std::vector<uint32_t> kChunks = {1, 3, 16};

std::vector<uint64_t> IntegerKeys(Dataset d, size_t n, uint64_t seed) {
  return CalibrationKeys(d, n, seed);
}

std::vector<uint64_t> Probes(const std::vector<uint64_t>& keys, size_t n, uint64_t seed) {
  Random rnd(seed);
  std::vector<uint64_t> probes = {0, ~uint64_t{0}};
  while (probes.size() < n) {
    const uint64_t k = keys[rnd.Uniform64(keys.size())];
    probes.push_back(rnd.OneIn(3) ? rnd.Next64() : k + rnd.Uniform(3) - 1);
  }
  probes.resize(n);
  return probes;
}

std::vector<std::string> StringProbes(size_t n, uint64_t seed) {
  std::vector<std::string> keys = GenerateSortedKeys(Dataset::kUrl, n, seed);
  Random rnd(seed);
  for (size_t i = 0; i < keys.size(); i += 97) {  // some long and some binary keys
    keys[i] = std::string(rnd.Uniform(400), static_cast<char>(rnd.Uniform(256)));
  }
  return keys;
}

// For every batch size in `sizes` and every pipeline chunk count, scores the first n items
// with run(n, options, out) and expects item i's score to be expected(i).
template <typename Run, typename Expected>
void ExpectEveryBatchScores(const std::vector<uint64_t>& sizes, Run run, Expected expected,
                            const std::string& what) {
  for (uint64_t n : sizes) {
    for (uint32_t chunks : kChunks) {
      ExecuteOptions eo;
      eo.chunks = chunks;
      std::vector<int32_t> out(n);
      ASSERT_TRUE(run(n, eo, out.data()).ok());
      for (uint64_t i = 0; i < n; ++i) {
        ASSERT_EQ(out[i], expected(i))
            << what << " n=" << n << " chunks=" << chunks << " item " << i;
      }
    }
  }
}

TEST_F(AccelCudaTest, RmiBoundsEqualLookup) {
  for (Dataset d : {Dataset::kLognormal, Dataset::kUniformSparse, Dataset::kOsmLike}) {
    const std::vector<uint64_t> keys = IntegerKeys(d, 200000, 3);
    const std::vector<uint64_t> probes = Probes(keys, kBatchSizes.back(), 4);
    for (RmiRootKind kind :
         {RmiRootKind::kLinear, RmiRootKind::kLinearSpline, RmiRootKind::kRadix}) {
      RmiOptions o;
      o.auto_root = false;
      o.root_kind = kind;
      std::vector<uint64_t> copy = keys;
      const std::unique_ptr<Rmi> rmi = RmiBuilder(o, std::move(copy)).Finish();
      std::unique_ptr<CudaModel> model;
      ASSERT_TRUE(gpu_->UploadRmi(*rmi, &model).ok());
      for (uint64_t n : kBatchSizes) {
        for (uint32_t chunks : kChunks) {
          ExecuteOptions eo;
          eo.chunks = chunks;
          std::vector<SearchBound> out(n);
          BatchTiming t;
          ASSERT_TRUE(gpu_->PredictBounds(*model, probes.data(), n, out.data(), eo, &t).ok());
          EXPECT_GT(t.device_ns, 0);
          for (uint64_t i = 0; i < n; ++i) {
            const SearchBound cpu = rmi->Lookup(probes[i]);
            ASSERT_TRUE(out[i].lo == cpu.lo && out[i].hi == cpu.hi)
                << DatasetName(d) << " " << RmiRootKindName(kind) << " n=" << n
                << " chunks=" << chunks << " item " << i;
          }
        }
      }
    }
  }
}

TEST_F(AccelCudaTest, NgramScoresEqualScore) {
  const std::vector<std::string> pos_keys = GenerateSortedKeys(Dataset::kUrl, 4000, 5);
  const std::vector<std::string> neg_keys = GenerateAbsentKeys(Dataset::kUrl, pos_keys, 4000, 6);
  const std::vector<Slice> pos(pos_keys.begin(), pos_keys.end());
  const std::vector<Slice> neg(neg_keys.begin(), neg_keys.end());
  const std::vector<std::string> probes = StringProbes(kBatchSizes.back(), 7);
  const std::vector<Slice> slices(probes.begin(), probes.end());
  for (int log2_slots : {12, 18}) {  // weights in shared memory, and in global memory
    NgramTrainOptions t;
    t.log2_slots = log2_slots;
    t.orders = (1u << 3) | (1u << 5);
    t.epochs = 1;
    for (const auto& c : NgramClassifier::Train(pos, neg, t, {WeightBits::k8, WeightBits::k4})) {
      std::unique_ptr<CudaModel> model;
      ASSERT_TRUE(gpu_->UploadClassifier(*c, &model).ok());
      EXPECT_EQ(model->kind(), ModelKind::kNgram);
      ExpectEveryBatchScores(
          kBatchSizes,
          [&](uint64_t n, const ExecuteOptions& eo, int32_t* out) {
            return gpu_->ScoreStrings(*model, slices.data(), n, out, eo, nullptr);
          },
          [&](uint64_t i) { return c->Score(slices[i]); }, c->Describe());
    }
  }
}

TEST_F(AccelCudaTest, GridScoresEqualScore) {
  const std::vector<uint64_t> keys = IntegerKeys(Dataset::kLognormal, 200000, 8);
  const std::vector<uint64_t> probes = Probes(keys, kBatchSizes.back(), 9);
  for (int bits : {1, 2, 4}) {
    const std::unique_ptr<GridClassifier> grid =
        GridClassifier::Train(KeyMapper(), keys, Probes(keys, 5000, 10), 40, bits);
    std::unique_ptr<CudaModel> model;
    ASSERT_TRUE(gpu_->UploadClassifier(*grid, &model).ok());
    EXPECT_EQ(model->kind(), ModelKind::kGrid);
    ExpectEveryBatchScores(
        kBatchSizes,
        [&](uint64_t n, const ExecuteOptions& eo, int32_t* out) {
          return gpu_->ScoreIntegers(*model, probes.data(), n, out, eo, nullptr);
        },
        [&](uint64_t i) { return grid->Score(EncodeIntegerKey(probes[i])); },
        "bits " + std::to_string(bits));
  }
}

TEST_F(AccelCudaTest, MlpScoresEqualScoreOnBothPaths) {
  const std::vector<std::string> probes = StringProbes(70000, 11);
  const std::vector<Slice> slices(probes.begin(), probes.end());
  for (const std::vector<uint32_t>& dims :
       std::vector<std::vector<uint32_t>>{Int8Mlp::DefaultDims(), {5, 7, 3, 2}, {33, 130, 17, 1}}) {
    const std::unique_ptr<Int8Mlp> mlp = Int8Mlp::Random(dims, 21);
    MlpImage image;
    ASSERT_TRUE(MlpImage::FromSeed(dims, 21, &image).ok());
    std::unique_ptr<CudaModel> model;
    ASSERT_TRUE(gpu_->UploadMlp(image, &model).ok());
    ExpectEveryBatchScores(
        {1, 1000, 70000},
        [&](uint64_t n, const ExecuteOptions& eo, int32_t* out) {
          return gpu_->ScoreStrings(*model, slices.data(), n, out, eo, nullptr);
        },
        [&](uint64_t i) { return mlp->Score(slices[i]); }, "mlp");
  }
}

TEST_F(AccelCudaTest, TimingsAndMisuse) {
  const std::vector<uint64_t> keys = IntegerKeys(Dataset::kLognormal, 10000, 3);
  std::unique_ptr<Rmi> rmi = RmiBuilder(RmiOptions(), std::vector<uint64_t>(keys)).Finish();
  std::unique_ptr<CudaModel> model;
  ASSERT_TRUE(gpu_->UploadRmi(*rmi, &model).ok());
  EXPECT_GT(model->weight_bytes(), 0u);
  // Execute before anything is staged, and kernel_only before a full Execute.
  EXPECT_TRUE(gpu_->Execute(*model, ExecuteOptions(), nullptr).IsInvalidArgument());
  BatchTiming t;
  ASSERT_TRUE(gpu_->StageIntegers(*model, keys.data(), keys.size(), &t).ok());
  ExecuteOptions kernel;
  kernel.kernel_only = true;
  EXPECT_TRUE(gpu_->Execute(*model, kernel, &t).IsInvalidArgument());
  ExecuteOptions phases;
  phases.phase_events = true;
  ASSERT_TRUE(gpu_->Execute(*model, phases, &t).ok());
  EXPECT_GT(t.h2d_ns, 0);
  EXPECT_GT(t.kernel_ns, 0);
  EXPECT_GT(t.d2h_ns, 0);
  EXPECT_GE(t.device_ns, t.h2d_ns + t.kernel_ns + t.d2h_ns);
  ASSERT_TRUE(gpu_->Execute(*model, kernel, &t).ok());
  EXPECT_GT(t.kernel_ns, 0);
  std::vector<int32_t> scores(keys.size());
  EXPECT_TRUE(gpu_->CollectScores(scores.data(), nullptr).IsInvalidArgument());  // an RMI batch
  std::vector<Slice> none;
  EXPECT_TRUE(gpu_->StageStrings(*model, none.data(), 0, nullptr).IsInvalidArgument());

  std::vector<double> ns;
  ASSERT_TRUE(gpu_->TimeEmptyLaunch(20, &ns).ok());
  ASSERT_EQ(ns.size(), 20u);
  for (double v : ns) EXPECT_GT(v, 0);
  ASSERT_TRUE(gpu_->TimeCopies(CopyDirection::kHostToDevice, 1 << 20, 4, 3, &ns).ok());
  ASSERT_EQ(ns.size(), 3u);
  double bw = 0;
  ASSERT_TRUE(gpu_->DeviceCopyBandwidth(64 << 20, 3, &bw).ok());
  EXPECT_GT(bw, 1e10);
  EXPECT_FALSE(gpu_->Describe().empty());
  EXPECT_GT(gpu_->memory_bytes(), 1e9);
}

}  // namespace
}  // namespace learnkv::accel::gpu
