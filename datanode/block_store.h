// The datanode's replicas on local disk, across one or more data directories.
//
// A replica is two files: blk_<id> (the bytes) and blk_<id>_<genstamp>.meta (a header
// then one CRC32C per 512-byte chunk). Replicas being written live in <dir>/rbw and move
// to <dir>/current when finalized; only finalized replicas are read. A replica whose
// writer went away is kept unfinished in rbw (also across a restart) until the namenode
// recovers it (finalizes it, with a new generation stamp, at the length it holds) or
// deletes it.
// A datanode's identity (uuid) is kept in <dir>/VERSION of every data directory.
// A data directory (volume) that fails is taken out of service: its replicas are
// forgotten (the namenode copies them again from other datanodes) and nothing new goes
// there; the store goes on with the others.
//
// Thread-safe: the replica map is guarded by a mutex; each ReplicaWriter belongs to the
// one thread writing it.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/status.h"
#include "proto/common.pb.h"
#include "proto/datanode.pb.h"

namespace dfs {

class BlockStore;

struct ReplicaInfo {
  uint64_t id = 0;
  uint64_t generation_stamp = 0;
  uint64_t num_bytes = 0;
  std::string dir;  // the data directory (volume) holding it
  std::string data_path;
  std::string meta_path;
};

// Writes one replica sequentially. Destroying an unfinalized writer deletes the replica,
// unless it was kept with Keep().
class ReplicaWriter {
 public:
  ~ReplicaWriter();
  // Writes data at offset, with one CRC per 512-byte chunk. offset is the replica's end,
  // or the start of its last chunk when that chunk is partial (a writer that flushed a
  // partial chunk sends it again, completed). The caller has verified the CRCs.
  Status Write(uint64_t offset, const char* data, size_t len, const uint32_t* crcs,
               size_t ncrcs);
  // Makes everything written so far durable (fdatasync of data and checksums).
  Status Sync();
  // Whether a packet may start at offset (see Write).
  bool AcceptsOffset(uint64_t offset) const {
    return offset == bytes_ || offset == bytes_ - bytes_ % 512;
  }
  // Closes the files and moves the replica to current/; it is then readable.
  Result<ReplicaInfo> Finalize();
  // The writer went away: the replica stays in rbw/, unfinished, with what it holds.
  ReplicaInfo Keep();
  uint64_t bytes() const { return bytes_; }
  bool finalized() const { return finalized_; }

 private:
  friend class BlockStore;
  ReplicaWriter(BlockStore* store, ReplicaInfo info, std::string dir, int data_fd, int meta_fd)
      : store_(store), info_(std::move(info)), dir_(std::move(dir)), data_fd_(data_fd),
        meta_fd_(meta_fd) {}
  BlockStore* store_;
  ReplicaInfo info_;
  std::string dir_;
  int data_fd_;
  int meta_fd_;
  uint64_t bytes_ = 0;
  bool finalized_ = false;
  bool kept_ = false;
};

// Reads one finalized replica. Owned by one thread.
class ReplicaReader {
 public:
  ~ReplicaReader();
  // Reads [offset, offset+len) and the CRCs of the chunks covering it. offset must be a
  // multiple of 512. Verifies the CRCs: DataLoss names the first bad byte's chunk.
  Status Read(uint64_t offset, size_t len, char* data, uint32_t* crcs);
  const ReplicaInfo& info() const { return info_; }

 private:
  friend class BlockStore;
  ReplicaReader(ReplicaInfo info, int data_fd, int meta_fd)
      : info_(std::move(info)), data_fd_(data_fd), meta_fd_(meta_fd) {}
  ReplicaInfo info_;
  int data_fd_;
  int meta_fd_;
};

class BlockStore {
 public:
  // Opens (creating if needed) the data directories and loads every finalized replica.
  // Leftover rbw replicas from a crash are discarded. A directory that cannot be used is
  // a failed volume; more than max_failed_volumes of them (or none left) is an error.
  static Result<std::unique_ptr<BlockStore>> Open(const std::vector<std::string>& dirs,
                                                  size_t max_failed_volumes = SIZE_MAX);

  const std::string& uuid() const { return uuid_; }

  // Starts a new replica in the next data directory in turn. Refuses a block id that
  // already has a replica being written, or one with this generation stamp or newer; an
  // older replica (pipeline recovery writes the block again) is replaced.
  Result<std::unique_ptr<ReplicaWriter>> Create(const proto::Block& block);
  // A finalized replica with at least the given generation stamp.
  Result<ReplicaInfo> Find(uint64_t block_id, uint64_t min_generation_stamp) const;
  // Deletes a finalized or unfinished replica, unless its generation stamp is newer than
  // max_generation_stamp (a replica written again since the namenode decided).
  Status Delete(uint64_t block_id, uint64_t max_generation_stamp = UINT64_MAX);
  std::vector<proto::Block> Report() const;
  // Unfinished replicas, with the bytes each holds.
  std::vector<proto::Block> ReportUnfinished() const;
  // Block recovery: finalizes an unfinished replica at the length it holds, or re-stamps a
  // finalized one, with new_generation_stamp. Unavailable while a writer still writes it.
  Result<ReplicaInfo> Recover(uint64_t block_id, uint64_t new_generation_stamp);
  proto::StorageReport Storage() const;
  // Probes every volume in service (create, write and remove a small file). One that
  // fails is taken out of service; returns the replicas it held. Error when more than
  // max_failed_volumes have failed, or none is left.
  Result<std::vector<proto::Block>> CheckVolumes();

  Result<std::unique_ptr<ReplicaReader>> OpenReader(const ReplicaInfo& r) const;

 private:
  friend class ReplicaWriter;
  BlockStore() = default;
  void Finalized(const ReplicaInfo& info);
  void Abandoned(uint64_t block_id);
  void Kept(const ReplicaInfo& info);

  Status TooManyFailed() const;  // REQUIRES: mu_

  std::string uuid_;
  size_t max_failed_volumes_ = SIZE_MAX;
  std::atomic<size_t> next_volume_{0};
  mutable std::mutex mu_;
  std::vector<std::string> dirs_;                    // guarded by mu_: volumes in service
  std::map<std::string, std::string> failed_;        // guarded by mu_: volume -> why
  std::unordered_map<uint64_t, ReplicaInfo> replicas_;  // guarded by mu_
  std::condition_variable cv_;                          // a writer ended
  std::unordered_map<uint64_t, uint64_t> writing_;      // guarded by mu_: id -> stamp
  std::unordered_map<uint64_t, ReplicaInfo> unfinished_;  // guarded by mu_
  uint64_t used_ = 0;                                   // guarded by mu_
};

inline constexpr uint32_t kMetaMagic = 0x44465343;  // "DFSC"
inline constexpr size_t kMetaHeaderBytes = 8;       // magic, bytes per checksum

}  // namespace dfs
