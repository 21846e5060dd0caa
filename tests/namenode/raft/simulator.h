// Deterministic simulator for RaftCore: many nodes in one process, a virtual
// clock, a seeded network that drops, duplicates, reorders and delays
// messages and cuts links, and crashes that lose every piece of state a node
// had not persisted. Its checks run after every step:
//   - election safety: at most one leader per term;
//   - log matching: an (index, term) pair names one entry with one
//     predecessor term, in every log ever seen;
//   - leader completeness: a leader holds every entry known committed before
//     its term;
//   - state machine safety: every node applies the same entries in order (a
//     hash chain over applied entries, also carried by snapshots);
//   - durability: the last committed entry is on the disks of enough voters
//     that every quorum of the membership in force at it holds it;
//   - linearizable reads: a ReadState's index is at least the highest commit
//     index any node knew when the read was requested.
//
// Both the randomized driver (RandomStep) and the fine-grained controls used
// by the scenario tests (Deliver, TakeMessages, Partition, Crash, ...) go
// through the same node and network code.
//
// Thread safety: none; a test owns its Simulator.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "common/status.h"
#include "namenode/raft/config.h"
#include "namenode/raft/core.h"
#include "namenode/raft/rng.h"

namespace dfs::raft::sim {

struct Options {
  uint64_t seed = 1;
  int voters = 3;      // nodes 1..voters form the initial cluster
  int spares = 0;      // nodes voters+1.. run but start outside the cluster
  Config node_config;  // id and random_seed are set per node
  // Network faults applied to every message sent.
  double drop_rate = 0;
  double duplicate_rate = 0;
  int max_delay_ticks = 0;
  // Random driver: what else it may do besides ticking, delivering,
  // processing Readies and proposing.
  bool crashes = true;
  bool partitions = true;
  bool membership_changes = true;
  bool transfers = true;
  bool reads = true;
  // Extra ReadIndex requests per 1000 steps, on top of the usual mix.
  uint64_t extra_read_permille = 0;
  // Compact a node's log once it has applied this many entries past its
  // last snapshot (0: never).
  uint64_t compact_every = 20;
};

// The state machine: a hash chain over the applied entries.
struct StateMachine {
  uint64_t index = 0;
  uint64_t hash = 0;
};

// What a node has on disk.
struct Disk {
  HardState hard_state;
  SnapshotMetadata snapshot;
  StateMachine snapshot_data;
  std::vector<Entry> entries;
};

struct Envelope {
  Message msg;
  uint64_t deliver_at = 0;
  StateMachine snapshot_data;  // kSnapshot only: what the transport streams
  uint64_t sender_incarnation = 0;
};

class Simulator {
 public:
  explicit Simulator(const Options& options);

  // ---- Fine-grained controls ----
  RaftCore* core(NodeId id);  // nullptr while crashed
  const Disk& disk(NodeId id) const { return nodes_.at(id).disk; }
  const StateMachine& state_machine(NodeId id) const { return nodes_.at(id).sm; }
  std::vector<NodeId> node_ids() const;
  bool up(NodeId id) const { return nodes_.at(id).core != nullptr; }
  uint64_t now() const { return now_; }

  void Crash(NodeId id);
  void Restart(NodeId id);
  // Advances the virtual clock one tick on every live node.
  void Tick();
  // Handles the node's Ready if it has one: persist, send, apply, Advance.
  void ProcessReady(NodeId id);
  // Cuts every link between different groups; nodes in no group are cut
  // from everybody.
  void Partition(const std::vector<std::set<NodeId>>& groups);
  void Isolate(NodeId id);
  // Cuts one link both ways, on top of any partition (links need not be
  // transitive: a and b may both reach c but not each other).
  void CutLink(NodeId a, NodeId b);
  void Heal();
  bool Connected(NodeId a, NodeId b) const;
  // Runs on every message about to be delivered: may edit it (it stays a
  // message the sender could have sent) or return false to drop it.
  void SetDeliveryFilter(std::function<bool(Message&)> filter) { filter_ = std::move(filter); }
  // Replaces a crashed node's disk (to start it from a hand-made log).
  void ReplaceDisk(NodeId id, Disk disk);
  // Messages in flight, and their removal (for the test to edit and Inject).
  const std::vector<Envelope>& in_flight() const { return in_flight_; }
  std::vector<Envelope> TakeMessages(const std::function<bool(const Message&)>& pred);
  void Inject(Envelope e);
  // Delivers (now, ignoring delays) every message in flight that matches.
  void DeliverMatching(const std::function<bool(const Message&)>& pred);
  // Processes Readies and delivers messages, ignoring delays, until nothing
  // moves; false if it did not settle within max_rounds.
  bool Stabilize(int max_rounds = 10000);

  Result<uint64_t> Propose(NodeId id, const std::string& data);
  // A ReadIndex whose answer is checked for linearizability.
  Status ReadIndex(NodeId id);
  // Compacts a node's log up to what its state machine has applied.
  Status Compact(NodeId id);

  // The leader with the highest term among live nodes, or 0.
  NodeId Leader() const;
  // Highest commit index any node has known.
  uint64_t known_committed() const { return committed_terms_.size(); }
  size_t reads_answered() const { return reads_answered_; }
  // Every entry ever applied, by index: (term, data).
  const std::map<uint64_t, std::pair<uint64_t, std::string>>& applied() const { return applied_; }

  // ---- Checks ----
  // Runs every invariant; the first violation ever seen stays reported.
  Status CheckInvariants();

  // ---- Random driver ----
  // One random action (with the network faults of Options), then the checks.
  Status RandomStep();
  // Heals the network, restarts every node, then ticks and stabilizes until
  // a leader commits a fresh entry on every voter; Unavailable if that takes
  // more than max_ticks.
  Status CheckLiveness(int max_ticks);

 private:
  struct Node {
    NodeId id = 0;
    std::unique_ptr<RaftCore> core;
    Disk disk;
    StateMachine sm;
    uint64_t incarnation = 0;
    // Snapshots the transport has received, by index.
    std::map<uint64_t, StateMachine> received_snapshots;
    // Terms of the in-memory log as of the last check, by index (0: none).
    std::vector<uint64_t> checked_terms;
    uint64_t checked_snapshot_index = 0;
  };

  Config NodeConfig(NodeId id) const;
  void SendAll(Node& from, std::vector<Message> msgs);
  void DeliverAt(size_t i);
  void Drop(const Envelope& e);
  void Apply(Node& n, const Entry& e);
  void Fail(const std::string& what);
  Status CheckLogMatching(Node& n);
  Status CheckLeaderCompleteness();
  Status CheckDurability();
  void ObserveCommits();

  Options opt_;
  SplitMix64 rng_;
  uint64_t now_ = 0;
  std::map<NodeId, Node> nodes_;
  std::vector<Envelope> in_flight_;
  std::map<NodeId, int> group_of_;  // absent: connected to all (no partition)
  bool partitioned_ = false;
  std::set<std::pair<NodeId, NodeId>> cut_links_;  // (smaller id, larger id)
  std::function<bool(Message&)> filter_;

  Status failure_;
  std::map<uint64_t, NodeId> leader_of_term_;
  // (index, term) -> (hash of type and data, term of index - 1).
  std::map<std::pair<uint64_t, uint64_t>, std::pair<uint64_t, uint64_t>> entries_seen_;
  // Chain hash after applying each index, and what was applied.
  std::map<uint64_t, uint64_t> chain_;
  std::map<uint64_t, std::pair<uint64_t, std::string>> applied_;
  // committed_terms_[i - 1] = (term of entry i (0: unknown), term of the
  // first node seen knowing it committed).
  std::vector<std::pair<uint64_t, uint64_t>> committed_terms_;
  // Read requests: id -> commit index known at request time.
  std::map<uint64_t, uint64_t> pending_reads_;
  uint64_t next_read_id_ = 1;
  size_t reads_answered_ = 0;
  uint64_t proposals_ = 0;
};

}  // namespace dfs::raft::sim
