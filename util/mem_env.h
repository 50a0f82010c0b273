// An Env whose files live in memory: tests run without touching the disk, and a test can
// build, destroy and reopen a DB many times in milliseconds. Threads, the clock and sleeping
// are delegated to a base Env.
//
// Thread safety: the returned Env is safe for concurrent use, as every Env. Files follow the
// rules of include/learnkv/env.h.
#ifndef LEARNKV_UTIL_MEM_ENV_H_
#define LEARNKV_UTIL_MEM_ENV_H_

#include "learnkv/env.h"

namespace learnkv {

// Returns a new, empty in-memory Env. The caller owns it (wrap it in std::unique_ptr) and
// must delete it after every file and lock obtained from it. base_env (not owned, must outlive
// the result) provides StartThread, NowMicros and SleepForMicroseconds.
//
// Semantics follow POSIX where tests can tell: NewWritableFile truncates an existing file,
// removing or renaming a file leaves open handles reading the old contents, a missing file is
// NotFound, and LockFile fails with IOError while this Env already holds the lock. Directories
// need not be created before files are put in them; appended bytes are readable at once
// (there is no buffer to flush) and Sync is a no-op.
Env* NewMemEnv(Env* base_env);

}  // namespace learnkv

#endif  // LEARNKV_UTIL_MEM_ENV_H_
