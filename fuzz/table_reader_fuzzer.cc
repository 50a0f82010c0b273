// libFuzzer target: the input is a table file. Opening it must either fail with Corruption or
// give a reader whose every operation stays in bounds, whatever the bytes. Each input is opened
// twice: with checksums verified (the normal path) and without (so that mutated bytes reach the
// decoders behind the checksums: block layout, locator, model, properties, index handles).
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "learnkv/env.h"
#include "learnkv/iterator.h"
#include "sstable/block_cache.h"
#include "sstable/internal_key.h"
#include "sstable/table_reader.h"

namespace learnkv {
namespace {

class MemoryFile final : public RandomAccessFile {
 public:
  explicit MemoryFile(std::string contents) : contents_(std::move(contents)) {}
  Status Read(uint64_t offset, size_t n, Slice* result, char* scratch) const override {
    if (offset >= contents_.size()) {
      *result = Slice();
      return Status::OK();
    }
    n = static_cast<size_t>(std::min<uint64_t>(n, contents_.size() - offset));
    memcpy(scratch, contents_.data() + offset, n);
    *result = Slice(scratch, n);
    return Status::OK();
  }
  uint64_t Size() const override { return contents_.size(); }

 private:
  std::string contents_;
};

// Bounds the work per input: a hostile table may be made of many tiny blocks.
constexpr size_t kMaxSteps = 20000;

void Exercise(const TableReader& reader, const std::string& input) {
  std::vector<std::string> keys;
  std::unique_ptr<Iterator> it = reader.NewIterator();
  size_t steps = 0;
  for (it->SeekToFirst(); it->Valid() && steps < kMaxSteps; it->Next(), ++steps) {
    if (steps % 7 == 0) keys.push_back(it->key().ToString());
    (void)it->value();
  }
  steps = 0;
  for (it->SeekToLast(); it->Valid() && steps < kMaxSteps; it->Prev(), ++steps) {
  }
  (void)it->status();

  // Lookup targets: keys found, prefixes of the input, and the table's own bounds.
  for (size_t i = 0; i + 1 < input.size() && keys.size() < 64; i += 97) {
    keys.push_back(input.substr(i, std::min<size_t>(24, input.size() - i)));
  }
  keys.push_back(reader.smallest_key().ToString());
  keys.push_back(reader.largest_key().ToString());
  keys.push_back("");

  for (const std::string& k : keys) {
    size_t entries = 0;
    Status s = reader.Get(k, [&](const Slice& key, const Slice& value) {
      (void)key.ToString();
      (void)value.size();
      return ++entries < 4;
    });
    (void)s;
    it->Seek(k);
    if (it->Valid()) it->Next();
    it->SeekForPrev(k);
    if (it->Valid()) it->Prev();
    (void)reader.ApproximateOffsetOf(k);
  }
  std::vector<Slice> slices(keys.begin(), keys.end());
  std::vector<Status> statuses(slices.size());
  reader.MultiGet(
      slices.data(), slices.size(), [](size_t, const Slice&, const Slice&) { return true; },
      statuses.data());
  (void)reader.properties().ToString();
  (void)reader.ApproximateMemoryUsage();
}

void OpenAndExercise(const std::string& input, bool verify, bool with_cache) {
  TableOptions options;
  options.verify_checksums = verify;
  if (with_cache) options.block_cache = std::make_shared<BlockCache>(256 << 10);
  std::unique_ptr<TableReader> reader;
  Status s = TableReader::Open(options, "fuzz.sst", std::make_unique<MemoryFile>(input),
                               input.size(), &reader);
  if (!s.ok()) {
    if (!s.IsCorruption()) __builtin_trap();  // an in-memory file fails only by Corruption
    return;
  }
  Exercise(*reader, input);
}

}  // namespace
}  // namespace learnkv

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string input(reinterpret_cast<const char*>(data), size);
  learnkv::OpenAndExercise(input, /*verify=*/true, /*with_cache=*/true);
  learnkv::OpenAndExercise(input, /*verify=*/false, /*with_cache=*/false);
  return 0;
}
