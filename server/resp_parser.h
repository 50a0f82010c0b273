// RespParser: turns the bytes a client sends into commands (argument vectors). It speaks the
// two request forms Redis accepts: multibulk (`*<n>\r\n` then n `$<len>\r\n<bytes>\r\n`
// bulks, what every client library sends) and inline (one line of space-separated, optionally
// quoted words, what a human types into telnet).
//
// The parser is pure: no sockets, no server state. It keeps only the position inside the
// request being read, so bytes may arrive in pieces of any size. A bulk's bytes are moved into
// its argument as they arrive, so a client that announces a 512 MiB bulk and sends nothing
// makes the server reserve nothing. Protocol errors carry Redis's exact messages; after one
// the connection must be closed (the parser stays in its error state).
//
// It is self-contained (the standard library only) so that fuzz/resp_parser_fuzzer.cc can
// compile it into the libFuzzer build.
//
// Thread safety: a RespParser belongs to one connection and is used by one thread at a time.
// The free functions are thread-safe.
#ifndef LEARNKV_SERVER_RESP_PARSER_H_
#define LEARNKV_SERVER_RESP_PARSER_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace learnkv {
namespace server {

// Request limits (Redis's defaults).
struct RespLimits {
  // Longest bulk argument (Redis's proto-max-bulk-len). Default 512 MiB.
  int64_t max_bulk_len = 512ll << 20;
  // Longest inline request, and longest `*`/`$` header line. Default 64 KiB.
  size_t max_inline_len = 64 << 10;
  // Before authentication: at most this many arguments and bytes per argument (Redis 7.0:
  // 10 and 16 KiB).
  int64_t unauth_max_multibulk_len = 10;
  int64_t unauth_max_bulk_len = 16 << 10;
};

class RespParser {
 public:
  enum class Result {
    kNeedMore,  // every byte of the input was used (or a partial line is left); send more
    kCommand,   // *argv holds one command (at least one argument)
    kError,     // protocol error: error() says which; reply with it and close
  };

  explicit RespParser(const RespLimits& limits = RespLimits()) : limits_(limits) {}

  // Whether the unauthenticated limits apply. Default: false (authenticated).
  void set_unauthenticated(bool unauth) { unauthenticated_ = unauth; }

  // Reads from the front of *input, removing what it used. Returns kCommand with the command
  // in *argv (cleared first) as soon as one is complete; the rest of *input is untouched.
  // kNeedMore when more bytes are needed; what is left of *input then (an incomplete header
  // or inline line, at most max_inline_len bytes) must be passed again, followed by the new
  // bytes. Empty requests (`*0`, blank lines) are skipped.
  Result Parse(std::string_view* input, std::vector<std::string>* argv);

  // Takes back the arguments of a command the caller is done with (leaving *argv empty): a
  // few short ones are kept, and later commands' arguments reuse their buffers instead of
  // allocating one each (a key of 16 bytes or more does not fit a std::string's own space).
  void Recycle(std::vector<std::string>* argv);

  // The error message of the last kError, without the leading '-' or trailing CRLF, e.g.
  // "ERR Protocol error: invalid bulk length".
  const std::string& error() const { return error_; }

  // True when no request is partly read (nothing would be lost by discarding the parser).
  bool idle() const { return state_ == State::kStart; }

 private:
  enum class State { kStart, kBulkHeader, kBulkBody, kError };

  Result Fail(std::string message);
  Result ParseInline(std::string_view* input, std::vector<std::string>* argv);

  RespLimits limits_;
  bool unauthenticated_ = false;
  State state_ = State::kStart;
  int64_t args_left_ = 0;  // bulks still to read in this multibulk request
  int64_t bulk_left_ = 0;  // bytes (plus the CRLF) of the current bulk still to read
  std::vector<std::string> args_;
  std::vector<std::string> spare_;  // emptied arguments handed back by Recycle
  std::string error_;
};

// Parses a whole decimal int64 the way Redis's string2ll does: an optional '-', no '+', no
// spaces, no leading zeros, no overflow. False if `s` is not such a number.
bool ParseInt64Strict(std::string_view s, int64_t* value);

// Splits a line into words as Redis's sdssplitargs does (inline requests, config files):
// words separated by spaces; "double quotes" with \n \r \t \b \a \\ \" \xHH escapes;
// 'single quotes' with \' only. A closing quote must be followed by a space or the end.
// False on unbalanced quotes.
bool SplitArgs(std::string_view line, std::vector<std::string>* words);

}  // namespace server
}  // namespace learnkv

#endif  // LEARNKV_SERVER_RESP_PARSER_H_
