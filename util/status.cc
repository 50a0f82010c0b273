#include "learnkv/status.h"

namespace learnkv {

Status::Status(Code code, const Slice& msg, const Slice& msg2) : code_(code) {
  // A bare NotFound is the common answer of a lookup miss: keep it free of allocations.
  if (msg.empty() && msg2.empty()) return;
  std::string m = msg.ToString();
  if (!msg2.empty()) {
    m.append(": ");
    m.append(msg2.data(), msg2.size());
  }
  msg_ = std::make_unique<std::string>(std::move(m));
}

std::string Status::ToString() const {
  const char* type = "";
  switch (code_) {
    case Code::kOk:
      return "OK";
    case Code::kNotFound:
      type = "NotFound: ";
      break;
    case Code::kCorruption:
      type = "Corruption: ";
      break;
    case Code::kNotSupported:
      type = "Not implemented: ";
      break;
    case Code::kInvalidArgument:
      type = "Invalid argument: ";
      break;
    case Code::kIOError:
      type = "IO error: ";
      break;
    case Code::kBusy:
      type = "Busy: ";
      break;
    case Code::kAborted:
      type = "Aborted: ";
      break;
  }
  std::string result(type);
  if (msg_) result.append(*msg_);
  return result;
}

}  // namespace learnkv
