// Pieces of the server, without sockets: the keyspace layout (user-key escaping, value
// header), Redis's glob, RESP2/RESP3 reply encoding, config parsing, the command table and
// its argument docs, and the expiry compaction filter (alone, and in a DB opened directly as
// the server opens it).
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <thread>

#include "learnkv/db.h"
#include "learnkv/iterator.h"
#include "server/command.h"
#include "server/command_docs.h"
#include "server/config.h"
#include "server/expiry_filter.h"
#include "server/keyspace.h"
#include "server/reply.h"
#include "tests/support/test_util.h"

namespace learnkv {
namespace server {
namespace {

TEST(KeyspaceLayoutTest, UserKeysNeverCollideWithMetadata) {
  const std::vector<std::string> keys = {"", "a", std::string("\xff", 1), std::string("\xff\xff", 2),
                                         std::string("\xff\x00", 2), std::string("\x00", 1)};
  for (const std::string& k : keys) {
    const std::string stored = EncodeUserKey(k);
    EXPECT_FALSE(std::string_view(stored).substr(0, 2) == kMetaPrefix) << k;
    std::string back;
    ASSERT_TRUE(DecodeUserKey(stored, &back));
    EXPECT_EQ(back, k);
  }
  std::string out;
  EXPECT_FALSE(DecodeUserKey(std::string(kMetaPrefix) + "scan:x", &out));
}

TEST(KeyspaceLayoutTest, ValueHeader) {
  Entry e;
  ASSERT_TRUE(DecodeValue(EncodeValue("payload", 0), &e).ok());
  EXPECT_EQ(e.value, "payload");
  EXPECT_EQ(e.expire_ms, 0);
  ASSERT_TRUE(DecodeValue(EncodeValue("", 1234567890123), &e).ok());
  EXPECT_EQ(e.value, "");
  EXPECT_EQ(e.expire_ms, 1234567890123);
  std::string_view payload;
  int64_t expire = 0;
  ASSERT_TRUE(ViewValue(EncodeValue("xyz", 42), &payload, &expire));
  EXPECT_EQ(payload, "xyz");
  EXPECT_EQ(expire, 42);
  EXPECT_TRUE(DecodeValue("", &e).IsCorruption());
  EXPECT_TRUE(DecodeValue(std::string("\x10\x00", 2), &e).IsCorruption());  // truncated expiry
  EXPECT_TRUE(DecodeValue("\x07x", &e).IsCorruption());                      // unknown type
}

TEST(GlobTest, RedisPatterns) {
  EXPECT_TRUE(GlobMatch("*", ""));
  EXPECT_TRUE(GlobMatch("user:*", "user:42"));
  EXPECT_FALSE(GlobMatch("user:*", "item:42"));
  EXPECT_TRUE(GlobMatch("h?llo", "hello"));
  EXPECT_FALSE(GlobMatch("h?llo", "hllo"));
  EXPECT_TRUE(GlobMatch("h[ae]llo", "hallo"));
  EXPECT_FALSE(GlobMatch("h[^e]llo", "hello"));
  EXPECT_TRUE(GlobMatch("h[a-b]llo", "hbllo"));
  EXPECT_TRUE(GlobMatch("h[b-a]llo", "hallo"));  // reversed range
  EXPECT_TRUE(GlobMatch("a\\*b", "a*b"));
  EXPECT_FALSE(GlobMatch("a\\*b", "axb"));
  EXPECT_TRUE(GlobMatch("*a*b*c*", "xxaxxbxxcxx"));
  EXPECT_FALSE(GlobMatch("*a*b*c*", "xxaxxcxxbxx"));
  EXPECT_TRUE(GlobMatch("APPEND*", "appendfsync", /*nocase=*/true));
  EXPECT_FALSE(GlobMatch("APPEND*", "appendfsync"));
}

TEST(ReplyTest, Resp2AndResp3) {
  std::string two, three;
  ReplyBuilder r2(&two, 2), r3(&three, 3);
  for (ReplyBuilder* r : {&r2, &r3}) {
    r->Null();
    r->MapHeader(1);
    r->Bool(true);
    r->Double(1.5);
    r->Verbatim("txt");
    r->Error("ERR bad\r\nthing");
    r->Integer(-7);
    r->Bulk(std::string("a\0b", 3));
  }
  const std::string bulk = "$3\r\n" + std::string("a\0b", 3) + "\r\n";
  EXPECT_EQ(two, "$-1\r\n*2\r\n:1\r\n$3\r\n1.5\r\n$3\r\ntxt\r\n-ERR bad  thing\r\n:-7\r\n" + bulk);
  EXPECT_EQ(three, "_\r\n%1\r\n#t\r\n,1.5\r\n=7\r\ntxt:txt\r\n-ERR bad  thing\r\n:-7\r\n" + bulk);
}

TEST(ConfigTest, MemoryAndSet) {
  uint64_t v = 0;
  ASSERT_TRUE(ParseMemory("512mb", &v));
  EXPECT_EQ(v, 512ull << 20);
  ASSERT_TRUE(ParseMemory("1GB", &v));
  EXPECT_EQ(v, 1ull << 30);
  ASSERT_TRUE(ParseMemory("100", &v));
  EXPECT_EQ(v, 100u);
  EXPECT_FALSE(ParseMemory("-1", &v));
  EXPECT_FALSE(ParseMemory("mb", &v));

  ServerOptions options;
  RuntimeConfig rt(options);
  EXPECT_FALSE(rt.auth_required());
  ASSERT_TRUE(ConfigSet("requirepass", "pw", &rt).ok());
  EXPECT_TRUE(rt.auth_required());
  ASSERT_TRUE(ConfigSet("MAXCLIENTS", "5", &rt).ok());
  EXPECT_EQ(rt.maxclients(), 5);
  EXPECT_EQ(ConfigSet("dir", "/etc", &rt).message(),
            "ERR CONFIG SET failed (possibly related to argument 'dir') - can't set immutable config");
  EXPECT_EQ(ConfigSet("nosuch", "1", &rt).message(),
            "ERR Unknown option or number of arguments for CONFIG SET - 'nosuch'");
  EXPECT_FALSE(ConfigSet("timeout", "x", &rt).ok());
}

TEST(CommandTableTest, ArityAndLookup) {
  const CommandTable& table = CommandTable::Get();
  ASSERT_NE(table.Find("GeT"), nullptr);
  EXPECT_EQ(table.Find("get")->arity, 2);
  EXPECT_EQ(table.Find("set")->arity, -3);
  EXPECT_EQ(table.Find("nosuch"), nullptr);
  EXPECT_TRUE(ArityOk(-3, 5));
  EXPECT_FALSE(ArityOk(-3, 2));
  EXPECT_FALSE(ArityOk(2, 3));
  for (const CommandSpec& c : table.all()) {
    EXPECT_TRUE(c.handler != nullptr || (c.flags & kCmdTxControl)) << c.name;
    EXPECT_EQ(Lower(c.name), c.name);
  }
  EXPECT_EQ(UnknownCommand({"foo", "a", "b"}),
            "ERR unknown command 'foo', with args beginning with: 'a' 'b' ");
}

TEST(CommandDocsTest, RendersAsRedisCli) {
  // What redis-cli 7.0 shows for Redis's own docs of these commands.
  const std::pair<const char*, const char*> expected[] = {
      {"get", "key"},
      {"del", "key [key ...]"},
      {"mset", "key value [key value ...]"},
      {"info", "[section [section ...]]"},
      {"auth", "[username] password"},
      {"hello", "[protover [AUTH username password] [SETNAME clientname]]"},
      {"scan", "cursor [MATCH pattern] [COUNT count] [TYPE type]"},
      {"expire", "key seconds [NX|XX|GT|LT]"},
      {"shutdown", "[NOSAVE|SAVE] [NOW] [FORCE] [ABORT]"},
      {"set",
       "key value [NX|XX] [GET] [EX seconds|PX milliseconds|EXAT unix-time-seconds|"
       "PXAT unix-time-milliseconds|KEEPTTL]"},
  };
  for (const auto& [name, hint] : expected) {
    EXPECT_EQ(RenderArgs(CommandArguments(name)), hint) << name;
  }
  // Every command that needs arguments has them documented, as many required ones as its
  // arity says. (Without: containers, documented by subcommand in Redis, and QUIT, MULTI...)
  for (const CommandSpec& c : CommandTable::Get().all()) {
    const std::vector<CommandArg>& args = CommandArguments(c.name);
    const bool container = std::string_view(c.name) == "config" ||
                           std::string_view(c.name) == "client" ||
                           std::string_view(c.name) == "command";
    if (container) {
      EXPECT_TRUE(args.empty()) << c.name;
    }
    if (args.empty()) {
      EXPECT_TRUE(c.arity == 1 || c.arity == -1 || container) << c.name;
      continue;
    }
    size_t required = 1;  // the name
    for (const CommandArg& a : args) {
      if (!a.optional) required += a.type == "block" ? a.args.size() : 1;
    }
    EXPECT_EQ(required, static_cast<size_t>(std::abs(c.arity))) << c.name;
  }
  const std::vector<CommandArg>& set = CommandArguments("set");
  ASSERT_EQ(set.size(), 5u);
  EXPECT_EQ(set[0].type, "key");
  EXPECT_EQ(set[2].name, "condition");
  EXPECT_EQ(set[2].type, "oneof");
  EXPECT_TRUE(set[2].optional);
  EXPECT_EQ(set[3].type, "pure-token");
  EXPECT_EQ(set[3].token, "GET");
  EXPECT_EQ(set[4].args[0].name, "seconds");
  EXPECT_EQ(set[4].args[0].type, "integer");
  EXPECT_EQ(set[4].args[0].token, "EX");
  EXPECT_EQ(set[4].args[2].type, "unix-time");
  const std::vector<CommandArg>& mset = CommandArguments("mset");
  ASSERT_EQ(mset.size(), 1u);
  EXPECT_EQ(mset[0].name, "data");
  EXPECT_EQ(mset[0].type, "block");
  EXPECT_TRUE(mset[0].multiple);
  EXPECT_FALSE(mset[0].optional);
}

TEST(CommandDocsTest, MalformedSyntax) {
  std::vector<CommandArg> args;
  EXPECT_TRUE(ParseArgSyntax("", &args));
  EXPECT_TRUE(args.empty());
  for (const char* bad : {"[key", "key]", "a|b", "[]", "[a|]", "(a b", "key.", "x=y", "=[a]",
                          "name=key", "AUTH[x]", "[a]]"}) {
    EXPECT_FALSE(ParseArgSyntax(bad, &args)) << bad;
  }
}

TEST(CommandDocsTest, RespReply) {
  std::vector<CommandArg> args;
  ASSERT_TRUE(ParseArgSyntax("key [EX seconds|KEEPTTL] k...", &args));
  std::string out;
  ReplyBuilder r(&out, 3);
  ReplyArguments(r, args);
  EXPECT_EQ(out,
            "*3\r\n"
            "%2\r\n$4\r\nname\r\n$3\r\nkey\r\n$4\r\ntype\r\n$3\r\nkey\r\n"
            "%4\r\n$4\r\nname\r\n$15\r\nseconds_keepttl\r\n$4\r\ntype\r\n$5\r\noneof\r\n"
            "$5\r\nflags\r\n~1\r\n+optional\r\n$9\r\narguments\r\n*2\r\n"
            "%3\r\n$4\r\nname\r\n$7\r\nseconds\r\n$4\r\ntype\r\n$7\r\ninteger\r\n"
            "$5\r\ntoken\r\n$2\r\nEX\r\n"
            "%3\r\n$4\r\nname\r\n$7\r\nkeepttl\r\n$4\r\ntype\r\n$10\r\npure-token\r\n"
            "$5\r\ntoken\r\n$7\r\nKEEPTTL\r\n"
            "%3\r\n$4\r\nname\r\n$1\r\nk\r\n$4\r\ntype\r\n$6\r\nstring\r\n"
            "$5\r\nflags\r\n~1\r\n+multiple\r\n");
}

TEST(ExpiryFilterTest, RemovesOnlyExpiredUserValues) {
  std::atomic<uint64_t> removed{0};
  const ExpiryFilter filter(&removed);
  using D = CompactionFilter::Decision;
  const int64_t now = NowMs();
  EXPECT_EQ(filter.Filter(1, "k", EncodeValue("v", 0)), D::kKeep);
  EXPECT_EQ(filter.Filter(1, "k", EncodeValue("v", now + 3600 * 1000)), D::kKeep);
  EXPECT_EQ(filter.Filter(1, "k", EncodeValue("v", now - 1)), D::kRemove);
  EXPECT_EQ(filter.Filter(6, EncodeUserKey(std::string("\xff", 1)), EncodeValue("", 1)),
            D::kRemove);  // an escaped user key is a user key
  EXPECT_EQ(removed.load(), 2u);
  // Never removed: metadata (its value is not in the layout, here one that would decode as
  // long expired) and anything that does not decode.
  EXPECT_EQ(filter.Filter(1, std::string(kMetaPrefix) + "scan:x", EncodeValue("v", 1)), D::kKeep);
  EXPECT_EQ(filter.Filter(1, "k", ""), D::kKeep);
  EXPECT_EQ(filter.Filter(1, "k", std::string("\x10\x00", 2)), D::kKeep);  // truncated expiry
  EXPECT_EQ(filter.Filter(1, "k", "\x07x"), D::kKeep);                     // unknown type
  EXPECT_EQ(filter.Filter(1, "k", std::string("\x30\0\0\0\0\0\0\0\x01", 9)), D::kKeep);
  EXPECT_EQ(removed.load(), 2u);
  ExpiryFilter uncounted;
  EXPECT_EQ(uncounted.Filter(1, "k", EncodeValue("v", 1)), D::kRemove);
}

// The filter in a DB opened as Server::Start opens it: keys set with a short PX are removed
// from the tables by a compaction once expired; everything else stays.
TEST(ExpiryFilterTest, CompactionRemovesExpiredKeys) {
  std::atomic<uint64_t> removed{0};
  Options options;
  options.create_if_missing = true;
  options.disable_auto_compactions = true;
  options.compaction_filter = std::make_shared<ExpiryFilter>(&removed);
  std::unique_ptr<DB> db;
  ASSERT_TRUE(DB::Open(options, test::NewTempDir("expiry_filter"), &db).ok());
  auto put = [&](const std::string& key, const std::string& stored) {
    ASSERT_TRUE(db->Put(WriteOptions(), EncodeUserKey(key), stored).ok());
  };
  // A key overwritten with a short expiry must not bring its older version back once the
  // newer one is removed: first push the older version to the bottom level.
  put("old", EncodeValue("older", 0));
  ASSERT_TRUE(db->CompactRange(nullptr, nullptr).ok());

  const int64_t start = NowMs();
  const int64_t short_expiry = start + 50;  // PX 50
  std::map<std::string, std::string> kept;  // stored key -> stored value
  for (int i = 0; i < 300; ++i) {
    char key[32];
    std::snprintf(key, sizeof(key), "key:%05d", i);
    const std::string value = i % 3 == 0   ? EncodeValue("short", short_expiry)
                              : i % 3 == 1 ? EncodeValue("forever", 0)
                                           : EncodeValue("long", start + 3600 * 1000);
    put(key, value);
    if (i % 3 != 0) kept[EncodeUserKey(key)] = value;
  }
  put("old", EncodeValue("newer", short_expiry));
  put(std::string("\xff", 1), EncodeValue("short", short_expiry));
  const std::string meta = std::string(kMetaPrefix) + "scan:1";
  const std::string malformed("\x07garbage");
  ASSERT_TRUE(db->Put(WriteOptions(), meta, EncodeValue("v", 1)).ok());
  ASSERT_TRUE(db->Put(WriteOptions(), "bad", malformed).ok());
  kept[meta] = EncodeValue("v", 1);
  kept["bad"] = malformed;

  // Flushes never filter: the short-lived keys are still in the tables once expired.
  ASSERT_TRUE(db->Flush(FlushOptions()).ok());
  while (NowMs() <= short_expiry) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  std::string value;
  ASSERT_TRUE(db->Get(ReadOptions(), "key:00000", &value).ok());
  EXPECT_EQ(removed.load(), 0u);

  ASSERT_TRUE(db->CompactRange(nullptr, nullptr).ok());
  EXPECT_EQ(removed.load(), 102u);  // 100 key:*, "old", "\xff"
  std::map<std::string, std::string> found;
  std::unique_ptr<Iterator> it = db->NewIterator(ReadOptions());
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    found[it->key().ToString()] = it->value().ToString();
  }
  ASSERT_TRUE(it->status().ok());
  EXPECT_EQ(found, kept);
  EXPECT_TRUE(db->Get(ReadOptions(), "old", &value).IsNotFound());
  // Gone from the tables themselves: at the bottom level nothing is written for them, not
  // even a tombstone.
  std::string tables;
  ASSERT_TRUE(db->GetProperty("learnkv.sstables", &tables));
  uint64_t entries = 0;
  for (size_t pos = 0; (pos = tables.find(" entries ", pos)) != std::string::npos; ++pos) {
    entries += std::stoull(tables.substr(pos + 9));
  }
  EXPECT_EQ(entries, kept.size());
  ASSERT_TRUE(db->Close().ok());
}

}  // namespace
}  // namespace server
}  // namespace learnkv
