// dfs-fuse: the file system mounted through libfuse3's low-level (inode-based) API, over
// libdfs. Every operation replies exactly once; cluster errors become errno values in
// client/errno_map.cc and are logged.
//
// Write-once semantics (see README): files are written sequentially from the start, or
// appended to (O_APPEND, or writes starting at the current end); opening with O_TRUNC
// writes a new file that replaces the old one when it is closed; a write at any other
// offset fails with EOPNOTSUPP.
#pragma once

#define FUSE_USE_VERSION 312
#include <fuse3/fuse_lowlevel.h>

#include <memory>

#include "client/file_system.h"
#include "fuse/inode_table.h"

namespace dfs {

struct MountOptions {
  double entry_timeout = 1.0;  // seconds the kernel may cache names
  double attr_timeout = 1.0;   // seconds the kernel may cache attributes
  bool read_only = false;
};

struct Mount {
  std::unique_ptr<FileSystem> fs;
  MountOptions options;
  InodeTable inodes;
  struct fuse_session* session = nullptr;
};

// The operations table; userdata for fuse_session_new is a Mount*.
const struct fuse_lowlevel_ops* DfsFuseOperations();

}  // namespace dfs
