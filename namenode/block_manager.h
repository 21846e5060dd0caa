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
#include <unordered_set>
#include <vector>

#include "namenode/datanode_manager.h"
#include "namenode/namespace.h"

namespace dfs {

class BlockManager {
 public:
  // sweep_per_pass: block ids the sweep looks at per pass of ComputeReplicationWork.
  BlockManager(const Namespace* ns, DatanodeManager* datanodes,
               uint64_t sweep_per_pass = kSweepPerPass)
      : ns_(ns), datanodes_(datanodes), sweep_per_pass_(sweep_per_pass) {}

  // A full report replaces what the map knew of the datanode's replicas. Replicas of
  // blocks the namespace does not know, or with an old generation stamp, are deleted.
  // It is BlockReceived for each reported block, then ForgetUnreported; the namenode
  // runs them in slices, taking its lock for each, so a report of millions of blocks
  // does not stop every other call for seconds.
  void ProcessFullReport(DatanodeState* dn, const std::vector<proto::Block>& blocks);
  void ForgetUnreported(DatanodeState* dn, const std::unordered_set<uint64_t>& reported);
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

  // Looks at the blocks that may need work and queues commands: replicate the
  // under-replicated (fewest replicas first, then blocks of files read in the last
  // minute), delete excess and corrupt replicas. At most max_per_node replicate
  // commands are outstanding per source datanode. Replicas on datanodes being
  // decommissioned do not count; such a datanode is decommissioned once every block it
  // holds has enough replicas elsewhere.
  //
  // Which blocks: those whose replicas changed since they last had what they need,
  // those still short of it, the blocks of files given a new replication factor or just
  // closed, and the next kSweepPerPass block ids of a sweep over them all (a safety net
  // for a change nothing reported). A pass costs what changed, not the namespace's size:
  // the namenode's lock is held meanwhile. After RecheckAll, one pass looks at every block.
  void ComputeReplicationWork(size_t max_per_node);
  // Replicas are tracked for replication work only while this is on (the leader).
  // Turning it on, or a change to which datanodes are in service, calls RecheckAll.
  void SetTracking(bool on);
  void RecheckAll() { recheck_all_ = true; }
  // The file's replication factor changed.
  void FileChanged(const Inode& file);
  // The block is no longer the one being written (the file got a new last block).
  void BlockCompleted(uint64_t block_id) { Suspect(block_id); }
  static constexpr uint64_t kSweepPerPass = 10'000;
  // Blocks the last pass looked at.
  uint64_t last_pass_blocks() const { return last_pass_blocks_; }

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
  void Suspect(uint64_t block_id) {
    if (tracking_) suspects_.insert(block_id);
  }
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
  bool tracking_ = false;
  bool recheck_all_ = true;
  std::unordered_set<uint64_t> suspects_;  // blocks to look at in the next pass
  const uint64_t sweep_per_pass_;
  uint64_t sweep_next_ = 0;  // next block id of the sweep
  uint64_t last_pass_blocks_ = 0;
};

}  // namespace dfs
