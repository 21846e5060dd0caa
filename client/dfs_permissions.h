// `dfs chmod`, `chown` and `chgrp`: a path's mode, owner and group, with -R for
// everything under a directory. Each returns the command's exit code; an error names its
// path and the command goes on with the next one.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "client/file_system.h"
#include "common/status.h"

namespace dfs {

// A mode as chmod(1) takes it: octal (755, 1777) or symbolic clauses ("u+x,go-w",
// "a=rX", "+t") applied to `mode`; X is x for a directory or what already has an x bit.
// InvalidArgument for anything else.
Result<uint32_t> ApplyModeSpec(const std::string& spec, uint32_t mode, bool is_dir);

int Chmod(FileSystem* fs, const std::string& spec, const std::vector<std::string>& paths,
          bool recursive);
// spec: OWNER, OWNER:GROUP or :GROUP.
int Chown(FileSystem* fs, const std::string& spec, const std::vector<std::string>& paths,
          bool recursive);

}  // namespace dfs
