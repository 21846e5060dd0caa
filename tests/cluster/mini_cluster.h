// MiniCluster: the one fixture that starts a real cluster for integration tests and
// benchmarks: the namenode and datanode binaries as separate processes on free loopback
// ports, with all data and logs under a temporary directory that is removed afterwards.
// Processes are stopped by the pids this fixture started, never by name.
//
// Not thread-safe: one test thread drives it.
#pragma once

#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

#include "client/file_system.h"
#include "common/config.h"
#include "common/status.h"
#include "tests/common/free_port.h"

namespace dfs {

struct MiniClusterOptions {
  int namenodes = 1;  // replicas of the namenode group
  int raft_tick_ms = 50;  // namenodes suspect a dead leader after 10-20 ticks
  int datanodes = 4;
  int volumes = 1;  // data directories per datanode
  std::string block_size = "4M";
  int replication = 3;
  int64_t dead_interval_ms = 30'000;
  int64_t heartbeat_interval_ms = 1'000;
  uint64_t checkpoint_every = 100'000;
  int64_t scan_period_ms = 3'600'000;  // datanodes' block scanner
  int64_t lease_limit_ms = 60'000;
  int replication_streams = 4;  // namenode's healing throttle
  bool keep_dir = false;  // leave data and logs behind (also: DFS_TEST_KEEP=1)
};

class MiniCluster {
 public:
  static Result<std::unique_ptr<MiniCluster>> Start(MiniClusterOptions options = {});
  ~MiniCluster();

  // A client configuration listing the namenodes, and a client connected with it.
  Config client_config() const;
  std::unique_ptr<FileSystem> Connect() const;
  // Path of a client.conf file for the dfs binary.
  std::string client_conf_path() const { return dir_ + "/client.conf"; }
  const std::string& dir() const { return dir_; }
  // Every namenode's client address, comma-separated (as in client.conf), or one.
  std::string namenode_address() const;
  std::string namenode_address(int i) const;
  int namenode_count() const { return static_cast<int>(namenode_pids_.size()); }

  // Starts namenode i (again) and waits until it answers; with one namenode, until it
  // serves as leader.
  Status StartNamenode(int i = 0);
  // SIGKILL (no chance to flush anything) unless graceful.
  void StopNamenode(int i = 0, bool graceful = false);
  bool namenode_running(int i) const { return namenode_pids_[static_cast<size_t>(i)] > 0; }
  pid_t namenode_pid(int i) const { return namenode_pids_[static_cast<size_t>(i)]; }
  // The index of the namenode that leads (asking each running one), or -1 if none
  // within timeout_ms.
  int WaitForLeader(int64_t timeout_ms = 10'000) const;
  Status StartDatanode(int i);
  void StopDatanode(int i, bool graceful = false);
  std::string datanode_data_dir(int i) const { return datanode_volume_dir(i, 0); }
  std::string datanode_volume_dir(int i, int volume) const;
  uint16_t datanode_port(int i) const { return datanode_ports_[static_cast<size_t>(i)]; }
  int datanode_count() const { return static_cast<int>(datanode_pids_.size()); }
  pid_t datanode_pid(int i) const { return datanode_pids_[static_cast<size_t>(i)]; }

  // Waits until the namenode reports n live datanodes.
  Status WaitForLiveDatanodes(int n, int64_t timeout_ms = 20'000) const;
  // Starts a binary from build/bin in the background, output to logs/<log>; returns its
  // pid. StopProcess kills it (SIGTERM first if graceful) and reaps it.
  pid_t StartProcess(const std::string& binary, const std::vector<std::string>& args,
                     const std::string& log);
  static void StopProcess(pid_t* pid, bool graceful);
  // Runs a binary from build/bin with args; returns its exit code, output in *out.
  int Run(const std::string& binary, const std::vector<std::string>& args,
          std::string* out = nullptr, const std::string& input = "") const;

 private:
  explicit MiniCluster(MiniClusterOptions o) : options_(std::move(o)) {}
  static Result<std::unique_ptr<MiniCluster>> StartOnce(MiniClusterOptions options);

  MiniClusterOptions options_;
  std::string dir_;
  std::vector<uint16_t> namenode_ports_;
  std::vector<uint16_t> raft_ports_;
  std::vector<pid_t> namenode_pids_;
  std::vector<pid_t> datanode_pids_;
  std::vector<uint16_t> datanode_ports_;
};

// The directory holding the project's binaries ($DFS_BIN, else build/bin).
std::string BinDir();
// Deterministic pseudo-random bytes: the same (seed, size) always gives the same data.
std::string TestData(uint64_t seed, size_t size);

}  // namespace dfs
