// mr-worker: runs task attempts for the jobmaster on one host, next to one datanode.
//
// It heartbeats its free map and reduce slots and the state of its attempts; the reply
// launches attempts, kills attempts and names finished jobs. Each attempt is a child
// process in its own process group: the job's program (fetched from the file system once
// per job) or the built-in streaming runner, started as `PROGRAM --mr-task FILE`, with
// status lines on fd 3 (see task_runner.cc) and its output in a log that is copied to
// /system/mr/logs/JOB/ATTEMPT.log when it ends. An attempt that reports no progress for
// the job's task timeout is killed and reported failed. Finished map outputs are served to
// reduces by the Shuffle service from DIR/jobs/JOB/output.
// Thread-safe.
#pragma once

#include <atomic>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>

#include "client/file_system.h"
#include "proto/mapreduce.grpc.pb.h"

namespace dfs::mr {

struct WorkerOptions {
  std::string jobmaster;  // host:port
  std::string namenode;   // host:port
  std::string datanode;   // host:port of the local datanode, for locality
  std::string rack = "/default-rack";
  std::string dir;              // local scratch space
  std::string shuffle_address;  // as reduces should dial it; set by the caller once bound
  uint32_t map_slots = 2;
  uint32_t reduce_slots = 1;
  int64_t heartbeat_ms = 500;
  std::string bin_dir;  // where mr-streaming lives
};

class Worker final : public mrpb::Shuffle::Service {
 public:
  Worker(WorkerOptions o, std::unique_ptr<FileSystem> fs);
  ~Worker() override;  // kills running attempts

  // REQUIRES: before Start. The address reduces dial, once the server is bound.
  void SetShuffleAddress(const std::string& address);
  void Start();  // the heartbeat thread
  void Stop();

  grpc::Status GetMapOutput(grpc::ServerContext*, const mrpb::GetMapOutputRequest*,
                            grpc::ServerWriter<mrpb::MapOutputChunk>*) override;

 private:
  struct Attempt {
    mrpb::TaskAssignment task;
    std::string name;  // m_000003_1
    pid_t pid = -1;
    mrpb::TaskState state = mrpb::RUNNING;
    float progress = 0;
    std::string error;
    std::vector<mrpb::Counter> counters;
    bool kill_requested = false;
    bool reported = false;  // the final state reached the jobmaster
  };
  struct JobFiles {
    std::mutex mu;
    bool ready = false;
  };

  void HeartbeatLoop();
  void RunAttempt(std::shared_ptr<Attempt> a);
  // The program to run for the job's tasks, fetched on first use.
  Result<std::string> JobProgram(const mrpb::TaskAssignment& task);
  std::string JobDir(const std::string& job_id) const { return o_.dir + "/jobs/" + job_id; }
  void UploadLog(const Attempt& a, const std::string& log_path);
  void DropFinishedJobs();

  WorkerOptions o_;
  std::unique_ptr<FileSystem> fs_;
  std::string id_;
  std::unique_ptr<mrpb::JobMaster::Stub> jobmaster_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::map<std::string, std::shared_ptr<Attempt>> attempts_;    // by job/attempt; guarded
  std::map<std::string, std::shared_ptr<JobFiles>> job_files_;  // guarded by mu_
  std::set<std::string> finished_jobs_;                         // guarded by mu_
  bool wake_ = false;                                           // guarded by mu_
  std::atomic<bool> stop_{false};
  std::thread heartbeat_;
};

}  // namespace dfs::mr
