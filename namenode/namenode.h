// The namenode daemon: the namespace (a state machine made durable by a ReplicatedLog),
// the block map, the datanode manager, and the gRPC services over them.
//
// Locking: one reader-writer lock guards the namespace, the block map and the datanode
// manager (like HDFS's namesystem lock). Queries hold it shared; Apply, heartbeats and
// reports hold it exclusively. Thread-safe.
#pragma once

#include <atomic>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <thread>
#include <unordered_map>

#include <grpcpp/grpcpp.h>
#include <grpcpp/impl/codegen/service_type.h>

#include "common/clock.h"
#include "namenode/block_manager.h"
#include "namenode/datanode_manager.h"
#include "namenode/namespace.h"
#include "namenode/replicated_log.h"
#include "namenode/retry_cache.h"

namespace dfs {

struct NamenodeOptions {
  std::string dir;                      // edit log and checkpoint image
  std::string address = "127.0.0.1:0";  // gRPC listen address
  int64_t dead_interval_ms = 30'000;    // a datanode silent this long is dead
  uint64_t default_block_size = 128ull << 20;
  uint32_t default_replication = 3;
  uint64_t checkpoint_every = 100'000;  // log entries between checkpoints
  int64_t lease_limit_ms = 60'000;      // a writer silent this long loses its files' leases
  std::string topology_file;            // "host /rack" lines; empty: one rack
};

// Everything the services read and change, handed out under the lock.
struct NamenodeState {
  const Namespace& ns;
  BlockManager& blocks;
  DatanodeManager& datanodes;
  const NamenodeOptions& options;
};

class Namenode : public StateMachine {
 public:
  Namenode(NamenodeOptions options, const Clock* clock);
  ~Namenode() override;

  // Recovers the namespace from disk and starts serving. Returns the bound port.
  Result<int> Start();
  void Shutdown();
  void Wait();

  // Makes op durable and applies it; returns what Apply produced (op's own refusal is in
  // the result's status). A retried (client id, call id) returns the first result.
  Result<OpResult> Submit(proto::Op op);

  void WithReadLock(const std::function<void(const NamenodeState&)>& fn);
  void WithWriteLock(const std::function<void(const NamenodeState&)>& fn);
  const Clock* clock() const { return clock_; }
  // A client holding leases is alive (any write call or RenewLease).
  void RenewLease(const std::string& client);

  // StateMachine.
  void Apply(uint64_t index, const std::string& entry) override;
  Result<uint64_t> SaveSnapshot(const std::string& path) override;
  Result<uint64_t> RestoreSnapshot(const std::string& path) override;

 private:
  void MonitorLoop();
  // Closes the files of writers whose lease expired (see RecoverLeaseOp).
  void RecoverExpiredLeases();

  const NamenodeOptions options_;
  const Clock* clock_;
  std::shared_mutex mu_;
  Namespace ns_;
  std::unique_ptr<DatanodeManager> datanodes_;
  std::unique_ptr<BlockManager> blocks_;
  RetryCache retry_cache_{200'000};
  uint64_t last_applied_ = 0;

  std::unique_ptr<ReplicatedLog> log_;
  std::string internal_client_id_;
  std::atomic<uint64_t> next_internal_call_{1};
  std::unique_ptr<grpc::Service> client_service_;
  std::unique_ptr<grpc::Service> datanode_service_;
  std::unique_ptr<grpc::Server> server_;

  std::mutex lease_mu_;
  std::unordered_map<std::string, int64_t> lease_renewed_ms_;  // guarded by lease_mu_

  std::mutex stop_mu_;
  std::condition_variable stop_cv_;
  bool stopping_ = false;
  std::thread monitor_;
};

std::unique_ptr<grpc::Service> MakeClientService(Namenode* nn);
std::unique_ptr<grpc::Service> MakeDatanodeService(Namenode* nn);

}  // namespace dfs
