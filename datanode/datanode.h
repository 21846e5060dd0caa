// The datanode daemon: a block store, the data-transfer server, and, for every namenode
// replica, a loop that registers, heartbeats and reports blocks (so a new leader already
// knows where blocks are). Commands (delete replicas, replicate a block to other
// datanodes) are carried out only from a namenode that says it leads in the highest term
// this datanode has seen: a deposed leader is ignored.
// Thread-safe.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "datanode/block_scanner.h"
#include "datanode/block_store.h"
#include "datanode/data_transfer.h"
#include "proto/datanode.grpc.pb.h"

namespace dfs {

// Decides whose commands to follow: a namenode's answer counts only if it says it leads
// in a term at least as high as any leader term seen before. Thread-safe.
class LeaderFilter {
 public:
  bool Accept(bool leader, uint64_t term) {
    if (!leader) return false;
    uint64_t seen = highest_.load();
    while (term > seen && !highest_.compare_exchange_weak(seen, term)) {
    }
    return term >= highest_.load();
  }

 private:
  std::atomic<uint64_t> highest_{0};
};

struct DatanodeOptions {
  std::vector<std::string> data_dirs;
  std::string host = "127.0.0.1";  // address others use to reach this datanode
  uint16_t data_port = 0;          // 0 = any free port
  std::vector<std::string> namenodes;  // host:port of every namenode replica
  int64_t heartbeat_interval_ms = 3000;
  int64_t scan_period_ms = 3'600'000;   // the block scanner starts a pass this often
  uint64_t scan_bytes_per_second = 8 << 20;
  size_t max_failed_volumes = SIZE_MAX;  // more failed data directories stop the datanode
  // Called (once) when the datanode cannot go on: too many failed data directories.
  std::function<void(const Status&)> on_fatal;
};

class Datanode {
 public:
  explicit Datanode(DatanodeOptions options) : options_(std::move(options)) {}
  ~Datanode();

  // Opens the store and starts serving; returns the data port.
  Result<uint16_t> Start();
  void Stop();

 private:
  // One per namenode replica; see ReportLoop.
  struct Actor {
    std::string address;
    std::unique_ptr<proto::DatanodeProtocol::Stub> stub;
    proto::BlockReceivedAndDeletedRequest pending;  // guarded by mu_
    std::thread thread;
  };
  void ReportLoop(Actor* a);
  Status RegisterAndReport(Actor* a);
  void Execute(const proto::DatanodeCommand& cmd);
  void Replicate(proto::Block block, std::vector<proto::DatanodeId> targets);
  void QueueReport(const proto::Block& b, int kind);
  // Every couple of seconds: probes the data directories; the replicas of one that failed
  // are reported deleted, so the namenode copies them again.
  void VolumeCheckLoop();

  const DatanodeOptions options_;
  std::unique_ptr<BlockStore> store_;
  std::unique_ptr<DataTransferServer> server_;
  std::unique_ptr<BlockScanner> scanner_;
  std::vector<std::unique_ptr<Actor>> actors_;
  std::thread volume_checker_;
  LeaderFilter leader_filter_;
  proto::DatanodeId id_;

  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;                         // guarded by mu_
  int replications_running_ = 0;                  // guarded by mu_
};

}  // namespace dfs
