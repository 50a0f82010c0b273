#include "tools/bench/report.h"

#include <sys/resource.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <limits>

namespace learnkv::bench {

double NowSeconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

void MergeThreadStats(const std::vector<ThreadStats>& threads, bool lookups, bool timed_latency,
                      BenchResult* r) {
  double start = std::numeric_limits<double>::max(), finish = 0, thread_seconds = 0;
  for (const ThreadStats& t : threads) {
    r->ops += t.ops;
    r->found += t.found;
    r->bytes += t.bytes;
    start = std::min(start, t.start);
    finish = std::max(finish, t.finish);
    thread_seconds += t.finish - t.start;
    if (timed_latency) r->latency.Merge(t.latency);
  }
  if (threads.empty()) start = finish = 0;
  r->seconds = std::max(finish - start, 1e-9);
  const uint64_t ops = std::max<uint64_t>(r->ops, 1);  // as db_bench: at least one op
  r->micros_per_op = thread_seconds * 1e6 / static_cast<double>(ops);
  r->ops_per_sec = static_cast<double>(ops) / r->seconds;
  r->has_found = lookups;
  r->has_latency = timed_latency && r->latency.Count() > 0;
}

std::string FormatResultLine(const BenchResult& r) {
  std::string extra;
  if (r.bytes > 0) {
    char rate[64];
    snprintf(rate, sizeof(rate), "%6.1f MB/s",
             static_cast<double>(r.bytes) / 1048576.0 / r.seconds);
    extra = rate;
  }
  if (r.has_found) {
    char found[96];
    snprintf(found, sizeof(found), "(%" PRIu64 " of %" PRIu64 " found)", r.found, r.ops);
    if (!extra.empty()) extra += ' ';
    extra += found;
  }
  if (!r.extra.empty()) {
    if (!extra.empty()) extra += ' ';
    extra += r.extra;
  }
  char line[512];
  snprintf(line, sizeof(line),
           "%-12s : %11.3f micros/op %" PRIu64 " ops/sec %.3f seconds %" PRIu64
           " operations;%s%s\n",
           r.name.c_str(), r.micros_per_op, static_cast<uint64_t>(r.ops_per_sec), r.seconds,
           std::max<uint64_t>(r.ops, 1), extra.empty() ? "" : " ", extra.c_str());
  return line;
}

std::string FormatLatency(const BenchResult& r) {
  if (!r.has_latency) return "";
  const Histogram& h = r.latency;
  char line[512];
  snprintf(line, sizeof(line),
           "Microseconds per op (%s, %" PRIu64
           " calls): P50: %.2f P95: %.2f P99: %.2f "
           "P99.9: %.2f Max: %.2f Average: %.2f\n",
           r.name.c_str(), h.Count(), h.Percentile(50), h.Percentile(95), h.Percentile(99),
           h.Percentile(99.9), h.Max(), h.Average());
  return line;
}

Progress::Progress(const BenchConfig& config, std::string name, uint64_t expected_ops)
    : name_(std::move(name)),
      expected_(expected_ops),
      tty_(isatty(STDERR_FILENO) != 0),
      interval_(tty_ ? 0.25 : config.stats_interval_seconds) {
  if (config.progress_reports) thread_ = std::thread([this] { Loop(); });
}

Progress::~Progress() {
  if (!thread_.joinable()) return;
  {
    std::lock_guard<std::mutex> l(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

void Progress::Loop() {
  const double start = NowSeconds();
  double last_time = start;
  uint64_t last_done = 0;
  bool drew = false;
  std::unique_lock<std::mutex> l(mu_);
  for (;;) {
    cv_.wait_for(l, std::chrono::duration<double>(interval_), [this] { return stop_; });
    if (stop_) break;
    const double now = NowSeconds();
    const uint64_t done = done_.load(std::memory_order_relaxed);
    const double rate = static_cast<double>(done - last_done) / std::max(now - last_time, 1e-9);
    last_time = now;
    last_done = done;
    const double frac =
        expected_ > 0 ? std::min(1.0, static_cast<double>(done) / static_cast<double>(expected_))
                      : 0;
    if (tty_) {
      constexpr int kWidth = 30;
      const int filled = static_cast<int>(frac * kWidth);
      std::string bar(filled, '=');
      if (filled < kWidth) bar += '>' + std::string(kWidth - filled - 1, ' ');
      fprintf(stderr, "\r%-12s [%s] %5.1f%% %" PRIu64 " ops %.0f ops/s %.0fs\033[K", name_.c_str(),
              bar.c_str(), frac * 100, done, rate, now - start);
      drew = true;
    } else {
      fprintf(stderr, "... %s: %" PRIu64 " of %" PRIu64 " ops (%.1f%%), %.0f ops/s, %.0f s\n",
              name_.c_str(), done, expected_, frac * 100, rate, now - start);
    }
    fflush(stderr);
  }
  if (drew) {
    fprintf(stderr, "\r\033[K");
    fflush(stderr);
  }
}

namespace {

std::string Bytes(int64_t v) {
  if (v < 0) return "n/a";
  char buf[64];
  snprintf(buf, sizeof(buf), "%" PRId64 " bytes (%.1f MiB)", v, static_cast<double>(v) / 1048576.0);
  return buf;
}

// The first line of `file` starting with `key`, after the key and ':'; empty if none.
std::string ProcField(const char* file, const std::string& key) {
  std::ifstream in(file);
  std::string line;
  while (std::getline(in, line)) {
    if (line.compare(0, key.size(), key) == 0) {
      size_t colon = line.find(':');
      if (colon == std::string::npos) continue;
      size_t start = line.find_first_not_of(" \t", colon + 1);
      return start == std::string::npos ? "" : line.substr(start);
    }
  }
  return "";
}

void AppendJsonString(std::string* out, const std::string& s) {
  out->push_back('"');
  for (unsigned char c : s) {
    if (c == '"' || c == '\\') {
      out->push_back('\\');
      out->push_back(static_cast<char>(c));
    } else if (c < 0x20) {
      char buf[8];
      snprintf(buf, sizeof(buf), "\\u%04x", c);
      out->append(buf);
    } else {
      out->push_back(static_cast<char>(c));
    }
  }
  out->push_back('"');
}

void AppendKey(std::string* out, const char* key) {
  AppendJsonString(out, key);
  out->push_back(':');
}

void AppendNumber(std::string* out, const char* key, double v) {
  AppendKey(out, key);
  char buf[64];
  snprintf(buf, sizeof(buf), "%.17g", v);
  out->append(buf);
  out->push_back(',');
}

void AppendInt(std::string* out, const char* key, int64_t v) {
  AppendKey(out, key);
  out->append(std::to_string(v));
  out->push_back(',');
}

void AppendString(std::string* out, const char* key, const std::string& v) {
  AppendKey(out, key);
  AppendJsonString(out, v);
  out->push_back(',');
}

// Replaces a trailing ',' with `close`.
void Close(std::string* out, char close) {
  if (!out->empty() && out->back() == ',') out->pop_back();
  out->push_back(close);
  out->push_back(',');
}

// learnkv.accel-values' "name=value" lines as a JSON object: numbers where the value is one,
// strings otherwise.
void AppendAcceleratorValues(std::string* out, const std::string& values) {
  out->push_back('{');
  size_t start = 0;
  while (start < values.size()) {
    size_t end = values.find('\n', start);
    if (end == std::string::npos) end = values.size();
    const std::string line = values.substr(start, end - start);
    start = end + 1;
    const size_t eq = line.find('=');
    if (eq == std::string::npos || eq == 0) continue;
    const std::string name = line.substr(0, eq);
    const std::string value = line.substr(eq + 1);
    char* parsed_end = nullptr;
    const double v = strtod(value.c_str(), &parsed_end);
    if (!value.empty() && *parsed_end == '\0' && std::isfinite(v)) {
      AppendNumber(out, name.c_str(), v);
    } else {
      AppendString(out, name.c_str(), value);
    }
  }
  Close(out, '}');
}

void AppendResult(std::string* out, const BenchResult& r) {
  out->push_back('{');
  AppendString(out, "name", r.name);
  AppendInt(out, "operations", static_cast<int64_t>(r.ops));
  AppendNumber(out, "seconds", r.seconds);
  AppendNumber(out, "micros_per_op", r.micros_per_op);
  AppendNumber(out, "ops_per_sec", r.ops_per_sec);
  AppendInt(out, "bytes", static_cast<int64_t>(r.bytes));
  if (r.has_found) AppendInt(out, "found", static_cast<int64_t>(r.found));
  if (!r.extra.empty()) AppendString(out, "extra", r.extra);
  if (r.has_latency) {
    AppendKey(out, "latency_micros");
    out->push_back('{');
    AppendInt(out, "count", static_cast<int64_t>(r.latency.Count()));
    AppendNumber(out, "p50", r.latency.Percentile(50));
    AppendNumber(out, "p95", r.latency.Percentile(95));
    AppendNumber(out, "p99", r.latency.Percentile(99));
    AppendNumber(out, "p99.9", r.latency.Percentile(99.9));
    AppendNumber(out, "max", r.latency.Max());
    AppendNumber(out, "average", r.latency.Average());
    Close(out, '}');
  }
  AppendString(out, "line", FormatResultLine(r));
  Close(out, '}');
}

}  // namespace

std::string FormatEngineSummary(const EngineReport& r) {
  std::string out = "Engine " + r.engine + " (" + r.description + ") at " + r.path + ":\n";
  const EngineMemory& m = r.memory;
  if (m.index_bytes >= 0 || m.filter_bytes >= 0) {
    out += "  Index memory:        " + Bytes(m.index_bytes) + "  (learnkv.index-memory)\n";
    out += "  Filter memory:       " + Bytes(m.filter_bytes) + "  (learnkv.filter-memory)\n";
  }
  if (m.table_readers_bytes >= 0) {
    out += "  Index+filter memory: " + Bytes(m.table_readers_bytes) +
           "  (rocksdb.estimate-table-readers-mem)\n";
  }
  if (m.block_cache_bytes >= 0)
    out += "  Block cache usage:   " + Bytes(m.block_cache_bytes) + "\n";
  if (m.memtable_bytes >= 0) out += "  Memtables:           " + Bytes(m.memtable_bytes) + "\n";
  out += "  Bytes on disk:       " + Bytes(static_cast<int64_t>(r.disk_bytes)) + "\n";
  out += "  RSS at end:          " + Bytes(static_cast<int64_t>(r.current_rss_bytes)) + "\n";
  out += "  Peak RSS (process):  " + Bytes(static_cast<int64_t>(r.peak_rss_bytes)) + "\n";
  if (!r.accelerator.text.empty()) {
    out += "Simulated accelerator (learnkv.accel):\n" + r.accelerator.text;
  }
  return out;
}

std::string MachineDescription() {
  std::string cpu = ProcField("/proc/cpuinfo", "model name");
  if (cpu.empty()) cpu = "unknown CPU";
  const long cores = sysconf(_SC_NPROCESSORS_ONLN);
  const std::string mem = ProcField("/proc/meminfo", "MemTotal");  // "24000000 kB"
  const double gib = static_cast<double>(strtoull(mem.c_str(), nullptr, 10)) / 1048576.0;
  struct utsname u;
  std::string os = uname(&u) == 0 ? std::string(u.sysname) + " " + u.release : "unknown OS";
  char buf[512];
  snprintf(buf, sizeof(buf), "%s, %ld cores, %.1f GiB RAM, %s", cpu.c_str(), cores, gib,
           os.c_str());
  return buf;
}

uint64_t PeakRssBytes() {
  struct rusage ru;
  if (getrusage(RUSAGE_SELF, &ru) != 0) return 0;
  return static_cast<uint64_t>(ru.ru_maxrss) * 1024;  // KiB on Linux
}

uint64_t CurrentRssBytes() {
  const std::string v = ProcField("/proc/self/status", "VmRSS");  // "12345 kB"
  return strtoull(v.c_str(), nullptr, 10) * 1024;
}

uint64_t DirectoryBytes(const std::string& path) {
  namespace fs = std::filesystem;
  std::error_code ec;
  uint64_t total = 0;
  for (fs::recursive_directory_iterator it(path, ec), end; !ec && it != end; it.increment(ec)) {
    std::error_code ec2;
    if (it->is_regular_file(ec2)) {
      const uint64_t size = it->file_size(ec2);
      if (!ec2) total += size;
    }
  }
  return total;
}

Status WriteJsonReport(const std::string& file, const BenchConfig& c,
                       const std::string& command_line, const std::vector<EngineReport>& engines) {
  std::string out = "{";
  AppendString(&out, "tool", "learnkv-bench");
  AppendString(&out, "machine", MachineDescription());
  AppendString(&out, "command", command_line);
  AppendKey(&out, "config");
  out.push_back('{');
  AppendInt(&out, "num", static_cast<int64_t>(c.num));
  AppendInt(&out, "reads", static_cast<int64_t>(c.reads));
  AppendInt(&out, "writes", static_cast<int64_t>(c.writes));
  AppendInt(&out, "threads", c.threads);
  AppendInt(&out, "key_size", static_cast<int64_t>(c.key_size));
  AppendInt(&out, "value_size", static_cast<int64_t>(c.value_size));
  AppendInt(&out, "batch_size", c.batch_size);
  AppendString(&out, "key_dist", c.key_dist);
  AppendString(&out, "compression_type", c.compression_type);
  AppendInt(&out, "cache_size", c.cache_size);
  AppendInt(&out, "write_buffer_size", static_cast<int64_t>(c.write_buffer_size));
  AppendInt(&out, "bloom_bits", c.bloom_bits);
  AppendString(&out, "filter", FilterKindName(c.filter));
  AppendString(&out, "accelerator", c.accelerator);
  AppendInt(&out, "accel_max_wait_micros", static_cast<int64_t>(c.accel_max_wait_micros));
  AppendInt(&out, "accel_batch_cap", static_cast<int64_t>(c.accel_batch_cap));
  AppendInt(&out, "seed", static_cast<int64_t>(c.seed));
  Close(&out, '}');
  AppendKey(&out, "engines");
  out.push_back('[');
  for (const EngineReport& e : engines) {
    out.push_back('{');
    AppendString(&out, "engine", e.engine);
    AppendString(&out, "description", e.description);
    AppendString(&out, "path", e.path);
    AppendKey(&out, "notes");
    out.push_back('[');
    for (const std::string& n : e.notes) {
      AppendJsonString(&out, n);
      out.push_back(',');
    }
    Close(&out, ']');
    AppendKey(&out, "benchmarks");
    out.push_back('[');
    for (const BenchResult& r : e.results) AppendResult(&out, r);
    Close(&out, ']');
    AppendKey(&out, "memory");
    out.push_back('{');
    AppendInt(&out, "index_bytes", e.memory.index_bytes);
    AppendInt(&out, "filter_bytes", e.memory.filter_bytes);
    AppendInt(&out, "table_readers_bytes", e.memory.table_readers_bytes);
    AppendInt(&out, "block_cache_bytes", e.memory.block_cache_bytes);
    AppendInt(&out, "memtable_bytes", e.memory.memtable_bytes);
    AppendInt(&out, "disk_bytes", static_cast<int64_t>(e.disk_bytes));
    AppendInt(&out, "rss_bytes", static_cast<int64_t>(e.current_rss_bytes));
    AppendInt(&out, "peak_rss_bytes", static_cast<int64_t>(e.peak_rss_bytes));
    Close(&out, '}');
    if (!e.accelerator.text.empty()) {
      AppendKey(&out, "accelerator");
      out.push_back('{');
      AppendString(&out, "text", e.accelerator.text);
      AppendKey(&out, "values");
      AppendAcceleratorValues(&out, e.accelerator.values);
      Close(&out, '}');
    }
    Close(&out, '}');
  }
  Close(&out, ']');
  Close(&out, '}');
  out.pop_back();  // the trailing ','
  out.push_back('\n');

  std::ofstream f(file, std::ios::trunc);
  f << out;
  f.close();
  if (!f) return Status::IOError(file, "cannot write the JSON report");
  return Status::OK();
}

}  // namespace learnkv::bench
