// Namespace paths: absolute, '/'-separated, no empty, "." or ".." components, no NUL,
// each name at most 255 bytes, the whole path at most 4096 bytes. "/" is the root.
// Pure functions; thread-safe.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace dfs {

inline constexpr size_t kMaxNameBytes = 255;
inline constexpr size_t kMaxPathBytes = 4096;

// Splits a path into its components ("/" gives none), refusing malformed paths with an
// InvalidArgument that names the problem.
Result<std::vector<std::string>> SplitPath(std::string_view path);

// Joins components back into an absolute path.
std::string JoinPath(const std::vector<std::string>& components);

// Parent path and last component of a normalized path ("/a/b" -> "/a", "b").
std::string ParentPath(const std::string& path);
std::string BaseName(const std::string& path);

}  // namespace dfs
