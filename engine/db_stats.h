// DBStats: the counters behind the learnkv.stats property — per-level flush and compaction
// work (time, bytes, tables written and the time their models took to train, which index each
// got), write stalls and keys removed by the compaction filter. FiltersToString writes the
// learnkv.filters property from the Version and the missed-lookup samples.
//
// Thread safety: plain values; DBImpl keeps one under its mutex.
#ifndef LEARNKV_ENGINE_DB_STATS_H_
#define LEARNKV_ENGINE_DB_STATS_H_

#include <cstdint>
#include <string>

#include "engine/version_edit.h"
#include "learnkv/options.h"

namespace learnkv {

class LookupMissSampler;
class Version;
class VersionSet;

// Work that wrote tables into one level.
struct LevelStats {
  uint64_t jobs = 0;
  uint64_t micros = 0;
  uint64_t bytes_read = 0;
  uint64_t bytes_written = 0;
  uint64_t files_written = 0;
  uint64_t build_micros = 0;     // inside TableBuilder, training included
  uint64_t training_micros = 0;  // fitting the learned models
  uint64_t learned_tables = 0;   // tables written with each index kind
  uint64_t block_tables = 0;

  // Counts one table written by the job.
  void AddTable(const FileMetaData& f);
};

struct DBStats {
  LevelStats flush;                   // memtables to level 0
  LevelStats compaction[kNumLevels];  // by output level
  uint64_t trivial_moves = 0;
  uint64_t slowdown_writes = 0;  // writes delayed 1 ms
  uint64_t stops = 0;            // times a writer waited for background work
  uint64_t stop_micros = 0;
  uint64_t background_errors = 0;
  uint64_t compaction_filter_removed = 0;  // values the compaction filter removed

  // The learnkv.stats text: a per-level table (files, size, score, compaction work) and the
  // totals.
  std::string ToString(const Version& v, const VersionSet& versions) const;
};

// "none", "bloom", "fuse" or "learned" for FileMetaData::filter_kind.
const char* FileFilterKindName(uint8_t kind);

// The learnkv.filters text: per level, the tables with each filter kind, filter bytes, bits
// per key and the key-weighted mean target rate; then the missed-lookup samples (misses may
// be null: none are kept).
std::string FiltersToString(const Version& v, const Options& options,
                            const LookupMissSampler* misses);

}  // namespace learnkv

#endif  // LEARNKV_ENGINE_DB_STATS_H_
