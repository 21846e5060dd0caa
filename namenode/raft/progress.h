// Progress: what a leader knows about one follower's log and how it is
// currently sending to it (etcd's flow control, condensed).
//
// Contract: match is the highest index known to be replicated on the
// follower; next is the next index the leader will send. In kProbe the
// leader sends one append at a time and waits for the answer; in kReplicate it
// streams appends optimistically, at most max_inflight unacknowledged ones;
// in kSnapshot it waits until the snapshot is reported delivered or failed.
//
// Thread safety: none; owned by one RaftCore.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>

namespace dfs::raft {

// Last indices of the append messages sent to a follower and not yet
// acknowledged, oldest first.
class Inflights {
 public:
  explicit Inflights(int capacity) : capacity_(capacity) {}
  void Add(uint64_t last_index) { q_.push_back(last_index); }
  // Frees every message whose last index is <= index.
  void FreeLE(uint64_t index) {
    while (!q_.empty() && q_.front() <= index) q_.pop_front();
  }
  void FreeFirstOne() {
    if (!q_.empty()) q_.pop_front();
  }
  bool Full() const { return static_cast<int>(q_.size()) >= capacity_; }
  size_t Count() const { return q_.size(); }
  void Reset() { q_.clear(); }

 private:
  int capacity_;
  std::deque<uint64_t> q_;
};

class Progress {
 public:
  enum class State : uint8_t { kProbe, kReplicate, kSnapshot };

  Progress(uint64_t next, int max_inflight) : next(next), inflights(max_inflight) {}

  void BecomeProbe();
  void BecomeReplicate();
  void BecomeSnapshot(uint64_t snapshot_index);

  // An append was acknowledged up to n; false if the answer is stale.
  bool MaybeUpdate(uint64_t n);
  // An append with previous index `rejected` was refused; moves next back to
  // `hint_next` (clamped above match). False if the rejection is stale.
  bool MaybeDecrTo(uint64_t rejected, uint64_t hint_next);
  // Records that an append carrying entries up to last_index was sent.
  void SentEntries(uint64_t last_index, bool had_entries);
  bool IsPaused() const;

  State state = State::kProbe;
  uint64_t match = 0;
  uint64_t next = 1;
  // Probe: an append is outstanding; cleared by a heartbeat response.
  bool probe_sent = false;
  // Snapshot: index of the snapshot being sent.
  uint64_t pending_snapshot = 0;
  // Heard from the follower since the last check-quorum round.
  bool recent_active = false;
  // Highest heartbeat round the follower acknowledged (ReadIndex, lease).
  uint64_t acked_round = 0;
  Inflights inflights;
};

const char* ProgressStateName(Progress::State s);

}  // namespace dfs::raft
