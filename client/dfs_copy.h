// `dfs put`, `get`, `cp`, `cat`, `head`, `tail`, `getmerge` and `appendToFile`: copies
// into, out of and within the file system. Each returns the command's exit code.
//
// put, get and cp copy a directory with everything under it; with several sources, or a
// destination ending in '/', the destination must be an existing directory, and a
// destination's parent must exist. Each file is written as HDFS's copies write it: into
// NAME._COPYING_, renamed to NAME once complete, so a failed or interrupted copy never
// leaves NAME half written nor loses the file it was to replace (-f); without -f an
// existing file is left alone. An error names its path and the copy goes on with the next
// file. put and get draw one progress bar for the whole copy when stderr is a terminal.
#pragma once

#include <string>
#include <vector>

#include "client/file_system.h"

namespace dfs {

// args: local sources (files and directories, or - alone for stdin) and the remote
// destination. force: replace existing files.
int Put(FileSystem* fs, const std::vector<std::string>& args, const CreateOptions& options,
        bool force);
// args: remote sources and the local destination (- for stdout). force: replace existing
// local files. A symbolic link is written through; a device or FIFO is written into.
int Get(FileSystem* fs, const std::vector<std::string>& args, bool force);
// args: remote sources and the remote destination. force: overwrite existing files.
int Cp(FileSystem* fs, const std::vector<std::string>& args, bool force);
int Cat(FileSystem* fs, const std::vector<std::string>& paths);
// The files of a directory (not its subdirectories), in name order, into one local file;
// with newline, a newline after each. A file as src is copied alone. Replaces dst (through
// dst._COPYING_) only once complete; stops at the first error.
int GetMerge(FileSystem* fs, const std::string& src, const std::string& dst, bool newline);
// args: local files (- for stdin) and a remote file they are appended to, in order; the
// remote file is created if it does not exist. A source that cannot be opened, or is a
// directory, changes nothing; what was appended before a later error stays.
int AppendToFile(FileSystem* fs, const std::vector<std::string>& args);
// Print the first or the last kilobyte of a file.
int Head(FileSystem* fs, const std::string& path);
int Tail(FileSystem* fs, const std::string& path);

}  // namespace dfs
