// The RESP request parser alone (server/resp_parser.h): both request forms, requests split at
// every byte, pipelines, Redis's protocol errors, the before-AUTH limits, and memory that
// follows the bytes received rather than the lengths announced.
#include "server/resp_parser.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace learnkv {
namespace server {
namespace {

using Args = std::vector<std::string>;

// Feeds all of `input` at once; returns the commands, and the error if one ended parsing.
std::vector<Args> ParseAll(const std::string& input, std::string* error = nullptr,
                           RespParser* parser_in = nullptr) {
  RespParser local;
  RespParser* parser = parser_in ? parser_in : &local;
  std::vector<Args> out;
  std::string_view view(input);
  while (true) {
    Args argv;
    RespParser::Result r = parser->Parse(&view, &argv);
    if (r == RespParser::Result::kCommand) {
      out.push_back(argv);
      continue;
    }
    if (r == RespParser::Result::kError && error) *error = parser->error();
    break;
  }
  return out;
}

// Feeds `input` in pieces of `step` bytes, keeping unconsumed bytes as a server does.
std::vector<Args> ParseInPieces(const std::string& input, size_t step) {
  RespParser parser;
  std::vector<Args> out;
  std::string buffer;
  for (size_t pos = 0; pos < input.size(); pos += step) {
    buffer.append(input, pos, step);
    std::string_view view(buffer);
    while (true) {
      Args argv;
      RespParser::Result r = parser.Parse(&view, &argv);
      if (r != RespParser::Result::kCommand) {
        EXPECT_NE(r, RespParser::Result::kError) << parser.error();
        break;
      }
      out.push_back(argv);
    }
    buffer.erase(0, buffer.size() - view.size());
  }
  EXPECT_TRUE(parser.idle());
  return out;
}

std::string Multibulk(const Args& args) {
  std::string s = "*" + std::to_string(args.size()) + "\r\n";
  for (const std::string& a : args) s += "$" + std::to_string(a.size()) + "\r\n" + a + "\r\n";
  return s;
}

TEST(RespParserTest, Multibulk) {
  EXPECT_EQ(ParseAll("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5\r\nvalue\r\n"),
            (std::vector<Args>{{"SET", "k", "value"}}));
}

TEST(RespParserTest, BinarySafeBulk) {
  const std::string key("a\r\n\0b*$", 7);
  EXPECT_EQ(ParseAll(Multibulk({"GET", key})), (std::vector<Args>{{"GET", key}}));
  EXPECT_EQ(ParseAll(Multibulk({"SET", "", ""})), (std::vector<Args>{{"SET", "", ""}}));
}

TEST(RespParserTest, PipelineAndEveryByteSplit) {
  std::string input;
  std::vector<Args> expected;
  for (int i = 0; i < 20; ++i) {
    Args a{"SET", "key" + std::to_string(i), std::string(i * 7, 'x')};
    input += Multibulk(a);
    expected.push_back(a);
  }
  input += "PING\r\n";
  expected.push_back({"PING"});
  input += "set \"quoted key\" 'v'\n";
  expected.push_back({"set", "quoted key", "v"});
  for (size_t step : {1, 2, 3, 7, 64, 100000}) {
    EXPECT_EQ(ParseInPieces(input, step), expected) << "step " << step;
  }
}

TEST(RespParserTest, EmptyRequestsAreSkipped) {
  EXPECT_EQ(ParseAll("*0\r\n*-1\r\n\r\n   \r\n\nPING\r\n"), (std::vector<Args>{{"PING"}}));
}

TEST(RespParserTest, InlineQuoting) {
  EXPECT_EQ(ParseAll("SET k \"a\\x41\\n\\\"b\" 'it\\'s'\r\n"),
            (std::vector<Args>{{"SET", "k", "aA\n\"b", "it's"}}));
  EXPECT_EQ(ParseAll("  get   k  \n"), (std::vector<Args>{{"get", "k"}}));
  EXPECT_EQ(ParseAll("echo \"\"\r\n"), (std::vector<Args>{{"echo", ""}}));
}

TEST(RespParserTest, IncompleteInputWaits) {
  for (std::string partial : {"*", "*2\r", "*2\r\n$3", "*2\r\n$3\r\nGET\r\n$1\r\n", "PIN"}) {
    RespParser p;
    std::string_view view(partial);
    Args argv;
    EXPECT_EQ(p.Parse(&view, &argv), RespParser::Result::kNeedMore) << partial;
  }
}

struct ErrorCase {
  std::string input;
  std::string error;
};

TEST(RespParserTest, RedisProtocolErrors) {
  const std::string big_line(70 * 1024, 'a');
  const std::vector<ErrorCase> cases = {
      {"*abc\r\n", "ERR Protocol error: invalid multibulk length"},
      {"*2147483648\r\n", "ERR Protocol error: invalid multibulk length"},
      {"*+1\r\n", "ERR Protocol error: invalid multibulk length"},
      {"*1\r\n$-1\r\n", "ERR Protocol error: invalid bulk length"},
      {"*1\r\n$abc\r\n", "ERR Protocol error: invalid bulk length"},
      {"*1\r\n$536870913\r\n", "ERR Protocol error: invalid bulk length"},
      {"*1\r\nx3\r\n", "ERR Protocol error: expected '$', got 'x'"},
      {big_line, "ERR Protocol error: too big inline request"},
      {"*" + big_line, "ERR Protocol error: too big mbulk count string"},
      {"*1\r\n$" + big_line, "ERR Protocol error: too big bulk count string"},
      {"SET k \"abc\r\n", "ERR Protocol error: unbalanced quotes in request"},
      {"SET k \"a\"b\r\n", "ERR Protocol error: unbalanced quotes in request"},
      {"SET k 'abc\r\n", "ERR Protocol error: unbalanced quotes in request"},
  };
  for (const ErrorCase& c : cases) {
    std::string error;
    ParseAll(c.input, &error);
    EXPECT_EQ(error, c.error) << c.input.substr(0, 40);
  }
}

TEST(RespParserTest, CommandsBeforeAnErrorAreReturned) {
  std::string error;
  EXPECT_EQ(ParseAll("PING\r\n*1\r\n$4\r\nPING\r\n*x\r\n", &error),
            (std::vector<Args>{{"PING"}, {"PING"}}));
  EXPECT_EQ(error, "ERR Protocol error: invalid multibulk length");
}

TEST(RespParserTest, ErrorIsSticky) {
  RespParser parser;
  std::string error;
  ParseAll("*x\r\n", &error, &parser);
  std::string_view more("PING\r\n");
  Args argv;
  EXPECT_EQ(parser.Parse(&more, &argv), RespParser::Result::kError);
}

TEST(RespParserTest, UnauthenticatedLimits) {
  RespParser parser;
  parser.set_unauthenticated(true);
  std::string error;
  ParseAll("*11\r\n", &error, &parser);
  EXPECT_EQ(error, "ERR Protocol error: unauthenticated multibulk length");

  RespParser p2;
  p2.set_unauthenticated(true);
  error.clear();
  ParseAll("*2\r\n$4\r\nAUTH\r\n$16385\r\n", &error, &p2);
  EXPECT_EQ(error, "ERR Protocol error: unauthenticated bulk length");

  RespParser p3;
  p3.set_unauthenticated(true);
  error.clear();
  EXPECT_EQ(ParseAll(Multibulk({"AUTH", std::string(16384, 'p')}), &error, &p3).size(), 1u);
  EXPECT_EQ(error, "");
}

TEST(RespParserTest, AnnouncedBulkReservesOnlyWhatArrives) {
  RespParser parser;
  std::string input = "*2\r\n$3\r\nSET\r\n$536870912\r\n0123456789";
  std::string_view view(input);
  Args argv;
  EXPECT_EQ(parser.Parse(&view, &argv), RespParser::Result::kNeedMore);
  EXPECT_TRUE(view.empty());  // the 10 payload bytes were taken into the argument
  EXPECT_FALSE(parser.idle());
  // Nothing to observe from outside but the process's memory; a 512 MiB reservation would
  // show up under ASan/LSan and in RSS. Feeding more bytes keeps working:
  std::string more(1000, 'z');
  std::string_view v2(more);
  EXPECT_EQ(parser.Parse(&v2, &argv), RespParser::Result::kNeedMore);
  EXPECT_TRUE(v2.empty());
}

// A server hands each command's arguments back (Recycle) and parses the next into the same
// vector; the recycled buffers must never leak old bytes into new arguments, whatever their
// sizes, however the bytes are split.
TEST(RespParserTest, RecycledArgumentsAreReused) {
  std::string input;
  std::vector<Args> expected;
  for (int i = 0; i < 30; ++i) {
    Args a{"SET", "key:" + std::to_string(i * 1000003), std::string((i * 37) % 300, 'a' + i % 26)};
    if (i % 4 == 0) a = {"GET", std::string(i, 'k')};
    if (i % 9 == 0) a = {"MSET", "k1", std::string(40, 'v'), "k2", "", "k3", std::string(600, 'w')};
    input += Multibulk(a);
    expected.push_back(a);
  }
  for (size_t step : {1, 5, 33, 100000}) {
    RespParser parser;
    std::vector<Args> out;
    std::string buffer;
    Args argv;
    for (size_t pos = 0; pos < input.size(); pos += step) {
      buffer.append(input, pos, step);
      std::string_view view(buffer);
      while (parser.Parse(&view, &argv) == RespParser::Result::kCommand) {
        out.push_back(argv);
        parser.Recycle(&argv);
        EXPECT_TRUE(argv.empty());
      }
      buffer.erase(0, buffer.size() - view.size());
    }
    EXPECT_EQ(out, expected) << "step " << step;
  }

  // A recycled buffer is what the next command's arguments are built in.
  RespParser parser;
  const std::string key(40, 'k');
  std::string one = Multibulk({"GET", key});
  std::string_view view(one);
  Args argv;
  ASSERT_EQ(parser.Parse(&view, &argv), RespParser::Result::kCommand);
  const char* buffer = argv[1].data();
  parser.Recycle(&argv);
  std::string two = Multibulk({"GET", std::string(30, 'z')});
  view = two;
  ASSERT_EQ(parser.Parse(&view, &argv), RespParser::Result::kCommand);
  EXPECT_TRUE(argv[0].data() == buffer || argv[1].data() == buffer);
  EXPECT_EQ(argv, (Args{"GET", std::string(30, 'z')}));
}

TEST(RespParserTest, ParseInt64Strict) {
  int64_t v = 0;
  EXPECT_TRUE(ParseInt64Strict("0", &v));
  EXPECT_EQ(v, 0);
  EXPECT_TRUE(ParseInt64Strict("-42", &v));
  EXPECT_EQ(v, -42);
  EXPECT_TRUE(ParseInt64Strict("9223372036854775807", &v));
  EXPECT_EQ(v, INT64_MAX);
  EXPECT_TRUE(ParseInt64Strict("-9223372036854775808", &v));
  EXPECT_EQ(v, INT64_MIN);
  for (const char* bad : {"", "-", "+1", " 1", "1 ", "01", "-0", "9223372036854775808",
                          "-9223372036854775809", "1a", "99999999999999999999"}) {
    EXPECT_FALSE(ParseInt64Strict(bad, &v)) << bad;
  }
}

TEST(RespParserTest, SplitArgs) {
  std::vector<std::string> words;
  ASSERT_TRUE(SplitArgs("a \"b c\" 'd e' \"\\x00\"", &words));
  EXPECT_EQ(words, (std::vector<std::string>{"a", "b c", "d e", std::string(1, '\0')}));
  ASSERT_TRUE(SplitArgs("", &words));
  EXPECT_TRUE(words.empty());
  EXPECT_FALSE(SplitArgs("\"unterminated", &words));
  EXPECT_FALSE(SplitArgs("'x'y", &words));
}

}  // namespace
}  // namespace server
}  // namespace learnkv
