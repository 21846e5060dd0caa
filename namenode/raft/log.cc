#include "namenode/raft/log.h"

#include <algorithm>
#include <cassert>
#include <utility>

namespace dfs::raft {

RaftLog::RaftLog(SnapshotMetadata snapshot, std::vector<Entry> entries, uint64_t committed)
    : snapshot_(std::move(snapshot)), entries_(std::move(entries)) {
  RecordConfEntries(entries_);
  committed_ = std::clamp(committed, snapshot_.index, LastIndex());
  applied_ = snapshot_.index;
  stable_ = LastIndex();
}

std::optional<uint64_t> RaftLog::Term(uint64_t i) const {
  if (i == snapshot_.index) return snapshot_.term;
  if (i < snapshot_.index || i > LastIndex()) return std::nullopt;
  return At(i).term;
}

bool RaftLog::MatchTerm(uint64_t i, uint64_t term) const {
  std::optional<uint64_t> t = Term(i);
  return t.has_value() && *t == term;
}

bool RaftLog::IsUpToDate(uint64_t last_index, uint64_t last_term) const {
  const uint64_t my_term = LastTerm();
  return last_term > my_term || (last_term == my_term && last_index >= LastIndex());
}

std::vector<Entry> RaftLog::Slice(uint64_t lo, uint64_t hi, uint64_t max_bytes) const {
  assert(lo >= FirstIndex() && lo <= hi && hi <= LastIndex() + 1);
  std::vector<Entry> out;
  uint64_t bytes = 0;
  for (uint64_t i = lo; i < hi; ++i) {
    const Entry& e = At(i);
    bytes += e.data.size();
    if (!out.empty() && bytes > max_bytes) break;
    out.push_back(e);
  }
  return out;
}

uint64_t RaftLog::LastIndexWithTermAtMost(uint64_t from, uint64_t term) const {
  uint64_t i = std::min(from, LastIndex());
  while (i > snapshot_.index && At(i).term > term) --i;
  return std::max(i, snapshot_.index);
}

uint64_t RaftLog::FirstIndexOfTermAt(uint64_t i) const {
  const uint64_t term = *Term(i);
  while (i > snapshot_.index + 1 && At(i - 1).term == term) --i;
  if (i == snapshot_.index + 1 && snapshot_.term == term && snapshot_.index > 0) {
    return snapshot_.index;
  }
  return i;
}

std::optional<uint64_t> RaftLog::MaybeAppend(uint64_t prev_index, uint64_t prev_term,
                                             uint64_t commit, const std::vector<Entry>& entries) {
  if (!MatchTerm(prev_index, prev_term)) return std::nullopt;
  const uint64_t last_new = prev_index + entries.size();
  // The first entry that is new or conflicts; everything before it matches.
  size_t k = 0;
  while (k < entries.size() && MatchTerm(entries[k].index, entries[k].term)) ++k;
  if (k < entries.size()) {
    const uint64_t conflict = entries[k].index;
    assert(conflict > committed_);  // a committed entry never conflicts
    if (conflict <= LastIndex()) TruncateFrom(conflict);
    Append(std::vector<Entry>(entries.begin() + k, entries.end()));
  }
  CommitTo(std::min(commit, last_new));
  return last_new;
}

void RaftLog::Append(const std::vector<Entry>& entries) {
  if (entries.empty()) return;
  assert(entries.front().index == LastIndex() + 1);
  entries_.insert(entries_.end(), entries.begin(), entries.end());
  RecordConfEntries(entries);
}

void RaftLog::TruncateFrom(uint64_t i) {
  assert(i > committed_ && i > snapshot_.index);
  entries_.resize(i - snapshot_.index - 1);
  conf_entries_.erase(conf_entries_.lower_bound(i), conf_entries_.end());
  stable_ = std::min(stable_, i - 1);
}

void RaftLog::RecordConfEntries(const std::vector<Entry>& entries) {
  for (const Entry& e : entries) {
    if (e.type != EntryType::kConfChange) continue;
    // A malformed entry cannot come from a leader of this code; it changes
    // nothing rather than taking the node down.
    Result<ConfChangeRecord> r = DecodeConfChange(e.data);
    if (r.ok()) conf_entries_[e.index] = r->result;
  }
}

void RaftLog::CommitTo(uint64_t i) {
  assert(i <= LastIndex());
  committed_ = std::max(committed_, i);
}

bool RaftLog::MaybeCommit(uint64_t i, uint64_t term) {
  if (i > committed_ && MatchTerm(i, term)) {
    committed_ = i;
    return true;
  }
  return false;
}

std::vector<Entry> RaftLog::NextCommittedEntries(uint64_t after) const {
  const uint64_t lo = std::max(after, snapshot_.index) + 1;
  if (lo > committed_) return {};
  return Slice(lo, committed_ + 1, UINT64_MAX);
}

void RaftLog::AppliedTo(uint64_t i) {
  assert(i <= committed_);
  applied_ = std::max(applied_, i);
}

void RaftLog::Restore(const SnapshotMetadata& snapshot) {
  snapshot_ = snapshot;
  snapshot_unstable_ = true;
  entries_.clear();
  conf_entries_.clear();
  committed_ = snapshot.index;
  applied_ = std::min(applied_, snapshot.index);
  stable_ = snapshot.index;
}

SnapshotMetadata RaftLog::Compact(uint64_t i) {
  assert(i >= FirstIndex() && i <= applied_);
  SnapshotMetadata s{i, *Term(i), MembershipAt(i)};
  entries_.erase(entries_.begin(), entries_.begin() + (i - snapshot_.index));
  conf_entries_.erase(conf_entries_.begin(), conf_entries_.upper_bound(i));
  snapshot_ = s;
  return s;
}

Membership RaftLog::MembershipAt(uint64_t i) const {
  auto it = conf_entries_.upper_bound(i);
  if (it == conf_entries_.begin()) return snapshot_.membership;
  return std::prev(it)->second;
}

const Membership& RaftLog::membership() const {
  return conf_entries_.empty() ? snapshot_.membership : conf_entries_.rbegin()->second;
}

uint64_t RaftLog::LastConfIndex() const {
  return conf_entries_.empty() ? 0 : conf_entries_.rbegin()->first;
}

std::vector<Entry> RaftLog::UnstableEntries() const {
  if (stable_ >= LastIndex()) return {};
  return Slice(std::max(stable_, snapshot_.index) + 1, LastIndex() + 1, UINT64_MAX);
}

void RaftLog::StableTo(uint64_t i, uint64_t term) {
  if (i > stable_ && MatchTerm(i, term)) stable_ = i;
}

void RaftLog::StableSnapshotTo(uint64_t i) {
  if (snapshot_unstable_ && snapshot_.index == i) snapshot_unstable_ = false;
}

}  // namespace dfs::raft
