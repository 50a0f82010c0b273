// Fitting a device description to measurements (see device_fit.h).
#include "learned/accel/cuda/device_fit.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>

namespace learnkv::accel::gpu {

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

// A kind whose memory term is at least this fraction of its measured cost per item is taken
// as memory bound: its cost says nothing about the arithmetic rates.
constexpr double kMemoryBoundFraction = 0.9;

std::string Format(const char* fmt, double a, double b = 0, double c = 0, double d = 0) {
  char buf[256];
  std::snprintf(buf, sizeof(buf), fmt, a, b, c, d);
  return buf;
}

void SetErrors(const std::vector<std::pair<double, double>>& xy, LinearFit* fit) {
  fit->points = xy.size();
  fit->mean_rel_error = 0;
  fit->max_rel_error = 0;
  for (const auto& [x, y] : xy) {
    const double e = std::fabs(fit->At(x) - y) / y;
    fit->mean_rel_error += e / static_cast<double>(xy.size());
    fit->max_rel_error = std::max(fit->max_rel_error, e);
  }
}

// Solves the n x n system a x = b in place (Gaussian elimination with partial pivoting);
// false if it is singular.
bool Solve(std::vector<std::vector<double>> a, std::vector<double> b, std::vector<double>* x) {
  const size_t n = b.size();
  for (size_t c = 0; c < n; ++c) {
    size_t pivot = c;
    for (size_t r = c + 1; r < n; ++r) {
      if (std::fabs(a[r][c]) > std::fabs(a[pivot][c])) pivot = r;
    }
    double scale = 0;
    for (size_t r = 0; r < n; ++r) scale = std::max(scale, std::fabs(a[r][c]));
    if (scale == 0 || std::fabs(a[pivot][c]) <= 1e-12 * scale) return false;
    std::swap(a[c], a[pivot]);
    std::swap(b[c], b[pivot]);
    for (size_t r = c + 1; r < n; ++r) {
      const double f = a[r][c] / a[c][c];
      for (size_t k = c; k < n; ++k) a[r][k] -= f * a[c][k];
      b[r] -= f * b[c];
    }
  }
  x->assign(n, 0);
  for (size_t c = n; c-- > 0;) {
    double v = b[c];
    for (size_t k = c + 1; k < n; ++k) v -= a[c][k] * (*x)[k];
    (*x)[c] = v / a[c][c];
  }
  return true;
}

// Non-negative least squares of rows . u = targets (each row already scaled by its weight),
// for a handful of unknowns: every subset of the usable columns is solved unconstrained and
// the best one whose solution is strictly positive wins; columns outside it are 0. False if
// no subset works.
bool SmallNnls(const std::vector<std::vector<double>>& rows, const std::vector<double>& targets,
               size_t columns, std::vector<double>* u) {
  std::vector<size_t> usable;
  for (size_t j = 0; j < columns; ++j) {
    for (const auto& row : rows) {
      if (row[j] != 0) {
        usable.push_back(j);
        break;
      }
    }
  }
  double best = kInf;
  size_t best_columns = 0;
  for (uint32_t mask = 1; mask < (1u << usable.size()); ++mask) {
    std::vector<size_t> cols;
    for (size_t i = 0; i < usable.size(); ++i) {
      if (mask & (1u << i)) cols.push_back(usable[i]);
    }
    const size_t n = cols.size();
    std::vector<std::vector<double>> ata(n, std::vector<double>(n, 0));
    std::vector<double> atb(n, 0);
    for (size_t r = 0; r < rows.size(); ++r) {
      for (size_t i = 0; i < n; ++i) {
        atb[i] += rows[r][cols[i]] * targets[r];
        for (size_t k = 0; k < n; ++k) ata[i][k] += rows[r][cols[i]] * rows[r][cols[k]];
      }
    }
    std::vector<double> x;
    if (!Solve(ata, atb, &x)) continue;
    if (std::any_of(x.begin(), x.end(), [](double v) { return !(v > 0); })) continue;
    double residual = 0;
    for (size_t r = 0; r < rows.size(); ++r) {
      double p = 0;
      for (size_t i = 0; i < n; ++i) p += rows[r][cols[i]] * x[i];
      residual += (p - targets[r]) * (p - targets[r]);
    }
    // Ties (an exact fit by several subsets) go to the larger subset: more rates measured.
    // Residuals are relative (targets are about 1), so 1e-12 is far below any real misfit.
    if (residual < best - 1e-12 || (residual <= best + 1e-12 && n > best_columns)) {
      best = std::min(best, residual);
      best_columns = n;
      u->assign(columns, 0);
      for (size_t i = 0; i < n; ++i) (*u)[cols[i]] = x[i];
    }
  }
  return best < kInf;
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

// The relative squared error of predicting every end-to-end batch with mem_latency_ns = latency
// and the best dispatch_ns for it (a closed form: the weighted mean of what is left), which it
// stores in *dispatch. A negligible pull towards `guess` settles the cases the batches cannot
// tell apart (every kind with as many dependent accesses, every batch above its floor).
double FixedCostResidual(const DeviceMeasurements& m, const DeviceSpec& spec, double latency,
                         double guess, double* dispatch) {
  DeviceSpec s = spec;
  s.dispatch_ns = 0;
  s.mem_latency_ns = latency;
  std::vector<std::pair<double, double>> measured_rest;  // (measured, predicted without dispatch)
  double num = 0, den = 0;
  for (const KindMeasurements& k : m.kinds) {
    for (const BatchPoint& b : k.batches) {
      const double rest = PredictBatchNs(s, k.shape, b);
      measured_rest.emplace_back(b.ns, rest);
      num += (b.ns - rest) / (b.ns * b.ns);
      den += 1 / (b.ns * b.ns);
    }
  }
  *dispatch = std::max(0.0, num / den);
  double residual = 0;
  for (const auto& [t, rest] : measured_rest) {
    residual += (*dispatch + rest - t) * (*dispatch + rest - t) / (t * t);
  }
  const double pull = (latency - guess) / std::max(guess, 1.0);
  return residual + 1e-9 * pull * pull;
}

// Sets dispatch_ns and mem_latency_ns to the pair that predicts the end-to-end batches best.
// The prediction is piecewise linear in the latency (a batch's compute is the larger of its
// floor and its work), so the latency is searched: a scan over six decades below the largest
// batch time, then a golden-section search around the best point of the scan.
void FitFixedCosts(const DeviceMeasurements& m, double guess, DeviceSpec* d) {
  double top = 1;
  for (const KindMeasurements& k : m.kinds) {
    for (const BatchPoint& b : k.batches) top = std::max(top, b.ns);
  }
  constexpr int kSteps = 240;
  std::vector<double> grid = {0};
  for (int j = 0; j <= kSteps; ++j) grid.push_back(top * std::pow(10.0, -6.0 + 6.0 * j / kSteps));
  if (guess > 0) grid.push_back(guess);
  std::sort(grid.begin(), grid.end());
  double dispatch = 0;
  size_t best = 0;
  double best_residual = kInf;
  for (size_t j = 0; j < grid.size(); ++j) {
    const double r = FixedCostResidual(m, *d, grid[j], guess, &dispatch);
    if (r < best_residual) {
      best_residual = r;
      best = j;
    }
  }
  double lo = grid[best > 0 ? best - 1 : 0];
  double hi = grid[std::min(best + 1, grid.size() - 1)];
  const double phi = (std::sqrt(5.0) - 1) / 2;
  double a = hi - phi * (hi - lo), b = lo + phi * (hi - lo);
  double fa = FixedCostResidual(m, *d, a, guess, &dispatch);
  double fb = FixedCostResidual(m, *d, b, guess, &dispatch);
  for (int i = 0; i < 200 && hi - lo > 1e-12 * std::max(hi, 1.0); ++i) {
    if (fa <= fb) {
      hi = b;
      b = a;
      fb = fa;
      a = hi - phi * (hi - lo);
      fa = FixedCostResidual(m, *d, a, guess, &dispatch);
    } else {
      lo = a;
      a = b;
      fa = fb;
      b = lo + phi * (hi - lo);
      fb = FixedCostResidual(m, *d, b, guess, &dispatch);
    }
  }
  double latency = fa <= fb ? a : b;
  if (std::min(fa, fb) > best_residual) latency = grid[best];
  FixedCostResidual(m, *d, latency, guess, &dispatch);
  d->mem_latency_ns = latency;
  d->dispatch_ns = dispatch;
}

}  // namespace

Status FitLinearRelative(const std::vector<std::pair<double, double>>& xy, LinearFit* fit) {
  if (xy.size() < 2) return Status::InvalidArgument("linear fit: fewer than two points");
  double scale = 0;  // x is scaled to at most 1 so that the normal equations stay balanced
  for (const auto& [x, y] : xy) {
    if (!(y > 0) || !std::isfinite(y) || !std::isfinite(x) || x < 0) {
      return Status::InvalidArgument("linear fit: a point is not finite and positive");
    }
    scale = std::max(scale, x);
  }
  if (scale == 0) return Status::InvalidArgument("linear fit: every x is 0");
  // Weighted by 1/y^2: sums of w, w x, w x^2, w y, w x y.
  double sw = 0, swx = 0, swxx = 0, swy = 0, swxy = 0;
  for (const auto& [x0, y] : xy) {
    const double x = x0 / scale, w = 1 / (y * y);
    sw += w;
    swx += w * x;
    swxx += w * x * x;
    swy += w * y;
    swxy += w * x * y;
  }
  const double det = sw * swxx - swx * swx;
  if (!(det > 1e-12 * sw * swxx)) return Status::InvalidArgument("linear fit: x values all equal");
  double a = (swy * swxx - swx * swxy) / det;
  double b = (sw * swxy - swx * swy) / det;
  if (a < 0) {
    a = 0;
    b = swxy / swxx;
  }
  if (!(b > 0)) return Status::InvalidArgument("linear fit: time does not grow with size");
  fit->intercept = a;
  fit->slope = b / scale;
  SetErrors(xy, fit);
  return Status::OK();
}

double PredictBatchNs(const DeviceSpec& spec, const ModelShape& shape, const BatchPoint& batch) {
  CostOptions o;
  o.weights_resident = true;
  o.chunks = std::max<uint32_t>(1, batch.chunks);
  return EstimateDeviceCost(spec, shape, batch.items, o).total_ns;
}

Status FitDevice(const DeviceMeasurements& m, const DeviceSpec& base, const std::string& name,
                 const std::string& source, DeviceFit* fit) {
  if (base.has_systolic()) {
    return Status::InvalidArgument(
        "device fit: the base describes a systolic array, a GPU has none");
  }
  DeviceFit f;
  DeviceSpec& d = f.spec;
  d = base;
  d.name = name;
  d.source = source;
  d.calibrated = true;

  // ---- the host link ----
  Status s = FitLinearRelative(m.h2d, &f.h2d);
  if (s.ok()) s = FitLinearRelative(m.d2h, &f.d2h);
  if (!s.ok()) return Status::InvalidArgument("device fit: copies", s.ToString());
  d.link_latency_ns = (f.h2d.intercept + f.d2h.intercept) / 2;
  d.link_bytes_per_s = 2e9 / (f.h2d.slope + f.d2h.slope);
  f.notes.push_back(Format(
      "link: H2D %.2f us + %.2f GB/s, D2H %.2f us + %.2f GB/s per copy (back to back, pinned); "
      "the description takes the mean latency and the harmonic mean bandwidth",
      f.h2d.intercept / 1e3, 1 / f.h2d.slope, f.d2h.intercept / 1e3, 1 / f.d2h.slope));

  // ---- device memory ----
  if (m.device_copy_bytes_per_s > 0) {
    d.mem_bytes_per_s = m.device_copy_bytes_per_s;
    f.notes.push_back(Format("mem_bytes_per_s: device-to-device copy, %.0f GB/s of traffic",
                             m.device_copy_bytes_per_s / 1e9));
  } else {
    f.notes.push_back("mem_bytes_per_s: not measured, kept from " + base.name);
  }
  if (m.mem_bytes > 0) d.mem_bytes = m.mem_bytes;

  // ---- kernels: the fixed time and the cost per item ----
  std::vector<double> latencies;
  std::vector<std::vector<double>> rows;  // per compute-bound kind: fp64, int, 2 * MACs
  std::vector<double> targets;
  for (const KindMeasurements& k : m.kinds) {
    KindFit kf;
    kf.kind = k.kind;
    if (k.kernel_ns.size() >= 2) {
      s = FitLinearRelative(k.kernel_ns, &kf.kernel);
      if (!s.ok()) {
        return Status::InvalidArgument(
            std::string("device fit: kernel of ") + ModelKindName(k.kind), s.ToString());
      }
      if (k.shape.dependent_accesses > 0) {
        latencies.push_back(kf.kernel.intercept / k.shape.dependent_accesses);
      }
      const double per_item = kf.kernel.slope;
      const double memory = k.shape.device_bytes / d.mem_bytes_per_s * 1e9;
      kf.memory_bound = memory >= kMemoryBoundFraction * per_item;
      const double known = k.shape.fp32_ops > 0 && d.fp32_ops_per_s > 0
                               ? k.shape.fp32_ops / d.fp32_ops_per_s * 1e9
                               : 0;
      if (!kf.memory_bound && per_item > known) {
        // Relative terms: the row and its target divided by the measured cost.
        rows.push_back({k.shape.fp64_ops / per_item, k.shape.int_ops / per_item,
                        2 * k.shape.MacsPerItem() / per_item});
        targets.push_back((per_item - known) / per_item);
      }
      f.notes.push_back(
          std::string(ModelKindName(k.kind)) +
          " kernel: " + Format("%.2f us + %.4g ns per item", kf.kernel.intercept / 1e3, per_item) +
          (kf.memory_bound ? Format(" (memory bound: the memory term is %.4g ns per item)", memory)
                           : ""));
    }
    f.kinds.push_back(kf);
  }
  if (!latencies.empty()) {
    d.mem_latency_ns = Median(latencies);
    f.notes.push_back(Format(
        "mem_latency_ns, first guess: %.0f, the kernels' median fixed time per dependent access",
        d.mem_latency_ns));
  } else {
    f.notes.push_back("mem_latency_ns: no kernel measured, kept from " + base.name);
  }
  std::vector<double> u;
  const char* rate_names[] = {"fp64_ops_per_s", "int_ops_per_s", "matrix_ops_per_s"};
  double DeviceSpec::*rate_fields[] = {&DeviceSpec::fp64_ops_per_s, &DeviceSpec::int_ops_per_s,
                                       &DeviceSpec::matrix_ops_per_s};
  const bool solved = !rows.empty() && SmallNnls(rows, targets, 3, &u);
  for (size_t j = 0; j < 3; ++j) {
    if (solved && u[j] > 0) {
      d.*rate_fields[j] = 1e9 / u[j];
      f.notes.push_back(
          rate_names[j] +
          Format(": %.4g (effective, from the kernels' cost per item)", d.*rate_fields[j]));
    } else {
      f.notes.push_back(std::string(rate_names[j]) +
                        ": no compute-bound kernel measures it, kept from " + base.name);
    }
  }
  f.notes.push_back("fp32_ops_per_s: no kernel uses it, kept from " + base.name);

  // ---- the fixed costs: what the batches leave over ----
  size_t num_batches = 0;
  for (const KindMeasurements& k : m.kinds) {
    for (const BatchPoint& b : k.batches) {
      if (!(b.ns > 0)) return Status::InvalidArgument("device fit: a batch time is not positive");
      ++num_batches;
    }
  }
  if (num_batches > 0) {
    const double guess = d.mem_latency_ns;
    FitFixedCosts(m, guess, &d);
    f.notes.push_back(Format(
        "dispatch_ns %.0f and mem_latency_ns %.0f: fitted together to the end-to-end batches "
        "(an empty kernel's launch and synchronization took %.0f; the kernels alone suggested a "
        "latency of %.0f)",
        d.dispatch_ns, d.mem_latency_ns, m.launch_ns, guess));
  } else if (m.launch_ns > 0) {
    d.dispatch_ns = m.launch_ns;
    f.notes.push_back("dispatch_ns: no batches measured, the empty kernel's launch and sync");
  } else {
    f.notes.push_back("dispatch_ns: nothing measured, kept from " + base.name);
  }

  for (size_t i = 0; i < m.kinds.size(); ++i) {
    KindFit& kf = f.kinds[i];
    const KindMeasurements& k = m.kinds[i];
    for (const BatchPoint& b : k.batches) {
      const double e = std::fabs(PredictBatchNs(d, k.shape, b) - b.ns) / b.ns;
      kf.batch_mean_rel_error += e / static_cast<double>(k.batches.size());
      kf.batch_max_rel_error = std::max(kf.batch_max_rel_error, e);
    }
  }
  s = d.Validate();
  if (!s.ok()) return s;
  *fit = std::move(f);
  return Status::OK();
}

std::string DeviceFit::Report() const {
  std::string out = "fitted " + spec.Summary() + "\n";
  char line[256];
  auto fit_line = [&](const std::string& what, const LinearFit& l) {
    std::snprintf(line, sizeof(line), "  %s: %zu points, mean error %.1f%%, worst %.1f%%\n",
                  what.c_str(), l.points, 100 * l.mean_rel_error, 100 * l.max_rel_error);
    out += line;
  };
  fit_line("h2d copies", h2d);
  fit_line("d2h copies", d2h);
  for (const KindFit& k : kinds) {
    fit_line(std::string(ModelKindName(k.kind)) + " kernel", k.kernel);
    std::snprintf(line, sizeof(line),
                  "  %s batches end to end, predicted by the fitted description: mean error "
                  "%.1f%%, worst %.1f%%\n",
                  ModelKindName(k.kind), 100 * k.batch_mean_rel_error, 100 * k.batch_max_rel_error);
    out += line;
  }
  for (const std::string& n : notes) out += "  " + n + "\n";
  return out;
}

}  // namespace learnkv::accel::gpu
