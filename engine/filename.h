// The names of the files in a DB directory, as RocksDB spells them, and the atomic switch of
// CURRENT to a new MANIFEST:
//
//   000123.sst      table            000123.log   write-ahead log
//   MANIFEST-000123 version log      CURRENT      names the live MANIFEST
//   LOCK            process lock     LOG, LOG.old info log and its predecessor
//   000123.dbtmp    temporary file (CURRENT being replaced)
//   ACCEL_CALIBRATION  the simulated accelerator's CPU calibration (engine/db_accel.h)
//
// Numbers are printed with at least six digits; all file kinds share one number sequence.
//
// Thread safety: pure functions, except SetCurrentFile, which the caller serializes (it runs
// under the DB mutex or during recovery).
#ifndef LEARNKV_ENGINE_FILENAME_H_
#define LEARNKV_ENGINE_FILENAME_H_

#include <cstdint>
#include <string>

#include "learnkv/env.h"
#include "learnkv/slice.h"
#include "learnkv/status.h"

namespace learnkv {

enum class FileType {
  kWalFile,
  kLockFile,
  kTableFile,
  kManifestFile,
  kCurrentFile,
  kTempFile,
  kInfoLogFile,           // LOG and LOG.old
  kAccelCalibrationFile,  // ACCEL_CALIBRATION
};

std::string WalFileName(const std::string& dbname, uint64_t number);
std::string TableFileName(const std::string& dbname, uint64_t number);
std::string ManifestFileName(const std::string& dbname, uint64_t number);
std::string TempFileName(const std::string& dbname, uint64_t number);
std::string CurrentFileName(const std::string& dbname);
std::string LockFileName(const std::string& dbname);
std::string InfoLogFileName(const std::string& dbname);
std::string OldInfoLogFileName(const std::string& dbname);
std::string AccelCalibrationFileName(const std::string& dbname);

// Recognizes a file name within a DB directory (no directory part). Sets *number to 0 for
// files without one. Returns false for names learnkv does not own.
bool ParseFileName(const Slice& filename, uint64_t* number, FileType* type);

// Points CURRENT at MANIFEST-<manifest_number>: writes the new contents to a temporary file,
// syncs it, renames it over CURRENT and syncs the directory, so a crash leaves either the old
// or the new CURRENT. The temporary file is removed on failure.
Status SetCurrentFile(Env* env, const std::string& dbname, uint64_t manifest_number);

// Reads CURRENT and returns the MANIFEST's file name (without directory) in *manifest and its
// number in *manifest_number. Corruption if CURRENT is malformed.
Status ReadCurrentFile(Env* env, const std::string& dbname, std::string* manifest,
                       uint64_t* manifest_number);

}  // namespace learnkv

#endif  // LEARNKV_ENGINE_FILENAME_H_
