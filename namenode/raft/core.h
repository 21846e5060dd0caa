// RaftCore: the Raft consensus algorithm as a pure, deterministic state
// machine, shaped like etcd's raft package.
//
// Inputs are Step (a message from a peer), Tick (one unit of logical time)
// and the local requests (Propose, ProposeConfChange, ReadIndex,
// TransferLeadership, Compact, ReportSnapshot, ReportUnreachable). Outputs
// are collected in a Ready (ready.h states how to handle one). The core never
// touches a disk, a socket or a clock, and its only randomness is a PRNG
// seeded from Config.
//
// Features: leader election with pre-vote and randomized timeouts;
// check-quorum (a leader that has not heard from a quorum for an election
// timeout steps down, and a voter ignores campaigns for an election timeout
// after it last heard from a leader or started, which is what makes leader
// leases sound when all nodes tick at the same rate);
// batched, pipelined replication with a fast conflict back-off; commitment by
// counting replicas only for entries of the leader's term, after a no-op
// entry that opens every term; ReadIndex (heartbeat round, or lease);
// leadership transfer; single-server membership changes with learners;
// snapshots (log compaction and catch-up of lagging followers).
//
// A read whose answer never comes was dropped because leadership changed;
// the caller retries after a timeout of its own.
//
// Thread safety: none. One thread (or one lock) owns a RaftCore; between
// GetReady() and Advance() no other method may be called.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/status.h"
#include "namenode/raft/config.h"
#include "namenode/raft/log.h"
#include "namenode/raft/membership.h"
#include "namenode/raft/messages.h"
#include "namenode/raft/progress.h"
#include "namenode/raft/ready.h"
#include "namenode/raft/rng.h"

namespace dfs::raft {

enum class Role : uint8_t { kFollower, kPreCandidate, kCandidate, kLeader };
const char* RoleName(Role r);

class RaftCore {
 public:
  // A core restarted from what its node persisted (see PersistentState).
  static Result<std::unique_ptr<RaftCore>> Create(const Config& config, PersistentState state);

  RaftCore(const RaftCore&) = delete;
  RaftCore& operator=(const RaftCore&) = delete;

  // One unit of logical time: drives election timeouts, heartbeats and
  // check-quorum.
  void Tick();
  // Feeds a message from a peer. InvalidArgument (and no change) if the
  // message is malformed or not addressed to this node.
  Status Step(const Message& m);

  // Appends a command to the leader's log; returns its index. The command is
  // committed once it appears in Ready::committed_entries.
  // FailedPrecondition on a non-leader (leader() names the leader if known),
  // Unavailable while a leadership transfer is in progress.
  Result<uint64_t> Propose(std::string data);
  // Appends a membership change (effective at once, on every node that
  // appends it). FailedPrecondition while an earlier change, or the no-op of
  // this term, is not yet committed; InvalidArgument for an impossible change.
  Result<uint64_t> ProposeConfChange(const ConfChange& change);
  // Asks for a linearizable read; the answer is a ReadState with this
  // request_id in a later Ready. Leader only.
  Status ReadIndex(uint64_t request_id);
  // Hands leadership to a voter once it has caught up (TimeoutNow); gives up
  // after an election timeout. Proposals fail while it is in progress.
  Status TransferLeadership(NodeId transferee);
  // Starts an election now (skipping pre-vote), e.g. to bootstrap a cluster
  // quickly. Voters that heard from a leader within an election timeout
  // ignore it. FailedPrecondition if this node is not a voter or is leader,
  // or, with lease-based reads, within an election timeout of hearing from a
  // leader or of starting.
  Status Campaign();

  // The transport could not reach `id`: stop streaming to it and probe.
  void ReportUnreachable(NodeId id);
  // The transport finished (or failed) streaming the snapshot to `id`.
  void ReportSnapshot(NodeId id, bool delivered);

  // The application holds a durable snapshot of its state machine at
  // `index`; the core drops the log up to there and returns the metadata to
  // store with the snapshot data (the term and membership at `index`).
  // REQUIRES: index has been applied (handed out and Advance()d).
  Result<SnapshotMetadata> Compact(uint64_t index);

  bool HasReady() const;
  Ready GetReady();
  void Advance(const Ready& ready);

  // With lease-based reads: how many more ticks this leader's lease is sure to hold
  // (reads may be answered from its state without asking anyone); 0 if it holds no
  // lease, or cannot serve reads yet (this term's first entry is not committed, or a
  // leadership transfer is under way).
  int LeaseTicksLeft() const;

  NodeId id() const { return cfg_.id; }
  NodeId leader() const { return lead_; }
  uint64_t term() const { return term_; }
  NodeId vote() const { return vote_; }
  Role role() const { return role_; }
  const RaftLog& log() const { return log_; }
  const Membership& membership() const { return log_.membership(); }
  NodeId lead_transferee() const { return lead_transferee_; }
  // The leader's view of a member's progress; nullptr if not leader or no
  // such member.
  const Progress* progress(NodeId id) const;

 private:
  enum class CampaignType : uint8_t { kPreElection, kElection, kTransfer };
  struct PendingRead {
    uint64_t request_id;
    uint64_t index;
    uint64_t round;
  };

  RaftCore(const Config& config, PersistentState state);

  // Role changes (core.cc).
  void Reset(uint64_t term);
  void BecomeFollower(uint64_t term, NodeId lead);
  void BecomePreCandidate();
  void BecomeCandidate();
  void BecomeLeader();
  void StartCampaign(CampaignType type);
  // Records a vote; returns +1 won, -1 lost, 0 undecided.
  int Poll(NodeId from, bool granted);
  bool Promotable() const { return membership().IsVoter(cfg_.id); }
  void ResetRandomizedElectionTimeout();
  void TickElection();
  void TickHeartbeat();

  // Message handling (core.cc).
  void HandleVoteRequest(const Message& m);
  void StepLeader(const Message& m);
  void StepCandidate(const Message& m);
  void StepFollower(const Message& m);
  void Send(Message m);

  // Replication (replication.cc).
  void AppendAsLeader(std::vector<Entry> entries);
  // context: kCommitOnly if the append is sent only to carry the commit index.
  bool MaybeSendAppend(NodeId to, bool send_if_empty, uint64_t context = 0);
  void SendAppend(NodeId to) { MaybeSendAppend(to, true); }
  void BroadcastAppend();
  void SendSnapshot(NodeId to, Progress& pr);
  bool MaybeCommit();
  void OnCommitAdvanced();
  void SyncProgress();
  void HandleAppend(const Message& m);
  void HandleHeartbeat(const Message& m);
  void HandleSnapshot(const Message& m);
  void HandleAppendResponse(const Message& m);
  void HandleHeartbeatResponse(const Message& m);
  bool QuorumActive() const;
  void SendTimeoutNow(NodeId to);
  void AbortLeaderTransfer() { lead_transferee_ = 0; }

  // Reads (read_index.cc).
  void BroadcastHeartbeat();
  void ServeRead(uint64_t request_id);
  void AdvanceReads();
  uint64_t QuorumAckedRound() const;
  bool LeaseValid() const;
  bool CommittedInCurrentTerm() const;

  Config cfg_;
  SplitMix64 rng_;
  RaftLog log_;

  uint64_t term_ = 0;
  NodeId vote_ = 0;
  NodeId lead_ = 0;
  Role role_ = Role::kFollower;

  uint64_t now_ = 0;  // ticks since this core was created
  int election_elapsed_ = 0;
  int heartbeat_elapsed_ = 0;
  int randomized_election_timeout_ = 0;
  // Ticks since this node last heard from a leader (or was created). While
  // below election_tick (with check_quorum), campaigns are ignored: this is
  // what lets a leader hold a read lease.
  int lease_elapsed_ = 0;

  std::map<NodeId, bool> votes_;
  std::map<NodeId, Progress> progress_;  // leader only; includes itself
  NodeId lead_transferee_ = 0;
  uint64_t pending_conf_index_ = 0;
  bool broadcast_pending_ = false;  // proposals appended, appends not yet sent

  // ReadIndex state (leader only). Every heartbeat broadcast is a numbered
  // round; a read waits for a quorum to acknowledge a round sent after it.
  uint64_t heartbeat_round_ = 0;
  std::deque<std::pair<uint64_t, uint64_t>> round_sent_at_;  // (round, now_)
  std::deque<PendingRead> pending_reads_;
  std::vector<uint64_t> reads_awaiting_term_commit_;
  bool lease_disabled_ = false;  // a TimeoutNow went out this term

  std::vector<Message> msgs_;
  std::vector<ReadState> read_states_;
  HardState prev_hard_state_;
  uint64_t applying_ = 0;  // last index handed out in committed_entries
};

}  // namespace dfs::raft
