// learnkv-demo (`make run`): builds one table from a generated data set twice — with the
// learned index and with the classic block index — in memory, shows what the model learned,
// and times point lookups through both.
//
//   learnkv-demo                                   1M lognormal keys
//   learnkv-demo --dataset=ycsb --num_keys=200000  (--help lists the data sets)
//   learnkv-demo --save_table=/tmp/demo.sst        then: learnkv-sst --file=/tmp/demo.sst ...
#include <gflags/gflags.h>

#include <algorithm>
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "learnkv/env.h"
#include "sstable/block_cache.h"
#include "sstable/internal_key.h"
#include "sstable/table_builder.h"
#include "sstable/table_reader.h"
#include "tools/model_report.h"
#include "tools/sst_dump.h"
#include "util/coding.h"
#include "util/datasets.h"
#include "util/mem_env.h"

DEFINE_string(dataset, "lognormal",
              "uniform_dense, uniform_sparse, normal, lognormal, osm, ycsb, url, random_binary "
              "or long_prefix");
DEFINE_uint64(num_keys, 1000000, "Keys in the table");
DEFINE_uint64(value_size, 100, "Bytes per value");
DEFINE_uint64(lookups, 1000000, "Point lookups per timed run");
DEFINE_uint64(seed, 42, "Seed of the data set and the lookup order");
DEFINE_string(save_table, "", "Also write the learned table to this file, for learnkv-sst");

namespace learnkv {
namespace {

using Clock = std::chrono::steady_clock;

double SecondsSince(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

struct DemoTable {
  std::unique_ptr<TableReader> reader;
  TableProperties props;
};

// Builds the table of `keys` (one version each, 100-byte values by default) with the given
// index into `env`, and opens it with a block cache large enough to hold all of it.
Status BuildAndOpen(Env* env, const std::string& name, const std::vector<std::string>& keys,
                    IndexType index_type, DemoTable* table) {
  TableOptions options;
  options.index_type = index_type;
  options.compression = CompressionType::kNone;  // lookups then time the index, not lz4
  std::unique_ptr<WritableFile> file;
  Status s = env->NewWritableFile(name, &file);
  if (!s.ok()) return s;
  TableBuilder builder(options, file.get());
  std::string ikey, value(FLAGS_value_size, 'v');
  for (size_t i = 0; i < keys.size(); ++i) {
    ikey.clear();
    AppendInternalKey(&ikey, keys[i], 1, kTypeValue);
    // Values differ (the position in front), so that a lookup returning a wrong entry shows.
    const std::string pos = std::to_string(i);
    value.replace(0, std::min(pos.size(), value.size()), pos, 0, value.size());
    builder.Add(ikey, value);
  }
  s = builder.Finish();
  if (s.ok()) s = file->Close();
  if (!s.ok()) return s;
  table->props = builder.properties();

  options.block_cache = NewBlockCache(2 * builder.FileSize() + (64 << 20));
  std::unique_ptr<RandomAccessFile> source;
  s = env->NewRandomAccessFile(name, &source);
  if (!s.ok()) return s;
  s = TableReader::Open(options, name, std::move(source), builder.FileSize(), &table->reader);
  if (!s.ok()) return s;
  // Warm the cache: lookups are then timed on the index and blocks in memory, not on misses.
  std::unique_ptr<Iterator> it = table->reader->NewIterator();
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
  }
  return it->status();
}

// Nanoseconds per lookup, median of three runs, and whether every key was found.
double TimeLookups(const TableReader& reader, const std::vector<std::string>& lookup_keys,
                   bool* all_found) {
  std::vector<double> runs;
  *all_found = true;
  for (int run = 0; run < 3; ++run) {
    uint64_t found = 0;
    const auto start = Clock::now();
    for (const std::string& k : lookup_keys) {
      Status s = reader.Get(k, [&found](const Slice&, const Slice&) {
        found++;
        return false;
      });
      if (!s.ok()) *all_found = false;
    }
    runs.push_back(SecondsSince(start) * 1e9 / static_cast<double>(lookup_keys.size()));
    if (found != lookup_keys.size()) *all_found = false;
  }
  std::sort(runs.begin(), runs.end());
  return runs[1];
}

std::string ShowKey(Dataset d, const Slice& user_key) {
  if (IsIntegerDataset(d) && user_key.size() == 8) {
    return std::to_string(DecodeBigEndian64(user_key.data()));
  }
  std::string s = EscapeBytes(user_key);
  return s.size() > 26 ? s.substr(0, 23) + "..." : s;
}

int Run() {
  Dataset dataset;
  if (!ParseDataset(FLAGS_dataset, &dataset)) {
    fprintf(stderr, "learnkv-demo: unknown --dataset=%s\n", FLAGS_dataset.c_str());
    return 2;
  }
  const size_t n = FLAGS_num_keys;
  printf("learnkv demo: one table of %zu %s keys with %" PRIu64
         "-byte values, built twice in memory\n(learned index, then classic block index), "
         "uncompressed.\n\n",
         n, DatasetName(dataset), FLAGS_value_size);
  const std::vector<std::string> keys = GenerateSortedKeys(dataset, n, FLAGS_seed);

  std::unique_ptr<Env> env(NewMemEnv(Env::Default()));
  DemoTable learned, block;
  Status s = BuildAndOpen(env.get(), "learned.sst", keys, IndexType::kLearned, &learned);
  if (s.ok()) s = BuildAndOpen(env.get(), "block.sst", keys, IndexType::kBlock, &block);
  if (s.ok() && !FLAGS_save_table.empty()) {
    std::string contents;
    s = ReadFileToString(env.get(), "learned.sst", &contents);
    if (s.ok()) s = WriteStringToFile(Env::Default(), contents, FLAGS_save_table, true);
  }
  if (!s.ok()) {
    fprintf(stderr, "learnkv-demo: %s\n", s.ToString().c_str());
    return 1;
  }

  const TableProperties& lp = learned.props;
  const TableProperties& bp = block.props;
  const Rmi* model = learned.reader->model();
  printf("What the model learned\n");
  if (model == nullptr) {
    printf("  no model: %s\n", lp.fallback_reason.c_str());
  } else {
    const RmiStats& st = model->stats();
    const double per_key_l = static_cast<double>(lp.index_bytes) / static_cast<double>(n);
    const double per_key_b = static_cast<double>(bp.index_bytes) / static_cast<double>(n);
    printf("  root          %s (%u knots), %u linear leaves\n", RmiRootKindName(st.root_kind),
           st.num_knots, st.num_leaves);
    printf("  error         mean %.1f positions, max %" PRIu64
           " (search window mean %.1f, max %" PRIu64 ")\n",
           st.mean_abs_error, st.max_abs_error, st.mean_window, st.max_window);
    printf("  index         %.4f bytes/key (%" PRIu64 " bytes: model + block locator)\n", per_key_l,
           lp.index_bytes);
    printf("  block index   %.4f bytes/key (%" PRIu64 " bytes) -> learned is %.3fx its size\n",
           per_key_b, bp.index_bytes, per_key_l / per_key_b);
    printf("  build         %.2f s learned (training %.3f s = %.1f%%), %.2f s block index\n",
           lp.build_micros / 1e6, lp.training_micros / 1e6,
           100.0 * static_cast<double>(lp.training_micros) / static_cast<double>(lp.build_micros),
           bp.build_micros / 1e6);
  }

  TableWalk walk;
  s = WalkTable(*learned.reader, 5, &walk);
  if (!s.ok() || walk.bound_violations > 0) {
    fprintf(stderr, "learnkv-demo: %s %s\n", s.ToString().c_str(), walk.first_violation.c_str());
    return 1;
  }
  if (model != nullptr) {
    printf("\nSample predictions\n  %-26s %10s %10s   %s\n", "key", "position", "predicted",
           "window searched");
    for (const ModelSample& m : walk.samples) {
      printf("  %-26s %10" PRIu64 " %10" PRIu64 "   [%" PRIu64 ", %" PRIu64 ")\n",
             ShowKey(dataset, keys[m.position]).c_str(), m.position, m.predicted.pos,
             m.predicted.bound.lo, m.predicted.bound.hi);
    }
    printf("\n%s", ModelReport(*learned.reader, walk).c_str());
  }

  std::vector<std::string> lookup_keys;
  std::mt19937_64 rng(FLAGS_seed);
  for (uint64_t i = 0; i < FLAGS_lookups && n > 0; ++i) {
    lookup_keys.push_back(LookupKey(keys[rng() % n], kMaxSequenceNumber).internal_key().ToString());
  }
  bool ok_learned, ok_block;
  const double ns_learned = TimeLookups(*learned.reader, lookup_keys, &ok_learned);
  const double ns_block = TimeLookups(*block.reader, lookup_keys, &ok_block);
  printf("\nPoint lookups (%zu random present keys, warm block cache, median of 3 runs)\n",
         lookup_keys.size());
  printf("  learned index %8.1f ns/lookup%s\n", ns_learned, ok_learned ? "" : "  (MISSED KEYS)");
  printf("  block index   %8.1f ns/lookup%s\n", ns_block, ok_block ? "" : "  (MISSED KEYS)");
  printf("  speed-up      %8.2fx\n", ns_block / ns_learned);
  return ok_learned && ok_block ? 0 : 1;
}

}  // namespace
}  // namespace learnkv

int main(int argc, char** argv) {
  gflags::SetUsageMessage("learnkv-demo [--dataset=lognormal] [--num_keys=1000000] [flags]");
  gflags::ParseCommandLineFlags(&argc, &argv, true);
  return learnkv::Run();
}
