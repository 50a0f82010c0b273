// VersionEdit encoding (persistent: the payload of every MANIFEST record):
//
//   edit     := field* varint32(kEndOfEdit)
//   field    := kComparator     lp(name)
//             | kLogNumber      varint64
//             | kNextFileNumber varint64
//             | kLastSequence   varint64
//             | kCompactPointer varint32(level) lp(internal key)
//             | kDeletedFile    varint32(level) varint64(number)
//             | kNewFile        varint32(level) varint64(number) varint64(size)
//                               lp(smallest) lp(largest) file_field* varint32(kFileFieldEnd)
//   file_field := varint32(tag) lp(payload)
//   (file fields: seqno range, entries, index; and the statistics, tagged with
//   kFileFieldSafeToIgnore: kFileBuild: varint64 leaves, varint64 build micros,
//   varint64 training micros, lp(fallback reason); kFileFilter: byte kind, varint64 bytes,
//   varint64 keys, fixed64 target rate (a double))
//
// (lp = varint32 length + bytes.) The end marker makes every truncation detectable, even one
// that falls between fields. File fields carry their own length so that later versions can
// add statistics: a reader skips an unknown field whose tag has kFileFieldSafeToIgnore set and
// rejects any other unknown field.

#include "engine/version_edit.h"

#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <cstring>

#include "util/coding.h"

namespace learnkv {

namespace {

// Persistent: never renumber.
enum EditTag : uint32_t {
  kEndOfEdit = 0,
  kComparator = 1,
  kLogNumber = 2,
  kNextFileNumber = 3,
  kLastSequence = 4,
  kCompactPointer = 5,
  kDeletedFile = 6,
  kNewFile = 7,
};

// Persistent: never renumber.
enum FileFieldTag : uint32_t {
  kFileFieldEnd = 0,
  kFileSeqnoRange = 1,  // varint64 smallest, varint64 largest
  kFileEntries = 2,     // varint64 entries, varint64 deletions
  kFileIndex = 3,       // byte kind, varint64 bytes, varint64 max error, fixed64 mean error
  kFileFieldSafeToIgnore = 0x40,
  // Statistics only: a reader that does not know them loses nothing it needs.
  kFileBuild = 4 | kFileFieldSafeToIgnore,
  // (5 is unused: tests stand for a future field with it.)
  kFileFilter = 6 | kFileFieldSafeToIgnore,
};

void PutDouble(std::string* dst, double v) {
  uint64_t bits;
  std::memcpy(&bits, &v, sizeof(bits));
  PutFixed64(dst, bits);
}

bool GetDouble(Slice* input, double* v) {
  uint64_t bits;
  if (!GetFixed64(input, &bits)) return false;
  std::memcpy(v, &bits, sizeof(bits));
  return true;
}

void PutFileField(std::string* dst, uint32_t tag, const std::string& payload) {
  PutVarint32(dst, tag);
  PutLengthPrefixedSlice(dst, payload);
}

bool GetLevel(Slice* input, int* level) {
  uint32_t v;
  if (!GetVarint32(input, &v) || v >= static_cast<uint32_t>(kNumLevels)) return false;
  *level = static_cast<int>(v);
  return true;
}

bool GetInternalKey(Slice* input, std::string* key) {
  Slice s;
  if (!GetLengthPrefixedSlice(input, &s) || s.size() < kInternalKeyTrailerSize) return false;
  *key = s.ToString();
  return true;
}

// Parses one file field into *f. payload must be consumed exactly.
bool DecodeFileField(uint32_t tag, Slice payload, FileMetaData* f) {
  switch (tag) {
    case kFileSeqnoRange:
      if (!GetVarint64(&payload, &f->smallest_seqno) || !GetVarint64(&payload, &f->largest_seqno) ||
          f->smallest_seqno > f->largest_seqno) {
        return false;
      }
      break;
    case kFileEntries:
      if (!GetVarint64(&payload, &f->num_entries) || !GetVarint64(&payload, &f->num_deletions) ||
          f->num_deletions > f->num_entries) {
        return false;
      }
      break;
    case kFileIndex:
      if (payload.empty()) return false;
      f->index_kind = static_cast<uint8_t>(payload[0]);
      payload.remove_prefix(1);
      if (!GetVarint64(&payload, &f->index_bytes) || !GetVarint64(&payload, &f->model_max_error) ||
          !GetDouble(&payload, &f->model_mean_error) || !std::isfinite(f->model_mean_error) ||
          f->model_mean_error < 0) {
        return false;
      }
      break;
    case kFileBuild: {
      Slice reason;
      if (!GetVarint64(&payload, &f->model_leaves) || !GetVarint64(&payload, &f->build_micros) ||
          !GetVarint64(&payload, &f->training_micros) ||
          !GetLengthPrefixedSlice(&payload, &reason)) {
        return false;
      }
      f->fallback_reason = reason.ToString();
      break;
    }
    case kFileFilter:
      if (payload.empty()) return false;
      f->filter_kind = static_cast<uint8_t>(payload[0]);
      payload.remove_prefix(1);
      if (!GetVarint64(&payload, &f->filter_bytes) || !GetVarint64(&payload, &f->filter_num_keys) ||
          !GetDouble(&payload, &f->filter_target_fpr) || !std::isfinite(f->filter_target_fpr) ||
          f->filter_target_fpr < 0) {
        return false;
      }
      break;
    default:
      return (tag & kFileFieldSafeToIgnore) != 0;
  }
  return payload.empty();
}

Status DecodeNewFile(Slice* input, int* level, FileMetaData* f) {
  if (!GetLevel(input, level) || !GetVarint64(input, &f->number) ||
      !GetVarint64(input, &f->file_size) || !GetInternalKey(input, &f->smallest) ||
      !GetInternalKey(input, &f->largest)) {
    return Status::Corruption("VersionEdit", "bad new-file entry");
  }
  if (CompareInternalKeys(f->smallest, f->largest) > 0) {
    return Status::Corruption("VersionEdit", "new file's smallest key exceeds its largest");
  }
  while (true) {
    uint32_t tag;
    if (!GetVarint32(input, &tag)) return Status::Corruption("VersionEdit", "truncated new file");
    if (tag == kFileFieldEnd) return Status::OK();
    Slice payload;
    if (!GetLengthPrefixedSlice(input, &payload) || !DecodeFileField(tag, payload, f)) {
      return Status::Corruption("VersionEdit", "bad new-file field " + std::to_string(tag));
    }
  }
}

// "'user key' @ seq : type", escaping bytes that are not printable.
std::string DescribeInternalKey(const Slice& ikey) {
  ParsedInternalKey parsed;
  if (!ParseInternalKey(ikey, &parsed)) return "(bad key " + ikey.ToHex() + ")";
  std::string out = "'";
  for (size_t i = 0; i < parsed.user_key.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(parsed.user_key[i]);
    if (c >= 0x20 && c < 0x7f && c != '\'' && c != '\\') {
      out.push_back(static_cast<char>(c));
    } else {
      char buf[8];
      std::snprintf(buf, sizeof(buf), "\\x%02x", c);
      out += buf;
    }
  }
  out += "' @ " + std::to_string(parsed.sequence) + " : " +
         std::to_string(static_cast<int>(parsed.type));
  return out;
}

}  // namespace

void VersionEdit::EncodeTo(std::string* dst) const {
  if (comparator_) {
    PutVarint32(dst, kComparator);
    PutLengthPrefixedSlice(dst, *comparator_);
  }
  if (log_number_) {
    PutVarint32(dst, kLogNumber);
    PutVarint64(dst, *log_number_);
  }
  if (next_file_number_) {
    PutVarint32(dst, kNextFileNumber);
    PutVarint64(dst, *next_file_number_);
  }
  if (last_sequence_) {
    PutVarint32(dst, kLastSequence);
    PutVarint64(dst, *last_sequence_);
  }
  for (const auto& [level, key] : compact_pointers_) {
    PutVarint32(dst, kCompactPointer);
    PutVarint32(dst, static_cast<uint32_t>(level));
    PutLengthPrefixedSlice(dst, key);
  }
  for (const auto& [level, number] : deleted_files_) {
    PutVarint32(dst, kDeletedFile);
    PutVarint32(dst, static_cast<uint32_t>(level));
    PutVarint64(dst, number);
  }
  std::string payload;
  for (const auto& [level, f] : new_files_) {
    PutVarint32(dst, kNewFile);
    PutVarint32(dst, static_cast<uint32_t>(level));
    PutVarint64(dst, f.number);
    PutVarint64(dst, f.file_size);
    PutLengthPrefixedSlice(dst, f.smallest);
    PutLengthPrefixedSlice(dst, f.largest);

    payload.clear();
    PutVarint64(&payload, f.smallest_seqno);
    PutVarint64(&payload, f.largest_seqno);
    PutFileField(dst, kFileSeqnoRange, payload);

    payload.clear();
    PutVarint64(&payload, f.num_entries);
    PutVarint64(&payload, f.num_deletions);
    PutFileField(dst, kFileEntries, payload);

    payload.clear();
    payload.push_back(static_cast<char>(f.index_kind));
    PutVarint64(&payload, f.index_bytes);
    PutVarint64(&payload, f.model_max_error);
    PutDouble(&payload, f.model_mean_error);
    PutFileField(dst, kFileIndex, payload);

    payload.clear();
    PutVarint64(&payload, f.model_leaves);
    PutVarint64(&payload, f.build_micros);
    PutVarint64(&payload, f.training_micros);
    PutLengthPrefixedSlice(&payload, f.fallback_reason);
    PutFileField(dst, kFileBuild, payload);

    payload.clear();
    payload.push_back(static_cast<char>(f.filter_kind));
    PutVarint64(&payload, f.filter_bytes);
    PutVarint64(&payload, f.filter_num_keys);
    PutDouble(&payload, f.filter_target_fpr);
    PutFileField(dst, kFileFilter, payload);

    PutVarint32(dst, kFileFieldEnd);
  }
  PutVarint32(dst, kEndOfEdit);
}

Status VersionEdit::DecodeFrom(const Slice& src) {
  Clear();
  Slice input = src;
  while (true) {
    uint32_t tag;
    if (!GetVarint32(&input, &tag)) {
      return Status::Corruption("VersionEdit",
                                input.empty() ? "truncated (no end marker)" : "bad tag");
    }
    Slice s;
    int level;
    uint64_t number;
    switch (tag) {
      case kEndOfEdit:
        if (!input.empty()) return Status::Corruption("VersionEdit", "bytes after the end");
        return Status::OK();
      case kComparator:
        if (!GetLengthPrefixedSlice(&input, &s)) {
          return Status::Corruption("VersionEdit", "bad comparator name");
        }
        comparator_ = s.ToString();
        break;
      case kLogNumber:
        if (!GetVarint64(&input, &number)) {
          return Status::Corruption("VersionEdit", "bad log number");
        }
        log_number_ = number;
        break;
      case kNextFileNumber:
        if (!GetVarint64(&input, &number)) {
          return Status::Corruption("VersionEdit", "bad next file number");
        }
        next_file_number_ = number;
        break;
      case kLastSequence:
        if (!GetVarint64(&input, &number) || number > kMaxSequenceNumber) {
          return Status::Corruption("VersionEdit", "bad last sequence");
        }
        last_sequence_ = number;
        break;
      case kCompactPointer: {
        std::string key;
        if (!GetLevel(&input, &level) || !GetInternalKey(&input, &key)) {
          return Status::Corruption("VersionEdit", "bad compaction pointer");
        }
        compact_pointers_.emplace_back(level, std::move(key));
        break;
      }
      case kDeletedFile:
        if (!GetLevel(&input, &level) || !GetVarint64(&input, &number)) {
          return Status::Corruption("VersionEdit", "bad deleted file");
        }
        deleted_files_.emplace(level, number);
        break;
      case kNewFile: {
        FileMetaData f;
        Status st = DecodeNewFile(&input, &level, &f);
        if (!st.ok()) return st;
        new_files_.emplace_back(level, std::move(f));
        break;
      }
      default:
        return Status::Corruption("VersionEdit", "unknown tag " + std::to_string(tag));
    }
  }
}

std::string VersionEdit::DebugString() const {
  std::string r = "VersionEdit {";
  if (comparator_) r += "\n  Comparator: " + *comparator_;
  if (log_number_) r += "\n  LogNumber: " + std::to_string(*log_number_);
  if (next_file_number_) r += "\n  NextFile: " + std::to_string(*next_file_number_);
  if (last_sequence_) r += "\n  LastSeq: " + std::to_string(*last_sequence_);
  for (const auto& [level, key] : compact_pointers_) {
    r += "\n  CompactPointer: L" + std::to_string(level) + " " + DescribeInternalKey(key);
  }
  for (const auto& [level, number] : deleted_files_) {
    r += "\n  RemoveFile: L" + std::to_string(level) + " #" + std::to_string(number);
  }
  for (const auto& [level, f] : new_files_) {
    char stats[160];
    std::snprintf(stats, sizeof(stats),
                  " entries=%" PRIu64 " deletions=%" PRIu64 " seq=[%" PRIu64 ",%" PRIu64
                  "] index=%u (%" PRIu64 " bytes, max error %" PRIu64 ", mean error %.2f)",
                  f.num_entries, f.num_deletions, f.smallest_seqno, f.largest_seqno,
                  static_cast<unsigned>(f.index_kind), f.index_bytes, f.model_max_error,
                  f.model_mean_error);
    char filter[96];
    std::snprintf(filter, sizeof(filter), " filter=%u (%" PRIu64 " bytes, target fpr %.3g)",
                  static_cast<unsigned>(f.filter_kind), f.filter_bytes, f.filter_target_fpr);
    r += "\n  AddFile: L" + std::to_string(level) + " #" + std::to_string(f.number) + " " +
         std::to_string(f.file_size) + " bytes [" + DescribeInternalKey(f.smallest) + " .. " +
         DescribeInternalKey(f.largest) + "]" + stats + filter;
  }
  r += "\n}\n";
  return r;
}

}  // namespace learnkv
