// What the dfs command's subcommands share: their error line and human-readable sizes.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "client/file_system.h"
#include "common/status.h"

namespace dfs {

// Prints "dfs: /a/b: No such file or directory" (the errno's words, or the message when
// the errno says too little) and returns 1, the exit code.
int Fail(const std::string& path, const Status& s);
// Prints "dfs: path: why" and returns 1.
int Fail(const std::string& path, const std::string& why);
// A progress bar is drawn on stderr's current line: the next error starts a new one.
void SetProgressLineOpen(bool open);
// Runs fn on each path and, with recursive, on everything under it (parents first). A
// failure (of fn, or to find or list a path) is printed with Fail and the walk goes on;
// returns 1 if there was one.
int ForEachPath(FileSystem* fs, const std::vector<std::string>& paths, bool recursive,
                const std::function<Status(const FileStatus&)>& fn);
// 1536 -> "1.5K" if human, else "1536".
std::string HumanSize(uint64_t n, bool human);

}  // namespace dfs
