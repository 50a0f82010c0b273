// learnkv-sst's commands (see sst_dump.h). The reader (sstable/table_reader.h) opens and
// validates the table; raw and verify additionally walk the file's blocks themselves, from the
// footer through the metaindex and index to every data block, so that they report each
// block's own checksum and layout rather than only what a lookup happens to touch.
#include "tools/sst_dump.h"

#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cinttypes>
#include <filesystem>
#include <memory>
#include <utility>

#include "learned/key_mapping.h"
#include "sstable/block.h"
#include "sstable/block_locator.h"
#include "sstable/format.h"
#include "sstable/internal_key.h"
#include "sstable/table_reader.h"
#include "tools/model_report.h"
#include "util/coding.h"

extern char** environ;

namespace learnkv {

namespace {

// Points for the CDF plot: enough to show every bend of the model, few enough for matplotlib.
constexpr size_t kMaxPlotSamples = 20000;

struct OpenedTable {
  std::string name;
  uint64_t file_size = 0;
  std::unique_ptr<TableReader> reader;
  // A second handle for block-level reads (the reader owns its own).
  std::unique_ptr<RandomAccessFile> file;
};

Status OpenTable(Env* env, const std::string& path, OpenedTable* t) {
  t->name = path;
  Status s = env->GetFileSize(path, &t->file_size);
  std::unique_ptr<RandomAccessFile> reader_file;
  if (s.ok()) s = env->NewRandomAccessFile(path, &reader_file);
  if (s.ok()) s = env->NewRandomAccessFile(path, &t->file);
  if (!s.ok()) return s;
  TableOptions options;
  options.verify_checksums = true;
  return TableReader::Open(options, path, std::move(reader_file), t->file_size, &t->reader);
}

// The file's blocks as its footer, metaindex and index describe them.
struct TableLayout {
  uint64_t footer_offset = 0;
  Footer footer;
  std::vector<std::pair<std::string, BlockHandle>> meta_blocks;  // from the metaindex
  std::string index_summary;
  std::vector<BlockHandle> data_blocks;
};

Status ReadParsedBlock(const OpenedTable& t, const BlockHandle& handle, bool internal_keys,
                       Block* block) {
  BlockContents contents;
  Status s = ReadBlock(t.file.get(), t.name, handle, /*verify_checksum=*/true, &contents);
  if (!s.ok()) return s;
  return Block::Parse(std::move(contents), internal_keys, t.name, handle.offset, block);
}

Status ReadLayout(const OpenedTable& t, TableLayout* layout) {
  layout->footer_offset = t.file_size - Footer::kEncodedLength;  // Open checked the size
  char buf[Footer::kEncodedLength];
  Slice input;
  Status s = t.file->Read(layout->footer_offset, sizeof(buf), &input, buf);
  if (s.ok() && input.size() != sizeof(buf)) s = Status::Corruption("truncated footer");
  if (s.ok()) s = layout->footer.DecodeFrom(input);
  if (!s.ok()) return CorruptionAt(t.name, s.message().c_str(), layout->footer_offset);
  const Footer& footer = layout->footer;

  Block metaindex;
  s = ReadParsedBlock(t, footer.metaindex, false, &metaindex);
  if (!s.ok()) return s;
  for (uint32_t i = 0; i < metaindex.num_records(); ++i) {
    Slice name, value;
    metaindex.RecordAt(i, &name, &value);
    BlockHandle h;
    if (!h.DecodeFrom(&value) || !h.FitsWithin(layout->footer_offset)) {
      return CorruptionAt(t.name, "bad handle in metaindex", footer.metaindex.offset);
    }
    layout->meta_blocks.emplace_back(name.ToString(), h);
  }

  BlockContents index;
  s = ReadBlock(t.file.get(), t.name, footer.index, true, &index);
  if (!s.ok()) return s;
  char summary[256];
  if (footer.index_type == IndexType::kLearned) {
    // Model block: n, R, key mapper, RMI, block locator (table_builder.cc).
    Slice in(index.data.get(), index.size);
    uint64_t n = 0, rpb = 0;
    KeyMapper mapper;
    Slice rmi;
    BlockLocator locator;
    if (!GetVarint64(&in, &n) || !GetVarint64(&in, &rpb)) s = Status::Corruption("bad header");
    if (s.ok()) s = KeyMapper::DecodeFrom(&in, &mapper);
    if (s.ok() && !GetLengthPrefixedSlice(&in, &rmi)) s = Status::Corruption("truncated model");
    const size_t locator_bytes = in.size();
    if (s.ok()) s = locator.DecodeFrom(&in, t.reader->properties().data_bytes);
    if (!s.ok()) return CorruptionAt(t.name, s.message().c_str(), footer.index.offset);
    snprintf(summary, sizeof(summary),
             "learned model block: %" PRIu64 " entries, %" PRIu64
             " records per block, key prefix '%s' (%zu bytes), RMI %zu bytes, block locator "
             "%zu bytes for %" PRIu64 " blocks",
             n, rpb, EscapeBytes(mapper.prefix()).c_str(), mapper.prefix().size(), rmi.size(),
             locator_bytes, locator.num_blocks());
    for (uint64_t i = 0; i < locator.num_blocks(); ++i) {
      layout->data_blocks.push_back(locator.Handle(i));
    }
  } else {
    Block block;
    s = Block::Parse(std::move(index), true, t.name, footer.index.offset, &block);
    if (!s.ok()) return s;
    snprintf(summary, sizeof(summary), "classic index block: %u entries (separator -> handle)",
             block.num_records());
    for (uint32_t i = 0; i < block.num_records(); ++i) {
      Slice key, value;
      block.RecordAt(i, &key, &value);
      BlockHandle h;
      if (!h.DecodeFrom(&value)) {
        return CorruptionAt(t.name, "bad handle in index block", footer.index.offset);
      }
      layout->data_blocks.push_back(h);
    }
  }
  layout->index_summary = summary;
  return Status::OK();
}

std::string FormatInternalKey(const Slice& internal_key, bool hex) {
  ParsedInternalKey p;
  if (!ParseInternalKey(internal_key, &p)) {
    return "'" + internal_key.ToHex() + "' (not an internal key)";
  }
  return "'" + (hex ? p.user_key.ToHex() : EscapeBytes(p.user_key)) +
         "' seq:" + std::to_string(p.sequence) + ", type:" + std::to_string(p.type);
}

// ---- Commands ----

Status Scan(const OpenedTable& t, const SstDumpOptions& o, FILE* out) {
  std::unique_ptr<Iterator> it = t.reader->NewIterator();
  if (o.has_from) {
    it->Seek(LookupKey(o.from, kMaxSequenceNumber).internal_key());
  } else {
    it->SeekToFirst();
  }
  for (uint64_t n = 0; it->Valid() && n < o.read_num; it->Next(), ++n) {
    const Slice key = it->key();
    if (o.has_to && key.size() >= kInternalKeyTrailerSize &&
        ExtractUserKey(key).compare(o.to) >= 0) {
      break;
    }
    const Slice value = it->value();
    fprintf(out, "%s => %s\n", FormatInternalKey(key, o.output_hex).c_str(),
            (o.output_hex ? value.ToHex() : EscapeBytes(value)).c_str());
  }
  return it->status();
}

Status Raw(const OpenedTable& t, FILE* out) {
  TableLayout layout;
  Status s = ReadLayout(t, &layout);
  if (!s.ok()) return s;
  const Footer& f = layout.footer;
  fprintf(out, "Footer (offset %" PRIu64 ", %zu bytes): index type %s, format version %u\n",
          layout.footer_offset, Footer::kEncodedLength, IndexTypeName(f.index_type),
          unsigned{kTableFormatVersion});
  fprintf(out, "  metaindex  offset %" PRIu64 " size %" PRIu64 "\n", f.metaindex.offset,
          f.metaindex.size);
  fprintf(out, "  index      offset %" PRIu64 " size %" PRIu64 "\n", f.index.offset, f.index.size);
  fprintf(out, "Metaindex:\n");
  for (const auto& [name, h] : layout.meta_blocks) {
    fprintf(out, "  %s -> offset %" PRIu64 " size %" PRIu64 "\n", name.c_str(), h.offset, h.size);
  }
  fprintf(out, "Index: %s\n", layout.index_summary.c_str());
  fprintf(out, "Data blocks: %zu\n", layout.data_blocks.size());
  fprintf(out, "  %8s %12s %8s %-5s %8s  %s\n", "block", "offset", "size", "comp", "records",
          "first key");
  Status first_error;
  for (size_t i = 0; i < layout.data_blocks.size(); ++i) {
    const BlockHandle& h = layout.data_blocks[i];
    char type = 0;
    Slice type_byte;
    s = t.file->Read(h.offset + h.size, 1, &type_byte, &type);
    const char* comp = "?";
    if (s.ok() && type_byte.size() == 1 && static_cast<uint8_t>(type_byte[0]) <= 2) {
      comp = CompressionTypeName(static_cast<CompressionType>(type_byte[0]));
    }
    Block block;
    if (s.ok()) s = ReadParsedBlock(t, h, true, &block);
    if (!s.ok()) {
      fprintf(out, "  %8zu %12" PRIu64 " %8" PRIu64 " %-5s error: %s\n", i, h.offset, h.size, comp,
              s.ToString().c_str());
      if (first_error.ok()) first_error = s;
      continue;
    }
    fprintf(out, "  %8zu %12" PRIu64 " %8" PRIu64 " %-5s %8u  %s\n", i, h.offset, h.size, comp,
            block.num_records(),
            block.num_records() > 0 ? FormatInternalKey(block.KeyAt(0), false).c_str() : "-");
  }
  return first_error;
}

// Reads every block of the file, checksums verified.
Status VerifyBlocks(const OpenedTable& t, FILE* out) {
  TableLayout layout;
  Status s = ReadLayout(t, &layout);  // footer, metaindex and index
  if (!s.ok()) return s;
  for (const auto& meta : layout.meta_blocks) {
    BlockContents contents;
    s = ReadBlock(t.file.get(), t.name, meta.second, true, &contents);
    if (!s.ok()) return s;
  }
  for (const BlockHandle& h : layout.data_blocks) {
    Block block;
    s = ReadParsedBlock(t, h, true, &block);
    if (!s.ok()) return s;
  }
  fprintf(out, "verify: %zu data blocks, %zu meta blocks, index and metaindex checksummed\n",
          layout.data_blocks.size(), layout.meta_blocks.size());
  return Status::OK();
}

Status VerifyCount(const OpenedTable& t, const TableWalk& walk, FILE* out) {
  if (walk.entries != t.reader->num_entries()) {
    return Status::Corruption(t.name, "iteration found " + std::to_string(walk.entries) +
                                          " entries, the properties say " +
                                          std::to_string(t.reader->num_entries()));
  }
  fprintf(out, "verify: OK: %" PRIu64 " entries iterated\n", walk.entries);
  return Status::OK();
}

Status Check(const OpenedTable& t, const TableWalk& walk, FILE* out) {
  if (walk.order_violations > 0 || walk.bound_violations > 0) {
    return Status::Corruption(
        t.name, walk.first_violation + " (" + std::to_string(walk.order_violations) +
                    " entries out of order, " + std::to_string(walk.bound_violations) +
                    " outside the model's window)");
  }
  // A point lookup of each user key must land on its newest entry, the first in the table.
  const TableReader& reader = *t.reader;
  std::unique_ptr<Iterator> it = reader.NewIterator();
  std::string prev_user_key, found;
  uint64_t user_keys = 0;
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    const Slice user_key = ExtractUserKey(it->key());
    if (user_keys > 0 && user_key == Slice(prev_user_key)) continue;
    prev_user_key.assign(user_key.data(), user_key.size());
    user_keys++;
    found.clear();
    Status s = reader.Get(LookupKey(user_key, kMaxSequenceNumber).internal_key(),
                          [&](const Slice& key, const Slice&) {
                            found.assign(key.data(), key.size());
                            return false;
                          });
    if (!s.ok()) return s;
    if (Slice(found) != it->key()) {
      return Status::Corruption(t.name, "point lookup of " + FormatInternalKey(it->key(), false) +
                                            " found " +
                                            (found.empty() ? "nothing" : Slice(found).ToHex()));
    }
  }
  if (!it->status().ok()) return it->status();
  fprintf(
      out,
      "check: OK: %" PRIu64 " entries in order%s, %" PRIu64 " user keys found by point lookup\n",
      walk.entries, reader.model() != nullptr ? " and inside the model's windows" : "", user_keys);
  return Status::OK();
}

void PrintProperties(const TableReader& reader, FILE* out) {
  const TableProperties& p = reader.properties();
  const bool learned = p.index_type == IndexType::kLearned;
  const double n = static_cast<double>(std::max<uint64_t>(p.num_entries, 1));
  fprintf(out, "Table properties:\n");
  fprintf(out, "learnkv.index.kind: %s\n", learned ? "rmi" : "block");
  fprintf(out, "learnkv.index.bytes: %" PRIu64 "\n", p.index_bytes);
  fprintf(out, "learnkv.index.bytes_per_key: %.4f\n", static_cast<double>(p.index_bytes) / n);
  fprintf(out, "learnkv.index.memory: %zu\n", reader.IndexMemoryUsage());
  // Leaves and errors are recorded whenever a model was trained, even if it was not chosen.
  fprintf(out, "learnkv.index.leaves: %" PRIu64 "\n", p.rmi_leaf_count);
  if (p.rmi_leaf_count > 0) {
    fprintf(out, "learnkv.index.root: %s\n", RmiRootKindName(p.rmi_root_kind));
  }
  fprintf(out, "learnkv.index.max_error: %" PRIu64 "\n", p.rmi_max_error);
  fprintf(out, "learnkv.index.mean_error: %.3f\n", p.rmi_mean_error);
  if (const Rmi* model = reader.model()) {
    const RmiStats& st = model->stats();
    fprintf(out, "learnkv.index.model_bytes: %" PRIu64 "\n", st.model_bytes);
    fprintf(out, "learnkv.index.knots: %u\n", st.num_knots);
    fprintf(out, "learnkv.index.mean_log2_window: %.3f\n", st.mean_log2_window);
    fprintf(out, "learnkv.index.est_lookup_nanos: %.1f\n", st.est_lookup_nanos);
  }
  if (!p.fallback_reason.empty()) {
    fprintf(out, "learnkv.index.fallback_reason: %s\n", p.fallback_reason.c_str());
  }
  // The membership filter: what was built (learned, or the classic filter's name), its size,
  // and its false-positive rate as measured on held-out negatives when the build had some.
  fprintf(out, "learnkv.filter.kind: %s\n", p.filter_kind.c_str());
  fprintf(out, "learnkv.filter.bytes: %" PRIu64 "\n", p.filter_bytes);
  fprintf(out, "learnkv.filter.bits_per_key: %.3f\n", p.filter_bits_per_key);
  fprintf(out, "learnkv.filter.measured_fpr: %.5f\n", p.filter_measured_fpr);
  fprintf(out, "learnkv.filter.target_fpr: %.5f\n", p.filter_target_fpr);
  fprintf(out, "learnkv.filter.memory: %zu\n", reader.FilterMemoryUsage());
  if (!p.filter_reason.empty()) {
    fprintf(out, "learnkv.filter.reason: %s\n", p.filter_reason.c_str());
  }
  if (!p.filter_detail.empty()) {
    fprintf(out, "learnkv.filter.detail: %s\n", p.filter_detail.c_str());
  }
  fputs(p.ToString().c_str(), out);
}

// Writes the samples as CSV to a temporary file and runs the plot script on it.
Status Plot(const OpenedTable& t, const TableWalk& walk, const SstDumpOptions& o) {
  std::string csv = (std::filesystem::temp_directory_path() / "learnkv-sst-XXXXXX.csv").string();
  const int fd = mkstemps(csv.data(), 4);
  if (fd < 0) return Status::IOError(csv, "cannot create the plot's data file");
  FILE* f = fdopen(fd, "w");
  fprintf(f, "mapped_key,position,predicted,lo,hi\n");
  for (const ModelSample& s : walk.samples) {
    fprintf(f, "%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 "\n", s.mapped_key,
            s.position, s.predicted.pos, s.predicted.bound.lo, s.predicted.bound.hi);
  }
  const bool written = fclose(f) == 0;
  const TableProperties& p = t.reader->properties();
  const std::string title =
      std::filesystem::path(t.name).filename().string() + ": " + std::to_string(p.num_entries) +
      " keys, " + RmiRootKindName(p.rmi_root_kind) + " root, " + std::to_string(p.rmi_leaf_count) +
      " leaves, max error " + std::to_string(p.rmi_max_error);
  // Spawned with an argument vector, not a shell line, so no file name needs quoting.
  std::vector<std::string> args = {o.python, o.plot_script, csv, o.plot_file, title};
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid;
  int status = -1;
  const bool ran =
      written &&
      posix_spawnp(&pid, o.python.c_str(), nullptr, nullptr, argv.data(), environ) == 0 &&
      waitpid(pid, &status, 0) == pid;
  unlink(csv.c_str());
  if (!ran || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    return Status::IOError(o.plot_file, "plotting failed: " + o.python + " " + o.plot_script);
  }
  return Status::OK();
}

}  // namespace

std::string EscapeBytes(const Slice& bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size());
  for (const char c : bytes) {
    const auto u = static_cast<unsigned char>(c);
    if (u >= 0x20 && u < 0x7f && c != '\\') {
      out.push_back(c);
    } else {
      out += "\\x";
      out.push_back(kDigits[u >> 4]);
      out.push_back(kDigits[u & 0xf]);
    }
  }
  return out;
}

bool IsSstDumpCommand(const std::string& command) {
  return command == "verify" || command == "scan" || command == "raw" || command == "check" ||
         command == "none";
}

Status ListTableFiles(Env* env, const std::string& path, std::vector<std::string>* files) {
  files->clear();
  bool is_dir = false;
  Status s = env->IsDirectory(path, &is_dir);
  if (!s.ok()) return s;
  if (!is_dir) {
    files->push_back(path);
    return Status::OK();
  }
  std::vector<std::string> children;
  s = env->GetChildren(path, &children);
  if (!s.ok()) return s;
  std::sort(children.begin(), children.end());
  for (const std::string& c : children) {
    if (c.size() > 4 && c.compare(c.size() - 4, 4, ".sst") == 0) files->push_back(path + "/" + c);
  }
  if (files->empty()) return Status::NotFound(path, "no *.sst files in the directory");
  return Status::OK();
}

Status DumpTable(Env* env, const std::string& path, const SstDumpOptions& o, FILE* out) {
  if (!IsSstDumpCommand(o.command)) {
    return Status::InvalidArgument("unknown command", o.command);
  }
  OpenedTable t;
  Status s = OpenTable(env, path, &t);
  if (!s.ok()) return s;
  fprintf(out, "Process %s\n", path.c_str());
  const bool has_model = t.reader->model() != nullptr;

  // One pass over every entry serves verify, check and the model report; it runs after the
  // block-level work of raw and verify, whose errors say more about a damaged file.
  TableWalk walk;
  bool walked = false;
  auto walk_table = [&]() {
    if (walked) return Status::OK();
    walked = true;
    return WalkTable(*t.reader, kMaxPlotSamples, &walk);
  };
  if (o.command == "scan") {
    s = Scan(t, o, out);
  } else if (o.command == "raw") {
    s = Raw(t, out);
  } else if (o.command == "verify") {
    s = VerifyBlocks(t, out);
    if (s.ok()) s = walk_table();
    if (s.ok()) s = VerifyCount(t, walk, out);
  } else if (o.command == "check") {
    s = walk_table();
    if (s.ok()) s = Check(t, walk, out);
  }
  if (s.ok() && has_model) s = walk_table();
  if (!s.ok()) return s;

  if (o.show_properties) PrintProperties(*t.reader, out);
  if (has_model) fputs(ModelReport(*t.reader, walk).c_str(), out);
  fflush(out);
  if (!o.plot_file.empty()) {
    if (!has_model) {
      fprintf(stderr, "%s: no learned model to plot\n", path.c_str());
    } else {
      s = Plot(t, walk, o);
      if (s.ok()) fprintf(out, "Plot written to %s\n", o.plot_file.c_str());
    }
  }
  return s;
}

}  // namespace learnkv
