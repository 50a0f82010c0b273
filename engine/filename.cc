#include "engine/filename.h"

#include <cinttypes>
#include <cstdio>
#include <limits>
#include <utility>

namespace learnkv {

namespace {

std::string NumberedName(const std::string& dbname, uint64_t number, const char* suffix) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "/%06" PRIu64 ".%s", number, suffix);
  return dbname + buf;
}

// Consumes the leading decimal digits of *in into *value. False if there are none or the
// number does not fit in 64 bits.
bool ConsumeNumber(Slice* in, uint64_t* value) {
  constexpr uint64_t kMax = std::numeric_limits<uint64_t>::max();
  uint64_t v = 0;
  size_t digits = 0;
  while (digits < in->size() && (*in)[digits] >= '0' && (*in)[digits] <= '9') {
    const uint64_t d = (*in)[digits] - '0';
    if (v > (kMax - d) / 10) return false;
    v = v * 10 + d;
    ++digits;
  }
  if (digits == 0) return false;
  in->remove_prefix(digits);
  *value = v;
  return true;
}

}  // namespace

std::string WalFileName(const std::string& dbname, uint64_t number) {
  return NumberedName(dbname, number, "log");
}

std::string TableFileName(const std::string& dbname, uint64_t number) {
  return NumberedName(dbname, number, "sst");
}

std::string TempFileName(const std::string& dbname, uint64_t number) {
  return NumberedName(dbname, number, "dbtmp");
}

std::string ManifestFileName(const std::string& dbname, uint64_t number) {
  char buf[40];
  std::snprintf(buf, sizeof(buf), "/MANIFEST-%06" PRIu64, number);
  return dbname + buf;
}

std::string CurrentFileName(const std::string& dbname) { return dbname + "/CURRENT"; }
std::string LockFileName(const std::string& dbname) { return dbname + "/LOCK"; }
std::string InfoLogFileName(const std::string& dbname) { return dbname + "/LOG"; }
std::string OldInfoLogFileName(const std::string& dbname) { return dbname + "/LOG.old"; }
std::string AccelCalibrationFileName(const std::string& dbname) {
  return dbname + "/ACCEL_CALIBRATION";
}

bool ParseFileName(const Slice& filename, uint64_t* number, FileType* type) {
  Slice rest = filename;
  if (rest == "CURRENT") {
    *number = 0;
    *type = FileType::kCurrentFile;
    return true;
  }
  if (rest == "LOCK") {
    *number = 0;
    *type = FileType::kLockFile;
    return true;
  }
  if (rest == "LOG" || rest == "LOG.old") {
    *number = 0;
    *type = FileType::kInfoLogFile;
    return true;
  }
  if (rest == "ACCEL_CALIBRATION") {
    *number = 0;
    *type = FileType::kAccelCalibrationFile;
    return true;
  }
  uint64_t num;
  if (rest.starts_with("MANIFEST-")) {
    rest.remove_prefix(9);
    if (!ConsumeNumber(&rest, &num) || !rest.empty()) return false;
    *number = num;
    *type = FileType::kManifestFile;
    return true;
  }
  if (!ConsumeNumber(&rest, &num)) return false;
  FileType t;
  if (rest == ".sst") {
    t = FileType::kTableFile;
  } else if (rest == ".log") {
    t = FileType::kWalFile;
  } else if (rest == ".dbtmp") {
    t = FileType::kTempFile;
  } else {
    return false;
  }
  *number = num;
  *type = t;
  return true;
}

Status SetCurrentFile(Env* env, const std::string& dbname, uint64_t manifest_number) {
  std::string contents = ManifestFileName(dbname, manifest_number);
  contents.erase(0, dbname.size() + 1);  // CURRENT names the file relative to the directory
  contents.push_back('\n');
  const std::string tmp = TempFileName(dbname, manifest_number);
  Status s = WriteStringToFile(env, contents, tmp, /*sync=*/true);
  if (s.ok()) s = env->RenameFile(tmp, CurrentFileName(dbname));
  if (s.ok()) {
    s = env->SyncDir(dbname);
  } else {
    env->RemoveFile(tmp);  // best effort; the original error is what matters
  }
  return s;
}

Status ReadCurrentFile(Env* env, const std::string& dbname, std::string* manifest,
                       uint64_t* manifest_number) {
  std::string contents;
  Status s = ReadFileToString(env, CurrentFileName(dbname), &contents);
  if (!s.ok()) return s;
  // A CURRENT without its newline was cut short (or hand-edited): do not guess.
  if (contents.empty() || contents.back() != '\n') {
    return Status::Corruption(CurrentFileName(dbname), "does not end with a newline");
  }
  contents.pop_back();
  uint64_t number;
  FileType type;
  if (!ParseFileName(contents, &number, &type) || type != FileType::kManifestFile) {
    return Status::Corruption(CurrentFileName(dbname), "does not name a MANIFEST");
  }
  *manifest = std::move(contents);
  *manifest_number = number;
  return Status::OK();
}

}  // namespace learnkv
