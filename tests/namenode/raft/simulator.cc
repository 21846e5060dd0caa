// Nodes, disks, state machines and the network of the simulator. The checks
// live in invariants.cc and the random driver in random_driver.cc.
#include "tests/namenode/raft/simulator.h"

#include <algorithm>
#include <utility>

namespace dfs::raft::sim {

uint64_t HashBytes(uint64_t h, const std::string& s);  // invariants.cc

Simulator::Simulator(const Options& options) : opt_(options), rng_(options.seed) {
  Membership initial;
  for (int i = 1; i <= opt_.voters; ++i) initial.voters.insert(i);
  for (int i = 1; i <= opt_.voters + opt_.spares; ++i) {
    Node& n = nodes_[i];
    n.id = i;
    if (i <= opt_.voters) n.disk.snapshot.membership = initial;
    n.incarnation = 0;
    Restart(i);
  }
}

Config Simulator::NodeConfig(NodeId id) const {
  Config c = opt_.node_config;
  c.id = id;
  c.random_seed = opt_.seed * 1000003 + id * 7919 + nodes_.at(id).incarnation;
  return c;
}

RaftCore* Simulator::core(NodeId id) { return nodes_.at(id).core.get(); }

std::vector<NodeId> Simulator::node_ids() const {
  std::vector<NodeId> ids;
  for (const auto& [id, n] : nodes_) ids.push_back(id);
  return ids;
}

void Simulator::Crash(NodeId id) {
  Node& n = nodes_.at(id);
  n.core.reset();
  n.sm = StateMachine{};
  n.received_snapshots.clear();
  n.checked_terms.clear();
  n.checked_snapshot_index = 0;
}

void Simulator::Restart(NodeId id) {
  Node& n = nodes_.at(id);
  if (n.core) return;
  ++n.incarnation;
  PersistentState ps{n.disk.hard_state, n.disk.snapshot, n.disk.entries};
  Result<std::unique_ptr<RaftCore>> core = RaftCore::Create(NodeConfig(id), std::move(ps));
  if (!core.ok()) {
    Fail("node " + std::to_string(id) + " cannot restart: " + core.status().ToString());
    return;
  }
  n.core = std::move(core).value();
  n.sm = n.disk.snapshot_data;
}

void Simulator::ReplaceDisk(NodeId id, Disk disk) {
  Node& n = nodes_.at(id);
  if (n.core) {
    Fail("ReplaceDisk on running node " + std::to_string(id));
    return;
  }
  n.disk = std::move(disk);
}

void Simulator::Tick() {
  ++now_;
  for (auto& [id, n] : nodes_) {
    if (n.core) n.core->Tick();
  }
}

void Simulator::ProcessReady(NodeId id) {
  Node& n = nodes_.at(id);
  if (!n.core || !n.core->HasReady()) return;
  Ready rd = n.core->GetReady();
  // 1. Persist.
  if (rd.snapshot) {
    auto it = n.received_snapshots.find(rd.snapshot->index);
    if (it == n.received_snapshots.end()) {
      Fail("node " + std::to_string(id) + " installs snapshot " +
           std::to_string(rd.snapshot->index) + " that its transport never received");
      return;
    }
    n.disk.snapshot = *rd.snapshot;
    n.disk.snapshot_data = it->second;
    n.disk.entries.clear();
    n.sm = it->second;
    auto chain = chain_.find(n.sm.index);
    if (n.sm.index > 0 && (chain == chain_.end() || chain->second != n.sm.hash)) {
      Fail("node " + std::to_string(id) + " installs a snapshot at " + std::to_string(n.sm.index) +
           " that differs from what was applied there");
    }
  }
  if (!rd.entries.empty()) {
    const uint64_t first = rd.entries.front().index;
    const uint64_t base = n.disk.snapshot.index;
    if (first <= base || first > base + n.disk.entries.size() + 1) {
      Fail("node " + std::to_string(id) + " got entries from " + std::to_string(first) +
           " that do not continue its disk log (snapshot " + std::to_string(base) + ")");
      return;
    }
    n.disk.entries.resize(first - base - 1);
    n.disk.entries.insert(n.disk.entries.end(), rd.entries.begin(), rd.entries.end());
  }
  if (rd.hard_state) n.disk.hard_state = *rd.hard_state;
  // 2. Send.
  SendAll(n, std::move(rd.messages));
  // 3. Apply and answer reads.
  for (const Entry& e : rd.committed_entries) Apply(n, e);
  for (const ReadState& rs : rd.read_states) {
    auto it = pending_reads_.find(rs.request_id);
    if (it == pending_reads_.end()) {
      Fail("read " + std::to_string(rs.request_id) + " answered twice or never asked");
      continue;
    }
    if (rs.index < it->second) {
      Fail("read " + std::to_string(rs.request_id) + " at node " + std::to_string(id) +
           " returned index " + std::to_string(rs.index) + " but index " +
           std::to_string(it->second) + " was already committed when it was asked");
    }
    pending_reads_.erase(it);
    ++reads_answered_;
  }
  // 4. Advance.
  n.core->Advance(rd);
}

void Simulator::Apply(Node& n, const Entry& e) {
  if (e.index != n.sm.index + 1) {
    Fail("node " + std::to_string(n.id) + " applies index " + std::to_string(e.index) + " after " +
         std::to_string(n.sm.index));
    return;
  }
  n.sm.index = e.index;
  n.sm.hash = HashBytes(n.sm.hash ^ (e.term * 0x9e3779b97f4a7c15ULL), e.data);
  auto [it, inserted] = chain_.emplace(e.index, n.sm.hash);
  if (inserted) {
    applied_[e.index] = {e.term, e.data};
  } else if (it->second != n.sm.hash) {
    Fail("state machine safety: node " + std::to_string(n.id) + " applied term " +
         std::to_string(e.term) + " '" + e.data + "' at index " + std::to_string(e.index) +
         " where term " + std::to_string(applied_[e.index].first) + " '" +
         applied_[e.index].second + "' was applied before");
  }
}

void Simulator::SendAll(Node& from, std::vector<Message> msgs) {
  for (Message& m : msgs) {
    Envelope e;
    e.sender_incarnation = from.incarnation;
    if (m.type == MessageType::kSnapshot) {
      if (from.disk.snapshot.index != m.snapshot.index) {
        Fail("node " + std::to_string(from.id) + " sends snapshot " +
             std::to_string(m.snapshot.index) + " but stores snapshot " +
             std::to_string(from.disk.snapshot.index));
        continue;
      }
      e.snapshot_data = from.disk.snapshot_data;
    }
    e.msg = std::move(m);
    if (opt_.drop_rate > 0 && rng_.Uniform(1000000) < opt_.drop_rate * 1e6) {
      Drop(e);
      continue;
    }
    const int copies =
        opt_.duplicate_rate > 0 && rng_.Uniform(1000000) < opt_.duplicate_rate * 1e6 ? 2 : 1;
    for (int c = 0; c < copies; ++c) {
      e.deliver_at = now_ + (opt_.max_delay_ticks > 0 ? rng_.Uniform(opt_.max_delay_ticks + 1) : 0);
      in_flight_.push_back(e);
    }
  }
}

void Simulator::Drop(const Envelope& e) {
  // The transport tells the leader its snapshot did not get through.
  if (e.msg.type != MessageType::kSnapshot) return;
  Node& from = nodes_.at(e.msg.from);
  if (from.core && from.incarnation == e.sender_incarnation) {
    from.core->ReportSnapshot(e.msg.to, false);
  }
}

void Simulator::DeliverAt(size_t i) {
  Envelope e = std::move(in_flight_[i]);
  in_flight_.erase(in_flight_.begin() + i);
  Node& to = nodes_.at(e.msg.to);
  if (!to.core || !Connected(e.msg.from, e.msg.to) || (filter_ && !filter_(e.msg))) {
    Drop(e);
    return;
  }
  if (e.msg.type == MessageType::kSnapshot) {
    to.received_snapshots[e.msg.snapshot.index] = e.snapshot_data;
    Node& from = nodes_.at(e.msg.from);
    if (from.core && from.incarnation == e.sender_incarnation) {
      from.core->ReportSnapshot(e.msg.to, true);
    }
  }
  Status st = to.core->Step(e.msg);
  if (!st.ok()) Fail("node " + std::to_string(to.id) + " refused a message: " + st.ToString());
}

std::vector<Envelope> Simulator::TakeMessages(const std::function<bool(const Message&)>& pred) {
  std::vector<Envelope> taken;
  std::vector<Envelope> kept;
  for (Envelope& e : in_flight_) (pred(e.msg) ? taken : kept).push_back(std::move(e));
  in_flight_ = std::move(kept);
  return taken;
}

void Simulator::Inject(Envelope e) { in_flight_.push_back(std::move(e)); }

void Simulator::DeliverMatching(const std::function<bool(const Message&)>& pred) {
  for (size_t i = 0; i < in_flight_.size();) {
    if (pred(in_flight_[i].msg)) {
      DeliverAt(i);
    } else {
      ++i;
    }
  }
}

bool Simulator::Stabilize(int max_rounds) {
  for (int round = 0; round < max_rounds; ++round) {
    bool moved = false;
    for (auto& [id, n] : nodes_) {
      if (n.core && n.core->HasReady()) {
        ProcessReady(id);
        moved = true;
      }
    }
    if (!in_flight_.empty()) {
      moved = true;
      DeliverMatching([](const Message&) { return true; });
    }
    if (!moved) return true;
  }
  return false;
}

void Simulator::Partition(const std::vector<std::set<NodeId>>& groups) {
  group_of_.clear();
  partitioned_ = true;
  for (size_t g = 0; g < groups.size(); ++g) {
    for (NodeId id : groups[g]) group_of_[id] = static_cast<int>(g);
  }
}

void Simulator::Isolate(NodeId id) {
  std::set<NodeId> others;
  for (const auto& [other, n] : nodes_) {
    if (other != id) others.insert(other);
  }
  Partition({others, {id}});
}

void Simulator::CutLink(NodeId a, NodeId b) { cut_links_.emplace(std::min(a, b), std::max(a, b)); }

void Simulator::Heal() {
  partitioned_ = false;
  group_of_.clear();
  cut_links_.clear();
}

bool Simulator::Connected(NodeId a, NodeId b) const {
  if (cut_links_.count({std::min(a, b), std::max(a, b)})) return false;
  if (!partitioned_) return true;
  auto ia = group_of_.find(a);
  auto ib = group_of_.find(b);
  return ia != group_of_.end() && ib != group_of_.end() && ia->second == ib->second;
}

Result<uint64_t> Simulator::Propose(NodeId id, const std::string& data) {
  Node& n = nodes_.at(id);
  if (!n.core) return Unavailable("node " + std::to_string(id) + " is down");
  return n.core->Propose(data);
}

Status Simulator::ReadIndex(NodeId id) {
  Node& n = nodes_.at(id);
  if (!n.core) return Unavailable("node " + std::to_string(id) + " is down");
  ObserveCommits();
  const uint64_t read_id = next_read_id_++;
  Status st = n.core->ReadIndex(read_id);
  if (st.ok()) pending_reads_[read_id] = known_committed();
  return st;
}

Status Simulator::Compact(NodeId id) {
  Node& n = nodes_.at(id);
  if (!n.core) return Unavailable("node " + std::to_string(id) + " is down");
  ASSIGN_OR_RETURN(SnapshotMetadata md, n.core->Compact(n.sm.index));
  n.disk.snapshot = md;
  n.disk.snapshot_data = n.sm;
  const uint64_t base = n.disk.entries.empty() ? 0 : n.disk.entries.front().index;
  if (base > 0 && md.index >= base) {
    const uint64_t drop = std::min<uint64_t>(md.index - base + 1, n.disk.entries.size());
    n.disk.entries.erase(n.disk.entries.begin(), n.disk.entries.begin() + drop);
  }
  return Status::Ok();
}

NodeId Simulator::Leader() const {
  NodeId best = 0;
  uint64_t best_term = 0;
  for (const auto& [id, n] : nodes_) {
    if (n.core && n.core->role() == Role::kLeader && n.core->term() >= best_term) {
      best = id;
      best_term = n.core->term();
    }
  }
  return best;
}

void Simulator::Fail(const std::string& what) {
  if (failure_.ok()) {
    failure_ = Internal("[seed " + std::to_string(opt_.seed) + ", tick " + std::to_string(now_) +
                        "] " + what);
  }
}

}  // namespace dfs::raft::sim
