#include "mapreduce/streaming.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <mutex>
#include <thread>
#include <vector>

namespace dfs::mr {

namespace {

// One run of a command: lines written to its stdin, lines read from its stdout by a
// thread and handed out with Drain on the caller's thread.
class Command {
 public:
  ~Command() {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      Finish().ok();
    }
  }

  Status Start(const std::string& cmd) {
    cmd_ = cmd;
    signal(SIGPIPE, SIG_IGN);
    int in[2], out[2];
    if (pipe2(in, O_CLOEXEC) != 0 || pipe2(out, O_CLOEXEC) != 0) return ErrnoStatus("pipe", errno);
    pid_ = fork();
    if (pid_ < 0) return ErrnoStatus("fork", errno);
    if (pid_ == 0) {
      prctl(PR_SET_PDEATHSIG, SIGKILL);
      dup2(in[0], 0);
      dup2(out[1], 1);
      signal(SIGPIPE, SIG_DFL);
      execl("/bin/sh", "sh", "-c", cmd.c_str(), static_cast<char*>(nullptr));
      _exit(127);
    }
    ::close(in[0]);
    ::close(out[1]);
    stdin_ = in[1];
    stdout_ = out[0];
    reader_ = std::thread([this] { ReadLoop(); });
    return Status::Ok();
  }

  Status Write(std::string_view key, std::string_view value, bool with_value) {
    buf_.append(key);
    if (with_value) {
      buf_.push_back('\t');
      buf_.append(value);
    }
    buf_.push_back('\n');
    return buf_.size() >= (64 << 10) ? Flush() : Status::Ok();
  }

  // Hands each finished output line to fn.
  void Drain(const std::function<void(std::string_view)>& fn) {
    std::vector<std::string> lines;
    {
      std::lock_guard<std::mutex> l(mu_);
      lines.swap(lines_);
    }
    for (const auto& line : lines) fn(line);
  }

  // Closes stdin, waits for the command, then drains the rest of its output.
  Status Finish(const std::function<void(std::string_view)>& fn = nullptr) {
    Status st = Flush();
    if (stdin_ >= 0) ::close(stdin_);
    stdin_ = -1;
    if (reader_.joinable()) reader_.join();
    if (stdout_ >= 0) ::close(stdout_);
    stdout_ = -1;
    int status = 0;
    if (pid_ > 0) waitpid(pid_, &status, 0);
    pid_ = -1;
    if (fn) Drain(fn);
    if (WIFSIGNALED(status)) {
      return Internal("streaming command '" + cmd_ + "' killed by signal " +
                      std::to_string(WTERMSIG(status)));
    }
    if (WEXITSTATUS(status) != 0) {
      return Internal("streaming command '" + cmd_ + "' exited with code " +
                      std::to_string(WEXITSTATUS(status)));
    }
    // A command that stopped reading early (like head) is not an error.
    if (!st.ok() && st.code() != Code::kAborted) return st;
    return Status::Ok();
  }

 private:
  Status Flush() {
    size_t done = 0;
    while (done < buf_.size() && stdin_ >= 0) {
      ssize_t n = ::write(stdin_, buf_.data() + done, buf_.size() - done);
      if (n < 0) {
        if (errno == EINTR) continue;
        buf_.clear();
        if (errno == EPIPE) return Aborted("command closed its input");
        return ErrnoStatus("write to streaming command", errno);
      }
      done += static_cast<size_t>(n);
    }
    buf_.clear();
    return Status::Ok();
  }

  void ReadLoop() {
    std::string pending;
    char buf[65536];
    ssize_t n;
    while ((n = ::read(stdout_, buf, sizeof buf)) > 0 || (n < 0 && errno == EINTR)) {
      if (n < 0) continue;
      pending.append(buf, static_cast<size_t>(n));
      size_t start = 0, nl;
      std::vector<std::string> got;
      while ((nl = pending.find('\n', start)) != std::string::npos) {
        got.emplace_back(pending, start, nl - start);
        start = nl + 1;
      }
      pending.erase(0, start);
      std::lock_guard<std::mutex> l(mu_);
      for (auto& g : got) lines_.push_back(std::move(g));
    }
    std::lock_guard<std::mutex> l(mu_);
    if (!pending.empty()) lines_.push_back(pending);
  }

  std::string cmd_;
  pid_t pid_ = -1;
  int stdin_ = -1, stdout_ = -1;
  std::string buf_;
  std::thread reader_;
  std::mutex mu_;
  std::vector<std::string> lines_;  // guarded by mu_
};

void EmitKeyValue(Context& ctx, std::string_view line) {
  auto tab = line.find('\t');
  if (tab == std::string_view::npos)
    ctx.Emit(line, "");
  else
    ctx.Emit(line.substr(0, tab), line.substr(tab + 1));
}

class StreamingMapper : public Mapper {
 public:
  Status Setup(Context& ctx) override { return cmd_.Start(ctx.task().spec().mapper_cmd()); }
  Status Map(uint64_t, std::string_view line, Context& ctx) override {
    Status st = cmd_.Write(line, "", false);
    cmd_.Drain([&](std::string_view l) { EmitKeyValue(ctx, l); });
    return st.code() == Code::kAborted ? Status::Ok() : st;
  }
  Status Cleanup(Context& ctx) override {
    return cmd_.Finish([&](std::string_view l) { EmitKeyValue(ctx, l); });
  }

 private:
  Command cmd_;
};

// Combiner (key-value output) or reducer (output lines as they are).
class StreamingReducer : public Reducer {
 public:
  explicit StreamingReducer(bool combiner) : combiner_(combiner) {}
  Status Setup(Context& ctx) override {
    const auto& spec = ctx.task().spec();
    return cmd_.Start(combiner_ ? spec.combiner_cmd() : spec.reducer_cmd());
  }
  Status Reduce(std::string_view key, Values& values, Context& ctx) override {
    std::string_view v;
    while (values.Next(&v)) {
      Status st = cmd_.Write(key, v, !v.empty());
      if (!st.ok() && st.code() != Code::kAborted) return st;
    }
    cmd_.Drain([&](std::string_view l) { Out(ctx, l); });
    return Status::Ok();
  }
  Status Cleanup(Context& ctx) override {
    return cmd_.Finish([&](std::string_view l) { Out(ctx, l); });
  }

 private:
  void Out(Context& ctx, std::string_view line) {
    if (combiner_)
      EmitKeyValue(ctx, line);
    else
      ctx.Emit(line, "");
  }
  bool combiner_;
  Command cmd_;
};

class IdentityReducer : public Reducer {
 public:
  Status Reduce(std::string_view key, Values& values, Context& ctx) override {
    std::string_view v;
    while (values.Next(&v)) ctx.Emit(key, v);
    return Status::Ok();
  }
};

}  // namespace

Job StreamingJob(const mrpb::JobSpec& spec) {
  Job job;
  job.mapper = [] { return std::make_unique<StreamingMapper>(); };
  if (spec.reducer_cmd().empty()) {
    job.reducer = [] { return std::make_unique<IdentityReducer>(); };
  } else {
    job.reducer = [] { return std::make_unique<StreamingReducer>(false); };
  }
  if (!spec.combiner_cmd().empty()) {
    job.combiner = [] { return std::make_unique<StreamingReducer>(true); };
  }
  return job;
}

}  // namespace dfs::mr
