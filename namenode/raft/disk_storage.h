// DiskStorage: the durable state of one Raft replica in one directory: the
// hard state, the metadata of the latest snapshot and the log entries after
// it. It is the node-side half of the Ready contract (ready.h): Persist(ready)
// makes a Ready's snapshot, entries and hard state durable, and Open hands
// back a PersistentState for RaftCore::Create after a restart. The snapshot's
// data is the application's; only its metadata lives here.
//
// Files in the directory:
//   meta                    records of hard state and snapshot metadata; the
//                           last of each kind wins; rewritten (meta.tmp, then
//                           rename) when it grows past meta_rewrite_bytes
//   log-<first index>       log segments, one entry per record; a segment
//                           rolls over at segment_bytes
// Every record is framed and checksummed by RecordWriter
// (common/record_file.h); storage_format.h gives the payloads.
//
// Durability: Persist returns only when everything it was given is on disk,
// with one fdatasync per file it appended to (many entries, one sync), and an
// fsync of the directory when it created or deleted files. The rare steps add
// their own syncs: a snapshot record is synced before the log is cut, and an
// overwritten suffix is cut durably before new entries follow it. Term and vote are
// always synced before Persist returns. A hard state that changes only the
// commit index is written but not synced on its own: a crash may bring back
// an older commit index, which Raft allows (it is relearned from the leader);
// state() never reports a commit below the snapshot index. Overwriting a
// suffix of the log (Append from an index already stored) and installing a
// snapshot make their deletions durable before anything new is written, so a
// crash at any point leaves a log that is a contiguous run of entries.
//
// Recovery (Open): a torn last record of the last segment or of `meta` is
// truncated away (and logged), as are the zeros a segment was extended with. A
// damaged record anywhere else, a segment cut short that is not the last, or a
// gap between segments is DataLoss naming the file and offset, and Open then
// changes nothing on disk.
//
// After an I/O error the storage refuses every further call with that error:
// the files may no longer match what was acknowledged.
//
// Thread safety: none. One thread at a time (the node's Raft loop) uses a
// DiskStorage.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/record_file.h"
#include "common/status.h"
#include "namenode/raft/messages.h"
#include "namenode/raft/ready.h"

namespace dfs::raft {

struct DiskStorageOptions {
  // A segment that has reached this size gets no more entries; the next one
  // starts a new segment.
  uint64_t segment_bytes = 64ull << 20;
  // `meta` is rewritten down to two records once it is larger than this.
  uint64_t meta_rewrite_bytes = 1ull << 20;
  // The active segment is extended with zeros this far ahead of its entries, so that
  // a sync overwrites blocks the file has instead of growing it (about half the cost
  // of an fdatasync on ext4); a full segment is cut back to its entries. 0: off.
  uint64_t preallocate_bytes = 1ull << 20;
};

class DiskStorage {
 public:
  // Opens (creating if needed) the storage in `dir` and recovers its state.
  static Result<std::unique_ptr<DiskStorage>> Open(const std::string& dir,
                                                   const DiskStorageOptions& options = {});
  ~DiskStorage();
  DiskStorage(const DiskStorage&) = delete;
  DiskStorage& operator=(const DiskStorage&) = delete;

  // What Open recovered, in the shape RaftCore::Create wants. Not updated by
  // later writes.
  const PersistentState& state() const { return recovered_; }

  // Handles step 1 of a Ready: InstallSnapshot(*snapshot), Append(entries),
  // SaveHardState(*hard_state), Sync(). Durable when it returns OK.
  Status Persist(const Ready& ready);

  // Writes entries, first overwriting every stored entry from entries[0].index
  // on. Durable after Sync(). InvalidArgument (and no change) unless the
  // entries are contiguous, start after the snapshot and at most one past the
  // last stored index.
  Status Append(const std::vector<Entry>& entries);
  // Records the hard state; durable after Sync() (see the header comment for
  // a commit-only change).
  Status SaveHardState(const HardState& hs);
  // Local compaction: the application holds a durable snapshot described by
  // `snapshot` (as RaftCore::Compact returned it). Records it durably, then
  // deletes every segment that holds only entries at or below its index;
  // later entries stay. InvalidArgument if older than the current snapshot.
  Status SaveSnapshot(const SnapshotMetadata& snapshot);
  // A snapshot received from the leader replaces the whole log: records it
  // durably and deletes every segment. InvalidArgument if older than the
  // current snapshot.
  Status InstallSnapshot(const SnapshotMetadata& snapshot);
  // Makes everything written so far durable.
  Status Sync();

  // First and last index of the entries after the snapshot (last < first
  // when there are none).
  uint64_t FirstIndex() const { return snapshot_.index + 1; }
  uint64_t LastIndex() const;
  const SnapshotMetadata& snapshot() const { return snapshot_; }
  // Number of segment files, including any left over below the snapshot.
  size_t segment_count() const { return segments_.size(); }

 private:
  struct Segment {
    uint64_t first;  // index named by the file
    uint64_t last;   // first - 1 while empty
    std::string path;
  };

  DiskStorage(std::string dir, const DiskStorageOptions& options);
  Status Recover();
  // A file to cut back to `size` bytes at recovery; `torn` if a crash cut a record short.
  struct Truncation {
    std::string path;
    uint64_t size;
    bool torn;
  };
  Status RecoverMeta(std::vector<Truncation>* truncations);
  Status RecoverSegments(std::vector<Truncation>* truncations);

  Status AppendLocked(const std::vector<Entry>& entries);
  Status SyncLocked();
  Status RecordSnapshot(const SnapshotMetadata& snapshot);
  // Makes sure the active segment can take entry `index`, rolling over or
  // starting a segment if needed.
  Status PrepareSegmentFor(uint64_t index);
  // Durably removes entries from `index` on.
  Status TruncateFrom(uint64_t index);
  // Deletes the last segment file and fsyncs the directory.
  Status RemoveLastSegment();
  Status SyncMeta(bool force);
  Status RewriteMeta();
  Status SyncDir();
  // Remembers the first failure; every later call returns it.
  Status Check(Status s);

  const std::string dir_;
  const DiskStorageOptions options_;
  PersistentState recovered_;

  SnapshotMetadata snapshot_;
  HardState hard_state_;                         // last written to meta
  HardState synced_hard_state_;                  // term and vote of this one are durable
  std::optional<HardState> pending_hard_state_;  // saved, not yet written
  std::vector<Segment> segments_;                // by first index
  std::unique_ptr<RecordWriter> active_;         // appends to segments_.back()
  bool active_dirty_ = false;                    // active_ has unsynced records
  bool dir_dirty_ = false;                       // files created since the last sync
  std::unique_ptr<RecordWriter> meta_;
  Status failed_;
};

}  // namespace dfs::raft
