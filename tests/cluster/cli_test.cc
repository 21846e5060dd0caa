// The dfs command-line tool, run as a separate process against a real cluster.
#include "tests/cluster/mini_cluster.h"
#include "tests/cluster/test_util.h"

namespace dfs {
namespace {

class CliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    MiniClusterOptions o;
    o.datanodes = 3;
    auto c = MiniCluster::Start(o);
    ASSERT_TRUE(c.ok()) << c.status().ToString();
    cluster_ = std::move(*c);
  }
  int Dfs(const std::vector<std::string>& args, std::string* out = nullptr,
          const std::string& input = "") {
    return cluster_->Run("dfs", args, out, input);
  }
  std::unique_ptr<MiniCluster> cluster_;
};

TEST_F(CliTest, EveryCommandDoesWhatItSays) {
  std::string out;
  ASSERT_EQ(Dfs({"mkdir", "-p", "/a/b"}, &out), 0) << out;
  ASSERT_EQ(Dfs({"put", "-", "/a/b/hello"}, &out, "hello world\n"), 0) << out;
  ASSERT_EQ(Dfs({"cat", "/a/b/hello"}, &out), 0);
  EXPECT_EQ(out, "hello world\n");
  ASSERT_EQ(Dfs({"ls", "/a/b"}, &out), 0);
  EXPECT_NE(out.find("/a/b/hello"), std::string::npos) << out;
  EXPECT_NE(out.find(" 12 "), std::string::npos) << out;
  ASSERT_EQ(Dfs({"cp", "/a/b/hello", "/a/copy"}, &out), 0) << out;
  ASSERT_EQ(Dfs({"mv", "/a/copy", "/a/moved"}, &out), 0) << out;
  ASSERT_EQ(Dfs({"test", "-f", "/a/moved"}), 0);
  ASSERT_EQ(Dfs({"test", "-e", "/a/copy"}), 1);
  ASSERT_EQ(Dfs({"test", "-d", "/a/b"}), 0);
  ASSERT_EQ(Dfs({"test", "-d", "/a/moved"}), 1);
  ASSERT_EQ(Dfs({"touchz", "/a/empty"}, &out), 0) << out;
  ASSERT_EQ(Dfs({"stat", "/a/empty"}, &out), 0);
  EXPECT_NE(out.find("Size: 0"), std::string::npos) << out;
  ASSERT_EQ(Dfs({"du", "-s", "/a"}, &out), 0);
  EXPECT_NE(out.find("24"), std::string::npos) << out;  // 12 + 12 bytes
  ASSERT_EQ(Dfs({"setrep", "2", "/a/moved"}, &out), 0) << out;
  ASSERT_EQ(Dfs({"stat", "/a/moved"}, &out), 0);
  EXPECT_NE(out.find("Replication: 2"), std::string::npos) << out;
  ASSERT_EQ(Dfs({"tail", "/a/moved"}, &out), 0);
  EXPECT_EQ(out, "hello world\n");
  ASSERT_EQ(Dfs({"df", "-H"}, &out), 0);
  EXPECT_NE(out.find("dfs://"), std::string::npos) << out;
  ASSERT_EQ(Dfs({"ls", "-R", "/"}, &out), 0);
  EXPECT_NE(out.find("/a/b/hello"), std::string::npos) << out;
  ASSERT_EQ(Dfs({"rm", "-r", "/a"}, &out), 0) << out;
  ASSERT_EQ(Dfs({"test", "-e", "/a"}), 1);
  ASSERT_EQ(Dfs({"admin", "report"}, &out), 0);
  EXPECT_NE(out.find("Live datanodes: 3"), std::string::npos) << out;
}

TEST_F(CliTest, ErrorsNameThePathAndFail) {
  std::string out;
  EXPECT_EQ(Dfs({"cat", "/a/b"}, &out), 1);
  EXPECT_EQ(out, "dfs: /a/b: No such file or directory\n");
  ASSERT_EQ(Dfs({"mkdir", "/d"}), 0);
  EXPECT_EQ(Dfs({"mkdir", "/d"}, &out), 1);
  EXPECT_EQ(out, "dfs: /d: File exists\n");
  ASSERT_EQ(Dfs({"touchz", "/d/f"}), 0);
  EXPECT_EQ(Dfs({"rm", "/d"}, &out), 1);
  EXPECT_EQ(out, "dfs: /d: Directory not empty\n");
  EXPECT_EQ(Dfs({"rm", "-f", "/missing"}), 0);
  EXPECT_NE(Dfs({"bogus"}, &out), 0);
}

TEST_F(CliTest, EveryCommandHasHelp) {
  for (const char* cmd : {"ls", "mkdir", "put", "get", "cat", "tail", "rm", "mv", "cp", "stat",
                          "du", "df", "setrep", "touchz", "test", "fsck", "admin"}) {
    std::string out;
    EXPECT_EQ(Dfs({cmd, "--help"}, &out), 0) << cmd;
    EXPECT_NE(out.find("Usage"), std::string::npos) << cmd << ": " << out;
  }
}

}  // namespace
}  // namespace dfs

namespace dfs {
namespace {

TEST(FsckTest, HealthyUntilTheOnlyReplicaIsLost) {
  MiniClusterOptions o;
  o.datanodes = 3;
  o.dead_interval_ms = 2000;
  o.heartbeat_interval_ms = 300;
  auto c = MiniCluster::Start(o);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  std::string out;
  ASSERT_EQ((*c)->Run("dfs", {"put", "-r", "1", "-", "/lonely"}, &out, "only one copy\n"), 0)
      << out;
  ASSERT_EQ((*c)->Run("dfs", {"put", "-", "/safe"}, &out, "three copies\n"), 0) << out;
  auto fs = (*c)->Connect();
  ASSERT_TRUE(WaitFor([&] { return (*c)->Run("dfs", {"fsck", "/"}, &out) == 0; })) << out;
  EXPECT_NE(out.find("is HEALTHY"), std::string::npos) << out;
  ASSERT_EQ((*c)->Run("dfs", {"fsck", "/lonely", "-files", "-blocks", "-locations"}, &out), 0);
  EXPECT_NE(out.find("/lonely 14 bytes, replication 1, 1 block(s): OK"), std::string::npos)
      << out;
  EXPECT_NE(out.find("live_repl=1"), std::string::npos) << out;

  // Stop the datanode holding /lonely's only replica.
  auto locs = Locations(fs.get(), "/lonely");
  ASSERT_TRUE(locs.ok());
  ASSERT_EQ(locs->blocks(0).locations_size(), 1);
  for (int i = 0; i < (*c)->datanode_count(); ++i) {
    if ((*c)->datanode_port(i) == locs->blocks(0).locations(0).data_port()) (*c)->StopDatanode(i);
  }
  ASSERT_TRUE(WaitFor([&] { return (*c)->Run("dfs", {"fsck", "/"}, &out) == 1; }, 15'000))
      << out;
  EXPECT_NE(out.find("Missing blocks: 1"), std::string::npos) << out;
  EXPECT_NE(out.find("/lonely 14 bytes, replication 1, 1 block(s): MISSING BLOCKS"),
            std::string::npos)
      << out;
  // Two of three replicas left, and no third datanode to heal onto: degraded, not lost.
  EXPECT_NE(out.find("/safe 13 bytes, replication 3, 1 block(s): Under replicated"),
            std::string::npos)
      << out;
  EXPECT_EQ((*c)->Run("dfs", {"fsck", "/nope"}, &out), 1);
  EXPECT_EQ(out, "dfs: /nope: No such file or directory\n");
}

}  // namespace
}  // namespace dfs
