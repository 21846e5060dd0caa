// The block map: which datanodes hold a replica of each block, which replicas are
// corrupt, and the replication work that follows (replicate under-replicated blocks,
// delete excess, corrupt and orphaned replicas). Soft state: rebuilt from block reports,
// never logged. Which blocks exist, and their generation stamps, is the namespace's.
//
// Not thread-safe: the namenode calls it under its lock.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "namenode/datanode_manager.h"
#include "namenode/namespace.h"

namespace dfs {

class BlockManager {
 public:
  BlockManager(const Namespace* ns, DatanodeManager* datanodes)
      : ns_(ns), datanodes_(datanodes) {}

  // A full report replaces what the map knew of the datanode's replicas. Replicas of
  // blocks the namespace does not know, or with an old generation stamp, are deleted.
  void ProcessFullReport(DatanodeState* dn, const std::vector<proto::Block>& blocks);
  void BlockReceived(DatanodeState* dn, const proto::Block& block);
  void BlockDeleted(DatanodeState* dn, uint64_t block_id);
  // A replica whose writer went away. Kept (for lease recovery) if it is of the last block
  // of a file being written; otherwise deleted.
  void ReplicaUnfinished(DatanodeState* dn, const proto::Block& block);
  // The file was closed with this last block: unfinished replicas of it left by a broken
  // pipeline (older stamps) are deleted.
  void FileClosed(const proto::Block& last);
  // Live datanodes holding an unfinished replica of the block, and what each holds.
  std::map<std::string, uint64_t> Unfinished(uint64_t block_id) const;
  // Whether any datanode, live or not, reported an unfinished replica of the block.
  bool AnyUnfinished(uint64_t block_id) const;
  // Block recovery gave the block a new generation stamp: only replicas reported from
  // now on count.
  void ForgetReplicas(uint64_t block_id);
  // The length each live datanode reported for its good finalized replica.
  std::map<std::string, uint64_t> ReplicaLengths(uint64_t block_id) const;
  // A reader or scanner found this replica bad: it is no longer served, and is replaced.
  void MarkCorrupt(uint64_t block_id, const std::string& uuid);
  void DatanodeDead(DatanodeState* dn);
  // The namespace dropped these blocks: every replica is deleted.
  void RemoveBlocks(const std::vector<proto::Block>& blocks);

  // Datanodes with a good replica, live ones only; those being decommissioned last.
  std::vector<const DatanodeState*> Locations(uint64_t block_id) const;
  size_t GoodReplicas(uint64_t block_id) const;
  // Good replicas on live datanodes in service: what counts toward replication.
  size_t InServiceReplicas(uint64_t block_id) const;
  size_t CorruptReplicas(uint64_t block_id) const;

  // A client asked where a file's blocks are (it is being read). Thread-safe: called
  // under the shared lock.
  void NoteRead(uint64_t file_id);

  // Scans every block and queues commands: replicate the under-replicated (fewest
  // replicas first, then blocks of files read in the last minute), delete excess and
  // corrupt replicas. At most max_per_node replicate
  // commands are outstanding per source datanode. Replicas on datanodes being
  // decommissioned do not count; such a datanode is decommissioned once every block it
  // holds has enough replicas elsewhere.
  void ComputeReplicationWork(size_t max_per_node);

  uint64_t under_replicated() const { return under_replicated_; }
  uint64_t corrupt_replicas() const;

 private:
  struct Replicas {
    std::vector<std::string> holders;  // uuids, live or dead
    std::set<std::string> corrupt;
    int64_t replication_pending_until_ms = 0;
    std::map<std::string, uint64_t> lengths;     // uuid -> finalized replica's length
    std::map<std::string, uint64_t> unfinished;  // uuid -> bytes held, writer gone
  };
  void AddReplica(uint64_t block_id, DatanodeState* dn);
  void RemoveReplica(uint64_t block_id, DatanodeState* dn);
  void QueueDelete(DatanodeState* dn, const proto::Block& block);
  void UpdateDecommissioned();

  const Namespace* ns_;
  DatanodeManager* datanodes_;
  std::unordered_map<uint64_t, Replicas> blocks_;
  std::mutex read_mu_;
  std::unordered_map<uint64_t, int64_t> last_read_ms_;  // guarded by read_mu_: file -> when
  uint64_t under_replicated_ = 0;
};

}  // namespace dfs
