// Cluster membership: which nodes vote and which only receive the log
// (learners), and the single-server changes that move between memberships.
//
// Contract: a Membership never lists a node both as voter and as learner.
// Changes are one server at a time (add a voter, add a learner, promote a
// learner, remove a node), so any two consecutive memberships share a
// quorum and a change takes effect as soon as its entry is appended to a log.
// A conf change entry records the change and the complete membership that
// results, so a node joining through the log learns the whole membership from
// the first conf change entry it receives.
//
// Members carry the address their node's transport listens on, so any node
// that becomes leader can reach every member it learns of from the log.
//
// Thread safety: plain values and pure functions, thread-compatible.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>

#include "common/status.h"

namespace dfs::raft {

using NodeId = uint64_t;

struct Membership {
  std::set<NodeId> voters;
  std::set<NodeId> learners;
  // Transport address ("host:port") of members that have one; may be empty
  // in tests of the core, which does not use it.
  std::map<NodeId, std::string> addresses;

  bool IsVoter(NodeId id) const { return voters.count(id) > 0; }
  bool IsLearner(NodeId id) const { return learners.count(id) > 0; }
  bool Contains(NodeId id) const { return IsVoter(id) || IsLearner(id); }
  // Votes needed for a majority of the voters.
  size_t Quorum() const { return voters.size() / 2 + 1; }

  bool operator==(const Membership&) const = default;
};

enum class ConfChangeType : uint8_t {
  kAddVoter = 0,    // new voter, or promotion of a learner
  kAddLearner = 1,  // new non-voting member
  kRemoveNode = 2,  // removes a voter or a learner
};

struct ConfChange {
  ConfChangeType type = ConfChangeType::kAddVoter;
  NodeId node_id = 0;
  std::string address;  // for additions: where the node listens (kept if empty)

  bool operator==(const ConfChange&) const = default;
};

// The membership after `change`; InvalidArgument if the change is a no-op,
// removes the last voter, demotes a voter, or names node 0.
Result<Membership> ApplyConfChange(const Membership& current, const ConfChange& change);

// What a conf change entry carries.
struct ConfChangeRecord {
  ConfChange change;
  Membership result;

  bool operator==(const ConfChangeRecord&) const = default;
};

std::string EncodeConfChange(const ConfChangeRecord& record);
// DataLoss if `data` is not something EncodeConfChange produced.
Result<ConfChangeRecord> DecodeConfChange(const std::string& data);

}  // namespace dfs::raft
