// The end-to-end data path on a real cluster: 1 namenode, 4 datanodes, 4 MiB blocks.
#include <filesystem>
#include <fstream>
#include <set>

#include "tests/cluster/mini_cluster.h"
#include "tests/cluster/test_util.h"

namespace dfs {
namespace {

constexpr size_t kBlock = 4 << 20;

class DataPathTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto c = MiniCluster::Start();
    ASSERT_TRUE(c.ok()) << c.status().ToString();
    cluster_ = std::move(*c);
    fs_ = cluster_->Connect();
  }
  std::unique_ptr<MiniCluster> cluster_;
  std::unique_ptr<FileSystem> fs_;
};

TEST_F(DataPathTest, PutAndGetFilesOfEverySizeAroundABlock) {
  const size_t sizes[] = {0, 1, kBlock - 1, kBlock, kBlock + 1, 300u << 20};
  for (size_t size : sizes) {
    std::string path = "/sizes/f" + std::to_string(size);
    std::string data = TestData(size, size);
    ASSERT_OK(WriteFile(fs_.get(), path, data));
    auto st = fs_->GetFileStatus(path);
    ASSERT_TRUE(st.ok());
    EXPECT_EQ(st->length(), size);
    EXPECT_FALSE(st->under_construction());
    auto back = ReadFile(fs_.get(), path);
    ASSERT_TRUE(back.ok()) << back.status().ToString();
    ASSERT_TRUE(*back == data) << "content differs for size " << size;
  }
}

TEST_F(DataPathTest, EveryBlockHasThreeReplicasOnDistinctDatanodes) {
  ASSERT_OK(WriteFile(fs_.get(), "/r", TestData(7, 5 * kBlock + 123)));
  auto locs = Locations(fs_.get(), "/r");
  ASSERT_TRUE(locs.ok());
  ASSERT_EQ(locs->blocks_size(), 6);
  for (const auto& b : locs->blocks()) {
    std::set<std::string> nodes;
    for (const auto& dn : b.locations()) nodes.insert(dn.uuid());
    // Every replica is finalized before the pipeline's last ack, and reported right after.
    EXPECT_TRUE(WaitFor([&] {
      auto l = Locations(fs_.get(), "/r");
      for (const auto& lb : l->blocks()) {
        if (lb.block().id() == b.block().id()) {
          nodes.clear();
          for (const auto& dn : lb.locations()) nodes.insert(dn.uuid());
        }
      }
      return nodes.size() == 3;
    })) << "block " << b.block().id() << " has " << nodes.size() << " distinct replicas";
  }
}

TEST_F(DataPathTest, AppendAddsToAClosedFile) {
  std::string first = TestData(1, kBlock + 10);
  std::string second = TestData(2, 3000);
  ASSERT_OK(WriteFile(fs_.get(), "/log", first));
  auto out = fs_->Append("/log");
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  ASSERT_OK((*out)->Write(second.data(), second.size()));
  ASSERT_OK((*out)->Close());
  auto back = ReadFile(fs_.get(), "/log");
  ASSERT_TRUE(back.ok());
  EXPECT_TRUE(*back == first + second);
}

TEST_F(DataPathTest, AFileBeingWrittenShowsItsCompletedBlocks) {
  auto out = fs_->Create("/growing");
  ASSERT_TRUE(out.ok());
  std::string data = TestData(3, kBlock + 100);
  ASSERT_OK((*out)->Write(data.data(), data.size()));
  auto st = fs_->GetFileStatus("/growing");
  ASSERT_TRUE(st.ok());
  EXPECT_TRUE(st->under_construction());
  EXPECT_EQ(st->length(), kBlock);  // the first block was committed when the second was added
  ASSERT_OK((*out)->Write("x", 1));
  ASSERT_OK((*out)->Close());
  EXPECT_EQ(fs_->GetFileStatus("/growing")->length(), kBlock + 101);
  auto other = fs_->Append("/growing");
  ASSERT_TRUE(other.ok());
  EXPECT_EQ(fs_->Append("/growing").status().code(), Code::kFailedPrecondition);
}

TEST_F(DataPathTest, NamenodeRestartKeepsEveryAcknowledgedFile) {
  std::map<std::string, std::string> files;
  for (int i = 0; i < 20; ++i) {
    std::string path = "/keep/d" + std::to_string(i % 3) + "/f" + std::to_string(i);
    files[path] = TestData(100 + i, static_cast<size_t>(i) * 100'000);
    ASSERT_OK(WriteFile(fs_.get(), path, files[path]));
  }
  ASSERT_OK(fs_->Rename("/keep/d0/f0", "/keep/renamed"));
  files["/keep/renamed"] = files["/keep/d0/f0"];
  files.erase("/keep/d0/f0");
  ASSERT_OK(fs_->Delete("/keep/d1/f1", false));
  files.erase("/keep/d1/f1");

  cluster_->StopNamenode();  // SIGKILL: only what was synced survives
  ASSERT_OK(cluster_->StartNamenode());
  ASSERT_OK(cluster_->WaitForLiveDatanodes(4));
  for (const auto& [path, data] : files) {
    auto back = ReadFile(fs_.get(), path);
    ASSERT_TRUE(back.ok()) << path << ": " << back.status().ToString();
    EXPECT_TRUE(*back == data) << path;
  }
  EXPECT_EQ(fs_->GetFileStatus("/keep/d1/f1").status().code(), Code::kNotFound);
}

TEST_F(DataPathTest, NamenodeRestartAfterCheckpointKeepsFiles) {
  cluster_.reset();
  MiniClusterOptions o;
  o.checkpoint_every = 7;
  auto c = MiniCluster::Start(o);
  ASSERT_TRUE(c.ok());
  cluster_ = std::move(*c);
  fs_ = cluster_->Connect();
  for (int i = 0; i < 30; ++i) ASSERT_OK(WriteFile(fs_.get(), "/c/f" + std::to_string(i), "x"));
  cluster_->StopNamenode();
  ASSERT_OK(cluster_->StartNamenode());
  ASSERT_OK(cluster_->WaitForLiveDatanodes(4));
  auto list = fs_->ListStatus("/c");
  ASSERT_TRUE(list.ok());
  EXPECT_EQ(list->size(), 30u);
  EXPECT_EQ(*ReadFile(fs_.get(), "/c/f29"), "x");
}

// Finds the on-disk data file of a replica of block_id in datanode i, or "".
std::string ReplicaFile(const MiniCluster& c, int i, uint64_t block_id) {
  std::string p = c.datanode_data_dir(i) + "/current/blk_" + std::to_string(block_id);
  return std::filesystem::exists(p) ? p : "";
}

TEST_F(DataPathTest, CorruptReplicaIsDetectedReportedAndReadFromAnother) {
  std::string data = TestData(9, 100'000);
  ASSERT_OK(WriteFile(fs_.get(), "/fragile", data));
  auto locs = Locations(fs_.get(), "/fragile");
  ASSERT_TRUE(locs.ok());
  ASSERT_EQ(locs->blocks_size(), 1);
  uint64_t id = locs->blocks(0).block().id();
  // Corrupt the replica the reader would try first.
  std::string first_uuid = locs->blocks(0).locations(0).uuid();
  std::string victim;
  for (int i = 0; i < 4; ++i) {
    std::ifstream v(cluster_->datanode_data_dir(i) + "/VERSION");
    std::string line;
    std::getline(v, line);
    if (line == "uuid=" + first_uuid) victim = ReplicaFile(*cluster_, i, id);
  }
  ASSERT_FALSE(victim.empty());
  {
    std::fstream f(victim, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(5000);
    char c = static_cast<char>(data[5000] ^ 0x5a);
    f.write(&c, 1);
  }
  auto back = ReadFile(fs_.get(), "/fragile");
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_TRUE(*back == data);
  // The namenode no longer hands out the bad replica.
  EXPECT_TRUE(WaitFor([&] {
    auto l = Locations(fs_.get(), "/fragile");
    for (const auto& dn : l->blocks(0).locations()) {
      if (dn.uuid() == first_uuid) return false;
    }
    return true;
  }));
  auto stats = fs_->GetStats();
  ASSERT_TRUE(stats.ok());
}

TEST_F(DataPathTest, SeekAndPositionalReadReturnTheRightBytes) {
  std::string data = TestData(11, 3 * kBlock + 777);
  ASSERT_OK(WriteFile(fs_.get(), "/seek", data));
  auto in = fs_->Open("/seek");
  ASSERT_TRUE(in.ok());
  for (uint64_t pos : {uint64_t{0}, uint64_t{511}, uint64_t{kBlock - 3}, uint64_t{2 * kBlock + 5},
                       uint64_t{data.size() - 10}}) {
    char buf[20000];
    auto n = (*in)->PRead(pos, buf, sizeof buf);
    ASSERT_TRUE(n.ok());
    ASSERT_GT(*n, 0u);
    EXPECT_EQ(std::string(buf, *n), data.substr(pos, *n)) << "pread at " << pos;
    ASSERT_OK((*in)->Seek(pos));
    auto m = (*in)->Read(buf, 100);
    ASSERT_TRUE(m.ok());
    EXPECT_EQ(std::string(buf, *m), data.substr(pos, *m)) << "seek+read at " << pos;
  }
  EXPECT_EQ((*in)->Seek(data.size() + 1).code(), Code::kOutOfRange);
}

}  // namespace
}  // namespace dfs
