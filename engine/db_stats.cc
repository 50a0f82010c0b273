#include "engine/db_stats.h"

#include <algorithm>
#include <cinttypes>
#include <cstdarg>
#include <cstdio>

#include "engine/version_set.h"
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
  return r;
}

}  // namespace learnkv
