// log::Reader reads back the logical records a log::Writer wrote (WAL or MANIFEST), and tells
// apart the two ways a log can be damaged:
//
//  - a torn tail: the file ends inside a record, or every byte from some point to the end is
//    unreadable and no intact record follows. This is what a crash during an append leaves;
//    the partial record was never acknowledged as durable. Reported through
//    Reporter::TornTail.
//  - corruption: a damaged region (bad checksum, impossible length, unknown type, fragments
//    out of order) followed by at least one intact record. Something other than a crash
//    damaged the file. Reported through Reporter::Corruption.
//
// The WalRecoveryMode (log_format.h) then decides whether reading stops with a Corruption
// status or continues past the damage. Damage is located to block granularity: after a bad
// record the reader resumes at the next intact record, usually the next 32 KiB block.
//
// Thread safety: none; one thread at a time.
#ifndef LEARNKV_ENGINE_LOG_READER_H_
#define LEARNKV_ENGINE_LOG_READER_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "engine/log_format.h"
#include "learnkv/env.h"
#include "learnkv/slice.h"
#include "learnkv/status.h"

namespace learnkv::log {

class Reader {
 public:
  // Receives every problem found, with physical byte offsets into the file. Recovery writes
  // these to the info LOG.
  class Reporter {
   public:
    virtual ~Reporter() = default;
    // bytes bytes from offset were dropped as damaged (reason); intact records follow, or the
    // mode is kAbsoluteConsistency and reading stopped there.
    virtual void Corruption(const std::string& fname, uint64_t offset, uint64_t bytes,
                            const Status& reason) = 0;
    // The last bytes bytes of the file, from offset, hold an incomplete or unreadable record
    // left by an interrupted write; they were dropped.
    virtual void TornTail(const std::string& fname, uint64_t offset, uint64_t bytes,
                          const Status& reason) = 0;
  };

  // Reads file (not owned; must outlive the reader) from its start. fname is only used in
  // reports and messages. reporter may be null.
  Reader(SequentialFile* file, std::string fname, Reporter* reporter,
         WalRecoveryMode mode = WalRecoveryMode::kTolerateCorruptedTailRecords);
  Reader(const Reader&) = delete;
  Reader& operator=(const Reader&) = delete;
  ~Reader();

  // Reads the next record into *record, which stays valid until the next call or until
  // *scratch changes. Returns false when there is no further record: then status() is OK at
  // the end of the file (a torn tail having been reported and dropped, unless the mode is
  // kAbsoluteConsistency), Corruption if the mode forbids going past damage, or the IOError
  // that stopped reading. Every later call returns false too.
  bool ReadRecord(Slice* record, std::string* scratch);

  const Status& status() const { return status_; }

  // Physical offset of the first header of the record last returned by ReadRecord, and one
  // past its last byte: a log that will be appended to should first be cut back to the end.
  uint64_t LastRecordOffset() const { return last_record_offset_; }
  uint64_t LastRecordEndOffset() const { return last_record_end_; }

  // True once a torn tail was found (and reported).
  bool found_torn_tail() const { return found_torn_tail_; }

 private:
  // What ReadPhysicalRecord found: a RecordType (kFullType..kLastType) or one of these.
  enum Outcome : int {
    kEof = kMaxRecordType + 1,  // clean end of file, or a read error (see read_error_)
    kTorn,                      // the file ends inside this physical record
    kBad,                       // a damaged physical record inside the file
  };

  struct Fragment {
    int kind = kEof;
    Slice data;           // payload, for kFullType..kLastType
    uint64_t offset = 0;  // physical offset of the header (or of the damage)
    uint64_t bytes = 0;   // physical extent, header included
    Status reason;        // for kTorn and kBad
  };

  int ReadPhysicalRecord(Fragment* f);
  // Handles damage that begins at damage_start (the start of the partial record it cut
  // short, if any): skips to the next record start and reports the region as corruption if
  // intact data follows (intact_seen: some already did), else as a torn tail. Returns false
  // if reading stops.
  bool Resynchronize(uint64_t damage_start, const Status& reason, bool intact_seen);
  void ReportTornTail(uint64_t offset, const Status& reason);
  void ReportCorruption(uint64_t offset, uint64_t bytes, const Status& reason);
  // Ends reading with s (ok() for a clean stop).
  bool Stop(Status s);

  SequentialFile* const file_;
  const std::string fname_;
  Reporter* const reporter_;
  const WalRecoveryMode mode_;

  std::unique_ptr<char[]> backing_store_;  // one block
  Slice buffer_;                           // unread part of the current block
  bool eof_ = false;                       // the last read returned less than a block
  Status read_error_;
  uint64_t end_of_buffer_offset_ = 0;  // physical offset one past buffer_
  std::optional<Fragment> pending_;    // an intact fragment the resync read ahead

  bool stopped_ = false;
  Status status_;
  bool found_torn_tail_ = false;
  uint64_t last_record_offset_ = 0;
  uint64_t last_record_end_ = 0;
};

}  // namespace learnkv::log

#endif  // LEARNKV_ENGINE_LOG_READER_H_
