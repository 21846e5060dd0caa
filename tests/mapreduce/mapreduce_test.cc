// MapReduce on real processes: a MiniCluster (namenode + 3 datanodes), a jobmaster and one
// mr-worker per datanode, jobs submitted with the mr CLI, and workers killed mid-job.
#include <signal.h>

#include <fstream>
#include <map>
#include <random>

#include "common/rpc.h"
#include "proto/mapreduce.grpc.pb.h"
#include "tests/cluster/mini_cluster.h"
#include "tests/cluster/test_util.h"

namespace dfs {
namespace {

using Counts = std::map<std::string, int64_t>;

// Text with words of mixed case and punctuation, in lines of varied length.
std::string MakeText(uint64_t seed, size_t bytes) {
  std::mt19937_64 rng(seed);
  std::vector<std::string> vocab = {"the", "The",     "dfs,", "block.",
                                    "Map", "reduce!", "a-b",  "\"q\""};
  for (int i = 0; i < 3000; ++i) vocab.push_back("w" + std::to_string(i * 7919 % 100003));
  std::string out;
  out.reserve(bytes + 200);
  while (out.size() < bytes) {
    int words = static_cast<int>(rng() % 16);
    for (int i = 0; i < words; ++i) {
      if (i) out += rng() % 8 == 0 ? "  " : " ";
      out += vocab[rng() % 1000 < 300 ? rng() % 8 : rng() % vocab.size()];
    }
    out += '\n';
  }
  return out;
}

Counts CountWords(const std::string& text) {
  Counts c;
  size_t i = 0, n = text.size();
  while (i < n) {
    while (i < n && isspace(static_cast<unsigned char>(text[i]))) ++i;
    size_t start = i;
    while (i < n && !isspace(static_cast<unsigned char>(text[i]))) ++i;
    if (i > start) ++c[text.substr(start, i - start)];
  }
  return c;
}

class MapReduceTest : public ::testing::Test {
 protected:
  // Backups only for attempts older than backup_min_ms: none unless a test wants them.
  void StartCluster(const std::string& backup_min_ms = "600000",
                    const std::string& block_size = "1M", int namenodes = 1) {
    MiniClusterOptions o;
    o.namenodes = namenodes;
    o.datanodes = 3;
    o.block_size = block_size;
    o.replication = 2;
    auto c = MiniCluster::Start(o);
    ASSERT_TRUE(c.ok()) << c.status().ToString();
    cluster_ = std::move(*c);
    jobmaster_ = "127.0.0.1:" + std::to_string(FreePort());
    std::vector<std::string> args = {
        "--address",           jobmaster_,   "--namenode",          cluster_->namenode_address(),
        "--worker-timeout-ms", "3000",       "--locality-delay-ms", "300",
        "--backup-min-ms",     backup_min_ms};
    jm_pid_ = cluster_->StartProcess("jobmaster", args, "jobmaster.log");
    std::ofstream(cluster_->client_conf_path(), std::ios::app)
        << "jobmaster = " << jobmaster_ << "\n";
    stub_ = mrpb::JobMaster::NewStub(MakeChannel(jobmaster_));
    worker_pids_.assign(3, -1);
    for (int i = 0; i < 3; ++i) StartWorker(i);
    fs_ = cluster_->Connect();
    ASSERT_TRUE(WaitFor([&] { return cluster_->Run("mr", {"list"}) == 0; }, 20'000))
        << "jobmaster did not start; logs in " << cluster_->dir();
  }

  void StartWorker(int i) {
    worker_pids_[static_cast<size_t>(i)] = cluster_->StartProcess(
        "mr-worker",
        {"--jobmaster", jobmaster_, "--namenode", cluster_->namenode_address(), "--datanode",
         "127.0.0.1:" + std::to_string(cluster_->datanode_port(i)), "--dir",
         cluster_->dir() + "/worker" + std::to_string(i), "--heartbeat-ms", "200", "--map-slots",
         "2", "--reduce-slots", "1"},
        "worker" + std::to_string(i) + ".log");
  }

  void TearDown() override {
    for (auto& pid : worker_pids_) MiniCluster::StopProcess(&pid, false);
    MiniCluster::StopProcess(&jm_pid_, false);
  }

  // Writes the input: one large file of many blocks and one small one.
  Counts WriteInput(size_t bytes) {
    std::string big = MakeText(1, bytes), small = MakeText(2, 100'000);
    EXPECT_TRUE(WriteFile(fs_.get(), "/in/big.txt", big).ok());
    EXPECT_TRUE(WriteFile(fs_.get(), "/in/small.txt", small).ok());
    Counts want = CountWords(big);
    for (const auto& [w, n] : CountWords(small)) want[w] += n;
    return want;
  }

  // Submits a job with mr; returns its id.
  std::string Submit(std::vector<std::string> args) {
    std::string out;
    int rc = cluster_->Run("mr", args, &out);
    EXPECT_EQ(rc, 0) << out;
    while (!out.empty() && out.back() == '\n') out.pop_back();
    return out.substr(out.rfind('\n') + 1);
  }

  std::vector<std::string> TestJob(const std::string& output, std::vector<std::string> extra = {}) {
    std::vector<std::string> a = {"submit",  "--binary",   BinDir() + "/mr-test-job",
                                  "--input", "/in",        "--output",
                                  output,    "--reducers", "3"};
    a.insert(a.end(), extra.begin(), extra.end());
    return a;
  }

  mrpb::JobStatus Job(const std::string& id, bool tasks = false) {
    mrpb::GetJobRequest req;
    req.set_job_id(id);
    req.set_with_tasks(tasks);
    mrpb::GetJobResponse resp;
    grpc::ClientContext c;
    stub_->GetJob(&c, req, &resp);
    return resp.job();
  }

  mrpb::JobStatus WaitForEnd(const std::string& id) {
    mrpb::JobStatus j;
    EXPECT_TRUE(WaitFor(
        [&] {
          j = Job(id);
          return j.state() != mrpb::JOB_RUNNING && j.state() != mrpb::JOB_STATE_UNSPECIFIED;
        },
        90'000))
        << "job " << id << " did not end; logs in " << cluster_->dir();
    return j;
  }

  // The output directory's word counts; checks it holds exactly _SUCCESS and the parts.
  Counts ReadCounts(const std::string& dir, int parts) {
    Counts got;
    auto entries = fs_->ListStatus(dir);
    EXPECT_TRUE(entries.ok());
    std::set<std::string> names;
    for (const auto& e : *entries) names.insert(e.path().substr(e.path().rfind('/') + 1));
    std::set<std::string> want = {"_SUCCESS"};
    for (int p = 0; p < parts; ++p) {
      char buf[32];
      snprintf(buf, sizeof buf, "part-%05d", p);
      want.insert(buf);
    }
    EXPECT_EQ(names, want);
    for (int p = 0; p < parts; ++p) {
      char buf[64];
      snprintf(buf, sizeof buf, "%s/part-%05d", dir.c_str(), p);
      auto data = ReadFile(fs_.get(), buf);
      EXPECT_TRUE(data.ok()) << buf;
      if (!data.ok()) continue;
      std::istringstream in(*data);
      std::string line;
      while (std::getline(in, line)) {
        auto tab = line.find('\t');
        EXPECT_NE(tab, std::string::npos) << line;
        EXPECT_EQ(got.count(line.substr(0, tab)), 0u) << "duplicate key " << line;
        got[line.substr(0, tab)] += std::stoll(line.substr(tab + 1));
      }
    }
    return got;
  }

  std::unique_ptr<MiniCluster> cluster_;
  std::unique_ptr<FileSystem> fs_;
  std::string jobmaster_;
  std::unique_ptr<mrpb::JobMaster::Stub> stub_;
  pid_t jm_pid_ = -1;
  std::vector<pid_t> worker_pids_;
};

TEST_F(MapReduceTest, WordCountOverManyBlocksMatchesReferenceCount) {
  ASSERT_NO_FATAL_FAILURE(StartCluster("600000", "4M"));
  Counts want = WriteInput(100 << 20);  // 25 blocks
  std::string out;
  int rc = cluster_->Run("mr",
                         {"submit", "--binary", BinDir() + "/wordcount", "--input", "/in",
                          "--output", "/out", "--reducers", "4", "--sort-buffer", "256k", "--wait"},
                         &out);
  ASSERT_EQ(rc, 0) << out;
  EXPECT_NE(out.find("State: SUCCEEDED"), std::string::npos) << out;
  EXPECT_EQ(ReadCounts("/out", 4), want);
  std::string id = out.substr(0, out.find('\n'));
  auto job = Job(id);
  EXPECT_GE(job.maps_total(), 25u);
  EXPECT_EQ(job.data_local_maps() + job.rack_local_maps() + job.remote_maps(), job.maps_total());
  EXPECT_GT(job.data_local_maps(), job.maps_total() / 2);
  // History is in the file system.
  EXPECT_TRUE(
      WaitFor([&] { return fs_->GetFileStatus("/system/mr/history/" + id + ".json").ok(); }));
}

TEST_F(MapReduceTest, StreamingWordCountMatchesTheCppJob) {
  ASSERT_NO_FATAL_FAILURE(StartCluster());
  Counts want = WriteInput(3 << 20);
  std::ofstream(cluster_->dir() + "/map.awk")
      << "{ for (i = 1; i <= NF; i++) print $i \"\\t1\" }\n";
  std::ofstream(cluster_->dir() + "/sum.awk")
      << "BEGIN { FS = \"\\t\" } { c[$1] += $2 } END { for (w in c) print w \"\\t\" c[w] }\n";
  std::string out;
  int rc = cluster_->Run("mr",
                         {"streaming", "--mapper", "awk -f " + cluster_->dir() + "/map.awk",
                          "--combiner", "awk -f " + cluster_->dir() + "/sum.awk", "--reducer",
                          "awk -f " + cluster_->dir() + "/sum.awk", "--input", "/in", "--output",
                          "/streamed", "--reducers", "2", "--wait"},
                         &out);
  ASSERT_EQ(rc, 0) << out;
  EXPECT_EQ(ReadCounts("/streamed", 2), want);
}

TEST_F(MapReduceTest, WorkerKilledDuringMapPhaseStillGivesTheSameOutput) {
  ASSERT_NO_FATAL_FAILURE(StartCluster());
  Counts want = WriteInput(8 << 20);
  std::string id = Submit(TestJob("/out", {"--param", "map_sleep_ms=1000"}));
  ASSERT_TRUE(WaitFor(
      [&] {
        auto j = Job(id);
        return j.maps_done() >= 1;
      },
      60'000));
  ASSERT_LT(Job(id).maps_done(), Job(id).maps_total());
  kill(worker_pids_[0], SIGKILL);
  MiniCluster::StopProcess(&worker_pids_[0], false);
  auto job = WaitForEnd(id);
  ASSERT_EQ(job.state(), mrpb::JOB_SUCCEEDED) << job.error();
  // The lost worker's running attempts and finished maps were run again elsewhere.
  auto detail = Job(id, true);
  int lost = 0;
  for (const auto& t : detail.tasks()) {
    for (const auto& a : t.attempts()) lost += a.error().find("lost") != std::string::npos;
  }
  EXPECT_GT(lost, 0);
  EXPECT_EQ(ReadCounts("/out", 3), want);
}

TEST_F(MapReduceTest, WorkerKilledDuringReducePhaseStillGivesTheSameOutput) {
  ASSERT_NO_FATAL_FAILURE(StartCluster());
  Counts want = WriteInput(4 << 20);
  std::string id = Submit(TestJob("/out", {"--param", "reduce_sleep_ms=2500"}));
  ASSERT_TRUE(WaitFor(
      [&] {
        auto j = Job(id);
        return j.maps_done() == j.maps_total() && j.maps_total() > 0;
      },
      60'000));
  ASSERT_EQ(Job(id).reduces_done(), 0u);
  MiniCluster::StopProcess(&worker_pids_[1], false);  // SIGKILL
  auto job = WaitForEnd(id);
  ASSERT_EQ(job.state(), mrpb::JOB_SUCCEEDED) << job.error();
  EXPECT_EQ(ReadCounts("/out", 3), want);
}

TEST_F(MapReduceTest, JobGoesOnThroughANamenodeLeaderKillAndADatanodeKill) {
  ASSERT_NO_FATAL_FAILURE(StartCluster("600000", "1M", /*namenodes=*/3));
  Counts want = WriteInput(8 << 20);
  std::string id = Submit(TestJob("/out", {"--param", "map_sleep_ms=1500"}));
  ASSERT_TRUE(WaitFor([&] { return Job(id).maps_done() >= 1; }, 60'000));
  ASSERT_LT(Job(id).maps_done(), Job(id).maps_total());
  int leader = cluster_->WaitForLeader();
  ASSERT_GE(leader, 0);
  cluster_->StopNamenode(leader);  // SIGKILL, mid-map
  ASSERT_GE(cluster_->WaitForLeader(), 0);
  // Then a datanode (its worker stays): maps read their splits from the other replica,
  // and outputs are written to the two datanodes left.
  cluster_->StopDatanode(2);
  ASSERT_EQ(Job(id).state(), mrpb::JOB_RUNNING) << "the job ended before the kills were over";
  auto job = WaitForEnd(id);
  ASSERT_EQ(job.state(), mrpb::JOB_SUCCEEDED) << job.error();
  EXPECT_EQ(ReadCounts("/out", 3), want);
}

TEST_F(MapReduceTest, MapperCrashingOnItsFirstAttemptIsRetried) {
  ASSERT_NO_FATAL_FAILURE(StartCluster());
  Counts want = WriteInput(2 << 20);
  std::string out;
  auto args = TestJob("/out", {"--param", "crash_map=1", "--param", "crash_attempts=1", "--wait"});
  ASSERT_EQ(cluster_->Run("mr", args, &out), 0) << out;
  EXPECT_NE(out.find("1 failed"), std::string::npos) << out;
  EXPECT_EQ(ReadCounts("/out", 3), want);
  // The crashed attempt's log is kept in the file system.
  std::string id = out.substr(0, out.find('\n'));
  std::string logs;
  EXPECT_EQ(cluster_->Run("mr", {"logs", id, "m_000001_0"}, &logs), 0) << logs;
  EXPECT_NE(logs.find("deliberate crash in map 1 attempt 0"), std::string::npos) << logs;
}

TEST_F(MapReduceTest, MapperThatAlwaysCrashesFailsTheJobWithItsError) {
  ASSERT_NO_FATAL_FAILURE(StartCluster());
  WriteInput(1 << 20);
  std::string out;
  auto args =
      TestJob("/out", {"--param", "crash_map=0", "--param", "crash_attempts=100", "--wait"});
  EXPECT_EQ(cluster_->Run("mr", args, &out), 1) << out;
  EXPECT_NE(out.find("State: FAILED"), std::string::npos) << out;
  EXPECT_NE(out.find("m_000000 failed 4 times"), std::string::npos) << out;
  EXPECT_NE(out.find("deliberate crash in map 0 attempt 3"), std::string::npos) << out;
  EXPECT_FALSE(fs_->GetFileStatus("/out/_SUCCESS").ok());
  // The jobmaster removes a failed job's temporary output right after the job ends.
  EXPECT_TRUE(WaitFor([&] { return !fs_->GetFileStatus("/out/_temporary").ok(); }, 10'000));
}

TEST_F(MapReduceTest, HungTaskIsKilledAndRetried) {
  ASSERT_NO_FATAL_FAILURE(StartCluster());
  Counts want = WriteInput(2 << 20);
  std::string id = Submit(TestJob("/out", {"--param", "hang_map=0", "--task-timeout-ms", "2000"}));
  auto job = WaitForEnd(id);
  ASSERT_EQ(job.state(), mrpb::JOB_SUCCEEDED) << job.error();
  auto detail = Job(id, true);
  ASSERT_GE(detail.tasks(0).attempts_size(), 2);
  EXPECT_NE(detail.tasks(0).attempts(0).error().find("no progress for 2000 ms"), std::string::npos)
      << detail.tasks(0).attempts(0).error();
  EXPECT_EQ(ReadCounts("/out", 3), want);
}

TEST_F(MapReduceTest, StragglerGetsABackupAndOutputIsNotDuplicated) {
  ASSERT_NO_FATAL_FAILURE(StartCluster("1000"));
  Counts want = WriteInput(3 << 20);
  std::string id = Submit(TestJob("/out", {"--param", "slow_map=0", "--param", "slow_ms=60000"}));
  auto job = WaitForEnd(id);
  ASSERT_EQ(job.state(), mrpb::JOB_SUCCEEDED) << job.error();
  EXPECT_GE(job.backup_attempts(), 1u);
  EXPECT_EQ(ReadCounts("/out", 3), want);
}

TEST_F(MapReduceTest, SortedRecordsComeOutGloballySortedAndValidate) {
  ASSERT_NO_FATAL_FAILURE(StartCluster());
  std::string out;
  ASSERT_EQ(cluster_->Run("sort", {"gen", "--records", "40000", "--output", "/records/a"}, &out), 0)
      << out;
  ASSERT_EQ(
      cluster_->Run("sort", {"gen", "--records", "5000", "--seed", "2", "--output", "/records/b"},
                    &out),
      0)
      << out;
  ASSERT_EQ(
      cluster_->Run(
          "sort", {"sample", "--input", "/records", "--partitions", "3", "--cuts", "/cuts"}, &out),
      0)
      << out;
  ASSERT_EQ(cluster_->Run("mr",
                          {"submit", "--binary", BinDir() + "/sort", "--param", "cuts=/cuts",
                           "--input", "/records", "--output", "/sorted", "--reducers", "3",
                           "--sort-buffer", "1M", "--compress", "--wait"},
                          &out),
            0)
      << out;
  ASSERT_EQ(
      cluster_->Run("sort",
                    {"validate", "--input", "/records", "--output", "/sorted", "--partitions", "3"},
                    &out),
      0)
      << out;
  EXPECT_NE(out.find("45000 records, globally sorted"), std::string::npos) << out;
  // Every reducer got a share.
  for (const char* p : {"/sorted/part-00000", "/sorted/part-00001", "/sorted/part-00002"}) {
    EXPECT_GT(fs_->GetFileStatus(p)->length(), 500'000u) << p;
  }
}

TEST_F(MapReduceTest, KilledJobEndsAndCleansUp) {
  ASSERT_NO_FATAL_FAILURE(StartCluster());
  WriteInput(2 << 20);
  std::string id = Submit(TestJob("/out", {"--param", "map_sleep_ms=60000"}));
  ASSERT_TRUE(WaitFor([&] { return Job(id, true).maps_running() > 0; }));
  std::string out;
  ASSERT_EQ(cluster_->Run("mr", {"kill", id}, &out), 0) << out;
  EXPECT_EQ(Job(id).state(), mrpb::JOB_KILLED);
  EXPECT_EQ(cluster_->Run("mr", {"wait", id}, &out), 1) << out;
  EXPECT_NE(out.find("State: KILLED"), std::string::npos) << out;
  EXPECT_EQ(cluster_->Run("mr", {"kill", id}, &out), 1) << out;
  EXPECT_NE(out.find("already ended"), std::string::npos) << out;
  EXPECT_TRUE(WaitFor([&] { return !fs_->GetFileStatus("/out/_temporary").ok(); }, 10'000));
  EXPECT_FALSE(fs_->GetFileStatus("/out/_SUCCESS").ok());
}

TEST_F(MapReduceTest, BadSubmissionsAreRefusedAndChangeNothing) {
  ASSERT_NO_FATAL_FAILURE(StartCluster());
  WriteInput(100'000);
  std::string out;
  auto no_reducers = TestJob("/o1");
  no_reducers[8] = "0";
  EXPECT_EQ(cluster_->Run("mr", no_reducers, &out), 1);
  EXPECT_NE(out.find("reducers must be 1..1000"), std::string::npos) << out;
  auto missing = TestJob("/o2");
  missing[4] = "/no/such/input";
  EXPECT_EQ(cluster_->Run("mr", missing, &out), 1);
  EXPECT_NE(out.find("input not found: /no/such/input"), std::string::npos) << out;
  ASSERT_TRUE(fs_->Mkdirs("/exists").ok());
  EXPECT_EQ(cluster_->Run("mr", TestJob("/exists"), &out), 1);
  EXPECT_NE(out.find("output directory already exists: /exists"), std::string::npos) << out;
  EXPECT_EQ(cluster_->Run("mr", {"status", "job_nope"}, &out), 1);
  EXPECT_NE(out.find("no such job"), std::string::npos) << out;
  EXPECT_FALSE(fs_->GetFileStatus("/o1").ok());
  EXPECT_FALSE(fs_->GetFileStatus("/o2").ok());
  auto staged = fs_->ListStatus("/system/mr/staging");
  EXPECT_TRUE(!staged.ok() || staged->empty());
}

}  // namespace
}  // namespace dfs
