// fsck: the health of every block under a path, from the namespace and the block map.
// Pure: reads the state it is given (the caller holds the namenode's lock).
#pragma once

#include "namenode/block_manager.h"
#include "namenode/namespace.h"
#include "proto/namenode.pb.h"

namespace dfs {

// At most max_entries files are listed; the counts always cover everything.
Result<proto::FsckResponse> Fsck(const Namespace& ns, const BlockManager& blocks,
                                 const std::string& path, bool list_files,
                                 size_t max_entries = 100'000);

}  // namespace dfs
