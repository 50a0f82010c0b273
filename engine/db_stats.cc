#include "engine/db_stats.h"

#include <algorithm>
#include <cinttypes>
#include <cstdarg>
#include <cstdio>

#include "engine/level_filters.h"
#include "engine/version_set.h"
#include "learned/filter_policy.h"
#include "learnkv/table_options.h"

namespace learnkv {

namespace {

double MiB(uint64_t bytes) { return static_cast<double>(bytes) / 1048576.0; }
double Seconds(uint64_t micros) { return static_cast<double>(micros) / 1e6; }

void AppendF(std::string* out, const char* format, ...) __attribute__((format(printf, 2, 3)));
void AppendF(std::string* out, const char* format, ...) {
  char buf[512];
  va_list ap;
  va_start(ap, format);
  const int n = std::vsnprintf(buf, sizeof(buf), format, ap);
  va_end(ap);
  if (n > 0) out->append(buf, std::min<size_t>(static_cast<size_t>(n), sizeof(buf) - 1));
}

}  // namespace

void LevelStats::AddTable(const FileMetaData& f) {
  ++files_written;
  bytes_written += f.file_size;
  build_micros += f.build_micros;
  training_micros += f.training_micros;
  if (f.index_kind == static_cast<uint8_t>(IndexType::kLearned)) {
    ++learned_tables;
  } else {
    ++block_tables;
  }
}

std::string DBStats::ToString(const Version& v, const VersionSet& versions) const {
  std::string r;
  AppendF(&r,
          "Level Files  Size(MiB)  Score  Jobs  Read(MiB)  Write(MiB)  Comp(s)  Train(s)  "
          "rmi/block\n");
  LevelStats total;
  for (int level = 0; level < versions.num_levels(); ++level) {
    const LevelStats& s = level == 0 ? flush : compaction[level];
    AppendF(&r,
            "L%-4d %5d %10.2f %6.2f %5" PRIu64 " %10.2f %11.2f %8.3f %9.3f  %" PRIu64 "/%" PRIu64
            "\n",
            level, v.NumFiles(level), MiB(v.NumLevelBytes(level)), v.CompactionScore(level), s.jobs,
            MiB(s.bytes_read), MiB(s.bytes_written), Seconds(s.micros), Seconds(s.training_micros),
            s.learned_tables, s.block_tables);
    total.jobs += s.jobs;
    total.micros += s.micros;
    total.bytes_read += s.bytes_read;
    total.bytes_written += s.bytes_written;
    total.files_written += s.files_written;
    total.build_micros += s.build_micros;
    total.training_micros += s.training_micros;
    total.learned_tables += s.learned_tables;
    total.block_tables += s.block_tables;
  }
  AppendF(&r,
          "Flushes: %" PRIu64
          ", %.2f MiB in %.3f s (tables built in %.3f s, models trained in %.3f s)\n",
          flush.jobs, MiB(flush.bytes_written), Seconds(flush.micros), Seconds(flush.build_micros),
          Seconds(flush.training_micros));
  AppendF(&r,
          "Compactions: %" PRIu64 " jobs (%" PRIu64
          " trivial moves), read %.2f MiB, wrote %.2f MiB"
          " in %.3f s\n",
          total.jobs - flush.jobs, trivial_moves, MiB(total.bytes_read),
          MiB(total.bytes_written - flush.bytes_written), Seconds(total.micros - flush.micros));
  AppendF(&r,
          "Tables written: %" PRIu64 " (%" PRIu64 " rmi, %" PRIu64
          " block), build %.3f s, "
          "model training %.3f s\n",
          total.files_written, total.learned_tables, total.block_tables,
          Seconds(total.build_micros), Seconds(total.training_micros));
  AppendF(&r,
          "Write stalls: %" PRIu64 " slowed writes, %" PRIu64
          " stops (%.3f s); pending "
          "compaction %.2f MiB\n",
          slowdown_writes, stops, Seconds(stop_micros), MiB(v.EstimatedPendingCompactionBytes()));
  AppendF(&r, "Background errors: %" PRIu64 "\n", background_errors);
  if (compaction_filter_removed > 0) {
    AppendF(&r, "Compaction filter: %" PRIu64 " values removed\n", compaction_filter_removed);
  }
  return r;
}

const char* FileFilterKindName(uint8_t kind) {
  switch (kind) {
    case static_cast<uint8_t>(FilterKind::kBloom):
    case static_cast<uint8_t>(FilterKind::kFuse):
    case static_cast<uint8_t>(FilterKind::kLearned):
      return FilterKindName(static_cast<FilterKind>(kind));
    default:
      return "none";
  }
}

std::string FiltersToString(const Version& v, const Options& options,
                            const LookupMissSampler* misses) {
  std::string r;
  AppendF(&r,
          "Level Tables  none bloom  fuse learned  Filter(KiB)  Bits/key  TargetFPR  "
          "Missed(kept/seen)\n");
  for (int level = 0; level < options.num_levels; ++level) {
    uint64_t kinds[4] = {}, bytes = 0, keys = 0;
    double weighted_fpr = 0;
    for (const auto& f : v.files(level)) {
      ++kinds[f->filter_kind < 4 ? f->filter_kind : 0];
      bytes += f->filter_bytes;
      keys += f->filter_num_keys;
      weighted_fpr += f->filter_target_fpr * static_cast<double>(f->filter_num_keys);
    }
    const double k = static_cast<double>(std::max<uint64_t>(keys, 1));
    AppendF(&r, "L%-4d %6d %5" PRIu64 " %5" PRIu64 " %5" PRIu64 " %7" PRIu64 " %12.2f %9.2f %10.5f",
            level, v.NumFiles(level), kinds[0], kinds[1], kinds[2], kinds[3],
            static_cast<double>(bytes) / 1024.0, 8.0 * static_cast<double>(bytes) / k,
            weighted_fpr / k);
    if (misses != nullptr) {
      AppendF(&r, "  %zu/%" PRIu64, misses->SampleSize(level), misses->MissesSeen(level));
    }
    r += "\n";
  }
  const FilterOptions& filter = options.table_options.filter;
  AppendF(&r, "Filter type %s, target fpr %g%s\n", FilterTypeName(filter.type), filter.target_fpr,
          options.optimize_filters_for_levels && filter.type != FilterType::kNone
              ? " (per level: Monkey)"
              : "");
  if (misses != nullptr) {
    AppendF(&r, "Missed lookups: 1 in %d lookups examined, up to %zu kept per level\n",
            misses->interval(), misses->capacity());
  } else {
    AppendF(&r, "Missed lookups: not sampled\n");
  }
  return r;
}

}  // namespace learnkv
