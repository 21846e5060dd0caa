// The cluster heals itself: lost replicas are copied again, and replication changes are
// carried out.
#include <filesystem>
#include <fstream>
#include <signal.h>
#include <unistd.h>

#include <set>

#include "tests/cluster/mini_cluster.h"
#include "tests/cluster/test_util.h"

namespace dfs {
namespace {

// Every block of path has exactly n live replicas on n distinct datanodes.
bool FullyReplicated(FileSystem* fs, const std::string& path, int n) {
  auto l = Locations(fs, path);
  if (!l.ok()) return false;
  for (const auto& b : l->blocks()) {
    std::set<std::string> nodes;
    for (const auto& dn : b.locations()) nodes.insert(dn.uuid());
    if (b.locations_size() != n || static_cast<int>(nodes.size()) != n) return false;
  }
  return true;
}

TEST(HealingTest, BlocksOfDeadDatanodesAreReplicatedAgain) {
  MiniClusterOptions o;
  o.datanodes = 5;
  o.dead_interval_ms = 2000;
  o.heartbeat_interval_ms = 300;
  auto c = MiniCluster::Start(o);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  auto fs = (*c)->Connect();
  std::string data = TestData(5, 200 << 20);  // fifty blocks
  ASSERT_OK(WriteFile(fs.get(), "/heal", data));
  ASSERT_TRUE(WaitFor([&] { return FullyReplicated(fs.get(), "/heal", 3); }));

  for (int dead = 1; dead <= 2; ++dead) {
    (*c)->StopDatanode(dead - 1);
    ASSERT_TRUE(WaitFor([&] {
      auto st = fs->GetStats();
      return st.ok() && st->live_datanodes() == static_cast<uint32_t>(5 - dead);
    }));
    // Healing deadline: the dead interval has passed; copying fifty blocks takes seconds.
    EXPECT_TRUE(WaitFor([&] { return FullyReplicated(fs.get(), "/heal", 3); }, 30'000))
        << "after " << dead << " datanode(s) died";
    auto back = ReadFile(fs.get(), "/heal");
    ASSERT_TRUE(back.ok()) << back.status().ToString();
    EXPECT_TRUE(*back == data);
  }
}

TEST(StaleDatanodeTest, ASilentDatanodeIsReadLastAndGetsNoNewBlocksBeforeItIsDead) {
  MiniClusterOptions o;
  o.datanodes = 4;
  o.block_size = "1M";
  o.heartbeat_interval_ms = 300;
  o.dead_interval_ms = 8000;  // stale after 2 s
  auto c = MiniCluster::Start(o);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  auto fs = (*c)->Connect();
  ASSERT_OK((*c)->WaitForLiveDatanodes(4));
  std::string data = TestData(11, 8 << 20);
  ASSERT_OK(WriteFile(fs.get(), "/before", data));
  // The victim: a datanode the namenode lists first for some block, so that listing it
  // last afterwards is the namenode's doing.
  auto before = Locations(fs.get(), "/before");
  ASSERT_TRUE(before.ok());
  const uint32_t port = before->blocks(0).locations(0).data_port();
  int victim = -1;
  for (int i = 0; i < (*c)->datanode_count(); ++i) {
    if ((*c)->datanode_port(i) == port) victim = i;
  }
  ASSERT_GE(victim, 0);
  (*c)->StopDatanode(victim);  // SIGKILL: silent from now on
  auto stale_now = [&] {
    auto report = fs->GetDatanodeReport();
    if (!report.ok()) return false;
    for (const auto& d : *report) {
      if (d.id().data_port() == port) return d.live() && d.stale();
    }
    return false;
  };
  ASSERT_TRUE(WaitFor(stale_now, 5'000));
  auto report = fs->GetDatanodeReport();
  ASSERT_TRUE(report.ok());
  for (const auto& d : *report) {
    EXPECT_TRUE(d.live()) << "declared dead already: the test proves nothing";
    EXPECT_EQ(d.stale(), d.id().data_port() == port) << d.id().uuid();
  }
  // Every block it holds lists it last.
  auto l0 = Locations(fs.get(), "/before");
  ASSERT_TRUE(l0.ok());
  for (const auto& b : l0->blocks()) {
    for (int i = 0; i + 1 < b.locations_size(); ++i) {
      EXPECT_NE(b.locations(i).data_port(), port) << "block " << b.block().id();
    }
  }
  auto back = ReadFile(fs.get(), "/before");
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_TRUE(*back == data);
  // New blocks go to the three others only. (A file closes once each block has one
  // replica reported; the others' reports may come a little later.)
  ASSERT_OK(WriteFile(fs.get(), "/after", data));
  EXPECT_TRUE(WaitFor([&] { return FullyReplicated(fs.get(), "/after", 3); }));
  auto l = Locations(fs.get(), "/after");
  ASSERT_TRUE(l.ok());
  for (const auto& b : l->blocks()) {
    EXPECT_EQ(b.locations_size(), 3);
    for (const auto& dn : b.locations()) EXPECT_NE(dn.data_port(), port);
  }
}

TEST(HealingTest, SetReplicationAddsAndRemovesReplicas) {
  MiniClusterOptions o;
  o.heartbeat_interval_ms = 300;
  auto c = MiniCluster::Start(o);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  auto fs = (*c)->Connect();
  CreateOptions co;
  co.replication = 2;
  ASSERT_OK(WriteFile(fs.get(), "/rep", TestData(6, 9 << 20), co));
  ASSERT_TRUE(WaitFor([&] { return FullyReplicated(fs.get(), "/rep", 2); }));
  ASSERT_OK(fs->SetReplication("/rep", 4));
  EXPECT_TRUE(WaitFor([&] { return FullyReplicated(fs.get(), "/rep", 4); }));
  ASSERT_OK(fs->SetReplication("/rep", 1));
  EXPECT_TRUE(WaitFor([&] { return FullyReplicated(fs.get(), "/rep", 1); }));
  EXPECT_EQ(ReadFile(fs.get(), "/rep")->size(), 9u << 20);
}

}  // namespace
}  // namespace dfs

namespace dfs {
namespace {

TEST(PipelineFailureTest, WriteGoesOnWhenPipelineDatanodesDie) {
  MiniClusterOptions o;
  o.datanodes = 5;
  auto c = MiniCluster::Start(o);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  auto fs = (*c)->Connect();
  std::string data = TestData(21, 40 << 20);
  auto out = fs->Create("/survivor");
  ASSERT_TRUE(out.ok());
  const size_t chunk = 1 << 20;
  for (size_t off = 0; off < data.size(); off += chunk) {
    // Kill a datanode a quarter of the way in, and another halfway: each time the block
    // being written loses a pipeline member (every datanode is in most pipelines).
    if (off == data.size() / 4) (*c)->StopDatanode(0);
    if (off == data.size() / 2) (*c)->StopDatanode(1);
    ASSERT_OK((*out)->Write(data.data() + off, chunk));
  }
  ASSERT_OK((*out)->Close());
  auto back = ReadFile(fs.get(), "/survivor");
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->size(), data.size());
  EXPECT_TRUE(*back == data);
}


// Datanodes writing the block that is being written (they hold it in rbw/).
std::vector<int> PipelineOf(const MiniCluster& c) {
  std::vector<int> out;
  for (int i = 0; i < c.datanode_count(); ++i) {
    if (c.datanode_pid(i) <= 0) continue;
    std::error_code ec;
    for (const auto& e : std::filesystem::directory_iterator(c.datanode_data_dir(i) + "/rbw", ec)) {
      if (e.path().extension() == ".meta") {
        out.push_back(i);
        break;
      }
    }
  }
  return out;
}

TEST(PipelineFailureTest, OneThenTwoOfThreePipelineDatanodesDieAndTheWriteGoesOn) {
  MiniClusterOptions o;
  o.datanodes = 6;
  o.heartbeat_interval_ms = 300;
  auto c = MiniCluster::Start(o);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  auto fs = (*c)->Connect();
  std::string data = TestData(23, 16 << 20);  // four blocks
  auto out = fs->Create("/pipeline");
  ASSERT_TRUE(out.ok());
  const size_t chunk = 1 << 20;
  int killed = 0;
  for (size_t off = 0; off < data.size(); off += chunk) {
    ASSERT_OK((*out)->Write(data.data() + off, chunk));
    // A megabyte into the second block, kill one datanode of its pipeline; a megabyte
    // later, another of the pipeline it goes on with (two of the block's datanodes dead,
    // fewer than its replicas, so every earlier block keeps a live one). Each time the
    // writer goes on with the survivors and a replacement.
    if (off == (5u << 20) || off == (6u << 20)) {
      ASSERT_OK((*out)->Flush());
      auto pipeline = PipelineOf(**c);
      ASSERT_EQ(pipeline.size(), 3u);
      (*c)->StopDatanode(pipeline[1]);
      ++killed;
    }
  }
  ASSERT_OK((*out)->Close());
  EXPECT_EQ(killed, 2);
  auto back = ReadFile(fs.get(), "/pipeline");
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_TRUE(*back == data);
  // The blocks written through a failure carry a new generation stamp, and have three
  // replicas again (a replacement datanode joined each pipeline).
  auto l = Locations(fs.get(), "/pipeline");
  ASSERT_TRUE(l.ok());
  ASSERT_EQ(l->blocks_size(), 4);
  EXPECT_GT(l->blocks(1).block().generation_stamp(), l->blocks(0).block().generation_stamp() + 1);
  EXPECT_TRUE(WaitFor([&] { return FullyReplicated(fs.get(), "/pipeline", 3); }));
}
}  // namespace
}  // namespace dfs

namespace dfs {
namespace {

TEST(BlockScannerTest, RottenReplicasAreFoundAndReplaced) {
  MiniClusterOptions o;
  o.datanodes = 4;
  o.heartbeat_interval_ms = 300;
  o.scan_period_ms = 300;
  auto c = MiniCluster::Start(o);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  auto fs = (*c)->Connect();
  std::string data = TestData(31, 3 * (4 << 20));  // three blocks
  ASSERT_OK(WriteFile(fs.get(), "/rot", data));
  ASSERT_TRUE(WaitFor([&] { return FullyReplicated(fs.get(), "/rot", 3); }));
  auto locs = Locations(fs.get(), "/rot");
  ASSERT_TRUE(locs.ok());
  // One replica of each block damaged a different way: a flipped byte, cut short, deleted.
  int damaged = 0;
  std::vector<std::string> damaged_uuid;  // per block: the datanode whose replica is bad
  for (int b = 0; b < 3; ++b) {
    uint64_t id = locs->blocks(b).block().id();
    for (int i = 0; i < (*c)->datanode_count() && damaged == b; ++i) {
      std::string file = (*c)->datanode_data_dir(i) + "/current/blk_" + std::to_string(id);
      if (!std::filesystem::exists(file)) continue;
      std::ifstream version((*c)->datanode_data_dir(i) + "/VERSION");
      std::string line;
      std::getline(version, line);
      damaged_uuid.push_back(line.substr(5));  // "uuid=..."
      if (b == 0) {
        std::fstream f(file, std::ios::in | std::ios::out | std::ios::binary);
        f.seekp(12345);
        f.put('\x7f' ^ data[12345]);
      } else if (b == 1) {
        std::filesystem::resize_file(file, 1000);
      } else {
        std::filesystem::remove(file);
      }
      ++damaged;
    }
  }
  ASSERT_EQ(damaged, 3);
  // The scanners find them, and the namenode brings each block back to 3 good replicas.
  auto replaced = [&] {
    auto l = Locations(fs.get(), "/rot");
    if (!l.ok()) return false;
    for (int b = 0; b < 3; ++b) {
      for (const auto& dn : l->blocks(b).locations()) {
        if (dn.uuid() == damaged_uuid[static_cast<size_t>(b)]) return false;
      }
    }
    return true;
  };
  std::string out;
  EXPECT_TRUE(WaitFor([&] {
    auto st = fs->GetStats();
    return replaced() && FullyReplicated(fs.get(), "/rot", 3) && st.ok() &&
           st->corrupt_replicas() == 0 &&
           (*c)->Run("dfs", {"fsck", "/"}, &out) == 0 &&
           out.find("Under-replicated blocks: 0") != std::string::npos;
  }, 30'000)) << out;
  auto back = ReadFile(fs.get(), "/rot");
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_TRUE(*back == data);
}

}  // namespace
}  // namespace dfs

namespace dfs {
namespace {

// The pid of our child process running build/bin/<name>, or -1.
pid_t ChildNamed(const std::string& name) {
  for (const auto& e : std::filesystem::directory_iterator("/proc")) {
    std::ifstream stat(e.path() / "stat");
    std::string pid, comm, state;
    pid_t ppid = 0;
    if (!(stat >> pid >> comm >> state >> ppid)) continue;
    if (ppid == getpid() && comm == "(" + name + ")") return std::stoi(pid);
  }
  return -1;
}

TEST(LeaseRecoveryTest, DeadWritersFileIsClosedAtItsFinishedBlocks) {
  MiniClusterOptions o;
  o.lease_limit_ms = 1500;
  auto c = MiniCluster::Start(o);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  auto fs = (*c)->Connect();
  std::string data = TestData(41, (4 << 20) + 300'000);  // one full block and some more
  std::string cmd = "DFS_CONF=" + (*c)->client_conf_path() + " exec " + BinDir() +
                    "/dfs appendToFile - /orphan";
  FILE* writer = popen(cmd.c_str(), "w");
  ASSERT_NE(writer, nullptr);
  ASSERT_EQ(fwrite(data.data(), 1, data.size(), writer), data.size());
  fflush(writer);
  // Once the second block is allocated, the first is committed: then kill the writer.
  ASSERT_TRUE(WaitFor([&] {
    auto st = fs->GetFileStatus("/orphan");
    return st.ok() && st->length() == (4u << 20);
  }));
  pid_t pid = ChildNamed("dfs");
  ASSERT_GT(pid, 0);
  kill(pid, SIGKILL);
  pclose(writer);
  // After the lease limit the namenode closes the file at what the replicas agree on.
  ASSERT_TRUE(WaitFor([&] {
    auto st = fs->GetFileStatus("/orphan");
    return st.ok() && !st->under_construction();
  }, 15'000));
  auto back = ReadFile(fs.get(), "/orphan");
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_TRUE(*back == data.substr(0, 4 << 20));
  // The file can be appended to again.
  auto out = fs->Append("/orphan");
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  ASSERT_OK((*out)->Close());
}


// The writer dies with part of its last block on the datanodes: lease recovery gives the
// block a new generation stamp, the datanodes finalize what they all hold, and the file
// is closed at that length, nothing acknowledged lost.
TEST(LeaseRecoveryTest, DeadWritersLastBlockIsRecoveredAtTheLengthEveryReplicaHolds) {
  MiniClusterOptions o;
  o.lease_limit_ms = 1500;
  o.heartbeat_interval_ms = 300;
  auto c = MiniCluster::Start(o);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  auto fs = (*c)->Connect();
  // One full block, then two and a half packets of the next: two packets leave the client.
  std::string data = TestData(42, (4 << 20) + (5 << 19));
  // This writer renews its lease well within the (short) limit until it is killed.
  std::string conf = (*c)->dir() + "/renewing.conf";
  std::ofstream(conf) << "namenodes = " << (*c)->namenode_address() << "\nlease_renew_ms = 200\n";
  std::string cmd = "DFS_CONF=" + conf + " exec " + BinDir() + "/dfs appendToFile - /half";
  FILE* writer = popen(cmd.c_str(), "w");
  ASSERT_NE(writer, nullptr);
  ASSERT_EQ(fwrite(data.data(), 1, data.size(), writer), data.size());
  fflush(writer);
  // Wait until three datanodes hold two packets of the second block, then kill the writer.
  auto rbw_holding = [&](uint64_t at_least) {
    int n = 0;
    for (int i = 0; i < (*c)->datanode_count(); ++i) {
      std::error_code ec;
      for (const auto& e :
           std::filesystem::directory_iterator((*c)->datanode_data_dir(i) + "/rbw", ec)) {
        if (e.path().extension() != ".meta" && std::filesystem::file_size(e.path(), ec) >= at_least) {
          ++n;
        }
      }
    }
    return n;
  };
  ASSERT_TRUE(WaitFor([&] { return rbw_holding(2 << 20) == 3; }));
  pid_t pid = ChildNamed("dfs");
  ASSERT_GT(pid, 0);
  kill(pid, SIGKILL);
  pclose(writer);
  ASSERT_TRUE(WaitFor([&] {
    auto st = fs->GetFileStatus("/half");
    return st.ok() && !st->under_construction();
  }, 20'000));
  auto st = fs->GetFileStatus("/half");
  ASSERT_TRUE(st.ok());
  EXPECT_GE(st->length(), (4u << 20) + (2u << 20));
  auto back = ReadFile(fs.get(), "/half");
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_TRUE(*back == data.substr(0, st->length()));
  // Every replica of the recovered block agrees: three of them, with the new stamp.
  auto l = Locations(fs.get(), "/half");
  ASSERT_TRUE(l.ok());
  ASSERT_EQ(l->blocks_size(), 2);
  const auto& last = l->blocks(1);
  EXPECT_EQ(last.locations_size(), 3);
  EXPECT_GT(last.block().generation_stamp(), l->blocks(0).block().generation_stamp());
  std::string out;
  EXPECT_EQ((*c)->Run("dfs", {"fsck", "/half"}, &out), 0) << out;
}
}  // namespace
}  // namespace dfs

namespace dfs {
namespace {

std::string UuidOf(const MiniCluster& c, int i) {
  std::ifstream version(c.datanode_data_dir(i) + "/VERSION");
  std::string line;
  std::getline(version, line);
  return line.substr(5);  // "uuid=..."
}

// Block ids of the replicas in one data directory.
std::set<uint64_t> ReplicasIn(const std::string& dir) {
  std::set<uint64_t> ids;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(dir + "/current", ec)) {
    uint64_t id = 0, gs = 0;
    if (sscanf(e.path().filename().c_str(), "blk_%lu_%lu.meta", &id, &gs) == 2) ids.insert(id);
  }
  return ids;
}

TEST(FailedVolumeTest, DatanodeGoesOnWithoutAFailedDiskAndItsReplicasAreCopiedAgain) {
  MiniClusterOptions o;
  o.datanodes = 4;
  o.volumes = 2;
  o.heartbeat_interval_ms = 300;
  auto c = MiniCluster::Start(o);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  auto fs = (*c)->Connect();
  std::string data = TestData(61, 32 << 20);
  ASSERT_OK(WriteFile(fs.get(), "/disks", data));
  ASSERT_TRUE(WaitFor([&] { return FullyReplicated(fs.get(), "/disks", 3); }));
  int victim = 0;  // the datanode with the most replicas on its second disk
  for (int i = 1; i < 4; ++i) {
    if (ReplicasIn((*c)->datanode_volume_dir(i, 1)).size() >
        ReplicasIn((*c)->datanode_volume_dir(victim, 1)).size()) {
      victim = i;
    }
  }
  std::string vol = (*c)->datanode_volume_dir(victim, 1);
  ASSERT_FALSE(ReplicasIn(vol).empty());
  std::string uuid = UuidOf(**c, victim);

  // The disk dies: its mount point is left empty (here: not even a directory).
  std::filesystem::rename(vol, vol + ".dead");
  std::ofstream(vol) << "gone";
  auto reported = [&] {
    auto r = fs->GetDatanodeReport();
    if (!r.ok()) return false;
    for (const auto& d : *r) {
      if (d.id().uuid() == uuid) return d.live() && d.failed_volumes_size() == 1;
    }
    return false;
  };
  ASSERT_TRUE(WaitFor(reported));
  // Its replicas are copied again (maybe to its good disk); the datanode stays in service.
  EXPECT_TRUE(WaitFor([&] {
    auto l = Locations(fs.get(), "/disks");
    if (!l.ok() || !FullyReplicated(fs.get(), "/disks", 3)) return false;
    std::set<uint64_t> good_disk = ReplicasIn((*c)->datanode_volume_dir(victim, 0));
    for (const auto& b : l->blocks()) {
      for (const auto& dn : b.locations()) {
        if (dn.uuid() == uuid && !good_disk.count(b.block().id())) return false;
      }
    }
    return true;
  }, 30'000));
  auto back = ReadFile(fs.get(), "/disks");
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_TRUE(*back == data);
  std::string out;
  EXPECT_EQ((*c)->Run("dfs", {"admin", "report"}, &out), 0);
  EXPECT_NE(out.find("failed volume: " + vol), std::string::npos) << out;
  ASSERT_OK(WriteFile(fs.get(), "/more", TestData(62, 9 << 20)));

  // With its last disk gone too, the datanode stops with an error.
  vol = (*c)->datanode_volume_dir(victim, 0);
  std::filesystem::rename(vol, vol + ".dead");
  std::ofstream(vol) << "gone";
  EXPECT_TRUE(WaitFor([&] {
    std::ifstream stat("/proc/" + std::to_string((*c)->datanode_pid(victim)) + "/stat");
    std::string pid, comm, state;
    return !(stat >> pid >> comm >> state) || state == "Z";
  }));
}

TEST(HealingTest, ReturningDatanodeLosesItsStaleReplica) {
  MiniClusterOptions o;
  o.datanodes = 4;
  o.heartbeat_interval_ms = 300;
  auto c = MiniCluster::Start(o);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  auto fs = (*c)->Connect();
  std::string data = TestData(73, 6 << 20);
  auto out = fs->Create("/stale");
  ASSERT_TRUE(out.ok());
  ASSERT_OK((*out)->Write(data.data(), 5 << 20));
  ASSERT_OK((*out)->Flush());
  auto pipeline = PipelineOf(**c);
  ASSERT_EQ(pipeline.size(), 3u);
  int victim = pipeline[1];
  (*c)->StopDatanode(victim);  // keeps its part of the second block, with the old stamp
  ASSERT_OK((*out)->Write(data.data() + (5 << 20), 1 << 20));
  ASSERT_OK((*out)->Close());
  std::string rbw = (*c)->datanode_data_dir(victim) + "/rbw";
  ASSERT_FALSE(std::filesystem::is_empty(rbw));

  ASSERT_OK((*c)->StartDatanode(victim));
  // Its replica with the old stamp is stale: deleted. The block keeps its three replicas.
  EXPECT_TRUE(WaitFor([&] {
    return std::filesystem::is_empty(rbw) && FullyReplicated(fs.get(), "/stale", 3);
  }));
  auto back = ReadFile(fs.get(), "/stale");
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_TRUE(*back == data);
}

TEST(HealingTest, ReturningDatanodeLosesItsOrphanAndExcessReplicas) {
  MiniClusterOptions o;
  o.datanodes = 4;
  o.dead_interval_ms = 2000;
  o.heartbeat_interval_ms = 300;
  auto c = MiniCluster::Start(o);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  auto fs = (*c)->Connect();
  std::string keep = TestData(71, 20 << 20);
  ASSERT_OK(WriteFile(fs.get(), "/keep", keep));
  ASSERT_OK(WriteFile(fs.get(), "/drop", TestData(72, 20 << 20)));
  ASSERT_TRUE(WaitFor([&] { return FullyReplicated(fs.get(), "/drop", 3); }));
  auto dropped = Locations(fs.get(), "/drop");
  ASSERT_TRUE(dropped.ok());

  int victim = 0;  // the datanode holding the most replicas
  for (int i = 1; i < 4; ++i) {
    if (ReplicasIn((*c)->datanode_data_dir(i)).size() >
        ReplicasIn((*c)->datanode_data_dir(victim)).size()) {
      victim = i;
    }
  }
  (*c)->StopDatanode(victim);
  ASSERT_TRUE(WaitFor([&] {
    auto st = fs->GetStats();
    return st.ok() && st->live_datanodes() == 3;
  }));
  ASSERT_TRUE(WaitFor([&] { return FullyReplicated(fs.get(), "/keep", 3); }, 30'000));
  ASSERT_OK(fs->Delete("/drop", false));
  std::set<uint64_t> held = ReplicasIn((*c)->datanode_data_dir(victim));
  ASSERT_FALSE(held.empty());

  ASSERT_OK((*c)->StartDatanode(victim));
  ASSERT_OK((*c)->WaitForLiveDatanodes(4));
  // Replicas of deleted files are removed from its disk; the blocks it brings back that
  // were copied meanwhile are trimmed to three replicas again.
  EXPECT_TRUE(WaitFor([&] {
    std::set<uint64_t> now = ReplicasIn((*c)->datanode_data_dir(victim));
    for (const auto& b : dropped->blocks()) {
      if (now.count(b.block().id())) return false;
    }
    return FullyReplicated(fs.get(), "/keep", 3);
  }));
  size_t on_disk = 0;
  EXPECT_TRUE(WaitFor([&] {
    on_disk = 0;
    for (int i = 0; i < 4; ++i) on_disk += ReplicasIn((*c)->datanode_data_dir(i)).size();
    return on_disk == 3u * 5;  // /keep's five blocks, three times; nothing of /drop
  })) << on_disk << " replicas on disk";
  auto back = ReadFile(fs.get(), "/keep");
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_TRUE(*back == keep);
}

}  // namespace
}  // namespace dfs
