// Ready: everything the consensus core asks of the node around it after some
// input, and PersistentState: what the node hands back after a restart.
//
// Contract for handling one Ready, in this order:
//   1. Persist durably: the snapshot (if set; it replaces the whole log and
//      the state machine, whose data the transport has already received),
//      then `entries` (each overwrites any stored entry with the same or a
//      higher index), then `hard_state` (if set).
//   2. Send `messages` (only now: they may promise what step 1 persisted). A leader
//      may send its appends, heartbeats, snapshots and transfer orders before step 1
//      if the commit index they carry is already durable on it, provided it steps no
//      acknowledgement before step 1 is done (its own copy then counts towards a
//      commit only once it is on disk).
//   3. Apply `committed_entries` in order; answer `read_states` once the state
//      machine has applied their index.
//   4. Call RaftCore::Advance(ready) before calling the core again.
//
// Thread safety: plain values, thread-compatible.
#pragma once

#include <optional>
#include <vector>

#include "namenode/raft/messages.h"

namespace dfs::raft {

struct Ready {
  std::optional<HardState> hard_state;
  std::optional<SnapshotMetadata> snapshot;
  std::vector<Entry> entries;
  std::vector<Message> messages;
  std::vector<Entry> committed_entries;
  std::vector<ReadState> read_states;

  bool empty() const {
    return !hard_state && !snapshot && entries.empty() && messages.empty() &&
           committed_entries.empty() && read_states.empty();
  }
};

// What survived on disk: the last persisted hard state and snapshot and the
// log entries after the snapshot. A node of a brand-new cluster starts from
// a snapshot at index 0 whose membership lists the initial voters; a node
// about to be added to a running cluster starts with an empty membership and
// learns it from the leader.
struct PersistentState {
  HardState hard_state;
  SnapshotMetadata snapshot;
  std::vector<Entry> entries;
};

}  // namespace dfs::raft
