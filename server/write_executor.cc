#include "server/write_executor.h"

#include <ctime>
#include <vector>

namespace learnkv {
namespace server {

namespace {
// A batch is committed once it holds this many bytes, even if more groups are queued.
constexpr size_t kMaxBatchBytes = 8 << 20;
}  // namespace

bool ParseSyncMode(std::string_view s, SyncMode* mode) {
  if (s == "always") {
    *mode = SyncMode::kAlways;
  } else if (s == "everysec") {
    *mode = SyncMode::kEverySec;
  } else if (s == "no") {
    *mode = SyncMode::kNo;
  } else {
    return false;
  }
  return true;
}

const char* SyncModeName(SyncMode mode) {
  switch (mode) {
    case SyncMode::kAlways: return "always";
    case SyncMode::kEverySec: return "everysec";
    case SyncMode::kNo: return "no";
  }
  return "?";
}

WriteExecutor::WriteExecutor(DB* db, SyncMode mode) : db_(db), mode_(mode), cv_(&mu_), stop_cv_(&mu_) {}

WriteExecutor::~WriteExecutor() { Stop(); }

void WriteExecutor::Start() {
  started_ = true;
  writer_ = std::thread([this] { WriterLoop(); });
  if (mode_ == SyncMode::kEverySec) syncer_ = std::thread([this] { SyncerLoop(); });
}

void WriteExecutor::Stop() {
  {
    MutexLock l(&mu_);
    if (stop_) return;
    stop_ = true;
    cv_.SignalAll();
    stop_cv_.SignalAll();
  }
  if (!started_) return;
  writer_.join();
  if (syncer_.joinable()) syncer_.join();
  if (mode_ != SyncMode::kAlways) SyncWal();
}

void WriteExecutor::Submit(std::unique_ptr<WriteGroup> group) {
  {
    MutexLock l(&mu_);
    if (!stop_) {
      queue_.push_back(std::move(group));
      if (queue_.size() == 1) cv_.Signal();
      return;
    }
  }
  WriteGroup* g = group.get();
  g->Finish(std::move(group), Status::Aborted("server is shutting down"));
}

Status WriteExecutor::SyncWal() {
  Status s = db_->SyncWAL();
  last_sync_ok_.store(s.ok(), std::memory_order_relaxed);
  if (s.ok()) {
    syncs_.fetch_add(1, std::memory_order_relaxed);
    last_sync_unix_.store(static_cast<uint64_t>(std::time(nullptr)), std::memory_order_relaxed);
  }
  return s;
}

bool WriteExecutor::TryRunInline(WriteGroup* group, Status* commit) {
  if (mode_ == SyncMode::kAlways) return false;  // the commit would fsync on the caller's loop
  {
    MutexLock l(&mu_);
    // With the queue empty no group taken by the writer can be waiting for exec_mu_ (the
    // writer takes exec_mu_ before it takes the queue), so running now overtakes nothing.
    if (stop_ || !queue_.empty() || !exec_mu_.try_lock()) return false;
  }
  WriteOptions options;
  WriteView view(db_, NowMs(), options);
  group->Execute(&view);
  *commit = view.Commit();
  exec_mu_.unlock();
  batches_.fetch_add(1, std::memory_order_relaxed);
  last_write_ok_.store(commit->ok(), std::memory_order_relaxed);
  dirty_.store(true, std::memory_order_relaxed);
  return true;
}

void WriteExecutor::WriterLoop() {
  WriteOptions options;
  options.sync = mode_ == SyncMode::kAlways;
  std::deque<std::unique_ptr<WriteGroup>> work;
  std::vector<std::unique_ptr<WriteGroup>> executed;
  while (true) {
    {
      MutexLock l(&mu_);
      while (queue_.empty() && !stop_) cv_.Wait();
      if (queue_.empty()) return;  // stopping, and everything ran
    }
    std::lock_guard<std::mutex> exec(exec_mu_);
    {
      MutexLock l(&mu_);
      work.swap(queue_);
    }
    WriteView view(db_, NowMs(), options);
    auto commit = [&] {
      Status s = view.Commit();
      batches_.fetch_add(1, std::memory_order_relaxed);
      last_write_ok_.store(s.ok(), std::memory_order_relaxed);
      if (mode_ == SyncMode::kAlways && s.ok()) {
        syncs_.fetch_add(1, std::memory_order_relaxed);
      } else {
        dirty_.store(true, std::memory_order_relaxed);
      }
      for (auto& g : executed) {
        WriteGroup* raw = g.get();
        raw->Finish(std::move(g), s);
      }
      executed.clear();
    };
    while (!work.empty()) {
      std::unique_ptr<WriteGroup> g = std::move(work.front());
      work.pop_front();
      view.set_now_ms(NowMs());
      g->Execute(&view);
      executed.push_back(std::move(g));
      if (view.PendingBytes() >= kMaxBatchBytes) commit();
    }
    commit();
  }
}

void WriteExecutor::SyncerLoop() {
  MutexLock l(&mu_);
  while (!stop_) {
    stop_cv_.WaitFor(1000000);
    if (stop_) break;
    if (!dirty_.exchange(false, std::memory_order_relaxed)) continue;
    // Without mu_: Stop() must be able to set stop_ meanwhile. Writes go on during the fsync
    // (into the next WAL file) and set dirty_ again for the next round.
    mu_.Unlock();
    if (!SyncWal().ok()) dirty_.store(true, std::memory_order_relaxed);  // retry next second
    mu_.Lock();
  }
}

}  // namespace server
}  // namespace learnkv
