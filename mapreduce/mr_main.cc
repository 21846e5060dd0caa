// mr: the MapReduce command-line client: submit C++ or streaming jobs, follow them, list,
// kill, and read task logs. The jobmaster's address is the client configuration's
// `jobmaster = host:port` (or --jobmaster).
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <random>
#include <thread>

#include "client/file_system.h"
#include "client/input_stream.h"
#include "client/output_stream.h"
#include "common/rpc.h"
#include "mapreduce/task_names.h"
#include "proto/mapreduce.grpc.pb.h"

namespace dfs::mr {
namespace {

struct Globals {
  std::string conf_path, jobmaster;
  Config conf;
  std::unique_ptr<mrpb::JobMaster::Stub> stub;
} g;

int Fail(const std::string& what) {
  fprintf(stderr, "mr: %s\n", what.c_str());
  return 1;
}

Status Connect() {
  auto conf = LoadClientConfig(g.conf_path);
  if (!conf.ok()) return conf.status();
  g.conf = *conf;
  if (g.jobmaster.empty()) g.jobmaster = g.conf.GetString("jobmaster");
  if (g.jobmaster.empty()) {
    return InvalidArgument(
        "no jobmaster: add 'jobmaster = host:port' to the client "
        "configuration or pass --jobmaster");
  }
  g.stub = mrpb::JobMaster::NewStub(MakeChannel(g.jobmaster));
  return Status::Ok();
}

void Prepare(grpc::ClientContext* c) {
  const char* user = getenv("USER");
  c->AddMetadata(kUserKey, user ? user : "");
  c->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
}

Result<mrpb::JobStatus> GetJob(const std::string& id, bool tasks) {
  mrpb::GetJobRequest req;
  req.set_job_id(id);
  req.set_with_tasks(tasks);
  mrpb::GetJobResponse resp;
  grpc::ClientContext c;
  Prepare(&c);
  RETURN_IF_ERROR(FromGrpc(g.stub->GetJob(&c, req, &resp)));
  return resp.job();
}

std::string StateName(mrpb::JobState s) {
  switch (s) {
    case mrpb::JOB_RUNNING:
      return "RUNNING";
    case mrpb::JOB_SUCCEEDED:
      return "SUCCEEDED";
    case mrpb::JOB_FAILED:
      return "FAILED";
    case mrpb::JOB_KILLED:
      return "KILLED";
    default:
      return "UNKNOWN";
  }
}

int Pct(uint32_t done, uint32_t total) {
  return total ? static_cast<int>(100 * done / total) : 100;
}

void PrintStatus(const mrpb::JobStatus& j, bool tasks) {
  printf("Job: %s\n", j.job_id().c_str());
  if (!j.spec().name().empty()) printf("Name: %s\n", j.spec().name().c_str());
  printf("State: %s\n", StateName(j.state()).c_str());
  if (!j.error().empty()) printf("Error: %s\n", j.error().c_str());
  printf("Output: %s\n", j.spec().output().c_str());
  printf("Maps: %u/%u done (%d%%), %u running, %u pending\n", j.maps_done(), j.maps_total(),
         Pct(j.maps_done(), j.maps_total()), j.maps_running(),
         j.maps_total() - j.maps_done() - j.maps_running());
  printf("Reduces: %u/%u done (%d%%), %u running, %u pending\n", j.reduces_done(),
         j.reduces_total(), Pct(j.reduces_done(), j.reduces_total()), j.reduces_running(),
         j.reduces_total() - j.reduces_done() - j.reduces_running());
  printf("Map locality: %u data-local, %u rack-local, %u remote\n", j.data_local_maps(),
         j.rack_local_maps(), j.remote_maps());
  printf("Attempts: %u failed, %u killed, %u backups\n", j.failed_attempts(), j.killed_attempts(),
         j.backup_attempts());
  if (j.finish_ms() > 0) {
    printf("Elapsed: %.1f s\n", static_cast<double>(j.finish_ms() - j.submit_ms()) / 1000);
  }
  if (j.counters_size()) printf("Counters:\n");
  for (const auto& c : j.counters())
    printf("  %-28s %lld\n", c.name().c_str(), (long long)c.value());
  if (!tasks) return;
  printf("Tasks:\n");
  for (const auto& t : j.tasks()) {
    printf("  %s %s", TaskName(t.type(), t.index()).c_str(),
           mrpb::TaskState_Name(t.state()).c_str());
    if (t.failures()) printf(" (%u failures)", t.failures());
    printf("\n");
    for (const auto& a : t.attempts()) {
      printf("    attempt %u %s on %s %.0f%%%s%s%s%s\n", a.attempt(),
             mrpb::TaskState_Name(a.state()).c_str(), a.worker().c_str(), a.progress() * 100,
             a.locality().empty() ? "" : (" " + a.locality()).c_str(), a.backup() ? " backup" : "",
             a.error().empty() ? "" : ": ", a.error().c_str());
    }
  }
}

int Wait(const std::string& id) {
  std::string last;
  while (true) {
    auto j = GetJob(id, false);
    if (!j.ok()) return Fail(j.status().message());
    char line[256];
    snprintf(line, sizeof line, "%s map %3d%% (%u/%u)  reduce %3d%% (%u/%u)", id.c_str(),
             Pct(j->maps_done(), j->maps_total()), j->maps_done(), j->maps_total(),
             Pct(j->reduces_done(), j->reduces_total()), j->reduces_done(), j->reduces_total());
    if (line != last) {
      fprintf(stderr, "%s\n", line);
      last = line;
    }
    if (j->state() != mrpb::JOB_RUNNING) {
      PrintStatus(*j, false);
      return j->state() == mrpb::JOB_SUCCEEDED ? 0 : 1;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
  }
}

struct SubmitFlags {
  std::vector<std::string> inputs, params;
  std::string output, name, sort_buffer;
  uint32_t reducers = 1, max_attempts = 0;
  int64_t task_timeout_ms = 0;
  bool wait = false, compress = false;
};

void AddSubmitFlags(CLI::App* cmd, SubmitFlags* f) {
  cmd->add_option("--input", f->inputs, "input file or directory (repeatable)")->required();
  cmd->add_option("--output", f->output, "output directory (must not exist)")->required();
  cmd->add_option("--reducers", f->reducers, "number of reduce tasks")->capture_default_str();
  cmd->add_option("--param", f->params, "NAME=VALUE handed to every task (repeatable)");
  cmd->add_option("--name", f->name, "job name");
  cmd->add_option("--sort-buffer", f->sort_buffer, "map sort buffer size (e.g. 64M)");
  cmd->add_option("--task-timeout-ms", f->task_timeout_ms,
                  "kill and retry an attempt silent this long (default 600000)");
  cmd->add_option("--max-attempts", f->max_attempts, "attempts per task (default 4)");
  cmd->add_flag("--wait", f->wait, "follow the job until it ends; exit 1 if it fails");
  cmd->add_flag("--compress", f->compress, "compress map output (zstd) for the shuffle");
}

Result<mrpb::JobSpec> SpecFrom(const SubmitFlags& f) {
  mrpb::JobSpec spec;
  for (const auto& i : f.inputs) spec.add_inputs(NormalizePath(i));
  spec.set_output(NormalizePath(f.output));
  spec.set_reducers(f.reducers);
  spec.set_name(f.name);
  spec.set_task_timeout_ms(f.task_timeout_ms);
  spec.set_max_attempts(f.max_attempts);
  spec.set_compress_map_output(f.compress);
  if (!f.sort_buffer.empty()) {
    ASSIGN_OR_RETURN(uint64_t n, ParseSize(f.sort_buffer));
    spec.set_sort_buffer_bytes(n);
  }
  for (const auto& p : f.params) {
    auto eq = p.find('=');
    if (eq == std::string::npos || eq == 0) {
      return InvalidArgument("--param wants NAME=VALUE, not '" + p + "'");
    }
    (*spec.mutable_params())[p.substr(0, eq)] = p.substr(eq + 1);
  }
  return spec;
}

int Submit(mrpb::JobSpec spec, bool wait, const std::string& staged_dir, FileSystem* fs) {
  mrpb::SubmitJobRequest req;
  *req.mutable_spec() = spec;
  mrpb::SubmitJobResponse resp;
  grpc::ClientContext c;
  Prepare(&c);
  Status st = FromGrpc(g.stub->SubmitJob(&c, req, &resp));
  if (!st.ok()) {
    if (fs && !staged_dir.empty()) (void)fs->Delete(staged_dir, true);
    if (st.code() == Code::kUnavailable) {
      return Fail("cannot reach the jobmaster at " + g.jobmaster + ": " + st.message());
    }
    return Fail(st.message());
  }
  printf("%s\n", resp.job_id().c_str());
  fflush(stdout);
  return wait ? Wait(resp.job_id()) : 0;
}

Result<std::string> Upload(FileSystem* fs, const std::string& local, const std::string& dir) {
  std::ifstream in(local, std::ios::binary);
  if (!in) return NotFound("cannot read job binary " + local);
  if (access(local.c_str(), X_OK) != 0)
    return InvalidArgument("job binary is not executable: " + local);
  std::string path = dir + "/" + local.substr(local.rfind('/') + 1);
  CreateOptions co;
  co.overwrite = true;
  ASSIGN_OR_RETURN(auto out, fs->Create(path, co));
  std::string buf(1 << 20, '\0');
  while (in) {
    in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
    size_t n = static_cast<size_t>(in.gcount());
    if (n == 0) break;
    RETURN_IF_ERROR(out->Write(buf.data(), n));
  }
  RETURN_IF_ERROR(out->Close());
  return path;
}

int Logs(FileSystem* fs, const std::string& job, const std::string& task) {
  std::string dir = std::string(kLogDir) + "/" + job;
  auto entries = fs->ListStatus(dir);
  if (!entries.ok())
    return Fail("no logs for job " + job + " (" + entries.status().message() + ")");
  int shown = 0;
  for (const auto& e : *entries) {
    std::string name = e.path().substr(e.path().rfind('/') + 1);
    if (!task.empty() && name.rfind(task, 0) != 0) continue;
    printf("==> %s <==\n", name.c_str());
    auto in = fs->Open(e.path());
    if (!in.ok()) continue;
    std::string buf(1 << 20, '\0');
    while (true) {
      auto n = (*in)->Read(buf.data(), buf.size());
      if (!n.ok() || *n == 0) break;
      fwrite(buf.data(), 1, *n, stdout);
    }
    printf("\n");
    ++shown;
  }
  if (shown == 0) return Fail("no logs for " + (task.empty() ? job : job + " " + task));
  return 0;
}

int Main(int argc, char** argv) {
  CLI::App app{"mr: submit and follow MapReduce jobs"};
  app.require_subcommand(1);
  app.add_option("--conf", g.conf_path, "client configuration (default $DFS_CONF, ./client.conf)");
  app.add_option("--jobmaster", g.jobmaster,
                 "jobmaster host:port (default: from the configuration)");

  SubmitFlags sf;
  std::string binary;
  auto* submit = app.add_subcommand("submit", "run a C++ job program (see mapreduce/job.h)");
  submit->add_option("--binary", binary, "the job program (local file)")->required();
  AddSubmitFlags(submit, &sf);

  SubmitFlags tf;
  std::string mapper, reducer, combiner;
  auto* streaming = app.add_subcommand("streaming", "run shell commands as mapper and reducer");
  streaming->add_option("--mapper", mapper, "command: input lines in, key<TAB>value lines out")
      ->required();
  streaming->add_option("--reducer", reducer,
                        "command: sorted key<TAB>value lines in, output "
                        "lines out (default: the sorted map output)");
  streaming->add_option("--combiner", combiner, "command run over each sorted map spill");
  AddSubmitFlags(streaming, &tf);

  std::string job_id, task;
  bool with_tasks = false;
  auto* status = app.add_subcommand("status", "a job's progress, counters and locality");
  status->add_option("job", job_id, "job id")->required();
  status->add_flag("--tasks", with_tasks, "also list every task and attempt");
  auto* list = app.add_subcommand("list", "jobs the jobmaster knows");
  auto* killc = app.add_subcommand("kill", "kill a running job");
  killc->add_option("job", job_id, "job id")->required();
  auto* logs = app.add_subcommand("logs", "task attempt logs of a job");
  logs->add_option("job", job_id, "job id")->required();
  logs->add_option("task", task, "task or attempt, e.g. m_000003 or r_000000_1 (default: all)");
  auto* wait = app.add_subcommand("wait", "follow a job until it ends; exit 1 if it fails");
  wait->add_option("job", job_id, "job id")->required();
  CLI11_PARSE(app, argc, argv);

  Status st = Connect();
  if (!st.ok()) return Fail(st.message());
  auto need_fs = [&]() -> std::unique_ptr<FileSystem> {
    auto fs = FileSystem::Connect(g.conf);
    if (!fs.ok()) {
      Fail(fs.status().message());
      return nullptr;
    }
    return std::move(*fs);
  };

  if (*submit) {
    auto spec = SpecFrom(sf);
    if (!spec.ok()) return Fail(spec.status().message());
    auto fs = need_fs();
    if (!fs) return 1;
    std::random_device rd;
    char dir[256];
    const char* user = getenv("USER");
    snprintf(dir, sizeof dir, "%s/%s-%lld-%08x", kStagingDir, user ? user : "user",
             static_cast<long long>(time(nullptr)), rd());
    auto path = Upload(fs.get(), binary, dir);
    if (!path.ok()) {
      (void)fs->Delete(dir, true);
      return Fail(path.status().message());
    }
    spec->set_binary_path(*path);
    if (spec->name().empty()) spec->set_name(binary.substr(binary.rfind('/') + 1));
    return Submit(*spec, sf.wait, dir, fs.get());
  }
  if (*streaming) {
    auto spec = SpecFrom(tf);
    if (!spec.ok()) return Fail(spec.status().message());
    spec->set_mapper_cmd(mapper);
    spec->set_reducer_cmd(reducer);
    spec->set_combiner_cmd(combiner);
    if (spec->name().empty()) spec->set_name("streaming");
    return Submit(*spec, tf.wait, "", nullptr);
  }
  if (*status) {
    auto j = GetJob(job_id, with_tasks);
    if (!j.ok()) return Fail(j.status().message());
    PrintStatus(*j, with_tasks);
    return 0;
  }
  if (*wait) return Wait(job_id);
  if (*list) {
    mrpb::ListJobsResponse resp;
    grpc::ClientContext c;
    Prepare(&c);
    st = FromGrpc(g.stub->ListJobs(&c, mrpb::ListJobsRequest(), &resp));
    if (!st.ok()) return Fail(st.message());
    printf("%-26s %-10s %-12s %-9s %-9s %s\n", "JOB", "STATE", "NAME", "MAPS", "REDUCES", "OUTPUT");
    for (const auto& j : resp.jobs()) {
      printf("%-26s %-10s %-12s %4u/%-4u %4u/%-4u %s\n", j.job_id().c_str(),
             StateName(j.state()).c_str(), j.spec().name().c_str(), j.maps_done(), j.maps_total(),
             j.reduces_done(), j.reduces_total(), j.spec().output().c_str());
    }
    return 0;
  }
  if (*killc) {
    mrpb::KillJobRequest req;
    req.set_job_id(job_id);
    mrpb::KillJobResponse resp;
    grpc::ClientContext c;
    Prepare(&c);
    st = FromGrpc(g.stub->KillJob(&c, req, &resp));
    if (!st.ok()) return Fail(st.message());
    printf("killed %s\n", job_id.c_str());
    return 0;
  }
  if (*logs) {
    auto fs = need_fs();
    if (!fs) return 1;
    return Logs(fs.get(), job_id, task);
  }
  return 2;
}

}  // namespace
}  // namespace dfs::mr

int main(int argc, char** argv) { return dfs::mr::Main(argc, argv); }
