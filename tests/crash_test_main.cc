// learnkv-crash-test: kills a writing process at random moments and checks that the DB it
// leaves behind recovers every acknowledged write, and no half-applied batch.
//
// The parent runs --cycles cycles. In each it starts a child (this binary with --child) that
// opens the DB and writes WriteBatches with sync=true, reporting each batch's id on a pipe
// after Write returned OK. After a random delay (up to --max_kill_ms) the parent SIGKILLs the
// child, opens the DB itself and checks it.
//
// The contents of batch N are a pure function of (--seed, N): a few distinct keys from a small
// key space, each either deleted or set to "N:<key>|<padding>", plus the marker key "~last"
// set to N. So the parent knows what every batch did without being told, and keeps a model of
// the DB: the state after applying every acknowledged batch in order. Batches are written one
// at a time, so at most one batch (the one after the last acknowledgement) was in flight when
// the child died; it may be present entirely or not at all. The recovered DB must therefore
// equal the model exactly, or the model plus that whole batch — a lost acknowledged write, a
// resurrected delete or half a batch matches neither. Then a consistency check: a backward
// scan is the forward scan reversed, every key Gets its scanned value, and the per-level table
// counts add up to the tables learnkv.sstables lists.
//
// Tiny memtables and files make flushes and compactions run during most kills.
#include <fcntl.h>
#include <gflags/gflags.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "learnkv/db.h"
#include "learnkv/env.h"
#include "learnkv/iterator.h"
#include "learnkv/options.h"
#include "learnkv/write_batch.h"
#include "util/random.h"

DEFINE_int32(cycles, 20, "Kill/recover cycles to run");
DEFINE_string(db, "", "DB directory (default: $LEARNKV_TEST_TMPDIR or /tmp, + crash_test-<pid>)");
DEFINE_uint64(seed, 301, "Seed of the batch contents and the kill delays");
DEFINE_int32(max_kill_ms, 1000, "The child is killed after a uniform delay in [0, max_kill_ms]");
DEFINE_int32(num_keys, 2000, "Size of the key space");
DEFINE_bool(sync, true, "Write with WriteOptions::sync");
DEFINE_int32(compact_one_in, 400, "The child runs a CompactRange about once per this many batches");
DEFINE_bool(keep, false, "Keep the DB directory after a successful run");
// Internal: the child's side.
DEFINE_bool(child, false, "Internal: run as the writing child");
DEFINE_int32(ack_fd, -1, "Internal: the child's acknowledgement pipe");
DEFINE_uint64(first_batch, 1, "Internal: the id of the child's first batch");
DEFINE_int32(cycle, 0, "Internal: the cycle number (selects table options)");

namespace learnkv {
namespace {

using Model = std::map<std::string, std::string>;

// One update of a batch; an empty optional value is a delete.
struct Update {
  std::string key;
  bool is_delete = false;
  std::string value;
};

const char kMarkerKey[] = "~last";

std::string KeyName(uint32_t i) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "key%06u", i);
  return buf;
}

std::string BatchIdString(uint64_t id) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%012llu", static_cast<unsigned long long>(id));
  return buf;
}

// The updates of batch `id`: 1..8 distinct keys, a quarter of them deletes, then the marker.
std::vector<Update> BatchContents(uint64_t seed, uint64_t id) {
  Random rnd(seed * 0x9e3779b97f4a7c15ull + id * 0xbf58476d1ce4e5b9ull + 1);
  std::vector<Update> updates;
  const int n = 1 + rnd.Uniform(8);
  while (static_cast<int>(updates.size()) < n) {
    const std::string key = KeyName(rnd.Uniform(FLAGS_num_keys));
    bool seen = false;
    for (const Update& u : updates) seen |= u.key == key;
    if (seen) continue;
    Update u;
    u.key = key;
    u.is_delete = rnd.OneIn(4);
    if (!u.is_delete) {
      u.value = std::to_string(id) + ":" + key + "|";
      u.value.append(rnd.Skewed(8), static_cast<char>('a' + id % 26));
    }
    updates.push_back(std::move(u));
  }
  updates.push_back({kMarkerKey, false, BatchIdString(id)});
  return updates;
}

void ApplyBatch(const std::vector<Update>& updates, Model* model) {
  for (const Update& u : updates) {
    if (u.is_delete) {
      model->erase(u.key);
    } else {
      (*model)[u.key] = u.value;
    }
  }
}

Options DBOptions(int cycle) {
  Options options;
  options.create_if_missing = true;
  options.write_buffer_size = 16 << 10;
  options.target_file_size_base = 32 << 10;
  options.max_bytes_for_level_base = 128 << 10;
  options.level0_file_num_compaction_trigger = 3;
  // Tables of every kind end up side by side in one DB.
  static const IndexType kIndex[] = {IndexType::kAuto, IndexType::kLearned, IndexType::kBlock};
  static const CompressionType kCompression[] = {CompressionType::kNone, CompressionType::kLz4,
                                                 CompressionType::kZstd};
  options.table_options.index_type = kIndex[cycle % 3];
  options.table_options.compression = kCompression[(cycle / 3) % 3];
  options.table_options.block_size = 1024;
  return options;
}

// ---- The child

int RunChild() {
  signal(SIGPIPE, SIG_DFL);
  std::unique_ptr<DB> db;
  Status s = DB::Open(DBOptions(FLAGS_cycle), FLAGS_db, &db);
  if (!s.ok()) {
    std::fprintf(stderr, "crash_test child: Open: %s\n", s.ToString().c_str());
    return 2;
  }
  WriteOptions wo;
  wo.sync = FLAGS_sync;
  Random rnd(FLAGS_seed + FLAGS_first_batch);
  for (uint64_t id = FLAGS_first_batch;; ++id) {
    WriteBatch batch;
    for (const Update& u : BatchContents(FLAGS_seed, id)) {
      s = u.is_delete ? batch.Delete(u.key) : batch.Put(u.key, u.value);
      if (!s.ok()) break;
    }
    if (s.ok()) s = db->Write(wo, &batch);
    if (!s.ok()) {
      std::fprintf(stderr, "crash_test child: batch %llu: %s\n",
                   static_cast<unsigned long long>(id), s.ToString().c_str());
      return 3;
    }
    // Acknowledged only now that Write returned OK.
    const char* p = reinterpret_cast<const char*>(&id);
    size_t left = sizeof(id);
    while (left > 0) {
      const ssize_t n = write(FLAGS_ack_fd, p, left);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return 4;
      p += n;
      left -= n;
    }
    if (FLAGS_compact_one_in > 0 && rnd.OneIn(FLAGS_compact_one_in)) {
      std::string a = KeyName(rnd.Uniform(FLAGS_num_keys));
      std::string b = KeyName(rnd.Uniform(FLAGS_num_keys));
      if (b < a) std::swap(a, b);
      const Slice begin(a), end(b);
      s = db->CompactRange(&begin, &end);
      if (!s.ok()) {
        std::fprintf(stderr, "crash_test child: CompactRange: %s\n", s.ToString().c_str());
        return 5;
      }
    }
  }
}

// ---- The parent

// Starts the child; returns its pid and the read end of its acknowledgement pipe.
pid_t StartChild(int cycle, uint64_t first_batch, int* read_fd) {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) {
    std::perror("pipe2");
    std::exit(1);
  }
  char self[4096];
  const ssize_t len = readlink("/proc/self/exe", self, sizeof(self) - 1);
  if (len <= 0) {
    std::perror("readlink /proc/self/exe");
    std::exit(1);
  }
  self[len] = '\0';
  std::vector<std::string> args = {
      self,
      "--child",
      "--db=" + FLAGS_db,
      "--seed=" + std::to_string(FLAGS_seed),
      "--num_keys=" + std::to_string(FLAGS_num_keys),
      std::string("--sync=") + (FLAGS_sync ? "true" : "false"),
      "--compact_one_in=" + std::to_string(FLAGS_compact_one_in),
      "--ack_fd=" + std::to_string(fds[1]),
      "--first_batch=" + std::to_string(first_batch),
      "--cycle=" + std::to_string(cycle),
  };
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);

  const pid_t pid = fork();
  if (pid < 0) {
    std::perror("fork");
    std::exit(1);
  }
  if (pid == 0) {
    // The write end must survive exec; the read end must not.
    fcntl(fds[1], F_SETFD, 0);
    execv(argv[0], argv.data());
    _exit(127);
  }
  close(fds[1]);
  *read_fd = fds[0];
  return pid;
}

// Reads acknowledged ids until the deadline (or, with deadline_ms < 0, until end of file).
void ReadAcks(int fd, int64_t deadline_ms, std::string* buffer, std::vector<uint64_t>* ids) {
  using Clock = std::chrono::steady_clock;
  const auto start = Clock::now();
  char chunk[4096];
  while (true) {
    int timeout = -1;
    if (deadline_ms >= 0) {
      const int64_t elapsed =
          std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start).count();
      if (elapsed >= deadline_ms) break;
      timeout = static_cast<int>(deadline_ms - elapsed);
    }
    pollfd p = {fd, POLLIN, 0};
    const int r = poll(&p, 1, timeout);
    if (r < 0 && errno == EINTR) continue;
    if (r == 0) break;  // deadline
    const ssize_t n = read(fd, chunk, sizeof(chunk));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;  // end of file: the child is gone
    buffer->append(chunk, n);
    size_t used = 0;
    while (buffer->size() - used >= sizeof(uint64_t)) {
      uint64_t id;
      std::memcpy(&id, buffer->data() + used, sizeof(id));
      ids->push_back(id);
      used += sizeof(id);
    }
    buffer->erase(0, used);
  }
}

std::string Describe(const Model& m, const std::string& key) {
  auto it = m.find(key);
  return it == m.end() ? "<absent>" : "'" + it->second + "'";
}

// The first few keys where two states differ.
std::string Diff(const Model& got, const Model& want) {
  std::ostringstream out;
  int shown = 0;
  std::map<std::string, int> keys;
  for (const auto& [k, v] : got) keys[k] = 0;
  for (const auto& [k, v] : want) keys[k] = 0;
  for (const auto& [k, unused] : keys) {
    if (Describe(got, k) == Describe(want, k)) continue;
    if (shown++ == 8) {
      out << " ...";
      break;
    }
    out << "\n    " << k << ": recovered " << Describe(got, k) << ", expected "
        << Describe(want, k);
  }
  return out.str();
}

// Reads the whole DB and checks it is self-consistent. Returns "" or what is wrong.
std::string ReadAndCheck(DB* db, Model* contents, uint64_t* tables) {
  std::unique_ptr<Iterator> it = db->NewIterator(ReadOptions());
  std::vector<std::pair<std::string, std::string>> forward;
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    if (!forward.empty() && !(Slice(forward.back().first) < it->key())) {
      return "forward scan out of order at " + it->key().ToString();
    }
    forward.emplace_back(it->key().ToString(), it->value().ToString());
  }
  if (!it->status().ok()) return "forward scan: " + it->status().ToString();
  size_t i = forward.size();
  for (it->SeekToLast(); it->Valid(); it->Prev()) {
    if (i == 0) return "backward scan has extra key " + it->key().ToString();
    --i;
    if (it->key() != Slice(forward[i].first) || it->value() != Slice(forward[i].second)) {
      return "backward scan differs at " + forward[i].first + ": " + it->key().ToString();
    }
  }
  if (!it->status().ok()) return "backward scan: " + it->status().ToString();
  if (i != 0) return "backward scan misses " + forward[i - 1].first;
  it.reset();

  contents->clear();
  for (const auto& [k, v] : forward) {
    std::string got;
    const Status s = db->Get(ReadOptions(), k, &got);
    if (!s.ok()) return "Get(" + k + "): " + s.ToString();
    if (got != v) return "Get(" + k + ") = '" + got + "', scan says '" + v + "'";
    (*contents)[k] = v;
  }

  uint64_t total = 0;
  for (int level = 0; level < Options().num_levels; ++level) {
    std::string v;
    if (!db->GetProperty("learnkv.num-files-at-level" + std::to_string(level), &v)) {
      return "no property num-files-at-level" + std::to_string(level);
    }
    total += std::strtoull(v.c_str(), nullptr, 10);
  }
  std::string sstables;
  if (!db->GetProperty("learnkv.sstables", &sstables)) return "no property learnkv.sstables";
  std::istringstream lines(sstables);
  std::string line;
  uint64_t listed = 0;
  while (std::getline(lines, line)) {
    if (line.find("rmi") != std::string::npos || line.find("block") != std::string::npos) {
      ++listed;
    }
  }
  if (listed != total) {
    return "num-files-at-level* add up to " + std::to_string(total) +
           " but learnkv.sstables lists " + std::to_string(listed) + ":\n" + sstables;
  }
  *tables = total;
  return "";
}

std::string DefaultDir() {
  const char* base = std::getenv("LEARNKV_TEST_TMPDIR");
  std::string dir = base != nullptr ? base : "/tmp";
  Env::Default()->CreateDir(dir);
  return dir + "/crash_test-" + std::to_string(getpid());
}

int RunParent() {
  if (FLAGS_db.empty()) FLAGS_db = DefaultDir();
  DestroyDB(FLAGS_db, Options());
  Random rnd(FLAGS_seed);
  Model model;  // every acknowledged batch applied
  uint64_t next_id = 1;
  int passed = 0, failed = 0;
  for (int cycle = 1; cycle <= FLAGS_cycles && failed == 0; ++cycle) {
    const int delay_ms = static_cast<int>(rnd.Uniform(FLAGS_max_kill_ms + 1));
    int fd = -1;
    const pid_t pid = StartChild(cycle, next_id, &fd);
    std::string buffer;
    std::vector<uint64_t> acks;
    ReadAcks(fd, delay_ms, &buffer, &acks);
    kill(pid, SIGKILL);
    int wstatus = 0;
    waitpid(pid, &wstatus, 0);
    ReadAcks(fd, -1, &buffer, &acks);  // what the pipe still holds
    close(fd);

    std::string error;
    if (!WIFSIGNALED(wstatus) || WTERMSIG(wstatus) != SIGKILL) {
      error = "the child ended by itself before the kill (status " + std::to_string(wstatus) + ")";
    }
    for (size_t i = 0; i < acks.size() && error.empty(); ++i) {
      if (acks[i] != next_id + i) {
        error = "acknowledgement " + std::to_string(acks[i]) + " out of sequence";
      }
    }
    if (!error.empty()) {
      std::printf("cycle %d: FAILED: %s\n", cycle, error.c_str());
      ++failed;
      break;
    }
    for (uint64_t id : acks) ApplyBatch(BatchContents(FLAGS_seed, id), &model);
    const uint64_t in_flight = next_id + acks.size();
    Model with_in_flight = model;
    ApplyBatch(BatchContents(FLAGS_seed, in_flight), &with_in_flight);

    std::unique_ptr<DB> db;
    Status s = DB::Open(DBOptions(cycle), FLAGS_db, &db);
    Model recovered;
    uint64_t tables = 0;
    if (!s.ok()) {
      error = "reopen: " + s.ToString();
    } else {
      error = ReadAndCheck(db.get(), &recovered, &tables);
    }
    const char* in_flight_state = "";
    if (error.empty()) {
      if (recovered == model) {
        in_flight_state = "absent";
        next_id = in_flight;
      } else if (recovered == with_in_flight) {
        in_flight_state = "applied";
        model = std::move(with_in_flight);
        next_id = in_flight + 1;
      } else {
        error = "recovered state is neither the acknowledged batches (up to " +
                std::to_string(in_flight - 1) + ") nor those plus the whole batch " +
                std::to_string(in_flight) + "; marker " + Describe(recovered, kMarkerKey) +
                "; against the acknowledged state:" + Diff(recovered, model);
      }
    }
    if (db != nullptr) {
      s = db->Close();
      if (!s.ok() && error.empty()) error = "close: " + s.ToString();
      db.reset();
    }
    if (error.empty()) {
      ++passed;
      std::printf(
          "cycle %d: killed after %d ms, %zu batches acknowledged, in-flight batch %s, "
          "%zu keys, %llu tables: ok\n",
          cycle, delay_ms, acks.size(), in_flight_state, model.size(),
          static_cast<unsigned long long>(tables));
    } else {
      ++failed;
      std::printf("cycle %d: killed after %d ms, %zu batches acknowledged: FAILED: %s\n", cycle,
                  delay_ms, acks.size(), error.c_str());
    }
    std::fflush(stdout);
  }
  std::printf("crash_test: %d cycles passed, %d failed (db %s, seed %llu)\n", passed, failed,
              FLAGS_db.c_str(), static_cast<unsigned long long>(FLAGS_seed));
  if (failed == 0 && !FLAGS_keep) DestroyDB(FLAGS_db, Options());
  return failed == 0 ? 0 : 1;
}

}  // namespace
}  // namespace learnkv

int main(int argc, char** argv) {
  gflags::SetUsageMessage("kills a writing learnkv process repeatedly and checks recovery");
  gflags::ParseCommandLineFlags(&argc, &argv, true);
  return FLAGS_child ? learnkv::RunChild() : learnkv::RunParent();
}
