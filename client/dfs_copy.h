// `dfs put`, `get`, `cp`, `cat`, `head`, `tail`, `getmerge` and `appendToFile`: copies into, out of
// and within the file system. put, get and cp copy a directory with everything under it; with
// several sources, the destination must be an existing directory. An error names its path and the
// copy goes on with the next file; each returns the command's exit code. put and get draw one
// progress bar for the whole copy when stderr is a terminal.
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
// The files of a directory (not its subdirectories), in name order, into one local file;
// with newline, a newline after each. A file as src is copied alone.
int GetMerge(FileSystem* fs, const std::string& src, const std::string& dst, bool newline);
// args: local files (- for stdin) and a remote file they are appended to, in order; the
// remote file is created if it does not exist.
int AppendToFile(FileSystem* fs, const std::vector<std::string>& args);
// Print the first or the last kilobyte of a file.
int Head(FileSystem* fs, const std::string& path);
int Tail(FileSystem* fs, const std::string& path);

}  // namespace dfs
