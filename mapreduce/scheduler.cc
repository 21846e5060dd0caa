#include "mapreduce/scheduler.h"

#include <algorithm>
#include <cstdio>

#include "mapreduce/task_names.h"

namespace dfs::mr {

namespace {
uint32_t MaxAttempts(const mrpb::JobSpec& s) { return s.max_attempts() ? s.max_attempts() : 4; }
bool Ended(mrpb::JobState s) { return s != mrpb::JOB_RUNNING; }
}  // namespace

int Scheduler::Task::running() const {
  int n = 0;
  for (const auto& a : attempts) n += a.state == mrpb::RUNNING;
  return n;
}

std::string Scheduler::AddJob(const mrpb::JobSpec& spec, std::vector<mrpb::Split> splits,
                              int64_t now_ms) {
  char id[64];
  snprintf(id, sizeof id, "job_%s_%04u", id_prefix_.c_str(), next_job_++);
  Job& job = jobs_[id];
  job.id = id;
  job.spec = spec;
  job.submit_ms = now_ms;
  for (uint32_t i = 0; i < splits.size(); ++i) {
    Task t;
    t.type = mrpb::MAP;
    t.index = i;
    t.split = std::move(splits[i]);
    job.maps.push_back(std::move(t));
  }
  for (uint32_t i = 0; i < spec.reducers(); ++i) {
    Task t;
    t.type = mrpb::REDUCE;
    t.index = i;
    job.reduces.push_back(std::move(t));
  }
  return id;
}

Scheduler::Job* Scheduler::FindJob(const std::string& id) {
  auto it = jobs_.find(id);
  return it == jobs_.end() ? nullptr : &it->second;
}

int Scheduler::live_workers() const {
  int n = 0;
  for (const auto& [id, w] : workers_) n += w.alive;
  return n;
}

mrpb::HeartbeatResponse Scheduler::Heartbeat(const mrpb::HeartbeatRequest& req, int64_t now_ms) {
  mrpb::HeartbeatResponse resp;
  Worker& w = workers_[req.worker_id()];
  w.id = req.worker_id();
  w.shuffle_address = req.shuffle_address();
  w.datanode = req.datanode();
  w.rack = req.rack();
  w.last_heartbeat_ms = now_ms;
  w.alive = true;
  for (const auto& r : req.reports()) ApplyReport(w.id, r, now_ms);
  uint32_t maps = req.free_map_slots(), reduces = req.free_reduce_slots();
  Assign(w, maps, reduces, now_ms, &resp);
  for (auto& k : w.to_kill) *resp.add_kill() = k;
  w.to_kill.clear();
  for (auto& j : w.to_clean) resp.add_finished_jobs(j);
  w.to_clean.clear();
  return resp;
}

void Scheduler::ApplyReport(const std::string& worker_id, const mrpb::TaskReport& r,
                            int64_t now_ms) {
  Job* job = FindJob(r.job_id());
  auto kill_it = [&] {
    mrpb::AttemptRef ref;
    ref.set_job_id(r.job_id());
    ref.set_type(r.type());
    ref.set_index(r.index());
    ref.set_attempt(r.attempt());
    workers_[worker_id].to_kill.push_back(ref);
  };
  if (!job) {
    if (r.state() == mrpb::RUNNING) kill_it();
    return;
  }
  auto& tasks = r.type() == mrpb::MAP ? job->maps : job->reduces;
  if (r.index() >= tasks.size()) return;
  Task& task = tasks[r.index()];
  if (r.attempt() >= task.attempts.size()) return;
  Attempt& a = task.attempts[r.attempt()];
  if (a.worker != worker_id) return;
  if (a.state != mrpb::RUNNING) {
    // Already decided (killed, lost worker, job over): make sure it stops.
    if (r.state() == mrpb::RUNNING) kill_it();
    return;
  }
  switch (r.state()) {
    case mrpb::RUNNING:
      a.progress = r.progress();
      return;
    case mrpb::SUCCEEDED: {
      a.end_ms = now_ms;
      a.progress = 1;
      a.counters.assign(r.counters().begin(), r.counters().end());
      if (task.state == mrpb::SUCCEEDED) {
        a.state = mrpb::KILLED;
        a.error = "another attempt succeeded first";
        return;
      }
      if (task.type == mrpb::REDUCE) {
        Status st = commit_(job->id, job->spec, task.index, a.id);
        if (!st.ok()) {
          a.state = mrpb::FAILED;
          a.error = "commit of output failed: " + st.message();
          ++task.failures;
          ++job->failed_attempts;
          if (task.failures >= MaxAttempts(job->spec)) {
            EndJob(*job, mrpb::JOB_FAILED,
                   "task " + TaskName(task.type, task.index) + " failed: " + a.error, now_ms);
          } else if (task.running() == 0) {
            task.state = mrpb::PENDING;
          }
          return;
        }
      }
      a.state = mrpb::SUCCEEDED;
      task.state = mrpb::SUCCEEDED;
      task.winner = static_cast<int>(a.id);
      for (auto& other : task.attempts) {
        if (other.state == mrpb::RUNNING) {
          KillAttempt(*job, task, other, "another attempt succeeded first", now_ms);
        }
      }
      CheckDone(*job);
      return;
    }
    case mrpb::FAILED:
    case mrpb::KILLED: {
      a.state = r.state();
      a.end_ms = now_ms;
      a.error = r.error();
      if (r.state() == mrpb::KILLED) {
        ++job->killed_attempts;
      } else {
        ++job->failed_attempts;
        ++task.failures;
        task.failed_on.insert(worker_id);
        if (task.failures >= MaxAttempts(job->spec)) {
          EndJob(*job, mrpb::JOB_FAILED,
                 "task " + TaskName(task.type, task.index) + " failed " +
                     std::to_string(task.failures) + " times; last error: " + r.error(),
                 now_ms);
          return;
        }
      }
      if (task.state == mrpb::RUNNING && task.running() == 0) task.state = mrpb::PENDING;
      return;
    }
    default:
      return;
  }
}

bool Scheduler::MayRunOn(const Task& t, const Worker& w) const {
  for (const auto& a : t.attempts) {
    if (a.state == mrpb::RUNNING && a.worker == w.id) return false;
  }
  if (!t.failed_on.count(w.id)) return true;
  // Every live worker has failed this task: any may try again.
  for (const auto& [id, other] : workers_) {
    if (other.alive && !t.failed_on.count(id)) return false;
  }
  return true;
}

Scheduler::Task* Scheduler::PickMap(Job& job, const Worker& w, int64_t now_ms,
                                    std::string* locality) {
  Task* rack_local = nullptr;
  Task* any = nullptr;
  for (auto& t : job.maps) {
    if (t.state != mrpb::PENDING || !MayRunOn(t, w)) continue;
    for (int i = 0; i < t.split.hosts_size(); ++i) {
      if (t.split.hosts(i) == w.datanode) {
        *locality = "data-local";
        return &t;
      }
      if (!rack_local && i < t.split.racks_size() && t.split.racks(i) == w.rack) rack_local = &t;
    }
    if (!any) any = &t;
  }
  if (!any) return nullptr;
  if (job.locality_wait_since < 0) job.locality_wait_since = now_ms;
  if (now_ms - job.locality_wait_since < o_.locality_delay_ms) return nullptr;
  *locality = rack_local ? "rack-local" : "remote";
  return rack_local ? rack_local : any;
}

Scheduler::Task* Scheduler::PickBackup(Job& job, std::vector<Task>& tasks, const Worker& w,
                                       int64_t now_ms) {
  if (!o_.backups) return nullptr;
  size_t running = 0, done = 0;
  int64_t total_ms = 0;
  for (const auto& t : tasks) {
    if (t.state == mrpb::PENDING) return nullptr;  // the phase is not near its end
    if (t.state == mrpb::RUNNING) ++running;
    if (t.state == mrpb::SUCCEEDED && t.winner >= 0) {
      const Attempt& a = t.attempts[static_cast<size_t>(t.winner)];
      total_ms += a.end_ms - a.start_ms;
      ++done;
    }
  }
  if (running == 0 || done == 0 || running > std::max<size_t>(1, tasks.size() / 5)) return nullptr;
  int64_t slow = std::max<int64_t>(o_.backup_min_ms, total_ms * 3 / 2 / static_cast<int64_t>(done));
  for (auto& t : tasks) {
    if (t.state != mrpb::RUNNING || t.attempts.size() >= 2 + t.failures || t.running() != 1) {
      continue;
    }
    if (!MayRunOn(t, w)) continue;
    for (const auto& a : t.attempts) {
      if (a.state == mrpb::RUNNING && !a.backup && now_ms - a.start_ms > slow) return &t;
    }
  }
  return nullptr;
}

void Scheduler::Launch(Job& job, Task& task, Worker& w, const std::string& locality, bool backup,
                       int64_t now_ms, mrpb::HeartbeatResponse* resp) {
  Attempt a;
  a.id = static_cast<uint32_t>(task.attempts.size());
  a.worker = w.id;
  a.locality = locality;
  a.start_ms = now_ms;
  a.backup = backup;
  task.attempts.push_back(a);
  task.state = mrpb::RUNNING;
  if (backup) ++job.backup_attempts;
  auto* t = resp->add_launch();
  t->set_job_id(job.id);
  t->set_type(task.type);
  t->set_index(task.index);
  t->set_attempt(a.id);
  *t->mutable_spec() = job.spec;
  if (task.type == mrpb::MAP) *t->mutable_split() = task.split;
  t->set_num_maps(static_cast<uint32_t>(job.maps.size()));
}

void Scheduler::Assign(Worker& w, uint32_t map_slots, uint32_t reduce_slots, int64_t now_ms,
                       mrpb::HeartbeatResponse* resp) {
  for (auto& [id, job] : jobs_) {
    if (Ended(job.state) || job.finalizing) continue;
    while (map_slots > 0) {
      std::string locality;
      Task* t = PickMap(job, w, now_ms, &locality);
      if (t && locality == "data-local") job.locality_wait_since = -1;
      bool backup = false;
      if (!t) {
        t = PickBackup(job, job.maps, w, now_ms);
        backup = t != nullptr;
        locality = "remote";
        if (t) {
          for (const auto& h : t->split.hosts()) {
            if (h == w.datanode) locality = "data-local";
          }
        }
      }
      if (!t) break;
      Launch(job, *t, w, locality, backup, now_ms, resp);
      --map_slots;
    }
    size_t maps_done = 0;
    for (const auto& t : job.maps) maps_done += t.state == mrpb::SUCCEEDED;
    if (static_cast<double>(maps_done) <
        o_.reduce_slowstart * static_cast<double>(job.maps.size())) {
      continue;
    }
    while (reduce_slots > 0) {
      Task* pick = nullptr;
      bool backup = false;
      for (auto& t : job.reduces) {
        if (t.state == mrpb::PENDING && MayRunOn(t, w)) {
          pick = &t;
          break;
        }
      }
      if (!pick && maps_done == job.maps.size()) {
        pick = PickBackup(job, job.reduces, w, now_ms);
        backup = pick != nullptr;
      }
      if (!pick) break;
      Launch(job, *pick, w, "", backup, now_ms, resp);
      --reduce_slots;
    }
  }
}

void Scheduler::KillAttempt(Job& job, Task& task, Attempt& a, const std::string& why,
                            int64_t now_ms) {
  if (a.state != mrpb::RUNNING) return;
  a.state = mrpb::KILLED;
  a.error = why;
  a.end_ms = now_ms;
  ++job.killed_attempts;
  auto it = workers_.find(a.worker);
  if (it != workers_.end() && it->second.alive) {
    mrpb::AttemptRef ref;
    ref.set_job_id(job.id);
    ref.set_type(task.type);
    ref.set_index(task.index);
    ref.set_attempt(a.id);
    it->second.to_kill.push_back(ref);
  }
}

void Scheduler::EndJob(Job& job, mrpb::JobState state, const std::string& error, int64_t now_ms) {
  if (Ended(job.state)) return;
  job.state = state;
  job.error = error;
  job.finish_ms = now_ms;
  for (auto* tasks : {&job.maps, &job.reduces}) {
    for (auto& t : *tasks) {
      for (auto& a : t.attempts) KillAttempt(job, t, a, "the job ended", now_ms);
    }
  }
  for (auto& [id, w] : workers_) w.to_clean.push_back(job.id);
  if (!job.finalizing) to_finalize_.push_back(job.id);
}

void Scheduler::CheckDone(Job& job) {
  if (job.finalizing || Ended(job.state)) return;
  for (const auto* tasks : {&job.maps, &job.reduces}) {
    for (const auto& t : *tasks) {
      if (t.state != mrpb::SUCCEEDED) return;
    }
  }
  job.finalizing = true;
  to_finalize_.push_back(job.id);
}

std::vector<std::string> Scheduler::TakeJobsToFinalize() {
  std::vector<std::string> out;
  out.swap(to_finalize_);
  return out;
}

void Scheduler::JobFinalized(const std::string& job_id, const Status& commit, int64_t now_ms) {
  Job* job = FindJob(job_id);
  if (!job || !job->finalizing) return;
  job->finalizing = false;
  if (commit.ok())
    EndJob(*job, mrpb::JOB_SUCCEEDED, "", now_ms);
  else
    EndJob(*job, mrpb::JOB_FAILED, "committing the job failed: " + commit.message(), now_ms);
  to_finalize_.push_back(job_id);  // its history is written on the next round
}

void Scheduler::LoseWorker(Worker& w, int64_t now_ms) {
  w.alive = false;
  w.to_kill.clear();
  for (auto& [id, job] : jobs_) {
    if (Ended(job.state) || job.finalizing) continue;
    bool reduces_done = true;
    for (const auto& t : job.reduces) reduces_done &= t.state == mrpb::SUCCEEDED;
    for (auto* tasks : {&job.maps, &job.reduces}) {
      for (auto& t : *tasks) {
        for (auto& a : t.attempts) {
          if (a.worker != w.id) continue;
          if (a.state == mrpb::RUNNING) {
            a.state = mrpb::KILLED;
            a.error = "worker " + w.id + " lost";
            a.end_ms = now_ms;
            ++job.killed_attempts;
            if (t.state == mrpb::RUNNING && t.running() == 0) t.state = mrpb::PENDING;
          } else if (a.state == mrpb::SUCCEEDED && t.type == mrpb::MAP && !reduces_done &&
                     t.winner == static_cast<int>(a.id)) {
            // Its output lived on the lost worker's disk.
            a.state = mrpb::KILLED;
            a.error = "output lost with worker " + w.id;
            t.winner = -1;
            t.state = t.running() > 0 ? mrpb::RUNNING : mrpb::PENDING;
          }
        }
      }
    }
  }
}

void Scheduler::Tick(int64_t now_ms) {
  for (auto& [id, w] : workers_) {
    if (w.alive && now_ms - w.last_heartbeat_ms > o_.worker_timeout_ms) LoseWorker(w, now_ms);
  }
}

Status Scheduler::KillJob(const std::string& job_id, int64_t now_ms) {
  Job* job = FindJob(job_id);
  if (!job) return NotFound("no such job: " + job_id);
  if (Ended(job->state)) {
    return FailedPrecondition("job " + job_id + " already ended (" +
                              mrpb::JobState_Name(job->state) + ")");
  }
  job->finalizing = false;
  EndJob(*job, mrpb::JOB_KILLED, "killed by the user", now_ms);
  return Status::Ok();
}

Result<mrpb::GetMapOutputsResponse> Scheduler::GetMapOutputs(const mrpb::GetMapOutputsRequest& req,
                                                             int64_t now_ms) {
  Job* job = FindJob(req.job_id());
  if (!job) return NotFound("no such job: " + req.job_id());
  mrpb::GetMapOutputsResponse resp;
  resp.set_num_maps(static_cast<uint32_t>(job->maps.size()));
  if (Ended(job->state)) {
    resp.set_job_over(true);
    return resp;
  }
  for (const auto& lost : req.lost()) {
    if (lost.map() >= job->maps.size()) continue;
    Task& t = job->maps[lost.map()];
    if (t.state == mrpb::SUCCEEDED && t.winner == static_cast<int>(lost.attempt())) {
      Attempt& a = t.attempts[lost.attempt()];
      a.state = mrpb::KILLED;
      a.error = "output could not be fetched";
      t.winner = -1;
      t.state = mrpb::PENDING;
    }
  }
  for (const auto& t : job->maps) {
    if (t.state != mrpb::SUCCEEDED || t.winner < 0) continue;
    const Attempt& a = t.attempts[static_cast<size_t>(t.winner)];
    auto it = workers_.find(a.worker);
    if (it == workers_.end() || !it->second.alive) continue;
    auto* loc = resp.add_outputs();
    loc->set_map(t.index);
    loc->set_attempt(a.id);
    loc->set_worker(it->second.shuffle_address);
  }
  return resp;
}

mrpb::JobStatus Scheduler::Describe(const Job& job, bool with_tasks) const {
  mrpb::JobStatus s;
  s.set_job_id(job.id);
  *s.mutable_spec() = job.spec;
  s.set_state(job.state);
  s.set_error(job.error);
  s.set_submit_ms(job.submit_ms);
  s.set_finish_ms(job.finish_ms);
  s.set_maps_total(static_cast<uint32_t>(job.maps.size()));
  s.set_reduces_total(static_cast<uint32_t>(job.reduces.size()));
  s.set_failed_attempts(job.failed_attempts);
  s.set_killed_attempts(job.killed_attempts);
  s.set_backup_attempts(job.backup_attempts);
  std::map<std::string, int64_t> counters;
  for (const auto* tasks : {&job.maps, &job.reduces}) {
    for (const auto& t : *tasks) {
      if (t.state == mrpb::SUCCEEDED && t.winner >= 0) {
        const Attempt& a = t.attempts[static_cast<size_t>(t.winner)];
        for (const auto& c : a.counters) counters[c.name()] += c.value();
        if (t.type == mrpb::MAP) {
          s.set_maps_done(s.maps_done() + 1);
          if (a.locality == "data-local")
            s.set_data_local_maps(s.data_local_maps() + 1);
          else if (a.locality == "rack-local")
            s.set_rack_local_maps(s.rack_local_maps() + 1);
          else
            s.set_remote_maps(s.remote_maps() + 1);
        } else {
          s.set_reduces_done(s.reduces_done() + 1);
        }
      }
      if (t.state == mrpb::RUNNING) {
        if (t.type == mrpb::MAP)
          s.set_maps_running(s.maps_running() + 1);
        else
          s.set_reduces_running(s.reduces_running() + 1);
      }
      if (!with_tasks) continue;
      auto* ts = s.add_tasks();
      ts->set_type(t.type);
      ts->set_index(t.index);
      ts->set_state(t.state);
      ts->set_failures(t.failures);
      for (const auto& a : t.attempts) {
        auto* as = ts->add_attempts();
        as->set_attempt(a.id);
        as->set_state(a.state);
        auto it = workers_.find(a.worker);
        as->set_worker(it == workers_.end() ? a.worker : it->second.shuffle_address);
        as->set_progress(a.progress);
        as->set_error(a.error);
        as->set_locality(a.locality);
        as->set_start_ms(a.start_ms);
        as->set_end_ms(a.end_ms);
        as->set_backup(a.backup);
      }
    }
  }
  for (const auto& [name, value] : counters) {
    auto* c = s.add_counters();
    c->set_name(name);
    c->set_value(value);
  }
  return s;
}

Result<mrpb::JobStatus> Scheduler::GetJob(const std::string& job_id, bool with_tasks) const {
  auto it = jobs_.find(job_id);
  if (it == jobs_.end()) return NotFound("no such job: " + job_id);
  return Describe(it->second, with_tasks);
}

std::vector<mrpb::JobStatus> Scheduler::ListJobs() const {
  std::vector<mrpb::JobStatus> out;
  for (const auto& [id, job] : jobs_) out.push_back(Describe(job, false));
  return out;
}

}  // namespace dfs::mr
