// ServerContext: what every part of one running server shares — its options and runtime
// settings, the DB, the writer, the worker pool, SCAN's cursors, statistics — handed by
// pointer to the I/O threads and through CommandContext to the command handlers. There is
// one per Server object, never a global, so tests may run several servers in one process.
//
// Session: the state of one client connection that commands may read or change (protocol
// version, authentication, name).
//
// Thread safety: ServerContext's members are either immutable after start, internally
// synchronized (RuntimeConfig, WriteExecutor, WorkerPool, ScanCursors, DB) or atomics. A
// Session belongs to its connection's I/O thread.
#ifndef LEARNKV_SERVER_SERVER_CONTEXT_H_
#define LEARNKV_SERVER_SERVER_CONTEXT_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>

#include "learnkv/db.h"
#include "server/config.h"
#include "server/scan_cursor.h"
#include "server/worker_pool.h"
#include "server/write_executor.h"

namespace learnkv {
namespace server {

// Counters reported by INFO.
struct ServerStats {
  std::atomic<uint64_t> connected_clients{0};
  std::atomic<uint64_t> total_connections{0};
  std::atomic<uint64_t> rejected_connections{0};
  std::atomic<uint64_t> total_commands{0};
  std::atomic<uint64_t> keyspace_hits{0};
  std::atomic<uint64_t> keyspace_misses{0};
  std::atomic<uint64_t> expired_keys{0};            // deleted when found expired by a read
  std::atomic<uint64_t> expired_keys_compacted{0};  // removed by compactions (expiry_filter.h)
  std::atomic<uint64_t> net_input_bytes{0};
  std::atomic<uint64_t> net_output_bytes{0};
  std::atomic<uint64_t> multiget_batches{0};
  std::atomic<uint64_t> multiget_keys{0};
  std::atomic<uint64_t> protocol_errors{0};
};

struct ServerContext {
  ServerContext(const ServerOptions& opts) : options(opts), runtime(opts) {}

  const ServerOptions options;
  RuntimeConfig runtime;
  ServerStats stats;
  DB* db = nullptr;
  WriteExecutor* writer = nullptr;
  WorkerPool* workers = nullptr;
  ScanCursors* cursors = nullptr;
  int64_t start_time_ms = 0;
  // Set by SHUTDOWN (or a signal); the server's main thread then stops everything.
  std::function<void()> request_shutdown;
  // The client ids handed out so far (CLIENT ID).
  std::atomic<uint64_t> next_client_id{1};
};

struct Session {
  uint64_t id = 0;
  int protocol = 2;  // RESP version: 2 or 3
  bool authenticated = false;
  bool close_after_reply = false;  // QUIT
  std::string name;                // CLIENT SETNAME
  std::string lib_name, lib_ver;   // CLIENT SETINFO
  std::string peer;                // "ip:port"
  int64_t created_ms = 0;
};

}  // namespace server
}  // namespace learnkv

#endif  // LEARNKV_SERVER_SERVER_CONTEXT_H_
