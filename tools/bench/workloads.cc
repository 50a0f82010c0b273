#include "tools/bench/workloads.h"

#include <algorithm>
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <filesystem>
#include <latch>
#include <thread>
#include <vector>

namespace learnkv::bench {

namespace {

// Workers publish progress in chunks, so the shared counter is not a hot spot.
constexpr uint64_t kProgressChunk = 1024;

bool IsFill(const std::string& name) { return name == "fillseq" || name == "fillrandom"; }

// Counts a worker's finished operations and, with --histogram, times each call.
class OpMeter {
 public:
  OpMeter(bool timed, ThreadStats* stats, Progress* progress)
      : timed_(timed), stats_(stats), progress_(progress) {}
  OpMeter(const OpMeter&) = delete;
  OpMeter& operator=(const OpMeter&) = delete;
  ~OpMeter() { progress_->Add(pending_); }

  void Start() {
    if (timed_) start_ = NowSeconds();
  }
  void Finish(uint64_t ops) {
    if (timed_) stats_->latency.Add((NowSeconds() - start_) * 1e6);
    stats_->ops += ops;
    pending_ += ops;
    if (pending_ >= kProgressChunk) {
      progress_->Add(pending_);
      pending_ = 0;
    }
  }

 private:
  const bool timed_;
  ThreadStats* const stats_;
  Progress* const progress_;
  double start_ = 0;
  uint64_t pending_ = 0;
};

}  // namespace

WorkloadRunner::WorkloadRunner(const BenchConfig& config, const KeySpace& keys)
    : config_(config), keys_(keys) {}

Status WorkloadRunner::Open() {
  std::error_code ec;
  std::filesystem::create_directories(path_, ec);
  if (ec) return Status::IOError(path_, ec.message());
  return OpenEngine(engine_name_, config_, path_, &engine_);
}

Status WorkloadRunner::OpenFresh() {
  if (engine_ != nullptr) {
    Status s = engine_->Close();
    engine_.reset();
    if (!s.ok()) return s;
  }
  Status s = DestroyEngine(engine_name_, config_, path_);
  if (!s.ok()) return s;
  return Open();
}

Status WorkloadRunner::Run(const std::string& engine, const std::string& path,
                           EngineReport* report) {
  engine_name_ = engine;
  path_ = path;
  stop_ = false;
  Status s = config_.use_existing_db ? Open() : OpenFresh();
  if (!s.ok()) return s;
  report->engine = engine;
  report->path = path;
  report->description = engine_->Description();
  report->notes = engine_->Notes();
  PrintHeader(*report);

  for (size_t i = 0; i < config_.benchmarks.size() && s.ok(); ++i) {
    s = RunOne(config_.benchmarks[i], i, report);
  }
  if (!s.ok()) return s;

  report->memory = engine_->Memory();
  report->accelerator = engine_->Accelerator();
  report->current_rss_bytes = CurrentRssBytes();
  report->peak_rss_bytes = PeakRssBytes();
  s = engine_->Close();
  engine_.reset();
  report->disk_bytes = DirectoryBytes(path_);
  fputs(FormatEngineSummary(*report).c_str(), stdout);
  fflush(stdout);
  return s;
}

void WorkloadRunner::PrintHeader(const EngineReport& r) const {
  const double raw = static_cast<double>(config_.key_size + config_.value_size) *
                     static_cast<double>(config_.num) / 1048576.0;
  const double compressed_value =
      config_.compression_type == "none" ? 1.0 : config_.compression_ratio;
  const double file =
      static_cast<double>(config_.key_size + config_.value_size * compressed_value) *
      static_cast<double>(config_.num) / 1048576.0;
  printf("Engine:      %s\n", r.description.c_str());
  printf("Machine:     %s\n", MachineDescription().c_str());
  printf("Keys:        %zu bytes each; %s\n", config_.key_size, keys_.Describe().c_str());
  printf("Values:      %zu bytes each (%zu bytes after compression)\n", config_.value_size,
         static_cast<size_t>(static_cast<double>(config_.value_size) * compressed_value));
  printf("Entries:     %" PRIu64 "\n", config_.num);
  printf("RawSize:     %.1f MB (estimated)\n", raw);
  printf("FileSize:    %.1f MB (estimated)\n", file);
  printf("Compression: %s\n", config_.compression_type.c_str());
  printf("Block cache: %" PRId64 " bytes; write buffer: %zu bytes x %d\n", config_.cache_size,
         config_.write_buffer_size, config_.max_write_buffer_number);
  if (config_.filter == FilterKind::kNone) {
    printf("Filter:      none\n");
  } else {
    printf("Filter:      %s (bloom_bits %d)\n", FilterKindName(config_.filter), config_.bloom_bits);
  }
  printf("Threads:     %d; batch_size %d; sync %d; WAL %s\n", config_.threads, config_.batch_size,
         config_.sync ? 1 : 0, config_.disable_wal ? "off" : "on");
  if (!config_.accelerator.empty()) {
    printf("Accelerator: %s (simulated; learnkv only), gathering wait %" PRIu64
           " us, batch cap %" PRIu64 "\n",
           config_.accelerator.c_str(), config_.accel_max_wait_micros, config_.accel_batch_cap);
  }
  printf("DB path:     [%s]\n", r.path.c_str());
  for (const std::string& note : r.notes) printf("Note:        %s\n", note.c_str());
  printf("------------------------------------------------\n");
  fflush(stdout);
}

Status WorkloadRunner::RunOne(const std::string& name, size_t position, EngineReport* report) {
  if (IsFill(name) && config_.use_existing_db) {
    printf("%-12s : skipped (--use_existing_db is true)\n", name.c_str());
    return Status::OK();
  }
  if (name == "stats" || name == "levelstats") {
    const std::string text = name == "stats" ? engine_->Stats() : engine_->LevelStats();
    printf("\n%s\n", text.c_str());
    fflush(stdout);
    return Status::OK();
  }
  if (IsFill(name)) {
    Status s = OpenFresh();
    if (!s.ok()) return s;
  }

  const uint64_t t = config_.threads;
  BenchResult r;
  Status s;
  if (name == "fillseq" || name == "fillrandom" || name == "overwrite") {
    const bool seq = name == "fillseq";
    s = RunThreads(
        name, config_.threads, config_.writes * t, false, position,
        [this, seq](int tid, uint64_t seed, ThreadStats* st, Progress* p) {
          return DoWrite(seq, tid, seed, st, p);
        },
        &r);
  } else if (name == "readrandom" || name == "readmissing") {
    const bool missing = name == "readmissing";
    s = RunThreads(
        name, config_.threads, config_.reads * t, true, position,
        [this, missing](int tid, uint64_t seed, ThreadStats* st, Progress* p) {
          return DoRead(missing, tid, seed, st, p);
        },
        &r);
  } else if (name == "multireadrandom") {
    s = RunThreads(
        name, config_.threads, config_.reads * t, true, position,
        [this](int tid, uint64_t seed, ThreadStats* st, Progress* p) {
          return DoMultiRead(tid, seed, st, p);
        },
        &r);
  } else if (name == "seekrandom") {
    s = RunThreads(
        name, config_.threads, config_.reads * t, true, position,
        [this](int tid, uint64_t seed, ThreadStats* st, Progress* p) {
          return DoSeek(tid, seed, st, p);
        },
        &r);
  } else if (name == "readseq" || name == "readreverse") {
    const bool reverse = name == "readreverse";
    s = RunThreads(
        name, config_.threads, config_.reads * t, false, position,
        [this, reverse](int, uint64_t, ThreadStats* st, Progress* p) {
          return DoScan(reverse, st, p);
        },
        &r);
  } else if (name == "deleterandom") {
    s = RunThreads(
        name, config_.threads, config_.deletes * t, false, position,
        [this](int tid, uint64_t seed, ThreadStats* st, Progress* p) {
          return DoDelete(tid, seed, st, p);
        },
        &r);
  } else if (name == "readwhilewriting") {
    s = ReadWhileWriting(position, &r);
  } else if (name == "compact") {
    s = TimeOnce(
        name, [this] { return engine_->CompactAll(); }, &r);
  } else if (name == "waitforcompaction") {
    s = TimeOnce(
        name, [this] { return engine_->WaitForCompaction(); }, &r);
  } else {
    return Status::InvalidArgument("unknown benchmark", name);
  }
  if (!s.ok()) return Status::IOError(name + " failed", s.ToString());
  fputs(FormatResultLine(r).c_str(), stdout);
  fputs(FormatLatency(r).c_str(), stdout);
  fflush(stdout);
  report->results.push_back(std::move(r));
  return Status::OK();
}

Status WorkloadRunner::RunThreads(const std::string& name, int threads, uint64_t expected_ops,
                                  bool lookups, size_t position, const ThreadBody& body,
                                  BenchResult* result) {
  std::vector<ThreadStats> stats(threads);
  std::vector<Status> statuses(threads);
  {
    Progress progress(config_, name, expected_ops);
    std::latch ready(threads);
    std::vector<std::thread> workers;
    for (int tid = 0; tid < threads; ++tid) {
      // Distinct, reproducible streams per (seed, benchmark position, thread).
      const uint64_t seed =
          Random(config_.seed ^ (position << 32) ^ (uint64_t(tid) << 16)).Next64();
      workers.emplace_back([&, tid, seed] {
        ready.arrive_and_wait();
        stats[tid].start = NowSeconds();
        statuses[tid] = body(tid, seed, &stats[tid], &progress);
        stats[tid].finish = NowSeconds();
        if (!statuses[tid].ok()) stop_ = true;
      });
    }
    for (std::thread& w : workers) w.join();
  }
  for (const Status& s : statuses) {
    if (!s.ok()) return s;
  }
  result->name = name;
  MergeThreadStats(stats, lookups, config_.histogram, result);
  return Status::OK();
}

Status WorkloadRunner::TimeOnce(const std::string& name, const std::function<Status()>& fn,
                                BenchResult* r) {
  std::vector<ThreadStats> stats(1);
  stats[0].start = NowSeconds();
  Status s = fn();
  stats[0].finish = NowSeconds();
  stats[0].ops = 1;
  r->name = name;
  MergeThreadStats(stats, false, false, r);
  return s;
}

Status WorkloadRunner::DoWrite(bool sequential, int tid, uint64_t seed, ThreadStats* st,
                               Progress* progress) {
  KeyChooser chooser(keys_, seed, 0);
  ValueGenerator values(config_.compression_ratio, seed + 1);
  const size_t batch = config_.batch_size;
  std::vector<std::string> scratch(batch);
  std::vector<Slice> ks(batch), vs(batch);
  const uint64_t start = keys_.num() / config_.threads * tid;
  OpMeter meter(config_.histogram, st, progress);
  for (uint64_t done = 0; done < config_.writes && !stop_.load(std::memory_order_relaxed);) {
    const size_t n = std::min<uint64_t>(batch, config_.writes - done);
    for (size_t j = 0; j < n; ++j) {
      const uint64_t i = sequential ? (start + done + j) % keys_.num() : chooser.Next();
      ks[j] = keys_.Key(i, &scratch[j]);
      vs[j] = values.Next(config_.value_size);
      st->bytes += ks[j].size() + vs[j].size();
    }
    meter.Start();
    Status s = engine_->Write(ks.data(), vs.data(), n);
    if (!s.ok()) return s;
    meter.Finish(n);
    done += n;
  }
  return Status::OK();
}

Status WorkloadRunner::DoRead(bool missing, int tid, uint64_t seed, ThreadStats* st,
                              Progress* progress) {
  KeyChooser chooser(keys_, seed, keys_.num() / config_.threads * tid);
  std::unique_ptr<ReadContext> ctx = engine_->NewReadContext();
  std::string scratch;
  OpMeter meter(config_.histogram, st, progress);
  for (uint64_t done = 0; done < config_.reads && !stop_.load(std::memory_order_relaxed); ++done) {
    const Slice key = missing ? keys_.MissingKey(chooser.rng()->Next64(), &scratch)
                              : keys_.Key(chooser.Next(), &scratch);
    size_t value_size = 0;
    meter.Start();
    Status s = engine_->Get(ctx.get(), key, &value_size);
    meter.Finish(1);
    if (s.ok()) {
      ++st->found;
      st->bytes += key.size() + value_size;
    } else if (!s.IsNotFound()) {
      return s;
    }
  }
  return Status::OK();
}

Status WorkloadRunner::DoMultiRead(int tid, uint64_t seed, ThreadStats* st, Progress* progress) {
  KeyChooser chooser(keys_, seed, keys_.num() / config_.threads * tid);
  std::unique_ptr<ReadContext> ctx = engine_->NewReadContext();
  const size_t batch = config_.batch_size;
  std::vector<std::string> scratch(batch);
  std::vector<Slice> ks(batch);
  std::unique_ptr<bool[]> found(new bool[batch]);
  OpMeter meter(config_.histogram, st, progress);
  for (uint64_t done = 0; done < config_.reads && !stop_.load(std::memory_order_relaxed);) {
    const size_t n = std::min<uint64_t>(batch, config_.reads - done);
    for (size_t j = 0; j < n; ++j) ks[j] = keys_.Key(chooser.Next(), &scratch[j]);
    meter.Start();
    Status s = engine_->MultiGet(ctx.get(), ks.data(), n, found.get());
    if (!s.ok()) return s;
    meter.Finish(n);
    for (size_t j = 0; j < n; ++j) st->found += found[j] ? 1 : 0;
    done += n;
  }
  return Status::OK();
}

Status WorkloadRunner::DoSeek(int tid, uint64_t seed, ThreadStats* st, Progress* progress) {
  KeyChooser chooser(keys_, seed, keys_.num() / config_.threads * tid);
  std::unique_ptr<BenchIterator> it = engine_->NewIterator();
  std::string scratch;
  OpMeter meter(config_.histogram, st, progress);
  for (uint64_t done = 0; done < config_.reads && !stop_.load(std::memory_order_relaxed); ++done) {
    const Slice key = keys_.Key(chooser.Next(), &scratch);
    meter.Start();
    it->Seek(key);
    if (it->Valid() && it->key() == key) ++st->found;
    for (int j = 0; j < config_.seek_nexts && it->Valid(); ++j) {
      st->bytes += it->key().size() + it->value().size();
      it->Next();
    }
    meter.Finish(1);
  }
  return it->status();
}

Status WorkloadRunner::DoScan(bool reverse, ThreadStats* st, Progress* progress) {
  std::unique_ptr<BenchIterator> it = engine_->NewIterator();
  OpMeter meter(config_.histogram, st, progress);
  if (reverse) {
    it->SeekToLast();
  } else {
    it->SeekToFirst();
  }
  for (uint64_t done = 0; done < config_.reads && it->Valid(); ++done) {
    if (stop_.load(std::memory_order_relaxed)) break;
    meter.Start();
    st->bytes += it->key().size() + it->value().size();
    if (reverse) {
      it->Prev();
    } else {
      it->Next();
    }
    meter.Finish(1);
  }
  return it->status();
}

Status WorkloadRunner::DoDelete(int tid, uint64_t seed, ThreadStats* st, Progress* progress) {
  KeyChooser chooser(keys_, seed, keys_.num() / config_.threads * tid);
  std::string scratch;
  OpMeter meter(config_.histogram, st, progress);
  for (uint64_t done = 0; done < config_.deletes && !stop_.load(std::memory_order_relaxed);
       ++done) {
    const Slice key = keys_.Key(chooser.Next(), &scratch);
    meter.Start();
    Status s = engine_->Delete(key);
    if (!s.ok()) return s;
    meter.Finish(1);
  }
  return Status::OK();
}

Status WorkloadRunner::ReadWhileWriting(size_t position, BenchResult* result) {
  std::atomic<bool> readers_done{false};
  uint64_t puts = 0;
  double writer_seconds = 0;
  Status writer_status;
  std::thread writer([&] {
    const uint64_t seed = Random(config_.seed ^ (position << 32) ^ 0xfffful).Next64();
    KeyChooser chooser(keys_, seed, 0);
    ValueGenerator values(config_.compression_ratio, seed + 1);
    std::string scratch;
    const double start = NowSeconds();
    uint64_t bytes = 0;
    while (!readers_done.load(std::memory_order_relaxed) && !stop_.load()) {
      const Slice key = keys_.Key(chooser.Next(), &scratch);
      const Slice value = values.Next(config_.value_size);
      bytes += key.size() + value.size();
      writer_status = engine_->Write(&key, &value, 1);
      if (!writer_status.ok()) {
        stop_ = true;
        break;
      }
      ++puts;
      if (config_.benchmark_write_rate_limit > 0) {
        const double due =
            static_cast<double>(bytes) / static_cast<double>(config_.benchmark_write_rate_limit);
        const double ahead = due - (NowSeconds() - start);
        if (ahead > 0) std::this_thread::sleep_for(std::chrono::duration<double>(ahead));
      }
    }
    writer_seconds = NowSeconds() - start;
  });
  Status s = RunThreads(
      "readwhilewriting", config_.threads, config_.reads * config_.threads, true, position,
      [this](int tid, uint64_t seed, ThreadStats* st, Progress* p) {
        return DoRead(false, tid, seed, st, p);
      },
      result);
  readers_done = true;
  writer.join();
  if (!writer_status.ok()) return writer_status;
  if (!s.ok()) return s;
  char extra[128];
  snprintf(extra, sizeof(extra), "(writer: %" PRIu64 " puts, %.0f puts/s)", puts,
           static_cast<double>(puts) / std::max(writer_seconds, 1e-9));
  result->extra = extra;
  return Status::OK();
}

}  // namespace learnkv::bench
