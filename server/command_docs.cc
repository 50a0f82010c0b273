#include "server/command_docs.h"

#include <cctype>
#include <map>
#include <utility>

namespace learnkv {
namespace server {

namespace {

// Each command's arguments in the syntax of command_docs.h, as Redis 7.0 documents them
// (group names too), limited to what the handlers accept.
const std::pair<const char*, const char*> kSyntax[] = {
    // connection
    {"ping", "[message]"},
    {"echo", "message"},
    {"hello", "arguments=[protover [AUTH username password] [SETNAME clientname]]"},
    {"auth", "[username] password"},
    {"select", "index"},
    // generic
    {"del", "key..."},
    {"unlink", "key..."},
    {"exists", "key..."},
    {"type", "key"},
    {"expire", "key seconds condition=[NX|XX|GT|LT]"},
    {"pexpire", "key milliseconds condition=[NX|XX|GT|LT]"},
    {"expireat", "key unix-time-seconds condition=[NX|XX|GT|LT]"},
    {"pexpireat", "key unix-time-milliseconds condition=[NX|XX|GT|LT]"},
    {"ttl", "key"},
    {"pttl", "key"},
    {"persist", "key"},
    {"scan", "cursor [MATCH pattern] [COUNT count] [TYPE type]"},
    {"keys", "pattern"},
    // server
    {"flushdb", "flush-type=[ASYNC|SYNC]"},
    {"flushall", "flush-type=[ASYNC|SYNC]"},
    {"info", "[section...]"},
    {"shutdown", "nosave-save=[NOSAVE|SAVE] [NOW] [FORCE] [ABORT]"},
    // string
    {"get", "key"},
    {"set",
     "key value condition=[NX|XX] [GET] expiration=[EX seconds|PX milliseconds|"
     "EXAT unix-time-seconds|PXAT unix-time-milliseconds|KEEPTTL]"},
    {"setnx", "key value"},
    {"setex", "key seconds value"},
    {"psetex", "key milliseconds value"},
    {"getset", "key value"},
    {"getdel", "key"},
    {"mget", "key..."},
    {"mset", "data=(key value)..."},
    {"strlen", "key"},
    {"append", "key value"},
    {"incr", "key"},
    {"decr", "key"},
    {"incrby", "key increment"},
    {"decrby", "key decrement"},
};

// The type Redis gives an argument of this name.
std::string TypeOf(const std::string& name) {
  if (name == "key" || name == "pattern") return name;
  if (name.rfind("unix-time", 0) == 0) return "unix-time";
  static const char* const kIntegers[] = {"seconds", "milliseconds", "increment", "decrement",
                                          "cursor",  "count",        "index",     "protover"};
  for (const char* n : kIntegers) {
    if (name == n) return "integer";
  }
  return "string";
}

bool IsTokenWord(std::string_view w) {
  bool upper = false;
  for (char c : w) {
    if (std::islower(static_cast<unsigned char>(c))) return false;
    if (std::isupper(static_cast<unsigned char>(c))) upper = true;
  }
  return upper;
}

std::string JoinNames(const std::vector<CommandArg>& args) {
  std::string out;
  for (const CommandArg& a : args) out += (out.empty() ? "" : "_") + a.name;
  return out;
}

CommandArg Block(std::vector<CommandArg> items) {
  CommandArg b;
  b.name = JoinNames(items);
  b.type = "block";
  b.args = std::move(items);
  return b;
}

// The one argument a group's sequence stands for: a leading token introduces the rest.
CommandArg FromSequence(std::vector<CommandArg> items) {
  if (items.size() >= 2 && items[0].type == "pure-token" && !items[0].optional &&
      !items[0].multiple) {
    const std::string token = items[0].token;
    items.erase(items.begin());
    CommandArg a = items.size() == 1 && items[0].token.empty() ? std::move(items[0])
                                                                : Block(std::move(items));
    a.token = token;
    return a;
  }
  if (items.size() == 1) return std::move(items[0]);
  return Block(std::move(items));
}

class SyntaxParser {
 public:
  explicit SyntaxParser(std::string_view s) : s_(s) {}

  bool Parse(std::vector<CommandArg>* args) {
    args->clear();
    if (!Sequence(args)) return false;
    SkipSpaces();
    return pos_ == s_.size();  // a '|' or a closing bracket at the top level is an error
  }

 private:
  void SkipSpaces() {
    while (pos_ < s_.size() && s_[pos_] == ' ') ++pos_;
  }
  bool At(char c) const { return pos_ < s_.size() && s_[pos_] == c; }
  bool AtEnd() const { return pos_ == s_.size(); }

  // Items up to a '|', a closing bracket or the end.
  bool Sequence(std::vector<CommandArg>* items) {
    while (true) {
      SkipSpaces();
      if (AtEnd() || At('|') || At(']') || At(')')) return true;
      CommandArg item;
      if (!Item(&item)) return false;
      items->push_back(std::move(item));
    }
  }

  // Non-empty sequences separated by '|'.
  bool Alternatives(std::vector<std::vector<CommandArg>>* alts) {
    while (true) {
      std::vector<CommandArg> items;
      if (!Sequence(&items) || items.empty()) return false;
      alts->push_back(std::move(items));
      if (!At('|')) return true;
      ++pos_;
    }
  }

  bool Item(CommandArg* arg) {
    const size_t start = pos_;
    while (!AtEnd() && std::string_view(" []()|").find(s_[pos_]) == std::string_view::npos) {
      ++pos_;
    }
    std::string word(s_.substr(start, pos_ - start));
    if (!word.empty() && word.back() == '=') {  // a group's name
      word.pop_back();
      if (word.empty() || !(At('[') || At('('))) return false;
    }
    if (At('[') || At('(')) {
      if (word.find_first_of("=.") != std::string::npos || IsTokenWord(word)) return false;
      const char open = s_[pos_++];
      std::vector<std::vector<CommandArg>> alts;
      if (!Alternatives(&alts) || !At(open == '[' ? ']' : ')')) return false;
      ++pos_;
      if (alts.size() == 1) {
        *arg = FromSequence(std::move(alts[0]));
      } else {
        arg->type = "oneof";
        for (auto& alt : alts) arg->args.push_back(FromSequence(std::move(alt)));
        arg->name = JoinNames(arg->args);
      }
      if (!word.empty()) arg->name = word;
      arg->optional = arg->optional || open == '[';
      if (s_.substr(pos_, 3) == "...") {
        pos_ += 3;
        arg->multiple = true;
      }
      return true;
    }
    if (word.size() > 3 && word.compare(word.size() - 3, 3, "...") == 0) {
      word.resize(word.size() - 3);
      arg->multiple = true;
    }
    if (word.empty() || word.find_first_of("=.") != std::string::npos) return false;
    if (IsTokenWord(word)) {
      arg->type = "pure-token";
      arg->token = word;
      for (char& c : word) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      arg->name = word;
    } else {
      arg->type = TypeOf(word);
      arg->name = word;
    }
    return true;
  }

  std::string_view s_;
  size_t pos_ = 0;
};

std::string RenderArg(const CommandArg& a) {
  std::string repeat;
  if (a.type == "oneof" || a.type == "block") {
    for (const CommandArg& sub : a.args) {
      if (!repeat.empty()) repeat += a.type == "oneof" ? "|" : " ";
      repeat += RenderArg(sub);
    }
  } else if (a.type != "pure-token") {
    repeat = a.name;
  }
  std::string token = a.token;
  if (!token.empty() && a.type != "pure-token") token += " ";
  std::string out = token + repeat;
  if (a.multiple) out += " [" + repeat + " ...]";
  return a.optional ? "[" + out + "]" : out;
}

}  // namespace

bool ParseArgSyntax(std::string_view syntax, std::vector<CommandArg>* args) {
  return SyntaxParser(syntax).Parse(args);
}

std::string RenderArgs(const std::vector<CommandArg>& args) {
  std::string out;
  for (const CommandArg& a : args) out += (out.empty() ? "" : " ") + RenderArg(a);
  return out;
}

const std::vector<CommandArg>& CommandArguments(std::string_view name) {
  using Table = std::map<std::string, std::vector<CommandArg>, std::less<>>;
  static const Table* const table = [] {
    auto* t = new Table();
    for (const auto& [command, syntax] : kSyntax) {
      // The lines are fixed and a unit test parses every one, so a failure here is a bug
      // caught before release; it would only leave the command without hints.
      if (!ParseArgSyntax(syntax, &(*t)[command])) t->erase(command);
    }
    return t;
  }();
  static const std::vector<CommandArg> kNone;
  auto it = table->find(name);
  return it == table->end() ? kNone : it->second;
}

void ReplyArguments(ReplyBuilder& reply, const std::vector<CommandArg>& args) {
  reply.ArrayHeader(args.size());
  for (const CommandArg& a : args) {
    const bool nested = a.type == "oneof" || a.type == "block";
    const size_t flags = (a.optional ? 1 : 0) + (a.multiple ? 1 : 0);
    reply.MapHeader(2 + (a.token.empty() ? 0 : 1) + (flags > 0 ? 1 : 0) + (nested ? 1 : 0));
    reply.Bulk("name");
    reply.Bulk(a.name);
    reply.Bulk("type");
    reply.Bulk(a.type);
    if (!a.token.empty()) {
      reply.Bulk("token");
      reply.Bulk(a.token);
    }
    if (flags > 0) {
      // Simple strings, as Redis sends them (redis-cli asserts the type).
      reply.Bulk("flags");
      reply.SetHeader(flags);
      if (a.optional) reply.SimpleString("optional");
      if (a.multiple) reply.SimpleString("multiple");
    }
    if (nested) {
      reply.Bulk("arguments");
      ReplyArguments(reply, a.args);
    }
  }
}

}  // namespace server
}  // namespace learnkv
