#include "server/expiry_filter.h"

#include <string_view>

#include "server/keyspace.h"

namespace learnkv {
namespace server {

CompactionFilter::Decision ExpiryFilter::Filter(int /*level*/, const Slice& key,
                                                const Slice& existing_value) const {
  if (key.ToStringView().substr(0, kMetaPrefix.size()) == kMetaPrefix) return Decision::kKeep;
  int64_t expire_ms = 0;
  if (!PeekExpiry(existing_value.ToStringView(), &expire_ms)) return Decision::kKeep;
  if (expire_ms == 0 || expire_ms > NowMs()) return Decision::kKeep;
  if (removed_ != nullptr) removed_->fetch_add(1, std::memory_order_relaxed);
  return Decision::kRemove;
}

}  // namespace server
}  // namespace learnkv
