// Helpers shared by every Env: whole-file reads and writes.

#include "learnkv/env.h"

#include <memory>

namespace learnkv {

Status WriteStringToFile(Env* env, const Slice& data, const std::string& fname, bool sync) {
  std::unique_ptr<WritableFile> file;
  Status s = env->NewWritableFile(fname, &file);
  if (!s.ok()) return s;
  s = file->Append(data);
  if (s.ok() && sync) s = file->Sync();
  if (s.ok()) {
    s = file->Close();
  } else {
    file->Close();  // the first error is the one worth reporting
  }
  // A partial file would be mistaken for a complete one (e.g. a truncated CURRENT).
  if (!s.ok()) env->RemoveFile(fname);
  return s;
}

Status ReadFileToString(Env* env, const std::string& fname, std::string* data) {
  data->clear();
  std::unique_ptr<SequentialFile> file;
  Status s = env->NewSequentialFile(fname, &file);
  if (!s.ok()) return s;
  constexpr size_t kChunk = 64 * 1024;
  std::unique_ptr<char[]> scratch(new char[kChunk]);
  while (true) {
    Slice fragment;
    s = file->Read(kChunk, &fragment, scratch.get());
    if (!s.ok()) break;
    data->append(fragment.data(), fragment.size());
    if (fragment.size() < kChunk) break;  // a short read means end of file
  }
  return s;
}

}  // namespace learnkv
