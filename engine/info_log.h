// InfoLog: the human-readable LOG file in a DB directory — one timestamped line per event
// (open and recovery notes, flushes, compactions, background errors). Opening it renames the
// previous LOG to LOG.old, so the last two runs are kept.
//
// Thread safety: Log may be called from any thread; lines are written whole, in call order.
#ifndef LEARNKV_ENGINE_INFO_LOG_H_
#define LEARNKV_ENGINE_INFO_LOG_H_

#include <memory>
#include <string>

#include "learnkv/env.h"
#include "engine/log_reader.h"
#include "learnkv/status.h"
#include "util/mutexlock.h"

namespace learnkv {

class InfoLog {
 public:
  // Rotates <dbname>/LOG to LOG.old and starts a new LOG. The directory must exist.
  static Status Open(Env* env, const std::string& dbname, std::unique_ptr<InfoLog>* result);
  // A log that discards every line (Options::info_log == false, or the LOG could not be
  // opened: the DB does not fail because of its diagnostics).
  static std::unique_ptr<InfoLog> Null();

  InfoLog(const InfoLog&) = delete;
  InfoLog& operator=(const InfoLog&) = delete;
  ~InfoLog();

  // Appends "YYYY/MM/DD-HH:MM:SS.uuuuuu <message>\n" and hands it to the OS.
  void Log(const char* format, ...) __attribute__((format(printf, 2, 3)));

 private:
  InfoLog(Env* env, std::unique_ptr<WritableFile> file);

  Env* const env_;
  Mutex mu_;
  std::unique_ptr<WritableFile> file_ GUARDED_BY(mu_);  // null for the Null() log
};

// Notes the damage a log::Reader finds (in a WAL or the MANIFEST) in the info LOG. Whether
// the damage fails recovery is the reader's decision (WalRecoveryMode), not the reporter's.
class InfoLogReporter final : public log::Reader::Reporter {
 public:
  // torn_tail_note is appended to the note of a dropped torn tail (e.g. why it is harmless).
  InfoLogReporter(InfoLog* info_log, std::string torn_tail_note)
      : info_log_(info_log), torn_tail_note_(std::move(torn_tail_note)) {}
  void Corruption(const std::string& fname, uint64_t offset, uint64_t bytes,
                  const Status& reason) override;
  void TornTail(const std::string& fname, uint64_t offset, uint64_t bytes,
                const Status& reason) override;

 private:
  InfoLog* const info_log_;
  const std::string torn_tail_note_;
};

}  // namespace learnkv

#endif  // LEARNKV_ENGINE_INFO_LOG_H_
