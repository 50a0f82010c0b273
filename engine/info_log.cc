#include "engine/info_log.h"

#include <cinttypes>
#include <cstdarg>
#include <cstdio>
#include <ctime>

#include "engine/filename.h"

namespace learnkv {

Status InfoLog::Open(Env* env, const std::string& dbname, std::unique_ptr<InfoLog>* result) {
  const std::string fname = InfoLogFileName(dbname);
  if (env->FileExists(fname)) {
    // Losing LOG.old is harmless; losing the rename would only overwrite the old LOG.
    env->RenameFile(fname, OldInfoLogFileName(dbname));
  }
  std::unique_ptr<WritableFile> file;
  Status s = env->NewWritableFile(fname, &file);
  if (!s.ok()) return s;
  result->reset(new InfoLog(env, std::move(file)));
  return Status::OK();
}

std::unique_ptr<InfoLog> InfoLog::Null() {
  return std::unique_ptr<InfoLog>(new InfoLog(nullptr, nullptr));
}

InfoLog::InfoLog(Env* env, std::unique_ptr<WritableFile> file)
    : env_(env), file_(std::move(file)) {}

InfoLog::~InfoLog() {
  MutexLock l(&mu_);
  if (file_ != nullptr) file_->Close();
}

void InfoLog::Log(const char* format, ...) {
  if (env_ == nullptr) return;
  // Format outside the lock; most lines fit the stack buffer.
  const uint64_t now = env_->NowMicros();
  const time_t seconds = static_cast<time_t>(now / 1000000);
  struct tm t;
  localtime_r(&seconds, &t);
  char buf[1024];
  int n = std::snprintf(buf, sizeof(buf), "%04d/%02d/%02d-%02d:%02d:%02d.%06d ", t.tm_year + 1900,
                        t.tm_mon + 1, t.tm_mday, t.tm_hour, t.tm_min, t.tm_sec,
                        static_cast<int>(now % 1000000));
  std::string line(buf, n > 0 ? static_cast<size_t>(n) : 0);
  va_list ap;
  va_start(ap, format);
  va_list ap2;
  va_copy(ap2, ap);
  const int m = std::vsnprintf(buf, sizeof(buf), format, ap);
  va_end(ap);
  if (m >= 0 && static_cast<size_t>(m) < sizeof(buf)) {
    line.append(buf, m);
  } else if (m >= 0) {
    std::string big(static_cast<size_t>(m) + 1, '\0');
    std::vsnprintf(big.data(), big.size(), format, ap2);
    line.append(big.data(), m);
  }
  va_end(ap2);
  if (line.empty() || line.back() != '\n') line.push_back('\n');

  MutexLock l(&mu_);
  if (file_ == nullptr) return;
  if (file_->Append(line).ok()) file_->Flush();
}

void InfoLogReporter::Corruption(const std::string& fname, uint64_t offset, uint64_t bytes,
                                 const Status& reason) {
  info_log_->Log("%s: %" PRIu64 " damaged bytes at offset %" PRIu64 ": %s", fname.c_str(), bytes,
                 offset, reason.ToString().c_str());
}

void InfoLogReporter::TornTail(const std::string& fname, uint64_t offset, uint64_t bytes,
                               const Status& reason) {
  info_log_->Log("%s: dropped a torn tail of %" PRIu64 " bytes at offset %" PRIu64 "%s: %s",
                 fname.c_str(), bytes, offset, torn_tail_note_.c_str(), reason.ToString().c_str());
}

}  // namespace learnkv
