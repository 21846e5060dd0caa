// The namenode daemon: one replica of the namenode group. The namespace is a state
// machine replicated by Raft (namenode/raft/node.h); the block map and the datanode
// manager are soft state every replica builds from datanode reports. The leader serves
// clients (writes through the log, reads after a ReadIndex barrier) and makes the
// replication, deletion and lease decisions; followers answer clients with Unavailable.
// A new leader starts in safe mode (no replication or deletion decisions) until enough
// blocks have a reported replica.
//
// Locking: one reader-writer lock guards the namespace, the block map and the datanode
// manager (like HDFS's namesystem lock). Queries hold it shared; Apply, heartbeats and
// reports hold it exclusively. Thread-safe.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <shared_mutex>
#include <string>
#include <thread>
#include <unordered_map>

#include <grpcpp/grpcpp.h>
#include <grpcpp/impl/codegen/service_type.h>

#include "common/async_unary.h"
#include "common/clock.h"
#include "namenode/block_manager.h"
#include "namenode/datanode_manager.h"
#include "namenode/namespace.h"
#include "namenode/raft/node.h"
#include "namenode/retry_cache.h"

namespace dfs {

struct NamenodeOptions {
  std::string dir;                      // Raft log and snapshots (formatted: see main.cc)
  uint64_t id = 1;                      // this replica's id in the namenode group
  std::string raft_address;             // joining a group only: where Raft listens
  int raft_tick_ms = 100;               // election timeout is 10 ticks
  std::string address = "127.0.0.1:0";  // gRPC listen address
  int64_t dead_interval_ms = 30'000;    // a datanode silent this long is dead
  uint64_t default_block_size = 128ull << 20;
  uint32_t default_replication = 3;
  uint64_t checkpoint_every = 100'000;  // log entries between snapshots
  double safe_mode_threshold = 0.999;   // share of blocks with a replica to leave safe mode
  int64_t lease_limit_ms = 60'000;      // a writer silent this long loses its files' leases
  size_t replication_streams = 4;       // block copies a datanode is given per second at most
  std::string topology_file;            // "host /rack" lines; empty: one rack
};

// Everything the services read and change, handed out under the lock.
struct NamenodeState {
  const Namespace& ns;
  BlockManager& blocks;
  DatanodeManager& datanodes;
  const NamenodeOptions& options;
};

struct SafeModeState {
  bool on = false;
  bool manual = false;  // entered by an operator; only an operator leaves it
  uint64_t blocks_total = 0;
  uint64_t blocks_reported = 0;
};

class Namenode : public StateMachine {
 public:
  Namenode(NamenodeOptions options, const Clock* clock);
  ~Namenode() override;

  // Recovers the namespace from disk and starts serving. Returns the bound port.
  Result<int> Start();
  void Shutdown();
  void Wait();

  // Makes op durable on a quorum and applies it; returns what Apply produced (op's own
  // refusal is in the result's status). A retried (client id, call id) returns the first
  // result. Unavailable on a replica that is not the leader.
  Result<OpResult> Submit(proto::Op op);
  // The same without blocking: done runs (on the log's apply thread, or at once) with
  // what Submit would return.
  void SubmitAsync(proto::Op op, std::function<void(Result<OpResult>)> done);
  // Several at once, proposed together (one log write for them all).
  struct Submission {
    proto::Op op;
    std::function<void(Result<OpResult>)> done;
  };
  void SubmitAsync(std::vector<Submission> subs);
  // The result of op's (client id, call id) if a call with them was applied already.
  std::optional<OpResult> CachedResult(const proto::Op& op);
  // Waits until this replica reflects every write committed before the call (ReadIndex).
  // Unavailable if it is not the leader.
  Status ReadBarrier();
  // The same without blocking: done runs once the barrier is passed (or failed).
  void ReadBarrierAsync(std::function<void(Status)> done);
  bool IsLeader() { return leader_term_ != 0; }
  uint64_t leader_term() { return leader_term_; }
  raft::Node& raft() { return *node_; }

  SafeModeState GetSafeMode();
  // REQUIRES: the lock (WithReadLock or WithWriteLock) is held.
  bool InSafeModeLocked() const { return safe_mode_.on; }
  // Operator: enter (manual) or leave safe mode. Leader only.
  Status SetSafeMode(bool on);
  // Hex digest of the namespace and the applied index it was taken at; replicas that
  // applied the same entries have the same digest.
  Result<std::pair<std::string, uint64_t>> Digest();

  void WithReadLock(const std::function<void(const NamenodeState&)>& fn);
  void WithWriteLock(const std::function<void(const NamenodeState&)>& fn);
  const Clock* clock() const { return clock_; }
  const NamenodeOptions& options() const { return options_; }
  // A client holding leases is alive (any write call or RenewLease).
  void RenewLease(const std::string& client);

  // StateMachine.
  void Apply(uint64_t index, const std::string& entry) override;
  Result<uint64_t> SaveSnapshot(const std::string& path) override;
  Result<uint64_t> RestoreSnapshot(const std::string& path) override;

 private:
  void MonitorLoop();
  void OnLeadership(bool leader, uint64_t term);
  // Leaves automatic safe mode once enough blocks have a live replica. REQUIRES: mu_.
  void CheckSafeMode();
  // Closes the files of writers whose lease expired (see RecoverLeaseOp), recovering
  // their last block first when datanodes hold unfinished replicas of it.
  void RecoverExpiredLeases();
  // One step of recovering a file's last block; returns the op to submit, if any.
  std::optional<proto::Op> RecoverLastBlock(const Inode& f, int64_t now);
  void StartBlockRecovery(uint64_t block_id, const proto::Block& bumped);
  void FinishBlockRecovery(uint64_t block_id, uint64_t length);

  const NamenodeOptions options_;
  const Clock* clock_;
  std::shared_mutex mu_;
  Namespace ns_;
  std::unique_ptr<DatanodeManager> datanodes_;
  std::unique_ptr<BlockManager> blocks_;
  RetryCache retry_cache_{200'000, 10 * 60'000};  // ten minutes
  uint64_t last_applied_ = 0;

  std::unique_ptr<raft::Node> node_;
  std::atomic<uint64_t> leader_term_{0};  // the term this replica leads in, 0 if none
  SafeModeState safe_mode_;               // guarded by mu_
  std::chrono::steady_clock::time_point safe_mode_next_check_;  // guarded by mu_
  std::string internal_client_id_;
  std::atomic<uint64_t> next_internal_call_{1};
  std::unique_ptr<AsyncUnaryServer> async_;  // serves the client service's hot methods
  std::unique_ptr<grpc::Service> client_service_;
  std::unique_ptr<grpc::Service> datanode_service_;
  std::unique_ptr<grpc::Server> server_;

  std::mutex lease_mu_;
  std::unordered_map<std::string, int64_t> lease_renewed_ms_;  // guarded by lease_mu_
  // A file's last block under recovery (leader only), by block id.
  struct BlockRecovery {
    uint64_t generation_stamp = 0;  // 0: not started (no replica reported yet)
    int64_t started_ms = 0;
    int64_t commands_sent_ms = 0;
    std::set<std::string> holders;  // datanodes told to recover their replica
  };
  std::unordered_map<uint64_t, BlockRecovery> recoveries_;  // guarded by lease_mu_

  std::mutex stop_mu_;
  std::condition_variable stop_cv_;
  bool stopping_ = false;
  std::thread monitor_;
};

std::unique_ptr<grpc::Service> MakeClientService(Namenode* nn, AsyncUnaryServer* async);
std::unique_ptr<grpc::Service> MakeDatanodeService(Namenode* nn);

}  // namespace dfs
