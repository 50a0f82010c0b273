#include <cctype>
#include <utility>

#include "server/command.h"

namespace learnkv {
namespace server {

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

namespace {

char Fold(char c, bool nocase) {
  return nocase ? static_cast<char>(std::tolower(static_cast<unsigned char>(c))) : c;
}

// Matches one pattern element at p[*pi] ('?', a [class], an escape or a literal) against c and
// advances *pi past it.
bool MatchOne(std::string_view p, size_t* pi, char c, bool nocase) {
  size_t i = *pi;
  const char pc = p[i];
  if (pc == '?') {
    *pi = i + 1;
    return true;
  }
  if (pc == '\\' && i + 1 < p.size()) {
    *pi = i + 2;
    return Fold(p[i + 1], nocase) == Fold(c, nocase);
  }
  if (pc != '[') {
    *pi = i + 1;
    return Fold(pc, nocase) == Fold(c, nocase);
  }
  ++i;
  const bool negate = i < p.size() && p[i] == '^';
  if (negate) ++i;
  bool match = false;
  const char fc = Fold(c, nocase);
  while (i < p.size() && p[i] != ']') {
    if (p[i] == '\\' && i + 1 < p.size()) {
      if (Fold(p[i + 1], nocase) == fc) match = true;
      i += 2;
    } else if (i + 2 < p.size() && p[i + 1] == '-') {
      unsigned char lo = static_cast<unsigned char>(Fold(p[i], nocase));
      unsigned char hi = static_cast<unsigned char>(Fold(p[i + 2], nocase));
      if (lo > hi) std::swap(lo, hi);
      const unsigned char uc = static_cast<unsigned char>(fc);
      if (uc >= lo && uc <= hi) match = true;
      i += 3;
    } else {
      if (Fold(p[i], nocase) == fc) match = true;
      ++i;
    }
  }
  *pi = i < p.size() ? i + 1 : i;  // past ']' (an unterminated class ends the pattern)
  return negate ? !match : match;
}

}  // namespace

bool GlobMatch(std::string_view p, std::string_view s, bool nocase) {
  size_t pi = 0, si = 0;
  size_t star_p = std::string_view::npos, star_s = 0;
  while (si < s.size()) {
    if (pi < p.size() && p[pi] == '*') {
      while (pi < p.size() && p[pi] == '*') ++pi;
      if (pi == p.size()) return true;
      star_p = pi;
      star_s = si;
      continue;
    }
    if (pi < p.size()) {
      size_t next = pi;
      if (MatchOne(p, &next, s[si], nocase)) {
        pi = next;
        ++si;
        continue;
      }
    }
    if (star_p == std::string_view::npos) return false;
    pi = star_p;
    si = ++star_s;
  }
  while (pi < p.size() && p[pi] == '*') ++pi;
  return pi == p.size();
}

std::string WrongArity(std::string_view name) {
  return "ERR wrong number of arguments for '" + std::string(name) + "' command";
}

std::string UnknownCommand(const std::vector<std::string>& argv) {
  std::string args;
  for (size_t i = 1; i < argv.size() && args.size() < 128; ++i) {
    args += "'" + argv[i].substr(0, 128 - args.size()) + "' ";
  }
  return "ERR unknown command '" + argv[0].substr(0, 128) + "', with args beginning with: " + args;
}

std::string UnknownSubcommand(std::string_view sub, std::string_view container) {
  std::string upper(container);
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return "ERR unknown subcommand '" + std::string(sub.substr(0, 128)) + "'. Try " + upper +
         " HELP.";
}

std::string StatusError(const Status& s) { return "ERR " + s.ToString(); }

bool ReplyIfError(CommandContext& ctx, const Status& s) {
  return !s.IsNotFound() && ReplyIfFailed(ctx, s);
}

bool ReplyIfFailed(CommandContext& ctx, const Status& s) {
  if (s.ok()) return false;
  ctx.reply.Error(StatusError(s));
  return true;
}

const CommandTable& CommandTable::Get() {
  static const CommandTable* table = new CommandTable();
  return *table;
}

CommandTable::CommandTable() {
  RegisterConnectionCommands(&specs_);
  RegisterStringCommands(&specs_);
  RegisterKeyCommands(&specs_);
  RegisterServerCommands(&specs_);
  // Transactions: routed by the connection layer (networking.cc), which queues commands
  // between MULTI and EXEC and runs them as one writer-thread group.
  specs_.push_back({"multi", 1, kCmdTxControl | kCmdFast, nullptr, 0, 0, 0, "transactions",
                    "1.2.0", "Starts a transaction."});
  specs_.push_back({"exec", 1, kCmdTxControl, nullptr, 0, 0, 0, "transactions", "1.2.0",
                    "Executes all commands in a transaction."});
  specs_.push_back({"discard", 1, kCmdTxControl | kCmdFast, nullptr, 0, 0, 0, "transactions",
                    "2.0.0", "Discards a transaction."});
  for (size_t i = 0; i < specs_.size(); ++i) index_[specs_[i].name] = i;
}

const CommandSpec* CommandTable::Find(std::string_view name) const {
  // Every command name is shorter than this; lower-casing into a stack buffer keeps the
  // lookup, done once per request, free of allocations.
  char lower[32];
  if (name.size() > sizeof(lower)) return nullptr;
  for (size_t i = 0; i < name.size(); ++i) {
    lower[i] = static_cast<char>(std::tolower(static_cast<unsigned char>(name[i])));
  }
  auto it = index_.find(std::string_view(lower, name.size()));
  return it == index_.end() ? nullptr : &specs_[it->second];
}

}  // namespace server
}  // namespace learnkv
