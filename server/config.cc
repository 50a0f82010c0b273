#include "server/config.h"

#include <algorithm>
#include <cctype>
#include <fstream>

namespace learnkv {
namespace server {

namespace {

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

const char* YesNo(bool b) { return b ? "yes" : "no"; }

// The parameters CONFIG SET may change.
const char* const kMutable[] = {"requirepass", "maxclients", "timeout",
                                "client-output-buffer-limit"};

}  // namespace

bool ParseMemory(std::string_view s, uint64_t* bytes) {
  std::string lower = Lower(std::string(s));
  uint64_t unit = 1;
  struct Suffix {
    const char* name;
    uint64_t mult;
  };
  static const Suffix kSuffixes[] = {{"gb", 1ull << 30}, {"mb", 1ull << 20}, {"kb", 1ull << 10},
                                     {"g", 1000000000ull}, {"m", 1000000ull}, {"k", 1000ull},
                                     {"b", 1}};
  for (const Suffix& suf : kSuffixes) {
    const size_t n = std::char_traits<char>::length(suf.name);
    if (lower.size() > n && lower.compare(lower.size() - n, n, suf.name) == 0 &&
        std::isdigit(static_cast<unsigned char>(lower[lower.size() - n - 1]))) {
      unit = suf.mult;
      lower.resize(lower.size() - n);
      break;
    }
  }
  int64_t v = 0;
  if (!ParseInt64Strict(lower, &v) || v < 0) return false;
  if (unit > 1 && static_cast<uint64_t>(v) > UINT64_MAX / unit) return false;
  *bytes = static_cast<uint64_t>(v) * unit;
  return true;
}

std::vector<ConfigPair> ConfigValues(const ServerOptions& o, const RuntimeConfig& rt) {
  const uint64_t obl = rt.output_buffer_limit();
  const Options& db = o.db_options;
  return {
      {"bind", o.bind},
      {"port", std::to_string(o.port)},
      {"protected-mode", YesNo(o.protected_mode)},
      {"io-threads", std::to_string(o.io_threads)},
      {"requirepass", rt.requirepass()},
      {"maxclients", std::to_string(rt.maxclients())},
      {"timeout", std::to_string(rt.timeout_s())},
      {"client-output-buffer-limit", "normal " + std::to_string(obl) + " 0 0"},
      {"proto-max-bulk-len", std::to_string(o.limits.max_bulk_len)},
      {"dir", o.dir},
      {"appendonly", "yes"},
      {"appendfsync", SyncModeName(o.sync)},
      {"save", ""},
      {"databases", "1"},
      {"maxmemory", "0"},
      {"write-buffer-size", std::to_string(db.write_buffer_size)},
      {"max-write-buffer-number", std::to_string(db.max_write_buffer_number)},
      {"max-background-jobs", std::to_string(db.max_background_jobs)},
      {"max-open-files", std::to_string(db.max_open_files)},
      {"level0-file-num-compaction-trigger", std::to_string(db.level0_file_num_compaction_trigger)},
      {"target-file-size-base", std::to_string(db.target_file_size_base)},
      {"max-bytes-for-level-base", std::to_string(db.max_bytes_for_level_base)},
      {"block-size", std::to_string(db.table_options.block_size)},
      {"compression", CompressionTypeName(db.table_options.compression)},
      {"index-type", IndexTypeName(db.table_options.index_type)},
      {"accelerator", db.accelerator},
  };
}

Status ConfigSet(const std::string& raw_name, const std::string& value, RuntimeConfig* rt) {
  const std::string name = Lower(raw_name);
  auto failed = [&](const std::string& why) {
    return Status::InvalidArgument("ERR CONFIG SET failed (possibly related to argument '" +
                                   name + "') - " + why);
  };
  if (std::find(std::begin(kMutable), std::end(kMutable), name) == std::end(kMutable)) {
    static const ServerOptions defaults;
    static const RuntimeConfig default_rt(defaults);
    for (const ConfigPair& p : ConfigValues(defaults, default_rt)) {
      if (p.first == name) return failed("can't set immutable config");
    }
    return Status::InvalidArgument("ERR Unknown option or number of arguments for CONFIG SET - '" +
                                   raw_name + "'");
  }
  if (name == "requirepass") {
    rt->set_requirepass(value);
    return Status::OK();
  }
  if (name == "client-output-buffer-limit") {
    std::vector<std::string> words;
    uint64_t hard = 0;
    if (!SplitArgs(value, &words) || words.size() != 4 || Lower(words[0]) != "normal" ||
        !ParseMemory(words[1], &hard)) {
      return failed("Wrong number of arguments in buffer limit configuration.");
    }
    rt->set_output_buffer_limit(hard);
    return Status::OK();
  }
  int64_t n = 0;
  if (!ParseInt64Strict(value, &n)) return failed("argument couldn't be parsed into an integer");
  if (name == "maxclients") {
    if (n < 1 || n > 1000000) return failed("argument must be between 1 and 1000000 inclusive");
    rt->set_maxclients(static_cast<int>(n));
  } else {  // timeout
    if (n < 0 || n > INT32_MAX) return failed("argument must be between 0 and 2147483647 inclusive");
    rt->set_timeout_s(static_cast<int>(n));
  }
  return Status::OK();
}

Status ReadConfigFile(const std::string& path, std::vector<ConfigDirective>* directives) {
  std::ifstream in(path);
  if (!in) return Status::IOError(path, "cannot open config file");
  std::string line;
  int number = 0;
  while (std::getline(in, line)) {
    ++number;
    size_t start = line.find_first_not_of(" \t\r");
    if (start == std::string::npos || line[start] == '#') continue;
    std::vector<std::string> words;
    if (!SplitArgs(line, &words)) {
      return Status::InvalidArgument(path + ":" + std::to_string(number), "unbalanced quotes");
    }
    if (words.empty()) continue;
    ConfigDirective d;
    d.name = Lower(words[0]);
    d.args.assign(words.begin() + 1, words.end());
    d.line = number;
    directives->push_back(std::move(d));
  }
  return Status::OK();
}

}  // namespace server
}  // namespace learnkv
