// LearnedTableReader (learned_table_reader.h): opening a LearnedTable file, and RocksDB's read
// interfaces over learnkv's TableReader.
#include "sstable/rocksdb/learned_table_reader.h"

#include <algorithm>
#include <cstring>

#include "db/pinned_iterators_manager.h"
#include "memory/arena.h"
#include "rocksdb/comparator.h"
#include "rocksdb/snapshot.h"
#include "table/get_context.h"
#include "table/meta_blocks.h"
#include "table/multiget_context.h"
#include "util/vector_iterator.h"

namespace learnkv {

namespace {

// RocksDB's InternalIterator over a learnkv table iterator; both order internal keys alike.
//
// Pinning: while RocksDB's PinnedIteratorsManager has pinning enabled (DBIter going backward or
// merging operands, compaction merging, ReadOptions::pin_data), every key and value this
// iterator has returned must stay valid until the manager releases them, even after it moves.
// BlockBasedTable does this by handing the blocks it leaves to the manager; learnkv's iterator
// releases its block when it moves, so once a manager is set this iterator serves each entry
// from its own copy (reusing one buffer: a memcpy, no allocation), and hands that copy to the
// manager when it moves on while pinning is enabled. Without a manager (nothing to pin for)
// keys and values point into learnkv's block.
class LearnedTableIterator final : public rocksdb::InternalIterator {
 public:
  explicit LearnedTableIterator(std::unique_ptr<Iterator> it) : it_(std::move(it)) {}

  bool Valid() const override { return it_->Valid(); }
  void SeekToFirst() override {
    Leave();
    it_->SeekToFirst();
  }
  void SeekToLast() override {
    Leave();
    it_->SeekToLast();
  }
  void Seek(const rocksdb::Slice& target) override {
    Leave();
    it_->Seek(FromRocks(target));
  }
  void SeekForPrev(const rocksdb::Slice& target) override {
    Leave();
    it_->SeekForPrev(FromRocks(target));
  }
  void Next() override {
    Leave();
    it_->Next();
  }
  void Prev() override {
    Leave();
    it_->Prev();
  }
  rocksdb::Slice key() const override {
    if (pinned_iters_mgr_ == nullptr) return ToRocks(it_->key());
    Copy();
    return rocksdb::Slice(copy_->data(), key_size_);
  }
  rocksdb::Slice value() const override {
    if (pinned_iters_mgr_ == nullptr) return ToRocks(it_->value());
    Copy();
    return rocksdb::Slice(copy_->data() + key_size_, copy_->size() - key_size_);
  }
  rocksdb::Status status() const override { return ToRocks(it_->status()); }

  void SetPinnedItersMgr(rocksdb::PinnedIteratorsManager* manager) override {
    pinned_iters_mgr_ = manager;
  }
  bool IsKeyPinned() const override { return Pinning(); }
  bool IsValuePinned() const override { return Pinning(); }

 private:
  bool Pinning() const {
    return pinned_iters_mgr_ != nullptr && pinned_iters_mgr_->PinningEnabled();
  }
  // Before every move: what was handed out stays with the manager if it is pinning.
  void Leave() {
    if (copied_ && Pinning()) {
      pinned_iters_mgr_->PinPtr(copy_.release(),
                                [](void* p) { delete static_cast<std::string*>(p); });
      copy_ = std::make_unique<std::string>();
    }
    copied_ = false;
  }
  // Copies the current entry once per position.
  void Copy() const {
    if (copied_) return;
    const Slice k = it_->key(), v = it_->value();
    copy_->assign(k.data(), k.size()).append(v.data(), v.size());
    key_size_ = k.size();
    copied_ = true;
  }

  const std::unique_ptr<Iterator> it_;
  rocksdb::PinnedIteratorsManager* pinned_iters_mgr_ = nullptr;
  // The current entry (key then value), once a manager is set.
  mutable std::unique_ptr<std::string> copy_ = std::make_unique<std::string>();
  mutable size_t key_size_ = 0;
  mutable bool copied_ = false;
};

bool IsBytewise(const rocksdb::Comparator* ucmp) {
  return ucmp != nullptr && ucmp->timestamp_size() == 0 &&
         strcmp(ucmp->Name(), rocksdb::BytewiseComparator()->Name()) == 0;
}

}  // namespace

LearnedTableReader::LearnedTableReader(const rocksdb::TableReaderOptions& tro,
                                       const LearnedTableOptions& options,
                                       std::unique_ptr<rocksdb::RandomAccessFileReader>&& file,
                                       uint64_t file_size)
    : ioptions_(tro.ioptions),
      icmp_(tro.internal_comparator),
      options_(options),
      file_(std::move(file)),
      file_size_(file_size) {}

// The learnkv reader reads through file_, so it goes first.
LearnedTableReader::~LearnedTableReader() { table_.reset(); }

rocksdb::Status LearnedTableReader::Open(const rocksdb::TableReaderOptions& tro,
                                         const LearnedTableOptions& options,
                                         std::unique_ptr<rocksdb::RandomAccessFileReader>&& file,
                                         uint64_t file_size,
                                         std::unique_ptr<rocksdb::TableReader>* reader) {
  reader->reset();
  if (!IsBytewise(tro.internal_comparator.user_comparator())) {
    return rocksdb::Status::NotSupported(
        "LearnedTable needs the bytewise comparator without timestamps, not",
        tro.internal_comparator.user_comparator()->Name());
  }
  std::unique_ptr<LearnedTableReader> r(
      new LearnedTableReader(tro, options, std::move(file), file_size));
  rocksdb::Status s = r->ReadTail(&r->tail_);
  if (s.ok()) s = r->OpenTable(r->options_.table, &r->table_);
  if (s.ok()) *reader = std::move(r);
  return s;
}

rocksdb::Status LearnedTableReader::ReadTail(Tail* result) const {
  const std::string& name = file_->file_name();
  auto corruption = [&](const std::string& what) {
    return rocksdb::Status::Corruption(name + ": " + what);
  };
  constexpr uint64_t kFooterSize = rocksdb::Footer::kNewVersionsEncodedLength;
  if (file_size_ < kFooterSize + TailTrailer::kEncodedLength) {
    return corruption("file too short to be a LearnedTable");
  }
  // RocksDB's footer: the magic number says whether this is a LearnedTable at all.
  rocksdb::Footer footer;
  rocksdb::Status s = rocksdb::ReadFooterFromFile(rocksdb::IOOptions(), file_.get(), nullptr,
                                                  file_size_, &footer, kLearnedTableMagicNumber);
  if (!s.ok()) return s;
  if (footer.format_version() != kLearnedTableFooterVersion) {
    return corruption("unsupported LearnedTable footer version " +
                      std::to_string(footer.format_version()));
  }

  const uint64_t trailer_offset = file_size_ - kFooterSize - TailTrailer::kEncodedLength;
  char trailer_buf[TailTrailer::kEncodedLength];
  rocksdb::Slice input;
  s = file_->Read(rocksdb::IOOptions(), trailer_offset, sizeof(trailer_buf), &input, trailer_buf,
                  nullptr, rocksdb::Env::IO_TOTAL);
  if (!s.ok()) return s;
  TailTrailer trailer;
  Status ls = trailer.DecodeFrom(FromRocks(input));
  if (!ls.ok()) return corruption(ls.message());
  if (trailer.table_size > trailer_offset ||
      trailer.range_del_size > trailer_offset - trailer.table_size) {
    return corruption("LearnedTable trailer points outside the file");
  }
  const rocksdb::BlockHandle& meta = footer.metaindex_handle();
  // The metaindex is the last block before the trailer: the checksum below then covers every
  // byte RocksDB parses.
  if (meta.offset() < trailer.table_size + trailer.range_del_size ||
      meta.offset() > trailer_offset || meta.size() != trailer_offset - meta.offset()) {
    return corruption("metaindex handle outside the LearnedTable tail");
  }

  // The whole tail, to check its checksum before RocksDB parses any of it.
  const size_t tail_size = static_cast<size_t>(trailer_offset - trailer.table_size);
  std::unique_ptr<char[]> tail(new char[tail_size + 1]);
  s = file_->Read(rocksdb::IOOptions(), trailer.table_size, tail_size, &input, tail.get(), nullptr,
                  rocksdb::Env::IO_TOTAL);
  if (!s.ok()) return s;
  if (input.size() != tail_size) return corruption("truncated LearnedTable tail");
  if (trailer.checksum != trailer.Checksum(FromRocks(input))) {
    return corruption("LearnedTable tail checksum mismatch");
  }

  std::vector<std::string> keys, values;
  ls = DecodeRangeTombstones(FromRocks(rocksdb::Slice(input.data(), trailer.range_del_size)), &keys,
                             &values);
  if (!ls.ok()) return corruption(ls.message());
  Tail t;
  t.table_size = trailer.table_size;
  if (!keys.empty()) {
    for (size_t i = 0; i < keys.size(); ++i) t.range_del_bytes += keys[i].size() + values[i].size();
    t.range_dels = std::make_shared<const rocksdb::FragmentedRangeTombstoneList>(
        std::make_unique<rocksdb::VectorIterator>(std::move(keys), std::move(values), &icmp_),
        icmp_);
  }

  std::unique_ptr<rocksdb::TableProperties> props;
  s = rocksdb::ReadTableProperties(file_.get(), file_size_, kLearnedTableMagicNumber, ioptions_,
                                   &props);
  if (s.IsNotFound()) return corruption("no table properties");
  if (!s.ok()) return s;
  t.properties = std::move(props);
  *result = std::move(t);
  return rocksdb::Status::OK();
}

rocksdb::Status LearnedTableReader::OpenTable(const TableOptions& options,
                                              std::unique_ptr<learnkv::TableReader>* table) const {
  return ToRocks(learnkv::TableReader::Open(
      options, file_->file_name(),
      std::make_unique<RocksRandomAccessFile>(file_.get(), tail_.table_size), tail_.table_size,
      table));
}

rocksdb::InternalIterator* LearnedTableReader::NewIterator(
    const rocksdb::ReadOptions& /*read_options*/, const rocksdb::SliceTransform* /*prefix*/,
    rocksdb::Arena* arena, bool /*skip_filters*/, rocksdb::TableReaderCaller /*caller*/,
    size_t /*compaction_readahead_size*/, bool /*allow_unprepared_value*/) {
  std::unique_ptr<Iterator> it = table_->NewIterator();
  if (arena == nullptr) return new LearnedTableIterator(std::move(it));
  void* mem = arena->AllocateAligned(sizeof(LearnedTableIterator));
  return new (mem) LearnedTableIterator(std::move(it));
}

rocksdb::FragmentedRangeTombstoneIterator* LearnedTableReader::NewRangeTombstoneIterator(
    const rocksdb::ReadOptions& read_options) {
  if (tail_.range_dels == nullptr) return nullptr;
  const rocksdb::SequenceNumber snapshot = read_options.snapshot != nullptr
                                               ? read_options.snapshot->GetSequenceNumber()
                                               : rocksdb::kMaxSequenceNumber;
  return new rocksdb::FragmentedRangeTombstoneIterator(tail_.range_dels, icmp_, snapshot,
                                                       read_options.timestamp);
}

rocksdb::Status LearnedTableReader::Get(const rocksdb::ReadOptions& /*read_options*/,
                                        const rocksdb::Slice& key, rocksdb::GetContext* get_context,
                                        const rocksdb::SliceTransform* /*prefix_extractor*/,
                                        bool /*skip_filters*/) {
  rocksdb::Status parse_status;
  auto on_entry = [&](const Slice& ikey, const Slice& value) {
    rocksdb::ParsedInternalKey parsed;
    parse_status = rocksdb::ParseInternalKey(ToRocks(ikey), &parsed, /*log_err_key=*/false);
    if (!parse_status.ok()) return false;
    bool matched = false;
    // No pinner: GetContext copies the value, which lives in a block the lookup releases.
    return get_context->SaveValue(parsed, ToRocks(value), &matched, /*value_pinner=*/nullptr);
  };
  const Status s = table_->Get(FromRocks(key), on_entry);
  if (!s.ok()) return ToRocks(s);
  if (!parse_status.ok()) {
    return rocksdb::Status::Corruption(file_->file_name() + ": " + parse_status.ToString());
  }
  return rocksdb::Status::OK();
}

rocksdb::Status LearnedTableReader::MultiGetFilter(
    const rocksdb::ReadOptions& /*read_options*/,
    const rocksdb::SliceTransform* /*prefix_extractor*/,
    rocksdb::MultiGetContext::Range* mget_range) {
  for (auto iter = mget_range->begin(); iter != mget_range->end(); ++iter) {
    if (!table_->KeyMayMatch(FromRocks(iter->ukey_without_ts))) mget_range->SkipKey(iter);
  }
  return rocksdb::Status::OK();
}

uint64_t LearnedTableReader::ScaledOffsetOf(const rocksdb::Slice& key) const {
  const uint64_t data_size = table_->properties().data_bytes;
  const uint64_t offset = std::min(table_->ApproximateOffsetOf(FromRocks(key)), data_size);
  return static_cast<uint64_t>(static_cast<double>(offset) / static_cast<double>(data_size) *
                               static_cast<double>(file_size_));
}

uint64_t LearnedTableReader::ApproximateOffsetOf(const rocksdb::Slice& key,
                                                 rocksdb::TableReaderCaller /*caller*/) {
  // Without data, half the file skews neither a lower nor an upper bound (BlockBasedTable's
  // choice).
  if (table_->properties().data_bytes == 0) return file_size_ / 2;
  return ScaledOffsetOf(key);
}

uint64_t LearnedTableReader::ApproximateSize(const rocksdb::Slice& start, const rocksdb::Slice& end,
                                             rocksdb::TableReaderCaller /*caller*/) {
  if (table_->properties().data_bytes == 0) return file_size_;
  const uint64_t a = ScaledOffsetOf(start), b = ScaledOffsetOf(end);
  // A learned table's offsets are predictions: keep the result a size.
  return b > a ? b - a : 0;
}

size_t LearnedTableReader::ApproximateMemoryUsage() const {
  size_t usage = sizeof(*this) + table_->ApproximateMemoryUsage() + tail_.range_del_bytes;
  if (tail_.properties != nullptr) usage += tail_.properties->ApproximateMemoryUsage();
  return usage;
}

rocksdb::Status LearnedTableReader::VerifyChecksum(const rocksdb::ReadOptions& /*read_options*/,
                                                   rocksdb::TableReaderCaller /*caller*/) {
  // The tail again, then a second reader without a cache, so that every block is read from the
  // file and checked rather than found in the cache.
  Tail tail;
  rocksdb::Status s = ReadTail(&tail);
  if (!s.ok()) return s;
  TableOptions options = options_.table;
  options.block_cache.reset();
  options.verify_checksums = true;
  std::unique_ptr<learnkv::TableReader> table;
  s = OpenTable(options, &table);
  if (!s.ok()) return s;
  std::unique_ptr<Iterator> it = table->NewIterator();
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
  }
  return ToRocks(it->status());
}

}  // namespace learnkv
