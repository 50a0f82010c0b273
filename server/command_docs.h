// COMMAND DOCS's "arguments": each command's arguments in Redis 7's structure (name, type,
// token, optional/multiple flags, the nested arguments of a block or a oneof), from which
// redis-cli builds the hints it shows while a command is typed.
//
// Each command's arguments are written as one line of a compact syntax, close to the hint
// redis-cli shows, and parsed once:
//
//   key           an argument; its type follows from its name ("key", "pattern",
//                 "unix-time-*", integer names such as "seconds" or "count"; else "string")
//   NX            a token: alone in a group, a pure token; first in a group, it introduces the
//                 rest of the group (MATCH pattern: the argument "pattern" with token MATCH)
//   [ ... ]       an optional group;  ( ... )  a required one
//   a|b           alternatives in a group: a "oneof"; several words: a "block"
//   x...          x may repeat (the flag "multiple"; shown as "x [x ...]")
//   name=[ ... ]  names a group (otherwise named after its parts)
//
// Thread safety: pure functions; CommandArguments' table is built once (thread-safe static).
#ifndef LEARNKV_SERVER_COMMAND_DOCS_H_
#define LEARNKV_SERVER_COMMAND_DOCS_H_

#include <string>
#include <string_view>
#include <vector>

#include "server/reply.h"

namespace learnkv {
namespace server {

struct CommandArg {
  std::string name;
  // "key", "string", "integer", "pattern", "unix-time", "pure-token", "oneof" or "block".
  std::string type;
  std::string token;  // empty: none
  bool optional = false;
  bool multiple = false;
  std::vector<CommandArg> args;  // of a oneof or a block
};

// Parses one syntax line into *args. False if it is malformed (unbalanced brackets, an empty
// group or alternative, a stray "..." or "=").
bool ParseArgSyntax(std::string_view syntax, std::vector<CommandArg>* args);

// The hint redis-cli 7 shows for args ("key value [NX|XX] [GET] ..."), built as it builds it.
std::string RenderArgs(const std::vector<CommandArg>& args);

// The arguments of command `name` (lower case); empty for a command without arguments or
// without a syntax line (the containers CONFIG, CLIENT, COMMAND: Redis documents their
// subcommands instead).
const std::vector<CommandArg>& CommandArguments(std::string_view name);

// The "arguments" array of COMMAND DOCS: one map per argument, as Redis 7.0 writes it.
void ReplyArguments(ReplyBuilder& reply, const std::vector<CommandArg>& args);

}  // namespace server
}  // namespace learnkv

#endif  // LEARNKV_SERVER_COMMAND_DOCS_H_
