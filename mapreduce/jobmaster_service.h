// The jobmaster's gRPC service: validates job submissions at the edge (inputs exist,
// output does not, one of binary or mapper command, sane counts), turns input files into
// one split per block, and runs the Scheduler under one mutex. A background thread
// declares silent workers lost and finalizes ended jobs: `_SUCCESS` and removal of
// `_temporary` for a successful job, then its history as JSON in
// /system/mr/history/JOB.json (which GetJob falls back to once the job is forgotten).
// Thread-safe.
#pragma once

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <set>
#include <thread>

#include "client/file_system.h"
#include "mapreduce/scheduler.h"
#include "proto/mapreduce.grpc.pb.h"

namespace dfs::mr {

class JobMasterService final : public mrpb::JobMaster::Service {
 public:
  JobMasterService(std::unique_ptr<FileSystem> fs, SchedulerOptions options);
  ~JobMasterService() override;

  grpc::Status SubmitJob(grpc::ServerContext*, const mrpb::SubmitJobRequest*,
                         mrpb::SubmitJobResponse*) override;
  grpc::Status GetJob(grpc::ServerContext*, const mrpb::GetJobRequest*,
                      mrpb::GetJobResponse*) override;
  grpc::Status ListJobs(grpc::ServerContext*, const mrpb::ListJobsRequest*,
                        mrpb::ListJobsResponse*) override;
  grpc::Status KillJob(grpc::ServerContext*, const mrpb::KillJobRequest*,
                       mrpb::KillJobResponse*) override;
  grpc::Status Heartbeat(grpc::ServerContext*, const mrpb::HeartbeatRequest*,
                         mrpb::HeartbeatResponse*) override;
  grpc::Status GetMapOutputs(grpc::ServerContext*, const mrpb::GetMapOutputsRequest*,
                             mrpb::GetMapOutputsResponse*) override;

 private:
  Status Validate(const mrpb::JobSpec& spec);
  Result<std::vector<mrpb::Split>> ComputeSplits(const mrpb::JobSpec& spec);
  void Finalize(const std::string& job_id);
  void BackgroundLoop();

  std::unique_ptr<FileSystem> fs_;
  std::mutex mu_;
  Scheduler scheduler_;                       // guarded by mu_
  std::set<std::string> submitting_outputs_;  // guarded by mu_: two submissions, one output
  std::atomic<bool> stop_{false};
  std::thread background_;
};

// Milliseconds since the epoch.
int64_t NowMs();

}  // namespace dfs::mr
