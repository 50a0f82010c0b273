// libFuzzer target for the RESP request parser (server/resp_parser.h). The parser is
// self-contained, so its source is compiled in here (the fuzz build links only util, learned
// and sstable). On arbitrary bytes it must never crash, never hold more argument bytes than it
// was given, and give the same commands and the same error whether the bytes arrive at once or
// in pieces (the first input byte picks the piece size and the before-AUTH limits), and
// whether or not each command's arguments are handed back to it (RespParser::Recycle, as the
// server does) for later commands to reuse.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "server/resp_parser.cc"  // NOLINT: compiled into the target on purpose

namespace {

using learnkv::server::RespParser;

struct Outcome {
  std::vector<std::vector<std::string>> commands;
  bool error = false;
  std::string message;
};

Outcome Run(std::string_view input, size_t step, bool unauth, bool recycle) {
  RespParser parser;
  parser.set_unauthenticated(unauth);
  Outcome out;
  std::string buffer;
  size_t held_bytes = 0;
  std::vector<std::string> kept;  // with recycle: one argv, handed back after each command
  for (size_t pos = 0; pos < input.size() && !out.error; pos += step) {
    buffer.append(input.substr(pos, step));
    std::string_view view(buffer);
    while (true) {
      std::vector<std::string> fresh;
      std::vector<std::string>& argv = recycle ? kept : fresh;
      const size_t before = view.size();
      const RespParser::Result r = parser.Parse(&view, &argv);
      if (view.size() > before) abort();
      if (r == RespParser::Result::kCommand) {
        if (argv.empty()) abort();
        for (const std::string& a : argv) held_bytes += a.size();
        out.commands.push_back(argv);
        if (recycle) parser.Recycle(&argv);
        continue;
      }
      if (r == RespParser::Result::kError) {
        out.error = true;
        out.message = parser.error();
        if (out.message.rfind("ERR Protocol error: ", 0) != 0) abort();
      }
      break;
    }
    buffer.erase(0, buffer.size() - view.size());
  }
  if (held_bytes > input.size()) abort();
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const uint8_t mode = data[0];
  std::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);
  const bool unauth = (mode & 0x80) != 0;
  const size_t step = 1 + (mode & 0x7F);
  const Outcome whole = Run(input, input.size() + 1, unauth, /*recycle=*/false);
  const Outcome pieces = Run(input, step, unauth, /*recycle=*/false);
  const Outcome recycled = Run(input, step, unauth, /*recycle=*/true);
  if (recycled.error != pieces.error || recycled.message != pieces.message) abort();
  if (recycled.commands != pieces.commands) abort();
  // Longer inputs may legitimately differ: Redis (and this parser) reject a header or inline
  // line only once more than 64 KiB are buffered without its end.
  if (input.size() > learnkv::server::RespLimits().max_inline_len) return 0;
  if (whole.error != pieces.error || whole.message != pieces.message) abort();
  if (whole.commands != pieces.commands) abort();
  std::vector<std::string> words;
  learnkv::server::SplitArgs(input, &words);
  return 0;
}
