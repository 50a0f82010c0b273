// Table reader: opening and validation, and the lookup path from key to record (see
// table_reader.h; the file layout is drawn in table_builder.cc).
#include "sstable/table_reader.h"

#include <algorithm>

#include "util/coding.h"

namespace learnkv {

namespace {

// Must match the builder's cap (table_builder.cc); larger values only come from bad files.
constexpr uint64_t kMaxRecordsPerBlock = uint64_t{1} << 20;

}  // namespace

TableReader::TableReader(const TableOptions& options, std::string file_name,
                         std::unique_ptr<RandomAccessFile> file)
    : options_(options),
      file_name_(std::move(file_name)),
      file_(std::move(file)),
      cache_(options_.block_cache.get()),
      cache_id_(cache_ != nullptr ? cache_->NewId() : 0) {}

TableReader::~TableReader() = default;

Status TableReader::ReadMetaBlock(const BlockHandle& handle, bool internal_keys, Block* block,
                                  BlockContents* raw) {
  BlockContents contents;
  Status s = ReadBlock(file_.get(), file_name_, handle, options_.verify_checksums, &contents);
  if (!s.ok()) return s;
  if (raw != nullptr) {
    *raw = std::move(contents);
    return Status::OK();
  }
  return Block::Parse(std::move(contents), internal_keys, file_name_, handle.offset, block);
}

Status TableReader::Open(const TableOptions& options, std::string file_name,
                         std::unique_ptr<RandomAccessFile> file, uint64_t file_size,
                         std::unique_ptr<TableReader>* reader) {
  reader->reset();
  if (file_size < Footer::kEncodedLength) {
    return CorruptionAt(file_name, "file too short to be a table", 0);
  }
  const uint64_t footer_offset = file_size - Footer::kEncodedLength;
  char footer_buf[Footer::kEncodedLength];
  Slice footer_input;
  Status s = file->Read(footer_offset, Footer::kEncodedLength, &footer_input, footer_buf);
  if (!s.ok()) return s;
  if (footer_input.size() != Footer::kEncodedLength) {
    return CorruptionAt(file_name, "truncated footer", footer_offset);
  }
  Footer footer;
  s = footer.DecodeFrom(footer_input);
  if (!s.ok()) return CorruptionAt(file_name, s.message().c_str(), footer_offset);
  if (!footer.metaindex.FitsWithin(footer_offset) || !footer.index.FitsWithin(footer_offset)) {
    return CorruptionAt(file_name, "footer block handle outside the file", footer_offset);
  }

  std::unique_ptr<TableReader> r(new TableReader(options, std::move(file_name), std::move(file)));
  const std::string& name = r->file_name_;

  // Metaindex, then the properties it points to.
  Block metaindex;
  s = r->ReadMetaBlock(footer.metaindex, false, &metaindex);
  if (!s.ok()) return s;
  Slice handle_input;
  BlockHandle props_handle;
  if (!metaindex.Find(kPropertiesBlockName, &handle_input) ||
      !props_handle.DecodeFrom(&handle_input) || !handle_input.empty() ||
      !props_handle.FitsWithin(footer_offset)) {
    return CorruptionAt(name, "metaindex lacks a valid properties handle", footer.metaindex.offset);
  }
  Block props_block;
  s = r->ReadMetaBlock(props_handle, false, &props_block);
  if (!s.ok()) return s;
  s = r->props_.DecodeFrom(props_block);
  if (!s.ok()) return CorruptionAt(name, s.message().c_str(), props_handle.offset);

  // Cross-checks that keep ordinal arithmetic in range: blocks and records are bounded by the
  // bytes of the file, which the index validation below ties them to.
  const TableProperties& p = r->props_;
  const uint64_t n = p.num_entries;
  const uint64_t rpb = p.records_per_block;
  if (rpb == 0 || rpb > kMaxRecordsPerBlock || p.index_type != footer.index_type ||
      p.data_bytes > footer.index.offset || n / rpb >= footer_offset ||
      (n > 0 && (p.smallest_key.size() < kInternalKeyTrailerSize ||
                 p.largest_key.size() < kInternalKeyTrailerSize))) {
    return CorruptionAt(name, "inconsistent table properties", props_handle.offset);
  }
  r->num_entries_ = n;
  r->records_per_block_ = rpb;
  r->num_blocks_ = n == 0 ? 0 : (n - 1) / rpb + 1;
  r->data_end_ = p.data_bytes;
  if (p.num_data_blocks != r->num_blocks_) {
    return CorruptionAt(name, "inconsistent table properties", props_handle.offset);
  }
  r->index_type_ = footer.index_type;
  s = r->index_type_ == IndexType::kLearned ? r->OpenModel(footer.index)
                                            : r->OpenBlockIndex(footer.index);
  if (!s.ok()) return s;
  s = r->OpenFilter(metaindex, footer.metaindex.offset, footer_offset);
  if (!s.ok()) return s;
  *reader = std::move(r);
  return Status::OK();
}

Status TableReader::OpenModel(const BlockHandle& handle) {
  Status s = ReadMetaBlock(handle, false, nullptr, &model_block_);
  if (!s.ok()) return s;
  Slice input(model_block_.data.get(), model_block_.size);
  uint64_t n = 0, rpb = 0;
  Slice rmi;
  if (!GetVarint64(&input, &n) || !GetVarint64(&input, &rpb) || n != num_entries_ ||
      rpb != records_per_block_) {
    return CorruptionAt(file_name_, "model block header disagrees with properties", handle.offset);
  }
  s = KeyMapper::DecodeFrom(&input, &mapper_);
  if (s.ok() && !GetLengthPrefixedSlice(&input, &rmi)) s = Status::Corruption("truncated model");
  if (s.ok()) s = Rmi::DecodeFrom(rmi, &model_);
  if (s.ok() && model_->num_keys() != n) s = Status::Corruption("model trained on other keys");
  if (s.ok()) s = locator_.DecodeFrom(&input, data_end_);
  if (s.ok() && locator_.num_blocks() != num_blocks_) {
    s = Status::Corruption("block locator disagrees with the block count");
  }
  if (s.ok() && !input.empty()) s = Status::Corruption("trailing bytes in model block");
  if (!s.ok()) {
    model_.reset();
    return CorruptionAt(file_name_, s.message().c_str(), handle.offset);
  }
  return Status::OK();
}

Status TableReader::OpenFilter(const Block& metaindex, uint64_t metaindex_offset,
                               uint64_t footer_offset) {
  Slice handle_input;
  if (!metaindex.Find(kFilterBlockName, &handle_input)) {
    // The properties say whether there should be one.
    if (props_.filter_kind != "none") {
      return CorruptionAt(file_name_, "metaindex lacks the filter the properties name",
                          metaindex_offset);
    }
    return Status::OK();
  }
  BlockHandle handle;
  if (!handle.DecodeFrom(&handle_input) || !handle_input.empty() ||
      !handle.FitsWithin(footer_offset)) {
    return CorruptionAt(file_name_, "metaindex has a bad filter handle", metaindex_offset);
  }
  if (!options_.use_filters) return Status::OK();
  BlockContents contents;
  Status s = ReadMetaBlock(handle, false, nullptr, &contents);
  if (!s.ok()) return s;
  s = Filter::DecodeFrom(Slice(contents.data.get(), contents.size), &filter_);
  if (s.ok() && (props_.filter_kind != FilterKindName(filter_->kind()) ||
                 filter_->num_keys() > num_entries_)) {
    s = Status::Corruption("filter block disagrees with the properties");
  }
  if (!s.ok()) {
    filter_.reset();
    return CorruptionAt(file_name_, s.message().c_str(), handle.offset);
  }
  return Status::OK();
}

Status TableReader::OpenBlockIndex(const BlockHandle& handle) {
  Status s = ReadMetaBlock(handle, true, &index_block_);
  if (!s.ok()) return s;
  if (index_block_.num_records() != num_blocks_) {
    return CorruptionAt(file_name_, "index block disagrees with the block count", handle.offset);
  }
  // Every handle once here, so lookups can decode them without checks: contiguous from 0, each
  // at least an empty block, ending at the data end.
  uint64_t expected = 0;
  for (uint32_t i = 0; i < num_blocks_; ++i) {
    Slice key, value;
    index_block_.RecordAt(i, &key, &value);
    BlockHandle h;
    if (!h.DecodeFrom(&value) || !value.empty() || h.offset != expected || h.size < 4 ||
        !h.FitsWithin(data_end_)) {
      return CorruptionAt(file_name_, "bad block handle in index block", handle.offset);
    }
    expected = h.offset + h.size + kBlockTrailerSize;
  }
  if (expected != data_end_) {
    return CorruptionAt(file_name_, "index block does not cover the data", handle.offset);
  }
  return Status::OK();
}

BlockHandle TableReader::DataBlockHandle(uint64_t b) const {
  if (model_ != nullptr) return locator_.Handle(b);
  Slice key, value;
  index_block_.RecordAt(static_cast<uint32_t>(b), &key, &value);
  BlockHandle h;
  h.DecodeFrom(&value);  // validated in OpenBlockIndex
  return h;
}

Status TableReader::LoadBlock(uint64_t b, BlockRef* ref) const {
  if (ref->index == b) return Status::OK();
  ref->Reset();
  // Cached under its number, not its offset, so that a hit does not even decode the locator.
  if (cache_ != nullptr) {
    BlockCache::Pin pin = cache_->Lookup(cache_id_, b);
    if (pin) {
      ref->pin = std::move(pin);
      ref->block = ref->pin.block();  // its record count was checked before it was inserted
      ref->index = b;
      return Status::OK();
    }
  }
  const BlockHandle handle = DataBlockHandle(b);
  BlockContents contents;
  Status s = ReadBlock(file_.get(), file_name_, handle, ref->read.verify_checksums, &contents);
  if (!s.ok()) return s;
  Block block;
  s = Block::Parse(std::move(contents), true, file_name_, handle.offset, &block);
  if (!s.ok()) return s;
  if (block.num_records() != RecordsInBlock(b)) {
    return CorruptionAt(file_name_, "data block has the wrong record count", handle.offset);
  }
  if (cache_ != nullptr && ref->read.fill_cache) {
    const size_t charge = block.size() + sizeof(Block);
    ref->pin = cache_->Insert(cache_id_, b, std::move(block), charge);
    ref->block = ref->pin.block();
  } else {
    ref->owned = std::move(block);
    ref->block = &ref->owned;
  }
  ref->index = b;
  return Status::OK();
}

// The lower bound of t among ordinals [lo, hi), which the model guarantees to hold it (or to
// be followed by it, at hi). Block j's part of the window is its segment S_j; the search
// starts at the predicted record's block, which usually holds the answer, and otherwise
// gallops block by block (1, 2, 4, ... blocks away) toward the answer and binary-searches the
// blocks it bracketed, comparing only each segment's first key. A window inside one block
// therefore costs one block; a wide one, O(log blocks) blocks.
Status TableReader::WindowLowerBound(const LookupTarget& t, uint64_t lo, uint64_t hi, uint64_t hint,
                                     BlockRef* ref, uint64_t* pos) const {
  *pos = lo;
  if (lo >= hi) return Status::OK();
  const uint64_t r = records_per_block_;
  const uint64_t first_block = lo / r, last_block = (hi - 1) / r;
  auto seg_begin = [&](uint64_t j) { return std::max(lo, j * r) - j * r; };
  auto seg_end = [&](uint64_t j) { return std::min(hi, (j + 1) * r) - j * r; };
  Status s;
  // Whether S_j's first key is < t; on a read error, s is set and the answer is meaningless.
  auto first_less = [&](uint64_t j) {
    s = LoadBlock(j, ref);
    if (!s.ok()) return false;
    return CompareToTarget(ref->block->KeyAt(static_cast<uint32_t>(seg_begin(j))), t) < 0;
  };

  const uint64_t predicted = std::clamp(hint, lo, hi - 1);
  const uint64_t b = predicted / r;
  s = LoadBlock(b, ref);
  if (!s.ok()) return s;
  const uint32_t sb = static_cast<uint32_t>(seg_begin(b)), se = static_cast<uint32_t>(seg_end(b));
  // Within the block, search outward from the predicted record (usually a few records off).
  const uint32_t h = static_cast<uint32_t>(predicted - b * r);
  ref->block->PrefetchAround(sb, se, h);
  const uint32_t k = ref->block->LowerBoundFrom(t, sb, se, h);
  uint64_t known_less = 0, known_not_less = 0;  // blocks whose first key is < t, and is >= t
  if ((k < se || b == last_block) && (k > sb || b == first_block)) {
    *pos = b * r + k;
    return Status::OK();
  } else if (k == sb) {
    // The answer is before block b: find the last earlier block whose first key is < t.
    known_not_less = b;
    uint64_t step = 1;
    for (;;) {
      const uint64_t j = known_not_less - first_block <= step ? first_block : known_not_less - step;
      if (first_less(j)) {
        known_less = j;
        break;
      }
      if (!s.ok()) return s;
      known_not_less = j;
      if (j == first_block) return Status::OK();  // every key in the window is >= t: *pos = lo
      step *= 2;
    }
  } else {
    // Every key of S_b is < t: find the last later block whose first key is < t.
    known_less = b;
    known_not_less = last_block + 1;
    uint64_t step = 1;
    while (known_less < last_block) {
      const uint64_t j = std::min(last_block, known_less + step);
      if (!first_less(j)) {
        if (!s.ok()) return s;
        known_not_less = j;
        break;
      }
      known_less = j;
      step *= 2;
    }
  }
  while (known_not_less - known_less > 1) {
    const uint64_t mid = known_less + (known_not_less - known_less) / 2;
    if (first_less(mid)) {
      known_less = mid;
    } else {
      if (!s.ok()) return s;
      known_not_less = mid;
    }
  }
  s = LoadBlock(known_less, ref);
  if (!s.ok()) return s;
  const uint32_t begin = static_cast<uint32_t>(seg_begin(known_less));
  const uint32_t end = static_cast<uint32_t>(seg_end(known_less));
  ref->block->Prefetch(begin, end);
  *pos = known_less * r + ref->block->LowerBound(t, begin, end);
  return Status::OK();
}

Status TableReader::Locate(const LookupTarget& t, const ApproxPos* predicted, uint64_t block,
                           BlockRef* ref, uint64_t* pos, uint64_t* region_end) const {
  *pos = *region_end = 0;
  if (num_entries_ == 0) return Status::OK();
  if (model_ != nullptr) {
    const ApproxPos ap =
        predicted != nullptr ? *predicted : model_->Predict(mapper_.Map(t.user_key));
    const uint64_t hi = std::min(ap.bound.hi, num_entries_);
    const uint64_t lo = std::min(ap.bound.lo, hi);
    *region_end = hi;
    return WindowLowerBound(t, lo, hi, ap.pos, ref, pos);
  }
  const uint64_t b = block != kUnknownBlock
                         ? block
                         : index_block_.LowerBound(t, 0, static_cast<uint32_t>(num_blocks_));
  if (b >= num_blocks_) {
    *pos = *region_end = num_entries_;
    return Status::OK();
  }
  Status s = LoadBlock(b, ref);
  if (!s.ok()) return s;
  const uint32_t count = ref->block->num_records();
  ref->block->Prefetch(0, count);
  *pos = b * records_per_block_ + ref->block->LowerBound(t, 0, count);
  *region_end = b * records_per_block_ + count;
  return Status::OK();
}

Status TableReader::GetImpl(const LookupTarget& t, const ApproxPos* predicted, uint64_t block,
                            BlockRef* ref, EntryCallback on_entry) const {
  uint64_t pos, region_end;
  Status s = Locate(t, predicted, block, ref, &pos, &region_end);
  // At the region's end the entry >= t is known not to carry t's user key (see Locate).
  if (!s.ok() || pos >= region_end) return s;
  for (; pos < num_entries_; ++pos) {
    const uint64_t b = pos / records_per_block_;
    s = LoadBlock(b, ref);
    if (!s.ok()) return s;
    Slice key, value;
    ref->block->RecordAt(static_cast<uint32_t>(pos - b * records_per_block_), &key, &value);
    if (ExtractUserKey(key) != t.user_key || !on_entry(key, value)) break;
  }
  return Status::OK();
}

Status TableReader::Get(const Slice& internal_key, EntryCallback on_entry, bool use_filter) const {
  const LookupTarget t = LookupTarget::FromInternalKey(internal_key);
  if (use_filter && filter_ != nullptr && !filter_->KeyMayMatch(t.user_key)) return Status::OK();
  BlockRef ref(DefaultReadOptions());
  return GetImpl(t, nullptr, kUnknownBlock, &ref, on_entry);
}

void TableReader::PredictBounds(const Slice* keys, size_t n, ApproxPos* out) const {
  if (model_ == nullptr) {
    for (size_t i = 0; i < n; ++i) out[i] = ApproxPos{0, SearchBound{0, num_entries_}};
    return;
  }
  const Rmi& model = *model_;
  for (size_t i = 0; i < n; ++i) {
    out[i] = model.Predict(mapper_.Map(LookupTarget::FromInternalKey(keys[i]).user_key));
  }
}

void TableReader::MultiGet(const Slice* keys, size_t n, MultiEntryCallback on_entry,
                           Status* statuses, const ApproxPos* predicted) const {
  constexpr size_t kBatch = 64;
  ApproxPos bounds[kBatch];
  uint64_t first_block[kBatch];
  bool skip[kBatch];  // the filter rules the key out
  std::fill_n(first_block, kBatch, kUnknownBlock);
  std::fill_n(skip, kBatch, false);
  BlockRef ref(DefaultReadOptions());
  for (size_t start = 0; start < n; start += kBatch) {
    const size_t m = std::min(kBatch, n - start);
    if (filter_ != nullptr) {
      for (size_t j = 0; j < m; ++j) {
        skip[j] = !filter_->KeyMayMatch(LookupTarget::FromInternalKey(keys[start + j]).user_key);
      }
    }
    const ApproxPos* batch = nullptr;
    if (model_ != nullptr) {
      // Phase 1: every prediction in one tight loop over the model.
      if (predicted != nullptr) {
        batch = predicted + start;
      } else {
        PredictBounds(keys + start, m, bounds);
        batch = bounds;
      }
      // Phase 2: ask for the cache slots of the blocks the searches will start at, so that
      // the batch's cache misses overlap instead of queueing one lookup after another.
      if (cache_ != nullptr) {
        for (size_t j = 0; j < m; ++j) {
          if (skip[j]) continue;
          const uint64_t hi = std::min(batch[j].bound.hi, num_entries_);
          const uint64_t lo = std::min(batch[j].bound.lo, hi);
          if (lo < hi)
            cache_->Prefetch(cache_id_, std::clamp(batch[j].pos, lo, hi - 1) / records_per_block_);
        }
      }
    } else if (cache_ != nullptr && num_blocks_ > 0) {
      // The classic index finds each key's block first, then the same prefetching applies.
      for (size_t j = 0; j < m; ++j) {
        if (skip[j]) continue;
        const LookupTarget t = LookupTarget::FromInternalKey(keys[start + j]);
        first_block[j] = index_block_.LowerBound(t, 0, static_cast<uint32_t>(num_blocks_));
        if (first_block[j] < num_blocks_) cache_->Prefetch(cache_id_, first_block[j]);
      }
    }
    // Phase 3: the searches.
    for (size_t j = 0; j < m; ++j) {
      const size_t i = start + j;
      if (skip[j]) {
        statuses[i] = Status::OK();
        continue;
      }
      auto forward = [&](const Slice& key, const Slice& value) { return on_entry(i, key, value); };
      statuses[i] = GetImpl(LookupTarget::FromInternalKey(keys[i]),
                            batch != nullptr ? &batch[j] : nullptr, first_block[j], &ref, forward);
    }
  }
}

uint64_t TableReader::ApproximateOffsetOf(const Slice& internal_key) const {
  const LookupTarget t = LookupTarget::FromInternalKey(internal_key);
  uint64_t block = num_blocks_;
  if (num_entries_ == 0 || CompareToTarget(props_.largest_key, t) < 0) {
    // After the last key (a prediction is only clamped into the table, not beyond it).
  } else if (model_ != nullptr) {
    const ApproxPos ap = model_->Predict(mapper_.Map(t.user_key));
    block = std::min(ap.pos, num_entries_) / records_per_block_;
  } else {
    block = index_block_.LowerBound(t, 0, static_cast<uint32_t>(num_blocks_));
  }
  return block >= num_blocks_ ? data_end_ : DataBlockHandle(block).offset;
}

size_t TableReader::IndexMemoryUsage() const {
  if (model_ != nullptr) {
    return model_block_.size + model_->ApproximateMemoryUsage() + mapper_.prefix().size();
  }
  return index_block_.size();
}

size_t TableReader::ApproximateMemoryUsage() const {
  return sizeof(*this) + IndexMemoryUsage() + FilterMemoryUsage() + file_name_.size() +
         props_.smallest_key.size() + props_.largest_key.size() + props_.fallback_reason.size();
}

}  // namespace learnkv
