// Connection commands: PING, ECHO, QUIT, HELLO, AUTH, SELECT, CLIENT. They change only the
// client's Session (and run on its I/O thread); PING and ECHO may also run inside EXEC.
#include <cctype>

#include "server/command.h"

namespace learnkv {
namespace server {

namespace {

// Compares a password in time that depends only on the length of what the client sent.
bool TimeIndependentEqual(std::string_view given, std::string_view secret) {
  unsigned diff = given.size() != secret.size() ? 1u : 0u;
  for (size_t i = 0; i < given.size(); ++i) {
    const char s = secret.empty() ? '\0' : secret[i % secret.size()];
    diff |= static_cast<unsigned char>(given[i] ^ s);
  }
  return diff == 0;
}

// The default user's check: with no requirepass it has no password (any is accepted).
bool CheckPassword(CommandContext& ctx, std::string_view user, std::string_view pass) {
  if (user != "default") return false;
  if (!ctx.server->runtime.auth_required()) return true;
  return TimeIndependentEqual(pass, ctx.server->runtime.requirepass());
}

constexpr const char* kWrongPass =
    "WRONGPASS invalid username-password pair or user is disabled.";

// Client names: printable ASCII without spaces.
bool ValidName(std::string_view name) {
  for (char c : name) {
    if (c < '!' || c > '~') return false;
  }
  return true;
}

void PingCommand(CommandContext& ctx) {
  if (ctx.argv.size() > 2) return ctx.reply.Error(WrongArity("ping"));
  if (ctx.argv.size() == 2) {
    ctx.reply.Bulk(ctx.argv[1]);
  } else {
    ctx.reply.SimpleString("PONG");
  }
}

void EchoCommand(CommandContext& ctx) { ctx.reply.Bulk(ctx.argv[1]); }

void QuitCommand(CommandContext& ctx) {
  ctx.session->close_after_reply = true;
  ctx.reply.Ok();
}

void AuthCommand(CommandContext& ctx) {
  if (ctx.argv.size() > 3) return ctx.reply.Error(kSyntaxError);
  if (ctx.argv.size() == 2 && !ctx.server->runtime.auth_required()) {
    return ctx.reply.Error(
        "ERR AUTH <password> called without any password configured for the default user. Are "
        "you sure your configuration is correct?");
  }
  const std::string user = ctx.argv.size() == 3 ? ctx.argv[1] : "default";
  if (!CheckPassword(ctx, user, ctx.argv.back())) return ctx.reply.Error(kWrongPass);
  ctx.session->authenticated = true;
  ctx.reply.Ok();
}

void HelloCommand(CommandContext& ctx) {
  auto& argv = ctx.argv;
  int64_t version = ctx.session->protocol;
  if (argv.size() >= 2) {
    if (!ParseInt64Strict(argv[1], &version)) {
      return ctx.reply.Error("ERR Protocol version is not an integer or out of range");
    }
    if (version < 2 || version > 3) return ctx.reply.Error("NOPROTO unsupported protocol version");
  }
  const std::string* user = nullptr;
  const std::string* pass = nullptr;
  const std::string* name = nullptr;
  for (size_t j = 2; j < argv.size(); ++j) {
    const size_t more = argv.size() - j - 1;
    if (EqualsIgnoreCase(argv[j], "auth") && more >= 2) {
      user = &argv[j + 1];
      pass = &argv[j + 2];
      j += 2;
    } else if (EqualsIgnoreCase(argv[j], "setname") && more >= 1) {
      name = &argv[j + 1];
      j += 1;
    } else {
      return ctx.reply.Error("ERR Syntax error in HELLO option '" + argv[j] + "'");
    }
  }
  if (user != nullptr) {
    if (!CheckPassword(ctx, *user, *pass)) return ctx.reply.Error(kWrongPass);
    ctx.session->authenticated = true;
  }
  if (ctx.server->runtime.auth_required() && !ctx.session->authenticated) {
    return ctx.reply.Error(
        "NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO "
        "<proto> AUTH <user> <pass> option can be used to authenticate the client and select the "
        "RESP protocol version at the same time");
  }
  if (name != nullptr) {
    if (!ValidName(*name)) {
      return ctx.reply.Error(
          "ERR Client names cannot contain spaces, newlines or special characters.");
    }
    ctx.session->name = *name;
  }
  ctx.session->protocol = static_cast<int>(version);
  ReplyBuilder rb(ctx.reply.buffer(), ctx.session->protocol);  // the reply uses the new version
  rb.MapHeader(7);
  rb.Bulk("server");
  rb.Bulk("redis");
  rb.Bulk("version");
  rb.Bulk(kRedisVersion);
  rb.Bulk("proto");
  rb.Integer(version);
  rb.Bulk("id");
  rb.Integer(static_cast<int64_t>(ctx.session->id));
  rb.Bulk("mode");
  rb.Bulk("standalone");
  rb.Bulk("role");
  rb.Bulk("master");
  rb.Bulk("modules");
  rb.ArrayHeader(0);
}

void SelectCommand(CommandContext& ctx) {
  int64_t db = 0;
  if (!ParseInt64Strict(ctx.argv[1], &db)) return ctx.reply.Error(kNotInteger);
  if (db != 0) return ctx.reply.Error("ERR DB index is out of range");
  ctx.reply.Ok();
}

std::string ClientInfoLine(const Session& s, int64_t now_ms) {
  return "id=" + std::to_string(s.id) + " addr=" + s.peer + " name=" + s.name +
         " age=" + std::to_string((now_ms - s.created_ms) / 1000) + " db=0 resp=" +
         std::to_string(s.protocol) + " lib-name=" + s.lib_name + " lib-ver=" + s.lib_ver + "\n";
}

void ClientCommand(CommandContext& ctx) {
  auto& argv = ctx.argv;
  const std::string sub = Lower(argv[1]);
  auto arity = [&](size_t n) {
    if (argv.size() == n) return true;
    ctx.reply.Error(WrongArity("client|" + sub));
    return false;
  };
  Session* session = ctx.session;
  if (sub == "id") {
    if (arity(2)) ctx.reply.Integer(static_cast<int64_t>(session->id));
  } else if (sub == "getname") {
    if (!arity(2)) return;
    if (session->name.empty()) {
      ctx.reply.Null();
    } else {
      ctx.reply.Bulk(session->name);
    }
  } else if (sub == "setname") {
    if (!arity(3)) return;
    if (!ValidName(argv[2])) {
      return ctx.reply.Error(
          "ERR Client names cannot contain spaces, newlines or special characters.");
    }
    session->name = argv[2];
    ctx.reply.Ok();
  } else if (sub == "setinfo") {
    if (!arity(4)) return;
    const std::string attr = Lower(argv[2]);
    if (!ValidName(argv[3])) {
      return ctx.reply.Error("ERR " + attr +
                             " cannot contain spaces, newlines or special characters.");
    }
    if (attr == "lib-name") {
      session->lib_name = argv[3];
    } else if (attr == "lib-ver") {
      session->lib_ver = argv[3];
    } else {
      return ctx.reply.Error("ERR Unrecognized option '" + argv[2] + "'");
    }
    ctx.reply.Ok();
  } else if (sub == "info") {
    if (arity(2)) ctx.reply.Verbatim(ClientInfoLine(*session, NowMs()));
  } else if (sub == "no-evict" || sub == "no-touch") {
    if (!arity(3)) return;
    if (!EqualsIgnoreCase(argv[2], "on") && !EqualsIgnoreCase(argv[2], "off")) {
      return ctx.reply.Error(kSyntaxError);
    }
    ctx.reply.Ok();
  } else if (sub == "help") {
    static const char* const kHelp[] = {
        "CLIENT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "GETNAME", "    Return the name of the current connection.",
        "ID", "    Return the ID of the current connection.",
        "INFO", "    Return information about the current client connection.",
        "SETNAME <name>", "    Assign the name <name> to the current connection.",
        "SETINFO <LIB-NAME|LIB-VER> <value>", "    Set client meta attr.",
        "HELP", "    Print this help."};
    ctx.reply.ArrayHeader(std::size(kHelp));
    for (const char* line : kHelp) ctx.reply.SimpleString(line);
  } else {
    ctx.reply.Error(UnknownSubcommand(argv[1], "client"));
  }
}

}  // namespace

void RegisterConnectionCommands(std::vector<CommandSpec>* specs) {
  const uint32_t conn = kCmdFast | kCmdNoMulti;
  specs->insert(specs->end(), {
    {"ping", -1, kCmdFast, PingCommand, 0, 0, 0, "connection", "1.0.0",
     "Returns the server's liveliness response."},
    {"echo", 2, kCmdFast, EchoCommand, 0, 0, 0, "connection", "1.0.0",
     "Returns the given string."},
    {"quit", -1, kCmdFast | kCmdNoAuth | kCmdNoQueue, QuitCommand, 0, 0, 0, "connection",
     "1.0.0", "Closes the connection."},
    {"hello", -1, conn | kCmdNoAuth, HelloCommand, 0, 0, 0, "connection", "6.0.0",
     "Handshakes with the Redis server."},
    {"auth", -2, conn | kCmdNoAuth, AuthCommand, 0, 0, 0, "connection", "1.0.0",
     "Authenticates the connection."},
    {"select", 2, conn, SelectCommand, 0, 0, 0, "connection", "1.0.0",
     "Changes the selected database."},
    {"client", -2, kCmdNoMulti, ClientCommand, 0, 0, 0, "connection", "2.4.0",
     "A container for client connection commands."},
  });
}

}  // namespace server
}  // namespace learnkv
