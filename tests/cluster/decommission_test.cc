// Decommissioning: an operator takes a datanode out of service; its replicas are copied
// elsewhere while it still serves reads, then it is retired, and can be put back.
#include <atomic>
#include <thread>

#include "tests/cluster/mini_cluster.h"
#include "tests/cluster/test_util.h"

namespace dfs {
namespace {

std::string AdminState(FileSystem* fs, const std::string& uuid) {
  auto report = fs->GetDatanodeReport();
  if (!report.ok()) return "";
  for (const auto& d : *report) {
    if (d.id().uuid() == uuid) return d.admin_state();
  }
  return "";
}

// Every block of path has exactly n replicas on datanodes other than `except`.
bool ReplicatedWithout(FileSystem* fs, const std::string& path, int n, const std::string& except) {
  auto l = Locations(fs, path);
  if (!l.ok()) return false;
  for (const auto& b : l->blocks()) {
    int others = 0;
    for (const auto& dn : b.locations()) others += dn.uuid() != except;
    if (others != n) return false;
  }
  return true;
}

TEST(DecommissionTest, ReplicasMoveOffWhileReadersReadAndTheNodeCanComeBack) {
  MiniClusterOptions o;
  o.datanodes = 4;
  o.heartbeat_interval_ms = 300;
  auto c = MiniCluster::Start(o);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  auto fs = (*c)->Connect();
  std::string data = TestData(51, 40 << 20);  // ten blocks
  ASSERT_OK(WriteFile(fs.get(), "/decom", data));
  auto report = fs->GetDatanodeReport();
  ASSERT_TRUE(report.ok());
  std::string uuid, address = "127.0.0.1:" + std::to_string((*c)->datanode_port(0));
  for (const auto& d : *report) {
    if (d.id().data_port() == (*c)->datanode_port(0)) uuid = d.id().uuid();
    EXPECT_EQ(d.admin_state(), "in service");
  }
  ASSERT_FALSE(uuid.empty());

  // A name that matches no datanode is refused and changes nothing.
  std::string out;
  EXPECT_EQ((*c)->Run("dfs", {"admin", "decommission", "127.0.0.1:1"}, &out), 1);
  EXPECT_NE(out.find("no datanode is named 127.0.0.1:1"), std::string::npos) << out;
  EXPECT_EQ(AdminState(fs.get(), uuid), "in service");

  std::atomic<bool> stop{false};
  std::atomic<int> reads{0}, failures{0};
  std::thread reader([&] {
    auto rfs = (*c)->Connect();
    while (!stop) {
      auto back = ReadFile(rfs.get(), "/decom");
      if (!back.ok() || *back != data) ++failures;
      ++reads;
    }
  });
  EXPECT_EQ((*c)->Run("dfs", {"admin", "decommission", "-w", address}, &out), 0) << out;
  EXPECT_NE(out.find("Decommissioned"), std::string::npos) << out;
  stop = true;
  reader.join();
  EXPECT_GT(reads.load(), 0);
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(AdminState(fs.get(), uuid), "decommissioned");
  EXPECT_TRUE(ReplicatedWithout(fs.get(), "/decom", 3, uuid));
  EXPECT_EQ((*c)->Run("dfs", {"fsck", "/"}, &out), 0) << out;
  EXPECT_NE(out.find("Under-replicated blocks: 0"), std::string::npos) << out;
  EXPECT_EQ((*c)->Run("dfs", {"admin", "report"}, &out), 0);
  EXPECT_NE(out.find("decommissioned"), std::string::npos) << out;
  // New blocks go elsewhere.
  ASSERT_OK(WriteFile(fs.get(), "/after", TestData(52, 9 << 20)));
  EXPECT_TRUE(ReplicatedWithout(fs.get(), "/after", 3, uuid));

  // Back in service: the extra replicas are trimmed to three again.
  EXPECT_EQ((*c)->Run("dfs", {"admin", "recommission", uuid}, &out), 0) << out;
  EXPECT_EQ(AdminState(fs.get(), uuid), "in service");
  EXPECT_TRUE(WaitFor([&] {
    auto l = Locations(fs.get(), "/decom");
    if (!l.ok()) return false;
    for (const auto& b : l->blocks()) {
      if (b.locations_size() != 3) return false;
    }
    return true;
  }));
  auto back = ReadFile(fs.get(), "/decom");
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_TRUE(*back == data);
}

// The decommissioning is in the replicated state: a new leader carries it on.
TEST(DecommissionTest, SurvivesALeaderChange) {
  MiniClusterOptions o;
  o.namenodes = 3;
  o.heartbeat_interval_ms = 300;
  auto c = MiniCluster::Start(o);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  auto fs = (*c)->Connect();
  std::string out;
  ASSERT_EQ((*c)->Run("dfs", {"admin", "decommission", "127.0.0.1"}, &out), 0) << out;
  int leader = (*c)->WaitForLeader();
  ASSERT_GE(leader, 0);
  (*c)->StopNamenode(leader);
  ASSERT_GE((*c)->WaitForLeader(), 0);
  ASSERT_OK((*c)->WaitForLiveDatanodes(4));
  // Every datanode is on 127.0.0.1: all of them are out of service, so a new file has
  // nowhere to go, and the report says why.
  auto report = fs->GetDatanodeReport();
  ASSERT_TRUE(report.ok());
  ASSERT_EQ(report->size(), 4u);
  for (const auto& d : *report) EXPECT_NE(d.admin_state(), "in service");
  EXPECT_FALSE(WriteFile(fs.get(), "/nowhere", "x").ok());
  ASSERT_EQ((*c)->Run("dfs", {"admin", "recommission", "127.0.0.1"}, &out), 0) << out;
  ASSERT_OK(WriteFile(fs.get(), "/somewhere", "x"));
}

}  // namespace
}  // namespace dfs
