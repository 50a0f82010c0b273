// learnkv-sst: inspects learnkv table files, as RocksDB's sst_dump does for its own (same flag
// names). The commands live in tools/sst_dump.{h,cc}; this is only the command line.
//
//   learnkv-sst --file=000012.sst --command=verify --show_properties
//   learnkv-sst --file=/path/to/db --command=scan --from=user1 --read_num=10
//   learnkv-sst --file=000012.sst --command=none --plot=/tmp/cdf.png
#include <gflags/gflags.h>
#include <unistd.h>

#include <cstdio>
#include <string>
#include <vector>

#include "tools/sst_dump.h"

DEFINE_string(file, "", "A table file, or a directory: then every *.sst in it");
DEFINE_string(command, "scan", "verify | scan | raw | check | none");
DEFINE_string(from, "", "scan: first user key (inclusive); unset: from the start");
DEFINE_string(to, "", "scan: last user key (exclusive); unset: to the end");
DEFINE_int64(read_num, -1, "scan: print at most this many entries (-1: all)");
DEFINE_bool(input_key_hex, false, "--from and --to are given in hex");
DEFINE_bool(output_hex, false, "scan: print keys and values in hex");
DEFINE_bool(show_properties, false, "Print the table properties, one 'name: value' per line");
DEFINE_string(plot, "",
              "Write a PNG of the key CDF against the model's predictions (python3 + "
              "matplotlib)");
// Debian's python3-matplotlib is installed for the system interpreter, which a pyenv or
// virtualenv python3 earlier on the PATH would not see.
DEFINE_string(python, "", "Interpreter for --plot (default: /usr/bin/python3 if present)");

namespace {

bool DecodeHex(const std::string& hex, std::string* out) {
  if (hex.size() % 2 != 0) return false;
  out->clear();
  for (size_t i = 0; i < hex.size(); i += 2) {
    unsigned v = 0;
    if (sscanf(hex.c_str() + i, "%2x", &v) != 1) return false;
    out->push_back(static_cast<char>(v));
  }
  return true;
}

bool ParseKeyFlag(const char* name, const std::string& value, bool* has, std::string* key) {
  *has = !gflags::GetCommandLineFlagInfoOrDie(name).is_default;
  if (!*has || !FLAGS_input_key_hex) {
    *key = value;
    return true;
  }
  if (DecodeHex(value, key)) return true;
  fprintf(stderr, "learnkv-sst: --%s is not hex: %s\n", name, value.c_str());
  return false;
}

// "out.png" -> "out-000012.png", one plot per table of a directory.
std::string PlotFileFor(const std::string& plot, const std::string& table) {
  const size_t slash = table.find_last_of('/');
  std::string stem = table.substr(slash == std::string::npos ? 0 : slash + 1);
  stem = stem.substr(0, stem.rfind('.'));
  const size_t dot = plot.rfind('.');
  if (dot == std::string::npos) return plot + "-" + stem;
  return plot.substr(0, dot) + "-" + stem + plot.substr(dot);
}

}  // namespace

int main(int argc, char** argv) {
  gflags::SetUsageMessage("learnkv-sst --file=<table or db dir> [--command=...] [flags]");
  gflags::ParseCommandLineFlags(&argc, &argv, true);
  if (FLAGS_file.empty()) {
    fprintf(stderr, "learnkv-sst: --file is required\n%s\n", gflags::ProgramUsage());
    return 2;
  }
  learnkv::SstDumpOptions options;
  options.command = FLAGS_command;
  if (!learnkv::IsSstDumpCommand(options.command)) {
    fprintf(stderr, "learnkv-sst: unknown --command=%s (verify | scan | raw | check | none)\n",
            FLAGS_command.c_str());
    return 2;
  }
  if (!ParseKeyFlag("from", FLAGS_from, &options.has_from, &options.from) ||
      !ParseKeyFlag("to", FLAGS_to, &options.has_to, &options.to)) {
    return 2;
  }
  if (FLAGS_read_num >= 0) options.read_num = static_cast<uint64_t>(FLAGS_read_num);
  options.output_hex = FLAGS_output_hex;
  options.show_properties = FLAGS_show_properties;
  options.python = !FLAGS_python.empty()                   ? FLAGS_python
                   : access("/usr/bin/python3", X_OK) == 0 ? "/usr/bin/python3"
                                                           : "python3";
  options.plot_script = LEARNKV_SOURCE_DIR "/scripts/plot_cdf.py";

  learnkv::Env* env = learnkv::Env::Default();
  std::vector<std::string> files;
  learnkv::Status s = learnkv::ListTableFiles(env, FLAGS_file, &files);
  if (!s.ok()) {
    fprintf(stderr, "learnkv-sst: %s\n", s.ToString().c_str());
    return 1;
  }
  int failures = 0;
  for (const std::string& f : files) {
    if (!FLAGS_plot.empty()) {
      options.plot_file = files.size() == 1 ? FLAGS_plot : PlotFileFor(FLAGS_plot, f);
    }
    s = learnkv::DumpTable(env, f, options, stdout);
    if (!s.ok()) {
      fflush(stdout);
      fprintf(stderr, "learnkv-sst: %s\n", s.ToString().c_str());
      failures++;
    }
  }
  return failures == 0 ? 0 : 1;
}
