// Env::Default(): the POSIX environment. Files are plain file descriptors; tables are read
// with pread so that one RandomAccessFile serves concurrent readers without a lock.

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <system_error>
#include <thread>
#include <utility>

#include "learnkv/env.h"

namespace learnkv {

namespace {

// Appends are gathered into a buffer of this size so that a WAL of small records or a table
// of small blocks costs one write(2) per 64 KiB, not one per Append.
constexpr size_t kWritableFileBufferSize = 64 * 1024;

// "IO error: <context>: <errno text>"; a missing file is NotFound, which callers test for
// (e.g. recovery tells "no CURRENT file" from an unreadable one).
Status PosixError(const std::string& context, int err) {
  const std::string text = std::generic_category().message(err);
  if (err == ENOENT) return Status::NotFound(context, text);
  return Status::IOError(context, text);
}

class PosixSequentialFile final : public SequentialFile {
 public:
  PosixSequentialFile(std::string fname, int fd) : fname_(std::move(fname)), fd_(fd) {}
  ~PosixSequentialFile() override { close(fd_); }

  Status Read(size_t n, Slice* result, char* scratch) override {
    size_t done = 0;
    while (done < n) {
      const ssize_t r = read(fd_, scratch + done, n - done);
      if (r < 0) {
        if (errno == EINTR) continue;
        *result = Slice(scratch, done);
        return PosixError(fname_, errno);
      }
      if (r == 0) break;  // end of file
      done += static_cast<size_t>(r);
    }
    *result = Slice(scratch, done);
    return Status::OK();
  }

  Status Skip(uint64_t n) override {
    if (lseek(fd_, static_cast<off_t>(n), SEEK_CUR) == static_cast<off_t>(-1)) {
      return PosixError(fname_, errno);
    }
    return Status::OK();
  }

 private:
  const std::string fname_;
  const int fd_;
};

class PosixRandomAccessFile final : public RandomAccessFile {
 public:
  PosixRandomAccessFile(std::string fname, int fd, uint64_t size)
      : fname_(std::move(fname)), fd_(fd), size_(size) {}
  ~PosixRandomAccessFile() override { close(fd_); }

  Status Read(uint64_t offset, size_t n, Slice* result, char* scratch) const override {
    // pread may return fewer bytes than asked even before end of file; loop until it says 0.
    size_t done = 0;
    while (done < n) {
      const ssize_t r = pread(fd_, scratch + done, n - done, static_cast<off_t>(offset + done));
      if (r < 0) {
        if (errno == EINTR) continue;
        *result = Slice(scratch, 0);
        return PosixError(fname_, errno);
      }
      if (r == 0) break;
      done += static_cast<size_t>(r);
    }
    *result = Slice(scratch, done);
    return Status::OK();
  }

  uint64_t Size() const override { return size_; }

 private:
  const std::string fname_;
  const int fd_;
  const uint64_t size_;
};

class PosixWritableFile final : public WritableFile {
 public:
  PosixWritableFile(std::string fname, int fd, uint64_t initial_size)
      : fname_(std::move(fname)),
        fd_(fd),
        size_(initial_size),
        buf_(new char[kWritableFileBufferSize]) {}
  ~PosixWritableFile() override {
    if (fd_ >= 0) Close();  // errors are lost here; callers who care call Close()
  }

  Status Append(const Slice& data) override {
    if (fd_ < 0) return Status::IOError(fname_, "append after close");
    size_ += data.size();
    const size_t copy = std::min(data.size(), kWritableFileBufferSize - buffered_);
    memcpy(buf_.get() + buffered_, data.data(), copy);
    buffered_ += copy;
    if (copy == data.size()) return Status::OK();
    Status s = FlushBuffer();
    if (!s.ok()) return s;
    Slice rest(data.data() + copy, data.size() - copy);
    if (rest.size() < kWritableFileBufferSize) {
      memcpy(buf_.get(), rest.data(), rest.size());
      buffered_ = rest.size();
      return Status::OK();
    }
    return WriteRaw(rest.data(), rest.size());  // large writes skip the buffer
  }

  Status Flush() override {
    if (fd_ < 0) return Status::IOError(fname_, "flush after close");
    return FlushBuffer();
  }

  Status Sync() override {
    if (fd_ < 0) return Status::IOError(fname_, "sync after close");
    Status s = FlushBuffer();
    if (s.ok() && fdatasync(fd_) != 0) s = PosixError(fname_, errno);
    return s;
  }

  Status Close() override {
    if (fd_ < 0) return Status::OK();
    Status s = FlushBuffer();
    if (close(fd_) != 0 && s.ok()) s = PosixError(fname_, errno);
    fd_ = -1;
    return s;
  }

  uint64_t Size() const override { return size_; }

 private:
  Status FlushBuffer() {
    Status s = WriteRaw(buf_.get(), buffered_);
    buffered_ = 0;
    return s;
  }

  Status WriteRaw(const char* p, size_t n) {
    while (n > 0) {
      const ssize_t r = write(fd_, p, n);
      if (r < 0) {
        if (errno == EINTR) continue;
        return PosixError(fname_, errno);
      }
      p += r;
      n -= static_cast<size_t>(r);
    }
    return Status::OK();
  }

  const std::string fname_;
  int fd_;  // -1 once closed
  uint64_t size_;
  std::unique_ptr<char[]> buf_;
  size_t buffered_ = 0;
};

// fcntl locks belong to the process, so a second LockFile on the same file from this process
// would silently succeed; this set catches that case (e.g. opening one DB twice).
class LockTable {
 public:
  bool Insert(const std::string& fname) {
    std::lock_guard<std::mutex> l(mu_);
    return locked_.insert(fname).second;
  }
  void Remove(const std::string& fname) {
    std::lock_guard<std::mutex> l(mu_);
    locked_.erase(fname);
  }

 private:
  std::mutex mu_;
  std::set<std::string> locked_;
};

int LockOrUnlock(int fd, bool lock) {
  struct flock f;
  memset(&f, 0, sizeof(f));
  f.l_type = lock ? F_WRLCK : F_UNLCK;
  f.l_whence = SEEK_SET;  // l_start = l_len = 0: the whole file
  return fcntl(fd, F_SETLK, &f);
}

class PosixFileLock final : public FileLock {
 public:
  PosixFileLock(LockTable* table, std::string fname, int fd)
      : table_(table), fname_(std::move(fname)), fd_(fd) {}
  ~PosixFileLock() override {
    LockOrUnlock(fd_, false);
    close(fd_);
    table_->Remove(fname_);
  }

 private:
  LockTable* const table_;
  const std::string fname_;
  const int fd_;
};

class PosixEnv final : public Env {
 public:
  Status NewSequentialFile(const std::string& fname,
                           std::unique_ptr<SequentialFile>* result) override {
    const int fd = open(fname.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return PosixError(fname, errno);
    *result = std::make_unique<PosixSequentialFile>(fname, fd);
    return Status::OK();
  }

  Status NewRandomAccessFile(const std::string& fname,
                             std::unique_ptr<RandomAccessFile>* result) override {
    const int fd = open(fname.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return PosixError(fname, errno);
    struct stat st;
    if (fstat(fd, &st) != 0) {
      const int err = errno;
      close(fd);
      return PosixError(fname, err);
    }
    *result = std::make_unique<PosixRandomAccessFile>(fname, fd, st.st_size);
    return Status::OK();
  }

  Status NewWritableFile(const std::string& fname, std::unique_ptr<WritableFile>* result) override {
    const int fd = open(fname.c_str(), O_TRUNC | O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) return PosixError(fname, errno);
    *result = std::make_unique<PosixWritableFile>(fname, fd, 0);
    return Status::OK();
  }

  Status NewAppendableFile(const std::string& fname,
                           std::unique_ptr<WritableFile>* result) override {
    const int fd = open(fname.c_str(), O_APPEND | O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) return PosixError(fname, errno);
    struct stat st;
    if (fstat(fd, &st) != 0) {
      const int err = errno;
      close(fd);
      return PosixError(fname, err);
    }
    *result = std::make_unique<PosixWritableFile>(fname, fd, st.st_size);
    return Status::OK();
  }

  bool FileExists(const std::string& fname) override { return access(fname.c_str(), F_OK) == 0; }

  Status GetChildren(const std::string& dir, std::vector<std::string>* result) override {
    result->clear();
    DIR* d = opendir(dir.c_str());
    if (d == nullptr) return PosixError(dir, errno);
    while (const struct dirent* e = readdir(d)) {
      if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) {
        result->emplace_back(e->d_name);
      }
    }
    closedir(d);
    return Status::OK();
  }

  Status RemoveFile(const std::string& fname) override {
    if (unlink(fname.c_str()) != 0) return PosixError(fname, errno);
    return Status::OK();
  }

  Status CreateDir(const std::string& dirname) override {
    if (mkdir(dirname.c_str(), 0755) == 0) return Status::OK();
    const int err = errno;
    bool is_dir = false;
    if (err == EEXIST && IsDirectory(dirname, &is_dir).ok() && is_dir) return Status::OK();
    return PosixError(dirname, err);
  }

  Status RemoveDir(const std::string& dirname) override {
    if (rmdir(dirname.c_str()) != 0) return PosixError(dirname, errno);
    return Status::OK();
  }

  Status GetFileSize(const std::string& fname, uint64_t* size) override {
    struct stat st;
    if (stat(fname.c_str(), &st) != 0) {
      *size = 0;
      return PosixError(fname, errno);
    }
    *size = st.st_size;
    return Status::OK();
  }

  Status IsDirectory(const std::string& path, bool* is_dir) override {
    struct stat st;
    if (stat(path.c_str(), &st) != 0) return PosixError(path, errno);
    *is_dir = S_ISDIR(st.st_mode);
    return Status::OK();
  }

  Status RenameFile(const std::string& src, const std::string& target) override {
    if (rename(src.c_str(), target.c_str()) != 0) return PosixError(src + " -> " + target, errno);
    return Status::OK();
  }

  Status SyncDir(const std::string& dirname) override {
    const int fd = open(dirname.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return PosixError(dirname, errno);
    Status s;
    if (fsync(fd) != 0) s = PosixError(dirname, errno);
    close(fd);
    return s;
  }

  Status LockFile(const std::string& fname, std::unique_ptr<FileLock>* lock) override {
    if (!locks_.Insert(fname)) {
      return Status::IOError("lock " + fname, "already held by this process");
    }
    const int fd = open(fname.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) {
      const int err = errno;
      locks_.Remove(fname);
      return PosixError(fname, err);
    }
    if (LockOrUnlock(fd, true) != 0) {
      const int err = errno;
      close(fd);
      locks_.Remove(fname);
      // EAGAIN/EACCES: held by another process, perhaps another learnkv server on this DB.
      return Status::IOError("lock " + fname, std::generic_category().message(err));
    }
    *lock = std::make_unique<PosixFileLock>(&locks_, fname, fd);
    return Status::OK();
  }

  void StartThread(std::function<void()> fn) override { std::thread(std::move(fn)).detach(); }

  uint64_t NowMicros() override {
    return std::chrono::duration_cast<std::chrono::microseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  }

  void SleepForMicroseconds(int micros) override {
    std::this_thread::sleep_for(std::chrono::microseconds(micros));
  }

 private:
  LockTable locks_;
};

}  // namespace

Env* Env::Default() {
  // Leaked on purpose: detached background threads may still use it during exit.
  static Env* const env = new PosixEnv;
  return env;
}

}  // namespace learnkv
