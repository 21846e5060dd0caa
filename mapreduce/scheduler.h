// The jobmaster's brain: jobs, their tasks and attempts, the workers, and the decisions
// (which attempt runs where, what is retried, what is killed). Pure logic: no RPCs, no
// file system, no clock; the caller passes `now_ms` and does the I/O. The two places that
// need the file system are callbacks: committing a reduce's output (a rename) and the
// list of jobs waiting to be finalized (TakeJobsToFinalize).
//
// Rules:
//  - maps go data-local first (the split's block is on the worker's datanode), then, once
//    a job has waited `locality_delay_ms` without a local launch, rack-local, then any;
//  - reduces start once half the maps are done; a reduce pulls map outputs as they finish;
//  - a failed attempt is retried, on a worker where the task has not failed if there is
//    one, up to max_attempts failures; then the job fails with the task's error;
//  - a worker silent for worker_timeout_ms is lost: its running attempts are killed and
//    its finished maps run again unless every reduce is done;
//  - when a phase has no pending tasks and few running ones, a running attempt slower
//    than 1.5x the phase's mean (and older than backup_min_ms) gets one backup attempt on
//    another worker; the first attempt to succeed wins and the others are killed;
//  - a reduce's output is committed (renamed) once, by the first successful attempt.
//
// Not thread-safe: the service holds one mutex around every call.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "common/status.h"
#include "proto/mapreduce.pb.h"

namespace dfs::mr {

struct SchedulerOptions {
  int64_t worker_timeout_ms = 10'000;
  int64_t locality_delay_ms = 1'000;
  int64_t backup_min_ms = 10'000;
  bool backups = true;
  double reduce_slowstart = 0.5;  // fraction of maps done before reduces start
};

class Scheduler {
 public:
  // commit(job, spec, reduce, attempt) renames the attempt's output into place.
  using CommitFn = std::function<Status(const std::string& job_id, const mrpb::JobSpec& spec,
                                        uint32_t reduce, uint32_t attempt)>;
  Scheduler(SchedulerOptions o, std::string id_prefix, CommitFn commit)
      : o_(o), id_prefix_(std::move(id_prefix)), commit_(std::move(commit)) {}

  // REQUIRES: spec validated, splits non-empty.
  std::string AddJob(const mrpb::JobSpec& spec, std::vector<mrpb::Split> splits, int64_t now_ms);
  mrpb::HeartbeatResponse Heartbeat(const mrpb::HeartbeatRequest& req, int64_t now_ms);
  // Declares silent workers lost.
  void Tick(int64_t now_ms);
  Result<mrpb::JobStatus> GetJob(const std::string& job_id, bool with_tasks) const;
  std::vector<mrpb::JobStatus> ListJobs() const;
  Status KillJob(const std::string& job_id, int64_t now_ms);
  Result<mrpb::GetMapOutputsResponse> GetMapOutputs(const mrpb::GetMapOutputsRequest& req,
                                                    int64_t now_ms);

  // Jobs whose tasks are all done (to be committed with _SUCCESS) or that failed or were
  // killed: the caller writes their history and then calls JobFinalized.
  std::vector<std::string> TakeJobsToFinalize();
  // For a job whose tasks all succeeded: its final state once _SUCCESS is written (or the
  // error if that failed).
  void JobFinalized(const std::string& job_id, const Status& commit, int64_t now_ms);

  int live_workers() const;

 private:
  struct Attempt {
    uint32_t id = 0;
    std::string worker;
    mrpb::TaskState state = mrpb::RUNNING;
    float progress = 0;
    std::string error;
    std::string locality;
    int64_t start_ms = 0, end_ms = 0;
    bool backup = false;
    std::vector<mrpb::Counter> counters;
  };
  struct Task {
    mrpb::TaskType type = mrpb::MAP;
    uint32_t index = 0;
    mrpb::TaskState state = mrpb::PENDING;
    mrpb::Split split;
    std::vector<Attempt> attempts;
    uint32_t failures = 0;
    std::set<std::string> failed_on;
    int winner = -1;  // index into attempts of the successful one
    int running() const;
  };
  struct Job {
    std::string id;
    mrpb::JobSpec spec;
    mrpb::JobState state = mrpb::JOB_RUNNING;
    std::string error;
    std::vector<Task> maps, reduces;
    int64_t submit_ms = 0, finish_ms = 0;
    int64_t locality_wait_since = -1;
    bool finalizing = false;
    uint32_t failed_attempts = 0, killed_attempts = 0, backup_attempts = 0;
  };
  struct Worker {
    std::string id, shuffle_address, datanode, rack;
    int64_t last_heartbeat_ms = 0;
    bool alive = true;
    std::vector<mrpb::AttemptRef> to_kill;
    std::vector<std::string> to_clean;
  };

  void ApplyReport(const std::string& worker_id, const mrpb::TaskReport& r, int64_t now_ms);
  void Assign(Worker& w, uint32_t map_slots, uint32_t reduce_slots, int64_t now_ms,
              mrpb::HeartbeatResponse* resp);
  // A pending task this worker may run, preferring locality for maps; nullptr if none.
  Task* PickMap(Job& job, const Worker& w, int64_t now_ms, std::string* locality);
  Task* PickBackup(Job& job, std::vector<Task>& tasks, const Worker& w, int64_t now_ms);
  void Launch(Job& job, Task& task, Worker& w, const std::string& locality, bool backup,
              int64_t now_ms, mrpb::HeartbeatResponse* resp);
  bool MayRunOn(const Task& t, const Worker& w) const;
  void KillAttempt(Job& job, Task& task, Attempt& a, const std::string& why, int64_t now_ms);
  void EndJob(Job& job, mrpb::JobState state, const std::string& error, int64_t now_ms);
  void LoseWorker(Worker& w, int64_t now_ms);
  void CheckDone(Job& job);
  mrpb::JobStatus Describe(const Job& job, bool with_tasks) const;
  Job* FindJob(const std::string& id);

  SchedulerOptions o_;
  std::string id_prefix_;
  CommitFn commit_;
  uint32_t next_job_ = 1;
  std::map<std::string, Job> jobs_;  // by id; ids sort in submission order
  std::map<std::string, Worker> workers_;
  std::vector<std::string> to_finalize_;
};

}  // namespace dfs::mr
