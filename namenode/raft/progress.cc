#include "namenode/raft/progress.h"

#include <algorithm>

namespace dfs::raft {

void Progress::BecomeProbe() {
  if (state == State::kSnapshot) {
    // The snapshot may have arrived; probing right after it costs nothing if
    // it did and a single rejection if it did not.
    next = std::max(match + 1, pending_snapshot + 1);
  } else {
    next = match + 1;
  }
  state = State::kProbe;
  probe_sent = false;
  pending_snapshot = 0;
  inflights.Reset();
}

void Progress::BecomeReplicate() {
  state = State::kReplicate;
  next = match + 1;
  probe_sent = false;
  pending_snapshot = 0;
  inflights.Reset();
}

void Progress::BecomeSnapshot(uint64_t snapshot_index) {
  state = State::kSnapshot;
  pending_snapshot = snapshot_index;
  probe_sent = false;
  inflights.Reset();
}

bool Progress::MaybeUpdate(uint64_t n) {
  bool updated = false;
  if (match < n) {
    match = n;
    updated = true;
    probe_sent = false;
  }
  next = std::max(next, n + 1);
  return updated;
}

bool Progress::MaybeDecrTo(uint64_t rejected, uint64_t hint_next) {
  if (state == State::kReplicate) {
    // Everything up to match was acknowledged after this was sent.
    if (rejected <= match) return false;
    next = std::max(match + 1, std::min(rejected, hint_next));
    return true;
  }
  // Probing sends one append at a time, from next - 1; any other rejection is
  // an answer to an older probe.
  if (next == 0 || next - 1 != rejected) return false;
  next = std::max(match + 1, std::min(rejected, hint_next));
  probe_sent = false;
  return true;
}

void Progress::SentEntries(uint64_t last_index, bool had_entries) {
  if (state == State::kReplicate) {
    if (had_entries) {
      next = last_index + 1;
      inflights.Add(last_index);
    }
  } else if (state == State::kProbe) {
    probe_sent = true;
  }
}

bool Progress::IsPaused() const {
  switch (state) {
    case State::kProbe:
      return probe_sent;
    case State::kReplicate:
      return inflights.Full();
    case State::kSnapshot:
      return true;
  }
  return true;
}

const char* ProgressStateName(Progress::State s) {
  switch (s) {
    case Progress::State::kProbe:
      return "probe";
    case Progress::State::kReplicate:
      return "replicate";
    case Progress::State::kSnapshot:
      return "snapshot";
  }
  return "unknown";
}

}  // namespace dfs::raft
