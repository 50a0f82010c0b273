// The logic of learnkv-sst, the table inspector (flags and commands follow RocksDB's sst_dump):
//
//   verify  reads every block of the file with its checksum checked, then iterates over every
//           entry; any failure is the error.
//   scan    prints entries as  'user key' seq:N, type:N => value  (bytes outside printable
//           ASCII as \xNN, or everything in hex), from/to/read_num limiting the range.
//   raw     prints the layout: footer, metaindex, index block, and every data block's handle,
//           compression, record count and first key.
//   check   iterates and checks that keys are strictly ordered, that every entry lies inside
//           the window its model predicts, and that a point lookup finds each user key.
//   none    nothing besides the properties and the model report.
//
// For every table with a learned model it then prints the model's error histogram and, when
// asked, plots the key CDF against the predictions (scripts/plot_cdf.py). Kept apart from
// main (tools/learnkv_sst.cc) so that it is usable, and testable, as a library.
//
// Thread safety: functions are independent; each call is single-threaded.
#ifndef LEARNKV_TOOLS_SST_DUMP_H_
#define LEARNKV_TOOLS_SST_DUMP_H_

#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "learnkv/env.h"
#include "learnkv/status.h"

namespace learnkv {

struct SstDumpOptions {
  // verify | scan | raw | check | none. Default scan, as sst_dump.
  std::string command = "scan";
  // scan's range of user keys, [from, to); unset means unbounded.
  bool has_from = false;
  std::string from;
  bool has_to = false;
  std::string to;
  // scan prints at most this many entries. Default: all.
  uint64_t read_num = UINT64_MAX;
  // scan prints keys and values as hex instead of escaped text.
  bool output_hex = false;
  // Prints every table property (and the index summary) as "name: value" lines.
  bool show_properties = false;
  // When non-empty, the PNG to plot the model into (needs python3 with matplotlib).
  std::string plot_file;
  // The interpreter and script that draw the plot.
  std::string python = "python3";
  std::string plot_script;
};

// True if `command` is one that DumpTable knows.
bool IsSstDumpCommand(const std::string& command);

// The table files `path` names: itself when it is a file, or every *.sst directly in it (in
// name order) when it is a directory.
Status ListTableFiles(Env* env, const std::string& path, std::vector<std::string>* files);

// Runs options.command on the table in `path`, printing to out. Returns the first error: an
// unreadable or corrupt file (the Status names the file and the offset), or, for check, the
// first violation found.
Status DumpTable(Env* env, const std::string& path, const SstDumpOptions& options, FILE* out);

// user_key as sst_dump shows it: printable ASCII as is, other bytes (and backslash) as \xNN.
std::string EscapeBytes(const Slice& bytes);

}  // namespace learnkv

#endif  // LEARNKV_TOOLS_SST_DUMP_H_
