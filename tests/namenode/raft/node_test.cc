// Raft nodes with real disk logs and real gRPC transports on loopback, driving a small
// state machine: elections, replication, failover, partitions, restarts from disk,
// catch-up from a streamed snapshot, and membership changes.
#include "namenode/raft/node.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <thread>

#include "common/net.h"
#include "tests/common/free_port.h"
#include "tests/common/status_assert.h"
#include "tests/common/temp_dir.h"

namespace dfs::raft {
namespace {

using namespace std::chrono_literals;

// Keeps the applied entries in order (indexes skip no-ops and membership changes,
// which do not reach Apply); its snapshot is a file of them, one per line.
class OrderedMachine : public StateMachine {
 public:
  void Apply(uint64_t index, const std::string& entry) override {
    std::lock_guard<std::mutex> l(mu_);
    EXPECT_GT(index, last_index_) << "applied out of order";
    last_index_ = index;
    list_.push_back(entry);
  }
  Result<uint64_t> SaveSnapshot(const std::string& path) override {
    std::lock_guard<std::mutex> l(mu_);
    std::ofstream out(path);
    out << last_index_ << "\n";
    for (const auto& e : list_) out << e << "\n";
    out.close();
    if (!out) return Internal("cannot write " + path);
    return last_index_;
  }
  Result<uint64_t> RestoreSnapshot(const std::string& path) override {
    std::lock_guard<std::mutex> l(mu_);
    std::ifstream in(path);
    if (!in) return NotFound(path);
    list_.clear();
    in >> last_index_;
    std::string line;
    std::getline(in, line);
    while (std::getline(in, line)) list_.push_back(line);
    return last_index_;
  }
  std::vector<std::string> list() {
    std::lock_guard<std::mutex> l(mu_);
    return list_;
  }

 private:
  std::mutex mu_;
  uint64_t last_index_ = 0;
  std::vector<std::string> list_;
};

class Group {
 public:
  Group(const std::string& base, int n, uint64_t snapshot_every = 100'000)
      : base_(base), snapshot_every_(snapshot_every) {
    for (int i = 1; i <= n; ++i) addresses_[i] = "127.0.0.1:" + std::to_string(FreePort());
    for (int i = 1; i <= n; ++i) EXPECT_OK(Node::Format(Dir(i), addresses_));
    for (int i = 1; i <= n; ++i) StartNode(i);
  }
  ~Group() {
    for (auto& [id, n] : nodes_) n->Stop();
  }

  std::string Dir(NodeId id) const { return base_ + "/nn" + std::to_string(id); }

  void StartNode(NodeId id) {
    if (!addresses_.count(id)) addresses_[id] = "127.0.0.1:" + std::to_string(FreePort());
    NodeOptions o;
    o.id = id;
    o.dir = Dir(id);
    o.address = addresses_[id];
    o.tick_ms = 20;
    o.election_ticks = 10;
    o.snapshot_every = snapshot_every_;
    machines_[id] = std::make_unique<OrderedMachine>();
    nodes_[id] = std::make_unique<Node>(o);
    leader_events_[id] = 0;
    nodes_[id]->SetLeadershipListener([this, id](bool leader, uint64_t) {
      if (leader) ++leader_events_[id];
    });
    ASSERT_OK(nodes_[id]->Start(machines_[id].get()));
  }
  void StopNode(NodeId id) {
    nodes_[id]->Stop();
    nodes_.erase(id);
  }

  // The id of the one leader among running, uncut nodes, waiting up to 10 s.
  NodeId WaitLeader(NodeId not_this = 0) {
    for (int i = 0; i < 500; ++i) {
      for (auto& [id, n] : nodes_) {
        if (id != not_this && n->IsLeader()) return id;
      }
      std::this_thread::sleep_for(20ms);
    }
    ADD_FAILURE() << "no leader elected";
    return 0;
  }

  Result<uint64_t> Put(const std::string& v, NodeId not_this = 0) {
    for (int attempt = 0; attempt < 50; ++attempt) {
      NodeId l = WaitLeader(not_this);
      if (l == 0) break;
      auto r = nodes_[l]->Propose(v).get();
      if (r.ok()) return r;
      std::this_thread::sleep_for(50ms);
    }
    return Unavailable("no leader took " + v);
  }

  // Waits until `id` has applied `count` entries.
  bool WaitApplied(NodeId id, size_t count) {
    for (int i = 0; i < 500; ++i) {
      if (machines_[id]->list().size() >= count) return true;
      std::this_thread::sleep_for(20ms);
    }
    return false;
  }

  std::map<NodeId, std::string> addresses_;
  std::map<NodeId, std::unique_ptr<Node>> nodes_;
  std::map<NodeId, std::unique_ptr<OrderedMachine>> machines_;
  std::map<NodeId, std::atomic<int>> leader_events_;

 private:
  std::string base_;
  uint64_t snapshot_every_;
};

std::vector<std::string> Values(int from, int to) {
  std::vector<std::string> v;
  for (int i = from; i < to; ++i) v.push_back("v" + std::to_string(i));
  return v;
}

TEST(RaftNodeTest, FormatRefusesAFormattedDirectoryAndBadMembers) {
  TempDir tmp;
  EXPECT_EQ(Node::Format(tmp.path() + "/a", {}).code(), Code::kInvalidArgument);
  EXPECT_EQ(Node::Format(tmp.path() + "/a", {{0, "127.0.0.1:1"}}).code(), Code::kInvalidArgument);
  ASSERT_OK(Node::Format(tmp.path() + "/a", {{1, "127.0.0.1:1"}}));
  EXPECT_EQ(Node::Format(tmp.path() + "/a", {{1, "127.0.0.1:1"}}).code(),
            Code::kFailedPrecondition);
}

TEST(RaftNodeTest, ReplicatesToEveryNodeInOrder) {
  TempDir tmp;
  Group g(tmp.path(), 3);
  NodeId leader = g.WaitLeader();
  ASSERT_NE(leader, 0u);
  // Many proposals in flight at once: they batch into few appends and syncs.
  std::vector<std::future<Result<uint64_t>>> futures;
  for (const auto& v : Values(0, 500)) futures.push_back(g.nodes_[leader]->Propose(v));
  uint64_t last = 0;
  for (auto& f : futures) {
    auto r = f.get();
    ASSERT_OK(r);
    EXPECT_GT(*r, last);
    last = *r;
  }
  for (NodeId id : {1, 2, 3}) {
    ASSERT_TRUE(g.WaitApplied(id, 500)) << "node " << id;
    EXPECT_EQ(g.machines_[id]->list(), Values(0, 500)) << "node " << id;
  }
  EXPECT_EQ(g.leader_events_[leader], 1);
  // Followers refuse proposals and reads; the leader serves reads.
  NodeId follower = leader == 1 ? 2 : 1;
  EXPECT_EQ(g.nodes_[follower]->Propose("x").get().status().code(), Code::kUnavailable);
  std::promise<Status> on_follower, on_leader;
  g.nodes_[follower]->ReadBarrier([&](Status s) { on_follower.set_value(s); });
  g.nodes_[leader]->ReadBarrier([&](Status s) { on_leader.set_value(s); });
  EXPECT_EQ(on_follower.get_future().get().code(), Code::kUnavailable);
  EXPECT_OK(on_leader.get_future().get());
  auto st = g.nodes_[leader]->status();
  EXPECT_EQ(st.role, Role::kLeader);
  EXPECT_EQ(st.members.size(), 3u);
  // A follower has applied what it acknowledged, but the leader may not have heard
  // that acknowledgement yet.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  auto behind = [&] {
    st = g.nodes_[leader]->status();
    return std::any_of(st.members.begin(), st.members.end(),
                       [&](const auto& m) { return m.match < last; });
  };
  while (behind() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  for (const auto& m : st.members) EXPECT_GE(m.match, last) << "node " << m.id;
}

TEST(RaftNodeTest, ANewLeaderTakesOverWhenTheLeaderStopsAndTheOldOneCatchesUp) {
  TempDir tmp;
  Group g(tmp.path(), 3);
  for (const auto& v : Values(0, 50)) ASSERT_OK(g.Put(v));
  NodeId old = g.WaitLeader();
  g.StopNode(old);
  for (const auto& v : Values(50, 100)) ASSERT_OK(g.Put(v, old));
  g.StartNode(old);
  ASSERT_TRUE(g.WaitApplied(old, 100));
  EXPECT_EQ(g.machines_[old]->list(), Values(0, 100));
}

TEST(RaftNodeTest, ACutOffLeaderCannotCommitAndFollowsAfterTheCutHeals) {
  TempDir tmp;
  Group g(tmp.path(), 3);
  for (const auto& v : Values(0, 10)) ASSERT_OK(g.Put(v));
  NodeId old = g.WaitLeader();
  g.nodes_[old]->SetCut(true);
  auto lost = g.nodes_[old]->Propose("lost");  // cannot reach a quorum
  NodeId fresh = g.WaitLeader(old);
  ASSERT_NE(fresh, 0u);
  for (const auto& v : Values(10, 20)) ASSERT_OK(g.Put(v, old));
  // The old leader steps down (check-quorum) and its proposal fails; it never commits.
  EXPECT_EQ(lost.wait_for(5s), std::future_status::ready);
  EXPECT_EQ(lost.get().status().code(), Code::kUnavailable);
  g.nodes_[old]->SetCut(false);
  ASSERT_TRUE(g.WaitApplied(old, 20));
  std::this_thread::sleep_for(200ms);
  EXPECT_EQ(g.machines_[old]->list(), Values(0, 20));
  EXPECT_FALSE(g.nodes_[old]->IsLeader());
}

TEST(RaftNodeTest, TheWholeGroupRestartsFromDiskWithNothingLost) {
  TempDir tmp;
  std::map<NodeId, std::string> addresses;
  {
    Group g(tmp.path(), 3, /*snapshot_every=*/40);
    for (const auto& v : Values(0, 100)) ASSERT_OK(g.Put(v));
    addresses = g.addresses_;
  }
  // Restart every node from its directory (snapshot + log after it).
  Group g2(tmp.path() + "/other", 0, 40);
  g2.addresses_ = addresses;
  std::filesystem::create_directories(tmp.path() + "/other");
  for (NodeId id : {1, 2, 3}) {
    std::filesystem::rename(tmp.path() + "/nn" + std::to_string(id), g2.Dir(id));
  }
  for (NodeId id : {1, 2, 3}) g2.StartNode(id);
  ASSERT_NE(g2.WaitLeader(), 0u);
  ASSERT_OK(g2.Put("after"));
  auto want = Values(0, 100);
  want.push_back("after");
  for (NodeId id : {1, 2, 3}) {
    ASSERT_TRUE(g2.WaitApplied(id, 101)) << "node " << id;
    EXPECT_EQ(g2.machines_[id]->list(), want) << "node " << id;
  }
}

// A group of one applies on its Raft loop when the apply thread is idle, and hands the
// rest (and every snapshot) to the apply thread: entries must still apply once each, in
// log order, and the snapshots taken meanwhile must restore.
TEST(RaftNodeTest, AGroupOfOneAppliesInOrderSnapshotsAndRestarts) {
  TempDir tmp;
  std::vector<std::string> applied;
  std::map<NodeId, std::string> addresses;
  {
    Group g(tmp.path(), 1, /*snapshot_every=*/25);
    addresses = g.addresses_;
    ASSERT_EQ(g.WaitLeader(), 1u);
    std::vector<std::thread> writers;
    for (int t = 0; t < 4; ++t) {
      writers.emplace_back([&g, t] {
        for (const auto& v : Values(t * 100, t * 100 + 100)) EXPECT_OK(g.Put(v));
      });
    }
    for (auto& w : writers) w.join();
    applied = g.machines_[1]->list();
    ASSERT_EQ(applied.size(), 400u);
    auto sorted = applied;
    std::sort(sorted.begin(), sorted.end());
    EXPECT_EQ(std::adjacent_find(sorted.begin(), sorted.end()), sorted.end()) << "applied twice";
    for (int i = 0; i < 100 && g.nodes_[1]->status().snapshot_index < 375; ++i) {
      std::this_thread::sleep_for(20ms);
    }
    EXPECT_GE(g.nodes_[1]->status().snapshot_index, 375u);
  }
  Group again(tmp.path(), 0, 25);
  again.addresses_ = addresses;
  again.StartNode(1);
  ASSERT_EQ(again.WaitLeader(), 1u);
  ASSERT_TRUE(again.WaitApplied(1, 400));
  EXPECT_EQ(again.machines_[1]->list(), applied);
}

TEST(RaftNodeTest, AFarBehindReplicaCatchesUpFromAStreamedSnapshot) {
  TempDir tmp;
  Group g(tmp.path(), 3, /*snapshot_every=*/50);
  for (const auto& v : Values(0, 10)) ASSERT_OK(g.Put(v));
  NodeId leader = g.WaitLeader();
  NodeId behind = leader == 3 ? 2 : 3;
  g.StopNode(behind);
  for (const auto& v : Values(10, 300)) ASSERT_OK(g.Put(v));
  // Its log was compacted past what the stopped node has: it needs the snapshot.
  EXPECT_GT(g.nodes_[g.WaitLeader()]->status().snapshot_index, 200u);
  g.StartNode(behind);
  ASSERT_TRUE(g.WaitApplied(behind, 300));
  EXPECT_EQ(g.machines_[behind]->list(), Values(0, 300));
}

TEST(RaftNodeTest, AddsAMemberThatCatchesUpAndRemovesOne) {
  TempDir tmp;
  Group g(tmp.path(), 3, /*snapshot_every=*/50);
  for (const auto& v : Values(0, 120)) ASSERT_OK(g.Put(v));
  g.StartNode(4);  // empty directory: learns everything from the leader
  NodeId leader = g.WaitLeader();
  ASSERT_OK(g.nodes_[leader]->AddMember(4, g.addresses_[4], 10s));
  ASSERT_TRUE(g.WaitApplied(4, 120));
  auto st = g.nodes_[leader]->status();
  ASSERT_EQ(st.members.size(), 4u);
  for (const auto& m : st.members) EXPECT_TRUE(m.voter) << "node " << m.id;
  EXPECT_EQ(g.machines_[4]->list(), Values(0, 120));
  // Bad requests change nothing.
  EXPECT_EQ(g.nodes_[leader]->RemoveMember(9).code(), Code::kInvalidArgument);
  // Remove the leader itself: it steps down at once, so its own answer may be
  // "leadership changed"; the others go on without it.
  Status removed = g.nodes_[leader]->RemoveMember(leader);
  EXPECT_TRUE(removed.ok() || removed.code() == Code::kUnavailable) << removed.ToString();
  NodeId next = g.WaitLeader(leader);
  ASSERT_NE(next, 0u);
  ASSERT_OK(g.Put("after", leader));
  auto members = g.nodes_[g.WaitLeader(leader)]->status().members;
  EXPECT_EQ(members.size(), 3u);
  for (const auto& m : members) EXPECT_NE(m.id, leader);
}

TEST(RaftNodeTest, ALeaderWithALeaseAnswersReadsAtOnceAndACutOffOneStopsAnswering) {
  TempDir tmp;
  Group g(tmp.path(), 3);
  ASSERT_OK(g.Put("a"));
  NodeId leader = g.WaitLeader();
  // Within its lease the leader answers on the caller's thread, without a round trip.
  bool inline_answer = false;
  for (int i = 0; i < 100 && !inline_answer; ++i) {
    bool answered = false;
    g.nodes_[leader]->ReadBarrier([&](Status s) { answered = s.ok(); });
    inline_answer = answered;
    if (!inline_answer) std::this_thread::sleep_for(20ms);
  }
  EXPECT_TRUE(inline_answer);
  // Cut off, it loses its lease before the others can elect anyone, and never answers a
  // read after that.
  g.nodes_[leader]->SetCut(true);
  ASSERT_NE(g.WaitLeader(leader), 0u);
  std::promise<Status> read;
  g.nodes_[leader]->ReadBarrier([&](Status s) { read.set_value(s); });
  auto f = read.get_future();
  ASSERT_EQ(f.wait_for(5s), std::future_status::ready);
  EXPECT_EQ(f.get().code(), Code::kUnavailable);
}

TEST(RaftNodeTest, TransfersLeadership) {
  TempDir tmp;
  Group g(tmp.path(), 3);
  ASSERT_OK(g.Put("a"));
  NodeId leader = g.WaitLeader();
  NodeId target = leader == 1 ? 2 : 1;
  ASSERT_OK(g.nodes_[leader]->TransferLeadership(target, 5s));
  EXPECT_EQ(g.WaitLeader(leader), target);
  ASSERT_OK(g.Put("b"));
  ASSERT_TRUE(g.WaitApplied(leader, 2));
}

}  // namespace
}  // namespace dfs::raft
