// Server commands: INFO, CONFIG, COMMAND, SHUTDOWN, TIME. They run on the client's I/O thread
// and read the ServerContext (statistics, settings, the DB's properties).
#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <sstream>

#include "server/command.h"
#include "server/command_docs.h"

namespace learnkv {
namespace server {

namespace {

// An INFO field name made of `name`: lower-case letters, digits and single '_' (INFO lines
// are "field:value", and clients split them at the first ':').
std::string InfoFieldName(std::string_view name) {
  std::string out;
  for (char c : name) {
    const unsigned char u = static_cast<unsigned char>(c);
    if (std::isalnum(u)) {
      out.push_back(static_cast<char>(std::tolower(u)));
    } else if (!out.empty() && out.back() != '_') {
      out.push_back('_');
    }
  }
  while (!out.empty() && out.back() == '_') out.pop_back();
  return out;
}

// An INFO value made of `value`: trimmed, on one line. redis-py reads a value holding both
// ',' and '=' as a list of k=v pairs and fails on an item without '=', so then ',' becomes ';'.
std::string InfoFieldValue(std::string_view value) {
  const size_t begin = value.find_first_not_of(" \t\r\n");
  if (begin == std::string_view::npos) return "";
  value = value.substr(begin, value.find_last_not_of(" \t\r\n") + 1 - begin);
  std::string out(value);
  const bool pairs = out.find('=') != std::string::npos;
  for (char& c : out) {
    if (c == '\r' || c == '\n') c = ' ';
    if (c == ',' && pairs) c = ';';
  }
  return out;
}

// The simulated accelerator's statistics, when the engine reports them: the name=value lines of
// learnkv.accel-values (or, from an engine without that property, learnkv.accel's lines) as
// accel_<name>:<value>; a line without '=' or ':' becomes accel_line<n>:<line>. Nothing when
// neither property exists or both are empty.
void AppendAccelLines(DB* db, std::string* out) {
  std::string text;
  if (!db->GetProperty("learnkv.accel-values", &text) || text.empty()) {
    text.clear();
    if (!db->GetProperty("learnkv.accel", &text)) return;
  }
  std::istringstream lines(text);
  std::string line;
  int n = 0;
  while (std::getline(lines, line)) {
    ++n;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    const size_t sep = line.find_first_of("=:");
    std::string name = sep == std::string::npos ? "" : InfoFieldName(line.substr(0, sep));
    std::string value = InfoFieldValue(sep == std::string::npos || name.empty()
                                           ? std::string_view(line)
                                           : std::string_view(line).substr(sep + 1));
    if (name.empty()) name = "line" + std::to_string(n);
    out->append("accel_" + name + ":" + value + "\r\n");
  }
}

// The "learned" section: what the tables' indexes are, from the DB's properties.
void AppendLearnedSection(DB* db, std::string* out) {
  std::string tables;
  db->GetProperty("learnkv.sstables", &tables);
  uint64_t n = 0, rmi = 0, block = 0, entries = 0, index_bytes = 0, max_error = 0;
  double weighted_error = 0;
  std::istringstream lines(tables);
  std::string line;
  while (std::getline(lines, line)) {
    ++n;
    auto field = [&](const char* name) -> std::string {
      const std::string key = std::string(" ") + name + " ";
      const size_t pos = line.find(key);
      if (pos == std::string::npos) return "";
      const size_t start = pos + key.size();
      return line.substr(start, line.find(' ', start) - start);
    };
    const bool is_rmi = field("index") == "rmi";
    (is_rmi ? rmi : block)++;
    const uint64_t e = std::strtoull(field("entries").c_str(), nullptr, 10);
    index_bytes += std::strtoull(field("index_bytes").c_str(), nullptr, 10);
    if (is_rmi) {
      entries += e;
      weighted_error += std::strtod(field("mean_error").c_str(), nullptr) * static_cast<double>(e);
      max_error = std::max<uint64_t>(max_error, std::strtoull(field("max_error").c_str(), nullptr, 10));
    }
  }
  std::string index_memory, filter_memory;
  db->GetProperty("learnkv.index-memory", &index_memory);
  db->GetProperty("learnkv.filter-memory", &filter_memory);
  char buf[512];
  std::snprintf(buf, sizeof(buf),
                "# Learned\r\nlearned_tables:%" PRIu64 "\r\nlearned_index_rmi:%" PRIu64
                "\r\nlearned_index_block:%" PRIu64 "\r\nlearned_mean_error:%.2f\r\n"
                "learned_max_error:%" PRIu64 "\r\nlearned_index_bytes:%" PRIu64
                "\r\nlearned_index_memory_bytes:%s\r\nlearned_filter_bytes:%s\r\n",
                n, rmi, block, entries > 0 ? weighted_error / static_cast<double>(entries) : 0.0,
                max_error, index_bytes, index_memory.c_str(), filter_memory.c_str());
  out->append(buf);
  for (int level = 0; level < 7; ++level) {
    std::string files;
    if (!db->GetProperty("learnkv.num-files-at-level" + std::to_string(level), &files)) break;
    out->append("learned_level" + std::to_string(level) + "_tables:" + files + "\r\n");
  }
  AppendAccelLines(db, out);
}

uint64_t ResidentBytes() {
  FILE* f = std::fopen("/proc/self/statm", "r");
  if (f == nullptr) return 0;
  unsigned long size = 0, resident = 0;
  const int n = std::fscanf(f, "%lu %lu", &size, &resident);
  std::fclose(f);
  return n == 2 ? resident * static_cast<uint64_t>(sysconf(_SC_PAGESIZE)) : 0;
}

std::string InfoText(CommandContext& ctx, const std::vector<std::string>& wanted) {
  ServerContext* srv = ctx.server;
  const ServerStats& st = srv->stats;
  auto want = [&](const char* section, bool in_default) {
    if (wanted.empty()) return in_default;
    for (const std::string& w : wanted) {
      if (w == section || w == "all" || w == "everything" || (w == "default" && in_default)) {
        return true;
      }
    }
    return false;
  };
  auto load = [](const std::atomic<uint64_t>& a) { return a.load(std::memory_order_relaxed); };
  const int64_t now = NowMs();
  std::string out;
  auto line = [&](const std::string& name, const std::string& value) {
    out += name + ":" + value + "\r\n";
  };
  if (want("server", true)) {
    struct utsname u;
    uname(&u);
    out += "# Server\r\n";
    line("redis_version", kRedisVersion);
    line("learnkv_version", "0.1.0");
    line("redis_mode", "standalone");
    line("os", std::string(u.sysname) + " " + u.release + " " + u.machine);
    line("arch_bits", std::to_string(sizeof(void*) * 8));
    line("multiplexing_api", "epoll");
    line("process_id", std::to_string(getpid()));
    line("tcp_port", std::to_string(srv->options.port));
    line("server_time_usec", std::to_string(now * 1000));
    line("uptime_in_seconds", std::to_string((now - srv->start_time_ms) / 1000));
    line("uptime_in_days", std::to_string((now - srv->start_time_ms) / 86400000));
    line("io_threads_active", std::to_string(srv->options.io_threads > 1 ? 1 : 0));
    line("io_threads", std::to_string(srv->options.io_threads));
    line("executable", srv->options.executable);
    line("config_file", srv->options.config_file);
    out += "\r\n";
  }
  if (want("clients", true)) {
    out += "# Clients\r\n";
    line("connected_clients", std::to_string(load(st.connected_clients)));
    line("maxclients", std::to_string(srv->runtime.maxclients()));
    line("blocked_clients", "0");
    out += "\r\n";
  }
  if (want("memory", true)) {
    const uint64_t rss = ResidentBytes();
    out += "# Memory\r\n";
    line("used_memory", std::to_string(rss));
    line("used_memory_rss", std::to_string(rss));
    line("maxmemory", "0");
    out += "\r\n";
  }
  if (want("persistence", true)) {
    out += "# Persistence\r\n";
    line("loading", "0");
    line("aof_enabled", "1");
    line("appendfsync", SyncModeName(srv->writer->mode()));
    // As Redis 7 reports it: "err" after a failed write or a failed periodic fsync.
    line("aof_last_write_status",
         srv->writer->last_write_ok() && srv->writer->last_sync_ok() ? "ok" : "err");
    line("wal_write_batches", std::to_string(srv->writer->batches()));
    line("wal_syncs", std::to_string(srv->writer->syncs()));
    line("wal_last_sync_time", std::to_string(srv->writer->last_sync_unix()));
    line("dir", srv->options.dir);
    out += "\r\n";
  }
  if (want("stats", true)) {
    out += "# Stats\r\n";
    line("total_connections_received", std::to_string(load(st.total_connections)));
    line("total_commands_processed", std::to_string(load(st.total_commands)));
    line("total_net_input_bytes", std::to_string(load(st.net_input_bytes)));
    line("total_net_output_bytes", std::to_string(load(st.net_output_bytes)));
    line("rejected_connections", std::to_string(load(st.rejected_connections)));
    // Like Redis's expired_keys (lazy plus active expiry): read-time deletions plus the keys
    // compactions removed, which are also shown on their own.
    line("expired_keys", std::to_string(load(st.expired_keys) + load(st.expired_keys_compacted)));
    line("expired_keys_compacted", std::to_string(load(st.expired_keys_compacted)));
    line("keyspace_hits", std::to_string(load(st.keyspace_hits)));
    line("keyspace_misses", std::to_string(load(st.keyspace_misses)));
    line("total_error_replies_protocol", std::to_string(load(st.protocol_errors)));
    line("multiget_batches", std::to_string(load(st.multiget_batches)));
    line("multiget_keys", std::to_string(load(st.multiget_keys)));
    out += "\r\n";
  }
  if (want("replication", true)) {
    out += "# Replication\r\nrole:master\r\nconnected_slaves:0\r\n\r\n";
  }
  if (want("keyspace", true)) {
    out += "# Keyspace\r\n";
    std::string keys;
    srv->db->GetProperty("learnkv.estimate-num-keys", &keys);
    if (!keys.empty() && keys != "0") out += "db0:keys=" + keys + ",expires=0,avg_ttl=0\r\n";
    out += "\r\n";
  }
  if (want("learned", true)) {
    AppendLearnedSection(srv->db, &out);
    out += "\r\n";
  }
  if (out.size() >= 4 && out.compare(out.size() - 4, 4, "\r\n\r\n") == 0) {
    out.resize(out.size() - 2);  // no blank line after the last section
  }
  return out;
}

void InfoCommand(CommandContext& ctx) {
  std::vector<std::string> wanted;
  for (size_t i = 1; i < ctx.argv.size(); ++i) wanted.push_back(Lower(ctx.argv[i]));
  ctx.reply.Verbatim(InfoText(ctx, wanted));
}

void ConfigCommand(CommandContext& ctx) {
  auto& argv = ctx.argv;
  const std::string sub = Lower(argv[1]);
  if (sub == "get") {
    if (argv.size() < 3) return ctx.reply.Error(WrongArity("config|get"));
    std::vector<ConfigPair> matched;
    for (const ConfigPair& p : ConfigValues(ctx.server->options, ctx.server->runtime)) {
      for (size_t i = 2; i < argv.size(); ++i) {
        if (GlobMatch(argv[i], p.first, true)) {
          matched.push_back(p);
          break;
        }
      }
    }
    ctx.reply.MapHeader(matched.size());
    for (const ConfigPair& p : matched) {
      ctx.reply.Bulk(p.first);
      ctx.reply.Bulk(p.second);
    }
  } else if (sub == "set") {
    if (argv.size() < 4 || argv.size() % 2 != 0) return ctx.reply.Error(WrongArity("config|set"));
    for (size_t i = 2; i + 1 < argv.size(); i += 2) {
      Status s = ConfigSet(argv[i], argv[i + 1], &ctx.server->runtime);
      if (!s.ok()) return ctx.reply.Error(s.message());
    }
    ctx.reply.Ok();
  } else if (sub == "resetstat") {
    if (argv.size() != 2) return ctx.reply.Error(WrongArity("config|resetstat"));
    ServerStats& st = ctx.server->stats;
    for (std::atomic<uint64_t>* a :
         {&st.total_commands, &st.total_connections, &st.rejected_connections, &st.keyspace_hits,
          &st.keyspace_misses, &st.expired_keys, &st.expired_keys_compacted, &st.net_input_bytes,
          &st.net_output_bytes, &st.multiget_batches, &st.multiget_keys, &st.protocol_errors}) {
      a->store(0);
    }
    ctx.reply.Ok();
  } else if (sub == "rewrite") {
    ctx.reply.Error("ERR CONFIG REWRITE is not supported by learnkv");
  } else if (sub == "help") {
    ctx.reply.ArrayHeader(4);
    ctx.reply.SimpleString("CONFIG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:");
    ctx.reply.SimpleString("GET <pattern> ... / SET <name> <value> ... / RESETSTAT");
    ctx.reply.SimpleString("    Mutable: requirepass, maxclients, timeout, client-output-buffer-limit.");
    ctx.reply.SimpleString("HELP");
  } else {
    ctx.reply.Error(UnknownSubcommand(argv[1], "config"));
  }
}

void CommandInfoReply(ReplyBuilder& r, const CommandSpec& c) {
  r.ArrayHeader(10);
  r.Bulk(c.name);
  r.Integer(c.arity);
  std::vector<const char*> flags;
  if (c.flags & kCmdWrite) flags.push_back("write");
  if (c.flags & (kCmdRead | kCmdBlocking)) flags.push_back("readonly");
  if (c.flags & kCmdFast) flags.push_back("fast");
  if (c.flags & kCmdAdmin) flags.push_back("admin");
  if (c.flags & kCmdNoAuth) flags.push_back("no_auth");
  if (c.flags & kCmdNoMulti) flags.push_back("no_multi");
  r.SetHeader(flags.size());
  for (const char* f : flags) r.SimpleString(f);
  r.Integer(c.first_key);
  r.Integer(c.last_key);
  r.Integer(c.key_step);
  r.SetHeader(0);    // ACL categories
  r.SetHeader(0);    // tips
  r.ArrayHeader(0);  // key specs
  r.ArrayHeader(0);  // subcommands
}

void CommandDocsReply(ReplyBuilder& r, const CommandSpec& c) {
  const std::vector<CommandArg>& args = CommandArguments(c.name);
  r.Bulk(c.name);
  r.MapHeader(args.empty() ? 3 : 4);
  r.Bulk("summary");
  r.Bulk(c.summary);
  r.Bulk("since");
  r.Bulk(c.since);
  r.Bulk("group");
  r.Bulk(c.group);
  if (!args.empty()) {
    r.Bulk("arguments");
    ReplyArguments(r, args);
  }
}

void CommandCommand(CommandContext& ctx) {
  const CommandTable& table = CommandTable::Get();
  auto& argv = ctx.argv;
  if (argv.size() == 1) {
    ctx.reply.ArrayHeader(table.all().size());
    for (const CommandSpec& c : table.all()) CommandInfoReply(ctx.reply, c);
    return;
  }
  const std::string sub = Lower(argv[1]);
  if (sub == "count") {
    if (argv.size() != 2) return ctx.reply.Error(WrongArity("command|count"));
    ctx.reply.Integer(static_cast<int64_t>(table.all().size()));
  } else if (sub == "info") {
    if (argv.size() == 2) {
      ctx.reply.ArrayHeader(table.all().size());
      for (const CommandSpec& c : table.all()) CommandInfoReply(ctx.reply, c);
      return;
    }
    ctx.reply.ArrayHeader(argv.size() - 2);
    for (size_t i = 2; i < argv.size(); ++i) {
      const CommandSpec* c = table.Find(argv[i]);
      if (c == nullptr) {
        ctx.reply.NullArray();
      } else {
        CommandInfoReply(ctx.reply, *c);
      }
    }
  } else if (sub == "docs") {
    std::vector<const CommandSpec*> docs;
    if (argv.size() == 2) {
      for (const CommandSpec& c : table.all()) docs.push_back(&c);
    } else {
      for (size_t i = 2; i < argv.size(); ++i) {
        if (const CommandSpec* c = table.Find(argv[i])) docs.push_back(c);
      }
    }
    ctx.reply.MapHeader(docs.size());
    for (const CommandSpec* c : docs) CommandDocsReply(ctx.reply, *c);
  } else if (sub == "list") {
    ctx.reply.ArrayHeader(table.all().size());
    for (const CommandSpec& c : table.all()) ctx.reply.Bulk(c.name);
  } else {
    ctx.reply.Error(UnknownSubcommand(argv[1], "command"));
  }
}

void ShutdownCommand(CommandContext& ctx) {
  for (size_t i = 1; i < ctx.argv.size(); ++i) {
    const std::string opt = Lower(ctx.argv[i]);
    if (opt == "abort") return ctx.reply.Error("ERR No shutdown in progress.");
    if (opt != "nosave" && opt != "save" && opt != "now" && opt != "force") {
      return ctx.reply.Error(kSyntaxError);
    }
  }
  // No reply: the connection closes as the server stops (after syncing the WAL).
  ctx.session->close_after_reply = true;
  if (ctx.server->request_shutdown) ctx.server->request_shutdown();
}

void TimeCommand(CommandContext& ctx) {
  const int64_t us = std::chrono::duration_cast<std::chrono::microseconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count();
  ctx.reply.ArrayHeader(2);
  ctx.reply.Bulk(std::to_string(us / 1000000));
  ctx.reply.Bulk(std::to_string(us % 1000000));
}

}  // namespace

void RegisterServerCommands(std::vector<CommandSpec>* specs) {
  const uint32_t admin = kCmdAdmin | kCmdNoMulti;
  specs->insert(specs->end(), {
    {"info", -1, kCmdNoMulti, InfoCommand, 0, 0, 0, "server", "1.0.0",
     "Returns information and statistics about the server."},
    {"config", -2, admin, ConfigCommand, 0, 0, 0, "server", "2.0.0",
     "A container for server configuration commands."},
    {"command", -1, kCmdNoMulti, CommandCommand, 0, 0, 0, "server", "2.8.13",
     "Returns detailed information about all commands."},
    {"shutdown", -1, admin, ShutdownCommand, 0, 0, 0, "server", "1.0.0",
     "Synchronously saves the database(s) to disk and shuts down the Redis server."},
    {"time", 1, kCmdFast, TimeCommand, 0, 0, 0, "server", "2.6.0",
     "Returns the server time."},
  });
}

}  // namespace server
}  // namespace learnkv
