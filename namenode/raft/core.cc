// Lifecycle, Ready handling, timers, elections and message dispatch.
// Replication lives in replication.cc, reads in read_index.cc.
#include "namenode/raft/core.h"

#include <utility>

namespace dfs::raft {

const char* RoleName(Role r) {
  switch (r) {
    case Role::kFollower:
      return "follower";
    case Role::kPreCandidate:
      return "pre-candidate";
    case Role::kCandidate:
      return "candidate";
    case Role::kLeader:
      return "leader";
  }
  return "unknown";
}

const char* MessageTypeName(MessageType t) {
  switch (t) {
    case MessageType::kPreVote:
      return "PreVote";
    case MessageType::kPreVoteResp:
      return "PreVoteResp";
    case MessageType::kVote:
      return "Vote";
    case MessageType::kVoteResp:
      return "VoteResp";
    case MessageType::kAppend:
      return "Append";
    case MessageType::kAppendResp:
      return "AppendResp";
    case MessageType::kHeartbeat:
      return "Heartbeat";
    case MessageType::kHeartbeatResp:
      return "HeartbeatResp";
    case MessageType::kSnapshot:
      return "Snapshot";
    case MessageType::kTimeoutNow:
      return "TimeoutNow";
  }
  return "Unknown";
}

namespace {

Status ValidatePersistentState(const PersistentState& s) {
  uint64_t prev_index = s.snapshot.index;
  uint64_t prev_term = s.snapshot.term;
  for (const Entry& e : s.entries) {
    if (e.index != prev_index + 1 || e.term < prev_term) {
      return DataLoss("raft log is not contiguous at index " + std::to_string(e.index) +
                      " (after index " + std::to_string(prev_index) + ")");
    }
    prev_index = e.index;
    prev_term = e.term;
  }
  if (s.hard_state.commit > prev_index) {
    return DataLoss("raft hard state commits index " + std::to_string(s.hard_state.commit) +
                    " beyond the last log index " + std::to_string(prev_index));
  }
  if (s.hard_state.term < prev_term) {
    return DataLoss("raft hard state term is older than the last log entry");
  }
  return Status::Ok();
}

Status ValidateMessage(const Message& m, NodeId self) {
  if (m.to != self) {
    return InvalidArgument("raft message addressed to node " + std::to_string(m.to) +
                           " delivered to node " + std::to_string(self));
  }
  if (m.from == 0 || m.from == self) {
    return InvalidArgument("raft message has bad sender " + std::to_string(m.from));
  }
  if (static_cast<uint8_t>(m.type) > static_cast<uint8_t>(MessageType::kTimeoutNow)) {
    return InvalidArgument("raft message has unknown type");
  }
  for (size_t k = 0; k < m.entries.size(); ++k) {
    const Entry& e = m.entries[k];
    if (e.index != m.index + 1 + k || e.term > m.term || e.term < m.log_term ||
        (k > 0 && e.term < m.entries[k - 1].term)) {
      return InvalidArgument("raft append carries a malformed entry at index " +
                             std::to_string(e.index));
    }
  }
  return Status::Ok();
}

}  // namespace

Result<std::unique_ptr<RaftCore>> RaftCore::Create(const Config& config, PersistentState state) {
  RETURN_IF_ERROR(config.Validate());
  RETURN_IF_ERROR(ValidatePersistentState(state));
  return std::unique_ptr<RaftCore>(new RaftCore(config, std::move(state)));
}

RaftCore::RaftCore(const Config& config, PersistentState state)
    : cfg_(config),
      rng_(config.random_seed ^ (config.id * 0x9e3779b97f4a7c15ULL)),
      log_(std::move(state.snapshot), std::move(state.entries), state.hard_state.commit) {
  term_ = state.hard_state.term;
  vote_ = state.hard_state.vote;
  prev_hard_state_ = HardState{term_, vote_, log_.committed()};
  applying_ = log_.applied();
  BecomeFollower(term_, 0);
}

// ---- Ready ----

bool RaftCore::HasReady() const {
  return (broadcast_pending_ && role_ == Role::kLeader) ||
         HardState{term_, vote_, log_.committed()} != prev_hard_state_ ||
         log_.HasUnstableSnapshot() || log_.stable() < log_.LastIndex() || !msgs_.empty() ||
         !read_states_.empty() || log_.committed() > applying_;
}

Ready RaftCore::GetReady() {
  if (broadcast_pending_ && role_ == Role::kLeader) {
    for (auto& [id, pr] : progress_) {
      if (id == cfg_.id) continue;
      while (MaybeSendAppend(id, false)) {
      }
    }
  }
  broadcast_pending_ = false;
  Ready rd;
  HardState hs{term_, vote_, log_.committed()};
  if (hs != prev_hard_state_) rd.hard_state = hs;
  prev_hard_state_ = hs;
  if (log_.HasUnstableSnapshot()) rd.snapshot = log_.snapshot();
  rd.entries = log_.UnstableEntries();
  rd.committed_entries = log_.NextCommittedEntries(applying_);
  if (!rd.committed_entries.empty()) applying_ = rd.committed_entries.back().index;
  // The application may have compacted further since a snapshot message was
  // queued; it then only holds (and the transport streams) the newer one.
  for (Message& m : msgs_) {
    if (m.type != MessageType::kSnapshot || m.snapshot.index >= log_.snapshot().index) continue;
    m.snapshot = log_.snapshot();
    auto it = progress_.find(m.to);
    if (it != progress_.end() && it->second.state == Progress::State::kSnapshot) {
      it->second.pending_snapshot = m.snapshot.index;
    }
  }
  rd.messages = std::move(msgs_);
  msgs_.clear();
  rd.read_states = std::move(read_states_);
  read_states_.clear();
  return rd;
}

void RaftCore::Advance(const Ready& rd) {
  if (rd.snapshot) {
    log_.StableSnapshotTo(rd.snapshot->index);
    if (rd.snapshot->index <= log_.committed()) log_.AppliedTo(rd.snapshot->index);
  }
  if (!rd.entries.empty()) log_.StableTo(rd.entries.back().index, rd.entries.back().term);
  if (!rd.committed_entries.empty()) log_.AppliedTo(rd.committed_entries.back().index);
}

// ---- Role changes ----

void RaftCore::Reset(uint64_t term) {
  if (term != term_) {
    term_ = term;
    vote_ = 0;
  }
  lead_ = 0;
  election_elapsed_ = 0;
  heartbeat_elapsed_ = 0;
  ResetRandomizedElectionTimeout();
  AbortLeaderTransfer();
  votes_.clear();
  progress_.clear();
  pending_conf_index_ = 0;
  broadcast_pending_ = false;
  heartbeat_round_ = 0;
  round_sent_at_.clear();
  pending_reads_.clear();
  reads_awaiting_term_commit_.clear();
  lease_disabled_ = false;
}

void RaftCore::ResetRandomizedElectionTimeout() {
  randomized_election_timeout_ =
      cfg_.election_tick + static_cast<int>(rng_.Uniform(cfg_.election_tick));
}

void RaftCore::BecomeFollower(uint64_t term, NodeId lead) {
  Reset(term);
  lead_ = lead;
  role_ = Role::kFollower;
}

void RaftCore::BecomePreCandidate() {
  // Does not touch term or vote: a pre-vote that fails must leave no trace.
  votes_.clear();
  progress_.clear();
  lead_ = 0;
  role_ = Role::kPreCandidate;
}

void RaftCore::BecomeCandidate() {
  Reset(term_ + 1);
  vote_ = cfg_.id;
  role_ = Role::kCandidate;
}

void RaftCore::BecomeLeader() {
  Reset(term_);
  lead_ = cfg_.id;
  role_ = Role::kLeader;
  SyncProgress();
  // The no-op lets this term commit, which commits every earlier entry; until
  // then no membership change is accepted.
  pending_conf_index_ = log_.LastIndex() + 1;
  AppendAsLeader({Entry{term_, log_.LastIndex() + 1, EntryType::kNormal, ""}});
}

void RaftCore::StartCampaign(CampaignType type) {
  uint64_t vote_term;
  MessageType vote_type;
  if (type == CampaignType::kPreElection) {
    BecomePreCandidate();
    vote_term = term_ + 1;
    vote_type = MessageType::kPreVote;
  } else {
    BecomeCandidate();
    vote_term = term_;
    vote_type = MessageType::kVote;
  }
  if (Poll(cfg_.id, true) > 0) {
    // A single voter wins at once.
    if (type == CampaignType::kPreElection) {
      StartCampaign(CampaignType::kElection);
    } else {
      BecomeLeader();
    }
    return;
  }
  for (NodeId voter : membership().voters) {
    if (voter == cfg_.id) continue;
    Message m;
    m.type = vote_type;
    m.to = voter;
    m.term = vote_term;
    m.index = log_.LastIndex();
    m.log_term = log_.LastTerm();
    m.context = type == CampaignType::kTransfer ? kCampaignTransfer : 0;
    Send(std::move(m));
  }
}

int RaftCore::Poll(NodeId from, bool granted) {
  votes_.emplace(from, granted);
  size_t yes = 0, no = 0;
  for (NodeId voter : membership().voters) {
    auto it = votes_.find(voter);
    if (it == votes_.end()) continue;
    (it->second ? yes : no)++;
  }
  const size_t quorum = membership().Quorum();
  if (yes >= quorum) return 1;
  if (membership().voters.size() - no < quorum) return -1;
  return 0;
}

Status RaftCore::Campaign() {
  if (role_ == Role::kLeader) return FailedPrecondition("node is already the leader");
  if (!Promotable()) return FailedPrecondition("node is not a voter and cannot campaign");
  if (cfg_.read_only == ReadOnlyOption::kLeaseBased && lease_elapsed_ < cfg_.election_tick) {
    // Our own vote could complete a quorum against a leader whose lease we
    // helped grant.
    return FailedPrecondition(
        "node heard from a leader (or started) less than an election "
        "timeout ago and leases are in use; use TransferLeadership");
  }
  StartCampaign(CampaignType::kElection);
  return Status::Ok();
}

// ---- Time ----

void RaftCore::Tick() {
  ++now_;
  if (role_ == Role::kLeader) {
    TickHeartbeat();
  } else {
    TickElection();
  }
}

void RaftCore::TickElection() {
  if (lease_elapsed_ < cfg_.election_tick) ++lease_elapsed_;
  ++election_elapsed_;
  if (Promotable() && election_elapsed_ >= randomized_election_timeout_) {
    election_elapsed_ = 0;
    StartCampaign(cfg_.pre_vote ? CampaignType::kPreElection : CampaignType::kElection);
  }
}

void RaftCore::TickHeartbeat() {
  lease_elapsed_ = 0;  // a leader hears from itself
  ++heartbeat_elapsed_;
  ++election_elapsed_;
  if (election_elapsed_ >= cfg_.election_tick) {
    election_elapsed_ = 0;
    if (cfg_.check_quorum) {
      if (!QuorumActive()) {
        BecomeFollower(term_, 0);
        return;
      }
      for (auto& [id, pr] : progress_) {
        if (id != cfg_.id) pr.recent_active = false;
      }
    }
    AbortLeaderTransfer();
  }
  if (heartbeat_elapsed_ >= cfg_.heartbeat_tick) {
    heartbeat_elapsed_ = 0;
    BroadcastHeartbeat();
  }
}

// ---- Messages ----

void RaftCore::Send(Message m) {
  m.from = cfg_.id;
  if (m.term == 0) m.term = term_;
  msgs_.push_back(std::move(m));
}

Status RaftCore::Step(const Message& m) {
  RETURN_IF_ERROR(ValidateMessage(m, cfg_.id));
  const bool is_vote = m.type == MessageType::kVote || m.type == MessageType::kPreVote;
  if (m.term > term_) {
    if (is_vote) {
      const bool force = m.context == kCampaignTransfer;
      const bool in_lease = cfg_.check_quorum && lease_elapsed_ < cfg_.election_tick;
      // Someone campaigns while we hear from a live leader: it is partitioned
      // or confused; ignoring it keeps the leader (and its lease) in place.
      if (!force && in_lease) return Status::Ok();
    }
    if (m.type == MessageType::kPreVote) {
      // A pre-vote never changes our term.
    } else if (m.type == MessageType::kPreVoteResp && !m.reject) {
      // The term is bumped when the pre-election is won.
    } else if (m.type == MessageType::kAppend || m.type == MessageType::kHeartbeat ||
               m.type == MessageType::kSnapshot) {
      BecomeFollower(m.term, m.from);
    } else {
      BecomeFollower(m.term, 0);
    }
  } else if (m.term < term_) {
    if ((cfg_.check_quorum || cfg_.pre_vote) &&
        (m.type == MessageType::kHeartbeat || m.type == MessageType::kAppend)) {
      // A stale leader (or a node that was partitioned while we raised our
      // term) learns the new term from this and steps down.
      Message resp;
      resp.type = MessageType::kAppendResp;
      resp.to = m.from;
      Send(std::move(resp));
    } else if (is_vote) {
      // The candidate learns our term; otherwise a candidate whose
      // membership no longer reaches the others could stay behind forever.
      Message resp;
      resp.type =
          m.type == MessageType::kPreVote ? MessageType::kPreVoteResp : MessageType::kVoteResp;
      resp.to = m.from;
      resp.reject = true;
      Send(std::move(resp));
    }
    return Status::Ok();
  }

  if (is_vote) {
    HandleVoteRequest(m);
    return Status::Ok();
  }
  switch (role_) {
    case Role::kLeader:
      StepLeader(m);
      break;
    case Role::kPreCandidate:
    case Role::kCandidate:
      StepCandidate(m);
      break;
    case Role::kFollower:
      StepFollower(m);
      break;
  }
  return Status::Ok();
}

void RaftCore::HandleVoteRequest(const Message& m) {
  const bool pre = m.type == MessageType::kPreVote;
  const bool can_vote = vote_ == m.from || (vote_ == 0 && lead_ == 0) || (pre && m.term > term_);
  Message resp;
  resp.type = pre ? MessageType::kPreVoteResp : MessageType::kVoteResp;
  resp.to = m.from;
  if (can_vote && log_.IsUpToDate(m.index, m.log_term)) {
    // A granted pre-vote answers in the term the candidate would campaign in.
    resp.term = m.term;
    if (!pre) {
      election_elapsed_ = 0;
      vote_ = m.from;
    }
  } else {
    resp.term = term_;
    resp.reject = true;
  }
  Send(std::move(resp));
}

void RaftCore::StepLeader(const Message& m) {
  switch (m.type) {
    case MessageType::kAppendResp:
      HandleAppendResponse(m);
      break;
    case MessageType::kHeartbeatResp:
      HandleHeartbeatResponse(m);
      break;
    default:
      break;  // stale votes and responses of an earlier role
  }
}

void RaftCore::StepCandidate(const Message& m) {
  switch (m.type) {
    case MessageType::kAppend:
      BecomeFollower(m.term, m.from);
      StepFollower(m);
      break;
    case MessageType::kHeartbeat:
      BecomeFollower(m.term, m.from);
      StepFollower(m);
      break;
    case MessageType::kSnapshot:
      BecomeFollower(m.term, m.from);
      StepFollower(m);
      break;
    case MessageType::kPreVoteResp:
    case MessageType::kVoteResp: {
      const bool mine = (role_ == Role::kPreCandidate) == (m.type == MessageType::kPreVoteResp);
      if (!mine) break;
      const int result = Poll(m.from, !m.reject);
      if (result > 0) {
        if (role_ == Role::kPreCandidate) {
          StartCampaign(CampaignType::kElection);
        } else {
          BecomeLeader();
        }
      } else if (result < 0) {
        BecomeFollower(term_, 0);
      }
      break;
    }
    default:
      break;
  }
}

void RaftCore::StepFollower(const Message& m) {
  switch (m.type) {
    case MessageType::kAppend:
    case MessageType::kHeartbeat:
    case MessageType::kSnapshot:
      election_elapsed_ = 0;
      lease_elapsed_ = 0;
      lead_ = m.from;
      if (m.type == MessageType::kAppend) {
        HandleAppend(m);
      } else if (m.type == MessageType::kHeartbeat) {
        HandleHeartbeat(m);
      } else {
        HandleSnapshot(m);
      }
      break;
    case MessageType::kTimeoutNow:
      if (Promotable()) StartCampaign(CampaignType::kTransfer);
      break;
    default:
      break;
  }
}

// ---- Local requests ----

Result<uint64_t> RaftCore::Propose(std::string data) {
  if (role_ != Role::kLeader) {
    return FailedPrecondition("node " + std::to_string(cfg_.id) +
                              " is not the leader; leader is node " + std::to_string(lead_));
  }
  if (lead_transferee_ != 0) {
    return Unavailable("leadership is being transferred to node " +
                       std::to_string(lead_transferee_) + "; retry at the new leader");
  }
  const uint64_t index = log_.LastIndex() + 1;
  AppendAsLeader({Entry{term_, index, EntryType::kNormal, std::move(data)}});
  return index;
}

Result<uint64_t> RaftCore::ProposeConfChange(const ConfChange& change) {
  if (role_ != Role::kLeader) {
    return FailedPrecondition("node " + std::to_string(cfg_.id) +
                              " is not the leader; leader is node " + std::to_string(lead_));
  }
  if (lead_transferee_ != 0) {
    return Unavailable("leadership is being transferred; retry at the new leader");
  }
  if (pending_conf_index_ > log_.committed()) {
    return FailedPrecondition("a membership change (or this term's first entry) at index " +
                              std::to_string(pending_conf_index_) +
                              " is not committed yet; retry after it commits");
  }
  ASSIGN_OR_RETURN(Membership next, ApplyConfChange(membership(), change));
  const uint64_t index = log_.LastIndex() + 1;
  pending_conf_index_ = index;
  AppendAsLeader({Entry{term_, index, EntryType::kConfChange,
                        EncodeConfChange(ConfChangeRecord{change, std::move(next)})}});
  return index;
}

Status RaftCore::TransferLeadership(NodeId transferee) {
  if (role_ != Role::kLeader) {
    return FailedPrecondition("only the leader can transfer leadership; leader is node " +
                              std::to_string(lead_));
  }
  if (transferee == cfg_.id) return Status::Ok();
  if (!membership().IsVoter(transferee)) {
    return InvalidArgument("cannot transfer leadership to node " + std::to_string(transferee) +
                           ": it is not a voter");
  }
  if (lead_transferee_ == transferee) return Status::Ok();
  lead_transferee_ = transferee;
  election_elapsed_ = 0;  // the transfer gives up after an election timeout
  Progress& pr = progress_.at(transferee);
  if (pr.match == log_.LastIndex()) {
    SendTimeoutNow(transferee);
  } else {
    SendAppend(transferee);
  }
  return Status::Ok();
}

void RaftCore::SendTimeoutNow(NodeId to) {
  // The new leader may be elected by voters inside our lease.
  lease_disabled_ = true;
  Message m;
  m.type = MessageType::kTimeoutNow;
  m.to = to;
  Send(std::move(m));
}

const Progress* RaftCore::progress(NodeId id) const {
  auto it = progress_.find(id);
  return it == progress_.end() ? nullptr : &it->second;
}

Result<SnapshotMetadata> RaftCore::Compact(uint64_t index) {
  if (index <= log_.snapshot().index) {
    return FailedPrecondition("raft log is already compacted up to index " +
                              std::to_string(log_.snapshot().index));
  }
  if (index > log_.applied()) {
    return FailedPrecondition("cannot compact up to index " + std::to_string(index) + ": only " +
                              std::to_string(log_.applied()) + " is applied");
  }
  return log_.Compact(index);
}

}  // namespace dfs::raft
