// "key = value" text: parsing and number formatting (see kv_text.h).
#include "learned/accel/kv_text.h"

#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdlib>

namespace learnkv::accel {

namespace {

std::string Trim(const std::string& s) {
  const size_t b = s.find_first_not_of(" \t\r");
  if (b == std::string::npos) return "";
  const size_t e = s.find_last_not_of(" \t\r");
  return s.substr(b, e - b + 1);
}

}  // namespace

Status ParseKeyValueText(const std::string& text, const char* what, KeyValues* entries) {
  entries->clear();
  size_t line_no = 0;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string::npos) end = text.size();
    std::string line = text.substr(pos, end - pos);
    pos = end + 1;
    ++line_no;
    const size_t hash = line.find('#');
    if (hash != std::string::npos) line.resize(hash);
    line = Trim(line);
    if (line.empty()) continue;
    const size_t eq = line.find('=');
    const std::string key = eq == std::string::npos ? "" : Trim(line.substr(0, eq));
    if (key.empty()) {
      return Status::InvalidArgument(std::string(what) + ": expected key = value at line " +
                                     std::to_string(line_no));
    }
    entries->emplace_back(key, Trim(line.substr(eq + 1)));
  }
  return Status::OK();
}

bool ParseDouble(const std::string& s, double* v) {
  if (s.empty()) return false;
  char* end = nullptr;
  const double d = std::strtod(s.c_str(), &end);
  if (end != s.c_str() + s.size() || !std::isfinite(d)) return false;
  *v = d;
  return true;
}

bool ParseUint64(const std::string& s, uint64_t* v) {
  if (s.empty()) return false;
  const auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), *v);
  return ec == std::errc() && ptr == s.data() + s.size();
}

std::string FormatDouble(double v) {
  char buf[64];
  const auto [ptr, ec] = std::to_chars(buf, buf + sizeof(buf), v);
  return ec == std::errc() ? std::string(buf, ptr) : std::string("nan");
}

void AppendKeyValue(std::string* dst, const std::string& key, const std::string& value) {
  dst->append(key);
  dst->append(" = ");
  dst->append(value);
  dst->push_back('\n');
}

}  // namespace learnkv::accel
