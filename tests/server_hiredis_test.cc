// learnkv-server driven by hiredis (libhiredis-dev), the C client most other clients wrap:
// a real server process on a free loopback port, pipelines, binary-safe keys and values, an
// 8 MiB value, MULTI/EXEC, INCR from several connections, and a clean SIGTERM restart.
//
// The server binary comes from LEARNKV_SERVER_BIN (set by tests/CMakeLists.txt). Without
// hiredis headers the tests are skipped.
#include <gtest/gtest.h>

#if __has_include(<hiredis/hiredis.h>)
#include <hiredis/hiredis.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

namespace {

int FreePort() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  socklen_t len = sizeof(addr);
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  close(fd);
  return ntohs(addr.sin_port);
}

using ContextPtr = std::unique_ptr<redisContext, decltype(&redisFree)>;
using ReplyPtr = std::unique_ptr<redisReply, decltype(&freeReplyObject)>;

ReplyPtr Command(redisContext* c, const char* fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  void* r = redisvCommand(c, fmt, ap);
  va_end(ap);
  return ReplyPtr(static_cast<redisReply*>(r), freeReplyObject);
}

class ServerProcess {
 public:
  ServerProcess(std::string dir, int port) : dir_(std::move(dir)), port_(port) {}
  ~ServerProcess() { Stop(SIGKILL); }

  bool Start() {
    const char* bin = std::getenv("LEARNKV_SERVER_BIN");
    if (bin == nullptr) return false;
    pid_ = fork();
    if (pid_ == 0) {
      const std::string port = "--port=" + std::to_string(port_);
      const std::string dir = "--dir=" + dir_;
      execl(bin, bin, port.c_str(), dir.c_str(), "--write_buffer_size=1mb",
            static_cast<char*>(nullptr));
      _exit(127);
    }
    for (int i = 0; i < 200; ++i) {
      ContextPtr c = Connect();
      if (c) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return false;
  }

  // Returns the exit status (or -1).
  int Stop(int sig) {
    if (pid_ <= 0) return -1;
    kill(pid_, sig);
    int status = 0;
    waitpid(pid_, &status, 0);
    pid_ = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }

  ContextPtr Connect() const {
    redisContext* c = redisConnect("127.0.0.1", port_);
    if (c == nullptr || c->err) {
      if (c) redisFree(c);
      return ContextPtr(nullptr, redisFree);
    }
    return ContextPtr(c, redisFree);
  }

 private:
  std::string dir_;
  int port_;
  pid_t pid_ = -1;
};

class HiredisTest : public testing::Test {
 protected:
  void SetUp() override {
    if (std::getenv("LEARNKV_SERVER_BIN") == nullptr) GTEST_SKIP() << "LEARNKV_SERVER_BIN unset";
    const char* tmp = std::getenv("LEARNKV_TEST_TMPDIR");
    dir_ = std::string(tmp ? tmp : "/tmp") + "/server_hiredis_" + std::to_string(getpid());
    std::system(("rm -rf '" + dir_ + "'").c_str());
    port_ = FreePort();
    server_ = std::make_unique<ServerProcess>(dir_, port_);
    ASSERT_TRUE(server_->Start());
    conn_ = server_->Connect();
    ASSERT_TRUE(conn_);
  }
  void TearDown() override {
    conn_.reset();
    if (server_) server_->Stop(SIGTERM);
    std::system(("rm -rf '" + dir_ + "'").c_str());
  }

  std::string dir_;
  int port_ = 0;
  std::unique_ptr<ServerProcess> server_;
  ContextPtr conn_{nullptr, redisFree};
};

TEST_F(HiredisTest, PingSetGet) {
  ReplyPtr r = Command(conn_.get(), "PING");
  ASSERT_EQ(r->type, REDIS_REPLY_STATUS);
  EXPECT_STREQ(r->str, "PONG");
  r = Command(conn_.get(), "SET %s %s", "greeting", "hello");
  EXPECT_STREQ(r->str, "OK");
  r = Command(conn_.get(), "GET %s", "greeting");
  ASSERT_EQ(r->type, REDIS_REPLY_STRING);
  EXPECT_EQ(std::string(r->str, r->len), "hello");
  r = Command(conn_.get(), "GET %s", "missing");
  EXPECT_EQ(r->type, REDIS_REPLY_NIL);
}

TEST_F(HiredisTest, PipelineOf2000) {
  redisContext* c = conn_.get();
  for (int i = 0; i < 1000; ++i) {
    redisAppendCommand(c, "SET k%d v%d", i, i);
    redisAppendCommand(c, "GET k%d", i);
  }
  for (int i = 0; i < 1000; ++i) {
    void* raw = nullptr;
    ASSERT_EQ(redisGetReply(c, &raw), REDIS_OK);
    ReplyPtr set(static_cast<redisReply*>(raw), freeReplyObject);
    EXPECT_STREQ(set->str, "OK");
    ASSERT_EQ(redisGetReply(c, &raw), REDIS_OK);
    ReplyPtr get(static_cast<redisReply*>(raw), freeReplyObject);
    ASSERT_EQ(get->type, REDIS_REPLY_STRING);
    EXPECT_EQ(std::string(get->str, get->len), "v" + std::to_string(i));
  }
}

TEST_F(HiredisTest, BinaryKeysAndValues) {
  const std::string key("\xff\x00k\r\n", 5);
  std::string value;
  for (int i = 0; i < 256; ++i) value.push_back(static_cast<char>(i));
  ReplyPtr r = Command(conn_.get(), "SET %b %b", key.data(), key.size(), value.data(), value.size());
  EXPECT_STREQ(r->str, "OK");
  r = Command(conn_.get(), "GET %b", key.data(), key.size());
  ASSERT_EQ(r->type, REDIS_REPLY_STRING);
  EXPECT_EQ(std::string(r->str, r->len), value);
  r = Command(conn_.get(), "SCAN 0 COUNT 1000");
  ASSERT_EQ(r->type, REDIS_REPLY_ARRAY);
  bool found = false;
  for (size_t i = 0; i < r->element[1]->elements; ++i) {
    const redisReply* k = r->element[1]->element[i];
    found |= std::string(k->str, k->len) == key;
  }
  EXPECT_TRUE(found);
}

TEST_F(HiredisTest, EightMiBValue) {
  std::string value(8 << 20, '\0');
  for (size_t i = 0; i < value.size(); ++i) value[i] = static_cast<char>((i * 2654435761u) >> 13);
  ReplyPtr r = Command(conn_.get(), "SET big %b", value.data(), value.size());
  EXPECT_STREQ(r->str, "OK");
  r = Command(conn_.get(), "GET big");
  ASSERT_EQ(r->type, REDIS_REPLY_STRING);
  EXPECT_EQ(r->len, value.size());
  EXPECT_TRUE(std::string(r->str, r->len) == value);
  r = Command(conn_.get(), "STRLEN big");
  EXPECT_EQ(r->integer, 8 << 20);
}

TEST_F(HiredisTest, MultiExec) {
  redisContext* c = conn_.get();
  EXPECT_STREQ(Command(c, "MULTI")->str, "OK");
  EXPECT_STREQ(Command(c, "SET %s %s", "a", "1")->str, "QUEUED");
  EXPECT_STREQ(Command(c, "INCR %s", "a")->str, "QUEUED");
  EXPECT_STREQ(Command(c, "GET %s", "a")->str, "QUEUED");
  ReplyPtr r = Command(c, "EXEC");
  ASSERT_EQ(r->type, REDIS_REPLY_ARRAY);
  ASSERT_EQ(r->elements, 3u);
  EXPECT_STREQ(r->element[0]->str, "OK");
  EXPECT_EQ(r->element[1]->integer, 2);
  EXPECT_EQ(std::string(r->element[2]->str, r->element[2]->len), "2");
}

TEST_F(HiredisTest, ConcurrentIncrIsAtomic) {
  constexpr int kThreads = 4, kIncrs = 500;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      ContextPtr c = server_->Connect();
      ASSERT_TRUE(c);
      for (int i = 0; i < kIncrs; ++i) redisAppendCommand(c.get(), "INCR counter");
      for (int i = 0; i < kIncrs; ++i) {
        void* raw = nullptr;
        ASSERT_EQ(redisGetReply(c.get(), &raw), REDIS_OK);
        freeReplyObject(raw);
      }
    });
  }
  for (auto& t : threads) t.join();
  ReplyPtr r = Command(conn_.get(), "GET counter");
  EXPECT_EQ(std::string(r->str, r->len), std::to_string(kThreads * kIncrs));
}

TEST_F(HiredisTest, RestartAfterSigtermKeepsData) {
  for (int i = 0; i < 500; ++i) {
    redisAppendCommand(conn_.get(), "SET persist:%d value:%d", i, i);
  }
  for (int i = 0; i < 500; ++i) {
    void* raw = nullptr;
    ASSERT_EQ(redisGetReply(conn_.get(), &raw), REDIS_OK);
    freeReplyObject(raw);
  }
  conn_.reset();
  EXPECT_EQ(server_->Stop(SIGTERM), 0);
  ASSERT_TRUE(server_->Start());
  conn_ = server_->Connect();
  ASSERT_TRUE(conn_);
  for (int i = 0; i < 500; i += 37) {
    ReplyPtr r = Command(conn_.get(), "GET persist:%d", i);
    ASSERT_EQ(r->type, REDIS_REPLY_STRING);
    EXPECT_EQ(std::string(r->str, r->len), "value:" + std::to_string(i));
  }
}

}  // namespace

#else  // no hiredis

TEST(HiredisTest, Skipped) { GTEST_SKIP() << "hiredis headers not installed (libhiredis-dev)"; }

#endif
