// The datanode daemon: a block store, the data-transfer server, and the loop that
// registers with the namenode, heartbeats, reports blocks and carries out the namenode's
// commands (delete replicas, replicate a block to other datanodes).
// Thread-safe.
#pragma once

#include <condition_variable>
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

struct DatanodeOptions {
  std::vector<std::string> data_dirs;
  std::string host = "127.0.0.1";  // address others use to reach this datanode
  uint16_t data_port = 0;          // 0 = any free port
  std::string namenode;            // host:port
  int64_t heartbeat_interval_ms = 3000;
  int64_t scan_period_ms = 3'600'000;   // the block scanner starts a pass this often
  uint64_t scan_bytes_per_second = 8 << 20;
};

class Datanode {
 public:
  explicit Datanode(DatanodeOptions options) : options_(std::move(options)) {}
  ~Datanode();

  // Opens the store and starts serving; returns the data port.
  Result<uint16_t> Start();
  void Stop();

 private:
  void ReportLoop();
  Status RegisterAndReport();
  void Execute(const proto::DatanodeCommand& cmd);
  void Replicate(proto::Block block, std::vector<proto::DatanodeId> targets);
  void QueueReport(const proto::Block& b, int kind);

  const DatanodeOptions options_;
  std::unique_ptr<BlockStore> store_;
  std::unique_ptr<DataTransferServer> server_;
  std::unique_ptr<BlockScanner> scanner_;
  std::unique_ptr<proto::DatanodeProtocol::Stub> namenode_;
  proto::DatanodeId id_;

  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;                         // guarded by mu_
  proto::BlockReceivedAndDeletedRequest pending_;  // guarded by mu_
  int replications_running_ = 0;                  // guarded by mu_
  std::thread report_thread_;
};

}  // namespace dfs
