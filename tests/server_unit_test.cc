// Pure pieces of the server, without sockets: the keyspace layout (user-key escaping, value
// header), Redis's glob, RESP2/RESP3 reply encoding, config parsing, and the command table.
#include <gtest/gtest.h>

#include "server/command.h"
#include "server/config.h"
#include "server/keyspace.h"
#include "server/reply.h"

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

}  // namespace
}  // namespace server
}  // namespace learnkv
