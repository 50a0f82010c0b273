#include "util/fault_injection_env.h"

#include <utility>

namespace learnkv {

namespace {

std::string StripSlash(std::string path) {
  while (path.size() > 1 && path.back() == '/') path.pop_back();
  return path;
}

std::string DirName(const std::string& fname) {
  const size_t slash = fname.rfind('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : fname.substr(0, slash);
}

}  // namespace

// Forwards to the base file and reports to the Env what became durable. Not in an anonymous
// namespace: FaultInjectionEnv befriends it by name.
class FaultInjectionWritableFile final : public WritableFile {
 public:
  FaultInjectionWritableFile(FaultInjectionEnv* env,
                             std::shared_ptr<FaultInjectionEnv::FileTrack> track,
                             std::unique_ptr<WritableFile> base)
      : env_(env), track_(std::move(track)), base_(std::move(base)) {}

  Status Append(const Slice& data) override {
    env_->appends_.fetch_add(1);
    if (env_->ShouldFail(FaultInjectionEnv::Op::kAppend, *track_)) {
      return Status::IOError(env_->TrackedName(*track_), "injected append failure");
    }
    Status s = base_->Append(data);
    if (s.ok()) env_->OnAppended(track_.get(), data.size());
    return s;
  }

  Status Sync() override {
    env_->syncs_.fetch_add(1);
    if (env_->ShouldFail(FaultInjectionEnv::Op::kSync, *track_)) {
      return Status::IOError(env_->TrackedName(*track_), "injected sync failure");
    }
    Status s = base_->Sync();
    if (s.ok()) env_->OnSynced(track_.get());
    return s;
  }

  Status Flush() override { return base_->Flush(); }
  Status Close() override { return base_->Close(); }
  uint64_t Size() const override { return base_->Size(); }

 private:
  FaultInjectionEnv* const env_;
  const std::shared_ptr<FaultInjectionEnv::FileTrack> track_;
  const std::unique_ptr<WritableFile> base_;
};

FaultInjectionEnv::FaultInjectionEnv(Env* base) : base_(base) {}

FaultInjectionEnv::~FaultInjectionEnv() = default;

void FaultInjectionEnv::FailNextAppend(const std::string& name_filter) {
  MutexLock l(&mu_);
  append_fault_.once = true;
  append_fault_.once_filter = name_filter;
}

void FaultInjectionEnv::SetAppendsFail(bool fail, const std::string& name_filter) {
  MutexLock l(&mu_);
  append_fault_.always = fail;
  append_fault_.always_filter = name_filter;
}

void FaultInjectionEnv::FailNextSync(const std::string& name_filter) {
  MutexLock l(&mu_);
  sync_fault_.once = true;
  sync_fault_.once_filter = name_filter;
}

void FaultInjectionEnv::SetSyncsFail(bool fail, const std::string& name_filter) {
  MutexLock l(&mu_);
  sync_fault_.always = fail;
  sync_fault_.always_filter = name_filter;
}

void FaultInjectionEnv::ClearFaults() {
  MutexLock l(&mu_);
  append_fault_ = Fault();
  sync_fault_ = Fault();
}

void FaultInjectionEnv::ResetCounters() {
  appends_.store(0);
  appended_bytes_.store(0);
  syncs_.store(0);
  injected_failures_.store(0);
}

bool FaultInjectionEnv::ShouldFail(Op op, const FileTrack& track) {
  MutexLock l(&mu_);
  Fault& f = op == Op::kAppend ? append_fault_ : sync_fault_;
  bool fail = false;
  if (f.always && track.name.find(f.always_filter) != std::string::npos) {
    fail = true;
  } else if (f.once && track.name.find(f.once_filter) != std::string::npos) {
    f.once = false;
    fail = true;
  }
  if (fail) injected_failures_.fetch_add(1);
  return fail;
}

void FaultInjectionEnv::OnAppended(FileTrack* track, uint64_t n) {
  appended_bytes_.fetch_add(n);
  MutexLock l(&mu_);
  track->size += n;
}

void FaultInjectionEnv::OnSynced(FileTrack* track) {
  MutexLock l(&mu_);
  track->synced = track->size;
}

std::string FaultInjectionEnv::TrackedName(const FileTrack& track) {
  MutexLock l(&mu_);
  return track.name;
}

Status FaultInjectionEnv::OpenWritable(const std::string& fname, bool truncate,
                                       std::unique_ptr<WritableFile>* result) {
  const bool existed = base_->FileExists(fname);
  std::unique_ptr<WritableFile> base_file;
  Status s = truncate ? base_->NewWritableFile(fname, &base_file)
                      : base_->NewAppendableFile(fname, &base_file);
  if (!s.ok()) return s;
  auto track = std::make_shared<FileTrack>();
  track->name = fname;
  // Bytes already in an appended-to file are taken as durable; a truncated file has none.
  track->size = track->synced = base_file->Size();
  {
    MutexLock l(&mu_);
    auto old = files_.find(fname);
    // Rewriting a file whose creation is not yet durable leaves it not durable.
    const bool entry_unsynced =
        !existed || (old != files_.end() && old->second->created && !old->second->dir_synced);
    track->created = entry_unsynced;
    track->dir_synced = !entry_unsynced;
    files_[fname] = track;
  }
  *result =
      std::make_unique<FaultInjectionWritableFile>(this, std::move(track), std::move(base_file));
  return Status::OK();
}

Status FaultInjectionEnv::NewWritableFile(const std::string& fname,
                                          std::unique_ptr<WritableFile>* result) {
  return OpenWritable(fname, true, result);
}

Status FaultInjectionEnv::NewAppendableFile(const std::string& fname,
                                            std::unique_ptr<WritableFile>* result) {
  return OpenWritable(fname, false, result);
}

Status FaultInjectionEnv::DropUnsyncedData() {
  std::vector<std::pair<std::string, uint64_t>> to_cut;
  {
    MutexLock l(&mu_);
    for (const auto& [name, track] : files_) {
      if (track->size > track->synced) to_cut.emplace_back(name, track->synced);
    }
  }
  // Env has no Truncate: keep the synced prefix by rewriting the file with it.
  for (const auto& [name, synced] : to_cut) {
    std::string data;
    Status s = ReadFileToString(base_, name, &data);
    if (s.ok() && data.size() > synced) {
      s = WriteStringToFile(base_, Slice(data.data(), synced), name, true);
    }
    if (!s.ok()) return s;
    MutexLock l(&mu_);
    auto it = files_.find(name);
    if (it != files_.end()) it->second->size = it->second->synced;
  }
  return Status::OK();
}

Status FaultInjectionEnv::RemoveUnsyncedCreations() {
  std::vector<std::string> to_remove;
  {
    MutexLock l(&mu_);
    for (auto it = files_.begin(); it != files_.end();) {
      if (it->second->created && !it->second->dir_synced) {
        to_remove.push_back(it->first);
        it = files_.erase(it);
      } else {
        ++it;
      }
    }
  }
  for (const std::string& name : to_remove) {
    Status s = base_->RemoveFile(name);
    if (!s.ok() && !s.IsNotFound()) return s;
  }
  return Status::OK();
}

Status FaultInjectionEnv::RemoveFile(const std::string& fname) {
  Status s = base_->RemoveFile(fname);
  if (s.ok()) {
    MutexLock l(&mu_);
    files_.erase(fname);
  }
  return s;
}

Status FaultInjectionEnv::RenameFile(const std::string& src, const std::string& target) {
  Status s = base_->RenameFile(src, target);
  if (!s.ok()) return s;
  MutexLock l(&mu_);
  files_.erase(target);
  auto it = files_.find(src);
  if (it != files_.end()) {
    std::shared_ptr<FileTrack> track = std::move(it->second);
    files_.erase(it);
    track->name = target;
    files_[target] = std::move(track);
  }
  return s;
}

Status FaultInjectionEnv::SyncDir(const std::string& dirname) {
  FileTrack dir_track;  // a directory is matched against the sync fault by its own name
  dir_track.name = dirname;
  if (ShouldFail(Op::kSync, dir_track)) {
    return Status::IOError(dirname, "injected sync failure");
  }
  Status s = base_->SyncDir(dirname);
  if (!s.ok()) return s;
  const std::string dir = StripSlash(dirname);
  MutexLock l(&mu_);
  for (auto& [name, track] : files_) {
    if (DirName(name) == dir) track->dir_synced = true;
  }
  return s;
}

Status FaultInjectionEnv::NewSequentialFile(const std::string& fname,
                                            std::unique_ptr<SequentialFile>* result) {
  return base_->NewSequentialFile(fname, result);
}

Status FaultInjectionEnv::NewRandomAccessFile(const std::string& fname,
                                              std::unique_ptr<RandomAccessFile>* result) {
  return base_->NewRandomAccessFile(fname, result);
}

bool FaultInjectionEnv::FileExists(const std::string& fname) { return base_->FileExists(fname); }

Status FaultInjectionEnv::GetChildren(const std::string& dir, std::vector<std::string>* result) {
  return base_->GetChildren(dir, result);
}

Status FaultInjectionEnv::CreateDir(const std::string& dirname) {
  return base_->CreateDir(dirname);
}

Status FaultInjectionEnv::RemoveDir(const std::string& dirname) {
  return base_->RemoveDir(dirname);
}

Status FaultInjectionEnv::GetFileSize(const std::string& fname, uint64_t* size) {
  return base_->GetFileSize(fname, size);
}

Status FaultInjectionEnv::IsDirectory(const std::string& path, bool* is_dir) {
  return base_->IsDirectory(path, is_dir);
}

Status FaultInjectionEnv::LockFile(const std::string& fname, std::unique_ptr<FileLock>* lock) {
  return base_->LockFile(fname, lock);
}

void FaultInjectionEnv::StartThread(std::function<void()> fn) { base_->StartThread(std::move(fn)); }

uint64_t FaultInjectionEnv::NowMicros() { return base_->NowMicros(); }

void FaultInjectionEnv::SleepForMicroseconds(int micros) { base_->SleepForMicroseconds(micros); }

}  // namespace learnkv
