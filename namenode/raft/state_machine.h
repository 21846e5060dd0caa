// The seam between the namespace and the log it is made durable by. LocalLog keeps the
// log on this machine's disk (one namenode); the Raft node keeps it on a quorum of
// namenodes. Both drive a StateMachine the same way.
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

// Thread-safe.
class ReplicatedLog {
 public:
  virtual ~ReplicatedLog() = default;
  // Recovers the state machine from disk (snapshot, then the log after it) and starts
  // accepting proposals. Stops with DataLoss if committed entries are unreadable.
  virtual Status Start(StateMachine* sm) = 0;
  // Appends entry; the future resolves with its index once it is durable and applied,
  // or with an error (Unavailable: not the leader; Internal: the disk failed).
  virtual std::future<Result<uint64_t>> Propose(std::string entry) = 0;
  virtual void Stop() = 0;
};

}  // namespace dfs
