// Validation summaries, CSV and markdown (see validation_report.h).
#include "learned/accel/cuda/validation_report.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <sstream>

#include "learned/accel/kv_text.h"

namespace learnkv::accel::gpu {

namespace {

constexpr const char* kCsvHeader =
    "kind,items,chunks,measured_device_ns,predicted_device_ns,measured_cpu_ns,predicted_cpu_ns,"
    "staging_ns,exact";

void Accumulate(const ValidationRow& r, ValidationStats* s) {
  const double e = r.DeviceError();
  s->mean_error += e;  // divided by the count at the end
  if (s->points == 0 || e > s->worst_error) {
    s->worst_error = e;
    s->worst_items = r.items;
  }
  ++s->points;
  s->decisions_right += r.DecisionRight() ? 1 : 0;
  s->exact = s->exact && r.exact;
}

// The smallest batch size from which `device_wins` holds at every larger size (rows sorted by
// size); 0 if it does not hold at the largest.
template <typename Pred>
uint64_t BreakEven(const std::vector<const ValidationRow*>& sorted, Pred&& device_wins) {
  uint64_t from = 0;
  for (auto it = sorted.rbegin(); it != sorted.rend() && device_wins(**it); ++it) {
    from = (*it)->items;
  }
  return from;
}

std::string Us(double ns) {
  char buf[32];
  const double us = ns / 1e3;
  std::snprintf(buf, sizeof(buf), us < 10 ? "%.2f" : us < 1000 ? "%.1f" : "%.0f", us);
  return buf;
}

std::string Percent(double f) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.1f%%", 100 * f);
  return buf;
}

std::string Count(uint64_t n) { return n == 0 ? "none" : std::to_string(n); }

}  // namespace

double ValidationRow::DeviceError() const {
  if (!(measured_device_ns > 0)) return INFINITY;
  return std::fabs(predicted_device_ns - measured_device_ns) / measured_device_ns;
}

ValidationSummary Summarize(const std::vector<ValidationRow>& rows, const ValidationGoals& goals) {
  ValidationSummary out;
  out.goals = goals;
  out.all.name = "all";
  std::map<int, size_t> index;  // kind -> position in out.kinds
  std::vector<std::vector<const ValidationRow*>> by_kind;
  for (const ValidationRow& r : rows) {
    const int k = static_cast<int>(r.kind);
    auto it = index.find(k);
    if (it == index.end()) {
      it = index.emplace(k, out.kinds.size()).first;
      out.kinds.emplace_back();
      out.kinds.back().name = ModelKindName(r.kind);
      by_kind.emplace_back();
    }
    Accumulate(r, &out.kinds[it->second]);
    Accumulate(r, &out.all);
    by_kind[it->second].push_back(&r);
  }
  for (size_t i = 0; i < out.kinds.size(); ++i) {
    ValidationStats& s = out.kinds[i];
    s.mean_error /= static_cast<double>(s.points);
    std::vector<const ValidationRow*>& sorted = by_kind[i];
    std::sort(sorted.begin(), sorted.end(),
              [](const ValidationRow* a, const ValidationRow* b) { return a->items < b->items; });
    s.measured_break_even =
        BreakEven(sorted, [](const ValidationRow& r) { return r.MeasuredDevice(); });
    s.predicted_break_even =
        BreakEven(sorted, [](const ValidationRow& r) { return r.PredictedDevice(); });
  }
  if (out.all.points > 0) out.all.mean_error /= static_cast<double>(out.all.points);
  const ValidationStats& a = out.all;
  const bool mean_ok = a.points > 0 && a.mean_error <= goals.mean_error;
  const bool worst_ok = a.points > 0 && a.worst_error <= goals.worst_error;
  const bool decisions_ok = a.points > 0 && a.DecisionFraction() >= goals.decisions_right;
  out.meets_goals = mean_ok && worst_ok && decisions_ok && a.exact;
  char line[512];
  std::snprintf(line, sizeof(line),
                "%s: mean error %s (goal <= %s) %s, worst %s at %llu items (goal <= %s) %s, "
                "decisions right %s (goal >= %s) %s, answers %s",
                out.meets_goals ? "goals met" : "goals NOT met", Percent(a.mean_error).c_str(),
                Percent(goals.mean_error).c_str(), mean_ok ? "ok" : "MISSED",
                Percent(a.worst_error).c_str(), static_cast<unsigned long long>(a.worst_items),
                Percent(goals.worst_error).c_str(), worst_ok ? "ok" : "MISSED",
                Percent(a.DecisionFraction()).c_str(), Percent(goals.decisions_right).c_str(),
                decisions_ok ? "ok" : "MISSED",
                a.exact ? "bit-exact" : "NOT EXACT (the GPU disagreed with the CPU)");
  out.verdict = line;
  return out;
}

std::string ValidationCsv(const std::vector<ValidationRow>& rows) {
  std::string out = std::string(kCsvHeader) + "\n";
  for (const ValidationRow& r : rows) {
    out += std::string(ModelKindName(r.kind)) + "," + std::to_string(r.items) + "," +
           std::to_string(r.chunks) + "," + FormatDouble(r.measured_device_ns) + "," +
           FormatDouble(r.predicted_device_ns) + "," + FormatDouble(r.measured_cpu_ns) + "," +
           FormatDouble(r.predicted_cpu_ns) + "," + FormatDouble(r.staging_ns) + "," +
           (r.exact ? "1" : "0") + "\n";
  }
  return out;
}

Status ParseValidationCsv(const std::string& text, std::vector<ValidationRow>* rows) {
  std::istringstream in(text);
  std::string line;
  if (!std::getline(in, line) || line != kCsvHeader) {
    return Status::InvalidArgument("validation csv: missing or unknown header");
  }
  std::vector<ValidationRow> result;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    std::vector<std::string> f;
    std::istringstream fields(line);
    std::string field;
    while (std::getline(fields, field, ',')) f.push_back(field);
    ValidationRow r;
    uint64_t chunks = 0;
    if (f.size() != 9 || !ParseModelKind(f[0], &r.kind) || !ParseUint64(f[1], &r.items) ||
        !ParseUint64(f[2], &chunks) || chunks == 0 || chunks > UINT32_MAX ||
        !ParseDouble(f[3], &r.measured_device_ns) || !ParseDouble(f[4], &r.predicted_device_ns) ||
        !ParseDouble(f[5], &r.measured_cpu_ns) || !ParseDouble(f[6], &r.predicted_cpu_ns) ||
        !ParseDouble(f[7], &r.staging_ns) || (f[8] != "0" && f[8] != "1")) {
      return Status::InvalidArgument("validation csv: bad row", line);
    }
    r.chunks = static_cast<uint32_t>(chunks);
    r.exact = f[8] == "1";
    result.push_back(r);
  }
  *rows = std::move(result);
  return Status::OK();
}

std::string ValidationMarkdown(const ValidationSummary& summary,
                               const std::vector<ValidationRow>& rows, const std::string& context) {
  std::string out = context + "\n\n";
  out +=
      "| kind | batch sizes | mean error | worst error (at batch) | decision right | break-even "
      "measured | break-even predicted | answers |\n"
      "|---|---|---|---|---|---|---|---|\n";
  auto stats_row = [&](const ValidationStats& s, bool per_kind) {
    out += "| " + s.name + " | " + std::to_string(s.points) + " | " + Percent(s.mean_error) +
           " | " + Percent(s.worst_error) + " (" + std::to_string(s.worst_items) + ") | " +
           Percent(s.DecisionFraction()) + " | " + (per_kind ? Count(s.measured_break_even) : "") +
           " | " + (per_kind ? Count(s.predicted_break_even) : "") + " | " +
           (s.exact ? "bit-exact" : "**differ**") + " |\n";
  };
  for (const ValidationStats& s : summary.kinds) stats_row(s, true);
  stats_row(summary.all, false);
  out += "\n**" + summary.verdict + "**\n\n";
  out +=
      "<details><summary>Every point (times in us; device: H2D, kernel, D2H and "
      "synchronization, inputs already in pinned memory)</summary>\n\n"
      "| kind | batch | chunks | device measured | device predicted | error | cpu measured | "
      "cpu predicted | faster (measured) | decision (predicted) |\n"
      "|---|---|---|---|---|---|---|---|---|---|\n";
  for (const ValidationRow& r : rows) {
    out += std::string("| ") + ModelKindName(r.kind) + " | " + std::to_string(r.items) + " | " +
           std::to_string(r.chunks) + " | " + Us(r.measured_device_ns) + " | " +
           Us(r.predicted_device_ns) + " | " + Percent(r.DeviceError()) + " | " +
           Us(r.measured_cpu_ns) + " | " + Us(r.predicted_cpu_ns) + " | " +
           (r.MeasuredDevice() ? "device" : "cpu") + " | " +
           (r.PredictedDevice() ? "device" : "cpu") + (r.DecisionRight() ? "" : " (wrong)") +
           " |\n";
  }
  out += "\n</details>\n";
  return out;
}

}  // namespace learnkv::accel::gpu
