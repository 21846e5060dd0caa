// The mount's map from FUSE inode numbers to paths, with the kernel's lookup counts.
// Inode numbers are the namenode's inode ids (the root is 1 in both). An entry lives
// while the kernel holds a reference (lookup count > 0). Thread-safe.
#pragma once

#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

namespace dfs {

class InodeTable {
 public:
  InodeTable() { entries_[1] = {"/", 1}; }

  // The kernel learned of ino at path (lookup, create, mkdir, readdirplus).
  void Ref(uint64_t ino, const std::string& path) {
    std::lock_guard<std::mutex> l(mu_);
    auto& e = entries_[ino];
    e.path = path;
    ++e.nlookup;
  }

  void Forget(uint64_t ino, uint64_t n) {
    std::lock_guard<std::mutex> l(mu_);
    auto it = entries_.find(ino);
    if (it == entries_.end() || ino == 1) return;
    it->second.nlookup = it->second.nlookup > n ? it->second.nlookup - n : 0;
    if (it->second.nlookup == 0) entries_.erase(it);
  }

  std::optional<std::string> PathOf(uint64_t ino) const {
    std::lock_guard<std::mutex> l(mu_);
    auto it = entries_.find(ino);
    if (it == entries_.end()) return std::nullopt;
    return it->second.path;
  }

  // from, and everything under it, now lives at to.
  void Renamed(const std::string& from, const std::string& to) {
    std::lock_guard<std::mutex> l(mu_);
    for (auto& [ino, e] : entries_) {
      if (e.path == from) {
        e.path = to;
      } else if (e.path.size() > from.size() && e.path.compare(0, from.size(), from) == 0 &&
                 e.path[from.size()] == '/') {
        e.path = to + e.path.substr(from.size());
      }
    }
  }

 private:
  struct Entry {
    std::string path;
    uint64_t nlookup = 0;
  };
  mutable std::mutex mu_;
  std::unordered_map<uint64_t, Entry> entries_;
};

}  // namespace dfs
