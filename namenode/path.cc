#include "namenode/path.h"

namespace dfs {

Result<std::vector<std::string>> SplitPath(std::string_view path) {
  std::string shown(path.substr(0, 200));
  if (path.empty()) return InvalidArgument("empty path");
  if (path.size() > kMaxPathBytes) {
    return InvalidArgument("path is longer than " + std::to_string(kMaxPathBytes) + " bytes");
  }
  if (path.find('\0') != std::string_view::npos) {
    return InvalidArgument("path contains a NUL byte");
  }
  if (path[0] != '/') return InvalidArgument("path is not absolute: " + shown);
  std::vector<std::string> parts;
  if (path == "/") return parts;
  size_t pos = 1;
  while (true) {
    size_t slash = path.find('/', pos);
    std::string_view name =
        path.substr(pos, slash == std::string_view::npos ? std::string_view::npos : slash - pos);
    if (name.empty()) return InvalidArgument("path has an empty component: " + shown);
    if (name == "." || name == "..") {
      return InvalidArgument("path component '" + std::string(name) + "' is not allowed: " + shown);
    }
    if (name.size() > kMaxNameBytes) {
      return InvalidArgument("name longer than 255 bytes in path: " + shown);
    }
    parts.emplace_back(name);
    if (slash == std::string_view::npos) break;
    pos = slash + 1;
  }
  return parts;
}

std::string JoinPath(const std::vector<std::string>& components) {
  if (components.empty()) return "/";
  std::string out;
  for (const auto& c : components) out += "/" + c;
  return out;
}

std::string ParentPath(const std::string& path) {
  size_t slash = path.rfind('/');
  if (slash == 0 || slash == std::string::npos) return "/";
  return path.substr(0, slash);
}

std::string BaseName(const std::string& path) {
  size_t slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

}  // namespace dfs
