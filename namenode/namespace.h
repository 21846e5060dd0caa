// The namespace: the tree of directories and files and each file's block list, kept as a
// deterministic state machine. Apply(op) reads nothing but the op and the current state
// (no clock, no randomness, no I/O), so every namenode replica that applies the same log
// reaches the same state. Ids (inodes, blocks, generation stamps) come from counters in
// the state; times come from the op.
//
// Thread safety: none inside. The namenode serializes Apply under its write lock and runs
// queries under its read lock.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/status.h"
#include "proto/common.pb.h"
#include "proto/namespace.pb.h"

namespace dfs {

inline constexpr uint64_t kRootInodeId = 1;
inline constexpr uint32_t kMaxReplication = 32;
inline constexpr uint64_t kMaxBlockSize = 2ull << 30;

struct Inode {
  uint64_t id = 0;
  uint64_t parent = 0;
  std::string name;
  bool is_dir = false;
  uint32_t mode = 0;
  std::string owner;
  std::string group;
  int64_t mtime_ms = 0;
  int64_t atime_ms = 0;
  // Directories.
  std::map<std::string, uint64_t> children;
  // Files.
  uint32_t replication = 0;
  uint64_t block_size = 0;
  std::vector<proto::Block> blocks;
  std::string lease_holder;  // non-empty while under construction

  uint64_t Length() const;
  // The block a writer is still writing: the last one of a file under construction. It
  // may not have a finalized replica yet, and replication leaves it to the pipeline.
  bool BeingWritten(uint64_t block_id) const {
    return !lease_holder.empty() && !blocks.empty() && blocks.back().id() == block_id;
  }
};

// What applying an op produced.
struct OpResult {
  Status status;
  proto::FileStatus file;                    // create, append
  proto::Block block;                        // add_block: the new block
  std::vector<proto::Block> removed_blocks;  // delete, create with overwrite, abandon
};

struct ContentSummary {
  uint64_t length = 0;
  uint64_t files = 0;
  uint64_t directories = 0;
  uint64_t space_consumed = 0;
};

class Namespace {
 public:
  Namespace();

  // Applies one log entry. A refused op changes nothing and returns its reason in status.
  OpResult Apply(const proto::Op& op);

  // Queries.
  Result<proto::FileStatus> GetFileInfo(const std::string& path) const;
  Result<std::vector<proto::FileStatus>> List(const std::string& path,
                                              const std::string& start_after, uint32_t limit,
                                              bool* has_more) const;
  Result<const Inode*> GetFile(const std::string& path) const;
  Result<ContentSummary> GetContentSummary(const std::string& path) const;
  // The file (inode id) a block belongs to, or 0.
  uint64_t FileOfBlock(uint64_t block_id) const;
  const Inode* GetInode(uint64_t id) const;
  const proto::Block* GetBlock(uint64_t block_id) const;
  // Block ids from kFirstBlockId up to below this have been allocated (and some since
  // deleted).
  static constexpr uint64_t kFirstBlockId = 1 << 30;
  uint64_t next_block_id() const { return next_block_id_; }
  uint64_t file_count() const { return files_; }
  uint64_t directory_count() const { return inodes_.size() - files_; }
  uint64_t block_count() const { return block_to_file_.size(); }
  // Datanodes (uuids) an operator took out of service.
  const std::set<std::string>& decommissioned() const { return decommissioned_; }
  // Visits path and every inode under it, parents first, with their paths.
  Status Walk(const std::string& path,
              const std::function<void(const std::string&, const Inode&)>& fn) const;
  // Visits every file inode.
  void ForEachFile(const std::function<void(const Inode&)>& fn) const;
  // Visits every file being written (one with a lease holder), without a scan.
  void ForEachOpenFile(const std::function<void(const Inode&)>& fn) const;

  // Checkpoint image (proto/namespace.proto): writes or reads the whole state.
  // `extra` records are stored after the namespace and handed back by LoadImage.
  Status SaveImage(const std::string& path, uint64_t last_applied_index,
                   const std::vector<std::string>& extra = {}) const;
  // Replaces the state with the image; returns its last applied index.
  Result<uint64_t> LoadImage(const std::string& path, std::vector<std::string>* extra = nullptr);

  std::string PathOf(uint64_t inode_id) const;
  proto::FileStatus StatusOf(const Inode& inode, const std::string& path) const;

 private:
  Result<uint64_t> Resolve(const std::vector<std::string>& parts) const;
  Result<const Inode*> Lookup(const std::string& path) const;
  Result<Inode*> LookupMutable(const std::string& path);
  Result<Inode*> WritableFile(const std::string& path, const std::string& client);

  OpResult ApplyMkdirs(const proto::Op& op);
  OpResult ApplyCreate(const proto::Op& op);
  OpResult ApplyAppend(const proto::Op& op);
  OpResult ApplyAddBlock(const proto::Op& op);
  OpResult ApplyAbandonBlock(const proto::Op& op);
  OpResult ApplyComplete(const proto::Op& op);
  OpResult ApplyRename(const proto::Op& op);
  OpResult ApplyDelete(const proto::Op& op);
  OpResult ApplySetReplication(const proto::Op& op);
  OpResult ApplySetPermission(const proto::Op& op);
  OpResult ApplySetOwner(const proto::Op& op);
  OpResult ApplySetTimes(const proto::Op& op);
  OpResult ApplyRecoverLease(const proto::Op& op);
  OpResult ApplySetDecommission(const proto::Op& op);
  OpResult ApplyUpdatePipeline(const proto::Op& op);

  Inode& NewInode(uint64_t parent, const std::string& name, bool is_dir, const proto::Op& op,
                  uint32_t mode);
  // Removes a subtree, collecting its blocks.
  void RemoveSubtree(uint64_t id, std::vector<proto::Block>* blocks);
  // block is the file's last one (with the same generation stamp, if same_stamp).
  Status CheckLastBlock(const Inode& file, const proto::Block& block, bool same_stamp) const;
  Status CommitLastBlock(Inode* file, const proto::Block& reported);

  std::unordered_map<uint64_t, Inode> inodes_;
  std::unordered_map<uint64_t, uint64_t> block_to_file_;
  std::set<uint64_t> open_files_;  // files with a lease holder
  uint64_t files_ = 0;
  uint64_t next_inode_id_ = kRootInodeId + 1;
  uint64_t next_block_id_ = kFirstBlockId;
  uint64_t next_generation_stamp_ = 1000;
  std::set<std::string> decommissioned_;
};

}  // namespace dfs
