// Workloads of the GPU calibration and validation (see workload.h). The keys, probes and
// models come from learned/accel/cpu_calibration.h, so both sides time the same work.
#include "learned/accel/cuda/workload.h"

#include <algorithm>
#include <cstdio>

#include "learned/accel/cpu_calibration.h"
#include "learned/key_mapping.h"
#include "util/coding.h"

namespace learnkv::accel::gpu {

namespace {

std::vector<uint64_t> IntegerKeys(const WorkloadOptions& o) {
  return CalibrationKeys(o.dataset, o.model_keys, o.seed);
}

std::vector<std::string> StringProbes(const WorkloadOptions& o) {
  return CalibrationStrings(std::max<uint64_t>(1, std::min(o.probe_pool / 4, o.max_batch)),
                            o.seed + 4);
}

double MeanBytes(const std::vector<std::string>& keys) {
  double bytes = 0;
  for (const std::string& k : keys) bytes += static_cast<double>(k.size());
  return keys.empty() ? 0 : bytes / static_cast<double>(keys.size());
}

}  // namespace

Status Workload::Build(ModelKind kind, const WorkloadOptions& o,
                       std::unique_ptr<Workload>* result) {
  if (o.model_keys < 2 || o.probe_pool == 0 || o.max_batch == 0 || !IsIntegerDataset(o.dataset)) {
    return Status::InvalidArgument("gpu workload: options out of range");
  }
  std::unique_ptr<Workload> w(new Workload());
  w->kind_ = kind;
  const uint64_t pool = std::min(o.probe_pool, o.max_batch);
  char line[256];
  switch (kind) {
    case ModelKind::kRmi: {
      std::vector<uint64_t> keys = IntegerKeys(o);
      std::vector<uint64_t> copy = keys;
      w->rmi_ = RmiBuilder(RmiOptions(), std::move(copy)).Finish();
      w->int_probes_ = CalibrationProbes(keys, pool, o.seed + 1);
      w->shape_ = ModelShape::ForRmi(w->rmi_->stats());
      std::snprintf(line, sizeof(line), "rmi: %s root, %u leaves, %llu %s keys; %llu probes",
                    RmiRootKindName(w->rmi_->stats().root_kind), w->rmi_->stats().num_leaves,
                    static_cast<unsigned long long>(keys.size()), DatasetName(o.dataset),
                    static_cast<unsigned long long>(pool));
      break;
    }
    case ModelKind::kGrid: {
      std::vector<uint64_t> keys = IntegerKeys(o);
      std::unique_ptr<GridClassifier> grid = CalibrationGrid(keys, o.seed);
      const std::vector<uint64_t> probes = CalibrationProbes(keys, pool, o.seed + 3);
      w->grid_keys_.assign(probes.size() * 8, '\0');
      w->int_probes_.resize(probes.size());
      for (size_t i = 0; i < probes.size(); ++i) {
        EncodeBigEndian64(&w->grid_keys_[i * 8], probes[i]);
        w->int_probes_[i] = grid->mapper().Map(Slice(&w->grid_keys_[i * 8], 8));
      }
      // The kernel gets 8-byte mapped keys: ForGrid's input is the key plus a 4-byte offset.
      w->shape_ = ModelShape::ForGrid(static_cast<double>(grid->EncodedBytes()), 4);
      std::snprintf(line, sizeof(line), "grid: %s; %llu probes", grid->Describe().c_str(),
                    static_cast<unsigned long long>(pool));
      w->classifier_ = std::move(grid);
      break;
    }
    case ModelKind::kNgram: {
      w->str_probes_ = StringProbes(o);
      std::unique_ptr<NgramClassifier> ngram =
          CalibrationNgram(std::min<size_t>(w->str_probes_.size(), 5000), o.seed);
      const double mean = MeanBytes(w->str_probes_);
      w->shape_ = ModelShape::ForNgram(static_cast<double>(ngram->EncodedBytes()), mean);
      std::snprintf(line, sizeof(line), "ngram: %s; %zu url probes of %.1f bytes on average",
                    ngram->Describe().c_str(), w->str_probes_.size(), mean);
      w->classifier_ = std::move(ngram);
      break;
    }
    case ModelKind::kMlp: {
      w->str_probes_ = StringProbes(o);
      Status s = MlpImage::FromSeed(o.mlp_dims, o.seed + 8, &w->mlp_image_);
      if (!s.ok()) return s;
      w->mlp_ = Int8Mlp::Random(o.mlp_dims, o.seed + 8);
      w->shape_ = ModelShape::ForMlp(o.mlp_dims);
      w->shape_.in_bytes = w->mlp_image_.FeatureBytes();
      w->shape_.device_bytes = w->shape_.in_bytes + w->shape_.out_bytes;
      std::string dims;
      for (uint32_t d : o.mlp_dims) dims += (dims.empty() ? "" : "-") + std::to_string(d);
      std::snprintf(line, sizeof(line), "mlp: %s int8; %zu url probes", dims.c_str(),
                    w->str_probes_.size());
      break;
    }
    default:
      return Status::InvalidArgument("gpu workload: no CUDA kernel for", ModelKindName(kind));
  }
  w->description_ = line;
  *result = std::move(w);
  return Status::OK();
}

std::string Workload::Describe() const { return description_ + "; " + shape_.ToString(); }

void Workload::IntegerBatch(uint64_t n, std::vector<uint64_t>* keys) const {
  keys->resize(n);
  const uint64_t pool = int_probes_.size();
  for (uint64_t i = 0, p = 0; i < n; ++i, p = p + 1 == pool ? 0 : p + 1) {
    (*keys)[i] = int_probes_[p];
  }
}

void Workload::StringBatch(uint64_t n, std::vector<Slice>* keys) const {
  keys->resize(n);
  const uint64_t pool = str_probes_.size();
  for (uint64_t i = 0, p = 0; i < n; ++i, p = p + 1 == pool ? 0 : p + 1) {
    (*keys)[i] = Slice(str_probes_[p]);
  }
}

namespace {

// out[i] = eval(probe index), the probes cycling; one loop per kind so eval inlines.
template <typename Eval>
void EvalCycling(uint64_t n, uint64_t pool, uint64_t* out, Eval&& eval) {
  for (uint64_t i = 0, p = 0; i < n; ++i) {
    out[i] = eval(p);
    if (++p == pool) p = 0;
  }
}

}  // namespace

void Workload::CpuBatch(uint64_t n, uint64_t* out) const {
  switch (kind_) {
    case ModelKind::kRmi: {
      const Rmi* rmi = rmi_.get();
      const uint64_t* probes = int_probes_.data();
      EvalCycling(n, int_probes_.size(), out, [&](uint64_t p) {
        const SearchBound b = rmi->Lookup(probes[p]);
        return b.lo | (b.hi << 32);
      });
      break;
    }
    case ModelKind::kGrid: {
      const FilterClassifier* grid = classifier_.get();
      const char* base = grid_keys_.data();
      EvalCycling(n, int_probes_.size(), out, [&](uint64_t p) {
        return uint64_t{static_cast<uint32_t>(grid->Score(Slice(base + p * 8, 8)))};
      });
      break;
    }
    case ModelKind::kNgram: {
      const FilterClassifier* ngram = classifier_.get();
      EvalCycling(n, str_probes_.size(), out, [&](uint64_t p) {
        return uint64_t{static_cast<uint32_t>(ngram->Score(Slice(str_probes_[p])))};
      });
      break;
    }
    case ModelKind::kMlp: {
      const Int8Mlp* mlp = mlp_.get();
      EvalCycling(n, str_probes_.size(), out, [&](uint64_t p) {
        return uint64_t{static_cast<uint32_t>(mlp->Score(Slice(str_probes_[p])))};
      });
      break;
    }
    default:
      break;
  }
}

}  // namespace learnkv::accel::gpu
