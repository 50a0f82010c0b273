// Env: everything learnkv asks of the operating system — files, directories, locks, time and
// background threads. Hiding the OS behind this interface is what makes the in-memory and
// fault-injection environments (util/mem_env.h, util/fault_injection_env.h) possible.
//
// Thread safety: Env implementations are safe for concurrent use from many threads. File
// objects are not: a WritableFile has one writer; a RandomAccessFile may be read concurrently.
#ifndef LEARNKV_INCLUDE_ENV_H_
#define LEARNKV_INCLUDE_ENV_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "learnkv/slice.h"
#include "learnkv/status.h"

namespace learnkv {

// A file read from start to end (WAL and MANIFEST recovery).
class SequentialFile {
 public:
  virtual ~SequentialFile() = default;
  // Reads up to n bytes into scratch; *result points at the bytes read (maybe into scratch).
  // A short read (fewer than n bytes) with OK status means end of file.
  virtual Status Read(size_t n, Slice* result, char* scratch) = 0;
  virtual Status Skip(uint64_t n) = 0;
};

// A file read at arbitrary offsets (tables). Safe for concurrent reads.
class RandomAccessFile {
 public:
  virtual ~RandomAccessFile() = default;
  // Reads up to n bytes at offset; a read past the end returns fewer bytes and OK.
  virtual Status Read(uint64_t offset, size_t n, Slice* result, char* scratch) const = 0;
  // The file's size in bytes, as known when it was opened.
  virtual uint64_t Size() const = 0;
};

// A file written sequentially (tables, WAL, MANIFEST). Single writer.
class WritableFile {
 public:
  virtual ~WritableFile() = default;
  virtual Status Append(const Slice& data) = 0;
  virtual Status Flush() = 0;  // hands buffered bytes to the OS
  virtual Status Sync() = 0;   // makes appended bytes durable (fdatasync)
  virtual Status Close() = 0;
  virtual uint64_t Size() const = 0;  // bytes appended so far
};

// Held while a process owns a DB directory (see Env::LockFile).
class FileLock {
 public:
  virtual ~FileLock() = default;
};

class Env {
 public:
  virtual ~Env() = default;

  // The process-wide POSIX environment. Never deleted.
  static Env* Default();

  virtual Status NewSequentialFile(const std::string& fname,
                                   std::unique_ptr<SequentialFile>* result) = 0;
  virtual Status NewRandomAccessFile(const std::string& fname,
                                     std::unique_ptr<RandomAccessFile>* result) = 0;
  // Creates or truncates.
  virtual Status NewWritableFile(const std::string& fname,
                                 std::unique_ptr<WritableFile>* result) = 0;
  // Opens for appending, creating if missing.
  virtual Status NewAppendableFile(const std::string& fname,
                                   std::unique_ptr<WritableFile>* result) = 0;

  virtual bool FileExists(const std::string& fname) = 0;
  virtual Status GetChildren(const std::string& dir, std::vector<std::string>* result) = 0;
  virtual Status RemoveFile(const std::string& fname) = 0;
  virtual Status CreateDir(const std::string& dirname) = 0;  // OK if it already exists
  virtual Status RemoveDir(const std::string& dirname) = 0;
  virtual Status GetFileSize(const std::string& fname, uint64_t* size) = 0;
  virtual Status IsDirectory(const std::string& path, bool* is_dir) = 0;
  // Atomically replaces target with src.
  virtual Status RenameFile(const std::string& src, const std::string& target) = 0;
  // Makes a directory's entries (creations, renames, removals) durable.
  virtual Status SyncDir(const std::string& dirname) = 0;

  // Locks fname against other processes; IOError if another process holds it.
  virtual Status LockFile(const std::string& fname, std::unique_ptr<FileLock>* lock) = 0;

  // Runs fn on a background thread (a pool of `Options.max_background_jobs` threads is the
  // engine's business; this is a convenience for simple users and tests).
  virtual void StartThread(std::function<void()> fn) = 0;

  virtual uint64_t NowMicros() = 0;
  virtual void SleepForMicroseconds(int micros) = 0;
};

// Writes data to fname (truncating), optionally syncing it.
Status WriteStringToFile(Env* env, const Slice& data, const std::string& fname, bool sync);
// Reads the whole file into *data.
Status ReadFileToString(Env* env, const std::string& fname, std::string* data);

}  // namespace learnkv

#endif  // LEARNKV_INCLUDE_ENV_H_
