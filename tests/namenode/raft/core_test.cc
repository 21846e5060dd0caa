// Unit tests of the pieces of the Raft core: membership changes and their
// encoding, the in-memory log, flow control, and RaftCore's direct contract
// (validation, Ready, restart, batching, pipelining).
#include "namenode/raft/core.h"

#include <gtest/gtest.h>

#include <string>

#include "namenode/raft/log.h"
#include "namenode/raft/membership.h"
#include "namenode/raft/progress.h"

namespace dfs::raft {
namespace {

Membership Voters(std::initializer_list<NodeId> ids) {
  Membership m;
  m.voters = ids;
  return m;
}

std::vector<Entry> Entries(uint64_t first, const std::vector<uint64_t>& terms) {
  std::vector<Entry> out;
  for (size_t k = 0; k < terms.size(); ++k) {
    out.push_back(Entry{terms[k], first + k, EntryType::kNormal, "e" + std::to_string(first + k)});
  }
  return out;
}

TEST(MembershipTest, SingleServerChanges) {
  Membership m = Voters({1, 2, 3});
  Result<Membership> learner = ApplyConfChange(m, {ConfChangeType::kAddLearner, 4});
  ASSERT_TRUE(learner.ok());
  EXPECT_TRUE(learner->IsLearner(4));
  Result<Membership> promoted = ApplyConfChange(*learner, {ConfChangeType::kAddVoter, 4});
  ASSERT_TRUE(promoted.ok());
  EXPECT_TRUE(promoted->IsVoter(4));
  EXPECT_FALSE(promoted->IsLearner(4));
  EXPECT_EQ(promoted->Quorum(), 3u);
  EXPECT_FALSE(ApplyConfChange(m, {ConfChangeType::kAddVoter, 2}).ok());
  EXPECT_FALSE(ApplyConfChange(m, {ConfChangeType::kAddLearner, 2}).ok());  // no demotion
  EXPECT_FALSE(ApplyConfChange(m, {ConfChangeType::kRemoveNode, 9}).ok());
  EXPECT_FALSE(ApplyConfChange(Voters({1}), {ConfChangeType::kRemoveNode, 1}).ok());
  EXPECT_FALSE(ApplyConfChange(m, {ConfChangeType::kAddVoter, 0}).ok());
}

TEST(MembershipTest, AdditionsRecordAddressesAndRemovalsForgetThem) {
  Membership m = Voters({1});
  auto added = ApplyConfChange(m, {ConfChangeType::kAddLearner, 2, "h2:1"});
  ASSERT_TRUE(added.ok());
  EXPECT_EQ(added->addresses.at(2), "h2:1");
  auto promoted = ApplyConfChange(*added, {ConfChangeType::kAddVoter, 2});
  ASSERT_TRUE(promoted.ok());
  EXPECT_EQ(promoted->addresses.at(2), "h2:1");  // kept when the change names none
  auto removed = ApplyConfChange(*promoted, {ConfChangeType::kRemoveNode, 2});
  ASSERT_TRUE(removed.ok());
  EXPECT_EQ(removed->addresses.count(2), 0u);
}

TEST(MembershipTest, ConfChangeEncodingRoundTripsAndRejectsGarbage) {
  ConfChangeRecord r{{ConfChangeType::kAddLearner, 7, "10.0.0.7:9871"}, Voters({1, 2, 3})};
  r.result.learners = {7};
  r.result.addresses = {{1, "10.0.0.1:9871"}, {7, "10.0.0.7:9871"}};
  Result<ConfChangeRecord> back = DecodeConfChange(EncodeConfChange(r));
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, r);
  std::string data = EncodeConfChange(r);
  EXPECT_EQ(DecodeConfChange(data.substr(0, data.size() - 1)).status().code(), Code::kDataLoss);
  EXPECT_EQ(DecodeConfChange(data + "x").status().code(), Code::kDataLoss);
  data[0] = 9;
  EXPECT_EQ(DecodeConfChange(data).status().code(), Code::kDataLoss);
}

TEST(RaftLogTest, MaybeAppendTruncatesOnlyTheConflictingSuffix) {
  RaftLog log(SnapshotMetadata{}, Entries(1, {1, 1, 2, 2}), 2);
  EXPECT_FALSE(log.MaybeAppend(4, 3, 4, Entries(5, {3})).has_value());  // prev term differs
  EXPECT_FALSE(log.MaybeAppend(6, 2, 6, {}).has_value());               // gap
  std::optional<uint64_t> last = log.MaybeAppend(2, 1, 10, Entries(3, {2, 3, 3}));
  ASSERT_TRUE(last.has_value());
  EXPECT_EQ(*last, 5u);
  EXPECT_EQ(log.Term(3), 2u);
  EXPECT_EQ(log.Term(4), 3u);
  EXPECT_EQ(log.committed(), 5u);  // min(leader commit, last new index)
  EXPECT_EQ(log.stable(), 3u);     // the persisted index 4 was replaced
  EXPECT_EQ(log.UnstableEntries().size(), 2u);
}

TEST(RaftLogTest, StaleAppendDoesNotTruncateNewerEntries) {
  RaftLog log(SnapshotMetadata{}, Entries(1, {1, 1, 1}), 0);
  ASSERT_TRUE(log.MaybeAppend(0, 0, 0, Entries(1, {1})).has_value());
  EXPECT_EQ(log.LastIndex(), 3u);
}

TEST(RaftLogTest, SliceHonoursByteCapButReturnsAtLeastOneEntry) {
  RaftLog log(SnapshotMetadata{}, Entries(1, {1, 1, 1, 1}), 0);  // 2 bytes each
  EXPECT_EQ(log.Slice(1, 5, 5).size(), 2u);
  EXPECT_EQ(log.Slice(1, 5, 0).size(), 1u);
  EXPECT_EQ(log.Slice(2, 5, UINT64_MAX).size(), 3u);
}

TEST(RaftLogTest, CompactKeepsTermAndMembershipOfTheSnapshotPoint) {
  std::vector<Entry> entries = Entries(1, {1, 1, 2, 2});
  entries[1].type = EntryType::kConfChange;
  entries[1].data = EncodeConfChange({{ConfChangeType::kAddVoter, 4}, Voters({1, 2, 3, 4})});
  RaftLog log(SnapshotMetadata{0, 0, Voters({1, 2, 3})}, entries, 4);
  EXPECT_EQ(log.membership(), Voters({1, 2, 3, 4}));
  EXPECT_EQ(log.MembershipAt(1), Voters({1, 2, 3}));
  log.AppliedTo(3);
  SnapshotMetadata s = log.Compact(3);
  EXPECT_EQ(s.index, 3u);
  EXPECT_EQ(s.term, 2u);
  EXPECT_EQ(s.membership, Voters({1, 2, 3, 4}));
  EXPECT_EQ(log.FirstIndex(), 4u);
  EXPECT_FALSE(log.Term(2).has_value());
  EXPECT_EQ(log.Term(3), 2u);
}

TEST(RaftLogTest, TruncatingAConfChangeRevertsMembership) {
  std::vector<Entry> entries = Entries(1, {1, 1});
  entries[1].type = EntryType::kConfChange;
  entries[1].data = EncodeConfChange({{ConfChangeType::kRemoveNode, 3}, Voters({1, 2})});
  RaftLog log(SnapshotMetadata{0, 0, Voters({1, 2, 3})}, entries, 1);
  EXPECT_EQ(log.membership(), Voters({1, 2}));
  ASSERT_TRUE(log.MaybeAppend(1, 1, 1, Entries(2, {2})).has_value());
  EXPECT_EQ(log.membership(), Voters({1, 2, 3}));
}

TEST(ProgressTest, ReplicateStateLimitsInflightAndIgnoresStaleRejections) {
  Progress pr(1, 2);
  pr.MaybeUpdate(5);
  pr.BecomeReplicate();
  EXPECT_EQ(pr.next, 6u);
  pr.SentEntries(7, true);
  EXPECT_FALSE(pr.IsPaused());
  pr.SentEntries(9, true);
  EXPECT_TRUE(pr.IsPaused());
  EXPECT_EQ(pr.next, 10u);
  EXPECT_FALSE(pr.MaybeDecrTo(5, 3));  // rejection of something already matched
  EXPECT_TRUE(pr.MaybeUpdate(7));
  pr.inflights.FreeLE(7);
  EXPECT_FALSE(pr.IsPaused());
  EXPECT_TRUE(pr.MaybeDecrTo(8, 3));
  EXPECT_EQ(pr.next, 8u);  // never below match + 1
}

TEST(ProgressTest, ProbeSendsOneAtATime) {
  Progress pr(5, 4);
  pr.SentEntries(5, true);
  EXPECT_TRUE(pr.IsPaused());
  EXPECT_FALSE(pr.MaybeDecrTo(2, 1));  // answer to an older probe
  EXPECT_TRUE(pr.MaybeDecrTo(4, 2));
  EXPECT_EQ(pr.next, 2u);
  EXPECT_FALSE(pr.IsPaused());
}

Config TestConfig(NodeId id) {
  Config c;
  c.id = id;
  c.check_quorum = false;
  c.pre_vote = false;
  return c;
}

PersistentState Fresh(std::initializer_list<NodeId> voters) {
  PersistentState s;
  s.snapshot.membership = Voters(voters);
  return s;
}

TEST(RaftCoreTest, CreateRejectsBadConfigAndCorruptState) {
  Config c = TestConfig(0);
  EXPECT_EQ(RaftCore::Create(c, Fresh({1})).status().code(), Code::kInvalidArgument);
  c = TestConfig(1);
  c.election_tick = 1;
  EXPECT_EQ(RaftCore::Create(c, Fresh({1})).status().code(), Code::kInvalidArgument);
  c = TestConfig(1);
  c.read_only = ReadOnlyOption::kLeaseBased;
  EXPECT_EQ(RaftCore::Create(c, Fresh({1})).status().code(), Code::kInvalidArgument);
  PersistentState gap = Fresh({1});
  gap.entries = Entries(2, {1});
  EXPECT_EQ(RaftCore::Create(TestConfig(1), gap).status().code(), Code::kDataLoss);
  PersistentState commit = Fresh({1});
  commit.hard_state.commit = 3;
  EXPECT_EQ(RaftCore::Create(TestConfig(1), commit).status().code(), Code::kDataLoss);
}

TEST(RaftCoreTest, StepRejectsMalformedMessagesWithoutChange) {
  auto core = std::move(RaftCore::Create(TestConfig(1), Fresh({1, 2, 3}))).value();
  Message m;
  m.type = MessageType::kAppend;
  m.from = 2;
  m.to = 3;
  m.term = 5;
  EXPECT_EQ(core->Step(m).code(), Code::kInvalidArgument);
  m.to = 1;
  m.entries = Entries(7, {5});  // does not follow m.index = 0
  EXPECT_EQ(core->Step(m).code(), Code::kInvalidArgument);
  EXPECT_EQ(core->term(), 0u);
  EXPECT_FALSE(core->HasReady());
}

TEST(RaftCoreTest, SingleVoterCommitsOnItsOwnAndPersistsBeforeApplying) {
  auto core = std::move(RaftCore::Create(TestConfig(1), Fresh({1}))).value();
  ASSERT_TRUE(core->Campaign().ok());
  EXPECT_EQ(core->role(), Role::kLeader);
  Result<uint64_t> index = core->Propose("hello");
  ASSERT_TRUE(index.ok());
  EXPECT_EQ(*index, 2u);
  Ready rd = core->GetReady();
  ASSERT_TRUE(rd.hard_state.has_value());
  EXPECT_EQ(rd.hard_state->term, 1u);
  EXPECT_EQ(rd.hard_state->vote, 1u);
  EXPECT_EQ(rd.hard_state->commit, 2u);
  ASSERT_EQ(rd.entries.size(), 2u);
  ASSERT_EQ(rd.committed_entries.size(), 2u);
  EXPECT_EQ(rd.committed_entries[1].data, "hello");
  core->Advance(rd);
  EXPECT_FALSE(core->HasReady());
  EXPECT_EQ(core->log().applied(), 2u);
}

TEST(RaftCoreTest, RestartKeepsTermVoteAndLog) {
  PersistentState s = Fresh({1, 2, 3});
  s.hard_state = HardState{4, 2, 1};
  s.entries = Entries(1, {3, 4});
  auto core = std::move(RaftCore::Create(TestConfig(1), s)).value();
  EXPECT_EQ(core->term(), 4u);
  EXPECT_EQ(core->vote(), 2u);
  EXPECT_EQ(core->role(), Role::kFollower);
  // Still bound by its vote in term 4.
  Message vote;
  vote.type = MessageType::kVote;
  vote.from = 3;
  vote.to = 1;
  vote.term = 4;
  vote.index = 9;
  vote.log_term = 4;
  ASSERT_TRUE(core->Step(vote).ok());
  Ready rd = core->GetReady();
  ASSERT_EQ(rd.messages.size(), 1u);
  EXPECT_TRUE(rd.messages[0].reject);
  // The committed entry is handed out again for the fresh state machine.
  ASSERT_EQ(rd.committed_entries.size(), 1u);
  EXPECT_EQ(rd.committed_entries[0].index, 1u);
}

TEST(RaftCoreTest, ProposalsBetweenReadiesGoOutInOneBatchedAppend) {
  auto core = std::move(RaftCore::Create(TestConfig(1), Fresh({1, 2}))).value();
  ASSERT_TRUE(core->Campaign().ok());
  Message resp;
  resp.type = MessageType::kVoteResp;
  resp.from = 2;
  resp.to = 1;
  resp.term = 1;
  ASSERT_TRUE(core->Step(resp).ok());
  ASSERT_EQ(core->role(), Role::kLeader);
  core->Advance(core->GetReady());
  // Follower 2 acknowledges the no-op, which moves it to pipelined replication.
  Message ack;
  ack.type = MessageType::kAppendResp;
  ack.from = 2;
  ack.to = 1;
  ack.term = 1;
  ack.index = 1;
  ASSERT_TRUE(core->Step(ack).ok());
  core->Advance(core->GetReady());
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(core->Propose("p" + std::to_string(i)).ok());
  Ready rd = core->GetReady();
  int appends = 0;
  for (const Message& m : rd.messages) {
    if (m.type != MessageType::kAppend) continue;
    ++appends;
    EXPECT_EQ(m.entries.size(), 10u);
  }
  EXPECT_EQ(appends, 1);
}

TEST(RaftCoreTest, PipelineStopsAtInflightLimitAndMessagesRespectSizeCap) {
  Config c = TestConfig(1);
  c.max_inflight_msgs = 3;
  c.max_size_per_msg = 4;  // two 2-byte entries per append
  auto core = std::move(RaftCore::Create(c, Fresh({1, 2}))).value();
  ASSERT_TRUE(core->Campaign().ok());
  Message resp;
  resp.type = MessageType::kVoteResp;
  resp.from = 2;
  resp.to = 1;
  resp.term = 1;
  ASSERT_TRUE(core->Step(resp).ok());
  core->Advance(core->GetReady());
  Message ack;
  ack.type = MessageType::kAppendResp;
  ack.from = 2;
  ack.to = 1;
  ack.term = 1;
  ack.index = 1;
  ASSERT_TRUE(core->Step(ack).ok());
  core->Advance(core->GetReady());
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(core->Propose("pp").ok());
  Ready rd = core->GetReady();
  std::vector<const Message*> appends;
  for (const Message& m : rd.messages) {
    if (m.type == MessageType::kAppend) appends.push_back(&m);
  }
  ASSERT_EQ(appends.size(), 3u);
  for (const Message* m : appends) EXPECT_EQ(m->entries.size(), 2u);
  EXPECT_EQ(appends[1]->index, appends[0]->entries.back().index);  // optimistic next
  core->Advance(rd);
  // Acknowledging the first frees one slot: exactly one more append.
  ack.index = appends[0]->entries.back().index;
  ASSERT_TRUE(core->Step(ack).ok());
  rd = core->GetReady();
  int more = 0;
  for (const Message& m : rd.messages) more += m.type == MessageType::kAppend;
  EXPECT_EQ(more, 1);
}

TEST(RaftCoreTest, ConfChangeWaitsForTheTermsFirstCommit) {
  auto core = std::move(RaftCore::Create(TestConfig(1), Fresh({1, 2, 3}))).value();
  ASSERT_TRUE(core->Campaign().ok());
  Message resp;
  resp.type = MessageType::kVoteResp;
  resp.from = 2;
  resp.to = 1;
  resp.term = 1;
  ASSERT_TRUE(core->Step(resp).ok());
  ASSERT_EQ(core->role(), Role::kLeader);
  EXPECT_EQ(core->ProposeConfChange({ConfChangeType::kAddLearner, 4}).status().code(),
            Code::kFailedPrecondition);
  EXPECT_EQ(core->Propose("x").status().code(), Code::kOk);
}

}  // namespace
}  // namespace dfs::raft
