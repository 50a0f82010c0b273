// Status: the result of an operation — OK, or an error code with a message.
// No exceptions cross learnkv's API; every fallible call returns a Status and writes its
// outputs through pointer parameters.
//
// Thread safety: a Status is a value; const methods may be called concurrently.
#ifndef LEARNKV_INCLUDE_STATUS_H_
#define LEARNKV_INCLUDE_STATUS_H_

#include <memory>
#include <string>

#include "learnkv/slice.h"

namespace learnkv {

class Status {
 public:
  // Persistent: codes appear in logs and tests; never renumber.
  enum class Code : unsigned char {
    kOk = 0,
    kNotFound = 1,
    kCorruption = 2,
    kNotSupported = 3,
    kInvalidArgument = 4,
    kIOError = 5,
    kBusy = 6,
    kAborted = 7,
  };

  Status() noexcept = default;
  Status(const Status& rhs) : code_(rhs.code_), msg_(rhs.msg_ ? new std::string(*rhs.msg_) : nullptr) {}
  Status& operator=(const Status& rhs) {
    if (this != &rhs) {
      code_ = rhs.code_;
      msg_.reset(rhs.msg_ ? new std::string(*rhs.msg_) : nullptr);
    }
    return *this;
  }
  Status(Status&&) noexcept = default;
  Status& operator=(Status&&) noexcept = default;

  static Status OK() { return Status(); }
  static Status NotFound(const Slice& msg, const Slice& msg2 = Slice()) {
    return Status(Code::kNotFound, msg, msg2);
  }
  static Status Corruption(const Slice& msg, const Slice& msg2 = Slice()) {
    return Status(Code::kCorruption, msg, msg2);
  }
  static Status NotSupported(const Slice& msg, const Slice& msg2 = Slice()) {
    return Status(Code::kNotSupported, msg, msg2);
  }
  static Status InvalidArgument(const Slice& msg, const Slice& msg2 = Slice()) {
    return Status(Code::kInvalidArgument, msg, msg2);
  }
  static Status IOError(const Slice& msg, const Slice& msg2 = Slice()) {
    return Status(Code::kIOError, msg, msg2);
  }
  static Status Busy(const Slice& msg, const Slice& msg2 = Slice()) {
    return Status(Code::kBusy, msg, msg2);
  }
  static Status Aborted(const Slice& msg, const Slice& msg2 = Slice()) {
    return Status(Code::kAborted, msg, msg2);
  }

  bool ok() const { return code_ == Code::kOk; }
  bool IsNotFound() const { return code_ == Code::kNotFound; }
  bool IsCorruption() const { return code_ == Code::kCorruption; }
  bool IsNotSupported() const { return code_ == Code::kNotSupported; }
  bool IsInvalidArgument() const { return code_ == Code::kInvalidArgument; }
  bool IsIOError() const { return code_ == Code::kIOError; }
  bool IsBusy() const { return code_ == Code::kBusy; }
  bool IsAborted() const { return code_ == Code::kAborted; }
  Code code() const { return code_; }

  // The message alone, without the code name.
  std::string message() const { return msg_ ? *msg_ : std::string(); }

  // "OK", or e.g. "Corruption: 000012.sst: bad block checksum at offset 4096".
  std::string ToString() const;

 private:
  Status(Code code, const Slice& msg, const Slice& msg2);

  Code code_ = Code::kOk;
  std::unique_ptr<std::string> msg_;  // null when ok() or without a message
};

}  // namespace learnkv

#endif  // LEARNKV_INCLUDE_STATUS_H_
