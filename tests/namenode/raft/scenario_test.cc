// Named safety and behaviour scenarios of the Raft core, each built step by
// step on the simulator (no random faults), with the simulator's invariants
// checked along the way.
#include <gtest/gtest.h>

#include <string>

#include "tests/namenode/raft/simulator.h"

namespace dfs::raft::sim {
namespace {

constexpr int kElection = 10;

Options ScenarioOptions(int voters, bool pre_vote, bool check_quorum, int spares = 0) {
  Options o;
  o.voters = voters;
  o.spares = spares;
  o.node_config.election_tick = kElection;
  o.node_config.pre_vote = pre_vote;
  o.node_config.check_quorum = check_quorum;
  return o;
}

#define ASSERT_INVARIANTS(s)                   \
  do {                                         \
    Status _inv = (s).CheckInvariants();       \
    ASSERT_TRUE(_inv.ok()) << _inv.ToString(); \
  } while (0)

// Ticks (settling the network after each tick) up to max_ticks times or
// until done() holds; returns whether it held.
bool TickUntil(Simulator& s, const std::function<bool()>& done, int max_ticks) {
  for (int t = 0; t < max_ticks; ++t) {
    if (done()) return true;
    s.Tick();
    if (!s.Stabilize()) return false;
    if (!s.CheckInvariants().ok()) return false;
  }
  return done();
}

void Settle(Simulator& s, int ticks) {
  TickUntil(
      s, [] { return false; }, ticks);
}

// Makes `id` the leader: by campaigning, or, where voters ignore campaigns
// for an election timeout after booting (check-quorum), by waiting for some
// leader and having it transfer leadership.
void Elect(Simulator& s, NodeId id) {
  ASSERT_TRUE(s.core(id)->Campaign().ok());
  ASSERT_TRUE(s.Stabilize());
  if (s.core(id)->role() != Role::kLeader) {
    ASSERT_TRUE(TickUntil(
        s, [&] { return s.Leader() != 0; }, 5 * kElection));
    if (s.Leader() != id) {
      ASSERT_TRUE(s.core(s.Leader())->TransferLeadership(id).ok());
      ASSERT_TRUE(s.Stabilize());
    }
  }
  ASSERT_EQ(s.core(id)->role(), Role::kLeader);
  ASSERT_INVARIANTS(s);
}

Disk DiskWithTerms(const std::vector<uint64_t>& terms, uint64_t hard_term, int voters) {
  Disk d;
  for (int v = 1; v <= voters; ++v) d.snapshot.membership.voters.insert(v);
  for (size_t i = 0; i < terms.size(); ++i) {
    d.entries.push_back(Entry{terms[i], i + 1, EntryType::kNormal, "t" + std::to_string(terms[i])});
  }
  d.hard_state.term = hard_term;
  return d;
}

// Figure 7 of the Raft paper: the leader of term 8 meets followers missing
// entries (a, b, e), holding extra uncommitted entries (c, d) or both (f).
TEST(RaftScenarioTest, Figure7FollowerLogsAreRepairedWithFewRoundTrips) {
  Simulator s(ScenarioOptions(7, false, false));
  const std::vector<std::vector<uint64_t>> logs = {
      {1, 1, 1, 4, 4, 5, 5, 6, 6, 6},        // leader
      {1, 1, 1, 4, 4, 5, 5, 6, 6},           // a
      {1, 1, 1, 4},                          // b
      {1, 1, 1, 4, 4, 5, 5, 6, 6, 6, 6},     // c
      {1, 1, 1, 4, 4, 5, 5, 6, 6, 6, 7, 7},  // d
      {1, 1, 1, 4, 4, 4, 4},                 // e
      {1, 1, 1, 2, 2, 2, 3, 3, 3, 3, 3},     // f
  };
  for (NodeId id = 1; id <= 7; ++id) {
    s.Crash(id);
    s.ReplaceDisk(id, DiskWithTerms(logs[id - 1], 7, 7));
    s.Restart(id);
  }
  int rejections = 0;
  s.SetDeliveryFilter([&](Message& m) {
    if (m.type == MessageType::kAppendResp && m.reject) ++rejections;
    return true;
  });
  Elect(s, 1);  // votes from a, b, e, f; c and d hold longer or newer logs
  EXPECT_EQ(s.core(1)->term(), 8u);
  ASSERT_TRUE(s.Stabilize());
  for (NodeId id = 1; id <= 7; ++id) {
    const RaftLog& log = s.core(id)->log();
    ASSERT_EQ(log.LastIndex(), 11u) << "node " << id;
    for (uint64_t i = 1; i <= 10; ++i) EXPECT_EQ(log.Term(i), logs[0][i - 1]) << id << "@" << i;
    EXPECT_EQ(log.Term(11), 8u);
    EXPECT_EQ(log.committed(), 11u);
  }
  // The conflict hint skips a whole term per round trip: f needs two
  // rejections (terms 3 and 2), not one per entry.
  EXPECT_LE(rejections, 8);
  ASSERT_INVARIANTS(s);
}

TEST(RaftScenarioTest, StaleLeaderCannotCommit) {
  Simulator s(ScenarioOptions(5, true, false));
  Elect(s, 1);
  s.Partition({{1, 2}, {3, 4, 5}});
  ASSERT_TRUE(TickUntil(
      s, [&] { return s.Leader() != 1 && s.Leader() != 0; }, 100));
  const NodeId new_leader = s.Leader();
  ASSERT_EQ(s.core(1)->role(), Role::kLeader);  // no check-quorum: it does not know
  const uint64_t old_commit = s.core(1)->log().committed();
  ASSERT_TRUE(s.Propose(1, "stale").ok());
  ASSERT_TRUE(s.Propose(new_leader, "fresh").ok());
  Settle(s, 20);
  EXPECT_EQ(s.core(1)->log().committed(), old_commit);
  s.Heal();
  ASSERT_TRUE(TickUntil(
      s, [&] { return s.core(1)->role() == Role::kFollower; }, 20));
  Settle(s, 5);
  for (const auto& [index, applied] : s.applied()) EXPECT_NE(applied.second, "stale");
  EXPECT_EQ(s.core(1)->log().committed(), s.core(new_leader)->log().committed());
}

TEST(RaftScenarioTest, VoteRequiresUpToDateLog) {
  Simulator s(ScenarioOptions(3, false, false));
  Elect(s, 1);
  s.Isolate(3);
  ASSERT_TRUE(s.Propose(1, "x").ok());
  ASSERT_TRUE(s.Stabilize());
  ASSERT_EQ(s.core(1)->log().committed(), 2u);
  s.Crash(1);
  s.Heal();
  // Node 3 lacks the committed "x": node 2 must refuse it.
  ASSERT_TRUE(s.core(3)->Campaign().ok());
  ASSERT_TRUE(s.Stabilize());
  EXPECT_NE(s.core(3)->role(), Role::kLeader);
  EXPECT_EQ(s.core(2)->vote(), 0u);
  Elect(s, 2);
  Settle(s, 3);
  EXPECT_EQ(s.core(3)->log().committed(), s.core(2)->log().committed());
}

TEST(RaftScenarioTest, PreVoteDoesNotDisruptStableLeader) {
  Simulator s(ScenarioOptions(3, true, true));
  Settle(s, 3 * kElection);
  const NodeId leader = s.Leader();
  ASSERT_NE(leader, 0u);
  const uint64_t term = s.core(leader)->term();
  const NodeId loner = leader == 3 ? 2 : 3;
  s.Isolate(loner);
  Settle(s, 10 * kElection);
  // Its pre-votes fail, so it never bumps its term...
  EXPECT_EQ(s.core(loner)->term(), term);
  s.Heal();
  Settle(s, 3 * kElection);
  // ...and rejoining does not depose the leader.
  EXPECT_EQ(s.Leader(), leader);
  EXPECT_EQ(s.core(leader)->term(), term);
}

TEST(RaftScenarioTest, WithoutPreVoteRejoiningNodeDisruptsLeader) {
  // The contrast to the test above: this is what pre-vote prevents.
  Simulator s(ScenarioOptions(3, false, false));
  Elect(s, 1);
  s.Isolate(3);
  Settle(s, 5 * kElection);
  const uint64_t term = s.core(1)->term();
  EXPECT_GT(s.core(3)->term(), term);
  s.Heal();
  Settle(s, 3 * kElection);
  EXPECT_GT(s.core(1)->term(), term);
}

TEST(RaftScenarioTest, CheckQuorumStepsDownPartitionedLeader) {
  Simulator s(ScenarioOptions(5, true, true));
  Settle(s, 3 * kElection);
  const NodeId leader = s.Leader();
  ASSERT_NE(leader, 0u);
  s.Isolate(leader);
  Settle(s, 2 * kElection);
  EXPECT_EQ(s.core(leader)->role(), Role::kFollower);
  EXPECT_NE(s.Leader(), 0u);
  EXPECT_NE(s.Leader(), leader);
}

TEST(RaftScenarioTest, ReadIndexConfirmsLeadershipWithHeartbeatRound) {
  Simulator s(ScenarioOptions(3, true, false));
  Elect(s, 1);
  ASSERT_TRUE(s.Propose(1, "x").ok());
  ASSERT_TRUE(s.Stabilize());
  const size_t before = s.reads_answered();
  ASSERT_TRUE(s.ReadIndex(1).ok());
  // The answer needs a quorum's heartbeat acknowledgements.
  s.ProcessReady(1);
  EXPECT_EQ(s.reads_answered(), before);
  ASSERT_TRUE(s.Stabilize());
  EXPECT_EQ(s.reads_answered(), before + 1);
  EXPECT_FALSE(s.core(2)->ReadIndex(99).ok());  // followers refuse
}

TEST(RaftScenarioTest, ReadIndexOnPartitionedOldLeaderDoesNotReturn) {
  Simulator s(ScenarioOptions(5, true, false));
  Elect(s, 1);
  s.Partition({{1, 2}, {3, 4, 5}});
  ASSERT_TRUE(TickUntil(
      s, [&] { return s.Leader() > 2; }, 100));
  const NodeId new_leader = s.Leader();
  ASSERT_TRUE(s.Propose(new_leader, "after").ok());
  Settle(s, 2);
  const size_t before = s.reads_answered();
  ASSERT_TRUE(s.ReadIndex(1).ok());  // the old leader still believes it leads
  Settle(s, 5 * kElection);
  EXPECT_EQ(s.reads_answered(), before);
  ASSERT_TRUE(s.ReadIndex(new_leader).ok());
  Settle(s, 1);
  EXPECT_EQ(s.reads_answered(), before + 1);
}

TEST(RaftScenarioTest, LeaseReadAnswersAtOnceAndLeaseHolderIsNotDeposed) {
  Options o = ScenarioOptions(3, true, true);
  o.node_config.read_only = ReadOnlyOption::kLeaseBased;
  Simulator s(o);
  Settle(s, 3 * kElection);
  const NodeId leader = s.Leader();
  ASSERT_NE(leader, 0u);
  const size_t before = s.reads_answered();
  ASSERT_TRUE(s.ReadIndex(leader).ok());
  s.ProcessReady(leader);  // no round trip needed
  EXPECT_EQ(s.reads_answered(), before + 1);
  // A node that cannot hear the leader campaigns; the third node still hears
  // the leader and must ignore it, or a second leader could serve writes
  // while the first answers reads from its lease.
  const NodeId cut = leader == 3 ? 2 : 3;
  s.CutLink(leader, cut);
  const uint64_t term = s.core(leader)->term();
  Settle(s, 10 * kElection);
  EXPECT_EQ(s.Leader(), leader);
  EXPECT_EQ(s.core(leader)->term(), term);
}

TEST(RaftScenarioTest, LeadershipTransferToLaggingFollower) {
  Simulator s(ScenarioOptions(3, true, true));
  Settle(s, 3 * kElection);
  const NodeId leader = s.Leader();
  ASSERT_NE(leader, 0u);
  const NodeId target = leader == 3 ? 2 : 3;
  s.Isolate(target);
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(s.Propose(leader, "x" + std::to_string(i)).ok());
  ASSERT_TRUE(s.Stabilize());
  s.Heal();
  ASSERT_TRUE(s.core(leader)->TransferLeadership(target).ok());
  EXPECT_EQ(s.core(leader)->Propose("refused").status().code(), Code::kUnavailable);
  ASSERT_TRUE(s.Stabilize());
  EXPECT_EQ(s.Leader(), target);
  EXPECT_EQ(s.core(leader)->role(), Role::kFollower);
  ASSERT_INVARIANTS(s);
}

TEST(RaftScenarioTest, LeadershipTransferToDeadNodeIsAbandoned) {
  Simulator s(ScenarioOptions(3, true, true));
  Settle(s, 3 * kElection);
  const NodeId leader = s.Leader();
  const NodeId target = leader == 3 ? 2 : 3;
  s.Crash(target);
  ASSERT_TRUE(s.core(leader)->TransferLeadership(target).ok());
  EXPECT_EQ(s.core(leader)->lead_transferee(), target);
  Settle(s, kElection);
  EXPECT_EQ(s.core(leader)->lead_transferee(), 0u);
  EXPECT_EQ(s.Leader(), leader);
  EXPECT_TRUE(s.Propose(leader, "accepted again").ok());
}

TEST(RaftScenarioTest, AddLearnerThenPromoteIt) {
  Simulator s(ScenarioOptions(3, true, true, /*spares=*/1));
  Elect(s, 1);
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(s.Propose(1, "x" + std::to_string(i)).ok());
  ASSERT_TRUE(s.core(1)->ProposeConfChange({ConfChangeType::kAddLearner, 4}).status().code() ==
              Code::kOk);
  // One change at a time.
  EXPECT_EQ(s.core(1)->ProposeConfChange({ConfChangeType::kAddVoter, 4}).status().code(),
            Code::kFailedPrecondition);
  Settle(s, 2);
  EXPECT_TRUE(s.core(4)->membership().IsLearner(4));
  EXPECT_EQ(s.state_machine(4).index, s.state_machine(1).index);
  // A learner never counts toward a quorum: with two voters down, nothing
  // commits even though the learner has everything.
  s.Crash(2);
  s.Crash(3);
  const uint64_t commit = s.core(1)->log().committed();
  ASSERT_TRUE(s.Propose(1, "needs a voter").ok());
  Settle(s, 3);
  EXPECT_EQ(s.core(1)->log().committed(), commit);
  s.Restart(2);
  s.Restart(3);
  Settle(s, 3);
  ASSERT_TRUE(s.core(1)->ProposeConfChange({ConfChangeType::kAddVoter, 4}).ok());
  Settle(s, 2);
  for (NodeId id = 1; id <= 4; ++id) EXPECT_TRUE(s.core(id)->membership().IsVoter(4));
  // Now 4 is needed: with 2 and 3 down, 1 and 4 are not a quorum of four.
  s.Crash(2);
  s.Crash(3);
  const uint64_t commit2 = s.core(1)->log().committed();
  ASSERT_TRUE(s.Propose(1, "needs three of four").ok());
  Settle(s, 3);
  EXPECT_EQ(s.core(1)->log().committed(), commit2);
  s.Restart(2);
  Settle(s, 3);
  EXPECT_GT(s.core(1)->log().committed(), commit2);
}

TEST(RaftScenarioTest, LearnerDoesNotVoteOrCampaign) {
  Simulator s(ScenarioOptions(3, false, false, /*spares=*/1));
  Elect(s, 1);
  ASSERT_TRUE(s.core(1)->ProposeConfChange({ConfChangeType::kAddLearner, 4}).ok());
  Settle(s, 2);
  s.Crash(1);
  s.Crash(2);
  Settle(s, 10 * kElection);
  // Node 3 campaigns but its single voter plus the learner is no quorum, and
  // the learner never campaigns.
  EXPECT_EQ(s.Leader(), 0u);
  EXPECT_EQ(s.core(4)->role(), Role::kFollower);
  EXPECT_EQ(s.core(4)->Campaign().code(), Code::kFailedPrecondition);
}

TEST(RaftScenarioTest, RemovingTheLeaderMakesItStepDown) {
  Simulator s(ScenarioOptions(3, true, true));
  Elect(s, 1);
  ASSERT_TRUE(s.Stabilize());
  Result<uint64_t> index = s.core(1)->ProposeConfChange({ConfChangeType::kRemoveNode, 1});
  ASSERT_TRUE(index.ok()) << index.status().ToString();
  ASSERT_TRUE(s.Stabilize());
  // It led until its removal committed, then stepped down.
  EXPECT_GE(s.core(1)->log().committed(), *index);
  EXPECT_EQ(s.core(1)->role(), Role::kFollower);
  ASSERT_TRUE(TickUntil(
      s, [&] { return s.Leader() == 2 || s.Leader() == 3; }, 5 * kElection));
  const NodeId leader = s.Leader();
  EXPECT_FALSE(s.core(leader)->membership().Contains(1));
  ASSERT_TRUE(s.Propose(leader, "two voters").ok());
  Settle(s, 3);
  EXPECT_EQ(s.core(2)->log().committed(), s.core(3)->log().committed());
  // The removed node is not promotable and never campaigns.
  Settle(s, 5 * kElection);
  EXPECT_EQ(s.core(1)->role(), Role::kFollower);
  EXPECT_EQ(s.Leader(), leader);
}

TEST(RaftScenarioTest, RemovingAFollowerShrinksTheQuorum) {
  Simulator s(ScenarioOptions(3, true, true));
  Elect(s, 1);
  ASSERT_TRUE(s.core(1)->ProposeConfChange({ConfChangeType::kRemoveNode, 3}).ok());
  ASSERT_TRUE(s.Stabilize());
  s.Crash(3);
  ASSERT_TRUE(s.Propose(1, "quorum of two").ok());
  ASSERT_TRUE(s.Stabilize());
  EXPECT_EQ(s.core(2)->log().committed(), s.core(1)->log().LastIndex());
  EXPECT_EQ(s.core(1)->ProposeConfChange({ConfChangeType::kRemoveNode, 3}).status().code(),
            Code::kInvalidArgument);
}

TEST(RaftScenarioTest, LaggingFollowerCatchesUpFromSnapshot) {
  Options o = ScenarioOptions(3, true, true);
  o.node_config.max_size_per_msg = 16;
  Simulator s(o);
  Elect(s, 1);
  s.Crash(3);
  for (int i = 0; i < 40; ++i) {
    ASSERT_TRUE(s.Propose(1, "entry-" + std::to_string(i)).ok());
    ASSERT_TRUE(s.Stabilize());
  }
  ASSERT_TRUE(s.Compact(1).ok());
  ASSERT_TRUE(s.Compact(2).ok());
  EXPECT_GT(s.core(1)->log().FirstIndex(), 2u);
  int snapshots = 0;
  s.SetDeliveryFilter([&](Message& m) {
    if (m.type == MessageType::kSnapshot) ++snapshots;
    return true;
  });
  s.Restart(3);
  ASSERT_TRUE(s.Propose(1, "after").ok());
  Settle(s, 3);
  EXPECT_EQ(snapshots, 1);
  EXPECT_EQ(s.disk(3).snapshot.index, s.core(1)->log().snapshot().index);
  EXPECT_EQ(s.state_machine(3).index, s.state_machine(1).index);
  EXPECT_EQ(s.state_machine(3).hash, s.state_machine(1).hash);
  ASSERT_INVARIANTS(s);
  // And it survives a restart from the installed snapshot.
  s.Crash(3);
  s.Restart(3);
  Settle(s, 3);
  EXPECT_EQ(s.state_machine(3).hash, s.state_machine(1).hash);
}

}  // namespace
}  // namespace dfs::raft::sim
