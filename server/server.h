// Server: learnkv's RESP server — Redis's protocol and string commands over a learnkv DB.
// It opens the DB, starts the writer (write_executor.h), the worker pool and the I/O threads
// (networking.h), and stops them in the order that loses nothing acknowledged: I/O threads
// first (no new work), then the writer (runs what is queued, syncs the WAL), then the DB.
//
//   ServerOptions options;           // config.h
//   Server server(options);
//   Status s = server.Start();
//   server.WaitForShutdown();        // until SHUTDOWN or RequestShutdown() (e.g. on SIGTERM)
//   s = server.Stop();
//
// Thread safety: RequestShutdown() and shutdown_requested() may be called from any thread
// (and are async-signal-unsafe); Start, WaitForShutdown and Stop from one owner thread.
#ifndef LEARNKV_SERVER_SERVER_H_
#define LEARNKV_SERVER_SERVER_H_

#include <atomic>
#include <memory>
#include <vector>

#include "learnkv/db.h"
#include "server/config.h"
#include "server/networking.h"
#include "server/scan_cursor.h"
#include "server/server_context.h"
#include "server/worker_pool.h"
#include "server/write_executor.h"

namespace learnkv {
namespace server {

class Server {
 public:
  explicit Server(const ServerOptions& options);
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;
  ~Server();  // Stop()s

  // InvalidArgument for a refused configuration (protected mode), IOError when the port
  // cannot be bound, or the DB's error.
  Status Start();
  void RequestShutdown();
  bool shutdown_requested() const { return shutdown_.load(); }
  // Blocks until RequestShutdown(); the caller may also poll shutdown_requested().
  void WaitForShutdown();
  Status Stop();

 private:
  ServerContext ctx_;
  std::unique_ptr<DB> db_;
  std::unique_ptr<WriteExecutor> writer_;
  std::unique_ptr<WorkerPool> workers_;
  std::unique_ptr<ScanCursors> cursors_;
  std::vector<std::unique_ptr<IoThread>> io_threads_;
  std::atomic<bool> shutdown_{false};
  bool started_ = false;
  bool stopped_ = false;
};

// Whether every address of a bind list is a loopback address (127.0.0.0/8, ::1, localhost).
bool AllLoopback(const std::string& bind);
// Splits a bind list at spaces and commas.
std::vector<std::string> SplitBindList(const std::string& bind);

}  // namespace server
}  // namespace learnkv

#endif  // LEARNKV_SERVER_SERVER_H_
