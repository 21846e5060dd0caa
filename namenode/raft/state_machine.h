// What a Raft node (node.h) drives: the application's deterministic state machine. The
// namenode's namespace is one; the node's tests use a small one of their own.
#pragma once

#include <cstdint>
#include <future>
#include <string>

#include "common/status.h"

namespace dfs {

// Implemented by the namenode. Apply is called in log order, on one thread, exactly once
// per entry per process lifetime (after a restart: from the last snapshot on).
class StateMachine {
 public:
  virtual ~StateMachine() = default;
  virtual void Apply(uint64_t index, const std::string& entry) = 0;
  // Writes the state (as of the last applied entry) to path; returns that entry's index.
  virtual Result<uint64_t> SaveSnapshot(const std::string& path) = 0;
  // Replaces the state with a snapshot; returns its last applied index.
  virtual Result<uint64_t> RestoreSnapshot(const std::string& path) = 0;
};

}  // namespace dfs
