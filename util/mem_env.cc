#include "util/mem_env.h"

#include <algorithm>
#include <cstring>
#include <map>
#include <memory>
#include <set>
#include <string>

#include "util/mutexlock.h"

namespace learnkv {

namespace {

// One file's bytes. Shared by the Env's name table and every open handle, so that removing a
// name leaves open handles working, as unlinking does on POSIX.
class FileState {
 public:
  uint64_t Size() const {
    MutexLock l(&mu_);
    return data_.size();
  }

  // Copies up to n bytes at offset into scratch; returns how many.
  size_t Read(uint64_t offset, size_t n, char* scratch) const {
    MutexLock l(&mu_);
    if (offset >= data_.size()) return 0;
    const size_t len = std::min<uint64_t>(n, data_.size() - offset);
    memcpy(scratch, data_.data() + offset, len);
    return len;
  }

  void Append(const Slice& s) {
    MutexLock l(&mu_);
    data_.append(s.data(), s.size());
  }

  void Truncate() {
    MutexLock l(&mu_);
    data_.clear();
  }

 private:
  mutable Mutex mu_;  // readers of one file may run while its writer appends
  std::string data_ GUARDED_BY(mu_);
};

class MemSequentialFile final : public SequentialFile {
 public:
  explicit MemSequentialFile(std::shared_ptr<FileState> file) : file_(std::move(file)) {}

  Status Read(size_t n, Slice* result, char* scratch) override {
    const size_t got = file_->Read(pos_, n, scratch);
    pos_ += got;
    *result = Slice(scratch, got);
    return Status::OK();
  }

  Status Skip(uint64_t n) override {
    pos_ = std::min(pos_ + n, file_->Size());
    return Status::OK();
  }

 private:
  std::shared_ptr<FileState> file_;
  uint64_t pos_ = 0;
};

class MemRandomAccessFile final : public RandomAccessFile {
 public:
  explicit MemRandomAccessFile(std::shared_ptr<FileState> file)
      : file_(std::move(file)), size_(file_->Size()) {}

  Status Read(uint64_t offset, size_t n, Slice* result, char* scratch) const override {
    *result = Slice(scratch, file_->Read(offset, n, scratch));
    return Status::OK();
  }

  uint64_t Size() const override { return size_; }

 private:
  std::shared_ptr<FileState> file_;
  const uint64_t size_;
};

class MemWritableFile final : public WritableFile {
 public:
  MemWritableFile(std::string fname, std::shared_ptr<FileState> file)
      : fname_(std::move(fname)), file_(std::move(file)), size_(file_->Size()) {}

  Status Append(const Slice& data) override {
    if (closed_) return Status::IOError(fname_, "append after close");
    file_->Append(data);
    size_ += data.size();
    return Status::OK();
  }
  Status Flush() override {
    return closed_ ? Status::IOError(fname_, "flush after close") : Status::OK();
  }
  Status Sync() override {
    return closed_ ? Status::IOError(fname_, "sync after close") : Status::OK();
  }
  Status Close() override {
    closed_ = true;
    return Status::OK();
  }
  uint64_t Size() const override { return size_; }

 private:
  const std::string fname_;
  std::shared_ptr<FileState> file_;
  uint64_t size_;
  bool closed_ = false;
};

// Paths are compared as strings; "a/b/" and "a/b" name the same directory.
std::string StripSlash(std::string path) {
  while (path.size() > 1 && path.back() == '/') path.pop_back();
  return path;
}

class MemEnv;

class MemFileLock final : public FileLock {
 public:
  MemFileLock(MemEnv* env, std::string fname) : env_(env), fname_(std::move(fname)) {}
  ~MemFileLock() override;

 private:
  MemEnv* const env_;
  const std::string fname_;
};

class MemEnv final : public Env {
 public:
  explicit MemEnv(Env* base) : base_(base) {}

  Status NewSequentialFile(const std::string& fname,
                           std::unique_ptr<SequentialFile>* result) override {
    std::shared_ptr<FileState> f = Find(fname);
    if (!f) return Status::NotFound(fname, "No such file or directory");
    *result = std::make_unique<MemSequentialFile>(std::move(f));
    return Status::OK();
  }

  Status NewRandomAccessFile(const std::string& fname,
                             std::unique_ptr<RandomAccessFile>* result) override {
    std::shared_ptr<FileState> f = Find(fname);
    if (!f) return Status::NotFound(fname, "No such file or directory");
    *result = std::make_unique<MemRandomAccessFile>(std::move(f));
    return Status::OK();
  }

  Status NewWritableFile(const std::string& fname, std::unique_ptr<WritableFile>* result) override {
    std::shared_ptr<FileState> f = FindOrCreate(fname);
    if (!f) return Status::IOError(fname, "Is a directory");
    f->Truncate();  // same inode, as O_TRUNC: open readers see the file emptied
    *result = std::make_unique<MemWritableFile>(fname, std::move(f));
    return Status::OK();
  }

  Status NewAppendableFile(const std::string& fname,
                           std::unique_ptr<WritableFile>* result) override {
    std::shared_ptr<FileState> f = FindOrCreate(fname);
    if (!f) return Status::IOError(fname, "Is a directory");
    *result = std::make_unique<MemWritableFile>(fname, std::move(f));
    return Status::OK();
  }

  bool FileExists(const std::string& fname) override {
    MutexLock l(&mu_);
    return files_.count(fname) > 0 || IsDirLocked(StripSlash(fname));
  }

  Status GetChildren(const std::string& dir, std::vector<std::string>* result) override {
    result->clear();
    const std::string d = StripSlash(dir);
    const std::string prefix = d == "/" ? d : d + "/";
    std::set<std::string> children;
    MutexLock l(&mu_);
    if (!IsDirLocked(d)) return Status::NotFound(dir, "No such file or directory");
    auto collect = [&](const std::string& path) {
      if (path.size() <= prefix.size() || path.compare(0, prefix.size(), prefix) != 0) return;
      const std::string rest = path.substr(prefix.size());
      children.insert(rest.substr(0, rest.find('/')));  // a nested path shows as its top dir
    };
    for (const auto& [name, file] : files_) collect(name);
    for (const std::string& name : dirs_) collect(name);
    result->assign(children.begin(), children.end());
    return Status::OK();
  }

  Status RemoveFile(const std::string& fname) override {
    MutexLock l(&mu_);
    if (files_.erase(fname) == 0) return Status::NotFound(fname, "No such file or directory");
    return Status::OK();
  }

  Status CreateDir(const std::string& dirname) override {
    MutexLock l(&mu_);
    const std::string d = StripSlash(dirname);
    if (files_.count(d) > 0) return Status::IOError(dirname, "File exists");
    dirs_.insert(d);
    return Status::OK();
  }

  Status RemoveDir(const std::string& dirname) override {
    MutexLock l(&mu_);
    const std::string d = StripSlash(dirname);
    if (!IsDirLocked(d)) return Status::NotFound(dirname, "No such file or directory");
    if (HasChildrenLocked(d)) return Status::IOError(dirname, "Directory not empty");
    dirs_.erase(d);
    return Status::OK();
  }

  Status GetFileSize(const std::string& fname, uint64_t* size) override {
    std::shared_ptr<FileState> f = Find(fname);
    *size = f ? f->Size() : 0;
    return f ? Status::OK() : Status::NotFound(fname, "No such file or directory");
  }

  Status IsDirectory(const std::string& path, bool* is_dir) override {
    MutexLock l(&mu_);
    *is_dir = IsDirLocked(StripSlash(path));
    if (*is_dir || files_.count(path) > 0) return Status::OK();
    return Status::NotFound(path, "No such file or directory");
  }

  Status RenameFile(const std::string& src, const std::string& target) override {
    MutexLock l(&mu_);
    auto it = files_.find(src);
    if (it == files_.end()) return Status::NotFound(src + " -> " + target, "No such file");
    if (IsDirLocked(StripSlash(target))) return Status::IOError(target, "Is a directory");
    std::shared_ptr<FileState> f = std::move(it->second);
    files_.erase(it);
    files_[target] = std::move(f);
    return Status::OK();
  }

  Status SyncDir(const std::string& dirname) override {
    MutexLock l(&mu_);
    if (!IsDirLocked(StripSlash(dirname))) return Status::NotFound(dirname, "No such directory");
    return Status::OK();
  }

  Status LockFile(const std::string& fname, std::unique_ptr<FileLock>* lock) override {
    MutexLock l(&mu_);
    if (!locked_.insert(fname).second) return Status::IOError("lock " + fname, "already held");
    if (files_.count(fname) == 0) files_[fname] = std::make_shared<FileState>();
    *lock = std::make_unique<MemFileLock>(this, fname);
    return Status::OK();
  }

  void Unlock(const std::string& fname) {
    MutexLock l(&mu_);
    locked_.erase(fname);
  }

  void StartThread(std::function<void()> fn) override { base_->StartThread(std::move(fn)); }
  uint64_t NowMicros() override { return base_->NowMicros(); }
  void SleepForMicroseconds(int micros) override { base_->SleepForMicroseconds(micros); }

 private:
  std::shared_ptr<FileState> Find(const std::string& fname) {
    MutexLock l(&mu_);
    auto it = files_.find(fname);
    return it == files_.end() ? nullptr : it->second;
  }

  // Null if fname names a directory.
  std::shared_ptr<FileState> FindOrCreate(const std::string& fname) {
    MutexLock l(&mu_);
    if (dirs_.count(StripSlash(fname)) > 0) return nullptr;
    std::shared_ptr<FileState>& f = files_[fname];
    if (!f) f = std::make_shared<FileState>();
    return f;
  }

  // A directory exists if created, or implicitly if something lies below it.
  bool IsDirLocked(const std::string& d) const EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return d == "/" || dirs_.count(d) > 0 || HasChildrenLocked(d);
  }

  bool HasChildrenLocked(const std::string& d) const EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    const std::string prefix = d == "/" ? d : d + "/";
    auto below = [&](const std::string& path) {
      return path.size() > prefix.size() && path.compare(0, prefix.size(), prefix) == 0;
    };
    auto f = files_.lower_bound(prefix);
    if (f != files_.end() && below(f->first)) return true;
    auto sub = dirs_.lower_bound(prefix);
    return sub != dirs_.end() && below(*sub);
  }

  Env* const base_;
  Mutex mu_;
  std::map<std::string, std::shared_ptr<FileState>> files_ GUARDED_BY(mu_);
  std::set<std::string> dirs_ GUARDED_BY(mu_);
  std::set<std::string> locked_ GUARDED_BY(mu_);
};

MemFileLock::~MemFileLock() { env_->Unlock(fname_); }

}  // namespace

Env* NewMemEnv(Env* base_env) { return new MemEnv(base_env); }

}  // namespace learnkv
