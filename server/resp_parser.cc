// The request parser. State machine of one request:
//
//   kStart ──'*'──> read "*<n>\r\n" ──n>0──> kBulkHeader ──"$<len>\r\n"──> kBulkBody ─┐
//     │                                          ^                                      │
//     └─other──> one inline line (up to '\n')    └────── more bulks ────────────────────┘
//
// Redis's checks are reproduced in its order, with its messages (networking.c,
// processMultibulkBuffer / processInlineBuffer): a header line is looked for up to its '\r'
// and the byte after it is assumed to be '\n'; the two bytes after a bulk are skipped
// unchecked.
#include "server/resp_parser.h"

#include <algorithm>
#include <climits>
#include <cstring>
#include <utility>

namespace learnkv {
namespace server {

namespace {

bool IsSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

bool ParseInt64Strict(std::string_view s, int64_t* value) {
  if (s.empty() || s.size() > 20) return false;
  if (s.size() == 1 && s[0] == '0') {
    *value = 0;
    return true;
  }
  size_t i = 0;
  bool negative = false;
  if (s[0] == '-') {
    negative = true;
    i = 1;
    if (s.size() == 1) return false;
  }
  if (s[i] < '1' || s[i] > '9') return false;
  uint64_t v = 0;
  for (; i < s.size(); ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    const uint64_t digit = static_cast<uint64_t>(s[i] - '0');
    if (v > (UINT64_MAX - digit) / 10) return false;
    v = v * 10 + digit;
  }
  if (negative) {
    if (v > static_cast<uint64_t>(INT64_MAX) + 1) return false;
    *value = v == static_cast<uint64_t>(INT64_MAX) + 1 ? INT64_MIN : -static_cast<int64_t>(v);
  } else {
    if (v > static_cast<uint64_t>(INT64_MAX)) return false;
    *value = static_cast<int64_t>(v);
  }
  return true;
}

bool SplitArgs(std::string_view line, std::vector<std::string>* words) {
  words->clear();
  // As in C, a NUL byte ends the line.
  const size_t nul = line.find('\0');
  if (nul != std::string_view::npos) line = line.substr(0, nul);
  size_t p = 0;
  const size_t n = line.size();
  auto at = [&](size_t i) { return i < n ? line[i] : '\0'; };
  while (true) {
    while (p < n && IsSpace(line[p])) ++p;
    if (p >= n) return true;
    bool in_double = false, in_single = false, done = false;
    std::string current;
    while (!done) {
      const char c = at(p);
      if (in_double) {
        if (c == '\\' && at(p + 1) == 'x' && HexValue(at(p + 2)) >= 0 && HexValue(at(p + 3)) >= 0) {
          current.push_back(static_cast<char>(HexValue(at(p + 2)) * 16 + HexValue(at(p + 3))));
          p += 3;
        } else if (c == '\\' && at(p + 1) != '\0') {
          ++p;
          switch (line[p]) {
            case 'n': current.push_back('\n'); break;
            case 'r': current.push_back('\r'); break;
            case 't': current.push_back('\t'); break;
            case 'b': current.push_back('\b'); break;
            case 'a': current.push_back('\a'); break;
            default: current.push_back(line[p]); break;
          }
        } else if (c == '"') {
          // The closing quote must be followed by a space or nothing at all.
          if (at(p + 1) != '\0' && !IsSpace(at(p + 1))) return false;
          done = true;
        } else if (c == '\0') {
          return false;  // unterminated quotes
        } else {
          current.push_back(c);
        }
      } else if (in_single) {
        if (c == '\\' && at(p + 1) == '\'') {
          ++p;
          current.push_back('\'');
        } else if (c == '\'') {
          if (at(p + 1) != '\0' && !IsSpace(at(p + 1))) return false;
          done = true;
        } else if (c == '\0') {
          return false;
        } else {
          current.push_back(c);
        }
      } else {
        switch (c) {
          case ' ': case '\n': case '\r': case '\t': case '\0': done = true; break;
          case '"': in_double = true; break;
          case '\'': in_single = true; break;
          default: current.push_back(c); break;
        }
      }
      if (p < n) ++p;
    }
    words->push_back(std::move(current));
  }
}

void RespParser::Recycle(std::vector<std::string>* argv) {
  // Bounded so that a client's spare buffers stay within about 2 KiB: commands this small
  // (GET, SET of short values, pipelined by the thousand) are where an allocation per
  // argument shows; a large argument's allocation is small next to its bytes.
  constexpr size_t kMaxSpareArgs = 8;
  constexpr size_t kMaxSpareBytes = 256;
  for (std::string& arg : *argv) {
    if (spare_.size() >= kMaxSpareArgs) break;
    // Only heap buffers are worth keeping; short strings live inside the object anyway.
    if (arg.capacity() > kMaxSpareBytes || arg.capacity() <= std::string().capacity()) continue;
    arg.clear();
    spare_.push_back(std::move(arg));
  }
  argv->clear();
}

RespParser::Result RespParser::Fail(std::string message) {
  state_ = State::kError;
  error_ = "ERR Protocol error: " + std::move(message);
  args_.clear();
  return Result::kError;
}

RespParser::Result RespParser::ParseInline(std::string_view* input,
                                           std::vector<std::string>* argv) {
  const size_t newline = input->find('\n');
  if (newline == std::string_view::npos) {
    if (input->size() > limits_.max_inline_len) return Fail("too big inline request");
    return Result::kNeedMore;
  }
  std::string_view line = input->substr(0, newline);
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  if (!SplitArgs(line, argv)) return Fail("unbalanced quotes in request");
  input->remove_prefix(newline + 1);
  return argv->empty() ? Result::kNeedMore : Result::kCommand;  // kNeedMore: blank line
}

RespParser::Result RespParser::Parse(std::string_view* input, std::vector<std::string>* argv) {
  argv->clear();
  while (true) {
    switch (state_) {
      case State::kError:
        return Result::kError;

      case State::kStart: {
        if (input->empty()) return Result::kNeedMore;
        if ((*input)[0] != '*') {
          const size_t before = input->size();
          const Result r = ParseInline(input, argv);
          if (r == Result::kNeedMore && input->size() < before) continue;  // a blank line
          return r;
        }
        const size_t cr = input->find('\r');
        if (cr == std::string_view::npos) {
          if (input->size() > limits_.max_inline_len) return Fail("too big mbulk count string");
          return Result::kNeedMore;
        }
        if (cr + 2 > input->size()) return Result::kNeedMore;  // the '\n' is still missing
        int64_t count = 0;
        if (!ParseInt64Strict(input->substr(1, cr - 1), &count) || count > INT_MAX) {
          return Fail("invalid multibulk length");
        }
        if (unauthenticated_ && count > limits_.unauth_max_multibulk_len) {
          return Fail("unauthenticated multibulk length");
        }
        input->remove_prefix(cr + 2);
        if (count <= 0) continue;  // an empty request
        args_.clear();
        args_.reserve(static_cast<size_t>(std::min<int64_t>(count, 1024)));
        args_left_ = count;
        state_ = State::kBulkHeader;
        break;
      }

      case State::kBulkHeader: {
        const size_t cr = input->find('\r');
        if (cr == std::string_view::npos) {
          if (input->size() > limits_.max_inline_len) return Fail("too big bulk count string");
          return Result::kNeedMore;
        }
        if (cr + 2 > input->size()) return Result::kNeedMore;
        if ((*input)[0] != '$') {
          return Fail(std::string("expected '$', got '") + (*input)[0] + "'");
        }
        int64_t len = 0;
        if (!ParseInt64Strict(input->substr(1, cr - 1), &len) || len < 0 ||
            len > limits_.max_bulk_len) {
          return Fail("invalid bulk length");
        }
        if (unauthenticated_ && len > limits_.unauth_max_bulk_len) {
          return Fail("unauthenticated bulk length");
        }
        input->remove_prefix(cr + 2);
        if (spare_.empty()) {
          args_.emplace_back();
        } else {
          args_.push_back(std::move(spare_.back()));
          spare_.pop_back();
        }
        if (static_cast<int64_t>(input->size()) >= len + 2) {
          // The whole bulk and its CRLF are here (the usual case): take it in one step.
          args_.back().assign(input->data(), static_cast<size_t>(len));
          input->remove_prefix(static_cast<size_t>(len) + 2);
          if (--args_left_ > 0) break;
          state_ = State::kStart;
          argv->swap(args_);
          args_.clear();
          return Result::kCommand;
        }
        // Reserve only what has arrived: memory follows the bytes, not the announcement.
        args_.back().reserve(static_cast<size_t>(std::min<int64_t>(len, input->size())));
        bulk_left_ = len + 2;
        state_ = State::kBulkBody;
        break;
      }

      case State::kBulkBody: {
        if (input->empty()) return Result::kNeedMore;
        if (bulk_left_ > 2) {
          const size_t take = static_cast<size_t>(std::min<int64_t>(bulk_left_ - 2, input->size()));
          args_.back().append(input->data(), take);
          input->remove_prefix(take);
          bulk_left_ -= static_cast<int64_t>(take);
          if (input->empty()) return Result::kNeedMore;
        }
        // The trailing CRLF: skipped, not checked (as Redis does).
        const size_t skip = static_cast<size_t>(std::min<int64_t>(bulk_left_, input->size()));
        input->remove_prefix(skip);
        bulk_left_ -= static_cast<int64_t>(skip);
        if (bulk_left_ > 0) return Result::kNeedMore;
        if (--args_left_ > 0) {
          state_ = State::kBulkHeader;
          break;
        }
        state_ = State::kStart;
        argv->swap(args_);
        args_.clear();
        return Result::kCommand;
      }
    }
  }
}

}  // namespace server
}  // namespace learnkv
