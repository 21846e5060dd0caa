#include "client/glob.h"

#include <fnmatch.h>

#include <algorithm>

namespace dfs {
namespace {

bool IsPattern(const std::string& component) {
  return component.find_first_of("*?[") != std::string::npos;
}

// The components of a normalized absolute path ("/" has none).
std::vector<std::string> Split(const std::string& path) {
  std::vector<std::string> parts;
  size_t start = 1;
  while (start < path.size()) {
    size_t slash = path.find('/', start);
    if (slash == std::string::npos) slash = path.size();
    parts.push_back(path.substr(start, slash - start));
    start = slash + 1;
  }
  return parts;
}

}  // namespace

bool HasGlob(const std::string& path) { return path.find_first_of("*?[{") != std::string::npos; }

Result<std::vector<std::string>> ExpandBraces(const std::string& pattern) {
  const size_t open = pattern.find('{');
  if (open == std::string::npos) return std::vector<std::string>{pattern};
  // The matching close, and the top-level commas between.
  std::vector<size_t> commas;
  size_t close = std::string::npos;
  int depth = 0;
  for (size_t i = open; i < pattern.size() && close == std::string::npos; ++i) {
    if (pattern[i] == '{') ++depth;
    if (pattern[i] == '}' && --depth == 0) close = i;
    if (pattern[i] == ',' && depth == 1) commas.push_back(i);
  }
  if (close == std::string::npos) return InvalidArgument("unclosed '{' in " + pattern);
  std::vector<std::string> out;
  size_t from = open + 1;
  commas.push_back(close);
  for (size_t to : commas) {
    std::string one =
        pattern.substr(0, open) + pattern.substr(from, to - from) + pattern.substr(close + 1);
    ASSIGN_OR_RETURN(auto expanded, ExpandBraces(one));
    out.insert(out.end(), expanded.begin(), expanded.end());
    from = to + 1;
  }
  return out;
}

Result<std::vector<std::string>> Glob(FileSystem* fs, const std::string& pattern) {
  if (!HasGlob(pattern)) return std::vector<std::string>{pattern};
  ASSIGN_OR_RETURN(auto alternatives, ExpandBraces(pattern));
  std::vector<std::string> matches;
  for (const std::string& alt : alternatives) {
    std::vector<std::pair<std::string, bool>> found = {{"/", true}};  // (path, directory)
    for (const std::string& part : Split(NormalizePath(alt))) {
      std::vector<std::pair<std::string, bool>> next;
      for (const auto& [dir, is_dir] : found) {
        if (!is_dir) continue;  // nothing is under a file
        if (!IsPattern(part)) {
          const std::string child = ChildPath(dir, part);
          auto st = fs->GetFileStatus(child);
          if (st.ok()) next.emplace_back(child, st->type() == proto::DIRECTORY);
          if (!st.ok() && st.status().code() != Code::kNotFound) return st.status();
          continue;
        }
        auto entries = fs->ListStatus(dir);
        if (entries.status().code() == Code::kNotFound) continue;  // gone meanwhile
        if (!entries.ok()) return entries.status();  // the cluster cannot be reached, say
        for (const FileStatus& e : *entries) {
          std::string name = e.path().substr(e.path().rfind('/') + 1);
          if (fnmatch(part.c_str(), name.c_str(), 0) == 0) {
            next.emplace_back(e.path(), e.type() == proto::DIRECTORY);
          }
        }
      }
      found = std::move(next);
    }
    std::sort(found.begin(), found.end());
    for (const auto& [path, is_dir] : found) matches.push_back(path);
  }
  if (matches.empty()) return NotFound(pattern + ": No such file or directory");
  return matches;
}

}  // namespace dfs
