// The simulator's randomized driver and its final liveness check.
#include <string>
#include <vector>

#include "tests/namenode/raft/simulator.h"

namespace dfs::raft::sim {

Status Simulator::RandomStep() {
  auto pick = [&](const std::vector<NodeId>& ids) -> NodeId {
    return ids.empty() ? 0 : ids[rng_.Uniform(ids.size())];
  };
  std::vector<NodeId> live, down, leaders, ready;
  for (auto& [id, n] : nodes_) {
    if (!n.core) {
      down.push_back(id);
      continue;
    }
    live.push_back(id);
    if (n.core->role() == Role::kLeader) leaders.push_back(id);
    if (n.core->HasReady()) ready.push_back(id);
  }
  // Weights per 1000; an action that cannot happen becomes a tick. A leader
  // sends a handful of messages per tick, each taking a delivery and a Ready
  // on both sides, so ticks must be rare for the network to keep up.
  if (opt_.reads && opt_.extra_read_permille > 0 && rng_.Uniform(1000) < opt_.extra_read_permille &&
      !leaders.empty()) {
    (void)ReadIndex(pick(leaders));
    return CheckInvariants();
  }
  const uint64_t r = rng_.Uniform(1000);
  bool acted = true;
  if (r < 450) {
    // A few messages, due ones only, in random order.
    const int batch = 1 + static_cast<int>(rng_.Uniform(4));
    for (int k = 0; k < batch; ++k) {
      std::vector<size_t> due;
      for (size_t i = 0; i < in_flight_.size(); ++i) {
        if (in_flight_[i].deliver_at <= now_) due.push_back(i);
      }
      if (due.empty()) {
        acted = k > 0;
        break;
      }
      DeliverAt(due[rng_.Uniform(due.size())]);
    }
  } else if (r < 800) {
    if (NodeId id = pick(ready)) {
      ProcessReady(id);
    } else {
      acted = false;
    }
  } else if (r < 840) {
    acted = false;  // a tick
  } else if (r < 900) {
    if (NodeId id = pick(leaders)) {
      (void)Propose(id, "s" + std::to_string(opt_.seed) + "-" + std::to_string(++proposals_));
    }
  } else if (r < 920) {
    if (NodeId id = pick(leaders); id != 0 && opt_.reads) (void)ReadIndex(id);
  } else if (r < 940) {
    for (NodeId id : live) {
      const Node& n = nodes_.at(id);
      if (opt_.compact_every > 0 && n.sm.index >= n.disk.snapshot.index + opt_.compact_every) {
        (void)Compact(id);
        break;
      }
    }
  } else if (r < 945) {
    if (opt_.crashes && down.size() + 1 <= (nodes_.size() - 1) / 2) Crash(pick(live));
  } else if (r < 960) {
    if (NodeId id = pick(down)) Restart(id);
  } else if (r < 967) {
    if (opt_.partitions) {
      const uint64_t kind = rng_.Uniform(6);
      if (kind < 2) {
        Heal();
      } else if (kind < 4 && !leaders.empty()) {
        Isolate(pick(leaders));
      } else if (kind == 4) {
        std::vector<std::set<NodeId>> groups(2);
        for (const auto& [id, n] : nodes_) groups[rng_.Uniform(2)].insert(id);
        Partition(groups);
      } else {
        for (const auto& [a, na] : nodes_) {
          for (const auto& [b, nb] : nodes_) {
            if (a < b && rng_.Uniform(3) == 0) CutLink(a, b);
          }
        }
      }
    }
  } else if (r < 975) {
    NodeId id = pick(leaders);
    if (id != 0 && opt_.membership_changes) {
      const Membership& mem = nodes_.at(id).core->membership();
      std::vector<ConfChange> options;
      for (const auto& [other, n] : nodes_) {
        if (!mem.Contains(other)) options.push_back({ConfChangeType::kAddLearner, other});
        if (mem.IsLearner(other)) {
          options.push_back({ConfChangeType::kAddVoter, other});
          options.push_back({ConfChangeType::kRemoveNode, other});
        }
        if (mem.IsVoter(other) && mem.voters.size() > 2) {
          options.push_back({ConfChangeType::kRemoveNode, other});
        }
      }
      if (!options.empty()) {
        (void)nodes_.at(id).core->ProposeConfChange(options[rng_.Uniform(options.size())]);
      }
    }
  } else if (r < 980) {
    NodeId id = pick(leaders);
    if (id != 0 && opt_.transfers) {
      const Membership& mem = nodes_.at(id).core->membership();
      std::vector<NodeId> voters(mem.voters.begin(), mem.voters.end());
      (void)nodes_.at(id).core->TransferLeadership(pick(voters));
    }
  } else {
    acted = false;
  }
  if (!acted) Tick();
  return CheckInvariants();
}

Status Simulator::CheckLiveness(int max_ticks) {
  Heal();
  opt_.drop_rate = 0;
  opt_.duplicate_rate = 0;
  opt_.max_delay_ticks = 0;
  for (auto& [id, n] : nodes_) Restart(id);
  uint64_t index = 0;
  NodeId proposer = 0;
  for (int t = 0; t < max_ticks; ++t) {
    Tick();
    if (!Stabilize()) return Internal("the cluster did not settle after a tick");
    RETURN_IF_ERROR(CheckInvariants());
    const NodeId leader = Leader();
    if (leader == 0) continue;
    if (index == 0 || proposer != leader) {
      Result<uint64_t> r = Propose(leader, "liveness");
      if (!r.ok()) continue;
      index = *r;
      proposer = leader;
      continue;
    }
    bool everywhere = true;
    for (NodeId v : nodes_.at(leader).core->membership().voters) {
      if (nodes_.at(v).sm.index < index) everywhere = false;
    }
    if (everywhere) return Status::Ok();
  }
  return Unavailable("[seed " + std::to_string(opt_.seed) +
                     "] no entry committed on every voter within " + std::to_string(max_ticks) +
                     " ticks of healing; leader is node " + std::to_string(Leader()));
}

}  // namespace dfs::raft::sim
