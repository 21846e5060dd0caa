// The scenario of figure 8 of the Raft paper, built step by step: a leader
// must not commit an entry of an earlier term by counting its replicas, since
// a later leader may still overwrite it; it commits such an entry only
// together with an entry of its own term.
#include <gtest/gtest.h>

#include "tests/namenode/raft/simulator.h"

namespace dfs::raft::sim {
namespace {

Options Figure8Options() {
  Options o;
  o.voters = 5;
  // The paper's algorithm: plain votes, no leases, so the steps below are
  // the only ones that happen.
  o.node_config.pre_vote = false;
  o.node_config.check_quorum = false;
  return o;
}

bool IsTo(const Message& m, NodeId to) { return m.to == to; }

// Campaigns until `id` wins, delivering everything (through the filter).
void Elect(Simulator& s, NodeId id) {
  for (int attempt = 0; attempt < 5 && s.core(id)->role() != Role::kLeader; ++attempt) {
    ASSERT_TRUE(s.core(id)->Campaign().ok());
    ASSERT_TRUE(s.Stabilize());
  }
  ASSERT_EQ(s.core(id)->role(), Role::kLeader);
  ASSERT_TRUE(s.CheckInvariants().ok()) << s.CheckInvariants().ToString();
}

// Figure 8 (a)-(c): S1 leads and replicates "a" at index 2 to S2 only; S5
// wins the next term with S3 and S4 and writes its own index 2, which no one
// else receives; S1 then wins a later term.
class Figure8Test : public ::testing::Test {
 protected:
  Figure8Test() : s_(Figure8Options()) {}

  void RunUpToS1Returning() {
    Elect(s_, 1);
    ASSERT_EQ(s_.core(1)->log().committed(), 1u);  // the no-op of S1's term
    s_.Partition({{1, 2}, {3, 4, 5}});
    Result<uint64_t> a = s_.Propose(1, "a");
    ASSERT_TRUE(a.ok());
    ASSERT_EQ(*a, 2u);
    ASSERT_TRUE(s_.Stabilize());
    ASSERT_EQ(s_.core(2)->log().LastIndex(), 2u);
    ASSERT_EQ(s_.core(1)->log().committed(), 1u);

    // (b) S1 crashes; S5 is elected by S3, S4 and itself and appends its
    // no-op at index 2, but its appends are lost.
    s_.Crash(1);
    s_.Partition({{2}, {3, 4, 5}});
    s_.SetDeliveryFilter([](Message& m) { return m.type != MessageType::kAppend; });
    Elect(s_, 5);
    s_.SetDeliveryFilter(nullptr);
    s_term_b_ = s_.core(5)->term();
    ASSERT_EQ(s_.core(5)->log().LastIndex(), 2u);
    ASSERT_EQ(*s_.core(5)->log().Term(2), s_term_b_);
    ASSERT_EQ(s_.core(3)->log().LastIndex(), 1u);

    // (c) S5 crashes; S1 restarts and wins a later term with S2, S3, S4.
    s_.Crash(5);
    s_.Heal();
  }

  Simulator s_;
  uint64_t s_term_b_ = 0;
};

TEST_F(Figure8Test, LeaderDoesNotCommitEarlierTermEntryByCountingReplicas) {
  RunUpToS1Returning();
  s_.Restart(1);
  // S1 sends index 2 (its term-1 "a") to S3 but not its own term's no-op at
  // index 3, as a size-capped batch could; S4 gets nothing.
  s_.SetDeliveryFilter([](Message& m) {
    if (m.from == 1 && IsTo(m, 4) && m.type == MessageType::kAppend) return false;
    if (m.from == 1 && IsTo(m, 3) && m.type == MessageType::kAppend) {
      std::erase_if(m.entries, [](const Entry& e) { return e.index >= 3; });
    }
    return true;
  });
  Elect(s_, 1);
  ASSERT_TRUE(s_.Stabilize());
  for (NodeId id : {1, 2, 3}) {
    ASSERT_EQ(s_.core(id)->log().Term(2), 1u) << "node " << id;
  }
  // "a" is on a majority (S1, S2, S3) but is not from S1's term: it must not
  // count as committed.
  EXPECT_EQ(s_.core(1)->log().committed(), 1u);
  EXPECT_EQ(s_.applied().count(2), 0u);

  // (d) S1 crashes; S5 is elected by S3, S4 and itself (its last term beats
  // theirs) and overwrites index 2 everywhere.
  s_.SetDeliveryFilter(nullptr);
  s_.Crash(1);
  s_.Restart(5);
  Elect(s_, 5);
  s_.Restart(1);
  for (int t = 0; t < 50; ++t) {
    s_.Tick();
    ASSERT_TRUE(s_.Stabilize());
    ASSERT_TRUE(s_.CheckInvariants().ok()) << s_.CheckInvariants().ToString();
  }
  for (NodeId id : s_.node_ids()) {
    EXPECT_EQ(s_.core(id)->log().Term(2), s_term_b_) << "node " << id;
    EXPECT_GE(s_.state_machine(id).index, 3u) << "node " << id;
  }
  ASSERT_EQ(s_.applied().count(2), 1u);
  EXPECT_NE(s_.applied().at(2).second, "a");
}

TEST_F(Figure8Test, EarlierTermEntryCommitsWithCurrentTermEntry) {
  RunUpToS1Returning();
  s_.Restart(1);
  s_.SetDeliveryFilter(
      [](Message& m) { return !(m.from == 1 && IsTo(m, 4) && m.type == MessageType::kAppend); });
  Elect(s_, 1);
  ASSERT_TRUE(s_.Stabilize());
  // (e) S1's no-op at index 3 reached S1, S2, S3: it commits, and "a"
  // before it.
  EXPECT_EQ(s_.core(1)->log().committed(), 3u);
  ASSERT_EQ(s_.applied().count(2), 1u);
  EXPECT_EQ(s_.applied().at(2).second, "a");

  // S5 can no longer win: S2 and S3 hold a later last term than it does.
  s_.SetDeliveryFilter(nullptr);
  s_.Crash(1);
  s_.Restart(5);
  for (int attempt = 0; attempt < 5; ++attempt) {
    ASSERT_TRUE(s_.core(5)->Campaign().ok());
    ASSERT_TRUE(s_.Stabilize());
    EXPECT_NE(s_.core(5)->role(), Role::kLeader);
    ASSERT_TRUE(s_.CheckInvariants().ok()) << s_.CheckInvariants().ToString();
  }
}

}  // namespace
}  // namespace dfs::raft::sim
