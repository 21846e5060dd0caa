// `dfs admin namenode ...` and `dfs admin safemode ...`: administration of the namenode
// group. Each returns the command's exit code and prints errors as `dfs: what: why`.
#pragma once

#include <string>
#include <vector>

#include "client/file_system.h"

namespace dfs {

// status: every configured namenode's view (id, role, term, indexes, lag); exit 1 if
// one does not answer. add ID RAFT_ADDRESS | remove ID | transfer ID: on the leader.
int AdminNamenode(FileSystem* fs, const std::string& action, const std::vector<std::string>& args);
// Takes datanodes (uuid, host:port or host) out of service, or back in with recommission;
// with wait, until every one is decommissioned.
int AdminDecommission(FileSystem* fs, const std::vector<std::string>& names, bool recommission,
                      bool wait);
// get | enter | leave | wait (until the leader leaves safe mode).
int AdminSafemode(FileSystem* fs, const std::string& action);

}  // namespace dfs
