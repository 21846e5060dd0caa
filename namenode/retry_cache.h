// The retry cache: the result of each recent mutation, keyed by (client id, call id), so
// a call retried after a timeout or failover gets the first answer instead of being
// applied twice. Part of the replicated state: Put is called from Apply, and eviction
// is by count, so every replica evicts the same entries.
//
// Not thread-safe: guarded by the namenode's lock.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <utility>

#include "namenode/namespace.h"

namespace dfs {

class RetryCache {
 public:
  explicit RetryCache(size_t capacity) : capacity_(capacity) {}

  void Put(const std::string& client_id, uint64_t call_id, const OpResult& result) {
    if (client_id.empty()) return;
    auto key = std::make_pair(client_id, call_id);
    if (entries_.emplace(key, result).second) order_.push_back(key);
    while (order_.size() > capacity_) {
      entries_.erase(order_.front());
      order_.pop_front();
    }
  }

  std::optional<OpResult> Get(const std::string& client_id, uint64_t call_id) const {
    auto it = entries_.find({client_id, call_id});
    if (it == entries_.end()) return std::nullopt;
    return it->second;
  }

 private:
  using Key = std::pair<std::string, uint64_t>;
  const size_t capacity_;
  std::map<Key, OpResult> entries_;
  std::deque<Key> order_;
};

}  // namespace dfs
