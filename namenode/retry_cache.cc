#include "namenode/retry_cache.h"

#include "proto/namespace.pb.h"

namespace dfs {

std::vector<std::string> RetryCache::Save() const {
  std::vector<std::string> out;
  out.reserve(order_.size());
  for (const Key& key : order_) {
    const Entry& e = entries_.at(key);
    proto::RetryCacheRecord r;
    r.set_client_id(key.first);
    r.set_call_id(key.second);
    r.set_time_ms(e.time_ms);
    r.set_code(static_cast<uint32_t>(e.result.status.code()));
    r.set_message(e.result.status.message());
    *r.mutable_file() = e.result.file;
    *r.mutable_block() = e.result.block;
    for (const auto& b : e.result.removed_blocks) *r.add_removed_blocks() = b;
    out.push_back(r.SerializeAsString());
  }
  return out;
}

Status RetryCache::Load(const std::vector<std::string>& records) {
  entries_.clear();
  order_.clear();
  for (const auto& rec : records) {
    proto::RetryCacheRecord r;
    if (!r.ParseFromString(rec)) return DataLoss("unreadable retry cache record in a snapshot");
    OpResult result;
    result.status = Status(static_cast<Code>(r.code()), r.message());
    result.file = r.file();
    result.block = r.block();
    result.removed_blocks.assign(r.removed_blocks().begin(), r.removed_blocks().end());
    Key key{r.client_id(), r.call_id()};
    if (entries_.emplace(key, Entry{r.time_ms(), std::move(result)}).second) order_.push_back(key);
  }
  return Status::Ok();
}

}  // namespace dfs
