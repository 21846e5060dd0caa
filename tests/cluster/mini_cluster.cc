#include "tests/cluster/mini_cluster.h"

#include "common/rpc.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <random>
#include <thread>

#include "common/net.h"

namespace dfs {

namespace fs = std::filesystem;

std::string BinDir() {
  const char* env = getenv("DFS_BIN");
  if (env && *env) return env;
  return DFS_SOURCE_DIR "/build/bin";
}

std::string TestData(uint64_t seed, size_t size) {
  std::string out(size, '\0');
  std::mt19937_64 rng(seed * 0x9E3779B97F4A7C15ull + size);
  size_t i = 0;
  for (; i + 8 <= size; i += 8) {
    uint64_t v = rng();
    memcpy(&out[i], &v, 8);
  }
  for (; i < size; ++i) out[i] = static_cast<char>(rng());
  return out;
}

Result<std::unique_ptr<MiniCluster>> MiniCluster::Start(MiniClusterOptions options) {
  // A port chosen free can still be taken by a test running alongside before the
  // namenode binds it: then start again, on other ports.
  for (int attempt = 1;; ++attempt) {
    auto c = StartOnce(options);
    if (c.ok() || attempt == 3 || c.status().message().find("exited at start") == std::string::npos) {
      return c;
    }
    fprintf(stderr, "mini cluster: %s; starting again\n", c.status().message().c_str());
  }
}

Result<std::unique_ptr<MiniCluster>> MiniCluster::StartOnce(MiniClusterOptions options) {
  std::unique_ptr<MiniCluster> c(new MiniCluster(options));
  char tmpl[] = "/tmp/dfs-test-XXXXXX";
  if (!mkdtemp(tmpl)) return ErrnoStatus("mkdtemp", errno);
  c->dir_ = tmpl;
  fs::create_directories(c->dir_ + "/logs");
  std::string peers;
  for (int i = 0; i < options.namenodes; ++i) {
    c->namenode_ports_.push_back(FreePort());
    c->raft_ports_.push_back(FreePort());
    c->namenode_pids_.push_back(-1);
    peers += (i ? "," : "") + std::to_string(i + 1) + "=127.0.0.1:" +
             std::to_string(c->raft_ports_.back());
  }
  for (int i = 0; i < options.namenodes; ++i) {
    std::string out;
    int rc = c->Run("namenode", {"--format", "--dir", c->dir_ + "/namenode" + std::to_string(i),
                                 "--id", std::to_string(i + 1), "--peers", peers},
                    &out);
    if (rc != 0) return Internal("namenode --format failed: " + out);
  }
  for (int i = 0; i < options.namenodes; ++i) RETURN_IF_ERROR(c->StartNamenode(i));
  if (c->WaitForLeader(20'000) < 0) return DeadlineExceeded("no namenode leader elected");
  c->datanode_pids_.assign(static_cast<size_t>(options.datanodes), -1);
  c->datanode_ports_.assign(static_cast<size_t>(options.datanodes), 0);
  for (int i = 0; i < options.datanodes; ++i) RETURN_IF_ERROR(c->StartDatanode(i));
  if (Status live = c->WaitForLiveDatanodes(options.datanodes); !live.ok()) {
    // A datanode whose port was taken meanwhile exits: Start tries again on other ports.
    for (int i = 0; i < options.datanodes; ++i) {
      pid_t& pid = c->datanode_pids_[static_cast<size_t>(i)];
      if (pid > 0 && waitpid(pid, nullptr, WNOHANG) == pid) {
        pid = -1;
        std::ifstream in(c->dir_ + "/logs/datanode" + std::to_string(i) + ".log");
        std::string line, last;
        while (std::getline(in, line)) last = line;
        return Internal("datanode " + std::to_string(i) + " exited at start: " + last);
      }
    }
    return live;
  }
  std::ofstream(c->client_conf_path()) << "namenodes = " << c->namenode_address() << "\n";
  return c;
}

MiniCluster::~MiniCluster() {
  for (int i = 0; i < datanode_count(); ++i) StopDatanode(i);
  for (int i = 0; i < namenode_count(); ++i) StopNamenode(i);
  if (!options_.keep_dir && !getenv("DFS_TEST_KEEP") && !dir_.empty()) {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
}

std::string MiniCluster::namenode_address(int i) const {
  return "127.0.0.1:" + std::to_string(namenode_ports_[static_cast<size_t>(i)]);
}

std::string MiniCluster::namenode_address() const {
  std::string all;
  for (int i = 0; i < namenode_count(); ++i) all += (i ? "," : "") + namenode_address(i);
  return all;
}

int MiniCluster::WaitForLeader(int64_t timeout_ms) const {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (std::chrono::steady_clock::now() < deadline) {
    for (int i = 0; i < namenode_count(); ++i) {
      if (namenode_pids_[static_cast<size_t>(i)] <= 0) continue;
      auto stub = proto::ClientProtocol::NewStub(MakeChannel(namenode_address(i)));
      grpc::ClientContext ctx;
      ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::milliseconds(500));
      proto::GetNamenodeStatusRequest req;
      proto::GetNamenodeStatusResponse resp;
      proto::SafeModeRequest sreq;
      proto::SafeModeResponse sresp;
      // Leads and has caught up (SafeMode is answered by an up-to-date leader only).
      if (stub->GetNamenodeStatus(&ctx, req, &resp).ok() && resp.role() == "leader") {
        grpc::ClientContext ctx2;
        ctx2.set_deadline(std::chrono::system_clock::now() + std::chrono::milliseconds(500));
        if (stub->SafeMode(&ctx2, sreq, &sresp).ok()) return i;
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return -1;
}

Config MiniCluster::client_config() const {
  Config c;
  c.Set("namenodes", namenode_address());
  return c;
}

std::unique_ptr<FileSystem> MiniCluster::Connect() const {
  auto fs = FileSystem::Connect(client_config());
  return fs.ok() ? std::move(*fs) : nullptr;
}

pid_t MiniCluster::StartProcess(const std::string& binary, const std::vector<std::string>& args,
                                const std::string& log_name) {
  std::string log = dir_ + "/logs/" + log_name;
  std::string path = BinDir() + "/" + binary;
  pid_t pid = fork();
  if (pid == 0) {
    int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (fd >= 0) {
      dup2(fd, 1);
      dup2(fd, 2);
    }
    std::vector<char*> argv;
    argv.push_back(const_cast<char*>(path.c_str()));
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    execv(path.c_str(), argv.data());
    _exit(127);
  }
  return pid;
}

void MiniCluster::StopProcess(pid_t* pid, bool graceful) {
  if (*pid <= 0) return;
  kill(*pid, graceful ? SIGTERM : SIGKILL);
  for (int i = 0; i < 100; ++i) {
    if (waitpid(*pid, nullptr, WNOHANG) == *pid) {
      *pid = -1;
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  kill(*pid, SIGKILL);
  waitpid(*pid, nullptr, 0);
  *pid = -1;
}

Status MiniCluster::StartNamenode(int i) {
  pid_t& pid = namenode_pids_[static_cast<size_t>(i)];
  if (pid > 0) return Status::Ok();
  std::string log = "namenode" + std::to_string(i) + ".log";
  pid = StartProcess("namenode",
                        {"--dir", dir_ + "/namenode" + std::to_string(i), "--id",
                         std::to_string(i + 1), "--address", namenode_address(i),
                         "--raft-tick-ms", std::to_string(options_.raft_tick_ms),
                         "--block-size", options_.block_size, "--replication",
                         std::to_string(options_.replication), "--dead-interval-ms",
                         std::to_string(options_.dead_interval_ms), "--checkpoint-every",
                         std::to_string(options_.checkpoint_every), "--replication-streams",
                         std::to_string(options_.replication_streams), "--lease-limit-ms",
                         std::to_string(options_.lease_limit_ms)},
                        log);
  auto stub = proto::ClientProtocol::NewStub(MakeChannel(namenode_address(i)));
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (std::chrono::steady_clock::now() < deadline) {
    if (waitpid(pid, nullptr, WNOHANG) == pid) {
      pid = -1;
      std::ifstream in(dir_ + "/logs/" + log);
      std::string line, last;
      while (std::getline(in, line)) last = line;
      return Internal("namenode exited at start: " + last);
    }
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::milliseconds(500));
    proto::GetNamenodeStatusRequest req;
    proto::GetNamenodeStatusResponse resp;
    if (stub->GetNamenodeStatus(&ctx, req, &resp).ok()) {
      if (namenode_count() > 1 || WaitForLeader(20'000) >= 0) return Status::Ok();
      return DeadlineExceeded("namenode did not become leader; see " + dir_ + "/logs/" + log);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return DeadlineExceeded("namenode did not start; see " + dir_ + "/logs/" + log);
}

void MiniCluster::StopNamenode(int i, bool graceful) {
  StopProcess(&namenode_pids_[static_cast<size_t>(i)], graceful);
}

std::string MiniCluster::datanode_volume_dir(int i, int volume) const {
  return dir_ + "/datanode" + std::to_string(i) + (volume ? "-vol" + std::to_string(volume) : "");
}

Status MiniCluster::StartDatanode(int i) {
  auto idx = static_cast<size_t>(i);
  if (datanode_pids_[idx] > 0) return Status::Ok();
  // A restarted datanode keeps its port, as a real one would keep its address.
  if (datanode_ports_[idx] == 0) datanode_ports_[idx] = FreePort();
  std::vector<std::string> args = {
      "--namenodes", namenode_address(), "--port", std::to_string(datanode_ports_[idx]),
      "--heartbeat-interval-ms", std::to_string(options_.heartbeat_interval_ms),
      "--scan-period-ms", std::to_string(options_.scan_period_ms), "--scan-rate", "512M"};
  for (int v = 0; v < options_.volumes; ++v) {
    args.push_back("--data-dir");
    args.push_back(datanode_volume_dir(i, v));
  }
  datanode_pids_[idx] = StartProcess("datanode", args, "datanode" + std::to_string(i) + ".log");
  return Status::Ok();
}

void MiniCluster::StopDatanode(int i, bool graceful) {
  StopProcess(&datanode_pids_[static_cast<size_t>(i)], graceful);
}

Status MiniCluster::WaitForLiveDatanodes(int n, int64_t timeout_ms) const {
  auto fs = Connect();
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  uint32_t live = 0;
  while (std::chrono::steady_clock::now() < deadline) {
    auto st = fs->GetStats();
    if (st.ok()) {
      live = st->live_datanodes();
      if (live == static_cast<uint32_t>(n)) return Status::Ok();
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return DeadlineExceeded("only " + std::to_string(live) + " of " + std::to_string(n) +
                          " datanodes live; logs in " + dir_ + "/logs");
}

int MiniCluster::Run(const std::string& binary, const std::vector<std::string>& args,
                     std::string* out, const std::string& input) const {
  std::string cmd = "DFS_CONF=" + client_conf_path() + " " + BinDir() + "/" + binary;
  for (const auto& a : args) cmd += " '" + a + "'";
  std::string in_file = dir_ + "/stdin";
  std::ofstream(in_file) << input;
  cmd += " < " + in_file + " 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return -1;
  std::string output;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) output.append(buf, n);
  int status = pclose(p);
  if (out) *out = output;
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

}  // namespace dfs
