// The example the README quotes: open a DB, write, read, iterate. Run as
//   learnkv-example /tmp/example-db
#include <cstdio>
#include <memory>
#include <string>

#include "learnkv/db.h"

int main(int argc, char** argv) {
  const std::string path = argc > 1 ? argv[1] : "/tmp/learnkv-example";

  learnkv::Options options;
  options.create_if_missing = true;
  std::unique_ptr<learnkv::DB> db;
  learnkv::Status s = learnkv::DB::Open(options, path, &db);
  if (!s.ok()) {
    std::fprintf(stderr, "open: %s\n", s.ToString().c_str());
    return 1;
  }

  // Single writes, and a batch applied atomically.
  s = db->Put(learnkv::WriteOptions(), "apple", "red");
  if (s.ok()) s = db->Put(learnkv::WriteOptions(), "banana", "yellow");
  learnkv::WriteBatch batch;
  batch.Put("cherry", "dark red");
  batch.Delete("banana");
  if (s.ok()) s = db->Write(learnkv::WriteOptions(), &batch);
  if (!s.ok()) {
    std::fprintf(stderr, "write: %s\n", s.ToString().c_str());
    return 1;
  }

  // Point lookups: a missing key is Status::NotFound.
  for (const char* key : {"apple", "banana"}) {
    std::string value;
    s = db->Get(learnkv::ReadOptions(), key, &value);
    if (s.ok()) {
      std::printf("%s -> %s\n", key, value.c_str());
    } else if (s.IsNotFound()) {
      std::printf("%s -> (not found)\n", key);
    } else {
      std::fprintf(stderr, "get: %s\n", s.ToString().c_str());
      return 1;
    }
  }

  // Every key in order.
  std::unique_ptr<learnkv::Iterator> it = db->NewIterator(learnkv::ReadOptions());
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    std::printf("%s = %s\n", it->key().ToString().c_str(), it->value().ToString().c_str());
  }
  if (!it->status().ok()) {
    std::fprintf(stderr, "scan: %s\n", it->status().ToString().c_str());
    return 1;
  }
  it.reset();  // iterators go before the DB

  s = db->Close();
  if (!s.ok()) {
    std::fprintf(stderr, "close: %s\n", s.ToString().c_str());
    return 1;
  }
  return 0;
}
