// Log replication: the leader's side (appends, flow control, commitment,
// snapshots for lagging followers, membership bookkeeping) and the
// follower's side (accepting appends, heartbeats and snapshots).
#include <algorithm>
#include <utility>
#include <vector>

#include "namenode/raft/core.h"

namespace dfs::raft {

// ---- Leader ----

void RaftCore::AppendAsLeader(std::vector<Entry> entries) {
  const bool conf = std::any_of(entries.begin(), entries.end(),
                                [](const Entry& e) { return e.type == EntryType::kConfChange; });
  log_.Append(entries);
  progress_.at(cfg_.id).MaybeUpdate(log_.LastIndex());
  if (conf) SyncProgress();
  broadcast_pending_ = true;
  // A single voter commits on its own.
  if (MaybeCommit()) OnCommitAdvanced();
}

void RaftCore::SyncProgress() {
  const Membership& mem = membership();
  for (auto it = progress_.begin(); it != progress_.end();) {
    if (it->first != cfg_.id && !mem.Contains(it->first)) {
      it = progress_.erase(it);
    } else {
      ++it;
    }
  }
  auto add = [&](NodeId id) {
    if (progress_.count(id)) return;
    Progress pr(log_.LastIndex() + 1, cfg_.max_inflight_msgs);
    if (id == cfg_.id) {
      pr.match = log_.LastIndex();
      pr.recent_active = true;
    }
    progress_.emplace(id, std::move(pr));
  };
  add(cfg_.id);
  for (NodeId id : mem.voters) add(id);
  for (NodeId id : mem.learners) add(id);
  if (lead_transferee_ != 0 && !mem.IsVoter(lead_transferee_)) AbortLeaderTransfer();
  if (role_ == Role::kLeader) {
    // The quorum may have shrunk.
    if (MaybeCommit()) OnCommitAdvanced();
    AdvanceReads();
  }
}

bool RaftCore::MaybeSendAppend(NodeId to, bool send_if_empty, uint64_t context) {
  auto it = progress_.find(to);
  if (it == progress_.end()) return false;
  Progress& pr = it->second;
  if (pr.IsPaused()) return false;
  const uint64_t prev = pr.next - 1;
  const std::optional<uint64_t> prev_term = log_.Term(prev);
  if (!prev_term.has_value()) {
    // The entries this follower needs are compacted away.
    SendSnapshot(to, pr);
    return false;
  }
  std::vector<Entry> entries;
  if (pr.next <= log_.LastIndex()) {
    entries = log_.Slice(pr.next, log_.LastIndex() + 1, cfg_.max_size_per_msg);
  }
  if (entries.empty() && !send_if_empty) return false;
  const uint64_t last = entries.empty() ? prev : entries.back().index;
  const bool had_entries = !entries.empty();
  Message m;
  m.type = MessageType::kAppend;
  m.to = to;
  m.index = prev;
  m.log_term = *prev_term;
  if (entries.empty()) m.context = context;
  m.entries = std::move(entries);
  m.commit = log_.committed();
  Send(std::move(m));
  pr.SentEntries(last, had_entries);
  return true;
}

void RaftCore::SendSnapshot(NodeId to, Progress& pr) {
  pr.BecomeSnapshot(log_.snapshot().index);
  Message m;
  m.type = MessageType::kSnapshot;
  m.to = to;
  m.snapshot = log_.snapshot();
  Send(std::move(m));
}

void RaftCore::BroadcastAppend() {
  for (auto& [id, pr] : progress_) {
    if (id != cfg_.id) SendAppend(id);
  }
}

bool RaftCore::MaybeCommit() {
  const Membership& mem = membership();
  if (mem.voters.empty()) return false;
  std::vector<uint64_t> matches;
  for (NodeId id : mem.voters) {
    auto it = progress_.find(id);
    matches.push_back(it == progress_.end() ? 0 : it->second.match);
  }
  std::sort(matches.begin(), matches.end(), std::greater<>());
  // Only an entry of this term is committed by counting replicas; earlier
  // entries commit with it (Raft paper, section 5.4.2 and figure 8).
  return log_.MaybeCommit(matches[mem.Quorum() - 1], term_);
}

void RaftCore::OnCommitAdvanced() {
  if (CommittedInCurrentTerm() && !reads_awaiting_term_commit_.empty()) {
    std::vector<uint64_t> waiting = std::move(reads_awaiting_term_commit_);
    reads_awaiting_term_commit_.clear();
    for (uint64_t id : waiting) ServeRead(id);
  }
  // Followers learn the new commit index with the next append.
  broadcast_pending_ = true;
  for (auto& [id, pr] : progress_) {
    if (id != cfg_.id && pr.state == Progress::State::kReplicate && !pr.IsPaused() &&
        pr.next > log_.LastIndex()) {
      MaybeSendAppend(id, true, kCommitOnly);
    }
  }
  // A leader that removed itself leads until the removal commits.
  if (!Promotable() && log_.committed() >= log_.LastConfIndex()) BecomeFollower(term_, 0);
}

void RaftCore::HandleAppendResponse(const Message& m) {
  auto it = progress_.find(m.from);
  if (it == progress_.end()) return;
  Progress& pr = it->second;
  pr.recent_active = true;
  if (m.reject) {
    uint64_t next_probe = m.hint_index;
    if (m.hint_term > 0) {
      // If we hold entries of the follower's conflicting term, the follower
      // matches us up to our last such entry.
      const uint64_t j = log_.LastIndexWithTermAtMost(m.index, m.hint_term);
      if (log_.Term(j) == m.hint_term) next_probe = j + 1;
    }
    if (pr.MaybeDecrTo(m.index, next_probe)) {
      if (pr.state == Progress::State::kReplicate) pr.BecomeProbe();
      SendAppend(m.from);
    }
    return;
  }
  const bool was_paused = pr.IsPaused();
  if (!pr.MaybeUpdate(m.index)) return;
  switch (pr.state) {
    case Progress::State::kProbe:
      pr.BecomeReplicate();
      break;
    case Progress::State::kSnapshot:
      if (pr.match >= pr.pending_snapshot) pr.BecomeReplicate();
      break;
    case Progress::State::kReplicate:
      pr.inflights.FreeLE(m.index);
      break;
  }
  if (MaybeCommit()) {
    OnCommitAdvanced();
    if (role_ != Role::kLeader) return;
  } else if (was_paused) {
    SendAppend(m.from);
  }
  while (MaybeSendAppend(m.from, false)) {
  }
  if (m.from == lead_transferee_ && pr.match == log_.LastIndex()) SendTimeoutNow(m.from);
}

void RaftCore::HandleHeartbeatResponse(const Message& m) {
  auto it = progress_.find(m.from);
  if (it == progress_.end()) return;
  Progress& pr = it->second;
  pr.recent_active = true;
  pr.probe_sent = false;
  // A lost append would otherwise hold its inflight slot forever.
  if (pr.state == Progress::State::kReplicate && pr.inflights.Full()) pr.inflights.FreeFirstOne();
  if (pr.match < log_.LastIndex() || pr.state == Progress::State::kProbe) SendAppend(m.from);
  if (m.context > pr.acked_round) {
    pr.acked_round = m.context;
    AdvanceReads();
  }
}

void RaftCore::ReportUnreachable(NodeId id) {
  if (role_ != Role::kLeader) return;
  auto it = progress_.find(id);
  if (it == progress_.end()) return;
  if (it->second.state == Progress::State::kReplicate) it->second.BecomeProbe();
}

void RaftCore::ReportSnapshot(NodeId id, bool delivered) {
  if (role_ != Role::kLeader) return;
  auto it = progress_.find(id);
  if (it == progress_.end() || it->second.state != Progress::State::kSnapshot) return;
  Progress& pr = it->second;
  if (!delivered) pr.pending_snapshot = 0;
  pr.BecomeProbe();
  // Delivered: wait for the follower's answer. Failed: wait for a heartbeat
  // response before trying again.
  pr.probe_sent = true;
}

bool RaftCore::QuorumActive() const {
  size_t active = 0;
  for (NodeId id : membership().voters) {
    auto it = progress_.find(id);
    if (it != progress_.end() && (id == cfg_.id || it->second.recent_active)) ++active;
  }
  return active >= membership().Quorum();
}

// ---- Follower ----

void RaftCore::HandleAppend(const Message& m) {
  Message resp;
  resp.type = MessageType::kAppendResp;
  resp.to = m.from;
  if (m.index < log_.committed()) {
    resp.index = log_.committed();
    Send(std::move(resp));
    return;
  }
  if (std::optional<uint64_t> last = log_.MaybeAppend(m.index, m.log_term, m.commit, m.entries)) {
    // The leader knows we hold everything it sent; it waits for no answer to this.
    if (m.context == kCommitOnly && m.entries.empty()) return;
    resp.index = *last;
    Send(std::move(resp));
    return;
  }
  // Hint: our conflicting term and where it starts, or where our log ends,
  // so the leader skips a whole term (or gap) per round trip.
  resp.reject = true;
  resp.index = m.index;
  if (m.index > log_.LastIndex()) {
    resp.hint_index = log_.LastIndex() + 1;
    resp.hint_term = 0;
  } else {
    resp.hint_term = *log_.Term(m.index);
    resp.hint_index = std::max(log_.FirstIndexOfTermAt(m.index), log_.committed() + 1);
  }
  Send(std::move(resp));
}

void RaftCore::HandleHeartbeat(const Message& m) {
  // The leader sends at most the follower's match, which it verified in
  // this term, so the entries are ours and agree with the leader.
  log_.CommitTo(std::min(m.commit, log_.LastIndex()));
  Message resp;
  resp.type = MessageType::kHeartbeatResp;
  resp.to = m.from;
  resp.context = m.context;
  Send(std::move(resp));
}

void RaftCore::HandleSnapshot(const Message& m) {
  const SnapshotMetadata& s = m.snapshot;
  Message resp;
  resp.type = MessageType::kAppendResp;
  resp.to = m.from;
  if (s.index <= log_.committed()) {
    resp.index = log_.committed();
  } else if (log_.MatchTerm(s.index, s.term)) {
    // We already hold the snapshot's entries; just commit them.
    log_.CommitTo(s.index);
    resp.index = s.index;
  } else {
    log_.Restore(s);
    applying_ = s.index;
    resp.index = s.index;
  }
  Send(std::move(resp));
}

}  // namespace dfs::raft
