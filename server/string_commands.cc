// String commands: GET, SET, GETDEL, GETSET, SETNX, SETEX, PSETEX, MGET, MSET, STRLEN, APPEND,
// INCR, INCRBY, DECR, DECRBY. Reads work through any Keyspace view; writes run on the writer
// thread (kCmdWrite), where read-modify-write is atomic.
#include <climits>

#include "server/command.h"

namespace learnkv {
namespace server {

namespace {

// Stores entry, or deletes the key when its expiry has already passed.
Status Store(CommandContext& ctx, const std::string& key, const Entry& entry) {
  if (ctx.keys->Expired(entry.expire_ms)) return ctx.keys->Delete(key);
  return ctx.keys->Put(key, entry);
}

void CountHit(CommandContext& ctx, bool hit) {
  (hit ? ctx.server->stats.keyspace_hits : ctx.server->stats.keyspace_misses)
      .fetch_add(1, std::memory_order_relaxed);
}

void GetCommand(CommandContext& ctx) {
  Entry e;
  Status s = ctx.keys->Get(ctx.argv[1], &e);
  if (ReplyIfError(ctx, s)) return;
  CountHit(ctx, s.ok());
  if (s.ok()) {
    ctx.reply.Bulk(e.value);
  } else {
    ctx.reply.Null();
  }
}

// Converts a relative or absolute expiry argument to absolute milliseconds, as Redis's
// getExpireMillisecondsOrReply does. False after replying with the error.
bool ParseExpiry(CommandContext& ctx, const std::string& arg, bool seconds, bool relative,
                 const char* command, int64_t* when_ms) {
  int64_t v = 0;
  if (!ParseInt64Strict(arg, &v)) {
    ctx.reply.Error(kNotInteger);
    return false;
  }
  const std::string invalid = std::string("ERR invalid expire time in '") + command + "' command";
  if (v <= 0 || (seconds && v > LLONG_MAX / 1000)) {
    ctx.reply.Error(invalid);
    return false;
  }
  if (seconds) v *= 1000;
  if (relative) {
    if (v > LLONG_MAX - ctx.keys->now_ms()) {
      ctx.reply.Error(invalid);
      return false;
    }
    v += ctx.keys->now_ms();
  }
  *when_ms = v;
  return true;
}

void SetCommand(CommandContext& ctx) {
  enum : unsigned { kNx = 1, kXx = 2, kGet = 4, kKeepTtl = 8, kEx = 16, kPx = 32, kExAt = 64,
                    kPxAt = 128 };
  constexpr unsigned kAnyExpiry = kKeepTtl | kEx | kPx | kExAt | kPxAt;
  unsigned flags = 0;
  const std::string* expire_arg = nullptr;
  auto& argv = ctx.argv;
  for (size_t j = 3; j < argv.size(); ++j) {
    const std::string opt = Lower(argv[j]);
    const bool has_next = j + 1 < argv.size();
    auto expiry = [&](unsigned flag) {
      if ((flags & (kAnyExpiry & ~flag)) != 0 || !has_next) return false;
      flags |= flag;
      expire_arg = &argv[++j];
      return true;
    };
    if (opt == "nx" && !(flags & kXx)) {
      flags |= kNx;
    } else if (opt == "xx" && !(flags & kNx)) {
      flags |= kXx;
    } else if (opt == "get") {
      flags |= kGet;
    } else if (opt == "keepttl" && !(flags & (kAnyExpiry & ~kKeepTtl))) {
      flags |= kKeepTtl;
    } else if (opt == "ex" ? expiry(kEx)
               : opt == "px" ? expiry(kPx)
               : opt == "exat" ? expiry(kExAt)
               : opt == "pxat" ? expiry(kPxAt)
                                : false) {
    } else {
      ctx.reply.Error(kSyntaxError);
      return;
    }
  }
  Entry e;
  e.value = std::move(argv[2]);
  if (expire_arg != nullptr) {
    const bool seconds = (flags & (kEx | kExAt)) != 0;
    const bool relative = (flags & (kEx | kPx)) != 0;
    if (!ParseExpiry(ctx, *expire_arg, seconds, relative, "set", &e.expire_ms)) return;
  }
  Entry old;
  Status s;
  const bool need_old = (flags & (kNx | kXx | kGet | kKeepTtl)) != 0;
  if (need_old) {
    s = ctx.keys->Get(argv[1], &old);
    if (ReplyIfError(ctx, s)) return;
  }
  const bool exists = need_old && s.ok();
  const bool blocked = ((flags & kNx) && exists) || ((flags & kXx) && !exists);
  if (!blocked) {
    if ((flags & kKeepTtl) && exists) e.expire_ms = old.expire_ms;
    Status ws = Store(ctx, argv[1], e);
    if (!ws.ok()) {
      ctx.reply.Error(StatusError(ws));
      return;
    }
  }
  if (flags & kGet) {
    if (exists) {
      ctx.reply.Bulk(old.value);
    } else {
      ctx.reply.Null();
    }
  } else if (blocked) {
    ctx.reply.Null();
  } else {
    ctx.reply.Ok();
  }
}

// SETNX key value, SETEX key seconds value, PSETEX key ms value, GETSET key value.
void SetNxCommand(CommandContext& ctx) {
  Entry old;
  Status s = ctx.keys->Get(ctx.argv[1], &old);
  if (ReplyIfError(ctx, s)) return;
  if (s.ok()) {
    ctx.reply.Integer(0);
    return;
  }
  Entry e;
  e.value = std::move(ctx.argv[2]);
  if (ReplyIfFailed(ctx, Store(ctx, ctx.argv[1], e))) return;
  ctx.reply.Integer(1);
}

void SetExGeneric(CommandContext& ctx, bool seconds) {
  Entry e;
  if (!ParseExpiry(ctx, ctx.argv[2], seconds, true, seconds ? "setex" : "psetex", &e.expire_ms)) {
    return;
  }
  e.value = std::move(ctx.argv[3]);
  if (ReplyIfFailed(ctx, Store(ctx, ctx.argv[1], e))) return;
  ctx.reply.Ok();
}
void SetExCommand(CommandContext& ctx) { SetExGeneric(ctx, true); }
void PSetExCommand(CommandContext& ctx) { SetExGeneric(ctx, false); }

void GetSetCommand(CommandContext& ctx) {
  Entry old;
  Status s = ctx.keys->Get(ctx.argv[1], &old);
  if (ReplyIfError(ctx, s)) return;
  Entry e;
  e.value = std::move(ctx.argv[2]);
  if (ReplyIfFailed(ctx, Store(ctx, ctx.argv[1], e))) return;
  if (s.ok()) {
    ctx.reply.Bulk(old.value);
  } else {
    ctx.reply.Null();
  }
}

void GetDelCommand(CommandContext& ctx) {
  Entry old;
  Status s = ctx.keys->Get(ctx.argv[1], &old);
  if (ReplyIfError(ctx, s)) return;
  if (!s.ok()) return ctx.reply.Null();
  if (ReplyIfFailed(ctx, ctx.keys->Delete(ctx.argv[1]))) return;
  ctx.reply.Bulk(old.value);
}

void MGetCommand(CommandContext& ctx) {
  std::vector<std::string_view> keys(ctx.argv.begin() + 1, ctx.argv.end());
  std::vector<Entry> entries;
  std::vector<Status> statuses;
  ctx.keys->MultiGet(keys, &entries, &statuses);
  ctx.reply.ArrayHeader(keys.size());
  for (size_t i = 0; i < keys.size(); ++i) {
    CountHit(ctx, statuses[i].ok());
    if (statuses[i].ok()) {
      ctx.reply.Bulk(entries[i].value);
    } else {
      ctx.reply.Null();  // as Redis does for a missing key (an error also reads as nil)
    }
  }
}

void MSetCommand(CommandContext& ctx) {
  if (ctx.argv.size() % 2 == 0) return ctx.reply.Error(WrongArity("mset"));
  for (size_t i = 1; i + 1 < ctx.argv.size(); i += 2) {
    Entry e;
    e.value = std::move(ctx.argv[i + 1]);
    if (ReplyIfFailed(ctx, ctx.keys->Put(ctx.argv[i], e))) return;
  }
  ctx.reply.Ok();
}

void StrLenCommand(CommandContext& ctx) {
  Entry e;
  Status s = ctx.keys->Get(ctx.argv[1], &e);
  if (ReplyIfError(ctx, s)) return;
  ctx.reply.Integer(s.ok() ? static_cast<int64_t>(e.value.size()) : 0);
}

void AppendCommand(CommandContext& ctx) {
  Entry e;
  Status s = ctx.keys->Get(ctx.argv[1], &e);
  if (ReplyIfError(ctx, s)) return;
  if (e.value.size() + ctx.argv[2].size() > static_cast<uint64_t>(ctx.server->options.limits.max_bulk_len)) {
    return ctx.reply.Error("ERR string exceeds maximum allowed size (proto-max-bulk-len)");
  }
  e.value.append(ctx.argv[2]);  // keeps the expiry, as Redis does
  if (ReplyIfFailed(ctx, ctx.keys->Put(ctx.argv[1], e))) return;
  ctx.reply.Integer(static_cast<int64_t>(e.value.size()));
}

void IncrDecr(CommandContext& ctx, int64_t incr) {
  Entry e;
  Status s = ctx.keys->Get(ctx.argv[1], &e);
  if (ReplyIfError(ctx, s)) return;
  int64_t value = 0;
  if (s.ok() && !ParseInt64Strict(e.value, &value)) return ctx.reply.Error(kNotInteger);
  if ((incr < 0 && value < 0 && incr < (LLONG_MIN - value)) ||
      (incr > 0 && value > 0 && incr > (LLONG_MAX - value))) {
    return ctx.reply.Error("ERR increment or decrement would overflow");
  }
  value += incr;
  e.value = std::to_string(value);  // a new key has no expiry; an old one keeps its own
  if (ReplyIfFailed(ctx, ctx.keys->Put(ctx.argv[1], e))) return;
  ctx.reply.Integer(value);
}

void IncrCommand(CommandContext& ctx) { IncrDecr(ctx, 1); }
void DecrCommand(CommandContext& ctx) { IncrDecr(ctx, -1); }

void IncrByCommand(CommandContext& ctx) {
  int64_t incr = 0;
  if (!ParseInt64Strict(ctx.argv[2], &incr)) return ctx.reply.Error(kNotInteger);
  IncrDecr(ctx, incr);
}

void DecrByCommand(CommandContext& ctx) {
  int64_t incr = 0;
  if (!ParseInt64Strict(ctx.argv[2], &incr)) return ctx.reply.Error(kNotInteger);
  if (incr == LLONG_MIN) return ctx.reply.Error("ERR decrement would overflow");
  IncrDecr(ctx, -incr);
}

}  // namespace

void RegisterStringCommands(std::vector<CommandSpec>* specs) {
  const uint32_t w = kCmdWrite, r = kCmdRead | kCmdFast, wf = kCmdWrite | kCmdFast;
  specs->insert(specs->end(), {
    {"get", 2, r, GetCommand, 1, 1, 1, "string", "1.0.0", "Returns the string value of a key."},
    {"set", -3, w, SetCommand, 1, 1, 1, "string", "1.0.0",
     "Sets the string value of a key, ignoring its type. The key is created if it doesn't exist."},
    {"setnx", 3, wf, SetNxCommand, 1, 1, 1, "string", "1.0.0",
     "Set the string value of a key only when the key doesn't exist."},
    {"setex", 4, w, SetExCommand, 1, 1, 1, "string", "2.0.0",
     "Sets the string value and expiration time of a key. Creates the key if it doesn't exist."},
    {"psetex", 4, w, PSetExCommand, 1, 1, 1, "string", "2.6.0",
     "Sets both string value and expiration time in milliseconds of a key."},
    {"getset", 3, wf, GetSetCommand, 1, 1, 1, "string", "1.0.0",
     "Returns the previous string value of a key after setting it to a new value."},
    {"getdel", 2, wf, GetDelCommand, 1, 1, 1, "string", "6.2.0",
     "Returns the string value of a key after deleting the key."},
    {"mget", -2, r, MGetCommand, 1, -1, 1, "string", "1.0.0",
     "Atomically returns the string values of one or more keys."},
    {"mset", -3, w, MSetCommand, 1, -1, 2, "string", "1.0.1",
     "Atomically creates or modifies the string values of one or more keys."},
    {"strlen", 2, r, StrLenCommand, 1, 1, 1, "string", "2.2.0",
     "Returns the length of a string value."},
    {"append", 3, w, AppendCommand, 1, 1, 1, "string", "2.0.0",
     "Appends a string to the value of a key. Creates the key if it doesn't exist."},
    {"incr", 2, wf, IncrCommand, 1, 1, 1, "string", "1.0.0",
     "Increments the integer value of a key by one. Uses 0 as initial value if the key doesn't exist."},
    {"decr", 2, wf, DecrCommand, 1, 1, 1, "string", "1.0.0",
     "Decrements the integer value of a key by one. Uses 0 as initial value if the key doesn't exist."},
    {"incrby", 3, wf, IncrByCommand, 1, 1, 1, "string", "1.0.0",
     "Increments the integer value of a key by a number. Uses 0 as initial value if the key doesn't exist."},
    {"decrby", 3, wf, DecrByCommand, 1, 1, 1, "string", "1.0.0",
     "Decrements a number from the integer value of a key. Uses 0 as initial value if the key doesn't exist."},
  });
}

}  // namespace server
}  // namespace learnkv
