#include "server/networking.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "server/resp_parser.h"

namespace learnkv {
namespace server {

namespace {
constexpr size_t kReadChunk = 64 << 10;
constexpr int kMaxAcceptsPerEvent = 1000;
// GETs of one client in one read batch; more wait for the next batch (bounds the replies
// produced before the output limits are checked).
constexpr int kMaxGetsPerBatch = 64;
// RunGetBatch keeps the value strings of one batch for the next, up to this many bytes in
// all (a batch of huge values should not stay in memory).
constexpr size_t kMaxKeptValueBytes = 1 << 20;
// The same for the buffer of a batch's keys (typically 64 GETs of each client at most).
constexpr size_t kMaxKeptKeyBytes = 1 << 20;
}  // namespace

// One connection.
struct IoThread::Client : public EventLoop::Handler {
  Client(IoThread* io_thread, int socket_fd, const RespLimits& limits)
      : io(io_thread), fd(socket_fd), parser(limits) {}
  void OnEvents(uint32_t events) override { io->OnClientEvents(this, events); }

  int pending() const { return pending_writes + pending_gets + pending_jobs; }

  IoThread* const io;
  const int fd;
  Session session;
  RespParser parser;
  std::string in;  // bytes read, not yet parsed, from in_pos on
  size_t in_pos = 0;
  std::string out;  // replies not yet sent, from out_pos on
  size_t out_pos = 0;

  std::vector<std::string> held;  // the parsed command waiting to be dispatched
  bool has_held = false;
  std::string protocol_error;     // to be sent once pending work is done; then close

  bool in_multi = false;
  bool multi_error = false;
  std::vector<std::vector<std::string>> queued;

  int pending_writes = 0;  // commands in write groups not yet committed
  int pending_gets = 0;    // GETs in the loop's read batch
  int pending_jobs = 0;    // commands on the worker pool

  bool eof = false;     // the peer closed its side: finish pending work, then close
  bool closed = false;  // the socket is closed; freed once nothing is pending
  bool in_flush_list = false;
  bool write_blocked = false;  // the last send stopped short: wait for EPOLLOUT
  uint32_t interest = 0;
  int64_t last_active_ms = 0;
};

// A listening socket.
class IoThread::Listener : public EventLoop::Handler {
 public:
  Listener(IoThread* io, int fd) : io_(io), fd_(fd) {}
  ~Listener() override { close(fd_); }
  void OnEvents(uint32_t) override { io_->Accept(fd_); }
  int fd() const { return fd_; }

 private:
  IoThread* io_;
  int fd_;
};

// The write commands one loop iteration collected, for the WriteExecutor.
class IoThread::Group : public WriteGroup {
 public:
  struct Op {
    Client* client;  // null: an internal lazy-expiry delete of argv[0]
    const CommandSpec* spec;
    std::vector<std::string> argv;
    std::vector<std::vector<std::string>> tx;  // EXEC: the queued commands
    bool exec = false;
    int protocol = 2;
    std::string reply;
  };

  Group(IoThread* io) : io_(io) {}

  void Execute(WriteView* view) override {
    for (Op& op : ops) {
      ReplyBuilder rb(&op.reply, op.protocol);
      if (op.exec) {
        rb.ArrayHeader(op.tx.size());
        for (auto& argv : op.tx) Run(CommandTable::Get().Find(argv[0]), argv, rb, view);
      } else if (op.spec != nullptr) {
        Run(op.spec, op.argv, rb, view);
      } else {
        Entry unused;
        view->Get(op.argv[0], &unused);  // deletes the key if it is (still) expired
      }
    }
  }

  void Finish(std::unique_ptr<WriteGroup> self, const Status& commit) override {
    std::shared_ptr<Group> g(static_cast<Group*>(self.release()));
    IoThread* io = io_;
    io->loop_->Post([io, g, commit] { io->OnGroupDone(g.get(), commit); });
  }

  std::vector<Op> ops;
  bool inline_ok = true;  // no op too heavy to run on the loop (FLUSHDB)

 private:
  void Run(const CommandSpec* spec, std::vector<std::string>& argv, ReplyBuilder& rb,
           WriteView* view) {
    CommandContext ctx{argv, rb, view, nullptr, io_->server_};
    spec->handler(ctx);
  }

  IoThread* const io_;
};

Status CheckPortFree(const std::string& address, int port) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE;
  addrinfo* res = nullptr;
  const std::string port_str = std::to_string(port);
  const int rc = getaddrinfo(address.c_str(), port_str.c_str(), &hints, &res);
  if (rc != 0) return Status::InvalidArgument("bind " + address, gai_strerror(rc));
  Status status;
  for (addrinfo* ai = res; ai != nullptr; ai = ai->ai_next) {
    const int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, 0);
    if (fd < 0) continue;
    // SO_REUSEADDR only: connections in TIME_WAIT do not count, a listening socket does.
    const int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (ai->ai_family == AF_INET6) setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
    const bool bound = bind(fd, ai->ai_addr, ai->ai_addrlen) == 0;
    const int error = errno;
    close(fd);
    if (bound) break;  // the address Listen() will take (it stops at the first it can bind)
    if (error == EADDRINUSE) {
      status = Status::IOError("bind " + address + ":" + port_str, std::strerror(error));
      break;
    }
  }
  freeaddrinfo(res);
  return status;
}

IoThread::IoThread(ServerContext* server, std::unique_ptr<EventLoop> loop)
    : server_(server),
      loop_(std::move(loop)),
      get_spec_(CommandTable::Get().Find("get")),
      get_view_(server->db, 0) {
  loop_->SetBeforeSleep([this] { BeforeSleep(); });
  loop_->SetTimer(1000, [this] { OnTimer(); });
}

IoThread::~IoThread() {
  Stop();
  Join();
  for (auto& [raw, client] : clients_) {
    if (!client->closed) close(client->fd);
  }
}

Status IoThread::Listen(const std::string& address, int port) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE;
  addrinfo* res = nullptr;
  const std::string port_str = std::to_string(port);
  const int rc = getaddrinfo(address.c_str(), port_str.c_str(), &hints, &res);
  if (rc != 0) return Status::InvalidArgument("bind " + address, gai_strerror(rc));
  Status status = Status::IOError("bind " + address, "no usable address");
  for (addrinfo* ai = res; ai != nullptr; ai = ai->ai_next) {
    const int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) continue;
    const int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
    if (ai->ai_family == AF_INET6) setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
    if (bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 || listen(fd, 511) != 0) {
      status = Status::IOError("bind " + address + ":" + port_str, std::strerror(errno));
      close(fd);
      continue;
    }
    auto listener = std::make_unique<Listener>(this, fd);
    status = loop_->Add(fd, EPOLLIN, listener.get());
    if (!status.ok()) break;
    listeners_.push_back(std::move(listener));
    break;
  }
  freeaddrinfo(res);
  return status;
}

void IoThread::Start() {
  thread_ = std::thread([this] { loop_->Run(); });
}

void IoThread::Stop() { loop_->Stop(); }

void IoThread::Join() {
  if (thread_.joinable()) thread_.join();
}

// ---- Connections ----

void IoThread::Accept(int listen_fd) {
  for (int i = 0; i < kMaxAcceptsPerEvent; ++i) {
    sockaddr_storage addr{};
    socklen_t len = sizeof(addr);
    const int fd = accept4(listen_fd, reinterpret_cast<sockaddr*>(&addr), &len,
                           SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) return;  // EAGAIN, or an error the next event retries
    ServerStats& st = server_->stats;
    st.total_connections.fetch_add(1, std::memory_order_relaxed);
    if (st.connected_clients.load(std::memory_order_relaxed) >=
        static_cast<uint64_t>(server_->runtime.maxclients())) {
      static const char kMsg[] = "-ERR max number of clients reached\r\n";
      [[maybe_unused]] ssize_t n = send(fd, kMsg, sizeof(kMsg) - 1, MSG_NOSIGNAL);
      close(fd);
      st.rejected_connections.fetch_add(1, std::memory_order_relaxed);
      continue;
    }
    const int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    auto client = std::make_unique<Client>(this, fd, server_->options.limits);
    Client* c = client.get();
    c->session.id = server_->next_client_id.fetch_add(1);
    c->session.authenticated = !server_->runtime.auth_required();
    c->parser.set_unauthenticated(!c->session.authenticated);
    c->session.created_ms = c->last_active_ms = NowMs();
    char host[INET6_ADDRSTRLEN] = "?";
    int port = 0;
    if (addr.ss_family == AF_INET) {
      auto* a = reinterpret_cast<sockaddr_in*>(&addr);
      inet_ntop(AF_INET, &a->sin_addr, host, sizeof(host));
      port = ntohs(a->sin_port);
    } else if (addr.ss_family == AF_INET6) {
      auto* a = reinterpret_cast<sockaddr_in6*>(&addr);
      inet_ntop(AF_INET6, &a->sin6_addr, host, sizeof(host));
      port = ntohs(a->sin6_port);
    }
    c->session.peer = std::string(host) + ":" + std::to_string(port);
    if (!loop_->Add(fd, EPOLLIN, c).ok()) {
      close(fd);
      continue;
    }
    c->interest = EPOLLIN;
    st.connected_clients.fetch_add(1, std::memory_order_relaxed);
    clients_.emplace(c, std::move(client));
  }
}

void IoThread::OnClientEvents(Client* c, uint32_t events) {
  if (c->closed) return;
  if ((events & (EPOLLERR | EPOLLHUP)) && !(events & EPOLLIN)) {
    CloseClient(c);
    return;
  }
  if (events & EPOLLIN) ReadFrom(c);
  if (!c->closed && (events & EPOLLOUT)) WriteTo(c);
}

void IoThread::ReadFrom(Client* c) {
  thread_local char buf[kReadChunk];
  const ssize_t n = read(c->fd, buf, sizeof(buf));
  if (n == 0) {
    c->eof = true;
  } else if (n < 0) {
    if (errno == EAGAIN || errno == EINTR) return;
    CloseClient(c);
    return;
  } else {
    server_->stats.net_input_bytes.fetch_add(static_cast<uint64_t>(n), std::memory_order_relaxed);
    c->last_active_ms = NowMs();
    if (c->in_pos == c->in.size()) {
      c->in.clear();
      c->in_pos = 0;
    } else if (c->in_pos > (64u << 10)) {
      c->in.erase(0, c->in_pos);
      c->in_pos = 0;
    }
    c->in.append(buf, static_cast<size_t>(n));
  }
  ProcessInput(c);
}

void IoThread::ProcessInput(Client* c) {
  while (!c->closed && !c->session.close_after_reply) {
    if (!c->protocol_error.empty()) {
      if (c->pending() > 0) break;
      ReplyBuilder(&c->out, c->session.protocol).Error(c->protocol_error);
      c->protocol_error.clear();
      c->session.close_after_reply = true;
      MarkOutput(c);
      break;
    }
    if (!c->has_held) {
      // Back-pressure: parse no more while too many replies wait to be sent.
      if (c->out.size() - c->out_pos >= server_->options.output_buffer_soft_limit) break;
      std::string_view input(c->in.data() + c->in_pos, c->in.size() - c->in_pos);
      const size_t before = input.size();
      const RespParser::Result r = c->parser.Parse(&input, &c->held);
      c->in_pos += before - input.size();
      if (r == RespParser::Result::kNeedMore) break;
      if (r == RespParser::Result::kError) {
        server_->stats.protocol_errors.fetch_add(1, std::memory_order_relaxed);
        c->protocol_error = c->parser.error();
        c->in.clear();
        c->in_pos = 0;
        continue;
      }
      c->has_held = true;
    }
    if (!Dispatch(c)) break;
    c->has_held = false;
    c->parser.Recycle(&c->held);
  }
  if (c->in_pos == c->in.size()) {
    c->in.clear();
    c->in_pos = 0;
  }
  if (!c->closed) {
    UpdateInterest(c);
    MaybeFinish(c);
  }
}

bool IoThread::Dispatch(Client* c) {
  std::vector<std::string>& argv = c->held;
  const CommandSpec* spec = FindCommand(argv[0]);
  const bool idle = c->pending() == 0;
  auto reject = [&](const std::string& error) {
    if (!idle) return false;
    ReplyBuilder(&c->out, c->session.protocol).Error(error);
    if (c->in_multi) c->multi_error = true;
    MarkOutput(c);
    return true;
  };
  if (spec == nullptr) return reject(UnknownCommand(argv));
  if (!ArityOk(spec->arity, argv.size())) return reject(WrongArity(spec->name));
  if (server_->runtime.auth_required() && !c->session.authenticated &&
      !(spec->flags & kCmdNoAuth)) {
    return reject(kNoAuth);
  }
  ReplyBuilder reply(&c->out, c->session.protocol);
  if (c->in_multi && !(spec->flags & (kCmdTxControl | kCmdNoQueue))) {
    if (spec->flags & kCmdNoMulti) return reject("ERR Command not allowed inside a transaction");
    if (!idle) return false;
    c->queued.push_back(std::move(argv));
    reply.SimpleString("QUEUED");
    MarkOutput(c);
    return true;
  }
  if (spec->flags & kCmdTxControl) {
    const std::string_view name(spec->name);
    if (name == "exec" && c->in_multi && !c->multi_error) {
      if (c->pending_jobs > 0) return false;
      server_->stats.total_commands.fetch_add(1, std::memory_order_relaxed);
      std::vector<std::vector<std::string>> tx = std::move(c->queued);
      c->queued.clear();
      c->in_multi = false;
      QueueWrite(c, spec, {}, std::move(tx), true);
      return true;
    }
    if (!idle) return false;
    server_->stats.total_commands.fetch_add(1, std::memory_order_relaxed);
    if (name == "multi") {
      if (c->in_multi) {
        reply.Error("ERR MULTI calls can not be nested");
      } else {
        c->in_multi = true;
        c->multi_error = false;
        reply.Ok();
      }
    } else if (!c->in_multi) {
      reply.Error(name == "exec" ? "ERR EXEC without MULTI" : "ERR DISCARD without MULTI");
    } else {
      const bool aborted = name == "exec";  // EXEC after an error while queuing
      c->in_multi = false;
      c->multi_error = false;
      c->queued.clear();
      if (aborted) {
        reply.Error("EXECABORT Transaction discarded because of previous errors.");
      } else {
        reply.Ok();
      }
    }
    MarkOutput(c);
    return true;
  }
  if (spec == get_spec_) {
    if (c->pending_writes > 0 || c->pending_jobs > 0 || c->pending_gets >= kMaxGetsPerBatch) {
      return false;
    }
    server_->stats.total_commands.fetch_add(1, std::memory_order_relaxed);
    gets_.push_back({c, get_key_bytes_.size(), argv[1].size()});
    get_key_bytes_.append(argv[1]);
    ++c->pending_gets;
    return true;
  }
  if (spec->flags & kCmdWrite) {
    if (c->pending_jobs > 0) return false;
    server_->stats.total_commands.fetch_add(1, std::memory_order_relaxed);
    QueueWrite(c, spec, std::move(argv), {}, false);
    return true;
  }
  if (!idle) return false;
  server_->stats.total_commands.fetch_add(1, std::memory_order_relaxed);
  if (spec->flags & kCmdBlocking) {
    SubmitJob(c, spec, std::move(argv));
  } else {
    RunInline(c, spec, argv);
  }
  return true;
}

const CommandSpec* IoThread::FindCommand(std::string_view name) {
  // Longer than any command: not worth remembering.
  if (name.size() > sizeof(last_command_name_)) return CommandTable::Get().Find(name);
  if (name.size() != last_command_size_ ||
      std::memcmp(name.data(), last_command_name_, name.size()) != 0) {
    last_command_spec_ = CommandTable::Get().Find(name);
    std::memcpy(last_command_name_, name.data(), name.size());
    last_command_size_ = name.size();
  }
  return last_command_spec_;
}

void IoThread::RunInline(Client* c, const CommandSpec* spec, std::vector<std::string>& argv) {
  ReplyBuilder reply(&c->out, c->session.protocol);
  ReadView view(server_->db, NowMs());
  CommandContext ctx{argv, reply, (spec->flags & kCmdRead) ? &view : nullptr, &c->session,
                     server_};
  spec->handler(ctx);
  c->parser.set_unauthenticated(server_->runtime.auth_required() && !c->session.authenticated);
  MarkOutput(c);
  QueueExpiredDeletes(view.TakeExpired());
}

void IoThread::QueueWrite(Client* c, const CommandSpec* spec, std::vector<std::string> argv,
                          std::vector<std::vector<std::string>> tx, bool exec) {
  if (!group_) group_ = std::make_unique<Group>(this);
  Group::Op op;
  op.client = c;
  op.spec = spec;
  op.argv = std::move(argv);
  op.tx = std::move(tx);
  op.exec = exec;
  op.protocol = c != nullptr ? c->session.protocol : 2;
  if (spec != nullptr && (spec->flags & kCmdNoInline)) group_->inline_ok = false;
  group_->ops.push_back(std::move(op));
  if (c != nullptr) ++c->pending_writes;
}

void IoThread::QueueExpiredDeletes(std::vector<std::string> keys) {
  for (std::string& k : keys) {
    server_->stats.expired_keys.fetch_add(1, std::memory_order_relaxed);
    std::vector<std::string> argv;
    argv.push_back(std::move(k));
    QueueWrite(nullptr, nullptr, std::move(argv), {}, false);
  }
}

void IoThread::SubmitJob(Client* c, const CommandSpec* spec, std::vector<std::string> argv) {
  ++c->pending_jobs;
  auto args = std::make_shared<std::vector<std::string>>(std::move(argv));
  const int protocol = c->session.protocol;
  ServerContext* server = server_;
  server_->workers->Submit([this, c, spec, args, protocol, server] {
    std::string out;
    ReplyBuilder reply(&out, protocol);
    ReadView view(server->db, NowMs());
    CommandContext ctx{*args, reply, &view, nullptr, server};
    spec->handler(ctx);
    loop_->Post([this, c, out]() mutable { OnJobDone(c, std::move(out)); });
  });
}

// ---- Completions ----

void IoThread::BeforeSleep() {
  while (true) {
    // Sending replies may let a client parked by back-pressure continue, which may add GETs
    // and replies: repeat until all is quiet.
    do {
      RunGetBatch();
      std::vector<Client*> flush;
      flush.swap(flush_list_);
      for (Client* c : flush) {
        c->in_flush_list = false;
        if (!c->closed) WriteTo(c);
      }
    } while (!gets_.empty() || !flush_list_.empty());
    if (!group_ || group_->ops.empty()) break;
    Status commit;
    if (group_->inline_ok && server_->writer->TryRunInline(group_.get(), &commit)) {
      // Committed here: reply, and let the clients go on with what they already sent.
      std::unique_ptr<Group> done = std::move(group_);
      OnGroupDone(done.get(), commit);
      continue;
    }
    server_->writer->Submit(std::move(group_));
    break;
  }
  group_.reset();
  FreeClosedClients();
}

void IoThread::RunGetBatch() {
  while (!gets_.empty()) {
    get_batch_.swap(gets_);
    gets_.clear();
    get_batch_key_bytes_.swap(get_key_bytes_);
    get_key_bytes_.clear();
    get_keys_.clear();
    for (const PendingGet& g : get_batch_) {
      get_keys_.emplace_back(get_batch_key_bytes_.data() + g.key_offset, g.key_size);
    }
    const size_t n = get_batch_.size();
    while (get_values_.size() > n) {
      get_spare_values_.push_back(std::move(get_values_.back()));
      get_values_.pop_back();
    }
    while (get_values_.size() < n && !get_spare_values_.empty()) {
      get_values_.push_back(std::move(get_spare_values_.back()));
      get_spare_values_.pop_back();
    }
    get_view_.set_now_ms(NowMs());
    get_view_.MultiGetStored(get_keys_, &get_values_, &get_statuses_);
    ServerStats& st = server_->stats;
    st.multiget_batches.fetch_add(1, std::memory_order_relaxed);
    st.multiget_keys.fetch_add(get_batch_.size(), std::memory_order_relaxed);
    uint64_t hits = 0;
    const uint64_t limit = server_->runtime.output_buffer_limit();
    get_clients_.clear();
    for (size_t i = 0; i < get_batch_.size(); ++i) {
      Client* c = get_batch_[i].client;
      --c->pending_gets;
      if (get_clients_.empty() || get_clients_.back() != c) get_clients_.push_back(c);
      if (c->closed) continue;
      if (limit > 0 && c->out.size() - c->out_pos > limit) {
        CloseClient(c, /*reset=*/true);  // over the output limit before it could even write
        continue;
      }
      ReplyBuilder reply(&c->out, c->session.protocol);
      std::string_view payload;
      int64_t expire_ms = 0;
      const Status& status = get_statuses_[i];
      if (status.ok() && ViewValue(get_values_[i], &payload, &expire_ms)) {
        ++hits;
        reply.Bulk(payload);
      } else if (status.IsNotFound()) {
        reply.Null();
      } else {
        reply.Error(StatusError(status));
      }
      MarkOutput(c);
    }
    st.keyspace_hits.fetch_add(hits, std::memory_order_relaxed);
    st.keyspace_misses.fetch_add(get_batch_.size() - hits, std::memory_order_relaxed);
    get_batch_.clear();
    // The value buffers stay for the next batch, up to kMaxKeptValueBytes in all.
    size_t kept = 0;
    auto keep = [&kept](const std::string& v) {
      if (v.capacity() <= std::string().capacity()) return false;  // no buffer of its own
      if (kept + v.capacity() > kMaxKeptValueBytes) return false;
      kept += v.capacity();
      return true;
    };
    for (std::string& v : get_values_) {
      if (!keep(v)) std::string().swap(v);
    }
    size_t spares = 0;
    for (size_t j = 0; j < get_spare_values_.size(); ++j) {
      if (!keep(get_spare_values_[j])) continue;
      if (j != spares) get_spare_values_[spares] = std::move(get_spare_values_[j]);
      ++spares;
    }
    get_spare_values_.resize(spares);
    if (get_batch_key_bytes_.capacity() > kMaxKeptKeyBytes) {
      std::string().swap(get_batch_key_bytes_);
    }
    QueueExpiredDeletes(get_view_.TakeExpired());
    // Resume adds no GETs to a batch being answered (they go to gets_) and never runs one,
    // so get_clients_ stays as it is while it is walked.
    for (Client* c : get_clients_) Resume(c);
  }
}

void IoThread::OnGroupDone(Group* group, const Status& status) {
  std::vector<Client*> touched;
  for (Group::Op& op : group->ops) {
    Client* c = op.client;
    if (c == nullptr) continue;
    --c->pending_writes;
    if (touched.empty() || touched.back() != c) touched.push_back(c);
    if (c->closed) continue;
    if (status.ok()) {
      c->out.append(op.reply);
    } else {
      ReplyBuilder(&c->out, c->session.protocol).Error(StatusError(status));
    }
    MarkOutput(c);
  }
  for (Client* c : touched) Resume(c);
}

void IoThread::OnJobDone(Client* c, std::string reply) {
  --c->pending_jobs;
  if (!c->closed) {
    c->out.append(reply);
    MarkOutput(c);
  }
  Resume(c);
}

void IoThread::Resume(Client* c) {
  if (c->closed) return;  // freed by FreeClosedClients once nothing is pending
  if (c->has_held || !c->protocol_error.empty() || c->in_pos < c->in.size()) {
    ProcessInput(c);
  } else {
    UpdateInterest(c);
    MaybeFinish(c);
  }
}

void IoThread::OnTimer() {
  const int timeout_s = server_->runtime.timeout_s();
  if (timeout_s <= 0) return;
  const int64_t now = NowMs();
  std::vector<Client*> idle;
  for (auto& [raw, c] : clients_) {
    if (!c->closed && c->pending() == 0 && now - c->last_active_ms > int64_t{timeout_s} * 1000) {
      idle.push_back(raw);
    }
  }
  for (Client* c : idle) CloseClient(c);
  FreeClosedClients();
}

// ---- Output ----

void IoThread::MarkOutput(Client* c) {
  if (!c->in_flush_list) {
    c->in_flush_list = true;
    flush_list_.push_back(c);
  }
}

void IoThread::WriteTo(Client* c) {
  while (c->out_pos < c->out.size()) {
    const ssize_t n = send(c->fd, c->out.data() + c->out_pos, c->out.size() - c->out_pos,
                           MSG_NOSIGNAL);
    if (n > 0) {
      c->out_pos += static_cast<size_t>(n);
      server_->stats.net_output_bytes.fetch_add(static_cast<uint64_t>(n),
                                                std::memory_order_relaxed);
      continue;
    }
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) break;
    CloseClient(c);
    return;
  }
  c->write_blocked = c->out_pos < c->out.size();
  if (c->out_pos == c->out.size()) {
    c->out_pos = 0;
    if (c->out.capacity() > (1u << 20)) {
      std::string().swap(c->out);
    } else {
      c->out.clear();
    }
    if (c->session.close_after_reply && c->pending() == 0) {
      CloseClient(c);
      return;
    }
  } else {
    if (c->out_pos > (1u << 20) && c->out_pos > c->out.size() / 2) {
      c->out.erase(0, c->out_pos);
      c->out_pos = 0;
    }
    const uint64_t limit = server_->runtime.output_buffer_limit();
    if (limit > 0 && c->out.size() - c->out_pos > limit) {
      CloseClient(c, /*reset=*/true);  // a reader too slow for its replies
      return;
    }
  }
  if ((c->has_held || c->in_pos < c->in.size()) && c->pending() == 0 &&
      c->out.size() - c->out_pos < server_->options.output_buffer_soft_limit) {
    ProcessInput(c);  // input parked by back-pressure
    return;
  }
  UpdateInterest(c);
  MaybeFinish(c);
}

void IoThread::UpdateInterest(Client* c) {
  if (c->closed) return;
  const size_t unsent = c->out.size() - c->out_pos;
  uint32_t want = 0;
  if (!c->eof && !c->has_held && c->protocol_error.empty() && !c->session.close_after_reply &&
      unsent < server_->options.output_buffer_soft_limit) {
    want |= EPOLLIN;
  }
  if (c->write_blocked) want |= EPOLLOUT;  // else BeforeSleep sends it
  if (want != c->interest) {
    loop_->Modify(c->fd, want, c);
    c->interest = want;
  }
}

void IoThread::MaybeFinish(Client* c) {
  if (c->closed || c->pending() > 0 || c->has_held || c->out_pos < c->out.size()) return;
  if (c->eof || (c->session.close_after_reply && !c->in_flush_list)) CloseClient(c);
}

void IoThread::CloseClient(Client* c, bool reset) {
  if (c->closed) return;
  c->closed = true;
  loop_->Remove(c->fd);
  if (reset) {
    // Drop what the kernel still holds for the client instead of trickling it out.
    const linger lg{1, 0};
    setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
  }
  close(c->fd);
  server_->stats.connected_clients.fetch_sub(1, std::memory_order_relaxed);
  closed_.push_back(c);
}

void IoThread::FreeClosedClients() {
  size_t kept = 0;
  for (Client* c : closed_) {
    if (c->pending() > 0 || c->in_flush_list) {
      closed_[kept++] = c;
    } else {
      clients_.erase(c);
    }
  }
  closed_.resize(kept);
}

}  // namespace server
}  // namespace learnkv
