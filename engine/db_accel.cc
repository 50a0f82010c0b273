// The read path's accelerator scheduling (see db_accel.h).
#include "engine/db_accel.h"

#include <algorithm>
#include <chrono>
#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <utility>

#include "engine/filename.h"
#include "learned/filter_policy.h"
#include "sstable/internal_key.h"

namespace learnkv {

namespace {

using accel::ModelKind;
using accel::ModelShape;

// What Open measures when there is no calibration file: the kinds the read path and
// compaction use (not the MLP), on models and pools a quarter of CalibrateCpu's defaults, three
// trials per point. It takes a few hundred ms instead of over a second, because it runs inside
// DB::Open. On the VM here its RMI curve stayed within 10% of the default calibration's; fits
// of more than 256K keys are costed at the 256K point. learnkv-calibrate writes a fuller file.
accel::CalibrationOptions QuickCalibration() {
  accel::CalibrationOptions o;
  o.kinds = {ModelKind::kRmi, ModelKind::kNgram, ModelKind::kGrid, ModelKind::kRmiTraining};
  o.max_batch = 65536;
  o.model_keys = 1 << 18;
  o.probe_pool = 1 << 18;
  o.max_training_keys = 1 << 18;
  o.min_point_ms = 0.5;
  o.trials = 3;
  o.max_point_ms = 100;
  return o;
}

// The scheduler keeps resident weights by model id; a table's RMI and its filter's classifier
// are separate models, so each table gets two ids (file numbers start above 0).
uint64_t RmiId(uint64_t number) { return number * 2; }
uint64_t FilterId(uint64_t number) { return number * 2 + 1; }

double MeanUserKeyBytes(const TableReader& table) {
  const TableProperties& p = table.properties();
  if (p.num_entries == 0) return 0;
  const double mean = static_cast<double>(p.raw_key_bytes) / static_cast<double>(p.num_entries);
  return std::max(0.0, mean - static_cast<double>(kInternalKeyTrailerSize));
}

// Writes the calibration next to its final name and renames it there, so that a crash never
// leaves a half-written file for the next Open to trip over.
Status SaveCalibration(Env* env, const accel::CpuCalibration& calibration,
                       const std::string& path) {
  const std::string tmp = path + ".tmp";
  Status s = WriteStringToFile(env, calibration.ToText(), tmp, /*sync=*/true);
  if (s.ok()) s = env->RenameFile(tmp, path);
  if (!s.ok()) env->RemoveFile(tmp);
  return s;
}

double NanosSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - start).count();
}

void AppendValue(std::string* out, const std::string& name, double v) {
  char buf[64];
  if (v == std::floor(v) && std::fabs(v) < 1e15) {
    std::snprintf(buf, sizeof(buf), "%.0f", v);
  } else {
    std::snprintf(buf, sizeof(buf), "%.6g", v);
  }
  *out += name + "=" + buf + "\n";
}

void AppendValue(std::string* out, const std::string& name, const std::string& v) {
  *out += name + "=" + v + "\n";
}

}  // namespace

Status DBAccelerator::Open(const Options& options, const std::string& dbname, InfoLog* log,
                           std::unique_ptr<DBAccelerator>* result) {
  Env* const env = options.env;
  accel::DeviceSpec device;
  Status s = accel::LoadDevice(env, options.accelerator, &device);
  if (!s.ok()) {
    std::string presets;
    for (const std::string& name : accel::DevicePresetNames()) {
      presets += (presets.empty() ? "" : ", ") + name;
    }
    return Status::InvalidArgument("accelerator",
                                   "'" + options.accelerator + "' is neither a preset (" + presets +
                                       ") nor a usable device description file: " + s.ToString());
  }

  const bool default_place = options.accel_calibration_file.empty();
  const std::string path =
      default_place ? AccelCalibrationFileName(dbname) : options.accel_calibration_file;
  accel::CpuCalibration calibration;
  bool loaded = false;
  if (env->FileExists(path)) {
    s = accel::CpuCalibration::Load(env, path, &calibration);
    if (s.ok()) {
      loaded = true;
    } else if (default_place) {
      // Ours, and only a measurement: measure again rather than refuse to open the DB.
      log->Log("Accelerator: calibration %s is unusable (%s); calibrating again", path.c_str(),
               s.ToString().c_str());
    } else {
      return s;
    }
  }
  if (!loaded) {
    const auto start = std::chrono::steady_clock::now();
    s = accel::CalibrateCpu(QuickCalibration(), &calibration);
    if (s.ok()) s = SaveCalibration(env, calibration, path);
    if (!s.ok()) return s;
    log->Log("Accelerator: calibrated the CPU in %.0f ms, saved to %s", NanosSince(start) / 1e6,
             path.c_str());
  }

  accel::AccelOptions ao;
  ao.offload = options.accel_offload;
  // A negative target means none, as 0 does.
  ao.latency_target_ns = std::max(0.0, options.accel_latency_target_micros) * 1e3;
  auto scheduler = std::make_unique<accel::AccelScheduler>(device, std::move(calibration), ao);
  log->Log("Accelerator: %s; cpu calibration %s", device.Summary().c_str(),
           scheduler->calibration().origin().c_str());
  result->reset(new DBAccelerator(options, std::move(scheduler), log));
  return Status::OK();
}

DBAccelerator::DBAccelerator(const Options& options,
                             std::unique_ptr<accel::AccelScheduler> scheduler, InfoLog* log)
    : offload_(options.accel_offload),
      latency_target_us_(std::max(0.0, options.accel_latency_target_micros)),
      max_wait_micros_(options.accel_max_wait_micros),
      batch_cap_(std::max<uint64_t>(1, options.accel_batch_cap)),
      log_(log),
      scheduler_(std::move(scheduler)),
      queue_(max_wait_micros_ == 0 ? nullptr
                                   : std::make_unique<accel::InferenceQueue>(
                                         scheduler_.get(), accel::InferenceQueueOptions{
                                                               max_wait_micros_, batch_cap_})) {}

DBAccelerator::~DBAccelerator() = default;

accel::Decision DBAccelerator::Decide(ModelKind kind, uint64_t model_id, const ModelShape& shape,
                                      uint64_t n) {
  if (queue_ != nullptr) return queue_->Join(kind, model_id, shape, n).decision;
  return scheduler_->Submit(kind, n, shape, accel::BatchContext{model_id, 1, 0});
}

void DBAccelerator::FilterBatch(const TableReader& table, uint64_t number, size_t n) {
  const Filter* filter = table.filter();
  const LearnedFilter* learned = filter == nullptr ? nullptr : filter->learned();
  if (learned == nullptr || n == 0) return;
  const FilterClassifier& classifier = learned->classifier();
  const ModelKind kind =
      classifier.kind() == ClassifierKind::kNgram ? ModelKind::kNgram : ModelKind::kGrid;
  // Every key counts, although the filter's front fuse filter may reject a key before the
  // classifier scores it: a device would be handed the whole batch.
  Decide(kind, FilterId(number), ModelShape::ForClassifier(classifier, MeanUserKeyBytes(table)), n);
}

bool DBAccelerator::ModelBatch(const TableReader& table, uint64_t number, size_t n) {
  const Rmi* model = table.model();
  if (model == nullptr || n == 0) return false;
  return Decide(ModelKind::kRmi, RmiId(number), ModelShape::ForRmi(model->stats()), n)
      .run_on_device;
}

Status DBAccelerator::TableGet(TableCache* cache, const FileMetaData& f, const Slice& internal_key,
                               TableReader::EntryCallback on_entry) {
  std::shared_ptr<const TableReader> holder;
  const TableReader* table = nullptr;
  Status s = cache->Reader(f, &holder, &table);
  if (!s.ok()) return s;
  // The filter is asked here, not by TableReader::Get, so that a key it rules out costs no
  // RMI batch, as in TableReader::Get itself.
  FilterBatch(*table, f.number, 1);
  if (!table->KeyMayMatch(ExtractUserKey(internal_key))) return Status::OK();
  ModelBatch(*table, f.number, 1);  // one key: the prediction is the search's first step
  return table->Get(internal_key, on_entry, /*use_filter=*/false);
}

bool DBAccelerator::BeforeMultiGet(const TableReader& table, uint64_t number, size_t n) {
  FilterBatch(table, number, n);
  return ModelBatch(table, number, n);
}

void DBAccelerator::AdviseTraining(const FileMetaData& meta) {
  const bool learned = meta.index_kind == static_cast<uint8_t>(IndexType::kLearned);
  if (!learned && meta.training_micros == 0) return;  // no model was fitted
  // The fit's output is the model; a model that was fitted but not chosen left no size
  // behind, and its transfer back is a small term, so it is left out.
  const double model_bytes = learned ? static_cast<double>(meta.index_bytes) : 0;
  const accel::TrainingAdvice a = scheduler_->AdviseTraining(meta.num_entries, model_bytes);
  {
    MutexLock l(&mu_);
    ++fits_;
    fit_keys_ += meta.num_entries;
    fit_measured_ns_ += static_cast<double>(meta.training_micros) * 1e3;
    if (std::isfinite(a.predicted_cpu_ns)) fit_cpu_predicted_ns_ += a.predicted_cpu_ns;
    if (std::isfinite(a.predicted_device_ns)) fit_device_simulated_ns_ += a.predicted_device_ns;
    if (a.offload_pays) ++fits_offload_pays_;
  }
  if (a.offload_pays) {
    log_->Log("Accelerator: fitting the model of table #%" PRIu64 " (%" PRIu64
              " entries) on %s would pay: %.3f ms on the device (simulated) against %.3f ms on "
              "the CPU (predicted); the fit took %.3f ms (measured)",
              meta.number, meta.num_entries, scheduler_->device().name.c_str(),
              a.predicted_device_ns / 1e6, a.predicted_cpu_ns / 1e6,
              static_cast<double>(meta.training_micros) / 1e3);
  }
}

std::string DBAccelerator::OffString() {
  return "accelerator: off (Options::accelerator is empty)\n";
}

std::string DBAccelerator::OffValues() { return "accelerator=off\n"; }

std::string DBAccelerator::ToString() const {
  std::string out = scheduler_->ToString();
  char line[512];
  if (queue_ == nullptr) {
    std::snprintf(line, sizeof(line),
                  "batches: the keys one MultiGet sends to one table, or one Get's key; no "
                  "gathering (accel_max_wait_micros 0)\n");
  } else {
    std::snprintf(line, sizeof(line),
                  "batches: concurrent Gets and MultiGets of one table gathered for up to %" PRIu64
                  " us (measured wait), at most %" PRIu64 " items\n",
                  max_wait_micros_, batch_cap_);
  }
  out += line;
  MutexLock l(&mu_);
  if (fits_ > 0) {
    std::snprintf(line, sizeof(line),
                  "model fits in flushes and compactions: %" PRIu64 " (%" PRIu64
                  " keys), %.3f ms measured on the CPU; %.3f ms predicted on the CPU, %.3f ms "
                  "simulated on the device; offloading would pay for %" PRIu64 "\n",
                  fits_, fit_keys_, fit_measured_ns_ / 1e6, fit_cpu_predicted_ns_ / 1e6,
                  fit_device_simulated_ns_ / 1e6, fits_offload_pays_);
    out += line;
  }
  out +=
      "results are always computed on the CPU; figures marked simulated or predicted are "
      "not measurements\n";
  return out;
}

std::string DBAccelerator::ToValues() const {
  const accel::AccelStats s = scheduler_->GetStats();
  const accel::DeviceSpec& d = scheduler_->device();
  std::string out;
  AppendValue(&out, "accelerator", d.name);
  AppendValue(&out, "device_calibrated", d.calibrated ? 1 : 0);
  AppendValue(&out, "offload", offload_ ? 1 : 0);
  AppendValue(&out, "latency_target_us", latency_target_us_);
  AppendValue(&out, "queue_max_wait_us", static_cast<double>(max_wait_micros_));
  AppendValue(&out, "queue_batch_cap", static_cast<double>(batch_cap_));
  AppendValue(&out, "batches", static_cast<double>(s.batches));
  AppendValue(&out, "items", static_cast<double>(s.items));
  AppendValue(&out, "offloaded_items", static_cast<double>(s.device_items));
  AppendValue(&out, "offloaded_fraction", s.FractionOffloaded());
  double cpu_ns = 0, device_ns = 0, chosen_ns = 0;
  for (int i = 0; i < accel::kNumModelKinds; ++i) {
    const accel::KindStats& k = s.kinds[i];
    cpu_ns += k.cpu_ns;
    device_ns += k.device_ns;
    chosen_ns += k.chosen_ns;
  }
  AppendValue(&out, "cpu_predicted_ms", cpu_ns / 1e6);
  AppendValue(&out, "device_simulated_ms", device_ns / 1e6);
  AppendValue(&out, "chosen_predicted_ms", chosen_ns / 1e6);
  AppendValue(&out, "device_busy_simulated_ms", s.device_busy_ns / 1e6);
  AppendValue(&out, "device_utilization_simulated", s.utilization);
  AppendValue(&out, "elapsed_measured_s", s.elapsed_ns / 1e9);
  // Recorded in ns (see AccelStats), reported in us.
  const Histogram& dev = s.latency_with_device_ns;
  const Histogram& cpu = s.latency_cpu_only_ns;
  AppendValue(&out, "latency_with_device_predicted_us_mean", dev.Average() / 1e3);
  AppendValue(&out, "latency_with_device_predicted_us_p50", dev.Median() / 1e3);
  AppendValue(&out, "latency_with_device_predicted_us_p99", dev.Percentile(99) / 1e3);
  AppendValue(&out, "latency_cpu_only_predicted_us_mean", cpu.Average() / 1e3);
  AppendValue(&out, "latency_cpu_only_predicted_us_p50", cpu.Median() / 1e3);
  AppendValue(&out, "latency_cpu_only_predicted_us_p99", cpu.Percentile(99) / 1e3);
  AppendValue(&out, "gathered_batches", static_cast<double>(s.gathered_batches));
  AppendValue(&out, "gathered_callers", static_cast<double>(s.gathered_callers));
  AppendValue(&out, "gather_wait_measured_ms", s.gather_wait_ns / 1e6);
  AppendValue(&out, "weight_uploads", static_cast<double>(s.weight_uploads));
  AppendValue(&out, "resident_weight_bytes", s.resident_bytes);
  // The read path's kinds always (so that a reader finds every name); the break-even only
  // once a batch has shown the model's shape.
  for (const ModelKind kind : {ModelKind::kRmi, ModelKind::kNgram, ModelKind::kGrid}) {
    const accel::KindStats& k = s.kinds[static_cast<size_t>(kind)];
    const std::string p = accel::ModelKindName(kind);
    AppendValue(&out, p + "_batches", static_cast<double>(k.batches));
    AppendValue(&out, p + "_items", static_cast<double>(k.items));
    AppendValue(&out, p + "_offloaded_items", static_cast<double>(k.device_items));
    AppendValue(&out, p + "_largest_batch", static_cast<double>(k.largest_batch));
    AppendValue(&out, p + "_cpu_predicted_ms", k.cpu_ns / 1e6);
    AppendValue(&out, p + "_device_simulated_ms", k.device_ns / 1e6);
    if (!k.has_shape) continue;
    const uint64_t be = scheduler_->BreakEvenBatchSize(kind, k.last_shape);
    AppendValue(&out, p + "_break_even", be == 0 ? std::string("none") : std::to_string(be));
  }
  MutexLock l(&mu_);
  AppendValue(&out, "training_fits", static_cast<double>(fits_));
  AppendValue(&out, "training_keys", static_cast<double>(fit_keys_));
  AppendValue(&out, "training_offload_pays", static_cast<double>(fits_offload_pays_));
  AppendValue(&out, "training_cpu_measured_ms", fit_measured_ns_ / 1e6);
  AppendValue(&out, "training_cpu_predicted_ms", fit_cpu_predicted_ns_ / 1e6);
  AppendValue(&out, "training_device_simulated_ms", fit_device_simulated_ns_ / 1e6);
  AppendValue(&out, "training_saving_predicted_ms", s.training_saving_ns / 1e6);
  if (s.kinds[static_cast<size_t>(ModelKind::kRmiTraining)].has_shape) {
    const uint64_t be = scheduler_->BreakEvenBatchSize(
        ModelKind::kRmiTraining, s.kinds[static_cast<size_t>(ModelKind::kRmiTraining)].last_shape);
    AppendValue(&out, "rmi_train_break_even", be == 0 ? std::string("none") : std::to_string(be));
  }
  return out;
}

}  // namespace learnkv
