// Configuration: "key = value" lines, '#' starts a comment. One loader for every
// daemon and client tool. Values are looked up with typed getters and defaults.
// A Config is immutable after Load; safe to read from many threads.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "common/status.h"

namespace dfs {

class Config {
 public:
  Config() = default;
  static Result<Config> Load(const std::string& path);
  static Result<Config> Parse(const std::string& text, const std::string& origin);

  void Set(const std::string& key, const std::string& value) { values_[key] = value; }
  bool Has(const std::string& key) const { return values_.count(key) > 0; }
  std::string GetString(const std::string& key, const std::string& def = "") const;
  int64_t GetInt(const std::string& key, int64_t def) const;

  // Writes the entries back in Load's format.
  std::string ToString() const;

 private:
  std::map<std::string, std::string> values_;
};

// The client configuration file: --conf if given, else $DFS_CONF, else ./client.conf.
// It must name the namenodes ("namenodes = host:port,..."; "namenode" is read as the
// same key, and both are set in the result).
Result<Config> LoadClientConfig(const std::string& flag_value);

// Parses "1k", "4M", "1G", "512" (binary units) into bytes.
Result<uint64_t> ParseSize(const std::string& text);

}  // namespace dfs
