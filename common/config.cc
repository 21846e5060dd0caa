#include "common/config.h"

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <sstream>

namespace dfs {

namespace {
std::string Trim(const std::string& s) {
  size_t b = s.find_first_not_of(" \t\r");
  if (b == std::string::npos) return "";
  size_t e = s.find_last_not_of(" \t\r");
  return s.substr(b, e - b + 1);
}
}  // namespace

Result<Config> Config::Parse(const std::string& text, const std::string& origin) {
  Config c;
  std::istringstream in(text);
  std::string line;
  int lineno = 0;
  while (std::getline(in, line)) {
    ++lineno;
    size_t hash = line.find('#');
    if (hash != std::string::npos) line.resize(hash);
    line = Trim(line);
    if (line.empty()) continue;
    size_t eq = line.find('=');
    if (eq == std::string::npos) {
      return InvalidArgument(origin + ":" + std::to_string(lineno) + ": expected 'key = value'");
    }
    c.values_[Trim(line.substr(0, eq))] = Trim(line.substr(eq + 1));
  }
  return c;
}

Result<Config> Config::Load(const std::string& path) {
  std::ifstream f(path);
  if (!f) return NotFound("cannot read configuration file " + path);
  std::stringstream ss;
  ss << f.rdbuf();
  return Parse(ss.str(), path);
}

std::string Config::GetString(const std::string& key, const std::string& def) const {
  auto it = values_.find(key);
  return it == values_.end() ? def : it->second;
}

int64_t Config::GetInt(const std::string& key, int64_t def) const {
  auto it = values_.find(key);
  if (it == values_.end()) return def;
  auto size = ParseSize(it->second);
  return size.ok() ? static_cast<int64_t>(*size) : def;
}

std::string Config::ToString() const {
  std::string out;
  for (const auto& [k, v] : values_) out += k + " = " + v + "\n";
  return out;
}

Result<Config> LoadClientConfig(const std::string& flag_value) {
  std::string path = flag_value;
  if (path.empty()) {
    const char* env = std::getenv("DFS_CONF");
    path = env && *env ? env : "client.conf";
  }
  auto c = Config::Load(path);
  if (!c.ok()) {
    return NotFound("cannot read client configuration " + path +
                    " (set DFS_CONF or --conf; deploy/cluster.sh start writes one)");
  }
  // "namenodes" lists the namenode group; "namenode" is accepted as another name for it.
  if (!c->Has("namenodes") && c->Has("namenode")) c->Set("namenodes", c->GetString("namenode"));
  if (!c->Has("namenodes")) {
    return InvalidArgument(path + ": no 'namenodes = host:port,host:port,...' line");
  }
  c->Set("namenode", c->GetString("namenodes"));
  return c;
}

Result<uint64_t> ParseSize(const std::string& text) {
  if (text.empty()) return InvalidArgument("empty size");
  char* end = nullptr;
  errno = 0;
  double v = std::strtod(text.c_str(), &end);
  if (end == text.c_str() || !std::isfinite(v) || v < 0) {
    return InvalidArgument("not a size: " + text);
  }
  std::string unit = Trim(end);
  uint64_t mult = 1;
  if (unit.empty() || unit == "b" || unit == "B") mult = 1;
  else if (unit == "k" || unit == "K" || unit == "KiB" || unit == "KB") mult = 1ull << 10;
  else if (unit == "m" || unit == "M" || unit == "MiB" || unit == "MB") mult = 1ull << 20;
  else if (unit == "g" || unit == "G" || unit == "GiB" || unit == "GB") mult = 1ull << 30;
  else if (unit == "t" || unit == "T" || unit == "TiB" || unit == "TB") mult = 1ull << 40;
  else return InvalidArgument("unknown size unit in " + text);
  double bytes = v * static_cast<double>(mult);
  if (bytes >= 18446744073709551616.0) return InvalidArgument("size too large: " + text);
  return static_cast<uint64_t>(bytes);
}

}  // namespace dfs
