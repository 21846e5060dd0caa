// The simulator's safety checks (see simulator.h).
#include <algorithm>
#include <optional>
#include <string>

#include "tests/namenode/raft/simulator.h"

namespace dfs::raft::sim {

// FNV-1a, so hashes do not depend on the standard library.
uint64_t HashBytes(uint64_t h, const std::string& s) {
  h ^= 0xcbf29ce484222325ULL;
  for (unsigned char c : s) {
    h ^= c;
    h *= 0x100000001b3ULL;
  }
  return h;
}

namespace {
std::string N(uint64_t v) { return std::to_string(v); }
}  // namespace

Status Simulator::CheckInvariants() {
  if (!failure_.ok()) return failure_;
  // Election safety.
  for (auto& [id, n] : nodes_) {
    if (!n.core || n.core->role() != Role::kLeader) continue;
    auto [it, inserted] = leader_of_term_.emplace(n.core->term(), id);
    if (!inserted && it->second != id) {
      Fail("two leaders in term " + N(n.core->term()) + ": nodes " + N(it->second) + " and " +
           N(id));
      return failure_;
    }
  }
  for (auto& [id, n] : nodes_) {
    if (!n.core) continue;
    Status st = CheckLogMatching(n);
    if (!st.ok()) return st;
  }
  ObserveCommits();
  if (!failure_.ok()) return failure_;
  Status st = CheckLeaderCompleteness();
  if (!st.ok()) return st;
  return CheckDurability();
}

Status Simulator::CheckLogMatching(Node& n) {
  const RaftLog& log = n.core->log();
  const uint64_t first = log.FirstIndex();
  const uint64_t last = log.LastIndex();
  if (log.committed() > last) {
    Fail("node " + N(n.id) + " commits " + N(log.committed()) + " beyond its last index " +
         N(last));
    return failure_;
  }
  std::vector<uint64_t>& shadow = n.checked_terms;
  shadow.resize(last + 1, 0);
  // Entries at or before the snapshot are no longer in the log.
  std::fill(shadow.begin(), shadow.begin() + std::min<uint64_t>(first, shadow.size()), 0);
  uint64_t lo = 0;
  for (uint64_t i = first; i <= last; ++i) {
    if (shadow[i] != *log.Term(i)) {
      lo = i;
      break;
    }
  }
  if (lo == 0) return Status::Ok();
  const std::vector<Entry> changed = log.Slice(lo, last + 1, UINT64_MAX);
  uint64_t prev_term = *log.Term(lo - 1);
  for (const Entry& e : changed) {
    const uint64_t h = HashBytes(static_cast<uint64_t>(e.type), e.data);
    auto [it, inserted] =
        entries_seen_.emplace(std::make_pair(e.index, e.term), std::make_pair(h, prev_term));
    if (!inserted && it->second != std::make_pair(h, prev_term)) {
      Fail("log matching: node " + N(n.id) + " holds an entry at index " + N(e.index) + " term " +
           N(e.term) + " (previous term " + N(prev_term) +
           ") that differs from another log's entry with the same index and term");
      return failure_;
    }
    shadow[e.index] = e.term;
    prev_term = e.term;
  }
  return Status::Ok();
}

void Simulator::ObserveCommits() {
  for (auto& [id, n] : nodes_) {
    if (!n.core) continue;
    const RaftLog& log = n.core->log();
    const uint64_t c = log.committed();
    while (committed_terms_.size() < c) {
      const uint64_t i = committed_terms_.size() + 1;
      committed_terms_.emplace_back(log.Term(i).value_or(0), n.core->term());
    }
    // Nothing committed is ever replaced: the entry at this node's commit
    // index is the one first seen committed there.
    if (c > 0) {
      const uint64_t want = committed_terms_[c - 1].first;
      const std::optional<uint64_t> have = log.Term(c);
      if (want != 0 && have.has_value() && *have != want) {
        Fail("node " + N(id) + " commits term " + N(*have) + " at index " + N(c) + " where term " +
             N(want) + " was committed");
        return;
      }
    }
  }
}

Status Simulator::CheckLeaderCompleteness() {
  for (auto& [id, n] : nodes_) {
    if (!n.core || n.core->role() != Role::kLeader) continue;
    const uint64_t term = n.core->term();
    // The newest entry known committed before this leader's term; log
    // matching makes holding it imply holding everything before it.
    uint64_t i = committed_terms_.size();
    while (i > 0 && committed_terms_[i - 1].second >= term) --i;
    if (i == 0) continue;
    const uint64_t want = committed_terms_[i - 1].first;
    const RaftLog& log = n.core->log();
    if (i < log.snapshot().index || want == 0) continue;
    const std::optional<uint64_t> have = log.Term(i);
    if (!have.has_value() || *have != want) {
      Fail("leader completeness: leader " + N(id) + " of term " + N(term) +
           " lacks committed index " + N(i) + " (term " + N(want) + ")");
      return failure_;
    }
  }
  return Status::Ok();
}

Status Simulator::CheckDurability() {
  if (committed_terms_.empty()) return Status::Ok();
  const uint64_t c = committed_terms_.size();
  const uint64_t want = committed_terms_[c - 1].first;
  if (want == 0) return Status::Ok();
  // The membership in force at the committed entry. The quorum that
  // committed it belonged to this membership or to one a single change away,
  // and either way every quorum of this one must meet a holder.
  std::optional<Membership> at;
  NodeId source = 0;
  for (auto& [id, n] : nodes_) {
    if (!n.core) continue;
    const RaftLog& log = n.core->log();
    if (c >= log.snapshot().index && log.MatchTerm(c, want)) {
      at = log.MembershipAt(c);
      source = id;
      break;
    }
  }
  if (!at.has_value() || at->voters.empty()) return Status::Ok();
  const Membership& mem = *at;
  size_t holders = 0;
  for (NodeId v : mem.voters) {
    auto it = nodes_.find(v);
    if (it == nodes_.end()) continue;
    const Disk& d = it->second.disk;
    if (d.snapshot.index >= c) {
      ++holders;
    } else if (c - d.snapshot.index <= d.entries.size() &&
               d.entries[c - d.snapshot.index - 1].term == want) {
      ++holders;
    }
  }
  // Every quorum of the leader's membership must meet a holder.
  const size_t needed = mem.voters.size() - mem.Quorum() + 1;
  if (holders < needed) {
    Fail("durability: committed index " + N(c) + " is on the disks of only " + N(holders) +
         " of the " + N(mem.voters.size()) + " voters in force there (per node " + N(source) + ")");
    return failure_;
  }
  return Status::Ok();
}

}  // namespace dfs::raft::sim
