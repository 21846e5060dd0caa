// The retry cache: the result of each recent mutation, keyed by (client id, call id), so
// a call retried after a timeout or failover gets the first answer instead of being
// applied twice. Part of the replicated state: Put is called from Apply with the op's
// time (set by the leader, carried in the log), entries expire by that time and by
// count, so every replica keeps the same entries; snapshots include them.
//
// Not thread-safe: guarded by the namenode's lock.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "namenode/namespace.h"

namespace dfs {

class RetryCache {
 public:
  RetryCache(size_t capacity, int64_t max_age_ms) : capacity_(capacity), max_age_ms_(max_age_ms) {}

  void Put(const std::string& client_id, uint64_t call_id, int64_t time_ms,
           const OpResult& result) {
    if (client_id.empty()) return;
    auto key = std::make_pair(client_id, call_id);
    if (entries_.emplace(key, Entry{time_ms, result}).second) order_.push_back(key);
    while (order_.size() > capacity_ ||
           (!order_.empty() && entries_.at(order_.front()).time_ms < time_ms - max_age_ms_)) {
      entries_.erase(order_.front());
      order_.pop_front();
    }
  }

  std::optional<OpResult> Get(const std::string& client_id, uint64_t call_id) const {
    auto it = entries_.find({client_id, call_id});
    if (it == entries_.end()) return std::nullopt;
    return it->second.result;
  }

  // Snapshot records, oldest first; Load replaces the cache with them.
  std::vector<std::string> Save() const;
  Status Load(const std::vector<std::string>& records);

 private:
  using Key = std::pair<std::string, uint64_t>;
  struct Entry {
    int64_t time_ms;
    OpResult result;
  };
  const size_t capacity_;
  const int64_t max_age_ms_;
  std::map<Key, Entry> entries_;
  std::deque<Key> order_;
};

}  // namespace dfs
