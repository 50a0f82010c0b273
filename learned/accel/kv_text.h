// The plain-text "key = value" format of device descriptions (device.h) and CPU calibration
// files (cpu_calibration.h): one entry per line, '#' starts a comment, blank lines are
// ignored, whitespace around keys and values is dropped. Doubles are written in the shortest
// form that reads back to the same value, so a saved file round-trips exactly.
//
// Thread safety: pure functions.
#ifndef LEARNKV_LEARNED_ACCEL_KV_TEXT_H_
#define LEARNKV_LEARNED_ACCEL_KV_TEXT_H_

#include <string>
#include <utility>
#include <vector>

#include "learnkv/status.h"

namespace learnkv::accel {

using KeyValues = std::vector<std::pair<std::string, std::string>>;

// Parses text into entries, in file order. InvalidArgument (naming the line) for a non-blank
// line without '=' or with an empty key; what = names the format in messages.
Status ParseKeyValueText(const std::string& text, const char* what, KeyValues* entries);

// The whole of s as a finite double (strtod syntax, so 4.8e12 and 1e-9 work); false otherwise.
bool ParseDouble(const std::string& s, double* v);
// The whole of s as an unsigned decimal integer; false otherwise.
bool ParseUint64(const std::string& s, uint64_t* v);

// Shortest round-trip decimal form of v.
std::string FormatDouble(double v);

// Appends "key = value\n".
void AppendKeyValue(std::string* dst, const std::string& key, const std::string& value);

}  // namespace learnkv::accel

#endif  // LEARNKV_LEARNED_ACCEL_KV_TEXT_H_
