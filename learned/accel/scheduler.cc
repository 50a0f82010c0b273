// The offload scheduler: decisions, the virtual device clock, resident weights and the
// statistics (see scheduler.h).
#include "learned/accel/scheduler.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>

namespace learnkv::accel {

namespace {

double Ms(double ns) { return ns / 1e6; }

std::string Fixed(const char* format, double v) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), format, v);
  return buf;
}

}  // namespace

AccelScheduler::AccelScheduler(const DeviceSpec& device, CpuCalibration calibration,
                               AccelOptions options)
    : device_(device),
      calibration_(std::move(calibration)),
      options_(std::move(options)),
      weight_budget_(options_.resident_weight_bytes > 0 ? options_.resident_weight_bytes
                                                        : device.mem_bytes) {
  MutexLock l(&mu_);
  start_ns_ = NowNs();
}

uint64_t AccelScheduler::NowNs() const {
  if (options_.now_nanos) return options_.now_nanos();
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                   std::chrono::steady_clock::now().time_since_epoch())
                                   .count());
}

bool AccelScheduler::IsResident(uint64_t model_id) const {
  return model_id != 0 && resident_.count(model_id) > 0;
}

void AccelScheduler::MakeResident(uint64_t model_id, double bytes) {
  if (model_id == 0 || bytes > weight_budget_) return;
  auto it = resident_.find(model_id);
  if (it != resident_.end()) {
    lru_.splice(lru_.begin(), lru_, it->second.pos);
    return;
  }
  lru_.push_front(model_id);
  resident_[model_id] = Resident{lru_.begin(), bytes};
  stats_.resident_bytes += bytes;
  while (stats_.resident_bytes > weight_budget_) {
    const uint64_t victim = lru_.back();
    lru_.pop_back();
    stats_.resident_bytes -= resident_[victim].bytes;
    resident_.erase(victim);
  }
}

double AccelScheduler::PredictCpuNs(ModelKind kind, uint64_t n) const {
  return calibration_.PredictNs(kind, n);
}

DeviceCost AccelScheduler::PredictDevice(const ModelShape& shape, uint64_t n,
                                         bool weights_resident) const {
  return BestDeviceCost(device_, shape, n, weights_resident, options_.max_pipeline_chunks);
}

Decision AccelScheduler::Submit(ModelKind kind, uint64_t batch_size, const ModelShape& shape,
                                const BatchContext& context) {
  Decision d;
  d.predicted_cpu_ns = PredictCpuNs(kind, batch_size);
  MutexLock l(&mu_);
  const bool resident = IsResident(context.model_id);
  const DeviceCost cost = PredictDevice(shape, batch_size, resident);
  d.predicted_device_ns = cost.total_ns;
  const double cpu_latency = d.predicted_cpu_ns;
  // The queue only adds to the device's time, so a device slower than the CPU on an empty
  // queue loses whatever the queue holds, target or not. Only then is the clock skipped: on
  // a VM reading it is a good part of what a Get's batch of one costs here.
  double now = 0;
  if (!(d.predicted_device_ns >= cpu_latency)) {
    now = static_cast<double>(NowNs() - start_ns_);
    d.device_queue_ns = std::max(0.0, device_free_at_ns_ - now);
  }
  const double device_latency = d.device_queue_ns + d.predicted_device_ns;

  if (!options_.offload) {
    d.reason = "offload disabled";
  } else if (!cost.supported) {
    d.reason = cost.bound;
  } else if (!std::isfinite(cpu_latency)) {
    d.reason = "cpu not calibrated";  // nothing is offloaded on a comparison it cannot make
  } else {
    const double target = options_.latency_target_ns;
    const bool cpu_ok = target <= 0 || cpu_latency <= target;
    const bool device_ok = target <= 0 || device_latency <= target;
    if (cpu_ok == device_ok) {
      d.run_on_device = device_latency < cpu_latency;
      if (cpu_ok) {
        d.reason = d.run_on_device ? "device faster" : "cpu faster";
      } else {
        d.reason = d.run_on_device ? "neither meets target, device faster"
                                   : "neither meets target, cpu faster";
      }
    } else {
      d.run_on_device = device_ok;
      d.reason = device_ok ? "cpu misses latency target" : "device misses latency target";
    }
  }
  d.latency_ns = d.run_on_device ? device_latency : cpu_latency;

  KindStats& k = stats_.kinds[static_cast<size_t>(kind)];
  ++k.batches;
  k.items += batch_size;
  k.largest_batch = std::max(k.largest_batch, batch_size);
  if (std::isfinite(d.predicted_cpu_ns)) k.cpu_ns += d.predicted_cpu_ns;
  if (cost.supported) k.device_ns += d.predicted_device_ns;
  if (std::isfinite(d.latency_ns)) k.chosen_ns += d.latency_ns;
  k.has_shape = true;
  k.last_shape = shape;
  ++stats_.batches;
  stats_.items += batch_size;
  if (d.run_on_device) {
    ++k.device_batches;
    k.device_items += batch_size;
    stats_.device_items += batch_size;
    device_free_at_ns_ = std::max(now, device_free_at_ns_) + d.predicted_device_ns;
    stats_.device_busy_ns += d.predicted_device_ns;
    if (!resident && shape.weight_bytes > 0) {
      ++stats_.weight_uploads;
      MakeResident(context.model_id, shape.weight_bytes);
    } else if (resident) {
      MakeResident(context.model_id, shape.weight_bytes);  // most recently used now
    }
  }
  if (context.callers > 1) {
    ++stats_.gathered_batches;
    stats_.gathered_callers += context.callers;
  }
  stats_.gather_wait_ns += context.gather_wait_ns;
  if (std::isfinite(d.latency_ns)) {
    stats_.latency_with_device_ns.Add(context.gather_wait_ns + d.latency_ns);
  }
  if (std::isfinite(cpu_latency)) {
    stats_.latency_cpu_only_ns.Add(context.gather_wait_ns + cpu_latency);
  }
  return d;
}

TrainingAdvice AccelScheduler::AdviseTraining(uint64_t num_keys, double model_bytes) {
  TrainingAdvice a;
  a.predicted_cpu_ns = PredictCpuNs(ModelKind::kRmiTraining, num_keys);
  const DeviceCost cost = PredictDevice(ModelShape::ForRmiTraining(model_bytes), num_keys, true);
  a.predicted_device_ns = cost.total_ns;
  a.offload_pays = cost.supported && std::isfinite(a.predicted_cpu_ns) &&
                   a.predicted_device_ns < a.predicted_cpu_ns;
  MutexLock l(&mu_);
  KindStats& k = stats_.kinds[static_cast<size_t>(ModelKind::kRmiTraining)];
  k.has_shape = true;
  k.last_shape = ModelShape::ForRmiTraining(model_bytes);
  ++stats_.training_fits;
  stats_.largest_fit = std::max(stats_.largest_fit, num_keys);
  if (a.offload_pays) {
    ++stats_.training_offload_pays;
    stats_.training_saving_ns += a.predicted_cpu_ns - a.predicted_device_ns;
  }
  return a;
}

uint64_t AccelScheduler::BreakEvenBatchSize(ModelKind kind, const ModelShape& shape) const {
  if (!calibration_.Has(kind)) return 0;
  return accel::BreakEvenBatchSize(
      [&](uint64_t n) { return PredictCpuNs(kind, n); },
      [&](uint64_t n) { return PredictDevice(shape, n, true).total_ns; },
      options_.break_even_limit);
}

AccelStats AccelScheduler::GetStats() const {
  MutexLock l(&mu_);
  AccelStats s = stats_;
  s.elapsed_ns = static_cast<double>(NowNs() - start_ns_);
  const double span = std::max(s.elapsed_ns, device_free_at_ns_);
  s.utilization = span > 0 ? std::min(1.0, s.device_busy_ns / span) : 0;
  return s;
}

void AccelScheduler::ResetStats() {
  MutexLock l(&mu_);
  const uint64_t now = NowNs();
  // The device stays busy with what it was given; the clock restarts at now.
  device_free_at_ns_ = std::max(0.0, device_free_at_ns_ - static_cast<double>(now - start_ns_));
  start_ns_ = now;
  const double resident_bytes = stats_.resident_bytes;
  stats_ = AccelStats();
  stats_.resident_bytes = resident_bytes;
}

std::string AccelScheduler::ToString() const {
  const AccelStats s = GetStats();
  std::string out = "accelerator: " + device_.Summary() + "\n";
  out +=
      "  device times are simulated by the cost model; cpu times are predicted from a "
      "calibration (" +
      calibration_.origin() + ")\n";
  out += "  offload " + std::string(options_.offload ? "on" : "off (predictions only)") +
         ", latency target " +
         (options_.latency_target_ns > 0 ? Fixed("%.1f us", options_.latency_target_ns / 1e3)
                                         : std::string("none")) +
         "\n";
  char line[256];
  std::snprintf(line, sizeof(line), "%-10s %10s %12s %9s %12s %12s %12s %11s\n", "kind", "batches",
                "items", "offload", "cpu_pred_ms", "dev_sim_ms", "chosen_ms", "break_even");
  out += line;
  for (int i = 0; i < kNumModelKinds; ++i) {
    const ModelKind kind = static_cast<ModelKind>(i);
    const KindStats& k = s.kinds[i];
    if (!k.has_shape) continue;
    const uint64_t be = BreakEvenBatchSize(kind, k.last_shape);
    const double offloaded =
        k.items == 0 ? 0
                     : 100.0 * static_cast<double>(k.device_items) / static_cast<double>(k.items);
    std::snprintf(line, sizeof(line), "%-10s %10llu %12llu %8.1f%% %12.3f %12.3f %12.3f %11s\n",
                  ModelKindName(kind), static_cast<unsigned long long>(k.batches),
                  static_cast<unsigned long long>(k.items), offloaded, Ms(k.cpu_ns),
                  Ms(k.device_ns), Ms(k.chosen_ns), be == 0 ? "none" : std::to_string(be).c_str());
    out += line;
  }
  std::snprintf(line, sizeof(line),
                "offloaded %.1f%% of %llu items; virtual device busy %.3f ms (simulated), "
                "utilization %.2f%% over %.3f s\n",
                100 * s.FractionOffloaded(), static_cast<unsigned long long>(s.items),
                Ms(s.device_busy_ns), 100 * s.utilization, s.elapsed_ns / 1e9);
  out += line;
  if (s.latency_with_device_ns.Count() > 0) {
    const Histogram& dev = s.latency_with_device_ns;
    const Histogram& cpu = s.latency_cpu_only_ns;
    std::snprintf(line, sizeof(line),
                  "read-path latency per batch (predicted, us): with device mean %.3f p50 %.3f "
                  "p99 %.3f; cpu only mean %.3f p50 %.3f p99 %.3f\n",
                  dev.Average() / 1e3, dev.Median() / 1e3, dev.Percentile(99) / 1e3,
                  cpu.Average() / 1e3, cpu.Median() / 1e3, cpu.Percentile(99) / 1e3);
    out += line;
  }
  std::snprintf(line, sizeof(line),
                "gathering: %llu batches from %llu callers, %.3f ms waited (measured); weights: "
                "%llu uploads, %.0f bytes resident\n",
                static_cast<unsigned long long>(s.gathered_batches),
                static_cast<unsigned long long>(s.gathered_callers), Ms(s.gather_wait_ns),
                static_cast<unsigned long long>(s.weight_uploads), s.resident_bytes);
  out += line;
  if (s.training_fits > 0) {
    std::snprintf(line, sizeof(line),
                  "training: %llu fits (largest %llu keys), offloading would pay for %llu "
                  "(predicted saving %.3f ms)\n",
                  static_cast<unsigned long long>(s.training_fits),
                  static_cast<unsigned long long>(s.largest_fit),
                  static_cast<unsigned long long>(s.training_offload_pays),
                  Ms(s.training_saving_ns));
    out += line;
  }
  return out;
}

Status OpenAccelScheduler(Env* env, const AccelSetup& setup,
                          std::unique_ptr<AccelScheduler>* result) {
  DeviceSpec device;
  Status s = LoadDevice(env, setup.device, &device);
  if (!s.ok()) return s;
  CpuCalibration calibration;
  if (!setup.calibration_file.empty() && env->FileExists(setup.calibration_file)) {
    s = CpuCalibration::Load(env, setup.calibration_file, &calibration);
  } else {
    s = CalibrateCpu(setup.calibration, &calibration);
    if (s.ok() && !setup.calibration_file.empty()) {
      s = calibration.Save(env, setup.calibration_file);
    }
  }
  if (!s.ok()) return s;
  *result = std::make_unique<AccelScheduler>(device, std::move(calibration), setup.options);
  return Status::OK();
}

}  // namespace learnkv::accel
