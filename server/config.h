// The server's settings: ServerOptions (fixed when the server starts, with Redis's names in
// CONFIG GET) and RuntimeConfig (what CONFIG SET may change while it runs). Also the reader of
// redis.conf-style files: one `name value...` directive per line, '#' comments, quoting as in
// an inline request.
//
// Thread safety: ServerOptions is a value, read-only once the server runs. RuntimeConfig is
// internally synchronized: any thread may read or change it.
#ifndef LEARNKV_SERVER_CONFIG_H_
#define LEARNKV_SERVER_CONFIG_H_

#include <atomic>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "learnkv/options.h"
#include "learnkv/status.h"
#include "server/resp_parser.h"
#include "server/write_executor.h"
#include "util/mutexlock.h"

namespace learnkv {
namespace server {

struct ServerOptions {
  // --- Network ---
  // Addresses to listen on, separated by spaces or commas. Default: 127.0.0.1.
  std::string bind = "127.0.0.1";
  // TCP port. Default: 6380 (Redis's 6379 plus one, so both can run side by side).
  int port = 6380;
  // Refuse to start on a non-loopback address without a password. Default: true.
  bool protected_mode = true;
  // Event-loop threads, each with its own SO_REUSEPORT listening socket. Default: 1.
  int io_threads = 1;
  // Threads for blocking work (DB iterations: SCAN, KEYS, DBSIZE). Default: 2.
  int worker_threads = 2;

  // --- Clients ---
  // Password of the default user; empty: no authentication. Default: empty.
  std::string requirepass;
  // Most simultaneous clients. Default: 10000.
  int maxclients = 10000;
  // Close a client idle for this many seconds; 0: never. Default: 0.
  int timeout_s = 0;
  // Close a client whose pending replies exceed this many bytes; 0: no limit. Default: 512 MiB.
  uint64_t output_buffer_limit = 512ull << 20;
  // Stop reading a client's requests while its pending replies exceed this. Default: 1 MiB.
  uint64_t output_buffer_soft_limit = 1 << 20;
  // Request limits (bulk length, inline length, before-AUTH limits).
  RespLimits limits;

  // --- Storage ---
  // Data directory (the DB). Default: ./data.
  std::string dir = "./data";
  // When the WAL is fsynced: always, everysec, no. Default: everysec.
  SyncMode sync = SyncMode::kEverySec;
  // The engine's options (create_if_missing is forced on; compaction_filter is replaced by
  // the server's ExpiryFilter).
  Options db_options;

  // --- Reported by INFO ---
  std::string config_file;
  std::string executable;
};

// The settings CONFIG SET may change.
class RuntimeConfig {
 public:
  explicit RuntimeConfig(const ServerOptions& options)
      : requirepass_(options.requirepass),
        maxclients_(options.maxclients),
        timeout_s_(options.timeout_s),
        output_buffer_limit_(options.output_buffer_limit) {}

  std::string requirepass() const {
    MutexLock l(&mu_);
    return requirepass_;
  }
  bool auth_required() const { return auth_required_.load(std::memory_order_relaxed); }
  void set_requirepass(std::string pass) {
    MutexLock l(&mu_);
    auth_required_.store(!pass.empty(), std::memory_order_relaxed);
    requirepass_ = std::move(pass);
  }
  int maxclients() const { return maxclients_.load(std::memory_order_relaxed); }
  void set_maxclients(int n) { maxclients_.store(n, std::memory_order_relaxed); }
  int timeout_s() const { return timeout_s_.load(std::memory_order_relaxed); }
  void set_timeout_s(int s) { timeout_s_.store(s, std::memory_order_relaxed); }
  uint64_t output_buffer_limit() const {
    return output_buffer_limit_.load(std::memory_order_relaxed);
  }
  void set_output_buffer_limit(uint64_t n) {
    output_buffer_limit_.store(n, std::memory_order_relaxed);
  }

 private:
  mutable Mutex mu_;
  std::string requirepass_ GUARDED_BY(mu_);
  std::atomic<bool> auth_required_{!requirepass_.empty()};
  std::atomic<int> maxclients_;
  std::atomic<int> timeout_s_;
  std::atomic<uint64_t> output_buffer_limit_;
};

// One CONFIG parameter: its Redis name and current value.
using ConfigPair = std::pair<std::string, std::string>;

// Every parameter CONFIG GET knows, with its value.
std::vector<ConfigPair> ConfigValues(const ServerOptions& options, const RuntimeConfig& runtime);

// CONFIG SET name value. InvalidArgument with Redis's message for an unknown or immutable
// parameter or a bad value.
Status ConfigSet(const std::string& name, const std::string& value, RuntimeConfig* runtime);

// A directive of a config file: the name (lower-cased) and its arguments.
struct ConfigDirective {
  std::string name;
  std::vector<std::string> args;
  int line = 0;
};

// Reads a redis.conf-style file.
Status ReadConfigFile(const std::string& path, std::vector<ConfigDirective>* directives);

// Redis-style size: "512mb", "1gb", "64k", or plain bytes. False if malformed.
bool ParseMemory(std::string_view s, uint64_t* bytes);

}  // namespace server
}  // namespace learnkv

#endif  // LEARNKV_SERVER_CONFIG_H_
