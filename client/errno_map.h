// The one place where a Status becomes an errno: for dfs-fuse replies and for the CLI's
// "dfs: /a/b: No such file or directory" messages.
#pragma once

#include "common/status.h"

namespace dfs {

// A positive errno for a non-OK status (EIO when nothing closer fits).
int ToErrno(const Status& s);

}  // namespace dfs
