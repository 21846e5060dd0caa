// `dfs put`, `get`, `cp`, `cat` and `tail`: copies into, out of and within the file
// system. put, get and cp copy a directory with everything under it; with several
// sources, the destination must be an existing directory. An error names its path and
// the copy goes on with the next file; each returns the command's exit code. put and get
// draw one progress bar for the whole copy when stderr is a terminal.
#pragma once

#include <string>
#include <vector>

#include "client/file_system.h"

namespace dfs {

// args: local sources (files, directories, or - for stdin) and the remote destination.
int Put(FileSystem* fs, const std::vector<std::string>& args, const CreateOptions& options);
// args: remote sources and the local destination (- for stdout: one file only).
int Get(FileSystem* fs, const std::vector<std::string>& args);
// args: remote sources and the remote destination. force: overwrite existing files.
int Cp(FileSystem* fs, const std::vector<std::string>& args, bool force);
int Cat(FileSystem* fs, const std::vector<std::string>& paths);
// Prints the last kilobyte of a file.
int Tail(FileSystem* fs, const std::string& path);

}  // namespace dfs
