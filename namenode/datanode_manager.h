// The namenode's view of its datanodes: registration, heartbeats, liveness, and the
// commands waiting for each datanode's next heartbeat. Soft state, rebuilt from
// registrations after a restart.
//
// Not thread-safe: the namenode calls it under its lock.
#pragma once

#include <algorithm>
#include <cstdint>
#include <deque>
#include <map>
#include <set>
#include <string>
#include <unordered_set>
#include <vector>

#include "common/clock.h"
#include "namenode/placement.h"
#include "proto/datanode.pb.h"

namespace dfs {

struct DatanodeState {
  proto::DatanodeId id;
  proto::StorageReport storage;
  int64_t last_heartbeat_ms = 0;
  int64_t heartbeat_interval_ms = 0;  // as the datanode says; 0 until its first heartbeat
  bool live = true;
  // An operator took it out of service: no new replicas go to it, its replicas do not
  // count toward replication (they are copied elsewhere), it still serves reads.
  bool decommissioning = false;
  bool decommissioned = false;  // ... and every block it holds has enough replicas elsewhere
  uint32_t active_transfers = 0;
  uint64_t scheduled_bytes = 0;  // blocks placed here and not yet reported received
  std::unordered_set<uint64_t> blocks;
  std::deque<proto::DatanodeCommand> commands;
};

class DatanodeManager {
 public:
  // A datanode silent for dead_after_ms is dead. One silent for a quarter of that, and
  // for three of its heartbeat intervals, is stale: reads try it last and new replicas
  // avoid it (with 3 s heartbeats and the default 30 s, after 9 s).
  DatanodeManager(const Clock* clock, int64_t dead_after_ms, Topology topology)
      : clock_(clock),
        dead_after_ms_(dead_after_ms),
        stale_after_ms_(dead_after_ms / 4),
        topology_(std::move(topology)) {}

  // Adds or refreshes a datanode. A datanode that registers again keeps no old replicas:
  // the caller drops them from the block map first (RegisteredBlocks).
  DatanodeState& Register(const proto::DatanodeId& id, const proto::StorageReport& storage);
  // Returns null if the datanode is unknown (it must register again).
  DatanodeState* Heartbeat(const std::string& uuid, const proto::StorageReport& storage,
                           uint32_t active_transfers, int64_t interval_ms = 0);
  // Marks datanodes silent for longer than the dead interval as dead; returns them.
  std::vector<DatanodeState*> CheckDead();

  // The datanodes (uuids) an operator took out of service, from the replicated state.
  void SetOutOfService(const std::set<std::string>& uuids);
  // "in service", "decommissioning" or "decommissioned".
  static const char* AdminState(const DatanodeState& dn);

  DatanodeState* Find(const std::string& uuid);
  const std::map<std::string, DatanodeState>& all() const { return nodes_; }
  // Probably dead (see the constructor). Reads try it last, new replicas go to it only
  // if nothing else will do.
  bool IsStale(const DatanodeState& dn) const {
    return clock_->NowMs() - dn.last_heartbeat_ms >
           std::max(stale_after_ms_, 3 * dn.heartbeat_interval_ms);
  }
  // Where new replicas may go: live datanodes in service, stale ones marked.
  std::vector<PlacementCandidate> LiveCandidates() const;
  // Takes the commands queued for a datanode (at most max).
  std::vector<proto::DatanodeCommand> TakeCommands(DatanodeState* dn, size_t max);

  int64_t NowMs() const { return clock_->NowMs(); }

 private:
  const Clock* clock_;
  const int64_t dead_after_ms_;
  const int64_t stale_after_ms_;
  const Topology topology_;
  std::map<std::string, DatanodeState> nodes_;
  std::set<std::string> out_of_service_;
};

}  // namespace dfs
