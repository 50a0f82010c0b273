// The command table: every command's name, arity, flags and handler, as in Redis's
// commands table, plus what COMMAND INFO / DOCS report. Handlers are grouped by kind in
// string_commands.cc, key_commands.cc, connection_commands.cc and server_commands.cc; each
// group adds its entries through a Register*Commands function.
//
// Where a handler runs is decided by its flags (networking.cc does the routing):
//   kCmdWrite    the writer thread, with a WriteView (atomic read-modify-write, group commit)
//   kCmdBlocking a worker thread, with a ReadView (iterations over the DB)
//   otherwise    the client's I/O thread, with a ReadView (kCmdRead) or no keyspace
// A handler touches only its CommandContext: the arguments, the reply, the keyspace view, the
// session (null off the I/O thread) and the shared ServerContext.
//
// Thread safety: the table is built once and then read-only. Handlers may run on any thread
// allowed by their flags, concurrently with other handlers.
#ifndef LEARNKV_SERVER_COMMAND_H_
#define LEARNKV_SERVER_COMMAND_H_

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "server/keyspace.h"
#include "server/reply.h"
#include "server/server_context.h"

namespace learnkv {
namespace server {

struct CommandContext {
  std::vector<std::string>& argv;  // argv[0] is the command name as sent
  ReplyBuilder& reply;
  Keyspace* keys;        // null for commands without kCmdRead/kCmdWrite/kCmdBlocking
  Session* session;      // null on the writer and worker threads
  ServerContext* server;
};

using CommandHandler = void (*)(CommandContext& ctx);

enum CommandFlag : uint32_t {
  kCmdWrite = 1u << 0,      // changes keys
  kCmdRead = 1u << 1,       // reads keys
  kCmdBlocking = 1u << 2,   // iterates the DB: off the I/O thread
  kCmdNoAuth = 1u << 3,     // allowed before authentication
  kCmdNoMulti = 1u << 4,    // refused inside MULTI
  kCmdFast = 1u << 5,       // O(1) (reported only)
  kCmdAdmin = 1u << 6,      // reported only
  kCmdTxControl = 1u << 7,  // MULTI, EXEC, DISCARD: handled by the connection layer
  kCmdNoQueue = 1u << 8,    // runs at once even inside MULTI (QUIT)
  kCmdNoInline = 1u << 9,   // a write too long to run on an I/O thread (FLUSHDB)
};

// Redis's version as HELLO and INFO report it (clients enable features by it).
inline constexpr const char* kRedisVersion = "7.0.0";

struct CommandSpec {
  const char* name;  // lower case
  int arity;         // Redis's: n exactly, or -n for at least n (the name counts)
  uint32_t flags;
  CommandHandler handler;
  int first_key, last_key, key_step;  // COMMAND INFO's key positions
  const char* group;                  // COMMAND DOCS: "string", "generic", ...
  const char* since;
  const char* summary;
};

class CommandTable {
 public:
  // The table of every command (built on first use).
  static const CommandTable& Get();

  // Case-insensitive; null if unknown.
  const CommandSpec* Find(std::string_view name) const;
  const std::vector<CommandSpec>& all() const { return specs_; }

 private:
  CommandTable();

  // Lets Find look a name up by string_view: no std::string built per command.
  struct NameHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>()(s); }
  };

  std::vector<CommandSpec> specs_;
  std::unordered_map<std::string, size_t, NameHash, std::equal_to<>> index_;
};

// Whether argc satisfies arity.
inline bool ArityOk(int arity, size_t argc) {
  return arity >= 0 ? argc == static_cast<size_t>(arity) : argc >= static_cast<size_t>(-arity);
}

// Error helpers with Redis's messages.
std::string WrongArity(std::string_view name);  // "ERR wrong number of arguments for '...' command"
std::string UnknownCommand(const std::vector<std::string>& argv);
std::string UnknownSubcommand(std::string_view sub, std::string_view container);
inline constexpr const char* kSyntaxError = "ERR syntax error";
inline constexpr const char* kNotInteger = "ERR value is not an integer or out of range";
inline constexpr const char* kNoAuth = "NOAUTH Authentication required.";

std::string Lower(std::string_view s);
// Redis's glob: '*', '?', '[abc]', '[^a-z]', '\\' escapes. nocase compares ASCII letters
// case-insensitively (CONFIG GET).
bool GlobMatch(std::string_view pattern, std::string_view s, bool nocase = false);
bool EqualsIgnoreCase(std::string_view a, std::string_view b);
// The reply to a failed DB operation.
std::string StatusError(const Status& s);
// Replies with StatusError(s) and returns true if s is neither OK nor NotFound.
bool ReplyIfError(CommandContext& ctx, const Status& s);
// Replies with StatusError(s) and returns true if s is not OK (for writes, where NotFound is
// an error too).
bool ReplyIfFailed(CommandContext& ctx, const Status& s);

void RegisterStringCommands(std::vector<CommandSpec>* specs);
void RegisterKeyCommands(std::vector<CommandSpec>* specs);
void RegisterConnectionCommands(std::vector<CommandSpec>* specs);
void RegisterServerCommands(std::vector<CommandSpec>* specs);

}  // namespace server
}  // namespace learnkv

#endif  // LEARNKV_SERVER_COMMAND_H_
