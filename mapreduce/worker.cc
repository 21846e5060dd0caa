#include "mapreduce/worker.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <random>

#include "client/input_stream.h"
#include "client/output_stream.h"
#include "common/logging.h"
#include "common/rpc.h"
#include "mapreduce/records.h"
#include "mapreduce/task_names.h"

extern char** environ;

namespace dfs::mr {

namespace fs = std::filesystem;

namespace {

int64_t SteadyMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

std::string Key(const std::string& job, mrpb::TaskType type, uint32_t index, uint32_t attempt) {
  return job + "/" + AttemptName(type, index, attempt);
}

// The last lines of a log, for an error message.
std::string Tail(const std::string& path, size_t max_bytes) {
  std::ifstream f(path, std::ios::binary);
  f.seekg(0, std::ios::end);
  auto size = static_cast<size_t>(std::max<std::streamoff>(0, f.tellg()));
  size_t start = size > max_bytes ? size - max_bytes : 0;
  f.seekg(static_cast<std::streamoff>(start));
  std::string s(size - start, '\0');
  f.read(s.data(), static_cast<std::streamsize>(s.size()));
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

}  // namespace

Worker::Worker(WorkerOptions o, std::unique_ptr<FileSystem> fs)
    : o_(std::move(o)), fs_(std::move(fs)) {
  jobmaster_ = mrpb::JobMaster::NewStub(MakeChannel(o_.jobmaster));
  fs::create_directories(o_.dir + "/jobs");
}

Worker::~Worker() { Stop(); }

void Worker::SetShuffleAddress(const std::string& address) {
  o_.shuffle_address = address;
  std::random_device rd;
  char id[128];
  snprintf(id, sizeof id, "%s-%08x", address.c_str(), rd());
  id_ = id;
}

void Worker::Start() {
  heartbeat_ = std::thread([this] { HeartbeatLoop(); });
}

void Worker::Stop() {
  if (stop_.exchange(true)) return;
  {
    std::lock_guard<std::mutex> l(mu_);
    for (auto& [k, a] : attempts_) {
      a->kill_requested = true;
      if (a->pid > 0) kill(-a->pid, SIGKILL);
    }
    cv_.notify_all();
  }
  if (heartbeat_.joinable()) heartbeat_.join();
}

grpc::Status Worker::GetMapOutput(grpc::ServerContext*, const mrpb::GetMapOutputRequest* req,
                                  grpc::ServerWriter<mrpb::MapOutputChunk>* writer) {
  if (req->job_id().empty() || req->job_id().find('/') != std::string::npos ||
      req->job_id().find("..") != std::string::npos) {
    return ToGrpc(InvalidArgument("bad job id: " + req->job_id()));
  }
  std::string path = JobDir(req->job_id()) + "/output/" + MapOutputName(req->map(), req->attempt());
  auto index = ReadIndex(path + ".index");
  if (!index.ok()) {
    return ToGrpc(NotFound("no such map output: " + req->job_id() + " map " +
                           std::to_string(req->map()) + " attempt " +
                           std::to_string(req->attempt())));
  }
  if (req->partition() + 1 >= index->size()) {
    return ToGrpc(InvalidArgument("no partition " + std::to_string(req->partition())));
  }
  uint64_t pos = (*index)[req->partition()], end = (*index)[req->partition() + 1];
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return ToGrpc(NotFound("no such map output: " + path));
  mrpb::MapOutputChunk chunk;
  std::string buf;
  Status st;
  while (pos < end) {
    size_t n = static_cast<size_t>(std::min<uint64_t>(end - pos, 1 << 20));
    buf.resize(n);
    ssize_t got = pread(fd, buf.data(), n, static_cast<off_t>(pos));
    if (got <= 0) {
      st = ErrnoStatus("read " + path, got < 0 ? errno : EIO);
      break;
    }
    buf.resize(static_cast<size_t>(got));
    chunk.set_data(buf);
    if (!writer->Write(chunk)) {
      st = Unavailable("reader went away");
      break;
    }
    pos += static_cast<uint64_t>(got);
  }
  ::close(fd);
  return ToGrpc(st);
}

Result<std::string> Worker::JobProgram(const mrpb::TaskAssignment& task) {
  if (task.spec().binary_path().empty()) return o_.bin_dir + "/mr-streaming";
  std::shared_ptr<JobFiles> files;
  {
    std::lock_guard<std::mutex> l(mu_);
    auto& f = job_files_[task.job_id()];
    if (!f) f = std::make_shared<JobFiles>();
    files = f;
  }
  std::string path = JobDir(task.job_id()) + "/job.bin";
  std::lock_guard<std::mutex> l(files->mu);
  if (files->ready) return path;
  ASSIGN_OR_RETURN(auto in, fs_->Open(task.spec().binary_path()));
  std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    std::string buf(1 << 20, '\0');
    while (true) {
      ASSIGN_OR_RETURN(size_t n, in->Read(buf.data(), buf.size()));
      if (n == 0) break;
      out.write(buf.data(), static_cast<std::streamsize>(n));
    }
    if (!out) return IoError("cannot write " + tmp);
  }
  chmod(tmp.c_str(), 0755);
  if (::rename(tmp.c_str(), path.c_str()) != 0) return ErrnoStatus("rename " + tmp, errno);
  files->ready = true;
  return path;
}

void Worker::UploadLog(const Attempt& a, const std::string& log_path) {
  std::string text = Tail(log_path, 1 << 20);
  CreateOptions co;
  co.overwrite = true;
  co.replication = 1;
  auto out = fs_->Create(std::string(kLogDir) + "/" + a.task.job_id() + "/" + a.name + ".log", co);
  if (!out.ok()) return;
  if ((*out)->Write(text.data(), text.size()).ok()) (void)(*out)->Close();
}

void Worker::RunAttempt(std::shared_ptr<Attempt> a) {
  const auto& t = a->task;
  std::string job_dir = JobDir(t.job_id());
  std::string work = job_dir + "/attempts/" + a->name;
  std::string log = job_dir + "/logs/" + a->name + ".log";
  std::string task_file = work + ".task";
  int64_t timeout = t.spec().task_timeout_ms() ? t.spec().task_timeout_ms() : 600'000;
  auto finish = [&](mrpb::TaskState state, const std::string& error) {
    UploadLog(*a, log);
    std::error_code ec;
    fs::remove_all(work, ec);
    fs::remove(task_file, ec);
    std::lock_guard<std::mutex> l(mu_);
    a->state = a->kill_requested ? mrpb::KILLED : state;
    a->error = a->kill_requested ? "killed on request" : error;
    a->pid = -1;
    wake_ = true;
    cv_.notify_all();
    spdlog::info("{} {}: {} {}", t.job_id(), a->name, mrpb::TaskState_Name(a->state), a->error);
  };
  std::error_code ec;
  fs::create_directories(work, ec);
  fs::create_directories(job_dir + "/logs", ec);
  fs::create_directories(job_dir + "/output", ec);
  auto program = JobProgram(t);
  if (!program.ok())
    return finish(mrpb::FAILED, "fetching the job program: " + program.status().message());
  mrpb::TaskAssignment full = t;
  full.set_jobmaster(o_.jobmaster);
  full.set_namenode(o_.namenode);
  full.set_work_dir(work);
  full.set_map_output_dir(job_dir + "/output");
  {
    std::ofstream f(task_file, std::ios::binary | std::ios::trunc);
    f << full.SerializeAsString();
    if (!f) return finish(mrpb::FAILED, "cannot write " + task_file);
  }
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) return finish(mrpb::FAILED, "pipe failed");
  int logfd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  std::vector<std::string> args = {*program, "--mr-task", task_file};
  std::vector<char*> argv;
  for (auto& s : args) argv.push_back(s.data());
  argv.push_back(nullptr);
  std::vector<std::string> env_strings;
  for (char** e = environ; *e; ++e) {
    if (strncmp(*e, "MR_STATUS_FD=", 13) != 0) env_strings.push_back(*e);
  }
  env_strings.push_back("MR_STATUS_FD=3");
  std::vector<char*> envp;
  for (auto& s : env_strings) envp.push_back(s.data());
  envp.push_back(nullptr);
  pid_t pid;
  {
    std::lock_guard<std::mutex> l(mu_);
    if (a->kill_requested) {
      ::close(fds[0]);
      ::close(fds[1]);
      if (logfd >= 0) ::close(logfd);
      pid = -1;
    } else {
      pid = fork();
      if (pid == 0) {
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, nullptr);
        setpgid(0, 0);
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        dup2(fds[1], 3);
        if (logfd >= 0) {
          dup2(logfd, 1);
          dup2(logfd, 2);
        }
        execve(argv[0], argv.data(), envp.data());
        _exit(127);
      }
      a->pid = pid;
    }
  }
  if (pid < 0) return finish(mrpb::KILLED, "killed before it started");
  ::close(fds[1]);
  if (logfd >= 0) ::close(logfd);
  std::string error, pending;
  int64_t last_progress = SteadyMs();
  bool timed_out = false;
  std::vector<mrpb::Counter> counters;
  while (true) {
    struct pollfd p = {fds[0], POLLIN, 0};
    int r = poll(&p, 1, 200);
    if (r > 0) {
      char buf[4096];
      ssize_t n = ::read(fds[0], buf, sizeof buf);
      if (n <= 0) break;
      pending.append(buf, static_cast<size_t>(n));
      size_t nl;
      while ((nl = pending.find('\n')) != std::string::npos) {
        std::string line = pending.substr(0, nl);
        pending.erase(0, nl + 1);
        if (line.rfind("progress ", 0) == 0) {
          last_progress = SteadyMs();
          std::lock_guard<std::mutex> l(mu_);
          a->progress = std::stof(line.substr(9));
        } else if (line.rfind("counter ", 0) == 0) {
          auto sp = line.rfind(' ');
          mrpb::Counter c;
          c.set_name(line.substr(8, sp - 8));
          c.set_value(std::stoll(line.substr(sp + 1)));
          counters.push_back(c);
        } else if (line.rfind("error ", 0) == 0) {
          error = line.substr(6);
        }
      }
    }
    if (!timed_out && SteadyMs() - last_progress > timeout) {
      timed_out = true;
      kill(-pid, SIGKILL);
    }
  }
  int status = 0;
  waitpid(pid, &status, 0);
  kill(-pid, SIGKILL);  // whatever the task left behind in its group
  ::close(fds[0]);
  {
    std::lock_guard<std::mutex> l(mu_);
    a->counters = counters;
  }
  if (timed_out) {
    return finish(mrpb::FAILED, "no progress for " + std::to_string(timeout) + " ms; killed");
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return finish(mrpb::SUCCEEDED, "");
  if (error.empty()) {
    error = WIFSIGNALED(status) ? "killed by signal " + std::to_string(WTERMSIG(status))
                                : "exited with code " + std::to_string(WEXITSTATUS(status));
    std::string tail = Tail(log, 400);
    if (!tail.empty()) error += "; log ends: " + tail;
  }
  finish(mrpb::FAILED, error);
}

void Worker::DropFinishedJobs() {
  std::vector<std::string> drop;
  {
    std::lock_guard<std::mutex> l(mu_);
    for (auto it = finished_jobs_.begin(); it != finished_jobs_.end();) {
      bool busy = false;
      for (auto& [k, a] : attempts_) busy |= a->task.job_id() == *it;
      if (busy) {
        ++it;
        continue;
      }
      drop.push_back(*it);
      job_files_.erase(*it);
      it = finished_jobs_.erase(it);
    }
  }
  for (const auto& j : drop) {
    std::error_code ec;
    fs::remove_all(JobDir(j), ec);
  }
}

void Worker::HeartbeatLoop() {
  while (!stop_) {
    mrpb::HeartbeatRequest req;
    std::vector<std::string> finals;
    {
      std::lock_guard<std::mutex> l(mu_);
      wake_ = false;
      req.set_worker_id(id_);
      req.set_shuffle_address(o_.shuffle_address);
      req.set_datanode(o_.datanode);
      req.set_rack(o_.rack);
      uint32_t maps = 0, reduces = 0;
      for (auto& [k, a] : attempts_) {
        if (a->state == mrpb::RUNNING) (a->task.type() == mrpb::MAP ? maps : reduces)++;
        auto* r = req.add_reports();
        r->set_job_id(a->task.job_id());
        r->set_type(a->task.type());
        r->set_index(a->task.index());
        r->set_attempt(a->task.attempt());
        r->set_state(a->state);
        r->set_progress(a->progress);
        r->set_error(a->error);
        if (a->state != mrpb::RUNNING) {
          for (const auto& c : a->counters) *r->add_counters() = c;
          finals.push_back(k);
        }
      }
      req.set_free_map_slots(o_.map_slots > maps ? o_.map_slots - maps : 0);
      req.set_free_reduce_slots(o_.reduce_slots > reduces ? o_.reduce_slots - reduces : 0);
    }
    mrpb::HeartbeatResponse resp;
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
    grpc::Status st = jobmaster_->Heartbeat(&ctx, req, &resp);
    if (st.ok()) {
      std::lock_guard<std::mutex> l(mu_);
      for (const auto& k : finals) attempts_.erase(k);
      for (const auto& t : resp.launch()) {
        auto a = std::make_shared<Attempt>();
        a->task = t;
        a->name = AttemptName(t.type(), t.index(), t.attempt());
        attempts_[Key(t.job_id(), t.type(), t.index(), t.attempt())] = a;
        std::thread([this, a] { RunAttempt(a); }).detach();
      }
      for (const auto& k : resp.kill()) {
        auto it = attempts_.find(Key(k.job_id(), k.type(), k.index(), k.attempt()));
        if (it == attempts_.end()) continue;
        it->second->kill_requested = true;
        if (it->second->pid > 0) kill(-it->second->pid, SIGKILL);
      }
      for (const auto& j : resp.finished_jobs()) finished_jobs_.insert(j);
    } else {
      spdlog::warn("heartbeat to {} failed: {}", o_.jobmaster, st.error_message());
    }
    DropFinishedJobs();
    std::unique_lock<std::mutex> l(mu_);
    cv_.wait_for(l, std::chrono::milliseconds(o_.heartbeat_ms), [this] { return wake_ || stop_; });
  }
}

}  // namespace dfs::mr
