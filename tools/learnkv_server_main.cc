// learnkv-server: learnkv behind Redis's protocol (server/server.h).
//
//   learnkv-server                                  127.0.0.1:6380, data in ./data
//   learnkv-server --port=7000 --dir=/var/lib/lkv --sync=always
//   learnkv-server --config=learnkv.conf            redis.conf-style file (flags win over it)
//   learnkv-server learnkv.conf --port 7000         as redis-server takes it
//
// Flags may be written with dashes as in Redis (--protected-mode no). SIGTERM and SIGINT (and
// the SHUTDOWN command) stop it cleanly: queued writes are applied and the WAL is synced.
#include <gflags/gflags.h>
#include <signal.h>

#include <cstdio>
#include <cstring>
#include <ctime>
#include <string>
#include <vector>

#include "server/server.h"
#include "sstable/block_cache.h"

DEFINE_string(bind, "127.0.0.1", "Addresses to listen on (space or comma separated)");
DEFINE_int32(port, 6380, "TCP port");
DEFINE_string(dir, "./data", "Data directory (the DB)");
DEFINE_string(sync, "everysec", "WAL fsync policy: always, everysec or no");
DEFINE_string(requirepass, "", "Password clients must AUTH with (empty: none)");
DEFINE_bool(protected_mode, true,
            "Refuse to listen on a non-loopback address without --requirepass");
DEFINE_int32(io_threads, 1, "Event-loop threads (SO_REUSEPORT listeners)");
DEFINE_int32(worker_threads, 2, "Threads for blocking commands (SCAN, KEYS, DBSIZE)");
DEFINE_int32(maxclients, 10000, "Maximum simultaneous clients");
DEFINE_int32(timeout, 0, "Close clients idle for this many seconds (0: never)");
DEFINE_string(client_output_buffer_limit, "512mb",
              "Close a client whose unsent replies exceed this (0: no limit)");
DEFINE_string(proto_max_bulk_len, "512mb", "Longest bulk argument accepted");
DEFINE_string(config, "", "redis.conf-style configuration file");
// The engine's main options (include/learnkv/options.h).
DEFINE_string(write_buffer_size, "64mb", "Memtable size before a flush");
DEFINE_int32(max_write_buffer_number, 2, "Memtables before writes stall");
DEFINE_int32(max_background_jobs, 2, "Flush and compaction threads");
DEFINE_int32(max_open_files, 1000, "Table files kept open");
DEFINE_int32(level0_file_num_compaction_trigger, 4, "L0 files that trigger a compaction");
DEFINE_string(target_file_size_base, "64mb", "Table file size written by compaction");
DEFINE_string(max_bytes_for_level_base, "256mb", "Target size of L1");
DEFINE_string(block_size, "4kb", "Data block size");
DEFINE_string(block_cache, "64mb", "Block cache size");
DEFINE_string(compression, "lz4", "Block compression: none, lz4 or zstd");
DEFINE_string(index_type, "auto", "Table index: auto, learned or block");
DEFINE_string(accelerator, "",
              "Simulated accelerator for the read path's model inferences: a preset (tpu-v1, "
              "tpu-v2, h200) or a device description file; empty: off (docs/accelerator.md)");

namespace learnkv {
namespace server {
namespace {

// "--protected-mode no" -> "--protected_mode=no"; a first argument without dashes is a config
// file, as redis-server takes it.
std::vector<std::string> NormalizeArgs(int argc, char** argv) {
  std::vector<std::string> out{argv[0]};
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (i == 1 && a.rfind("-", 0) != 0) {
      out.push_back("--config=" + a);
      continue;
    }
    if (a.rfind("--", 0) == 0) {
      const size_t eq = a.find('=');
      for (size_t j = 2; j < std::min(eq, a.size()); ++j) {
        if (a[j] == '-') a[j] = '_';
      }
      if (eq == std::string::npos && i + 1 < argc && argv[i + 1][0] != '-') {
        const std::string v = argv[i + 1];
        if (a == "--protected_mode" && (v == "yes" || v == "no" || v == "true" || v == "false")) {
          a += "=" + v;
          ++i;
        }
      }
    }
    out.push_back(a);
  }
  return out;
}

bool ExplicitlySet(const std::string& flag) {
  gflags::CommandLineFlagInfo info;
  return gflags::GetCommandLineFlagInfo(flag.c_str(), &info) && !info.is_default;
}

// Applies a config file's directives to the flags not given on the command line.
bool ApplyConfigFile(const std::string& path) {
  std::vector<ConfigDirective> directives;
  Status s = ReadConfigFile(path, &directives);
  if (!s.ok()) {
    std::fprintf(stderr, "learnkv-server: %s\n", s.ToString().c_str());
    return false;
  }
  static const char* const kIgnored[] = {"appendonly", "save", "daemonize", "loglevel",
                                         "logfile", "databases", "appendfilename", "dbfilename",
                                         "supervised", "pidfile", "tcp-backlog", "tcp-keepalive"};
  for (const ConfigDirective& d : directives) {
    std::string flag = d.name;
    for (char& c : flag) c = c == '-' ? '_' : c;
    std::string value;
    for (const std::string& a : d.args) value += (value.empty() ? "" : " ") + a;
    if (flag == "appendfsync") flag = "sync";
    if (flag == "client_output_buffer_limit") {
      if (d.args.size() != 4 || d.args[0] != "normal") continue;  // only the normal class
      value = d.args[1];
    }
    if (std::find(std::begin(kIgnored), std::end(kIgnored), d.name) != std::end(kIgnored)) continue;
    gflags::CommandLineFlagInfo info;
    if (flag == "config" || !gflags::GetCommandLineFlagInfo(flag.c_str(), &info)) {
      std::fprintf(stderr, "learnkv-server: %s:%d: unknown directive '%s' ignored\n",
                   path.c_str(), d.line, d.name.c_str());
      continue;
    }
    if (ExplicitlySet(flag)) continue;  // the command line wins
    if (gflags::SetCommandLineOption(flag.c_str(), value.c_str()).empty()) {
      std::fprintf(stderr, "learnkv-server: %s:%d: bad value for '%s'\n", path.c_str(), d.line,
                   d.name.c_str());
      return false;
    }
  }
  return true;
}

bool Memory(const char* flag, const std::string& value, uint64_t* out) {
  if (ParseMemory(value, out)) return true;
  std::fprintf(stderr, "learnkv-server: --%s: not a size: %s\n", flag, value.c_str());
  return false;
}

bool BuildOptions(ServerOptions* o) {
  o->bind = FLAGS_bind;
  o->port = FLAGS_port;
  o->dir = FLAGS_dir;
  o->requirepass = FLAGS_requirepass;
  o->protected_mode = FLAGS_protected_mode;
  o->io_threads = FLAGS_io_threads;
  o->worker_threads = FLAGS_worker_threads;
  o->maxclients = FLAGS_maxclients;
  o->timeout_s = FLAGS_timeout;
  o->config_file = FLAGS_config;
  if (!ParseSyncMode(FLAGS_sync, &o->sync)) {
    std::fprintf(stderr, "learnkv-server: --sync must be always, everysec or no\n");
    return false;
  }
  uint64_t v = 0;
  if (!Memory("client_output_buffer_limit", FLAGS_client_output_buffer_limit,
              &o->output_buffer_limit) ||
      !Memory("proto_max_bulk_len", FLAGS_proto_max_bulk_len, &v)) {
    return false;
  }
  o->limits.max_bulk_len = static_cast<int64_t>(v);
  Options& db = o->db_options;
  if (!Memory("write_buffer_size", FLAGS_write_buffer_size, &v)) return false;
  db.write_buffer_size = v;
  db.max_write_buffer_number = FLAGS_max_write_buffer_number;
  db.max_background_jobs = FLAGS_max_background_jobs;
  db.max_open_files = FLAGS_max_open_files;
  db.level0_file_num_compaction_trigger = FLAGS_level0_file_num_compaction_trigger;
  if (!Memory("target_file_size_base", FLAGS_target_file_size_base, &db.target_file_size_base) ||
      !Memory("max_bytes_for_level_base", FLAGS_max_bytes_for_level_base,
              &db.max_bytes_for_level_base) ||
      !Memory("block_size", FLAGS_block_size, &v)) {
    return false;
  }
  db.table_options.block_size = v;
  if (!Memory("block_cache", FLAGS_block_cache, &v)) return false;
  if (v > 0) db.table_options.block_cache = NewBlockCache(v);
  if (FLAGS_compression == "none") {
    db.table_options.compression = CompressionType::kNone;
  } else if (FLAGS_compression == "lz4") {
    db.table_options.compression = CompressionType::kLz4;
  } else if (FLAGS_compression == "zstd") {
    db.table_options.compression = CompressionType::kZstd;
  } else {
    std::fprintf(stderr, "learnkv-server: --compression must be none, lz4 or zstd\n");
    return false;
  }
  if (FLAGS_index_type == "auto") {
    db.table_options.index_type = IndexType::kAuto;
  } else if (FLAGS_index_type == "learned") {
    db.table_options.index_type = IndexType::kLearned;
  } else if (FLAGS_index_type == "block") {
    db.table_options.index_type = IndexType::kBlock;
  } else {
    std::fprintf(stderr, "learnkv-server: --index_type must be auto, learned or block\n");
    return false;
  }
  db.accelerator = FLAGS_accelerator;  // checked by DB::Open
  return true;
}

int Main(int argc, char** argv) {
  std::vector<std::string> args = NormalizeArgs(argc, argv);
  std::vector<char*> cargs;
  for (std::string& a : args) cargs.push_back(a.data());
  int cargc = static_cast<int>(cargs.size());
  char** cargv = cargs.data();
  gflags::SetUsageMessage("learnkv-server [config-file] [--flags]: a Redis-protocol server");
  gflags::ParseCommandLineFlags(&cargc, &cargv, true);
  if (!FLAGS_config.empty() && !ApplyConfigFile(FLAGS_config)) return 1;

  ServerOptions options;
  if (!BuildOptions(&options)) return 1;
  options.executable = argv[0];

  // Signals are taken synchronously by this thread; the server's threads inherit the mask.
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  signal(SIGPIPE, SIG_IGN);

  Server server(options);
  Status s = server.Start();
  if (!s.ok()) {
    std::fprintf(stderr, "learnkv-server: cannot start: %s\n", s.ToString().c_str());
    return 1;
  }
  std::printf("learnkv-server ready on %s port %d (data in %s, sync %s)\n", options.bind.c_str(),
              options.port, options.dir.c_str(), SyncModeName(options.sync));
  std::fflush(stdout);

  while (!server.shutdown_requested()) {
    timespec wait{0, 100 * 1000 * 1000};
    const int sig = sigtimedwait(&set, nullptr, &wait);
    if (sig == SIGTERM || sig == SIGINT) {
      std::printf("learnkv-server: %s received, shutting down\n", strsignal(sig));
      server.RequestShutdown();
    }
  }
  s = server.Stop();
  if (!s.ok()) {
    std::fprintf(stderr, "learnkv-server: shutdown: %s\n", s.ToString().c_str());
    return 1;
  }
  std::printf("learnkv-server: stopped cleanly\n");
  return 0;
}

}  // namespace
}  // namespace server
}  // namespace learnkv

int main(int argc, char** argv) { return learnkv::server::Main(argc, argv); }
