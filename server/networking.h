// IoThread: one event loop and the clients it serves — accepting connections on its own
// SO_REUSEPORT listening sockets, reading requests into the RESP parser, routing each command
// by its flags (command.h), and writing replies in request order.
//
// Routing keeps one client's replies in order while letting many clients' work be batched:
//   - GET is gathered into the loop's read batch: before the loop sleeps, all GETs from all
//     clients (pipelined ones included) become one DB::MultiGet, so the tables' models
//     predict the positions of the whole batch at once;
//   - write commands (and EXEC) are gathered into the loop's write group, submitted to the
//     WriteExecutor before the loop sleeps; their replies come back once the group's batch
//     is in the WAL;
//   - blocking commands (SCAN, KEYS, DBSIZE) go to the worker pool;
//   - everything else runs at once.
// A command that could overtake a client's unfinished work (a read after an unacknowledged
// write, anything after a worker job, any immediate reply while work is pending) is held,
// and the client's socket is not read, until that work completes.
//
// Limits: request limits are the parser's; a client whose unsent replies exceed the soft
// output limit is not read until they drain, and one exceeding the hard limit is closed; idle
// clients are closed after the timeout; connections beyond maxclients are refused.
//
// Thread safety: Listen() and Start() from the owner before the thread runs; Stop() from any
// thread; Join() from the owner. Everything else runs on the loop's thread.
#ifndef LEARNKV_SERVER_NETWORKING_H_
#define LEARNKV_SERVER_NETWORKING_H_

#include <memory>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "server/command.h"
#include "server/event_loop.h"
#include "server/server_context.h"

namespace learnkv {
namespace server {

// IOError if some socket is already bound to address:port. Every I/O thread binds the port
// with SO_REUSEPORT, which would also let a second server process bind it and silently take
// part of the connections; checking first makes a port in use an error, as in Redis.
Status CheckPortFree(const std::string& address, int port);

class IoThread {
 public:
  IoThread(ServerContext* server, std::unique_ptr<EventLoop> loop);
  IoThread(const IoThread&) = delete;
  IoThread& operator=(const IoThread&) = delete;
  ~IoThread();

  // Binds and listens on address:port (IPv4 or IPv6 numeric address, or a host name).
  Status Listen(const std::string& address, int port);

  void Start();
  void Stop();
  void Join();

 private:
  struct Client;
  class Listener;
  class Group;
  // A GET waiting for the read batch; its key lies in the batch's key buffer.
  struct PendingGet {
    Client* client;
    size_t key_offset;
    size_t key_size;
  };

  void Accept(int listen_fd);
  void OnClientEvents(Client* c, uint32_t events);
  void ReadFrom(Client* c);
  void ProcessInput(Client* c);
  // Runs or routes the client's held command. False if it must wait for pending work.
  bool Dispatch(Client* c);
  // CommandTable::Find, remembering the last name as sent: a pipeline repeats one command,
  // and comparing a few bytes is cheaper than lower-casing and hashing them.
  const CommandSpec* FindCommand(std::string_view name);
  void RunInline(Client* c, const CommandSpec* spec, std::vector<std::string>& argv);
  void QueueWrite(Client* c, const CommandSpec* spec, std::vector<std::string> argv,
                  std::vector<std::vector<std::string>> tx, bool exec);
  void QueueExpiredDeletes(std::vector<std::string> keys);
  void SubmitJob(Client* c, const CommandSpec* spec, std::vector<std::string> argv);

  void BeforeSleep();
  void RunGetBatch();
  void OnGroupDone(Group* group, const Status& status);
  void OnJobDone(Client* c, std::string reply);
  void OnTimer();

  void MarkOutput(Client* c);
  void WriteTo(Client* c);
  void UpdateInterest(Client* c);
  // After a client's work completes: continue with its input, or finish closing it.
  void Resume(Client* c);
  void MaybeFinish(Client* c);
  // reset: abort the connection (RST), discarding replies the kernel has not sent.
  void CloseClient(Client* c, bool reset = false);
  void FreeClosedClients();

  ServerContext* const server_;
  std::unique_ptr<EventLoop> loop_;
  const CommandSpec* const get_spec_;
  std::vector<std::unique_ptr<Listener>> listeners_;
  std::unordered_map<Client*, std::unique_ptr<Client>> clients_;
  // FindCommand's last name, as sent (a size above the buffer's: none yet), and its spec.
  char last_command_name_[32];
  size_t last_command_size_ = sizeof(last_command_name_) + 1;
  const CommandSpec* last_command_spec_ = nullptr;
  std::vector<Client*> flush_list_;
  std::vector<Client*> closed_;
  std::vector<PendingGet> gets_;  // GETs dispatched since the last RunGetBatch
  std::string get_key_bytes_;     // their keys, one after another
  // RunGetBatch's working set, kept between batches for its capacity: with it, a steady
  // stream of GETs allocates nothing per key from parsing to reply.
  std::vector<PendingGet> get_batch_;
  std::string get_batch_key_bytes_;
  std::vector<std::string_view> get_keys_;
  std::vector<std::string> get_values_;
  std::vector<Status> get_statuses_;
  std::vector<Client*> get_clients_;  // the batch's clients, to resume after the replies
  // Value strings parked while a batch is smaller than an earlier one: DB::MultiGet sizes
  // get_values_ to each batch, which would free the buffers past its end.
  std::vector<std::string> get_spare_values_;
  ReadView get_view_;
  std::unique_ptr<Group> group_;
  std::thread thread_;
};

}  // namespace server
}  // namespace learnkv

#endif  // LEARNKV_SERVER_NETWORKING_H_
