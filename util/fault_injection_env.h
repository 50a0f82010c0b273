// FaultInjectionEnv: wraps any Env to test how the engine survives I/O errors and crashes.
// It can fail appends or syncs (once or until told otherwise, optionally only for files whose
// name contains a substring such as ".log", ".sst" or "MANIFEST"), and it simulates power
// loss: DropUnsyncedData() cuts every file written through it back to the bytes that were
// synced, and RemoveUnsyncedCreations() deletes files created since their directory was last
// synced. It also counts appends and syncs.
//
// Thread safety: safe for concurrent use, including changing the fault settings while other
// threads do I/O. Files follow the rules of include/learnkv/env.h.
#ifndef LEARNKV_UTIL_FAULT_INJECTION_ENV_H_
#define LEARNKV_UTIL_FAULT_INJECTION_ENV_H_

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "learnkv/env.h"
#include "util/mutexlock.h"

namespace learnkv {

class FaultInjectionEnv final : public Env {
 public:
  // base (not owned) must outlive this Env.
  explicit FaultInjectionEnv(Env* base);
  ~FaultInjectionEnv() override;

  // ---- Injected errors (IOError naming the file). A failed call writes or syncs nothing.
  // name_filter: only files whose name contains it fail; "" matches every file.

  // The next Append to a matching file fails, later ones succeed.
  void FailNextAppend(const std::string& name_filter = "");
  // While fail is true, every Append to a matching file fails.
  void SetAppendsFail(bool fail, const std::string& name_filter = "");
  // Sync faults also apply to SyncDir, matched against the directory's name.
  void FailNextSync(const std::string& name_filter = "");
  void SetSyncsFail(bool fail, const std::string& name_filter = "");
  void ClearFaults();

  // ---- Simulated power loss. REQUIRES: no WritableFile from this Env is open (close or
  // destroy the DB first, as a crashed process would have).

  // Truncates every file written through this Env to the size it had at its last successful
  // Sync (0 if never synced; a file opened with NewAppendableFile counts its initial bytes as
  // synced). Renames carry this state with the file; removed files are forgotten.
  Status DropUnsyncedData();
  // Removes files created with NewWritableFile whose directory was not passed to SyncDir
  // after the creation: on a real crash their directory entry could be lost. Renames are
  // treated as durable.
  Status RemoveUnsyncedCreations();

  // ---- Counters (since construction or ResetCounters).
  uint64_t append_count() const { return appends_.load(); }  // Append calls, failed included
  uint64_t appended_bytes() const { return appended_bytes_.load(); }  // successful only
  uint64_t sync_count() const { return syncs_.load(); }               // Sync calls, failed included
  uint64_t injected_failures() const { return injected_failures_.load(); }
  void ResetCounters();

  // ---- Env
  Status NewSequentialFile(const std::string& fname,
                           std::unique_ptr<SequentialFile>* result) override;
  Status NewRandomAccessFile(const std::string& fname,
                             std::unique_ptr<RandomAccessFile>* result) override;
  Status NewWritableFile(const std::string& fname, std::unique_ptr<WritableFile>* result) override;
  Status NewAppendableFile(const std::string& fname,
                           std::unique_ptr<WritableFile>* result) override;
  bool FileExists(const std::string& fname) override;
  Status GetChildren(const std::string& dir, std::vector<std::string>* result) override;
  Status RemoveFile(const std::string& fname) override;
  Status CreateDir(const std::string& dirname) override;
  Status RemoveDir(const std::string& dirname) override;
  Status GetFileSize(const std::string& fname, uint64_t* size) override;
  Status IsDirectory(const std::string& path, bool* is_dir) override;
  Status RenameFile(const std::string& src, const std::string& target) override;
  Status SyncDir(const std::string& dirname) override;
  Status LockFile(const std::string& fname, std::unique_ptr<FileLock>* lock) override;
  void StartThread(std::function<void()> fn) override;
  uint64_t NowMicros() override;
  void SleepForMicroseconds(int micros) override;

 private:
  friend class FaultInjectionWritableFile;

  // What survives a crash for one file written through this Env.
  struct FileTrack {
    std::string name;        // current name (renames update it)
    uint64_t size = 0;       // bytes successfully appended
    uint64_t synced = 0;     // bytes covered by the last successful Sync
    bool created = false;    // made by NewWritableFile...
    bool dir_synced = true;  // ...and its directory synced since
  };

  struct Fault {
    bool once = false;
    bool always = false;
    std::string once_filter;
    std::string always_filter;
  };

  enum class Op { kAppend, kSync };

  Status OpenWritable(const std::string& fname, bool truncate,
                      std::unique_ptr<WritableFile>* result);
  // Decides whether this operation on track fails, consuming a "once" fault if it does.
  bool ShouldFail(Op op, const FileTrack& track);
  void OnAppended(FileTrack* track, uint64_t n);
  void OnSynced(FileTrack* track);
  std::string TrackedName(const FileTrack& track);

  Env* const base_;
  Mutex mu_;
  Fault append_fault_ GUARDED_BY(mu_);
  Fault sync_fault_ GUARDED_BY(mu_);
  // Files written through this Env, by current name. Open files share their track.
  std::map<std::string, std::shared_ptr<FileTrack>> files_ GUARDED_BY(mu_);
  std::atomic<uint64_t> appends_{0};
  std::atomic<uint64_t> appended_bytes_{0};
  std::atomic<uint64_t> syncs_{0};
  std::atomic<uint64_t> injected_failures_{0};
};

}  // namespace learnkv

#endif  // LEARNKV_UTIL_FAULT_INJECTION_ENV_H_
