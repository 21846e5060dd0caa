// Linearizable reads on the leader: ReadIndex confirmed by a heartbeat round,
// or answered at once under a leader lease.
#include <algorithm>
#include <vector>

#include "namenode/raft/core.h"

namespace dfs::raft {

bool RaftCore::CommittedInCurrentTerm() const { return log_.Term(log_.committed()) == term_; }

Status RaftCore::ReadIndex(uint64_t request_id) {
  if (role_ != Role::kLeader) {
    return FailedPrecondition("node " + std::to_string(cfg_.id) +
                              " is not the leader; leader is node " + std::to_string(lead_));
  }
  if (lead_transferee_ != 0) {
    return Unavailable("leadership is being transferred; retry at the new leader");
  }
  // Until this term's no-op commits, our commit index may lag entries an
  // earlier leader committed.
  if (!CommittedInCurrentTerm()) {
    reads_awaiting_term_commit_.push_back(request_id);
    return Status::Ok();
  }
  ServeRead(request_id);
  return Status::Ok();
}

void RaftCore::ServeRead(uint64_t request_id) {
  if (cfg_.read_only == ReadOnlyOption::kLeaseBased && !lease_disabled_ && LeaseValid()) {
    read_states_.push_back(ReadState{log_.committed(), request_id});
    return;
  }
  BroadcastHeartbeat();
  pending_reads_.push_back(PendingRead{request_id, log_.committed(), heartbeat_round_});
  AdvanceReads();
}

void RaftCore::BroadcastHeartbeat() {
  ++heartbeat_round_;
  round_sent_at_.emplace_back(heartbeat_round_, now_);
  for (auto& [id, pr] : progress_) {
    if (id == cfg_.id) {
      pr.acked_round = heartbeat_round_;
      continue;
    }
    Message m;
    m.type = MessageType::kHeartbeat;
    m.to = id;
    m.commit = std::min(pr.match, log_.committed());
    m.context = heartbeat_round_;
    Send(std::move(m));
  }
  AdvanceReads();
}

uint64_t RaftCore::QuorumAckedRound() const {
  const Membership& mem = membership();
  if (mem.voters.empty()) return 0;
  std::vector<uint64_t> acked;
  for (NodeId id : mem.voters) {
    auto it = progress_.find(id);
    acked.push_back(it == progress_.end() ? 0 : it->second.acked_round);
  }
  std::sort(acked.begin(), acked.end(), std::greater<>());
  return acked[mem.Quorum() - 1];
}

void RaftCore::AdvanceReads() {
  if (role_ != Role::kLeader) return;
  const uint64_t acked = QuorumAckedRound();
  while (!pending_reads_.empty() && pending_reads_.front().round <= acked) {
    read_states_.push_back(
        ReadState{pending_reads_.front().index, pending_reads_.front().request_id});
    pending_reads_.pop_front();
  }
  // Keep the send time of the newest quorum-acked round for the lease; a
  // membership change can only lower the acked round to one we may have
  // dropped, which just makes the lease invalid.
  while (round_sent_at_.size() > 1 && round_sent_at_[1].first <= acked) round_sent_at_.pop_front();
}

int RaftCore::LeaseTicksLeft() const {
  if (role_ != Role::kLeader || cfg_.read_only != ReadOnlyOption::kLeaseBased ||
      lease_disabled_ || lead_transferee_ != 0 || !CommittedInCurrentTerm() || !LeaseValid()) {
    return 0;
  }
  const uint64_t acked = QuorumAckedRound();
  for (const auto& [round, sent_at] : round_sent_at_) {
    if (round == acked) return static_cast<int>(sent_at + cfg_.election_tick - now_ - 1);
  }
  return 0;
}

bool RaftCore::LeaseValid() const {
  const uint64_t acked = QuorumAckedRound();
  if (acked == 0) return false;
  for (const auto& [round, sent_at] : round_sent_at_) {
    if (round != acked) continue;
    // Every voter of that quorum heard from us at or after sent_at and
    // ignores campaigns for election_tick ticks after hearing; one tick of
    // margin covers the order of ticks and deliveries within a tick.
    return now_ + 1 < sent_at + static_cast<uint64_t>(cfg_.election_tick);
  }
  return false;
}

}  // namespace dfs::raft
