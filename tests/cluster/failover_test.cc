// Namenode high availability with real processes: a group of three namenodes keeps
// serving while any one is down, clients ride through leader changes without losing or
// repeating work, a cut-off leader cannot acknowledge anything, and the group restarts
// from disk. Replicas are compared by a digest of their namespace.
#include <signal.h>

#include <atomic>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "common/rpc.h"
#include "tests/cluster/mini_cluster.h"
#include "tests/cluster/namenode_group.h"
#include "tests/cluster/test_util.h"

namespace dfs {
namespace {

// What one client thread did that the cluster acknowledged.
struct Model {
  std::map<std::string, std::string> files;  // path -> content
  std::set<std::string> dirs;
  std::set<std::string> gone;                // deleted or renamed away
  std::vector<std::string> errors;
};

void ClientLoop(MiniCluster* c, int t, std::atomic<bool>* stop, Model* m) {
  auto fs = c->Connect();
  std::string base = "/t" + std::to_string(t);
  if (Status s = fs->Mkdirs(base); !s.ok()) m->errors.push_back("mkdir " + base + ": " + s.ToString());
  for (int n = 0; !stop->load(); ++n) {
    std::string f = base + "/f" + std::to_string(n);
    std::string data = TestData(t * 100000 + n, 1000 + (n % 7) * 3000);
    Status s = WriteFile(fs.get(), f, data);
    if (!s.ok()) {
      m->errors.push_back("create " + f + ": " + s.ToString());
      continue;
    }
    m->files[f] = data;
    std::string d = base + "/d" + std::to_string(n);
    s = fs->Mkdirs(d, false);
    if (s.ok()) m->dirs.insert(d);
    else m->errors.push_back("mkdir " + d + ": " + s.ToString());
    if (n % 3 == 1) {
      std::string r = base + "/r" + std::to_string(n);
      s = fs->RenameReplace(f, r);
      if (s.ok()) {
        m->files[r] = m->files[f];
        m->files.erase(f);
        m->gone.insert(f);
      } else {
        m->errors.push_back("rename " + f + ": " + s.ToString());
      }
    } else if (n % 3 == 2) {
      s = fs->Delete(f, false);
      if (s.ok()) {
        m->files.erase(f);
        m->gone.insert(f);
      } else {
        m->errors.push_back("delete " + f + ": " + s.ToString());
      }
    }
  }
}

TEST(FailoverTest, EightClientsRideThroughFiveLeaderKills) {
  MiniClusterOptions o;
  o.namenodes = 3;
  o.datanodes = 3;
  o.block_size = "1M";
  o.heartbeat_interval_ms = 300;
  auto c = MiniCluster::Start(o);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  MiniCluster* cl = c->get();

  std::atomic<bool> stop{false};
  std::vector<Model> models(8);
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) threads.emplace_back(ClientLoop, cl, t, &stop, &models[t]);
  for (int kill = 0; kill < 5; ++kill) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1500));
    int leader = cl->WaitForLeader();
    ASSERT_GE(leader, 0) << "no leader before kill " << kill;
    cl->StopNamenode(leader);  // SIGKILL
    ASSERT_GE(cl->WaitForLeader(), 0) << "no leader after kill " << kill;
    ASSERT_OK(cl->StartNamenode(leader));
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(1000));
  stop = true;
  for (auto& th : threads) th.join();

  auto fs = cl->Connect();
  size_t files = 0;
  for (int t = 0; t < 8; ++t) {
    const Model& m = models[t];
    for (const auto& e : m.errors) ADD_FAILURE() << "client " << t << ": " << e;
    for (const auto& [path, data] : m.files) {
      auto got = ReadFile(fs.get(), path);
      ASSERT_TRUE(got.ok()) << path << ": " << got.status().ToString();
      EXPECT_TRUE(*got == data) << path << " has other content";
      ++files;
    }
    for (const auto& d : m.dirs) {
      auto st = fs->GetFileStatus(d);
      EXPECT_TRUE(st.ok() && st->type() == proto::DIRECTORY) << d;
    }
    for (const auto& g : m.gone) {
      EXPECT_EQ(fs->GetFileStatus(g).status().code(), Code::kNotFound) << g;
    }
    // Nothing beyond what was acknowledged (a create applied twice would show as an
    // error above; a rename or delete applied twice as well).
    auto listing = fs->ListStatus("/t" + std::to_string(t));
    ASSERT_TRUE(listing.ok());
    EXPECT_EQ(listing->size(), m.files.size() + m.dirs.size()) << "client " << t;
  }
  EXPECT_GT(files, 8u * 5) << "the clients did too little work for the test to mean much";
  ExpectIdenticalReplicas(cl);
}

TEST(FailoverTest, ACutOffLeaderCannotAcknowledgeWritesAndFollowsWhenHealed) {
  MiniClusterOptions o;
  o.namenodes = 3;
  o.datanodes = 3;
  auto c = MiniCluster::Start(o);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  MiniCluster* cl = c->get();
  auto fs = cl->Connect();
  ASSERT_OK(fs->Mkdirs("/before"));

  int old = cl->WaitForLeader();
  ASSERT_GE(old, 0);
  // Cut its Raft transport, and wait until the cut is in effect (the namenode takes the
  // signal on a thread of its own): an op proposed before it could still reach the
  // followers and be committed by the next leader, acknowledged or not.
  kill(cl->namenode_pid(old), SIGUSR1);
  ASSERT_TRUE(WaitFor([&] {
    auto st = NamenodeStatus(cl, old, false);
    return st.ok() && st->raft_cut();
  }));
  // A client that can reach only the old leader gets no acknowledgement.
  Config only_old;
  only_old.Set("namenodes", cl->namenode_address(old));
  only_old.Set("failover_timeout_ms", "4000");
  auto old_fs = FileSystem::Connect(only_old);
  ASSERT_TRUE(old_fs.ok());
  Status s = (*old_fs)->Mkdirs("/lost");
  EXPECT_EQ(s.code(), Code::kUnavailable) << s.ToString();

  // The majority elects a new leader and goes on.
  ASSERT_OK(fs->Mkdirs("/during"));
  int fresh = cl->WaitForLeader();
  ASSERT_GE(fresh, 0);
  EXPECT_NE(fresh, old);

  kill(cl->namenode_pid(old), SIGUSR2);  // heal
  ASSERT_TRUE(WaitFor([&] {
    auto st = NamenodeStatus(cl, old, false);
    return st.ok() && !st->raft_cut();
  }));
  ASSERT_OK(fs->Mkdirs("/after"));
  ExpectIdenticalReplicas(cl);
  auto st = NamenodeStatus(cl, old, false);
  ASSERT_TRUE(st.ok());
  EXPECT_EQ(st->role(), "follower");
  EXPECT_EQ(fs->GetFileStatus("/lost").status().code(), Code::kNotFound);
  EXPECT_TRUE(fs->GetFileStatus("/during").ok());
}

TEST(FailoverTest, AFrozenFollowerHoldsNothingUpAndCatchesUpWhenItRunsAgain) {
  MiniClusterOptions o;
  o.namenodes = 3;
  o.datanodes = 3;
  auto c = MiniCluster::Start(o);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  MiniCluster* cl = c->get();
  auto fs = cl->Connect();
  int leader = cl->WaitForLeader();
  ASSERT_GE(leader, 0);
  // Stopped, not dead: its sockets stay open and nothing reads or answers them, as with
  // a hung process or a host that stopped answering. The leader's stream to it fills
  // up, and keepalive pings break the connection.
  pid_t frozen = cl->namenode_pid((leader + 1) % 3);
  ASSERT_EQ(kill(frozen, SIGSTOP), 0);
  struct Thaw {
    pid_t pid;
    ~Thaw() { kill(pid, SIGCONT); }
  } thaw{frozen};
  for (int i = 0; i < 300; ++i) ASSERT_OK(fs->Mkdirs("/frozen/a" + std::to_string(i)));
  std::this_thread::sleep_for(std::chrono::seconds(5));  // past the keepalive timeout
  for (int i = 0; i < 300; ++i) ASSERT_OK(fs->Mkdirs("/frozen/b" + std::to_string(i)));
  ASSERT_EQ(kill(frozen, SIGCONT), 0);
  // It catches up, and its late election timer does not unseat the leader (pre-vote).
  ExpectIdenticalReplicas(cl);
  EXPECT_EQ(cl->WaitForLeader(), leader);
  auto list = fs->ListStatus("/frozen");
  ASSERT_TRUE(list.ok());
  EXPECT_EQ(list->size(), 600u);
}

TEST(FailoverTest, TheGroupRestartsFromDiskAndALaggingReplicaCatchesUpFromASnapshot) {
  MiniClusterOptions o;
  o.namenodes = 3;
  o.datanodes = 3;
  o.block_size = "1M";
  o.checkpoint_every = 50;  // snapshots and log compaction every 50 entries
  auto c = MiniCluster::Start(o);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  MiniCluster* cl = c->get();
  auto fs = cl->Connect();
  std::string data = TestData(7, 3 << 20);
  ASSERT_OK(WriteFile(fs.get(), "/big", data));

  // A follower misses many entries; the leader's log is compacted past them.
  int leader = cl->WaitForLeader();
  int behind = (leader + 1) % 3;
  cl->StopNamenode(behind);
  for (int i = 0; i < 150; ++i) ASSERT_OK(fs->Mkdirs("/many/d" + std::to_string(i)));
  ASSERT_OK(cl->StartNamenode(behind));
  ExpectIdenticalReplicas(cl);

  // Every namenode and datanode down; namenodes back first: the new leader waits in safe
  // mode until the datanodes report.
  for (int i = 0; i < cl->datanode_count(); ++i) cl->StopDatanode(i);
  for (int i = 0; i < 3; ++i) cl->StopNamenode(i);
  for (int i = 0; i < 3; ++i) ASSERT_OK(cl->StartNamenode(i));
  std::string out;
  ASSERT_TRUE(WaitFor([&] { return cl->Run("dfs", {"admin", "safemode", "get"}, &out) == 0; }));
  EXPECT_NE(out.find("Safe mode is ON"), std::string::npos) << out;
  for (int i = 0; i < cl->datanode_count(); ++i) ASSERT_OK(cl->StartDatanode(i));
  ASSERT_EQ(cl->Run("dfs", {"admin", "safemode", "wait"}, &out), 0) << out;
  EXPECT_NE(out.find("Safe mode is OFF"), std::string::npos) << out;
  auto got = ReadFile(fs.get(), "/big");
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_TRUE(*got == data);
  auto many = fs->ListStatus("/many");
  ASSERT_TRUE(many.ok());
  EXPECT_EQ(many->size(), 150u);
  ExpectIdenticalReplicas(cl);

  // An operator can hold the cluster in safe mode and let it go.
  ASSERT_EQ(cl->Run("dfs", {"admin", "safemode", "enter"}, &out), 0) << out;
  EXPECT_NE(out.find("ON, entered by an operator"), std::string::npos) << out;
  ASSERT_EQ(cl->Run("dfs", {"admin", "safemode", "leave"}, &out), 0) << out;
  EXPECT_NE(out.find("OFF"), std::string::npos) << out;
  EXPECT_EQ(cl->Run("dfs", {"admin", "safemode", "sideways"}, &out), 1) << out;
}

TEST(FailoverTest, NamenodesAreAddedRemovedAndLeadershipMoves) {
  MiniClusterOptions o;
  o.namenodes = 3;
  o.datanodes = 1;
  o.replication = 1;
  auto c = MiniCluster::Start(o);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  MiniCluster* cl = c->get();
  std::string out;
  ASSERT_EQ(cl->Run("dfs", {"admin", "namenode", "status"}, &out), 0) << out;
  EXPECT_NE(out.find("leader"), std::string::npos) << out;
  int leader = cl->WaitForLeader();
  int target = (leader + 1) % 3;
  ASSERT_EQ(cl->Run("dfs", {"admin", "namenode", "transfer", std::to_string(target + 1)}, &out), 0)
      << out;
  EXPECT_EQ(cl->WaitForLeader(), target);
  EXPECT_EQ(cl->Run("dfs", {"admin", "namenode", "transfer", "7"}, &out), 1) << out;
  EXPECT_EQ(cl->Run("dfs", {"admin", "namenode", "add", "0", "127.0.0.1:1"}, &out), 1) << out;
  EXPECT_EQ(cl->Run("dfs", {"admin", "namenode", "add", "4", "nowhere"}, &out), 1) << out;
  // Remove a follower: the remaining two still make a quorum and serve.
  int follower = (target + 1) % 3;
  ASSERT_EQ(cl->Run("dfs", {"admin", "namenode", "remove", std::to_string(follower + 1)}, &out),
            0)
      << out;
  cl->StopNamenode(follower);
  auto fs = cl->Connect();
  ASSERT_OK(fs->Mkdirs("/after-remove"));
  auto st = NamenodeStatus(cl, target, false);
  ASSERT_TRUE(st.ok());
  EXPECT_EQ(st->members_size(), 2);
}

}  // namespace
}  // namespace dfs
