#include "learnkv/write_batch.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "engine/memtable.h"
#include "engine/write_batch_internal.h"
#include "sstable/internal_key.h"

namespace learnkv {
namespace {

// Renders a batch's updates as "Put(k, v)Delete(k)...".
class Printer final : public WriteBatch::Handler {
 public:
  void Put(const Slice& key, const Slice& value) override {
    out += "Put(" + key.ToString() + ", " + value.ToString() + ")";
  }
  void Delete(const Slice& key) override { out += "Delete(" + key.ToString() + ")"; }
  std::string out;
};

std::string Print(const WriteBatch& b) {
  Printer p;
  Status s = b.Iterate(&p);
  if (!s.ok()) p.out += "<" + s.ToString() + ">";
  return p.out;
}

// Applies the batch to a fresh memtable and renders what it holds, with sequence numbers.
std::string PrintViaMemTable(const WriteBatch& b) {
  MemTable* mem = new MemTable(4 << 20);
  mem->Ref();
  std::string out;
  Status s = WriteBatchInternal::InsertInto(b, mem);
  {
    std::unique_ptr<Iterator> it = mem->NewIterator();
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      ParsedInternalKey k;
      EXPECT_TRUE(ParseInternalKey(it->key(), &k));
      if (k.type == kTypeValue) {
        out += "Put(" + k.user_key.ToString() + ", " + it->value().ToString() + ")";
      } else {
        out += "Delete(" + k.user_key.ToString() + ")";
      }
      out += "@" + std::to_string(k.sequence);
    }
  }
  if (!s.ok()) out += "<" + s.ToString() + ">";
  mem->Unref();
  return out;
}

TEST(WriteBatchTest, Empty) {
  WriteBatch b;
  EXPECT_EQ(0u, b.Count());
  EXPECT_EQ(WriteBatchInternal::kHeaderSize, b.ApproximateSize());
  EXPECT_EQ("", Print(b));
  EXPECT_EQ("", PrintViaMemTable(b));
}

TEST(WriteBatchTest, PutsAndDeletesKeepTheirOrder) {
  WriteBatch b;
  ASSERT_TRUE(b.Put("foo", "bar").ok());
  ASSERT_TRUE(b.Delete("box").ok());
  ASSERT_TRUE(b.Put("baz", "boo").ok());
  ASSERT_TRUE(b.Put("", "empty key").ok());
  EXPECT_EQ(4u, b.Count());
  EXPECT_EQ("Put(foo, bar)Delete(box)Put(baz, boo)Put(, empty key)", Print(b));
}

TEST(WriteBatchTest, InsertIntoNumbersUpdatesFromTheSequence) {
  WriteBatch b;
  ASSERT_TRUE(b.Put("foo", "bar").ok());
  ASSERT_TRUE(b.Delete("box").ok());
  ASSERT_TRUE(b.Put("baz", "boo").ok());
  WriteBatchInternal::SetSequence(&b, 100);
  EXPECT_EQ(100u, WriteBatchInternal::Sequence(b));
  EXPECT_EQ(3u, WriteBatchInternal::Count(b));
  // The memtable orders by user key; the sequence shows each update's place in the batch.
  EXPECT_EQ("Put(baz, boo)@102Delete(box)@101Put(foo, bar)@100", PrintViaMemTable(b));
}

TEST(WriteBatchTest, SameKeyTwiceNewestFirst) {
  WriteBatch b;
  ASSERT_TRUE(b.Put("k", "v1").ok());
  ASSERT_TRUE(b.Put("k", "v2").ok());
  ASSERT_TRUE(b.Delete("k").ok());
  WriteBatchInternal::SetSequence(&b, 7);
  EXPECT_EQ("Delete(k)@9Put(k, v2)@8Put(k, v1)@7", PrintViaMemTable(b));
}

TEST(WriteBatchTest, Clear) {
  WriteBatch b;
  ASSERT_TRUE(b.Put("a", "b").ok());
  WriteBatchInternal::SetSequence(&b, 5);
  b.Clear();
  EXPECT_EQ(0u, b.Count());
  EXPECT_EQ(0u, WriteBatchInternal::Sequence(b));
  EXPECT_EQ(WriteBatchInternal::kHeaderSize, b.ApproximateSize());
  EXPECT_EQ("", Print(b));
}

TEST(WriteBatchTest, Append) {
  WriteBatch b1, b2;
  WriteBatchInternal::SetSequence(&b1, 200);
  WriteBatchInternal::SetSequence(&b2, 300);
  b1.Append(b2);
  EXPECT_EQ("", Print(b1));
  ASSERT_TRUE(b2.Put("a", "va").ok());
  b1.Append(b2);
  EXPECT_EQ("Put(a, va)", Print(b1));
  EXPECT_EQ(200u, WriteBatchInternal::Sequence(b1));  // the destination keeps its header
  b2.Clear();
  ASSERT_TRUE(b2.Put("b", "vb").ok());
  ASSERT_TRUE(b2.Delete("foo").ok());
  b1.Append(b2);
  EXPECT_EQ("Put(a, va)Put(b, vb)Delete(foo)", Print(b1));
  EXPECT_EQ(3u, b1.Count());
}

TEST(WriteBatchTest, AppendToItself) {
  WriteBatch b;
  ASSERT_TRUE(b.Put("a", "1").ok());
  ASSERT_TRUE(b.Delete("b").ok());
  b.Append(b);
  EXPECT_EQ(4u, b.Count());
  EXPECT_EQ("Put(a, 1)Delete(b)Put(a, 1)Delete(b)", Print(b));
}

TEST(WriteBatchTest, ApproximateSizeGrows) {
  WriteBatch b;
  const size_t empty = b.ApproximateSize();
  ASSERT_TRUE(b.Put("foo", "bar").ok());
  const size_t one = b.ApproximateSize();
  EXPECT_LT(empty, one);
  ASSERT_TRUE(b.Put("baz", "boo").ok());
  const size_t two = b.ApproximateSize();
  EXPECT_LT(one, two);
  ASSERT_TRUE(b.Delete("box").ok());
  EXPECT_LT(two, b.ApproximateSize());
}

TEST(WriteBatchTest, CopyIsIndependent) {
  WriteBatch a;
  ASSERT_TRUE(a.Put("x", "1").ok());
  WriteBatch b = a;
  ASSERT_TRUE(b.Put("y", "2").ok());
  EXPECT_EQ("Put(x, 1)", Print(a));
  EXPECT_EQ("Put(x, 1)Put(y, 2)", Print(b));
}

TEST(WriteBatchTest, ContentsRoundTrip) {
  WriteBatch a;
  ASSERT_TRUE(a.Put("k1", std::string(300, 'v')).ok());  // multi-byte varint length
  ASSERT_TRUE(a.Delete("k2").ok());
  WriteBatchInternal::SetSequence(&a, 42);
  WriteBatch b;
  ASSERT_TRUE(WriteBatchInternal::SetContents(&b, WriteBatchInternal::Contents(a)).ok());
  EXPECT_EQ(a.Data(), b.Data());
  EXPECT_EQ(42u, WriteBatchInternal::Sequence(b));
  EXPECT_EQ("Put(k1, " + std::string(300, 'v') + ")Delete(k2)", Print(b));
}

TEST(WriteBatchTest, SetContentsRejectsShortInput) {
  WriteBatch b;
  EXPECT_TRUE(WriteBatchInternal::SetContents(&b, Slice("short")).IsCorruption());
  EXPECT_TRUE(WriteBatchInternal::SetContents(&b, Slice()).IsCorruption());
}

TEST(WriteBatchTest, EveryTruncationIsCorruption) {
  WriteBatch a;
  ASSERT_TRUE(a.Put("key", "value").ok());
  ASSERT_TRUE(a.Delete("gone").ok());
  ASSERT_TRUE(a.Put("k2", std::string(200, 'x')).ok());
  const std::string full = a.Data();
  for (size_t n = WriteBatchInternal::kHeaderSize; n < full.size(); ++n) {
    WriteBatch b;
    ASSERT_TRUE(WriteBatchInternal::SetContents(&b, Slice(full.data(), n)).ok());
    Printer p;
    EXPECT_TRUE(b.Iterate(&p).IsCorruption()) << "truncated to " << n;
  }
}

TEST(WriteBatchTest, UnknownTypeIsCorruption) {
  WriteBatch a;
  ASSERT_TRUE(a.Put("a", "b").ok());
  std::string rep = a.Data();
  rep[WriteBatchInternal::kHeaderSize] = 0x7f;
  WriteBatch b;
  ASSERT_TRUE(WriteBatchInternal::SetContents(&b, rep).ok());
  Printer p;
  Status s = b.Iterate(&p);
  EXPECT_TRUE(s.IsCorruption());
  EXPECT_NE(std::string::npos, s.ToString().find("unknown record type")) << s.ToString();
}

TEST(WriteBatchTest, WrongCountIsCorruption) {
  WriteBatch b;
  ASSERT_TRUE(b.Put("a", "b").ok());
  WriteBatchInternal::SetCount(&b, 2);
  Printer p;
  EXPECT_TRUE(b.Iterate(&p).IsCorruption());
  EXPECT_EQ("Put(a, b)", p.out);  // updates before the damage were delivered

  MemTable* mem = new MemTable(4 << 20);
  mem->Ref();
  EXPECT_TRUE(WriteBatchInternal::InsertInto(b, mem).IsCorruption());
  mem->Unref();
}

TEST(WriteBatchTest, OversizedKeyOrValueRejected) {
  // Only the length is inspected, so a Slice that claims 5 GiB is never read.
  const char byte = 'x';
  const Slice huge(&byte, size_t{5} << 30);
  WriteBatch b;
  EXPECT_TRUE(b.Put(huge, "v").IsInvalidArgument());
  EXPECT_TRUE(b.Put("k", huge).IsInvalidArgument());
  EXPECT_TRUE(b.Delete(huge).IsInvalidArgument());
  EXPECT_EQ(0u, b.Count());
  EXPECT_EQ(WriteBatchInternal::kHeaderSize, b.ApproximateSize());
}

}  // namespace
}  // namespace learnkv
