// Plain value types exchanged by the Raft consensus core: log entries, the
// durable hard state, snapshot metadata and the messages peers send each
// other.
//
// Contract: these are passive structs with no invariants of their own; the
// core (core.h) gives their fields meaning. They carry no serialization; the
// transport and the disk log encode them as they see fit. Index 0 and term 0
// mean "none". Node id 0 means "no node".
//
// Thread safety: plain values, thread-compatible.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "namenode/raft/membership.h"

namespace dfs::raft {

enum class EntryType : uint8_t {
  kNormal = 0,      // application command; empty data is the leader's no-op
  kConfChange = 1,  // data is EncodeConfChange(...); takes effect when appended
};

struct Entry {
  uint64_t term = 0;
  uint64_t index = 0;
  EntryType type = EntryType::kNormal;
  std::string data;

  bool operator==(const Entry&) const = default;
};

// What must survive a crash besides the log: persisted before any message of
// the same Ready is sent.
struct HardState {
  uint64_t term = 0;
  NodeId vote = 0;
  uint64_t commit = 0;

  bool operator==(const HardState&) const = default;
};

// Describes a snapshot: the state machine after applying every entry up to
// and including `index`. The snapshot data itself never passes through the
// core; the application stores it and the transport streams it.
struct SnapshotMetadata {
  uint64_t index = 0;
  uint64_t term = 0;
  Membership membership;

  bool operator==(const SnapshotMetadata&) const = default;
};

enum class MessageType : uint8_t {
  kPreVote,
  kPreVoteResp,
  kVote,
  kVoteResp,
  kAppend,  // AppendEntries (possibly empty: a probe)
  kAppendResp,
  kHeartbeat,
  kHeartbeatResp,
  kSnapshot,    // "install the snapshot described by `snapshot`"
  kTimeoutNow,  // leadership transfer: campaign now, bypassing pre-vote
};

const char* MessageTypeName(MessageType t);

// Context value of a vote request sent because of a leadership transfer; such
// a request is honoured even by voters that recently heard from a leader.
inline constexpr uint64_t kCampaignTransfer = 1;
// Context value of an empty append that only tells a follower known to hold every entry
// the new commit index: the follower answers it only if it refuses it.
inline constexpr uint64_t kCommitOnly = 1;

// One message between two cores. Field meaning per type:
//   kPreVote/kVote:     index, log_term = candidate's last log index and term;
//                       context = kCampaignTransfer when forced by TimeoutNow.
//   kPreVoteResp/kVoteResp: reject.
//   kAppend:            index, log_term = index and term of the entry before
//                       `entries`; commit = leader's commit index;
//                       context = kCommitOnly on an empty append sent only for
//                       the commit index.
//   kAppendResp:        !reject: index = highest index known to match.
//                       reject:  index = the rejected previous index;
//                       hint_index/hint_term = follower's conflict hint: the
//                       term at the rejected index and the first index of that
//                       term (hint_term = 0: the follower's log ends at
//                       hint_index - 1).
//   kHeartbeat:         commit = min(leader commit, follower match);
//                       context = heartbeat round, echoed in the response.
//   kSnapshot:          snapshot = metadata of the snapshot to install.
struct Message {
  MessageType type = MessageType::kAppend;
  NodeId from = 0;
  NodeId to = 0;
  uint64_t term = 0;
  uint64_t log_term = 0;
  uint64_t index = 0;
  std::vector<Entry> entries;
  uint64_t commit = 0;
  bool reject = false;
  uint64_t hint_index = 0;
  uint64_t hint_term = 0;
  uint64_t context = 0;
  SnapshotMetadata snapshot;
};

// Answer to RaftCore::ReadIndex: once the local state machine has applied
// `index`, a read tagged `request_id` observes every write acknowledged before
// the read was requested.
struct ReadState {
  uint64_t index = 0;
  uint64_t request_id = 0;

  bool operator==(const ReadState&) const = default;
};

}  // namespace dfs::raft
