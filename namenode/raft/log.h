// RaftLog: the in-memory view of one node's Raft log: the metadata of the
// latest snapshot, the entries after it (both those already persisted and
// those not yet), and the commit and apply positions.
//
// Contract: indices are contiguous, starting right after the snapshot index.
// Entries at or below `committed` are never truncated. Entries above `stable`
// (and a snapshot marked unstable) have not been persisted yet; the core hands
// them out through Ready and the application confirms them through StableTo /
// StableSnapshotTo. The membership in force is that of the last conf change
// entry in the log, or the snapshot's if there is none: changes take effect
// when appended and are undone when truncated.
//
// Thread safety: none; owned by one RaftCore.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <vector>

#include "namenode/raft/membership.h"
#include "namenode/raft/messages.h"

namespace dfs::raft {

class RaftLog {
 public:
  // A log recovered from storage: everything given is already persisted.
  // REQUIRES: entries are contiguous from snapshot.index + 1 and
  // snapshot.index <= committed <= the last index.
  RaftLog(SnapshotMetadata snapshot, std::vector<Entry> entries, uint64_t committed);

  uint64_t FirstIndex() const { return snapshot_.index + 1; }
  uint64_t LastIndex() const { return snapshot_.index + entries_.size(); }
  uint64_t LastTerm() const { return *Term(LastIndex()); }
  // Term of entry i; nullopt if i is compacted away or beyond the last entry.
  std::optional<uint64_t> Term(uint64_t i) const;
  bool MatchTerm(uint64_t i, uint64_t term) const;
  // Whether a log ending at (last_index, last_term) is at least as up to date.
  bool IsUpToDate(uint64_t last_index, uint64_t last_term) const;
  // Entries [lo, hi) capped at max_bytes of data (at least one entry if
  // lo < hi). REQUIRES: FirstIndex() <= lo <= hi <= LastIndex() + 1.
  std::vector<Entry> Slice(uint64_t lo, uint64_t hi, uint64_t max_bytes) const;
  // The last index <= `from` whose term is <= `term`, searching back no
  // further than the snapshot; used to skip a follower's conflicting term.
  uint64_t LastIndexWithTermAtMost(uint64_t from, uint64_t term) const;
  // First index of the run of entries with term Term(i) that contains i,
  // stopping at the snapshot. REQUIRES: Term(i) is known.
  uint64_t FirstIndexOfTermAt(uint64_t i) const;

  // Follower side of AppendEntries: if the entry before `entries` matches
  // (prev_index, prev_term), appends what is new, truncating a conflicting
  // suffix, advances the commit index to min(commit, last new index) and
  // returns the last new index; otherwise returns nullopt and changes nothing.
  std::optional<uint64_t> MaybeAppend(uint64_t prev_index, uint64_t prev_term, uint64_t commit,
                                      const std::vector<Entry>& entries);
  // Leader side: appends entries that continue the log.
  // REQUIRES: entries[0].index == LastIndex() + 1.
  void Append(const std::vector<Entry>& entries);

  uint64_t committed() const { return committed_; }
  uint64_t applied() const { return applied_; }
  // Raises the commit index. REQUIRES: i <= LastIndex().
  void CommitTo(uint64_t i);
  // Advances the commit index to i if entry i has term `term` (a leader only
  // commits entries of its own term by counting replicas).
  bool MaybeCommit(uint64_t i, uint64_t term);
  // Entries committed but not yet handed out for applying.
  std::vector<Entry> NextCommittedEntries(uint64_t after) const;
  void AppliedTo(uint64_t i);

  const SnapshotMetadata& snapshot() const { return snapshot_; }
  bool HasUnstableSnapshot() const { return snapshot_unstable_; }
  // Replaces the whole log with a snapshot received from the leader; it is
  // unstable until StableSnapshotTo.
  void Restore(const SnapshotMetadata& snapshot);
  // Discards entries up to i, which the application has captured in a
  // snapshot. REQUIRES: FirstIndex() <= i <= applied().
  SnapshotMetadata Compact(uint64_t i);
  // Membership in force after the entry at i (i >= snapshot index).
  Membership MembershipAt(uint64_t i) const;
  const Membership& membership() const;
  // Index of the last conf change entry, or 0 if there is none after the
  // snapshot.
  uint64_t LastConfIndex() const;

  std::vector<Entry> UnstableEntries() const;
  uint64_t stable() const { return stable_; }
  // The application persisted entries up to i, whose term was `term`; stale
  // confirmations (the entry was truncated meanwhile) are ignored.
  void StableTo(uint64_t i, uint64_t term);
  void StableSnapshotTo(uint64_t i);

 private:
  const Entry& At(uint64_t i) const { return entries_[i - snapshot_.index - 1]; }
  void TruncateFrom(uint64_t i);
  void RecordConfEntries(const std::vector<Entry>& entries);

  SnapshotMetadata snapshot_;
  bool snapshot_unstable_ = false;
  std::vector<Entry> entries_;
  // Conf change entries after the snapshot: index -> resulting membership.
  std::map<uint64_t, Membership> conf_entries_;
  uint64_t committed_ = 0;
  uint64_t applied_ = 0;
  uint64_t stable_ = 0;
};

}  // namespace dfs::raft
