// filter_bench: the membership filters (learned/filter_policy.h) on the filter data sets
// (learned/filter_datasets.h), size against false-positive rate, and probe time.
//
// For each data set, filter type and target rate it builds the filter the way a table build
// does (FilterBuilder over the sorted keys, the data set's training negatives as the missed
// lookups) and measures it on the independent test negatives:
//
//   Filter/<set>/<type>/<target>   one probe of a test negative per iteration (ns/probe);
//                                  counters: bits_per_key (the whole filter block, model
//                                  included), fpr (test negatives), probe_p50_ns (median over
//                                  batches of 256 negatives), probe_pos_p50_ns (keys),
//                                  build_ms, learned (1 if the learned filter was built).
//   TableGetMissing/<set>/<type>   TableReader::Get of a test negative per iteration on a
//                                  table of the keys (100-byte values, block cache), filter
//                                  at 1%: what a read of an absent key costs per table.
//   FilterBuild/<case>/<type>      one build of a 500K-key table (20K with --filter_quick)
//                                  with 100K negatives, as a compaction output gets it, for
//                                  type auto (the table default) and fuse (the least a
//                                  filtered table costs): build_ms, cpu_ms (this thread's CPU
//                                  time), peak_mib (growth of the peak resident set during
//                                  the build), bits_per_key, learned. Cases: uniform16
//                                  (learnkv-bench's integer keys, 8-byte big-endian index
//                                  '0'-padded to 16 bytes; negatives the same with last byte '1'),
//                                  url97 (util/datasets.h URL keys, ~97 bytes), url_gen (generated
//                                  ad domains, separability 0.95), id_gaps, ycsb.
//
// Types: bloom, fuse (classic), learned (the learned filter whenever a model beats chance,
// even if larger), learned_compact (the same without the front filter that keeps n-gram
// models off most absent-key probes: max_scored_share = 1, smallest, slower), auto (the table
// default: the smaller of learned and classic). Sets: url at separabilities 0.9, 0.95, 0.99
// and 1 (url_s90 ...), id_gaps, ycsb.
//
// Besides Google Benchmark's output, --filter_csv=PATH writes one row per filter for
// scripts/plot_filters.py (docs/img/filter_bits_fpr.png). --filter_quick runs only the 1%
// target with smaller sets (for smoke tests).
//
// Thread safety: single-threaded, as Google Benchmark runs it.
#include <benchmark/benchmark.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <time.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "learned/filter_datasets.h"
#include "learned/filter_policy.h"
#include "sstable/block_cache.h"
#include "sstable/internal_key.h"
#include "sstable/table_builder.h"
#include "sstable/table_reader.h"
#include "util/datasets.h"
#include "util/mem_env.h"

namespace learnkv {
namespace {

bool g_quick = false;

struct SetSpec {
  std::string name;
  FilterDataset dataset;
  double separability;
  size_t num_keys;
};

std::vector<SetSpec> Sets() {
  const size_t n = g_quick ? 20000 : 200000;
  return {{"url_s90", FilterDataset::kUrl, 0.90, g_quick ? n : 0},
          {"url_s95", FilterDataset::kUrl, 0.95, g_quick ? n : 0},
          {"url_s99", FilterDataset::kUrl, 0.99, g_quick ? n : 0},
          {"url_s100", FilterDataset::kUrl, 1.00, g_quick ? n : 0},
          {"id_gaps", FilterDataset::kIdGaps, 0.90, n},
          {"ycsb", FilterDataset::kYcsb, 1.00, n}};
}

const FilterData& Data(const SetSpec& spec) {
  static std::map<std::string, FilterData> cache;
  auto it = cache.find(spec.name);
  if (it == cache.end()) {
    FilterDatasetOptions o;
    o.num_keys = spec.num_keys;
    o.num_negatives = g_quick ? 20000 : 50000;
    o.separability = spec.separability;
    it = cache.emplace(spec.name, MakeFilterData(spec.dataset, o)).first;
  }
  return it->second;
}

struct Row {
  std::string set, type, kind, detail, reason;
  double separability = 0, target = 0, bits_per_key = 0, fpr = 0, probe_p50 = 0, probe_pos_p50 = 0,
         build_ms = 0;
  size_t keys = 0, false_negatives = 0;
};
std::vector<Row>& Rows() {
  static std::vector<Row> rows;
  return rows;
}

// Median ns per probe over batches of 256 probes of keys (cycled), each batch timed alone so
// that a preempted batch only moves the tail.
double ProbeP50(const Filter& f, const std::vector<Slice>& keys) {
  constexpr size_t kBatch = 256;
  std::vector<double> ns;
  size_t sink = 0;
  for (int rep = 0; rep < 8; ++rep) {
    for (size_t i = 0; i + kBatch <= keys.size(); i += kBatch) {
      const auto t0 = std::chrono::steady_clock::now();
      for (size_t j = i; j < i + kBatch; ++j) sink += f.KeyMayMatch(keys[j]) ? 1 : 0;
      const auto t1 = std::chrono::steady_clock::now();
      ns.push_back(std::chrono::duration<double, std::nano>(t1 - t0).count() / kBatch);
    }
  }
  benchmark::DoNotOptimize(sink);
  if (ns.empty()) return 0;
  std::nth_element(ns.begin(), ns.begin() + ns.size() / 2, ns.end());
  return ns[ns.size() / 2];
}

struct Built {
  std::unique_ptr<Filter> filter;
  FilterReport report;
  double build_ms = 0;
};

// A bench variant: a filter type, and for learned_compact no front-filter rule.
struct Variant {
  const char* name;
  FilterType type;
  bool compact = false;
};

Built BuildFilter(const FilterData& data, const Variant& v, double target) {
  FilterOptions options;
  options.type = v.type;
  if (v.compact) options.max_scored_share = 1;
  options.target_fpr = target;
  options.negatives = NewVectorNegativeSource(data.train_negatives);
  const auto t0 = std::chrono::steady_clock::now();
  FilterBuilder builder(options);
  for (const std::string& k : data.keys) builder.AddKey(k);
  std::string block;
  Built b;
  builder.Finish(&block, &b.report);
  b.build_ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  if (!Filter::DecodeFrom(block, &b.filter).ok()) abort();
  return b;
}

void BM_Filter(benchmark::State& state, SetSpec spec, Variant variant, double target) {
  const FilterData& data = Data(spec);
  const Built b = BuildFilter(data, variant, target);
  Row row;
  row.set = spec.name;
  row.separability = spec.separability;
  row.type = variant.name;
  row.kind = b.report.kind;
  row.detail = b.report.detail;
  row.reason = b.report.reason;
  row.target = target;
  row.keys = data.keys.size();
  row.bits_per_key = b.report.bits_per_key;
  row.build_ms = b.build_ms;
  for (const std::string& k : data.keys) row.false_negatives += b.filter->KeyMayMatch(k) ? 0 : 1;
  if (row.false_negatives != 0) state.SkipWithError("false negatives");
  std::vector<Slice> negs(data.test_negatives.begin(), data.test_negatives.end());
  std::vector<Slice> keys;
  for (size_t i = 0; i < negs.size(); ++i)
    keys.emplace_back(data.keys[i * 7919 % data.keys.size()]);
  size_t hits = 0;
  for (const Slice& k : negs) hits += b.filter->KeyMayMatch(k) ? 1 : 0;
  row.fpr = static_cast<double>(hits) / static_cast<double>(negs.size());
  row.probe_p50 = ProbeP50(*b.filter, negs);
  row.probe_pos_p50 = ProbeP50(*b.filter, keys);

  size_t i = 0, sink = 0;
  for (auto _ : state) {
    sink += b.filter->KeyMayMatch(negs[i]) ? 1 : 0;
    if (++i == negs.size()) i = 0;
  }
  benchmark::DoNotOptimize(sink);
  state.counters["bits_per_key"] = row.bits_per_key;
  state.counters["fpr"] = row.fpr;
  state.counters["probe_p50_ns"] = row.probe_p50;
  state.counters["probe_pos_p50_ns"] = row.probe_pos_p50;
  state.counters["build_ms"] = row.build_ms;
  state.counters["learned"] = row.kind == "learned" ? 1 : 0;
  state.SetLabel(row.kind + (row.detail.empty() ? "" : ": " + row.detail));
  Rows().push_back(row);
}

std::string InternalKey(const std::string& user_key) {
  std::string k;
  AppendInternalKey(&k, user_key, 1, kTypeValue);
  return k;
}

void BM_TableGetMissing(benchmark::State& state, SetSpec spec, FilterType type) {
  const FilterData& data = Data(spec);
  TableOptions options;
  options.compression = CompressionType::kNone;
  options.filter.type = type;
  options.filter.negatives = NewVectorNegativeSource(data.train_negatives);
  std::unique_ptr<Env> env(NewMemEnv(Env::Default()));
  std::unique_ptr<WritableFile> file;
  if (!env->NewWritableFile("/t.sst", &file).ok()) abort();
  TableBuilder builder(options, file.get());
  const std::string value(100, 'v');
  for (const std::string& k : data.keys) builder.Add(InternalKey(k), value);
  if (!builder.Finish().ok() || !file->Close().ok()) abort();
  const uint64_t size = builder.FileSize();
  const std::string kind = builder.properties().filter_kind;
  options.block_cache = NewBlockCache(2 * size + (1 << 20));
  std::unique_ptr<RandomAccessFile> rfile;
  if (!env->NewRandomAccessFile("/t.sst", &rfile).ok()) abort();
  std::unique_ptr<TableReader> reader;
  if (!TableReader::Open(options, "t.sst", std::move(rfile), size, &reader).ok()) abort();
  std::vector<std::string> lookups;
  for (const std::string& k : data.test_negatives) {
    std::string l;
    AppendInternalKey(&l, k, kMaxSequenceNumber, kValueTypeForSeek);
    lookups.push_back(std::move(l));
  }
  // Warm the cache with every block a lookup can reach.
  for (const std::string& l : lookups) {
    reader->Get(l, [](const Slice&, const Slice&) { return true; });
  }
  size_t i = 0, found = 0;
  for (auto _ : state) {
    reader->Get(lookups[i], [&](const Slice&, const Slice&) {
      ++found;
      return false;
    });
    if (++i == lookups.size()) i = 0;
  }
  benchmark::DoNotOptimize(found);
  state.SetLabel(kind);
  state.counters["filter_bits_per_key"] = builder.properties().filter_bits_per_key;
}

// ---- FilterBuild: what a kAuto build costs on a compaction-sized table ----

struct BuildCase {
  std::string name;
  std::vector<std::string> keys;       // sorted, distinct
  std::vector<std::string> negatives;  // the missed lookups a build samples
};

BuildCase MakeBuildCase(const std::string& name) {
  const size_t n = g_quick ? 20000 : 500000;
  const size_t m = g_quick ? 20000 : 100000;
  BuildCase c;
  c.name = name;
  if (name == "uniform16") {
    for (uint64_t i = 0; i < n; ++i) c.keys.push_back(EncodeIntegerKey(i) + std::string(8, '0'));
    for (uint64_t j = 0; j < m; ++j) {
      std::string k = EncodeIntegerKey((j * 0x9e3779b97f4a7c15ull >> 20) % n) + std::string(8, '0');
      k.back() = '1';
      c.negatives.push_back(std::move(k));
    }
  } else if (name == "url97") {
    c.keys = GenerateSortedKeys(Dataset::kUrl, n, 42);
    c.negatives = GenerateAbsentKeys(Dataset::kUrl, c.keys, m, 43);
  } else {
    FilterDatasetOptions o;
    o.num_keys = n;
    o.num_negatives = m;
    o.separability = 0.95;
    o.system_lists = false;  // the system lists hold fewer than 500K domains
    FilterDataset d = FilterDataset::kUrl;
    if (name != "url_gen" && !ParseFilterDataset(name, &d)) abort();
    FilterData data = MakeFilterData(d, o);
    c.keys = std::move(data.keys);
    c.negatives = std::move(data.train_negatives);
  }
  return c;
}

// A /proc/self/status field in KiB (0 where there is none).
uint64_t ProcStatusKib(const char* field) {
  std::ifstream in("/proc/self/status");
  std::string line;
  const size_t len = strlen(field);
  while (std::getline(in, line)) {
    if (line.compare(0, len, field) == 0 && line.size() > len && line[len] == ':') {
      return strtoull(line.c_str() + len + 1, nullptr, 10);
    }
  }
  return 0;
}

// CPU time of this thread: the build's cost, whatever else the machine runs.
double ThreadCpuMs() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) * 1e3 + static_cast<double>(ts.tv_nsec) / 1e6;
}

void BM_FilterBuild(benchmark::State& state, std::string name, FilterType type) {
  const BuildCase c = MakeBuildCase(name);
  FilterOptions options;
  options.type = type;
  options.negatives = NewVectorNegativeSource(c.negatives);
  FilterReport report;
  double build_ms = 0, cpu_ms = 0, peak_mib = 0;
  for (auto _ : state) {
    // Hands freed heap pages back to the system (glibc), so that the build's allocations
    // show as resident-set growth, then resets the peak resident set to the current one
    // (Linux): the peak after the build is what the build added.
#ifdef __GLIBC__
    malloc_trim(0);
#endif
    {
      std::ofstream clear("/proc/self/clear_refs");
      clear << "5";
    }
    const uint64_t before = ProcStatusKib("VmRSS");
    const double cpu0 = ThreadCpuMs();
    const auto t0 = std::chrono::steady_clock::now();
    FilterBuilder builder(options);
    for (const std::string& k : c.keys) builder.AddKey(k);
    std::string block;
    builder.Finish(&block, &report);
    build_ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    cpu_ms = ThreadCpuMs() - cpu0;
    const uint64_t peak = ProcStatusKib("VmHWM");
    peak_mib = peak > before ? static_cast<double>(peak - before) / 1024 : 0;
  }
  state.counters["build_ms"] = build_ms;
  state.counters["cpu_ms"] = cpu_ms;
  state.counters["peak_mib"] = peak_mib;
  state.counters["bits_per_key"] = report.bits_per_key;
  state.counters["learned"] = report.kind == "learned" ? 1 : 0;
  state.SetLabel(report.kind + ": " + report.reason);
}

void Register() {
  const std::vector<double> targets =
      g_quick ? std::vector<double>{0.01}
              : std::vector<double>{0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1};
  const std::vector<Variant> variants = {{"bloom", FilterType::kBloom},
                                         {"fuse", FilterType::kFuse},
                                         {"learned", FilterType::kLearned},
                                         {"learned_compact", FilterType::kLearned, true},
                                         {"auto", FilterType::kAuto}};
  for (const SetSpec& spec : Sets()) {
    for (const Variant& v : variants) {
      for (double target : targets) {
        char name[96];
        snprintf(name, sizeof(name), "Filter/%s/%s/%g", spec.name.c_str(), v.name, target);
        benchmark::RegisterBenchmark(name, BM_Filter, spec, v, target)
            ->Unit(benchmark::kNanosecond)
            ->Iterations(g_quick ? 20000 : 2000000);
      }
    }
  }
  for (const char* name : {"uniform16", "url97", "url_gen", "id_gaps", "ycsb"}) {
    for (FilterType type : {FilterType::kAuto, FilterType::kFuse}) {
      const std::string bench = std::string("FilterBuild/") + name + "/" + FilterTypeName(type);
      benchmark::RegisterBenchmark(bench.c_str(), BM_FilterBuild, std::string(name), type)
          ->Unit(benchmark::kMillisecond)
          ->Iterations(1);
    }
  }
  for (const SetSpec& spec : Sets()) {
    for (FilterType type : {FilterType::kNone, FilterType::kFuse, FilterType::kAuto}) {
      const std::string name = "TableGetMissing/" + spec.name + "/" + FilterTypeName(type);
      benchmark::RegisterBenchmark(name.c_str(), BM_TableGetMissing, spec, type)
          ->Unit(benchmark::kNanosecond);
    }
  }
}

void WriteCsv(const std::string& path) {
  FILE* f = fopen(path.c_str(), "w");
  if (f == nullptr) {
    fprintf(stderr, "filter_bench: cannot write %s\n", path.c_str());
    return;
  }
  fprintf(f,
          "set,separability,type,kind,target_fpr,keys,bits_per_key,fpr,probe_p50_ns,"
          "probe_pos_p50_ns,build_ms,false_negatives,detail\n");
  for (const Row& r : Rows()) {
    std::string detail = r.detail;
    std::replace(detail.begin(), detail.end(), ',', ';');
    fprintf(f, "%s,%.2f,%s,%s,%g,%zu,%.4f,%.6f,%.1f,%.1f,%.1f,%zu,%s\n", r.set.c_str(),
            r.separability, r.type.c_str(), r.kind.c_str(), r.target, r.keys, r.bits_per_key, r.fpr,
            r.probe_p50, r.probe_pos_p50, r.build_ms, r.false_negatives, detail.c_str());
  }
  fclose(f);
}

}  // namespace
}  // namespace learnkv

int main(int argc, char** argv) {
  std::string csv;
  int kept = 1;
  for (int i = 1; i < argc; ++i) {
    if (strncmp(argv[i], "--filter_csv=", 13) == 0) {
      csv = argv[i] + 13;
    } else if (strcmp(argv[i], "--filter_quick") == 0) {
      learnkv::g_quick = true;
    } else {
      argv[kept++] = argv[i];
    }
  }
  argc = kept;
  learnkv::Register();
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  if (!csv.empty()) learnkv::WriteCsv(csv);
  return 0;
}
