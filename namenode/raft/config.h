// Tuning and identity of one Raft core.
//
// Contract: times are counted in ticks (calls to RaftCore::Tick); the core
// knows no other clock. Validate() must accept a Config before a core is built
// from it. The random seed is the only source of randomness of the core, so a
// given seed and input sequence always produce the same outputs.
//
// Thread safety: plain value, thread-compatible.
#pragma once

#include <cstdint>

#include "common/status.h"
#include "namenode/raft/membership.h"

namespace dfs::raft {

enum class ReadOnlyOption : uint8_t {
  // ReadIndex confirms leadership with a heartbeat round to a quorum.
  kSafe,
  // ReadIndex answers at once while the leader holds a lease: a quorum acked
  // a heartbeat sent less than election_tick ticks ago. Sound only if every
  // node's ticks advance at the same rate; requires check_quorum.
  kLeaseBased,
};

struct Config {
  NodeId id = 0;
  // A follower that hears nothing from a leader for a random number of ticks
  // in [election_tick, 2 * election_tick) starts an election.
  int election_tick = 10;
  // A leader sends heartbeats every heartbeat_tick ticks.
  int heartbeat_tick = 1;
  // Soft cap on the bytes of entry data in one append message (at least one
  // entry is always sent).
  uint64_t max_size_per_msg = 1 << 20;
  // Append messages in flight to one follower while replicating.
  int max_inflight_msgs = 64;
  // Campaign in two phases; a pre-vote that cannot win does not bump terms.
  bool pre_vote = true;
  // A leader steps down after an election timeout without hearing from a
  // quorum, and voters ignore campaigns while they hear from a leader.
  bool check_quorum = true;
  ReadOnlyOption read_only = ReadOnlyOption::kSafe;
  uint64_t random_seed = 1;

  Status Validate() const {
    if (id == 0) return InvalidArgument("raft config: id must not be 0");
    if (heartbeat_tick <= 0) return InvalidArgument("raft config: heartbeat_tick must be > 0");
    if (election_tick <= heartbeat_tick) {
      return InvalidArgument("raft config: election_tick must be greater than heartbeat_tick");
    }
    if (max_inflight_msgs <= 0) {
      return InvalidArgument("raft config: max_inflight_msgs must be > 0");
    }
    if (read_only == ReadOnlyOption::kLeaseBased && !check_quorum) {
      return InvalidArgument("raft config: lease-based reads require check_quorum");
    }
    return Status::Ok();
  }
};

}  // namespace dfs::raft
