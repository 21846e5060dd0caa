// Remote path patterns, as `hdfs dfs` takes them: * ? [...] match within one path
// component (fnmatch(3); a backslash escapes), {a,b} picks alternatives.
#pragma once

#include <string>
#include <vector>

#include "client/file_system.h"
#include "common/status.h"

namespace dfs {

bool HasGlob(const std::string& path);
// {a,b} alternatives spelled out: "/x/{a,b}/*.log" -> "/x/a/*.log", "/x/b/*.log".
// InvalidArgument for an unclosed brace.
Result<std::vector<std::string>> ExpandBraces(const std::string& pattern);
// The paths that match, in order; a path without a pattern is itself (even if missing).
// NotFound if a pattern matches nothing; another error of the namenode (unreachable, say)
// is returned as it is.
Result<std::vector<std::string>> Glob(FileSystem* fs, const std::string& pattern);

}  // namespace dfs
