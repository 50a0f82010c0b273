// Reading happens at two levels. ReadPhysicalRecord walks the blocks and classifies each
// physical record as intact, torn (the file ends inside it) or bad (damaged inside the file).
// ReadRecord joins fragments into logical records; on a bad record it reads ahead to the next
// intact one (Resynchronize) to learn whether the damage is a torn tail or corruption in the
// middle, then lets the recovery mode decide.

#include "engine/log_reader.h"

#include <utility>

#include "util/checksum.h"
#include "util/coding.h"

namespace learnkv::log {

namespace {

bool IsFragmentType(int kind) { return kind >= kFullType && kind <= kLastType; }

// True if s starts with a physical record whose header, length and checksum all hold.
bool StartsWithIntactRecord(const Slice& s) {
  if (s.size() < kHeaderSize) return false;
  const size_t length = DecodeFixed16(s.data() + 4);
  if (kHeaderSize + length > s.size() || !IsFragmentType(static_cast<uint8_t>(s[6]))) {
    return false;
  }
  return UnmaskChecksum(DecodeFixed32(s.data())) == Checksum32(s.data() + 6, 1 + length);
}

}  // namespace

Reader::Reader(SequentialFile* file, std::string fname, Reporter* reporter, WalRecoveryMode mode)
    : file_(file),
      fname_(std::move(fname)),
      reporter_(reporter),
      mode_(mode),
      backing_store_(new char[kBlockSize]) {}

Reader::~Reader() = default;

bool Reader::ReadRecord(Slice* record, std::string* scratch) {
  if (stopped_) return false;
  scratch->clear();
  *record = Slice();
  bool in_fragmented = false;
  uint64_t record_start = 0;  // offset of the current fragmented record's FIRST header
  Fragment f;
  while (true) {
    const int kind = ReadPhysicalRecord(&f);
    if (in_fragmented && (kind == kFullType || kind == kFirstType)) {
      // A new record began before the current one ended (a writer that crashed and then
      // appended to the same log): the unfinished record is lost.
      in_fragmented = false;
      scratch->clear();
      ReportCorruption(record_start, f.offset - record_start,
                       Status::Corruption("fragmented record without its end"));
      if (mode_ != WalRecoveryMode::kSkipAnyCorruptedRecords) {
        return Stop(Status::Corruption(
            fname_, "fragmented record without its end at offset " + std::to_string(record_start)));
      }
    }
    switch (kind) {
      case kFullType:
        last_record_offset_ = f.offset;
        last_record_end_ = f.offset + f.bytes;
        *record = f.data;
        return true;

      case kFirstType:
        scratch->assign(f.data.data(), f.data.size());
        in_fragmented = true;
        record_start = f.offset;
        break;

      case kMiddleType:
      case kLastType:
        if (!in_fragmented) {
          // The fragment is intact, so whatever cost it its start is not a torn tail.
          if (!Resynchronize(f.offset,
                             Status::Corruption("fragment without the start of its record"),
                             /*intact_seen=*/true)) {
            return false;
          }
          break;
        }
        scratch->append(f.data.data(), f.data.size());
        if (kind == kLastType) {
          last_record_offset_ = record_start;
          last_record_end_ = f.offset + f.bytes;
          *record = Slice(*scratch);
          return true;
        }
        break;

      case kEof:
        if (!read_error_.ok()) return Stop(read_error_);
        if (in_fragmented) {
          ReportTornTail(record_start, Status::Corruption("log ends inside a fragmented record"));
          return Stop(status_);
        }
        return Stop(Status::OK());

      case kTorn:
        ReportTornTail(in_fragmented ? record_start : f.offset, f.reason);
        return Stop(status_);

      case kBad:
        if (!Resynchronize(in_fragmented ? record_start : f.offset, f.reason,
                           /*intact_seen=*/false)) {
          return false;
        }
        in_fragmented = false;
        scratch->clear();
        break;
    }
  }
}

bool Reader::Resynchronize(uint64_t damage_start, const Status& reason, bool intact_seen) {
  // Skip to the next record start (FULL or FIRST) or the end of the file. Fragments on the
  // way belong to records whose start was lost; they prove that intact data follows.
  Fragment g;
  int kind;
  while (true) {
    kind = ReadPhysicalRecord(&g);
    if (kind == kBad) continue;
    if (kind == kMiddleType || kind == kLastType) {
      intact_seen = true;
      continue;
    }
    break;
  }
  if (kind == kEof && !read_error_.ok()) return Stop(read_error_);
  if (!intact_seen && kind != kFullType && kind != kFirstType) {
    // Nothing intact follows the damage: it is where a crash cut the log off.
    ReportTornTail(damage_start, reason);
    return Stop(status_);
  }
  ReportCorruption(damage_start, g.offset - damage_start, reason);
  if (mode_ != WalRecoveryMode::kSkipAnyCorruptedRecords) {
    return Stop(Status::Corruption(fname_, reason.message() + " at offset " +
                                               std::to_string(damage_start) +
                                               ", followed by intact records"));
  }
  // ReadRecord takes it from here: a record to return, a torn tail, or the end.
  pending_ = std::move(g);
  return true;
}

int Reader::ReadPhysicalRecord(Fragment* f) {
  if (pending_.has_value()) {
    *f = std::move(*pending_);
    pending_.reset();
    return f->kind;
  }
  while (true) {
    if (buffer_.size() < kHeaderSize) {
      if (!eof_) {
        // What is left of a full block is its trailer: move on to the next block.
        buffer_.clear();
        Status s = file_->Read(kBlockSize, &buffer_, backing_store_.get());
        if (!s.ok()) {
          buffer_.clear();
          eof_ = true;
          read_error_ = s;
          f->kind = kEof;
          return kEof;
        }
        end_of_buffer_offset_ += buffer_.size();
        if (buffer_.size() < kBlockSize) eof_ = true;
        continue;
      }
      f->offset = end_of_buffer_offset_ - buffer_.size();
      f->bytes = buffer_.size();
      const bool trailer = kBlockSize - f->offset % kBlockSize < kHeaderSize &&
                           buffer_.ToStringView().find_first_not_of('\0') == std::string::npos;
      buffer_.clear();
      if (f->bytes == 0 || trailer) {
        // A complete file, or padding the writer added before a header it never wrote: no
        // record was cut short.
        f->offset = end_of_buffer_offset_;
        f->kind = kEof;
        return kEof;
      }
      // The bytes began a header.
      f->reason = Status::Corruption("incomplete record header");
      f->kind = kTorn;
      return kTorn;
    }

    const char* header = buffer_.data();
    const size_t length = DecodeFixed16(header + 4);
    const uint8_t type = static_cast<uint8_t>(header[6]);
    f->offset = end_of_buffer_offset_ - buffer_.size();
    if (kHeaderSize + length > buffer_.size()) {
      f->bytes = buffer_.size();
      buffer_.clear();
      if (eof_) {
        f->reason = Status::Corruption("record extends past the end of the file");
        f->kind = kTorn;
      } else {
        f->reason = Status::Corruption("bad record length");
        f->kind = kBad;
      }
      return f->kind;
    }

    const uint32_t expected = UnmaskChecksum(DecodeFixed32(header));
    if (Checksum32(header + 6, 1 + length) != expected) {
      // The length may be what is damaged. Trust it only if an intact record starts where it
      // points; otherwise give up on the rest of the block.
      const Slice after(header + kHeaderSize + length, buffer_.size() - kHeaderSize - length);
      if (StartsWithIntactRecord(after)) {
        f->bytes = kHeaderSize + length;
        buffer_ = after;
      } else {
        f->bytes = buffer_.size();
        buffer_.clear();
      }
      f->reason = Status::Corruption("checksum mismatch");
      f->kind = kBad;
      return kBad;
    }

    f->bytes = kHeaderSize + length;
    buffer_.remove_prefix(kHeaderSize + length);
    if (!IsFragmentType(type)) {
      f->reason = Status::Corruption("unknown record type " + std::to_string(type));
      f->kind = kBad;
      return kBad;
    }
    f->data = Slice(header + kHeaderSize, length);
    f->kind = type;
    return type;
  }
}

void Reader::ReportTornTail(uint64_t offset, const Status& reason) {
  found_torn_tail_ = true;
  // Only reached at the end of the file, where end_of_buffer_offset_ is the file's length.
  const uint64_t bytes = end_of_buffer_offset_ - offset;
  if (reporter_ != nullptr) reporter_->TornTail(fname_, offset, bytes, reason);
  if (mode_ == WalRecoveryMode::kAbsoluteConsistency) {
    status_ = Status::Corruption(
        fname_, "torn tail at offset " + std::to_string(offset) + " (" + reason.message() + ")");
  }
}

void Reader::ReportCorruption(uint64_t offset, uint64_t bytes, const Status& reason) {
  if (reporter_ != nullptr) reporter_->Corruption(fname_, offset, bytes, reason);
}

bool Reader::Stop(Status s) {
  stopped_ = true;
  status_ = std::move(s);
  return false;
}

}  // namespace learnkv::log
