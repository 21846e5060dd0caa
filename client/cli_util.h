// What the dfs command's subcommands share: their error line and human-readable sizes.
#pragma once

#include <cstdint>
#include <string>

#include "common/status.h"

namespace dfs {

// Prints "dfs: /a/b: No such file or directory" (the errno's words, or the message when
// the errno says too little) and returns 1, the exit code.
int Fail(const std::string& path, const Status& s);
// Prints "dfs: path: why" and returns 1.
int Fail(const std::string& path, const std::string& why);
// A progress bar is drawn on stderr's current line: the next error starts a new one.
void SetProgressLineOpen(bool open);
// 1536 -> "1.5K" if human, else "1536".
std::string HumanSize(uint64_t n, bool human);

}  // namespace dfs
