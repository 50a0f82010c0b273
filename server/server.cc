#include "server/server.h"

#include <chrono>
#include <memory>
#include <thread>

#include "server/expiry_filter.h"

namespace learnkv {
namespace server {

namespace {
// SCAN cursors older than this are swept at startup.
constexpr int64_t kCursorMaxAgeMs = 7ll * 24 * 3600 * 1000;
}  // namespace

std::vector<std::string> SplitBindList(const std::string& bind) {
  std::vector<std::string> out;
  std::string cur;
  for (char c : bind) {
    if (c == ' ' || c == ',' || c == '\t') {
      if (!cur.empty()) out.push_back(cur);
      cur.clear();
    } else {
      cur.push_back(c);
    }
  }
  if (!cur.empty()) out.push_back(cur);
  return out;
}

bool AllLoopback(const std::string& bind) {
  for (std::string a : SplitBindList(bind)) {
    if (!a.empty() && a[0] == '-') a.erase(0, 1);  // redis.conf's "-addr": optional address
    const bool loopback = a.rfind("127.", 0) == 0 || a == "::1" || a == "localhost";
    if (!loopback) return false;
  }
  return true;
}

Server::Server(const ServerOptions& options) : ctx_(options) {}

Server::~Server() { Stop(); }

Status Server::Start() {
  const ServerOptions& o = ctx_.options;
  std::vector<std::string> addresses = SplitBindList(o.bind);
  if (addresses.empty()) return Status::InvalidArgument("no bind address");
  if (o.protected_mode && o.requirepass.empty() && !AllLoopback(o.bind)) {
    return Status::InvalidArgument(
        "protected mode",
        "refusing to listen on a non-loopback address (" + o.bind +
            ") without a password: set --requirepass, or --protected-mode=no to accept the risk");
  }
  if (o.io_threads < 1 || o.io_threads > 64) {
    return Status::InvalidArgument("io_threads must be between 1 and 64");
  }
  for (const std::string& raw : addresses) {
    if (!raw.empty() && raw[0] == '-') continue;  // optional: Listen() skips it if unusable
    Status ps = CheckPortFree(raw, o.port);
    if (!ps.ok()) return ps;
  }
  Options db_options = o.db_options;
  db_options.create_if_missing = true;
  // Compactions drop expired keys (the server owns the value layout, so it owns the filter).
  db_options.compaction_filter = std::make_shared<ExpiryFilter>(&ctx_.stats.expired_keys_compacted);
  Status s = DB::Open(db_options, o.dir, &db_);
  if (!s.ok()) return s;
  ctx_.db = db_.get();
  ctx_.start_time_ms = NowMs();
  cursors_ = std::make_unique<ScanCursors>(db_.get(), o.sync == SyncMode::kAlways);
  cursors_->Sweep(kCursorMaxAgeMs);
  ctx_.cursors = cursors_.get();
  writer_ = std::make_unique<WriteExecutor>(db_.get(), o.sync);
  ctx_.writer = writer_.get();
  workers_ = std::make_unique<WorkerPool>(std::max(1, o.worker_threads));
  ctx_.workers = workers_.get();
  ctx_.request_shutdown = [this] { RequestShutdown(); };

  for (int i = 0; i < o.io_threads; ++i) {
    std::unique_ptr<EventLoop> loop;
    s = EventLoop::Create(&loop);
    if (!s.ok()) break;
    auto io = std::make_unique<IoThread>(&ctx_, std::move(loop));
    for (const std::string& raw : addresses) {
      std::string a = raw;
      const bool optional = !a.empty() && a[0] == '-';
      if (optional) a.erase(0, 1);
      Status ls = io->Listen(a, o.port);
      if (!ls.ok() && !optional) {
        s = ls;
        break;
      }
    }
    if (!s.ok()) break;
    io_threads_.push_back(std::move(io));
  }
  if (!s.ok()) {
    io_threads_.clear();
    workers_.reset();
    writer_.reset();
    db_->Close();
    db_.reset();
    return s;
  }
  writer_->Start();
  for (auto& io : io_threads_) io->Start();
  started_ = true;
  return Status::OK();
}

void Server::RequestShutdown() { shutdown_.store(true); }

void Server::WaitForShutdown() {
  while (!shutdown_.load()) std::this_thread::sleep_for(std::chrono::milliseconds(50));
}

Status Server::Stop() {
  if (!started_ || stopped_) return Status::OK();
  stopped_ = true;
  for (auto& io : io_threads_) io->Stop();
  for (auto& io : io_threads_) io->Join();
  writer_->Stop();   // runs what is queued, then syncs the WAL
  workers_.reset();  // finishes queued jobs (their replies go nowhere)
  io_threads_.clear();
  Status s = db_->Close();
  db_.reset();
  return s;
}

}  // namespace server
}  // namespace learnkv
