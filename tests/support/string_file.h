// In-memory files for table tests: a WritableFile appending to a std::string, and a
// RandomAccessFile over a std::string (which may be edited between reads to simulate damage).
//
// Thread safety: StringSource reads may run concurrently while nobody edits its contents;
// StringSink is single-threaded.
#ifndef LEARNKV_TESTS_SUPPORT_STRING_FILE_H_
#define LEARNKV_TESTS_SUPPORT_STRING_FILE_H_

#include <algorithm>
#include <atomic>
#include <cstring>
#include <string>

#include "learnkv/env.h"

namespace learnkv::test {

class StringSink final : public WritableFile {
 public:
  Status Append(const Slice& data) override {
    contents_.append(data.data(), data.size());
    return Status::OK();
  }
  Status Flush() override { return Status::OK(); }
  Status Sync() override { return Status::OK(); }
  Status Close() override { return Status::OK(); }
  uint64_t Size() const override { return contents_.size(); }

  const std::string& contents() const { return contents_; }

 private:
  std::string contents_;
};

class StringSource final : public RandomAccessFile {
 public:
  explicit StringSource(std::string contents) : contents_(std::move(contents)) {}

  // Copies into scratch (like a real file), so blocks never alias the source.
  Status Read(uint64_t offset, size_t n, Slice* result, char* scratch) const override {
    reads_.fetch_add(1, std::memory_order_relaxed);
    if (offset >= contents_.size()) {
      *result = Slice();
      return Status::OK();
    }
    n = std::min<uint64_t>(n, contents_.size() - offset);
    memcpy(scratch, contents_.data() + offset, n);
    *result = Slice(scratch, n);
    return Status::OK();
  }
  uint64_t Size() const override { return contents_.size(); }

  std::string* mutable_contents() { return &contents_; }
  uint64_t reads() const { return reads_.load(std::memory_order_relaxed); }

 private:
  std::string contents_;
  mutable std::atomic<uint64_t> reads_{0};
};

}  // namespace learnkv::test

#endif  // LEARNKV_TESTS_SUPPORT_STRING_FILE_H_
