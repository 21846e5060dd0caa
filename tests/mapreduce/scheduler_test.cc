#include "mapreduce/scheduler.h"

#include <gtest/gtest.h>

namespace dfs::mr {
namespace {

class SchedulerTest : public ::testing::Test {
 protected:
  SchedulerTest()
      : s_(Options(), "t",
           [this](const std::string&, const mrpb::JobSpec&, uint32_t r, uint32_t a) {
             commits_.emplace_back(r, a);
             return Status::Ok();
           }) {}
  static SchedulerOptions Options() {
    SchedulerOptions o;
    o.worker_timeout_ms = 1000;
    o.locality_delay_ms = 500;
    o.backup_min_ms = 100;
    return o;
  }
  // Maps i is on datanode dn{i % 3}.
  std::string Submit(int maps, int reduces) {
    mrpb::JobSpec spec;
    spec.set_reducers(static_cast<uint32_t>(reduces));
    spec.set_output("/out");
    std::vector<mrpb::Split> splits;
    for (int i = 0; i < maps; ++i) {
      mrpb::Split sp;
      sp.set_path("/in");
      sp.set_offset(static_cast<uint64_t>(i) << 20);
      sp.set_length(1 << 20);
      sp.add_hosts("dn" + std::to_string(i % 3));
      sp.add_racks("/rack");
      splits.push_back(sp);
    }
    return s_.AddJob(spec, splits, now_);
  }
  mrpb::HeartbeatRequest Hb(const std::string& worker, uint32_t maps, uint32_t reduces,
                            std::vector<mrpb::TaskReport> reports = {}) {
    mrpb::HeartbeatRequest r;
    r.set_worker_id(worker);
    r.set_shuffle_address(worker + ":1");
    r.set_datanode("dn" + worker.substr(1));
    r.set_rack("/rack");
    r.set_free_map_slots(maps);
    r.set_free_reduce_slots(reduces);
    for (auto& rep : reports) *r.add_reports() = rep;
    return r;
  }
  static mrpb::TaskReport Report(const mrpb::TaskAssignment& t, mrpb::TaskState state,
                                 const std::string& error = "") {
    mrpb::TaskReport r;
    r.set_job_id(t.job_id());
    r.set_type(t.type());
    r.set_index(t.index());
    r.set_attempt(t.attempt());
    r.set_state(state);
    r.set_error(error);
    return r;
  }

  // A heartbeat with one free map slot; again past the locality delay if nothing started.
  mrpb::HeartbeatResponse LaunchOn(const std::string& w) {
    auto r = s_.Heartbeat(Hb(w, 1, 0), now_);
    if (r.launch_size() == 0) r = s_.Heartbeat(Hb(w, 1, 0), now_ += 600);
    return r;
  }

  Scheduler s_;
  int64_t now_ = 1000;
  std::vector<std::pair<uint32_t, uint32_t>> commits_;
};

TEST_F(SchedulerTest, MapsGoDataLocalFirstAndElsewhereOnlyAfterTheLocalityDelay) {
  Submit(3, 1);
  auto r = s_.Heartbeat(Hb("w0", 2, 0), now_);
  ASSERT_EQ(r.launch_size(), 1);  // only map 0 is on dn0; the other slot waits
  EXPECT_EQ(r.launch(0).index(), 0u);
  r = s_.Heartbeat(Hb("w0", 1, 0), now_ + 100);
  EXPECT_EQ(r.launch_size(), 0);
  r = s_.Heartbeat(Hb("w0", 1, 0), now_ + 700);
  ASSERT_EQ(r.launch_size(), 1);
  auto job = s_.GetJob(r.launch(0).job_id(), true);
  EXPECT_EQ(job->tasks(r.launch(0).index()).attempts(0).locality(), "rack-local");
}

TEST_F(SchedulerTest, FailedAttemptIsRetriedElsewhereAndFourFailuresFailTheJob) {
  std::string id = Submit(1, 1);
  for (const char* w : {"w0", "w1", "w2"}) s_.Heartbeat(Hb(w, 0, 0), now_);
  auto a0 = LaunchOn("w0");
  ASSERT_EQ(a0.launch_size(), 1);
  s_.Heartbeat(Hb("w0", 0, 0, {Report(a0.launch(0), mrpb::FAILED, "boom")}), now_);
  EXPECT_EQ(LaunchOn("w0").launch_size(), 0);  // w1 and w2 have not failed it yet
  auto a1 = LaunchOn("w1");
  ASSERT_EQ(a1.launch_size(), 1);
  EXPECT_EQ(a1.launch(0).attempt(), 1u);
  s_.Heartbeat(Hb("w1", 0, 0, {Report(a1.launch(0), mrpb::FAILED, "boom")}), now_);
  auto a2 = LaunchOn("w2");
  ASSERT_EQ(a2.launch_size(), 1);
  s_.Heartbeat(Hb("w2", 0, 0, {Report(a2.launch(0), mrpb::FAILED, "boom")}), now_);
  auto a3 = LaunchOn("w0");  // every worker has failed it: any may try
  ASSERT_EQ(a3.launch_size(), 1);
  EXPECT_EQ(s_.GetJob(id, false)->state(), mrpb::JOB_RUNNING);
  s_.Heartbeat(Hb("w0", 0, 0, {Report(a3.launch(0), mrpb::FAILED, "last boom")}), now_);
  auto job = s_.GetJob(id, false);
  EXPECT_EQ(job->state(), mrpb::JOB_FAILED);
  EXPECT_NE(job->error().find("m_000000 failed 4 times; last error: last boom"), std::string::npos)
      << job->error();
  EXPECT_EQ(job->failed_attempts(), 4u);
}

TEST_F(SchedulerTest, LostWorkerRunsItsMapsAgainAndReduceCommitsOnce) {
  std::string id = Submit(1, 1);
  auto r0 = s_.Heartbeat(Hb("w0", 1, 1), now_);
  ASSERT_EQ(r0.launch_size(), 1);
  auto map = r0.launch(0);
  r0 = s_.Heartbeat(Hb("w0", 1, 1, {Report(map, mrpb::SUCCEEDED)}), now_ += 100);
  ASSERT_EQ(r0.launch_size(), 1);  // the reduce
  auto reduce = r0.launch(0);
  mrpb::GetMapOutputsRequest q;
  q.set_job_id(id);
  EXPECT_EQ(s_.GetMapOutputs(q, now_)->outputs_size(), 1);
  // w0 goes silent: its reduce and its map output are lost.
  s_.Heartbeat(Hb("w1", 0, 0), now_ += 2000);
  s_.Tick(now_);
  EXPECT_EQ(s_.GetMapOutputs(q, now_)->outputs_size(), 0);
  auto r1 = LaunchOn("w1");  // not data-local: after the locality delay
  ASSERT_EQ(r1.launch_size(), 1);
  auto map2 = r1.launch(0);
  EXPECT_EQ(map2.attempt(), 1u);
  auto r2 = s_.Heartbeat(Hb("w1", 0, 1, {Report(map2, mrpb::SUCCEEDED)}), now_);
  ASSERT_EQ(r2.launch_size(), 1);
  auto red2 = r2.launch(0);
  EXPECT_EQ(red2.attempt(), 1u);
  s_.Heartbeat(Hb("w1", 0, 0, {Report(red2, mrpb::SUCCEEDED)}), now_);
  // The lost worker comes back and reports its old reduce as done: ignored.
  auto back = s_.Heartbeat(Hb("w0", 0, 0, {Report(reduce, mrpb::SUCCEEDED)}), now_);
  EXPECT_EQ(commits_, (std::vector<std::pair<uint32_t, uint32_t>>{{0, 1}}));
  auto jobs = s_.TakeJobsToFinalize();
  ASSERT_EQ(jobs.size(), 1u);
  s_.JobFinalized(id, Status::Ok(), now_);
  EXPECT_EQ(s_.GetJob(id, false)->state(), mrpb::JOB_SUCCEEDED);
}

TEST_F(SchedulerTest, StragglerGetsOneBackupAndTheLoserIsKilled) {
  std::string id = Submit(3, 1);
  std::vector<mrpb::TaskAssignment> maps;
  for (int w = 0; w < 3; ++w) {
    auto r = s_.Heartbeat(Hb("w" + std::to_string(w), 1, 0), now_);
    ASSERT_EQ(r.launch_size(), 1);
    maps.push_back(r.launch(0));
  }
  now_ += 50;
  s_.Heartbeat(Hb("w0", 0, 0, {Report(maps[0], mrpb::SUCCEEDED)}), now_);
  s_.Heartbeat(Hb("w1", 0, 0, {Report(maps[1], mrpb::SUCCEEDED)}), now_);
  now_ += 1000;  // map 2 on w2 is now far slower than the others
  auto r = s_.Heartbeat(Hb("w0", 1, 0), now_);
  ASSERT_EQ(r.launch_size(), 1);
  EXPECT_EQ(r.launch(0).index(), 2u);
  EXPECT_EQ(r.launch(0).attempt(), 1u);
  EXPECT_EQ(s_.Heartbeat(Hb("w1", 1, 0), now_).launch_size(), 0);  // one backup only
  auto done = s_.Heartbeat(Hb("w0", 0, 0, {Report(r.launch(0), mrpb::SUCCEEDED)}), now_);
  auto w2 = s_.Heartbeat(Hb("w2", 0, 0), now_);
  ASSERT_EQ(w2.kill_size(), 1);
  EXPECT_EQ(w2.kill(0).attempt(), 0u);
  EXPECT_EQ(s_.GetJob(id, false)->backup_attempts(), 1u);
}

}  // namespace
}  // namespace dfs::mr
