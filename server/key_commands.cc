// Generic key commands: DEL, UNLINK, EXISTS, TYPE, EXPIRE, PEXPIRE, EXPIREAT, PEXPIREAT, TTL,
// PTTL, PERSIST, SCAN, KEYS, DBSIZE, FLUSHDB, FLUSHALL.
//
// SCAN walks the DB in key order and hands out cursors from ScanCursors (scan_cursor.h), so
// every key present for the whole scan is returned, and a cursor survives a restart. Like
// Redis's COUNT, COUNT bounds the keys examined per call (MATCH and TYPE filter them).
#include <climits>
#include <memory>

#include "learnkv/iterator.h"
#include "server/command.h"

namespace learnkv {
namespace server {

namespace {

void DelCommand(CommandContext& ctx) {
  int64_t deleted = 0;
  for (size_t i = 1; i < ctx.argv.size(); ++i) {
    Entry e;
    Status s = ctx.keys->Get(ctx.argv[i], &e);
    if (ReplyIfError(ctx, s)) return;
    if (!s.ok()) continue;
    if (ReplyIfFailed(ctx, ctx.keys->Delete(ctx.argv[i]))) return;
    ++deleted;
  }
  ctx.reply.Integer(deleted);
}

void ExistsCommand(CommandContext& ctx) {
  std::vector<std::string_view> keys(ctx.argv.begin() + 1, ctx.argv.end());
  std::vector<Entry> entries;
  std::vector<Status> statuses;
  ctx.keys->MultiGet(keys, &entries, &statuses);
  int64_t n = 0;
  for (const Status& s : statuses) {
    if (ReplyIfError(ctx, s)) return;
    n += s.ok() ? 1 : 0;
  }
  ctx.reply.Integer(n);
}

void TypeCommand(CommandContext& ctx) {
  Entry e;
  Status s = ctx.keys->Get(ctx.argv[1], &e);
  if (ReplyIfError(ctx, s)) return;
  ctx.reply.SimpleString(s.ok() ? "string" : "none");
}

// EXPIRE / PEXPIRE / EXPIREAT / PEXPIREAT key time [NX | XX | GT | LT] (Redis 7.0's
// expireGenericCommand).
void ExpireGeneric(CommandContext& ctx, bool seconds, bool relative, const char* name) {
  enum { kNx = 1, kXx = 2, kGt = 4, kLt = 8 };
  int flags = 0;
  for (size_t j = 3; j < ctx.argv.size(); ++j) {
    const std::string opt = Lower(ctx.argv[j]);
    if (opt == "nx") {
      flags |= kNx;
    } else if (opt == "xx") {
      flags |= kXx;
    } else if (opt == "gt") {
      flags |= kGt;
    } else if (opt == "lt") {
      flags |= kLt;
    } else {
      return ctx.reply.Error("ERR Unsupported option " + ctx.argv[j]);
    }
  }
  if ((flags & kNx) && (flags & (kXx | kGt | kLt))) {
    return ctx.reply.Error("ERR NX and XX, GT or LT options at the same time are not compatible");
  }
  if ((flags & kGt) && (flags & kLt)) {
    return ctx.reply.Error("ERR GT and LT options at the same time are not compatible");
  }
  int64_t when = 0;
  if (!ParseInt64Strict(ctx.argv[2], &when)) return ctx.reply.Error(kNotInteger);
  const std::string invalid = std::string("ERR invalid expire time in '") + name + "' command";
  if (seconds) {
    if (when > LLONG_MAX / 1000 || when < LLONG_MIN / 1000) return ctx.reply.Error(invalid);
    when *= 1000;
  }
  if (relative) {
    const int64_t now = ctx.keys->now_ms();
    if ((when > 0 && when > LLONG_MAX - now) || (when < 0 && when < LLONG_MIN + now)) {
      return ctx.reply.Error(invalid);
    }
    when += now;
  }
  Entry e;
  Status s = ctx.keys->Get(ctx.argv[1], &e);
  if (ReplyIfError(ctx, s)) return;
  if (!s.ok()) return ctx.reply.Integer(0);
  const bool has_ttl = e.expire_ms != 0;
  if (((flags & kNx) && has_ttl) || ((flags & kXx) && !has_ttl) ||
      ((flags & kGt) && (!has_ttl || when <= e.expire_ms)) ||
      ((flags & kLt) && has_ttl && when >= e.expire_ms)) {
    return ctx.reply.Integer(0);
  }
  Status ws;
  if (when <= ctx.keys->now_ms()) {
    ws = ctx.keys->Delete(ctx.argv[1]);  // already expired: delete now
  } else {
    e.expire_ms = when;
    ws = ctx.keys->Put(ctx.argv[1], e);
  }
  if (ReplyIfFailed(ctx, ws)) return;
  ctx.reply.Integer(1);
}

void ExpireCommand(CommandContext& ctx) { ExpireGeneric(ctx, true, true, "expire"); }
void PExpireCommand(CommandContext& ctx) { ExpireGeneric(ctx, false, true, "pexpire"); }
void ExpireAtCommand(CommandContext& ctx) { ExpireGeneric(ctx, true, false, "expireat"); }
void PExpireAtCommand(CommandContext& ctx) { ExpireGeneric(ctx, false, false, "pexpireat"); }

void TtlGeneric(CommandContext& ctx, bool seconds) {
  Entry e;
  Status s = ctx.keys->Get(ctx.argv[1], &e);
  if (ReplyIfError(ctx, s)) return;
  if (!s.ok()) return ctx.reply.Integer(-2);
  if (e.expire_ms == 0) return ctx.reply.Integer(-1);
  int64_t ttl = e.expire_ms - ctx.keys->now_ms();
  if (ttl < 0) ttl = 0;
  ctx.reply.Integer(seconds ? (ttl + 500) / 1000 : ttl);
}

void TtlCommand(CommandContext& ctx) { TtlGeneric(ctx, true); }
void PTtlCommand(CommandContext& ctx) { TtlGeneric(ctx, false); }

void PersistCommand(CommandContext& ctx) {
  Entry e;
  Status s = ctx.keys->Get(ctx.argv[1], &e);
  if (ReplyIfError(ctx, s)) return;
  if (!s.ok() || e.expire_ms == 0) return ctx.reply.Integer(0);
  e.expire_ms = 0;
  if (ReplyIfFailed(ctx, ctx.keys->Put(ctx.argv[1], e))) return;
  ctx.reply.Integer(1);
}

// Parses a SCAN cursor: an unsigned decimal number.
bool ParseCursor(const std::string& s, uint64_t* cursor) {
  if (s.empty() || s.size() > 20) return false;
  uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    const uint64_t d = static_cast<uint64_t>(c - '0');
    if (v > (UINT64_MAX - d) / 10) return false;
    v = v * 10 + d;
  }
  *cursor = v;
  return true;
}

void ScanCommand(CommandContext& ctx) {
  uint64_t cursor = 0;
  if (!ParseCursor(ctx.argv[1], &cursor)) return ctx.reply.Error("ERR invalid cursor");
  int64_t count = 10;
  const std::string* pattern = nullptr;
  const std::string* type = nullptr;
  for (size_t i = 2; i < ctx.argv.size(); i += 2) {
    const std::string opt = Lower(ctx.argv[i]);
    if (i + 1 >= ctx.argv.size()) return ctx.reply.Error(kSyntaxError);
    if (opt == "count") {
      if (!ParseInt64Strict(ctx.argv[i + 1], &count)) return ctx.reply.Error(kNotInteger);
      if (count < 1) return ctx.reply.Error(kSyntaxError);
    } else if (opt == "match") {
      pattern = &ctx.argv[i + 1];
    } else if (opt == "type") {
      type = &ctx.argv[i + 1];
    } else {
      return ctx.reply.Error(kSyntaxError);
    }
  }
  std::string resume;
  if (cursor != 0) {
    Status s = ctx.server->cursors->Load(cursor, &resume);
    if (s.IsNotFound()) return ctx.reply.Error("ERR invalid cursor");
    if (!s.ok()) return ctx.reply.Error(StatusError(s));
  }
  const bool type_ok = type == nullptr || EqualsIgnoreCase(*type, "string");
  const bool match_all = pattern == nullptr || *pattern == "*";
  std::vector<std::string> keys;
  std::string last;
  std::unique_ptr<Iterator> it = ctx.server->db->NewIterator(ReadOptions());
  if (cursor == 0) {
    it->SeekToFirst();
  } else {
    it->Seek(resume);
    if (it->Valid() && it->key() == Slice(resume)) it->Next();
  }
  int64_t examined = 0;
  bool more = false;
  std::string user_key;
  for (; it->Valid(); it->Next()) {
    if (!DecodeUserKey(it->key().ToStringView(), &user_key)) break;  // metadata: the end
    if (examined == count) {
      more = true;
      break;
    }
    ++examined;
    last.assign(it->key().data(), it->key().size());
    int64_t expire_ms = 0;
    if (!PeekExpiry(it->value().ToStringView(), &expire_ms) || ctx.keys->Expired(expire_ms)) {
      continue;
    }
    if (!type_ok || (!match_all && !GlobMatch(*pattern, user_key))) continue;
    keys.push_back(user_key);
  }
  if (!it->status().ok()) return ctx.reply.Error(StatusError(it->status()));
  uint64_t next = 0;
  if (more) {
    Status s = ctx.server->cursors->Save(last, &next);
    if (!s.ok()) return ctx.reply.Error(StatusError(s));
  }
  ctx.reply.ArrayHeader(2);
  ctx.reply.Bulk(std::to_string(next));
  ctx.reply.ArrayHeader(keys.size());
  for (const std::string& k : keys) ctx.reply.Bulk(k);
}

// Calls fn(user_key) for every live user key; false (after replying) on an error.
template <typename Fn>
bool ForEachKey(CommandContext& ctx, Fn fn) {
  std::unique_ptr<Iterator> it = ctx.server->db->NewIterator(ReadOptions());
  std::string user_key;
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    if (!DecodeUserKey(it->key().ToStringView(), &user_key)) break;
    int64_t expire_ms = 0;
    if (!PeekExpiry(it->value().ToStringView(), &expire_ms) || ctx.keys->Expired(expire_ms)) {
      continue;
    }
    fn(user_key);
  }
  if (!it->status().ok()) {
    ctx.reply.Error(StatusError(it->status()));
    return false;
  }
  return true;
}

void KeysCommand(CommandContext& ctx) {
  std::vector<std::string> keys;
  const std::string& pattern = ctx.argv[1];
  const bool all = pattern == "*";
  if (!ForEachKey(ctx, [&](const std::string& k) {
        if (all || GlobMatch(pattern, k)) keys.push_back(k);
      })) {
    return;
  }
  ctx.reply.ArrayHeader(keys.size());
  for (const std::string& k : keys) ctx.reply.Bulk(k);
}

void DbSizeCommand(CommandContext& ctx) {
  int64_t n = 0;
  if (ForEachKey(ctx, [&](const std::string&) { ++n; })) ctx.reply.Integer(n);
}

void FlushCommand(CommandContext& ctx) {
  if (ctx.argv.size() > 2 ||
      (ctx.argv.size() == 2 && !EqualsIgnoreCase(ctx.argv[1], "async") &&
       !EqualsIgnoreCase(ctx.argv[1], "sync"))) {
    return ctx.reply.Error(kSyntaxError);
  }
  Status s = ctx.keys->DeleteAllUserKeys();
  if (!s.ok()) return ctx.reply.Error(StatusError(s));
  ctx.reply.Ok();
}

}  // namespace

void RegisterKeyCommands(std::vector<CommandSpec>* specs) {
  const uint32_t w = kCmdWrite, r = kCmdRead | kCmdFast, wf = kCmdWrite | kCmdFast;
  const uint32_t blocking = kCmdRead | kCmdBlocking | kCmdNoMulti;
  specs->insert(specs->end(), {
    {"del", -2, w, DelCommand, 1, -1, 1, "generic", "1.0.0", "Deletes one or more keys."},
    {"unlink", -2, wf, DelCommand, 1, -1, 1, "generic", "4.0.0",
     "Asynchronously deletes one or more keys."},
    {"exists", -2, r, ExistsCommand, 1, -1, 1, "generic", "1.0.0",
     "Determines whether one or more keys exist."},
    {"type", 2, r, TypeCommand, 1, 1, 1, "generic", "1.0.0",
     "Determines the type of value stored at a key."},
    {"expire", -3, wf, ExpireCommand, 1, 1, 1, "generic", "1.0.0",
     "Sets the expiration time of a key in seconds."},
    {"pexpire", -3, wf, PExpireCommand, 1, 1, 1, "generic", "2.6.0",
     "Sets the expiration time of a key in milliseconds."},
    {"expireat", -3, wf, ExpireAtCommand, 1, 1, 1, "generic", "1.2.0",
     "Sets the expiration time of a key to a Unix timestamp."},
    {"pexpireat", -3, wf, PExpireAtCommand, 1, 1, 1, "generic", "2.6.0",
     "Sets the expiration time of a key to a Unix milliseconds timestamp."},
    {"ttl", 2, r, TtlCommand, 1, 1, 1, "generic", "1.0.0",
     "Returns the expiration time in seconds of a key."},
    {"pttl", 2, r, PTtlCommand, 1, 1, 1, "generic", "2.6.0",
     "Returns the expiration time in milliseconds of a key."},
    {"persist", 2, wf, PersistCommand, 1, 1, 1, "generic", "2.2.0",
     "Removes the expiration time of a key."},
    {"scan", -2, blocking, ScanCommand, 0, 0, 0, "generic", "2.8.0",
     "Iterates over the key names in the database."},
    {"keys", 2, blocking, KeysCommand, 0, 0, 0, "generic", "1.0.0",
     "Returns all key names that match a pattern."},
    {"dbsize", 1, blocking, DbSizeCommand, 0, 0, 0, "server", "1.0.0",
     "Returns the number of keys in the database."},
    {"flushdb", -1, kCmdWrite | kCmdNoMulti | kCmdNoInline, FlushCommand, 0, 0, 0, "server", "1.0.0",
     "Removes all keys from the current database."},
    {"flushall", -1, kCmdWrite | kCmdNoMulti | kCmdNoInline, FlushCommand, 0, 0, 0, "server", "1.0.0",
     "Removes all keys from all databases."},
  });
}

}  // namespace server
}  // namespace learnkv
