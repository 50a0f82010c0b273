// Helpers shared by the GoogleTest programs: scratch directories and random data.
//
// Thread safety: functions are safe to call from any test thread.
#ifndef LEARNKV_TESTS_SUPPORT_TEST_UTIL_H_
#define LEARNKV_TESTS_SUPPORT_TEST_UTIL_H_

#include <string>

namespace learnkv::test {

// A fresh, empty directory for this test (under $LEARNKV_TEST_TMPDIR, else /tmp), unique per
// process and call. Not removed afterwards, so a failing test leaves its files to inspect.
std::string NewTempDir(const std::string& name);

// Directory holding the built binaries (build/bin), for tests that start real processes.
std::string BinaryDir();

}  // namespace learnkv::test

#endif  // LEARNKV_TESTS_SUPPORT_TEST_UTIL_H_
